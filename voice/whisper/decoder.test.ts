import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { MergedDecoder, decoderLayout, generate, timestampSegments, whisperRules, type StepInfo } from './decoder.js';
import { buildMergedDecoderTestModel, buildWhisperTestEncoder, transitionTable } from '../../test/support/onnx-builder.js';

// The test vocabulary: 0..9 text, 10 <|endoftext|>, 11 <|startoftranscript|>, 12 <|en|>, 13 <|de|>,
// 14 <|translate|>, 15 <|transcribe|>, 16..18 other specials, 19 <|notimestamps|>, 20.. <|0.00|>..<|2.00|>.
const EOT = 10, SOT = 11, EN = 12, TRANSCRIBE = 15, NOTS = 19, TB = 20, VOCAB = 121, POISON = 8;
const ts = (s: number) => TB + Math.round(s / 0.02);
const layout = { layers: 2, heads: 2, headDim: 4 };

async function setup(rows: Record<number, Record<number, number>>, stepBias?: Float32Array) {
  const encoder = await ort.InferenceSession.create(buildWhisperTestEncoder({ d: 8 }));
  const decoder = await ort.InferenceSession.create(
    buildMergedDecoderTestModel({ ...layout, d: 8, vocab: VOCAB, table: transitionTable(VOCAB, rows), poison: POISON, ...(stepBias ? { stepBias } : {}) }),
  );
  const feats = new ort.Tensor('float32', Float32Array.from({ length: 80 * 3000 }, (_, i) => Math.sin(i)), [1, 80, 3000]);
  const t0 = performance.now();
  const hidden = (await encoder.run({ input_features: feats }))['last_hidden_state']!;
  const encodeMs = performance.now() - t0;
  return { encoder, decoder, hidden, encodeMs };
}

const rules = (timestamps: boolean) => whisperRules({ eot: EOT, timestampBegin: TB, suppress: [], beginSuppress: [9, EOT], timestamps });

test('decoderLayout reads layers, heads and head_dim from the merged decoder inputs', async () => {
  const { decoder, hidden } = await setup({});
  assert.deepEqual(decoderLayout(decoder), layout);
  assert.deepEqual(hidden.dims, [1, 1500, 8]);
});

test('greedy: the cache grows by one per step, the encoder cache is kept, and the loop stops at <|endoftext|>', async () => {
  // notimestamps -> 0 -> 1 -> 2 -> 3 -> eot
  const { decoder, hidden } = await setup({ [NOTS]: { 0: 5 }, 0: { 1: 5 }, 1: { 2: 5 }, 2: { 3: 5 }, 3: { [EOT]: 5 } });
  const steps: StepInfo[] = [];
  const dec = new MergedDecoder(decoder, layout, hidden, (s) => steps.push(s));
  const prompt = [SOT, EN, TRANSCRIBE, NOTS];
  const g = await generate(dec, { prompt, eot: EOT, maxNewTokens: 50, processLogits: rules(false) });
  assert.deepEqual(g.tokens, [0, 1, 2, 3]);
  assert.equal(g.finished, true);
  assert.deepEqual(steps.map((s) => s.pastLength), [4, 5, 6, 7, 8]);
  assert.ok(steps.every((s) => s.encoderLength === 1500 && s.batch === 1));
  const ms = steps.slice(1).reduce((a, s) => a + s.ms, 0) / (steps.length - 1);
  console.log(`# tiny merged decoder: ${ms.toFixed(2)} ms per cached step (first step ${steps[0]!.ms.toFixed(2)} ms)`);
});

test('the loop stops at maxNewTokens when no end token comes', async () => {
  const { decoder, hidden } = await setup({ [NOTS]: { 0: 5 }, 0: { 1: 5 }, 1: { 0: 5 } });
  const g = await generate(new MergedDecoder(decoder, layout, hidden), { prompt: [SOT, NOTS], eot: EOT, maxNewTokens: 7 });
  assert.deepEqual(g.tokens, [0, 1, 0, 1, 0, 1, 0]);
  assert.equal(g.finished, false);
});

test('the model sees the position through the cache: a step bias ends the text at a known length', async () => {
  const bias = new Float32Array(VOCAB);
  bias[EOT] = 1; // eot logit = -20 + length of the cache fed in: beats the cycle's 0 once that is 21
  const { decoder, hidden } = await setup({ [NOTS]: { 0: 0 }, 0: { 1: 0 }, 1: { 0: 0 } }, bias);
  const g = await generate(new MergedDecoder(decoder, layout, hidden), { prompt: [SOT, NOTS], eot: EOT, maxNewTokens: 100 });
  // the step that feeds sampled token k gets a cache of 2 prompt + k - 1 positions: 21 at k = 20
  assert.equal(g.tokens.length, 20);
});

test('greedy and beam search pick different sequences where they should', async () => {
  // greedy takes 0 (2.0 > 1.8) into a flat, unlikely continuation; beam finds 3 -> 4 -> 5 -> eot
  const rows = { [NOTS]: { 0: 2, 3: 1.8 }, 0: { 1: 0, 2: 0, 6: 0, 7: 0, [EOT]: 0 }, 1: { [EOT]: 10 }, 2: { [EOT]: 10 }, 6: { [EOT]: 10 }, 7: { [EOT]: 10 }, 3: { 4: 10 }, 4: { 5: 10 }, 5: { [EOT]: 10 } };
  const { decoder, hidden } = await setup(rows);
  const prompt = [SOT, EN, TRANSCRIBE, NOTS];
  const greedy = await generate(new MergedDecoder(decoder, layout, hidden), { prompt, eot: EOT, maxNewTokens: 20, processLogits: rules(false) });
  assert.deepEqual(greedy.tokens.slice(0, 1), [0]);
  assert.equal(greedy.tokens.length, 2);
  const steps: StepInfo[] = [];
  const beam = await generate(new MergedDecoder(decoder, layout, hidden, (s) => steps.push(s)), { prompt, eot: EOT, maxNewTokens: 20, beam: 3, processLogits: rules(false) });
  assert.deepEqual(beam.tokens, [3, 4, 5]);
  assert.ok(steps.slice(1).every((s) => s.batch > 1), 'later steps run the beams as one batch');
  assert.ok(!beam.tokens.includes(POISON));
});

test('timestamp rules: start with a timestamp, pairs, monotonic; segments come out of the tokens', async () => {
  // the model wants text right away and a decreasing timestamp; the rules must override both
  const rows: Record<number, Record<number, number>> = {
    [TRANSCRIBE]: { 0: 9, [ts(0)]: 5, [ts(1.5)]: 4 },
    [ts(0)]: { 0: 5 }, 0: { 1: 5 }, 1: { 2: 5 }, 2: { [ts(1)]: 5, 3: 4 },
    [ts(1)]: { [ts(0.5)]: 9, [ts(1)]: 5, 3: 4 }, 3: { 4: 5 }, 4: { 5: 5 }, 5: { [ts(1.5)]: 5 }, [ts(1.5)]: { [EOT]: 5 },
  };
  const { decoder, hidden } = await setup(rows);
  const g = await generate(new MergedDecoder(decoder, layout, hidden), { prompt: [SOT, EN, TRANSCRIBE], eot: EOT, maxNewTokens: 50, processLogits: rules(true) });
  assert.deepEqual(g.tokens, [ts(0), 0, 1, 2, ts(1), ts(1), 3, 4, 5, ts(1.5)]);
  const segs = timestampSegments(g.tokens, TB, 2);
  assert.deepEqual(segs, [
    { start: 0, end: 1, tokens: [0, 1, 2] },
    { start: 1, end: 1.5, tokens: [3, 4, 5] },
  ]);
});

test('timestampSegments: no timestamps is one segment of the window; an unclosed one runs to the window end', () => {
  assert.deepEqual(timestampSegments([0, 1], TB, 7.5), [{ start: 0, end: 7.5, tokens: [0, 1] }]);
  assert.deepEqual(timestampSegments([ts(0.4), 0, ts(1), ts(1), 1], TB, 2), [
    { start: 0.4, end: 1, tokens: [0] },
    { start: 1, end: 2, tokens: [1] },
  ]);
});

test('whisperRules: blank and eot are suppressed only at the start; other specials always', () => {
  const r = rules(false);
  const row = new Float32Array(VOCAB).fill(0);
  r(row, []);
  assert.equal(row[9], -Infinity);
  assert.equal(row[EOT], -Infinity);
  assert.equal(row[SOT], -Infinity);
  assert.equal(row[ts(0)], -Infinity);
  assert.equal(row[0], 0);
  const later = new Float32Array(VOCAB).fill(0);
  r(later, [0]);
  assert.equal(later[9], 0);
  assert.equal(later[EOT], 0);
});

test('the test decoder flags a wrongly fed cache (so the loop tests above would notice one)', async () => {
  const { decoder, hidden } = await setup({ [NOTS]: { 0: 5 } });
  const empty = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 4]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(NOTS)), [1, 1]),
    encoder_hidden_states: hidden,
    use_cache_branch: new ort.Tensor('bool', Uint8Array.of(1), [1]), // cache branch, but no cache
  };
  for (let i = 0; i < 2; i++) for (const k of ['decoder', 'encoder']) for (const kv of ['key', 'value']) feeds[`past_key_values.${i}.${k}.${kv}`] = empty;
  const logits = (await decoder.run(feeds))['logits']!.data as Float32Array;
  assert.equal(logits.indexOf(Math.max(...logits)), POISON);
});
