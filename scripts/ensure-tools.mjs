#!/usr/bin/env node
// Debian packages the tests use: chromium (browser tests, driven by playwright-core; never a
// downloaded browser), the voice engines and converters, and prometheus (its promtool checks deploy/prometheus.yml). Installs what is
// missing with apt when we may (root, apt-get present); otherwise says how, and the tests that need
// a tool report it.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const NEEDED = [
  { pkg: 'chromium', path: process.env.TIMMY_CHROMIUM ?? '/usr/bin/chromium' },
  { pkg: 'prometheus', path: '/usr/bin/promtool' },
  // Voice: the always-available engines (PocketSphinx STT, espeak-ng and flite TTS) and the
  // converters for WebM/Opus and resampling.
  { pkg: 'espeak-ng', path: '/usr/bin/espeak-ng' },
  { pkg: 'flite', path: '/usr/bin/flite' },
  { pkg: 'pocketsphinx', path: '/usr/bin/pocketsphinx_continuous' },
  { pkg: 'pocketsphinx-en-us', path: '/usr/share/pocketsphinx/model/en-us/en-us/mdef' },
  { pkg: 'sox', path: '/usr/bin/sox' },
  { pkg: 'ffmpeg', path: '/usr/bin/ffmpeg' },
];
const missing = NEEDED.filter((n) => !existsSync(n.path));
if (missing.length === 0) process.exit(0);
const names = missing.map((m) => m.pkg).join(' ');
const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (!root || !existsSync('/usr/bin/apt-get')) {
  console.error(`ensure-tools: missing ${names}; install with: sudo apt-get install -y ${names}`);
  process.exit(0);
}
console.error(`ensure-tools: installing Debian ${names} for the tests (apt-get)…`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...missing.map((m) => m.pkg)]]) {
  const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.status !== 0) {
    console.error(`ensure-tools: apt-get ${args.join(' ')} failed (${r.status})`);
    process.exit(0);
  }
}
for (const m of missing) console.error(`ensure-tools: ${m.pkg} ${existsSync(m.path) ? 'installed' : 'still missing'}`);
