// PiperEngine on a generated model with a real Piper voice's signature (no weights exist here):
// every sample the engine returns is recomputed from the phonemes, ids, scales and speaker the
// test expects were fed, and the audio goes through a real WAV file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPiperTestModel, piperTestEmbedding } from '../../test/support/onnx-builder.js';
import { VoiceError, type Audio } from '../engine.js';
import { phonemizeText, phonemizerTiming, warmUpPhonemizer } from '../phonemes.js';
import { decodeWav, encodeWav } from '../wav.js';
import { PiperEngine, normalizePeak } from './engine.js';
import { phonemesToIds } from './ids.js';

const H = 256;
// Piper's symbol order (pad, bos, eos, punctuation, letters, IPA); "ɚ" is left out on purpose so
// the engine has a phoneme to skip, as happens when espeak emits one a voice was not trained on.
const SYMBOLS = [..."_^$ !'(),-.:;?abcdefhijklmnopqrstuvwxyzæçðøħŋœɐɑɒɓɔɕɖɗɘəɛɜɞɟɠɡɢɣɤɥɦɧɨɪɫɬɭɮɯɰɱɲɳɴɵɶɸɹɺɻɽɾʀʁʂʃʄʈʉʊʋʌʍʎʏʐʑʒʔʕʘʙʛʜʝʟʡʢʲˈˌːˑ˞βθχᵻⱱ̩̃"];
const MAP = Object.fromEntries(SYMBOLS.map((s, i) => [s, [i]]));
const E = piperTestEmbedding(SYMBOLS.length, H);

const root = await mkdtemp(join(tmpdir(), 'timmy-piper-'));
after(() => rm(root, { recursive: true, force: true }));

async function voiceDir(name: string, o: { speakers?: boolean; json?: boolean; espeak?: string } = {}): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.onnx`), buildPiperTestModel({ vocab: SYMBOLS.length, samplesPerId: H, speakers: o.speakers }));
  if (o.json !== false) {
    const config = {
      audio: { sample_rate: 22050, quality: 'medium' },
      espeak: { voice: o.espeak ?? 'en-us' },
      inference: { noise_scale: 0.5, length_scale: 1.5, noise_w: 0.3 },
      phoneme_type: 'espeak',
      phoneme_id_map: MAP,
      num_speakers: o.speakers ? 3 : 1,
      speaker_id_map: o.speakers ? { alice: 0, carol: 1, bob: 2 } : {},
      language: { code: 'en_US' },
    };
    await writeFile(join(dir, `${name}.onnx.json`), JSON.stringify(config));
  }
  return dir;
}

/** What the generated model must output for these phonemes, scales and speaker (before piper's peak scaling). */
function expected(phonemes: string, scales: [number, number, number], sid = 0): Float32Array {
  const { ids } = phonemesToIds(phonemes, MAP);
  const bias = scales[0] * 0.5 + scales[2] * 0.25 + sid * 0.125;
  const out = new Float32Array(ids.length * H);
  ids.forEach((id, i) => {
    for (let k = 0; k < H; k++) out[i * H + k] = Math.tanh(Math.fround(E[id * H + k]! * scales[1]) + bias);
  });
  return normalizePeak(out);
}

function assertClose(got: Float32Array, want: Float32Array, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  assert.ok(worst <= tol, `${what}: max difference ${worst} > ${tol}`);
}

test('synthesizes sentence by sentence with the config scales and writes a WAV that reads back', { timeout: 120_000 }, async (t) => {
  const dir = await voiceDir('en_US-test-medium');
  const engine = await PiperEngine.open(dir);
  try {
    assert.equal(engine.id, 'piper-en_US-test-medium');
    const info = await engine.info();
    assert.equal(info.available, true);
    assert.deepEqual(info.languages, ['en-US']);

    const text = 'Hello world. The water is cold!';
    const sentences = await phonemizeText(text, 'en-us');
    assert.equal(sentences.length, 2);
    const audio = await engine.synthesize(text);
    assert.equal(audio.sampleRate, 22050);
    const silence = Math.round(0.2 * 22050);
    const a = expected(sentences[0]!.phonemes, [0.5, 1.5, 0.3]);
    const b = expected(sentences[1]!.phonemes, [0.5, 1.5, 0.3]);
    const want = new Float32Array(a.length + silence + b.length);
    want.set(a);
    want.set(b, a.length + silence);
    assertClose(audio.samples, want, 1e-5, 'samples');
    // Output length follows input length: H samples per id, ids = 2 per phoneme + 3.
    assert.equal(a.length, phonemesToIds(sentences[0]!.phonemes, MAP).ids.length * H);
    // "water" has "ɚ" in American English, which this voice has no id for: skipped and counted.
    assert.ok((engine.missingPhonemes.get('ɚ') ?? 0) >= 1);

    const file = join(root, 'out.wav');
    await writeFile(file, encodeWav(audio));
    const back = decodeWav(new Uint8Array(await readFile(file)));
    assert.equal(back.sampleRate, 22050);
    assertClose(back.samples, audio.samples, 2 / 32768, 'WAV round trip');

    // A request's scale override reaches the model.
    const slow = await engine.synthesize('Hello world.', { lengthScale: 0.7, noiseScale: 0.1, noiseW: 0.9 });
    assertClose(slow.samples, expected(sentences[0]!.phonemes, [0.1, 0.7, 0.9]), 1e-5, 'overridden scales');

    // Real-time factor of the tiny model (phonemizer included): a figure for the report.
    const long = Array.from({ length: 8 }, (_, i) => `This is sentence number ${i + 1} of the benchmark.`).join(' ');
    await warmUpPhonemizer();
    const s0 = performance.now();
    for await (const first of engine.synthesizeStream(long)) {
      assert.ok(first.samples.length > 0);
      break;
    }
    t.diagnostic(`piper time to first audio (8-sentence text, warm phonemizer): ${(performance.now() - s0).toFixed(0)} ms`);
    const p0 = phonemizerTiming().warmMs;
    const t0 = performance.now();
    const bench = await engine.synthesize(long);
    const secs = (performance.now() - t0) / 1000;
    const phon = (phonemizerTiming().warmMs - p0) / 1000;
    const audioSecs = bench.samples.length / 22050;
    t.diagnostic(
      `piper tiny model: ${audioSecs.toFixed(1)} s of audio in ${secs.toFixed(2)} s = ${(audioSecs / secs).toFixed(0)}x real time; ` +
        `phonemizer ${phon.toFixed(2)} s of that, so ids + ORT + peak scaling run at ${(audioSecs / (secs - phon)).toFixed(0)}x`,
    );
  } finally {
    await engine.close();
  }
});

test('streams one Audio per sentence; concatenated they equal synthesize(); abort stops between sentences', { timeout: 120_000 }, async () => {
  const engine = await PiperEngine.open(await voiceDir('en_US-stream-low'));
  try {
    const text = 'One sentence here. Another one there. And a third.';
    const parts: Audio[] = [];
    for await (const a of engine.synthesizeStream(text)) parts.push(a);
    assert.equal(parts.length, 3);
    const whole = await engine.synthesize(text);
    assert.equal(parts.reduce((n, p) => n + p.samples.length, 0), whole.samples.length);

    const ac = new AbortController();
    const got: Audio[] = [];
    await assert.rejects(
      (async () => {
        for await (const a of engine.synthesizeStream(text, { signal: ac.signal })) {
          got.push(a);
          ac.abort();
        }
      })(),
      { name: 'AbortError' },
    );
    assert.equal(got.length, 1, 'stopped after the sentence in flight');
    await assert.rejects(engine.synthesize(text, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  } finally {
    await engine.close();
  }
});

test('multi-speaker voices get sid from the speaker name or number', { timeout: 120_000 }, async () => {
  const engine = await PiperEngine.open(await voiceDir('en_US-multi-medium', { speakers: true }));
  try {
    const [s] = await phonemizeText('Hello world.', 'en-us');
    const bob = await engine.synthesize('Hello world.', { voice: 'bob' });
    assertClose(bob.samples, expected(s!.phonemes, [0.5, 1.5, 0.3], 2), 1e-5, 'speaker bob = sid 2');
    const one = await engine.synthesize('Hello world.', { speaker: 1 });
    assertClose(one.samples, expected(s!.phonemes, [0.5, 1.5, 0.3], 1), 1e-5, 'speaker 1');
    await assert.rejects(engine.synthesize('Hello.', { voice: 'mallory' }), (e: unknown) => e instanceof VoiceError && e.status === 400 && /mallory/.test(e.message));
  } finally {
    await engine.close();
  }
});

test('a voice without its .onnx.json, or in a language we cannot phonemize, is a clear error; info() reports files that went missing', { timeout: 60_000 }, async () => {
  const dir = await voiceDir('en_US-nojson-low', { json: false });
  await assert.rejects(PiperEngine.open(dir), (e: unknown) => e instanceof VoiceError && e.status === 503 && e.message.includes('en_US-nojson-low.onnx.json'));
  const probe = await PiperEngine.probe(dir);
  assert.equal(probe.available, false);
  assert.match(probe.detail, /en_US-nojson-low\.onnx\.json/);
  assert.equal((await PiperEngine.probe(join(root, 'nowhere'))).available, false);

  // A voice in a language the WASM phonemizer lacks is refused at open, not at the first sentence.
  const de = await voiceDir('de_DE-test-low', { espeak: 'de' });
  await assert.rejects(PiperEngine.open(de), (e: unknown) => e instanceof VoiceError && e.status === 422 && /"de"/.test(e.message));
  assert.equal((await PiperEngine.probe(de)).available, false);

  const ok = await voiceDir('en_US-gone-low');
  assert.equal((await PiperEngine.probe(ok)).available, true);
  const engine = await PiperEngine.open(ok);
  try {
    await unlink(join(ok, 'en_US-gone-low.onnx.json'));
    const info = await engine.info();
    assert.equal(info.available, false);
    assert.match(info.detail, /en_US-gone-low\.onnx\.json/);
  } finally {
    await engine.close();
  }
});
