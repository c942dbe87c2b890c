#!/usr/bin/env node
// Runs every compiled test file with Node's built-in runner.
// Explicit file lists behave the same on Node 20 (directory args) and 22 (glob args).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const only = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files = walk(dist, []).sort();
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('no test files found under dist/ (did the build run?)');
  process.exit(1);
}
const args = ['--enable-source-maps', '--test', '--test-timeout=120000', ...files.map((f) => relative(root, f))];
// Instances started by tests log warnings and errors only (a test that reads logs sets its own level).
const env = { ...process.env, TIMMY_LOG_LEVEL: process.env.TIMMY_LOG_LEVEL ?? 'warn' };
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
process.exit(r.status ?? 1);
