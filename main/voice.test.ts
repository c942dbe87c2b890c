// The agents' voice wiring: without engines the voice kinds are skipped (not fatal) and a persona
// left with none is not started; the audio store names files by content and serves only those names.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePersona } from '../agents/personas/loader.js';
import { AudioStore, audioUrl } from '../voice/audio-store.js';
import { agentVoice, withoutMissingKinds } from './voice.js';

const persona = (name: string, kinds: number[]) => parsePersona({ name, displayName: name, about: 'x', kinds, pricing: { baseMsat: 1, perUnitMsat: 1 } });

describe('agent voice wiring', () => {
  it('skips the kinds no engine serves, with a reason, and drops a persona left with none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'timmy-voice-wiring-'));
    try {
      const v = agentVoice({ enabled: false, dataDir: dir, service: undefined, baseUrl: 'http://127.0.0.1:8080' });
      assert.equal(v.port, undefined);
      assert.deepEqual([...v.missing.keys()], [5000, 5250]);
      const log: string[] = [];
      const out = withoutMissingKinds([persona('echo', [5000, 5250]), persona('mixed', [5001, 5250]), persona('scribe', [5001])], v.missing, (m) => log.push(m));
      assert.deepEqual(out.map((p) => [p.name, p.kinds]), [['mixed', [5001]], ['scribe', [5001]]]);
      assert.equal(log.length, 4);
      assert.match(log.join('\n'), /agent echo does not serve kind 5000: voice.enabled is false/);
      assert.match(log.join('\n'), /agent echo is not started/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stores audio by sha256 and serves only such names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'timmy-audio-store-'));
    try {
      const s = new AudioStore(join(dir, 'voice-audio'));
      const name = s.save(new Uint8Array([1, 2, 3]));
      assert.match(name, /^[0-9a-f]{64}\.wav$/);
      assert.equal(s.save(new Uint8Array([1, 2, 3])), name, 'same bytes, same file');
      assert.ok(s.path(name));
      writeFileSync(join(dir, 'secret.wav'), 'x');
      for (const bad of ['../secret.wav', 'secret.wav', name.toUpperCase(), `${name}/..`, '']) assert.equal(s.path(bad), undefined, bad);
      assert.equal(audioUrl('http://h:1/', name), `http://h:1/voice/audio/${name}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
