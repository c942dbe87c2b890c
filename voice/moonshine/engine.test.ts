import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MoonshineEngine, MoonshineTokenizer } from './engine.js';
import { VoiceError, type Audio } from '../engine.js';
import type { StepInfo } from '../whisper/decoder.js';
import { buildMergedDecoderTestModel, buildMoonshineTestEncoder, transitionTable } from '../../test/support/onnx-builder.js';

// SentencePiece byte-fallback vocabulary: "▁" marks a word start, <0xC3><0xA9> is "é" in bytes.
const VOCAB: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2, '▁Hello': 3, '▁wor': 4, 'ld': 5, '▁caf': 6, '<0xC3>': 7, '<0xA9>': 8, '▁': 9, '<0x0A>': 10, '▁a': 11 };
const SIZE = 12, BOS = 1, EOS = 2;
const added = [0, 1, 2].map((id) => ({ id, content: Object.keys(VOCAB)[id]!, special: true }));

async function modelDir(parent: string, rows: Record<number, Record<number, number>>): Promise<string> {
  const dir = join(parent, 'moonshine-tiny-ONNX');
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', byte_fallback: true, vocab: VOCAB }, added_tokens: added }));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ hidden_size: 8, decoder_num_hidden_layers: 2, decoder_num_attention_heads: 2, decoder_start_token_id: BOS, eos_token_id: EOS, max_position_embeddings: 194 }));
  await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ decoder_start_token_id: BOS, eos_token_id: EOS }));
  await writeFile(join(dir, 'onnx', 'encoder_model.onnx'), buildMoonshineTestEncoder({ d: 8 }));
  await writeFile(join(dir, 'onnx', 'decoder_model_merged.onnx'), buildMergedDecoderTestModel({ layers: 2, heads: 2, headDim: 4, d: 8, vocab: SIZE, table: transitionTable(SIZE, rows), poison: 10 }));
  return dir;
}

const SPEECH = { [BOS]: { 3: 5 }, 3: { 4: 5 }, 4: { 5: 5 }, 5: { 6: 5 }, 6: { 7: 5 }, 7: { 8: 5 }, 8: { [EOS]: 5 } };

function noise(seconds: number, rate = 16000): Audio {
  return { sampleRate: rate, samples: Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.2 * Math.sin(i * 0.37)) };
}

async function tmp(t: { after: (f: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'moonshine-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('MoonshineTokenizer: "▁" is a space, <0xNN> tokens are bytes joined before UTF-8, specials skipped', () => {
  const tok = new MoonshineTokenizer({ model: { vocab: VOCAB }, added_tokens: added });
  assert.equal(tok.decode([1, 3, 4, 5, 6, 7, 8, 2]), 'Hello world café');
  assert.equal(tok.decode([11, 10, 9, 3]), 'a\n  Hello'); // a lone "▁" is a space of its own
});

test('missing files are reported by info() and refused by transcribe()', async (t) => {
  const e = await MoonshineEngine.open(join(await tmp(t), 'moonshine-base-ONNX'));
  assert.equal(e.id, 'moonshine-base');
  const info = await e.info();
  assert.equal(info.available, false);
  assert.match(info.detail, /encoder_model\.onnx.*decoder_model_merged\.onnx.*tokenizer\.json.*config\.json/);
  await assert.rejects(e.transcribe(noise(1)), (err: unknown) => err instanceof VoiceError && err.status === 503);
});

test('raw audio -> encoder -> cached merged decoder -> text, with the encoder length following the audio', async (t) => {
  const steps: StepInfo[] = [];
  const encodes: number[] = [];
  const e = await MoonshineEngine.open(await modelDir(await tmp(t), SPEECH), { onStep: (s) => steps.push(s), onEncode: (ms) => encodes.push(ms) });
  t.after(() => e.close());
  assert.equal(e.id, 'moonshine-tiny');
  assert.equal((await e.info()).available, true);
  const r = await e.transcribe(noise(2));
  assert.equal(r.text, 'Hello world café');
  assert.deepEqual(r.segments, [{ start: 0, end: 2, text: 'Hello world café' }]);
  assert.equal(r.engine, 'moonshine-tiny');
  assert.deepEqual(steps.map((s) => s.pastLength), [1, 2, 3, 4, 5, 6, 7]);
  assert.ok(steps.every((s) => s.encoderLength === Math.floor(32000 / 384)));
  console.log(`# tiny moonshine: encoder ${encodes[0]!.toFixed(1)} ms for 2 s, decoder ${(steps.slice(1).reduce((a, s) => a + s.ms, 0) / (steps.length - 1)).toFixed(2)} ms/step`);
  await assert.rejects(e.transcribe(noise(1), { language: 'de' }), (err: unknown) => err instanceof VoiceError && err.status === 422);
});

test('generation is capped at 6.5 tokens per second of audio; windows and segmenter spans are offset', async (t) => {
  const loop = { [BOS]: { 3: 5 }, 3: { 11: 5 }, 11: { 3: 5 } }; // never ends by itself
  const dir = await modelDir(await tmp(t), loop);
  const e = await MoonshineEngine.open(dir);
  t.after(() => e.close());
  const r = await e.transcribe(noise(2)); // ceil(2 * 6.5) = 13 tokens
  assert.equal(r.text.split(' ').length, 13);
  const seg = await MoonshineEngine.open(await modelDir(await tmp(t), SPEECH), { beam: 2, segmenter: () => [{ start: 1, end: 3 }, { start: 35, end: 36.5 }] });
  t.after(() => seg.close());
  const s = await seg.transcribe(noise(40, 8000));
  assert.deepEqual(s.segments, [{ start: 1, end: 3, text: 'Hello world café' }, { start: 35, end: 36.5, text: 'Hello world café' }]);
  assert.equal(s.text, 'Hello world café Hello world café');
});
