import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WhisperEngine, audioWindows } from './engine.js';
import { VoiceError, type Audio } from '../engine.js';
import type { StepInfo } from './decoder.js';
import { writeWhisperTestModel } from '../../test/support/voice-models.js';

// A whole model directory in the Hugging Face layout, with generated weights
// (test/support/voice-models.ts): the transition table makes the "speech" always read
// "Hello world café" in two timestamped segments. Token ids of its vocabulary used below:
const EOT = 10, SOT = 11, NOTS = 19;

async function modelDir(parent: string, name: string, o: { sotPrefers?: 'en' | 'de' } = {}): Promise<string> {
  return writeWhisperTestModel(join(parent, name), o);
}

function tone(seconds: number, rate = 16000): Audio {
  return { sampleRate: rate, samples: Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / rate)) };
}

async function tmp(t: { after: (f: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'whisper-engine-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a directory without the model files: info() names them, transcribe() answers 503', async (t) => {
  const dir = join(await tmp(t), 'whisper-base');
  await mkdir(dir);
  await writeFile(join(dir, 'config.json'), '{}');
  const e = await WhisperEngine.open(dir);
  assert.equal(e.id, 'whisper-base');
  const info = await e.info();
  assert.equal(info.available, false);
  assert.equal(info.family, 'neural');
  assert.match(info.detail, /onnx\/encoder_model\.onnx, onnx\/decoder_model_merged\.onnx, tokenizer\.json/);
  await assert.rejects(e.transcribe(tone(1)), (err: unknown) => err instanceof VoiceError && err.status === 503);
});

test('transcribes through the generated models: mel, encoder, cached decoder, timestamps, text', async (t) => {
  const encodes: number[] = [];
  const steps: StepInfo[] = [];
  const e = await WhisperEngine.open(await modelDir(await tmp(t), 'whisper-tiny'), { language: 'en', onEncode: (ms) => encodes.push(ms), onStep: (s) => steps.push(s) });
  t.after(() => e.close());
  assert.equal(e.id, 'whisper-tiny');
  const info = await e.info();
  assert.equal(info.available, true, info.detail);
  assert.deepEqual(info.languages, ['en', 'de']);
  const r = await e.transcribe(tone(3));
  assert.equal(r.text, 'Hello world café');
  assert.deepEqual(r.segments, [{ start: 0, end: 1, text: 'Hello world' }, { start: 1, end: 1.5, text: 'café' }]);
  assert.equal(r.language, 'en');
  assert.equal(r.engine, 'whisper-tiny');
  assert.equal(encodes.length, 1);
  // the prompt (3), then one step per sampled token (10) until the model answers <|endoftext|>
  assert.deepEqual(steps.map((s) => s.pastLength), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  console.log(`# tiny whisper: encoder (incl. log-mel) ${encodes[0]!.toFixed(1)} ms, decoder ${(steps.slice(1).reduce((a, s) => a + s.ms, 0) / (steps.length - 1)).toFixed(2)} ms/step`);
});

test('without a language the model detects one; without timestamps the window is one segment', async (t) => {
  const dir = await modelDir(await tmp(t), 'whisper-tiny', { sotPrefers: 'de' });
  const e = await WhisperEngine.open(dir, { timestamps: false });
  t.after(() => e.close());
  const r = await e.transcribe(tone(2.5));
  assert.equal(r.language, 'de');
  assert.deepEqual(r.segments, [{ start: 0, end: 2.5, text: 'Hello world' }]);
  await assert.rejects(e.transcribe(tone(1), { language: 'xx' }), (err: unknown) => err instanceof VoiceError && err.status === 422);
});

test('long audio is cut into 30 s windows, or at the segmenter spans, and times are offset', async (t) => {
  const dir = await modelDir(await tmp(t), 'whisper-tiny');
  const partials: string[] = [];
  const fixed = await WhisperEngine.open(dir, { language: 'en' });
  t.after(() => fixed.close());
  const long = await fixed.transcribe(tone(65), { onPartial: (p) => partials.push(p) });
  assert.deepEqual(long.segments.map((s) => [s.start, s.end]), [[0, 1], [1, 1.5], [30, 31], [31, 31.5], [60, 61], [61, 61.5]]);
  assert.equal(partials.length, 3);
  const vad = await WhisperEngine.open(dir, { language: 'en', beam: 2, segmenter: () => [{ start: 2, end: 5 }, { start: 6, end: 9 }, { start: 40, end: 44.2 }] });
  t.after(() => vad.close());
  const r = await vad.transcribe(tone(50, 8000)); // 8 kHz in: resampled to 16 kHz first
  assert.deepEqual(r.segments.map((s) => [s.start, s.end]), [[2, 3], [3, 3.5], [40, 41], [41, 41.5]]);
});

test('audioWindows merges VAD spans while they fit in 30 s and cuts longer ones', () => {
  const a = tone(100, 100);
  assert.deepEqual(audioWindows(a, 30), [{ start: 0, end: 30 }, { start: 30, end: 60 }, { start: 60, end: 90 }, { start: 90, end: 100 }]);
  const spans = [{ start: 1, end: 10 }, { start: 12, end: 25 }, { start: 26, end: 90 }];
  assert.deepEqual(audioWindows(a, 30, () => spans), [{ start: 1, end: 25 }, { start: 26, end: 56 }, { start: 56, end: 86 }, { start: 86, end: 90 }]);
});

test('an English-only checkpoint (name ends in .en) puts no language token in the prompt', async (t) => {
  const dir = await modelDir(await tmp(t), 'whisper-tiny.en');
  await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ decoder_start_token_id: SOT, eos_token_id: EOT, no_timestamps_token_id: NOTS }));
  const steps: StepInfo[] = [];
  const e = await WhisperEngine.open(dir, { timestamps: false, onStep: (s) => steps.push(s) });
  t.after(() => e.close());
  assert.equal(e.id, 'whisper-tiny.en');
  const r = await e.transcribe(tone(1));
  assert.equal(steps[0]!.pastLength, 2); // [sot, notimestamps]
  assert.equal(r.text, 'Hello world');
  assert.equal(r.language, 'en');
  await assert.rejects(e.transcribe(tone(1), { language: 'de' }), (err: unknown) => err instanceof VoiceError && err.status === 422);
});

test('an aborted signal stops the transcription', async (t) => {
  const e = await WhisperEngine.open(await modelDir(await tmp(t), 'whisper-tiny'), { language: 'en' });
  t.after(() => e.close());
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await assert.rejects(e.transcribe(tone(1), { signal: ac.signal }), /stop/);
});
