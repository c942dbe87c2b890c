#!/usr/bin/env node
// The long fuzz run (docs/reliability.md "Fuzzing"): every property of dist/test/fuzz/ under a time
// budget instead of a fixed run count, with a fresh seed, then a per-target summary.
//   npm run fuzz                      60 s per target
//   npm run fuzz -- 300               300 s per target
//   TIMMY_FUZZ_SEED=123 npm run fuzz  replay a seed
//   npm run fuzz -- 60 nip44          only the test files whose name contains "nip44"... or a target
// A failure prints fast-check's counterexample and seed; keep the input as a regress-* corpus file.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'dist', 'test', 'fuzz');
const [secondsArg, ...only] = process.argv.slice(2);
const seconds = Number(secondsArg ?? process.env.TIMMY_FUZZ_SECONDS ?? 60) || 60;
let files = readdirSync(dir).filter((f) => f.endsWith('.test.js') && f !== 'corpus.test.js').sort();
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
const env = { ...process.env, TIMMY_FUZZ_SECONDS: String(seconds), TIMMY_LOG_LEVEL: 'warn' };
const args = ['--enable-source-maps', '--test', '--test-reporter=tap', '--test-concurrency=1', ...files.map((f) => join(dir, f)), join(dir, 'corpus.test.js')];
console.log(`fuzzing ${files.join(', ')} for ${seconds} s per target`);
const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });

const perTarget = new Map();
let buf = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    const m = /fuzz: (\S+) \/ (.+): (\d+) inputs in ([\d.]+) s/.exec(line);
    if (!m) continue;
    const t = perTarget.get(m[1]) ?? { runs: 0, s: 0, props: 0 };
    t.runs += Number(m[3]);
    t.s += Number(m[4]);
    t.props++;
    perTarget.set(m[1], t);
  }
});
child.on('exit', (code) => {
  console.log('\ntarget          properties    inputs   seconds   inputs/s');
  for (const [name, t] of [...perTarget].sort()) {
    console.log(`${name.padEnd(16)}${String(t.props).padStart(10)}${String(t.runs).padStart(10)}${t.s.toFixed(0).padStart(10)}${(t.runs / t.s).toFixed(0).padStart(11)}`);
  }
  console.log(code === 0 ? 'no failures' : `FAILED (exit ${code})`);
  process.exit(code ?? 1);
});
