// Test support: whole neural model directories in the upstream layouts (as `timmy models install`
// leaves them in <dataDir>/models/<id>/), with the tiny generated ONNX graphs of onnx-builder.ts:
// random weights, real input/output names and shapes. For tests and the voice benchmark that need
// engines to open and run end to end (test/voice-neural-wiring.test.ts, bench/voice.ts, the Whisper
// engine test); the Moonshine, Piper and Kokoro engine tests build variants of their own (other
// transition tables, a phoneme left out on purpose, several voices).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildKokoroTestModel, buildMergedDecoderTestModel, buildMoonshineTestEncoder, buildPiperTestModel, buildWhisperTestEncoder, transitionTable } from './onnx-builder.js';

/** What the generated Whisper and Moonshine models "hear" in any audio. */
export const NEURAL_TEST_TEXT = 'Hello world café';

// Whisper: GPT-2 byte-level vocabulary, specials from 10, 101 timestamps from 20.
const W_VOCAB: Record<string, number> = { Hello: 0, 'Ġw': 1, orld: 2, 'Ġcaf': 3, 'Ã': 4, '©': 5, 'ĠðŁ': 6, 'ĺĢ': 7, 'Ċ': 8, 'Ġ': 9 };
const W_SPECIAL = ['<|endoftext|>', '<|startoftranscript|>', '<|en|>', '<|de|>', '<|translate|>', '<|transcribe|>', '<|startoflm|>', '<|startofprev|>', '<|nospeech|>', '<|notimestamps|>'];
const EOT = 10, SOT = 11, EN = 12, DE = 13, TRANSCRIBE = 15, NOTS = 19, TB = 20, N_TS = 101, W_SIZE = TB + N_TS;
const ts = (s: number) => TB + Math.round(s / 0.02);

/**
 * A whisper-tiny-shaped directory (onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx,
 * tokenizer.json, config.json, generation_config.json) whose decoder always says "Hello world café"
 * in two timestamped segments (0-1 s, 1-1.5 s), in English, or in German with `sotPrefers: 'de'`.
 */
export async function writeWhisperTestModel(dir: string, o: { sotPrefers?: 'en' | 'de' } = {}): Promise<string> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const stamps = Array.from({ length: N_TS }, (_, i) => `<|${(i * 0.02).toFixed(2)}|>`);
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: W_VOCAB }, added_tokens: [...W_SPECIAL, ...stamps].map((content, i) => ({ id: 10 + i, content, special: true })) }));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ d_model: 8, decoder_layers: 2, decoder_attention_heads: 2, num_mel_bins: 80, vocab_size: W_SIZE }));
  await writeFile(
    join(dir, 'generation_config.json'),
    JSON.stringify({
      decoder_start_token_id: SOT, eos_token_id: EOT, no_timestamps_token_id: NOTS, is_multilingual: true,
      lang_to_id: { '<|en|>': EN, '<|de|>': DE }, task_to_id: { transcribe: TRANSCRIBE, translate: 14 },
      suppress_tokens: [8], begin_suppress_tokens: [9, EOT], max_length: 448,
    }),
  );
  const table = transitionTable(W_SIZE, {
    [SOT]: { [o.sotPrefers === 'de' ? DE : EN]: 5 },
    [TRANSCRIBE]: { [ts(0)]: 5 },
    [NOTS]: { 0: 5 },
    [ts(0)]: { 0: 5 }, 0: { 1: 5 }, 1: { 2: 5 }, 2: { [ts(1)]: 5, [EOT]: 4 },
    [ts(1)]: { [ts(1)]: 5, 3: 4 }, 3: { 4: 5 }, 4: { 5: 5 }, 5: { [ts(1.5)]: 5, [EOT]: 4 }, [ts(1.5)]: { [EOT]: 5 },
  });
  await writeFile(join(dir, 'onnx', 'encoder_model.onnx'), buildWhisperTestEncoder({ d: 8 }));
  await writeFile(join(dir, 'onnx', 'decoder_model_merged.onnx'), buildMergedDecoderTestModel({ layers: 2, heads: 2, headDim: 4, d: 8, vocab: W_SIZE, table, poison: 8 }));
  return dir;
}

// Moonshine: SentencePiece with byte fallback.
const M_VOCAB: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2, '▁Hello': 3, '▁wor': 4, ld: 5, '▁caf': 6, '<0xC3>': 7, '<0xA9>': 8, '▁': 9, '<0x0A>': 10, '▁a': 11 };
const M_SIZE = 12;

/** A moonshine-tiny-ONNX-shaped directory whose decoder says "Hello world café" for each window. */
export async function writeMoonshineTestModel(dir: string): Promise<string> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const added = [0, 1, 2].map((id) => ({ id, content: Object.keys(M_VOCAB)[id]!, special: true }));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', byte_fallback: true, vocab: M_VOCAB }, added_tokens: added }));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ hidden_size: 8, decoder_num_hidden_layers: 2, decoder_num_attention_heads: 2, decoder_start_token_id: 1, eos_token_id: 2, max_position_embeddings: 194 }));
  await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ decoder_start_token_id: 1, eos_token_id: 2 }));
  const table = transitionTable(M_SIZE, { 1: { 3: 5 }, 3: { 4: 5 }, 4: { 5: 5 }, 5: { 6: 5 }, 6: { 7: 5 }, 7: { 8: 5 }, 8: { 2: 5 } });
  await writeFile(join(dir, 'onnx', 'encoder_model.onnx'), buildMoonshineTestEncoder({ d: 8 }));
  await writeFile(join(dir, 'onnx', 'decoder_model_merged.onnx'), buildMergedDecoderTestModel({ layers: 2, heads: 2, headDim: 4, d: 8, vocab: M_SIZE, table, poison: 10 }));
  return dir;
}

/** Piper's symbol order (pad, bos, eos, punctuation, letters, IPA). */
export const PIPER_TEST_SYMBOLS = [..."_^$ !'(),-.:;?abcdefhijklmnopqrstuvwxyzæçðøħŋœɐɑɒɓɔɕɖɗɘəɚɛɜɞɟɠɡɢɣɤɥɦɧɨɪɫɬɭɮɯɰɱɲɳɴɵɶɸɹɺɻɽɾʀʁʂʃʄʈʉʊʋʌʍʎʏʐʑʒʔʕʘʙʛʜʝʟʡʢʲˈˌːˑ˞βθχᵻⱱ̩̃"];

/**
 * A Piper voice directory: `<name>.onnx` + `<name>.onnx.json` (22.05 kHz, en-us). `samplesPerId`
 * is the audio each phoneme id becomes (256 by default; a real medium voice makes about 1,500-2,500).
 */
export async function writePiperTestVoice(dir: string, name: string, o: { samplesPerId?: number } = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.onnx`), buildPiperTestModel({ vocab: PIPER_TEST_SYMBOLS.length, samplesPerId: o.samplesPerId ?? 256 }));
  const config = {
    audio: { sample_rate: 22050, quality: 'medium' },
    espeak: { voice: 'en-us' },
    inference: { noise_scale: 0.667, length_scale: 1, noise_w: 0.8 },
    phoneme_type: 'espeak',
    phoneme_id_map: Object.fromEntries(PIPER_TEST_SYMBOLS.map((s, i) => [s, [i]])),
    num_speakers: 1,
    speaker_id_map: {},
    language: { code: 'en_US' },
  };
  await writeFile(join(dir, `${name}.onnx.json`), JSON.stringify(config));
  return dir;
}

/** Kokoro's tokenizer symbols ("$" = 0 is the pad). */
export const KOKORO_TEST_SYMBOLS = [...'$;:,.!?¡¿—…"«»“” ʣʥʦʨᵝꭧAIOQSTWYᵊabcdefhijklmnopqrstuvwxyzɑɐɒæβɔɕçɖðʤəɚɛɜɟɡɥɨɪʝɯɰŋɳɲɴøɸθœɹɾɻʁɽʂʃʈʧʊʋʌɣɤχʎʒʔˈˌːʰʲ↓→↗↘ᵻ'];

/** A Kokoro-82M-v1.0-ONNX-shaped directory (onnx/model.onnx, tokenizer.json, voices/af_heart.bin). */
export async function writeKokoroTestModel(dir: string, o: { samplesPerToken?: number } = {}): Promise<string> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await mkdir(join(dir, 'voices'), { recursive: true });
  await writeFile(join(dir, 'onnx', 'model.onnx'), buildKokoroTestModel({ vocab: KOKORO_TEST_SYMBOLS.length, samplesPerToken: o.samplesPerToken ?? 64 }));
  const style = new Float32Array(510 * 256);
  for (let r = 0; r < 510; r++) style.fill(r / 1000, r * 256, (r + 1) * 256);
  await writeFile(join(dir, 'voices', 'af_heart.bin'), new Uint8Array(style.buffer));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0', model: { type: 'WordLevel', vocab: Object.fromEntries(KOKORO_TEST_SYMBOLS.map((s, i) => [s, i])) } }));
  return dir;
}
