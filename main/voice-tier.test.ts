import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hardwareTier, SPEECH_MODELS } from './voice-engines.js';

test('the hardware tier orders the installed speech models: light first on small machines, accurate first on desktops', () => {
  const pi = hardwareTier(4, 4 * 2 ** 30);
  assert.equal(pi.tier, 'small');
  assert.deepEqual(pi.preference.slice(0, 2), ['moonshine-tiny', 'whisper-tiny']);
  assert.ok(pi.preference.indexOf('piper-en_US-lessac-medium') < pi.preference.indexOf('kokoro-82m'));
  const desk = hardwareTier(8, 16 * 2 ** 30);
  assert.equal(desk.tier, 'desktop');
  assert.equal(desk.preference[0], 'whisper-base');
  assert.ok(desk.preference.indexOf('kokoro-82m') < desk.preference.indexOf('piper-en_US-lessac-medium'));
  // Every speech model of the catalog has a place in both orders.
  for (const m of SPEECH_MODELS) for (const t of [pi, desk]) assert.ok(t.preference.includes(m.id), `${m.id} in ${t.tier}`);
});
