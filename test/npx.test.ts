// `npx timmy ...` works in the project after `npm install` (the package's own bin).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

it('runs through npx', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;
  const r = spawnSync('npx', ['--no-install', 'timmy', '--version'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), version);
});
