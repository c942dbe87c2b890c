#!/usr/bin/env node
// The browser tests drive Debian's chromium with playwright-core (never a downloaded browser).
// Installs it with apt when it is missing and we may (root, apt-get present); otherwise says how.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const CHROMIUM = process.env.TIMMY_CHROMIUM ?? '/usr/bin/chromium';
if (existsSync(CHROMIUM)) process.exit(0);
const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (!root || !existsSync('/usr/bin/apt-get')) {
  console.error(`ensure-browser: ${CHROMIUM} is missing; install it with: sudo apt-get install -y chromium (the browser tests need it)`);
  process.exit(0); // the browser tests then fail with the same message
}
console.error('ensure-browser: installing Debian chromium for the browser tests (apt-get)…');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'chromium']]) {
  const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.status !== 0) {
    console.error(`ensure-browser: apt-get ${args.join(' ')} failed (${r.status})`);
    process.exit(0);
  }
}
console.error(`ensure-browser: ${existsSync(CHROMIUM) ? 'chromium installed' : 'chromium still missing'}`);
