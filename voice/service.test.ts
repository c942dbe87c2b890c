// The voice service on the real Debian engines and the real VAD: engine choice, long audio cut by
// the VAD with times in the whole recording, speech out as WAV, a streaming session at 48 kHz, and
// 503s with a reason when no engine is there.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VoiceError, type Audio, type EngineInfo, type SttEngine, type Transcript } from './engine.js';
import { EspeakEngine } from './engines/espeak.js';
import { FliteEngine } from './engines/flite.js';
import { PocketSphinxEngine } from './engines/pocketsphinx.js';
import { onPath } from './proc.js';
import { selectEngines } from './select.js';
import { VoiceService } from './service.js';
import { duration, join, silence } from './testing.js';
import { decodeWav, encodeWav, resample } from './wav.js';

const have = ['pocketsphinx_continuous', 'espeak-ng', 'flite'].every((t) => onPath(t) !== undefined);
const is = (status: number) => (e: unknown) => e instanceof VoiceError && e.status === status;

/** A stand-in for a neural engine (Whisper needs weights we cannot ship): a fixed answer. */
class CannedStt implements SttEngine {
  calls = 0;
  constructor(
    readonly id: string,
    private readonly available: boolean,
  ) {}
  async info(): Promise<EngineInfo> {
    return { id: this.id, family: 'neural', available: this.available, detail: this.available ? 'canned' : 'model files missing' };
  }
  async transcribe(a: Audio): Promise<Transcript> {
    this.calls++;
    return { text: `heard ${duration(a).toFixed(1)}`, segments: [], engine: this.id };
  }
}

describe('selectEngines', () => {
  it('takes the preferred engine, else the first available neural one, else the system ones ("system": flite for English, espeak-ng otherwise)', async () => {
    const off = new CannedStt('whisper-tiny', false);
    const on = new CannedStt('moonshine-tiny', true);
    const ps = new PocketSphinxEngine();
    let e = await selectEngines({ extraStt: [off, on], systemStt: [ps], vad: false });
    assert.equal(e.stt?.id, 'moonshine-tiny');
    assert.equal(e.vad, false);
    e = await selectEngines({ extraStt: [off, on], systemStt: [ps], prefer: { stt: 'pocketsphinx' }, vad: false });
    assert.equal(e.stt?.id, have ? 'pocketsphinx' : 'moonshine-tiny');
    e = await selectEngines({ extraStt: [off], systemStt: [ps], prefer: { stt: 'whisper-tiny', tts: 'auto' }, vad: false });
    assert.equal(e.stt?.id, have ? 'pocketsphinx' : undefined);
    assert.match(e.notes!.join('\n'), /whisper-tiny" is not available \(model files missing\)/);
    if (have) assert.equal(e.tts?.id, 'system');
    assert.deepEqual(
      e.all.map((i) => `${i.kind}:${i.id}`),
      ['stt:whisper-tiny', 'stt:pocketsphinx', 'tts:system', 'tts:espeak-ng', 'tts:flite'],
    );
    const none = await selectEngines({ systemStt: [], systemTts: [], vad: false });
    assert.equal(none.stt, undefined);
    assert.equal(none.tts, undefined);
  });

  it('a service without engines says why, with 503s', async () => {
    const svc = new VoiceService(await selectEngines({ systemStt: [new PocketSphinxEngine({ binary: 'no-such-binary' })], systemTts: [], vad: false }));
    const info = svc.info();
    assert.equal(info.available, false);
    assert.match(info.reason!, /no-such-binary not found/);
    assert.equal(info.stt.engine, null);
    await assert.rejects(svc.transcribe(encodeWav(silence(1))), is(503));
    await assert.rejects(svc.speak('hello'), is(503));
    assert.throws(() => svc.stream(), is(503));
  });

  it('runs the engine once per VAD segment (none for silence) and on the whole audio without a VAD', async () => {
    const canned = new CannedStt('canned', true);
    const withVad = await selectEngines({ extraStt: [canned], systemStt: [], systemTts: [] });
    assert.equal(withVad.vad, true, withVad.vadDetail);
    const svc = new VoiceService(withVad);
    const t = await svc.transcribe(encodeWav(silence(3)));
    assert.equal(t.text, '');
    assert.equal(canned.calls, 0);
    await svc.close();
    // A VAD that cannot load is reported, and the engine gets whole recordings.
    const broken = await selectEngines({ extraStt: [canned], systemStt: [], systemTts: [], vadModel: '/nonexistent/silero.onnx' });
    assert.equal(broken.vad, false);
    assert.match(broken.vadDetail!, /did not load.*whole recordings/);
    const plain = new VoiceService(broken);
    assert.equal((await plain.transcribe(encodeWav(silence(3)))).text, 'heard 3.0');
    assert.equal(canned.calls, 1);
  });
});

describe('VoiceStream without a VAD', () => {
  it('cuts the stream every 10 s, f32le at 8 kHz, and ends with the rest', async () => {
    const canned = new CannedStt('canned', true);
    const svc = new VoiceService(await selectEngines({ extraStt: [canned], systemStt: [], systemTts: [], vad: false }));
    const partials: { text: string; segment: { start: number; end: number } }[] = [];
    const s = svc.stream({ sampleRate: 8000, encoding: 'f32le', onPartial: (p) => partials.push(p) });
    const bytes = new Uint8Array(new Float32Array(8000 * 25).buffer);
    for (let i = 0; i < bytes.length; i += 3001) s.push(bytes.subarray(i, i + 3001));
    const final = await s.stop();
    assert.deepEqual(partials.map((p) => p.text), ['heard 10.0', 'heard 10.0', 'heard 5.0']);
    assert.deepEqual(partials[1]!.segment, { start: 10, end: 20 });
    assert.equal(final.text, 'heard 10.0 heard 10.0 heard 5.0');
    assert.throws(() => svc.stream({ sampleRate: 100 }), is(400));
  });
});

describe('VoiceService on the Debian engines', { skip: have ? false : 'needs pocketsphinx, espeak-ng, flite (apt)' }, () => {
  let svc: VoiceService;
  let first: Audio;
  let second: Audio;
  before(async () => {
    svc = new VoiceService(await selectEngines({}));
    const flite = new FliteEngine();
    first = await flite.synthesize('turn on the lights in the kitchen');
    second = await flite.synthesize('what time is it now');
  });
  after(async () => svc?.close());

  it('reports the chosen engines and the VAD', () => {
    const info = svc.info();
    assert.equal(info.available, true);
    assert.equal(info.stt.engine, 'pocketsphinx');
    assert.equal(info.tts.engine, 'system');
    assert.equal(info.vad.available, true);
    assert.ok(info.engines.some((e) => e.id === 'flite' && !e.chosen && e.available));
    assert.ok(info.engines.some((e) => e.id === 'espeak-ng' && !e.chosen && e.available));
  });

  it('transcribes two utterances apart, with their times in the whole recording and partial text in order', async () => {
    const a = join([silence(1.5), first, silence(2), second, silence(1)], 48000);
    const partials: string[] = [];
    const t = await svc.transcribe(encodeWav(a), 'audio/wav', { onPartial: (p) => partials.push(p) });
    assert.match(t.text, /lights in the kitchen.*time is it now/);
    assert.equal(t.engine, 'pocketsphinx');
    assert.equal(t.language, 'en');
    assert.ok(t.segments.length >= 2, JSON.stringify(t.segments));
    const secondStart = 1.5 + duration(first) + 2;
    const last = t.segments[t.segments.length - 1]!;
    assert.ok(t.segments[0]!.start > 1.2 && t.segments[0]!.start < 2.2, JSON.stringify(t.segments));
    assert.ok(last.start > secondStart - 0.4 && last.start < secondStart + 0.8, `${JSON.stringify(t.segments)} vs ${secondStart}`);
    assert.equal(partials[partials.length - 1], t.text);
    await assert.rejects(svc.transcribe(encodeWav(a), 'audio/wav', { language: 'de' }), is(422));
  });

  it('speaks text as a WAV, refusing empty and oversized text', async () => {
    const wav = await svc.speak('Hello from Timmy.');
    const a = decodeWav(wav);
    assert.ok(duration(a) > 0.5 && duration(a) < 5);
    await assert.rejects(svc.speak('   '), is(400));
    await assert.rejects(svc.speak('x'.repeat(6000)), is(400));
    assert.ok(duration(await new EspeakEngine().synthesize('Bonjour', { language: 'fr' })) > 0.2);
  });

  it('streams: 48 kHz s16le chunks in, a partial per utterance, then the final', async () => {
    const a = join([silence(1), first, silence(1.5), second, silence(1)], 48000);
    const pcm = Buffer.alloc(a.samples.length * 2);
    a.samples.forEach((x, i) => pcm.writeInt16LE(Math.round(Math.max(-1, Math.min(1, x)) * 32767), i * 2));
    const partials: { text: string; segment: { start: number; end: number } }[] = [];
    const s = svc.stream({ sampleRate: 48000, encoding: 's16le', onPartial: (p) => partials.push(p) });
    for (let i = 0; i < pcm.length; i += 9601) s.push(pcm.subarray(i, i + 9601)); // odd sizes: samples straddle chunks
    const final = await s.stop();
    assert.ok(partials.length >= 2, JSON.stringify(partials));
    assert.match(partials[0]!.text, /kitchen/);
    assert.ok(partials[0]!.segment.start > 0.6 && partials[0]!.segment.start < 1.3, JSON.stringify(partials));
    assert.match(final.text, /kitchen.*time is it/);
    assert.throws(() => s.push(new Uint8Array(2)), is(400));
  });
});
