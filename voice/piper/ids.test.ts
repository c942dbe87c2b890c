import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phonemesToIds, piperPhonemes } from './ids.js';
import { parsePiperConfig } from './config.js';
import { VoiceError } from '../engine.js';

// A few entries in the shape of a real voice's phoneme_id_map (en_US-lessac-medium's ids).
const MAP: Record<string, number[]> = {
  _: [0],
  '^': [1],
  $: [2],
  ' ': [3],
  ',': [8],
  '.': [10],
  h: [20],
  l: [24],
  w: [35],
  d: [17],
  ə: [59],
  ɜ: [62],
  ʊ: [100],
  o: [27],
  ˈ: [120],
  ː: [122],
  '̧': [140],
  c: [16],
};

test('ids: BOS, pad, then each phoneme followed by a pad, then EOS', () => {
  const { ids, missing } = phonemesToIds('həlˈoʊ wˈɜːld.', MAP);
  // prettier-ignore
  assert.deepEqual(ids, [
    1, 0,                                 // ^ _
    20, 0, 59, 0, 24, 0, 120, 0, 27, 0, 100, 0, // h ə l ˈ o ʊ
    3, 0,                                 // space
    35, 0, 120, 0, 62, 0, 122, 0, 24, 0, 17, 0, // w ˈ ɜ ː l d
    10, 0,                                // .
    2,                                    // $
  ]);
  assert.equal(missing.size, 0);
});

test('ids: phonemes missing from the map are skipped and counted', () => {
  const { ids, missing } = phonemesToIds('hɪlɪ', MAP);
  assert.deepEqual(ids, [1, 0, 20, 0, 24, 0, 2]);
  assert.deepEqual([...missing], [['ɪ', 2]]);
});

test('ids: phonemes are NFD code points, as piper-phonemize decomposes them', () => {
  assert.deepEqual(piperPhonemes('ç'), ['c', '̧']);
  assert.deepEqual(phonemesToIds('ç', MAP).ids, [1, 0, 16, 0, 140, 0, 2]);
  assert.deepEqual(phonemesToIds('', MAP).ids, [1, 0, 2]);
});

test('config: a voice .onnx.json is read with its defaults; bad ones name the key', () => {
  const c = parsePiperConfig(JSON.stringify({ audio: { sample_rate: 22050, quality: 'medium' }, espeak: { voice: 'en-us' }, phoneme_id_map: MAP, num_speakers: 1 }));
  assert.equal(c.audio.sample_rate, 22050);
  assert.deepEqual({ ...c.inference }, { noise_scale: 0.667, length_scale: 1, noise_w: 0.8 });
  assert.equal(c.phoneme_type, 'espeak');
  assert.deepEqual(c.speaker_id_map, {});
  assert.throws(() => parsePiperConfig('{"audio":{}}', 'x.onnx.json'), (e: unknown) => e instanceof VoiceError && /x\.onnx\.json: audio\.sample_rate/.test(e.message));
  assert.throws(() => parsePiperConfig('not json', 'x.onnx.json'), /x\.onnx\.json: not JSON/);
  assert.throws(() => parsePiperConfig(JSON.stringify({ audio: { sample_rate: 16000 }, phoneme_id_map: { a: [1] } })), /no "_"/);
});
