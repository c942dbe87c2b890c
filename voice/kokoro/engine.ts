// Kokoro-82M (StyleTTS 2) as exported by onnx-community/Kokoro-82M-v1.0-ONNX, run through
// onnxruntime-node. The directory is the Hugging Face repo's layout:
//   onnx/model.onnx       input_ids int64 [1, n], style float [1, 256], speed float [1] -> waveform [1, samples]
//   voices/<name>.bin     float32 [510, 1, 256]: one style vector per input length
//   tokenizer.json        model.vocab: phoneme character -> id ("$" = 0 is the pad at both ends)
// Text is phonemized by espeak-ng (WASM) the way kokoro.js does it, one sentence at a time; a
// sentence longer than the model's 510 tokens is split at word boundaries.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { collectAudio, VoiceError, type Audio, type EngineInfo, type SynthesizeOptions, type TtsEngine } from '../engine.js';
import { hasSpeech, phonemizeSentence, splitSentences } from '../phonemes.js';

type Ort = typeof import('onnxruntime-node');

export const KOKORO_SAMPLE_RATE = 24000;
export const STYLE_DIM = 256;
/** Tokens per model call, pads excluded (the model has 512 positions). */
export const MAX_TOKENS = 510;

export interface KokoroOpenOptions {
  /** Default voice (file name in voices/ without .bin); default af_heart when present, else the first. */
  readonly voice?: string;
  /** Model file under onnx/: model.onnx (fp32), model_quantized.onnx, model_fp16.onnx, … */
  readonly model?: string;
  readonly threads?: number;
  /** Silence between sentences, seconds. */
  readonly sentenceSilence?: number;
}

export interface KokoroSynthesizeOptions extends SynthesizeOptions {
  /** 1 is normal; 1.2 is 20% faster. */
  readonly speed?: number;
}

/** Parses tokenizer.json's `model.vocab`. */
export function parseKokoroVocab(json: string): Map<string, number> {
  const raw = JSON.parse(json) as { model?: { vocab?: Record<string, unknown> } };
  const vocab = raw.model?.vocab;
  if (!vocab || typeof vocab !== 'object') throw new VoiceError('kokoro: tokenizer.json has no model.vocab', 422);
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(vocab)) if (typeof v === 'number') out.set(k, v);
  return out;
}

/**
 * The post-processing kokoro.js applies to espeak's IPA (Kokoro was trained on misaki's phoneme
 * set, which spells a few of espeak's symbols differently).
 */
export function kokoroPhonemes(ipa: string, espeakVoice: string): string {
  let p = ipa
    .replace(/kəkˈoːɹoʊ/g, 'kˈoʊkəɹoʊ')
    .replace(/kəkˈɔːɹəʊ/g, 'kˈəʊkəɹəʊ')
    .replace(/ʲ/g, 'j')
    .replace(/r/g, 'ɹ')
    .replace(/x/g, 'k')
    .replace(/ɬ/g, 'l')
    .replace(/(?<=[a-zɹː])(?=hˈʌndɹɪd)/g, ' ')
    .replace(/ z(?=[;:,.!?¡¿—…"«»“” ]|$)/g, 'z');
  if (espeakVoice === 'en-us') p = p.replace(/(?<=nˈaɪn)ti(?!ː)/g, 'di');
  return p.trim();
}

/** Phoneme string -> token ids (characters missing from the vocab are dropped, as the tokenizer's normalizer does). */
export function kokoroTokens(phonemes: string, vocab: ReadonlyMap<string, number>): number[] {
  const out: number[] = [];
  for (const ch of phonemes) {
    const id = vocab.get(ch);
    if (id !== undefined) out.push(id);
  }
  return out;
}

/** Splits a phoneme string into pieces of at most max tokens, at the last space (else hard). */
export function chunkPhonemes(phonemes: string, vocab: ReadonlyMap<string, number>, max = MAX_TOKENS): string[] {
  const out: string[] = [];
  let rest = phonemes.trim();
  while (kokoroTokens(rest, vocab).length > max) {
    // Walk characters until max tokens are used; cut at the last space before that point.
    let used = 0;
    let cut = rest.length;
    let lastSpace = -1;
    let i = 0;
    for (const ch of rest) {
      if (ch === ' ') lastSpace = i; // a space right at the limit is the best cut
      if (vocab.has(ch)) used++;
      if (used > max) {
        cut = i;
        break;
      }
      i += ch.length;
    }
    const at = lastSpace > 0 ? lastSpace : cut;
    out.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest) out.push(rest);
  return out;
}

/** The espeak voice from the kokoro naming convention: a = American, b = British English ("en"). */
export function kokoroVoiceLanguage(voice: string): string {
  if (voice.startsWith('a')) return 'en-us';
  if (voice.startsWith('b')) return 'en';
  throw new VoiceError(`kokoro: voice "${voice}" is not English; the WASM phonemizer has English only`, 422);
}

function withLeadingSilence(samples: Float32Array, n: number): Float32Array {
  if (n <= 0) return samples;
  const out = new Float32Array(n + samples.length);
  out.set(samples, n);
  return out;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function listVoices(dir: string): Promise<string[]> {
  try {
    return (await readdir(join(dir, 'voices')))
      .filter((n) => n.endsWith('.bin'))
      .map((n) => n.slice(0, -4))
      .sort();
  } catch {
    return [];
  }
}

async function missingFiles(dir: string, model: string): Promise<string[]> {
  const missing = [];
  if (!(await exists(join(dir, 'onnx', model)))) missing.push(join(dir, 'onnx', model));
  if (!(await exists(join(dir, 'tokenizer.json')))) missing.push(join(dir, 'tokenizer.json'));
  if ((await listVoices(dir)).length === 0) missing.push(join(dir, 'voices', '<name>.bin'));
  return missing;
}

function missingMessage(missing: readonly string[]): string {
  return `kokoro: missing ${missing.join(', ')} (from huggingface.co/onnx-community/Kokoro-82M-v1.0-ONNX)`;
}

export class KokoroEngine implements TtsEngine {
  readonly id = 'kokoro-82m';
  readonly sampleRate = KOKORO_SAMPLE_RATE;
  private readonly styles = new Map<string, Float32Array>();
  private readonly tokensInput: string;

  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    private readonly dir: string,
    private readonly modelFile: string,
    readonly vocab: ReadonlyMap<string, number>,
    readonly voices: readonly string[],
    readonly defaultVoice: string,
    private readonly sentenceSilence: number,
  ) {
    // onnx-community names it input_ids; the kokoro-onnx export names it tokens.
    this.tokensInput = session.inputNames.includes('input_ids') ? 'input_ids' : 'tokens';
  }

  static async probe(dir: string, o: KokoroOpenOptions = {}): Promise<EngineInfo> {
    const missing = await missingFiles(dir, o.model ?? 'model.onnx');
    if (missing.length) return { id: 'kokoro-82m', family: 'neural', available: false, detail: missingMessage(missing) };
    return { id: 'kokoro-82m', family: 'neural', available: true, detail: `${join(dir, 'onnx', o.model ?? 'model.onnx')} (not loaded)` };
  }

  static async open(dir: string, o: KokoroOpenOptions = {}): Promise<KokoroEngine> {
    const model = o.model ?? 'model.onnx';
    const missing = await missingFiles(dir, model);
    if (missing.length) throw new VoiceError(missingMessage(missing), 503);
    const vocab = parseKokoroVocab(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    const voices = await listVoices(dir);
    const defaultVoice = o.voice ?? (voices.includes('af_heart') ? 'af_heart' : voices[0]!);
    if (!voices.includes(defaultVoice)) throw new VoiceError(`kokoro: no voice "${defaultVoice}" in ${join(dir, 'voices')} (${voices.join(', ')})`, 400);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(join(dir, 'onnx', model), {
      intraOpNumThreads: o.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    for (const name of ['style', 'speed', session.inputNames.includes('tokens') ? 'tokens' : 'input_ids']) {
      if (!session.inputNames.includes(name)) {
        await session.release();
        throw new VoiceError(`kokoro: ${model} has no input "${name}" (inputs: ${session.inputNames.join(', ')})`, 422);
      }
    }
    return new KokoroEngine(ort, session, dir, model, vocab, voices, defaultVoice, o.sentenceSilence ?? 0.1);
  }

  async info(): Promise<EngineInfo> {
    const missing = await missingFiles(this.dir, this.modelFile);
    if (missing.length) return { id: this.id, family: 'neural', available: false, detail: missingMessage(missing) };
    return {
      id: this.id,
      family: 'neural',
      available: true,
      detail: `${join(this.dir, 'onnx', this.modelFile)} (${this.voices.length} voices, ${KOKORO_SAMPLE_RATE} Hz, onnxruntime CPU)`,
      languages: [...new Set(this.voices.filter((v) => /^[ab]/.test(v)).map((v) => (v.startsWith('a') ? 'en-US' : 'en-GB')))],
    };
  }

  async synthesize(text: string, opts: KokoroSynthesizeOptions = {}): Promise<Audio> {
    return collectAudio(this.synthesizeStream(text, opts), KOKORO_SAMPLE_RATE);
  }

  /**
   * One Audio per chunk (a sentence, or a piece of a very long one), each after the first led by
   * the sentence silence. Sentences are phonemized when their turn comes; the signal is checked
   * before each chunk.
   */
  async *synthesizeStream(text: string, opts: KokoroSynthesizeOptions = {}): AsyncIterable<Audio> {
    const voice = opts.voice ?? this.defaultVoice;
    if (!this.voices.includes(voice)) throw new VoiceError(`kokoro: no voice "${voice}" (${this.voices.join(', ')})`, 400);
    const lang = kokoroVoiceLanguage(voice);
    const silence = Math.round(this.sentenceSilence * KOKORO_SAMPLE_RATE);
    let first = true;
    for (const sentence of splitSentences(text)) {
      opts.signal?.throwIfAborted();
      for (const chunk of await this.sentenceChunks(sentence, lang)) {
        opts.signal?.throwIfAborted();
        const audio = await this.infer(chunk, voice, opts.speed ?? 1);
        yield { sampleRate: KOKORO_SAMPLE_RATE, samples: first ? audio : withLeadingSilence(audio, silence) };
        first = false;
      }
    }
  }

  /** The token id lists the model will be called with for this text (one per chunk), pads excluded. */
  async tokenize(text: string, voice = this.defaultVoice): Promise<number[][]> {
    return (await this.chunks(text, kokoroVoiceLanguage(voice))).map((c) => kokoroTokens(c, this.vocab));
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private async chunks(text: string, lang: string): Promise<string[]> {
    const out: string[] = [];
    for (const s of splitSentences(text)) out.push(...(await this.sentenceChunks(s, lang)));
    return out;
  }

  private async sentenceChunks(sentence: string, lang: string): Promise<string[]> {
    const ipa = await phonemizeSentence(sentence, lang);
    if (!hasSpeech(ipa)) return [];
    return chunkPhonemes(kokoroPhonemes(ipa, lang), this.vocab).filter((c) => kokoroTokens(c, this.vocab).length > 0);
  }

  /** voices/<name>.bin, read once: rows of 256 floats, row i for an input of i tokens. */
  private async style(voice: string): Promise<Float32Array> {
    let s = this.styles.get(voice);
    if (!s) {
      const buf = await readFile(join(this.dir, 'voices', `${voice}.bin`));
      if (buf.byteLength === 0 || buf.byteLength % (STYLE_DIM * 4) !== 0) {
        throw new VoiceError(`kokoro: voices/${voice}.bin is ${buf.byteLength} bytes, not float32 rows of ${STYLE_DIM}`, 422);
      }
      // Copy into an aligned buffer (a Buffer's offset in its pool need not be a multiple of 4).
      s = new Float32Array(buf.byteLength / 4);
      new Uint8Array(s.buffer).set(buf);
      this.styles.set(voice, s);
    }
    return s;
  }

  private async infer(phonemes: string, voice: string, speed: number): Promise<Float32Array> {
    const tokens = kokoroTokens(phonemes, this.vocab);
    const pad = this.vocab.get('$') ?? 0;
    const ids = [pad, ...tokens, pad];
    const styles = await this.style(voice);
    const rows = styles.length / STYLE_DIM;
    // As kokoro.js: the style row is the token count (pads excluded), clamped to the table.
    const row = Math.min(tokens.length, rows - 1);
    const { Tensor } = this.ort;
    const feeds: Record<string, Tensor> = {
      [this.tokensInput]: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      style: new Tensor('float32', styles.slice(row * STYLE_DIM, (row + 1) * STYLE_DIM), [1, STYLE_DIM]),
      speed: new Tensor('float32', Float32Array.from([speed]), [1]),
    };
    const out = await this.session.run(feeds);
    const t = out['waveform'] ?? out[this.session.outputNames[0] ?? ''];
    if (!t || t.type !== 'float32') throw new VoiceError('kokoro: the model gave no float waveform', 422);
    const samples = Float32Array.from(t.data as Float32Array);
    for (const v of Object.values(out)) v.dispose();
    return samples;
  }
}
