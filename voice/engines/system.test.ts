// The composite system TTS on the real Debian engines: English goes to flite, other languages and
// espeak-ng voice names to espeak-ng, and with one of the two missing the other serves what it can.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VoiceError } from '../engine.js';
import { onPath } from '../proc.js';
import { EspeakEngine } from './espeak.js';
import { FliteEngine } from './flite.js';
import { SystemTtsEngine } from './system.js';

const have = onPath('flite') !== undefined && onPath('espeak-ng') !== undefined;
const is = (status: number) => (err: unknown) => err instanceof VoiceError && err.status === status;

describe('system text-to-speech', { skip: have ? false : 'needs flite and espeak-ng (apt install flite espeak-ng)' }, () => {
  it('routes English to flite and other languages or espeak-ng voices to espeak-ng', { timeout: 60_000 }, async () => {
    const e = new SystemTtsEngine();
    const info = await e.info();
    assert.equal(info.id, 'system');
    assert.equal(info.family, 'system');
    assert.equal(info.available, true);
    assert.equal(info.detail, 'flite for English, espeak-ng for other languages');
    assert.ok(info.languages?.includes('en') && info.languages.includes('fr-fr'), String(info.languages));
    assert.equal((await e.engineFor({})).id, 'flite');
    assert.equal((await e.engineFor({ language: 'en-US' })).id, 'flite');
    assert.equal((await e.engineFor({ language: 'fr' })).id, 'espeak-ng');
    assert.equal((await e.engineFor({ voice: 'rms' })).id, 'flite');
    assert.equal((await e.engineFor({ voice: 'en-us' })).id, 'espeak-ng');
    // flite's slt voice is 16 kHz, espeak-ng writes 22.05 kHz: the rate says who spoke.
    assert.equal((await e.synthesize('hello there', { language: 'en' })).sampleRate, 16000);
    const fr = await e.synthesize('bonjour tout le monde', { language: 'fr' });
    assert.equal(fr.sampleRate, 22050);
    assert.ok(fr.samples.length > 0.3 * fr.sampleRate);
  });

  it('with one engine missing the other serves; with both missing it is unavailable (503)', { timeout: 60_000 }, async () => {
    const noFlite = new SystemTtsEngine(new FliteEngine({ binary: 'no-such-flite' }), new EspeakEngine());
    assert.match((await noFlite.info()).detail, /^espeak-ng for every language \(flite: no-such-flite not found/);
    assert.equal((await noFlite.engineFor({ language: 'en' })).id, 'espeak-ng');
    const noEspeak = new SystemTtsEngine(new FliteEngine(), new EspeakEngine({ binary: 'no-such-espeak' }));
    assert.equal((await noEspeak.info()).available, true);
    assert.deepEqual((await noEspeak.info()).languages, ['en']);
    await assert.rejects(noEspeak.synthesize('bonjour', { language: 'fr' }), is(422));
    const none = new SystemTtsEngine(new FliteEngine({ binary: 'no-such-flite' }), new EspeakEngine({ binary: 'no-such-espeak' }));
    assert.equal((await none.info()).available, false);
    await assert.rejects(none.synthesize('hello'), is(503));
  });
});
