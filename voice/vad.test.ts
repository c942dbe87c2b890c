// Silero VAD on real speech (espeak-ng output): finds it inside silence, splits two utterances
// apart, finds nothing in silence, and the streaming detector agrees with the whole-file one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EspeakEngine } from './engines/espeak.js';
import type { Audio } from './engine.js';
import { onPath } from './proc.js';
import { duration, join, silence } from './testing.js';
import { spansFromProbabilities, Vad } from './vad.js';

const hasEspeak = onPath('espeak-ng') !== undefined;

describe('Silero VAD', { skip: hasEspeak ? false : 'espeak-ng is not installed' }, () => {
  let vad: Vad;
  let first: Audio;
  let second: Audio;
  before(async () => {
    vad = await Vad.open();
    const tts = new EspeakEngine();
    first = await tts.synthesize('Hello there, this is a test of the voice activity detector.');
    second = await tts.synthesize('And here is a second sentence after a pause.');
  });
  after(async () => vad?.close());

  it('finds speech padded with 2 s of silence on each side', async () => {
    const a = join([silence(2), first, silence(2)]);
    const t0 = performance.now();
    const segs = await vad.segments(a);
    const ms = performance.now() - t0;
    console.log(`VAD: ${(ms / duration(a)).toFixed(1)} ms per second of audio`);
    assert.equal(segs.length, 1, JSON.stringify(segs));
    const s = segs[0]!;
    assert.ok(s.start > 1.6 && s.start < 2.3, `start ${s.start}`);
    // espeak-ng leaves a little silence at the end of its clip: speech ends before 2 + duration.
    assert.ok(s.end > 2 + duration(first) * 0.7 && s.end < 2 + duration(first) + 0.4, `end ${s.end}`);
  });

  it('splits two utterances separated by 1.5 s of silence', async () => {
    const a = join([silence(2), first, silence(1.5), second, silence(2)]);
    const segs = await vad.segments(a);
    assert.equal(segs.length, 2, JSON.stringify(segs));
    const gapMid = 2 + duration(first) + 0.75;
    assert.ok(segs[0]!.end < gapMid && segs[1]!.start > gapMid, JSON.stringify(segs));
    assert.ok(segs[1]!.end < duration(a) - 1.5);
  });

  it('finds nothing in silence or low noise', async () => {
    assert.deepEqual(await vad.segments(silence(3)), []);
    let seed = 1;
    const noise = Float32Array.from({ length: 48000 }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.002);
    assert.deepEqual(await vad.segments({ sampleRate: 16000, samples: noise }), []);
  });

  it('resamples other rates (espeak-ng speaks at 22.05 kHz) and gives one probability per 32 ms', async () => {
    const p = await vad.speechProbabilities(first);
    assert.equal(p.length, Math.ceil((duration(first) * 16000) / 512));
    assert.ok(Math.max(...p) > 0.9);
  });

  it('streaming: the same utterances, pushed in 100 ms chunks', async () => {
    const a = join([silence(1), first, silence(1.5), second, silence(1)]);
    const st = vad.stream();
    const segs: { start: number; end: number; seconds: number }[] = [];
    for (let i = 0; i < a.samples.length; i += 1600) {
      for (const s of await st.push(a.samples.subarray(i, i + 1600))) segs.push({ start: s.start, end: s.end, seconds: duration(s.audio) });
    }
    const last = st.flush();
    if (last) segs.push({ start: last.start, end: last.end, seconds: duration(last.audio) });
    assert.equal(segs.length, 2, JSON.stringify(segs));
    for (const s of segs) assert.ok(Math.abs(s.end - s.start - s.seconds) < 0.01, 'the audio matches the times');
    assert.ok(segs[0]!.start > 0.7 && segs[0]!.start < 1.3, JSON.stringify(segs));
  });

  it('splits a segment longer than maxSegmentSec at its quietest frame', () => {
    const probs = Float32Array.from({ length: 400 }, (_, i) => (i === 250 ? 0.4 : 0.9)); // 12.8 s of speech
    const spans = spansFromProbabilities(probs, 12.8, { maxSegmentSec: 10, padMs: 0 });
    assert.equal(spans.length, 2);
    assert.ok(Math.abs(spans[0]!.end - 250 * 0.032) < 1e-9, JSON.stringify(spans));
  });
});
