// Regression: `relay import` must not exit while it waits for the verifiers (a paused stdin and
// idle workers once left the event loop empty, and the process quit with code 0 mid-import).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Keys } from './support/relay.js';

it('imports from a pipe more lines than its in-flight window, in a process of its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-import-'));
  const k = new Keys();
  const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify(k.sign({ kind: 1, content: `line ${i}`, created_at: 1_700_000_000 + i })));
  const transfer = fileURLToPath(new URL('../main/transfer.js', import.meta.url));
  const script = `import(${JSON.stringify(transfer)}).then((m) => m.importJsonl(${JSON.stringify(join(dir, 'data'))}, undefined, { workers: 1, window: 8, progress() {} })).then((s) => console.log(JSON.stringify(s)))`;
  writeFileSync(join(dir, 'run.mjs'), script);
  const r = spawnSync(process.execPath, [join(dir, 'run.mjs')], { input: lines.join('\n') + '\n', encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { read: 400, stored: 400, duplicate: 0, rejected: 0 });
  const db = new Database(join(dir, 'data', 'relay.sqlite'), { readonly: true });
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n, 400);
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
