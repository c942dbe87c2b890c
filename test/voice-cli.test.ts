// `timmy voice info` through the real command line: the engines with their state, the default
// choice, the VAD; JSON with --json; the config's engine choice and a usage error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onPath } from '../voice/proc.js';
import { emptyDir, runCli } from './support/cli.js';

const have = ['pocketsphinx_continuous', 'espeak-ng', 'flite'].every((t) => onPath(t) !== undefined);

describe('timmy voice info', () => {
  it('answers --help and refuses unknown subcommands', async () => {
    const h = await runCli(['voice', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /timmy voice <command>/);
    assert.match((await runCli(['voice', 'info', '--help'])).stdout, /--json/);
    assert.match((await runCli(['--help'])).stdout, /voice info/);
    const bad = await runCli(['voice', 'transcribe']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command "voice transcribe"/);
  });

  it('lists every engine with its state and marks the default choice', { skip: have ? false : 'needs pocketsphinx, espeak-ng, flite (apt)', timeout: 60_000 }, async () => {
    const r = await runCli(['voice', 'info'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^speech-to-text: pocketsphinx$/m);
    assert.match(r.stdout, /^text-to-speech: system$/m);
    assert.match(r.stdout, /^\s+\* tts\s+system\s+system\s+available\s+flite for English, espeak-ng for other languages/m);
    assert.match(r.stdout, /^VAD: yes: Silero VAD v5/m);
    assert.match(r.stdout, /^\s+\* stt\s+pocketsphinx\s+system\s+available/m);
    assert.match(r.stdout, /^\s+tts\s+flite\s+system\s+available/m);
  });

  it('--json is /voice/info, and the config chooses the engine', { skip: have ? false : 'needs pocketsphinx, espeak-ng, flite (apt)', timeout: 60_000 }, async () => {
    const dir = emptyDir();
    try {
      writeFileSync(join(dir, 'timmy.config.json'), JSON.stringify({ voice: { tts: 'flite', stt: 'whisper-tiny' } }));
      const r = await runCli(['voice', 'info', '--json'], { cwd: dir, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      const info = JSON.parse(r.stdout) as { available: boolean; tts: { engine: string }; stt: { engine: string }; engines: { id: string; chosen: boolean }[]; notes: string[]; modelsDir: string };
      assert.equal(info.available, true);
      assert.equal(info.tts.engine, 'flite');
      assert.equal(info.stt.engine, 'pocketsphinx');
      assert.match(info.notes.join('\n'), /whisper-tiny/);
      assert.ok(info.engines.find((e) => e.id === 'flite')?.chosen);
      assert.match(info.modelsDir, /models$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
