// The dependency direction of DEVELOPERS.md, checked with dependency-cruiser on the TypeScript sources.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const LAYERS = ['nostr', 'relay', 'reputation', 'wallet', 'memory', 'voice', 'dvm', 'agents', 'web', 'main'];

function cruise(cwd: string, dirs: string[]) {
  return spawnSync(process.execPath, [depcruise, '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'err', ...dirs], {
    cwd,
    encoding: 'utf8',
  });
}

describe('architecture', () => {
  it('keeps the layer order nostr <- {relay, reputation, wallet, memory, voice} <- dvm <- agents <- web <- main', () => {
    const dirs = LAYERS.filter((d) => existsSync(join(root, d)));
    const r = cruise(root, dirs);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const m = /(\d+) modules/.exec(r.stdout);
    assert.ok(m && Number(m[1]) > 20, `cruised too few modules: ${r.stdout}`);
  });

  it('would catch a pure module importing the relay', () => {
    const r = cruise(join(root, 'test', 'fixtures', 'layers'), ['nostr', 'relay']);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /nostr-layer/);
  });

  it('keeps prom-client in main/ (domain code offers observer hooks; main/obs/metrics.ts subscribes)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, name.name);
        if (name.isDirectory()) walk(p);
        else if (name.name.endsWith('.ts') && /from ['"]prom-client['"]|import\(['"]prom-client['"]\)/.test(readFileSync(p, 'utf8'))) offenders.push(p.slice(root.length));
      }
    };
    for (const d of LAYERS.filter((l) => l !== 'main' && existsSync(join(root, l)))) walk(join(root, d));
    assert.deepEqual(offenders, []);
  });
});
