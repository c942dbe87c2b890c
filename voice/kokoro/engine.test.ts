// KokoroEngine on a generated model with the signature of onnx-community/Kokoro-82M-v1.0-ONNX and a
// voices/<name>.bin written here: the waveform depends on the style vector, so the row the engine
// picked (one per token count) can be checked sample by sample.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKokoroTestModel, kokoroTestEmbedding } from '../../test/support/onnx-builder.js';
import { VoiceError, type Audio } from '../engine.js';
import { phonemizeText, phonemizerTiming } from '../phonemes.js';
import { decodeWav, encodeWav } from '../wav.js';
import { KokoroEngine, MAX_TOKENS, STYLE_DIM, chunkPhonemes, kokoroPhonemes, kokoroTokens } from './engine.js';

const H = 64;
// The symbols of Kokoro's tokenizer vocab ("$" = 0 is the pad); ids here are simply positions.
const SYMBOLS = [...'$;:,.!?¡¿—…"«»“” ʣʥʦʨᵝꭧAIOQSTWYᵊabcdefhijklmnopqrstuvwxyzɑɐɒæβɔɕçɖðʤəɚɛɜɟɡɥɨɪʝɯɰŋɳɲɴøɸθœɹɾɻʁɽʂʃʈʧʊʋʌɣɤχʎʒʔˈˌːʰʲ↓→↗↘ᵻ'];
const VOCAB = new Map(SYMBOLS.map((s, i) => [s, i]));
const E = kokoroTestEmbedding(SYMBOLS.length, H);
const ROWS = 510;

const root = await mkdtemp(join(tmpdir(), 'timmy-kokoro-'));
after(() => rm(root, { recursive: true, force: true }));

/** Row r of voice `sign` is filled with sign * r / 1000, so the model adds sign * r / 1000 to every sample. */
function voiceTable(sign: number): Float32Array {
  const v = new Float32Array(ROWS * STYLE_DIM);
  for (let r = 0; r < ROWS; r++) v.fill((sign * r) / 1000, r * STYLE_DIM, (r + 1) * STYLE_DIM);
  return v;
}

async function kokoroDir(name: string, o: { tokenizer?: boolean } = {}): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await mkdir(join(dir, 'voices'), { recursive: true });
  await writeFile(join(dir, 'onnx', 'model.onnx'), buildKokoroTestModel({ vocab: SYMBOLS.length, samplesPerToken: H }));
  await writeFile(join(dir, 'voices', 'af_test.bin'), new Uint8Array(voiceTable(1).buffer));
  await writeFile(join(dir, 'voices', 'bm_test.bin'), new Uint8Array(voiceTable(-1).buffer));
  // A table of 10 rows: longer inputs must use its last row.
  await writeFile(join(dir, 'voices', 'af_short.bin'), new Uint8Array(voiceTable(1).slice(0, 10 * STYLE_DIM).buffer));
  if (o.tokenizer !== false) await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0', model: { type: 'WordLevel', vocab: Object.fromEntries(VOCAB) } }));
  return dir;
}

/** The generated model's waveform for these tokens, speed and style row. */
function expected(tokens: readonly number[], row: number, sign = 1, speed = 1): Float32Array {
  const ids = [0, ...tokens, 0];
  const out = new Float32Array(ids.length * H);
  const bias = Math.fround((sign * row) / 1000);
  ids.forEach((id, i) => {
    for (let k = 0; k < H; k++) out[i * H + k] = Math.tanh(E[id * H + k]! / speed + bias);
  });
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'length');
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

const dir = await kokoroDir('Kokoro-82M-v1.0-ONNX');
const engine = await KokoroEngine.open(dir, { voice: 'af_test' });
after(() => engine.close());

test('the style row is chosen by token count, and the audio goes through a real WAV', { timeout: 120_000 }, async (t) => {
  const info = await engine.info();
  assert.equal(info.available, true);
  assert.deepEqual(info.languages, ['en-US', 'en-GB']);
  assert.deepEqual(engine.voices, ['af_short', 'af_test', 'bm_test']);

  const [tokens] = await engine.tokenize('Hello world!');
  assert.ok(tokens);
  assert.deepEqual(tokens, kokoroTokens('həlˈoʊ wˈɜːld!', VOCAB));
  const audio = await engine.synthesize('Hello world!');
  assert.equal(audio.sampleRate, 24000);
  assert.ok(maxDiff(audio.samples, expected(tokens, tokens.length)) < 1e-5, 'row = token count');
  assert.ok(maxDiff(audio.samples, expected(tokens, tokens.length + 1)) > 5e-4, 'a neighbouring row would be audible here');

  const british = await engine.synthesize('Hello world!', { voice: 'bm_test', speed: 1.25 });
  const [bt] = await engine.tokenize('Hello world!', 'bm_test');
  assert.deepEqual(bt, kokoroTokens('həlˈəʊ wˈɜːld!', VOCAB), 'b voices phonemize as British English');
  assert.ok(maxDiff(british.samples, expected(bt!, bt!.length, -1, 1.25)) < 1e-5, 'voice and speed reach the model');

  const short = await engine.synthesize('Hello world!', { voice: 'af_short' });
  assert.ok(tokens.length > 9);
  assert.ok(maxDiff(short.samples, expected(tokens, 9)) < 1e-5, 'row clamped to the last of the table');

  const file = join(root, 'kokoro.wav');
  await writeFile(file, encodeWav(audio));
  const back = decodeWav(new Uint8Array(await readFile(file)));
  assert.equal(back.sampleRate, 24000);
  assert.ok(maxDiff(back.samples, audio.samples) <= 2 / 32768);

  const text = Array.from({ length: 8 }, (_, i) => `This is sentence number ${i + 1} of the benchmark.`).join(' ');
  const p0 = phonemizerTiming().warmMs;
  const t0 = performance.now();
  const bench = await engine.synthesize(text);
  const ms = performance.now() - t0;
  const phon = phonemizerTiming().warmMs - p0;
  t.diagnostic(`kokoro tiny model, 8 sentences: ${ms.toFixed(0)} ms total, ${phon.toFixed(0)} ms of it phonemizer, ${((ms - phon) / 8).toFixed(1)} ms per sentence for tokens + style + ORT (${(bench.samples.length / 24000).toFixed(2)} s of audio)`);
});

test('long text is split into chunks of at most 510 tokens, each with its own style row', { timeout: 180_000 }, async () => {
  const sentences = Array.from({ length: 12 }, (_, i) => `Here is sentence ${i + 1}.`).join(' ');
  const chunks = await engine.tokenize(sentences);
  assert.equal(chunks.length, 12, 'one chunk per sentence');
  const parts: Audio[] = [];
  for await (const a of engine.synthesizeStream(sentences)) parts.push(a);
  assert.equal(parts.length, 12);

  // One sentence far over the limit (no punctuation to split at): cut at word boundaries.
  const words = 'the quick brown fox jumps over the lazy dog and runs far away into the woods '.repeat(14).trim();
  const long = await engine.tokenize(words);
  assert.ok(long.length >= 2, `${long.length} chunks`);
  for (const c of long) assert.ok(c.length <= MAX_TOKENS, `chunk of ${c.length} tokens`);
  const [whole] = await phonemizeText(words, 'en-us');
  const all = kokoroTokens(kokoroPhonemes(whole!.phonemes, 'en-us'), VOCAB);
  assert.ok(all.length > MAX_TOKENS);
  assert.equal(long.flat().length + long.length - 1, all.length, 'only the spaces cut at are dropped');
  const pieces: Audio[] = [];
  for await (const a of engine.synthesizeStream(words)) pieces.push(a);
  assert.equal(pieces.length, long.length);
  const last = long.at(-1)!;
  const want = expected(last, last.length);
  const got = pieces.at(-1)!.samples;
  assert.equal(got.length, want.length + 0.1 * 24000, 'led by the sentence silence');
  assert.ok(maxDiff(got.subarray(got.length - want.length), want) < 1e-5, 'each chunk gets its own style row');

  const full = 'ə'.repeat(MAX_TOKENS);
  assert.deepEqual(chunkPhonemes(full, VOCAB), [full]);
  assert.equal(chunkPhonemes('ə'.repeat(MAX_TOKENS + 1), VOCAB).length, 2);
  assert.deepEqual(chunkPhonemes('ab cd ef', VOCAB, 5), ['ab cd', 'ef']);
});

test('abort stops between sentences', { timeout: 120_000 }, async () => {
  const ac = new AbortController();
  const got: Audio[] = [];
  await assert.rejects(
    (async () => {
      for await (const a of engine.synthesizeStream('First. Second. Third.', { signal: ac.signal })) {
        got.push(a);
        ac.abort();
      }
    })(),
    { name: 'AbortError' },
  );
  assert.equal(got.length, 1);
});

test('missing files and unknown voices are clear errors', { timeout: 60_000 }, async () => {
  const bare = await kokoroDir('no-tokenizer', { tokenizer: false });
  await assert.rejects(KokoroEngine.open(bare), (e: unknown) => e instanceof VoiceError && e.status === 503 && e.message.includes('tokenizer.json'));
  const probe = await KokoroEngine.probe(join(root, 'nothing'));
  assert.equal(probe.available, false);
  assert.match(probe.detail, /model\.onnx.*tokenizer\.json.*voices/);
  await assert.rejects(engine.synthesize('Hi.', { voice: 'af_nobody' }), (e: unknown) => e instanceof VoiceError && e.status === 400);
});

test('kokoro.js phoneme fixes: espeak symbols Kokoro spells differently', () => {
  assert.equal(kokoroPhonemes('ɡɹeɪt rˈɛd lˈɒx', 'en'), 'ɡɹeɪt ɹˈɛd lˈɒk');
  assert.equal(kokoroPhonemes('nˈaɪnti', 'en-us'), 'nˈaɪndi');
  assert.equal(kokoroPhonemes('nˈaɪnti', 'en'), 'nˈaɪnti');
});
