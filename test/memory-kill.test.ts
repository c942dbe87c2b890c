// Re-embedding survives a real kill: a child process migrates memories to a new embedder (another
// id, version and dimension) and is killed with SIGKILL mid-way; no row is lost, the rows already
// migrated stay migrated, search still finds rows on both sides, and a rerun finishes the job.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryStore } from '../memory/store.js';
import { reembed } from '../memory/reembed.js';
import { hashingEmbedder } from '../memory/embedders/hashing.js';
import { slowNewEmbedder } from './support/memory-reembed-child.js';

const CHILD = fileURLToPath(new URL('./support/memory-reembed-child.js', import.meta.url));
const TOPICS = ['lightning invoices and payments', 'gardening tomatoes in shade', 'relay storage in sqlite', 'speech to text engines', 'bicycle repair'];

it('a re-embedding killed with SIGKILL loses no row and resumes', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-memkill-'));
  const file = join(dir, 'memory.sqlite');
  try {
    const old = MemoryStore.open(file, hashingEmbedder({ dimensions: 64 }));
    const n = 1000;
    await old.addMany(Array.from({ length: n }, (_, i) => ({ text: `memory ${i} about ${TOPICS[i % TOPICS.length]}`, kind: 'semantic' as const, owner: '', tags: [`n${i}`] })));
    old.close();

    const child = spawn(process.execPath, [CHILD, 'run', file, '15'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const done = [...out.matchAll(/progress (\d+)/g)].map((m) => Number(m[1]));
        if ((done.at(-1) ?? 0) >= 200) resolve();
      });
      child.on('exit', () => reject(new Error(`child ended before the kill: ${out.slice(-200)}`)));
    });
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const store = MemoryStore.open(file, slowNewEmbedder(0));
    try {
      assert.equal(store.count(), n, 'no row lost');
      const stale = store.stale();
      assert.ok(stale > 0 && stale <= n - 200, `some rows migrated before the kill, some left (${stale} stale)`);
      // Rows on both sides of the migration are still found.
      const hits = await store.search('bicycle repair', { limit: 50, touch: false });
      assert.ok(hits.length > 0);
      const r = await reembed(store, { batch: 100 });
      assert.equal(r.remaining, 0);
      assert.equal(store.stale(), 0);
      assert.equal(store.count(), n);
      for (const i of [0, 499, 999]) assert.equal(store.find({ tag: `n${i}` }).length, 1, `row ${i} present once`);
      const after = await store.search('tomatoes in shade', { limit: 5, touch: false });
      assert.match(after[0]!.memory.text, /tomatoes/);
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
