// Whisper through onnxruntime-node, on the Hugging Face `onnx-community/whisper-*` exports:
// log-mel (mel.ts) -> encoder_model.onnx -> decoder_model_merged.onnx loop (decoder.ts) -> byte-level
// BPE text (tokenizer.ts). Long audio is cut into windows of at most 30 s (by the VAD segmenter when
// one is given, else fixed), each transcribed on its own and its segment times offset.
import ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { VoiceError, type Audio, type EngineInfo, type SttEngine, type Transcript, type TranscribeOptions, type TranscriptSegment } from '../engine.js';
import { resample } from '../wav.js';
import { logMelSpectrogram, SAMPLE_RATE, CHUNK_SECONDS, N_FRAMES } from './mel.js';
import { WhisperTokenizer, type GenerationConfig } from './tokenizer.js';
import { MergedDecoder, decoderLayout, generate, timestampSegments, whisperRules, type DecoderConfig, type DecoderLayout, type StepInfo } from './decoder.js';

export type Segmenter = (a: Audio) => readonly { start: number; end: number }[];

export interface NeuralSttOptions {
  readonly language?: string;
  /** Beam size; 1 (default) is greedy. */
  readonly beam?: number;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  readonly threads?: number;
  /** Splits long audio at speech boundaries (voice/vad.ts); times in seconds. */
  readonly segmenter?: Segmenter;
  /** Instrumentation: every decoder step and encoder call, with its duration. */
  readonly onStep?: (s: StepInfo) => void;
  readonly onEncode?: (ms: number) => void;
}

export interface WhisperOptions extends NeuralSttOptions {
  /** Predict segment timestamps (default true); false puts <|notimestamps|> in the prompt. */
  readonly timestamps?: boolean;
  /** Cap on sampled tokens per 30 s window (whisper: 224). */
  readonly maxNewTokens?: number;
}

/** The first existing file among the names, in dir/onnx/ (the HF layout) or dir/. */
export function findModelFile(dir: string, names: readonly string[]): string | undefined {
  for (const name of names) for (const p of [join(dir, 'onnx', name), join(dir, name)]) if (existsSync(p)) return p;
  return undefined;
}

export function createSession(path: string, threads?: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  });
}

/** Windows of at most maxSeconds: VAD spans merged while they fit, longer spans cut; else fixed. */
export function audioWindows(a: Audio, maxSeconds: number, segmenter?: Segmenter): { start: number; end: number }[] {
  const total = a.samples.length / a.sampleRate;
  const spans = segmenter ? segmenter(a) : [{ start: 0, end: total }];
  const out: { start: number; end: number }[] = [];
  for (const s of spans) {
    for (let t = Math.max(0, s.start); t < Math.min(total, s.end); t += maxSeconds) {
      const piece = { start: t, end: Math.min(s.end, total, t + maxSeconds) };
      const prev = out[out.length - 1];
      if (segmenter && prev && piece.end - prev.start <= maxSeconds) prev.end = piece.end;
      else out.push(piece);
    }
  }
  return out;
}

export function slice(a: Audio, w: { start: number; end: number }): Float32Array {
  return a.samples.subarray(Math.round(w.start * a.sampleRate), Math.round(w.end * a.sampleRate));
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  return existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as T) : undefined;
}

interface Loaded {
  encoder: ort.InferenceSession;
  decoder: ort.InferenceSession;
  layout: DecoderLayout;
  tokenizer: WhisperTokenizer;
  gen: GenerationConfig;
  nMels: number;
}

export class WhisperEngine implements SttEngine {
  readonly id: string;
  readonly #dir: string;
  readonly #o: WhisperOptions;
  readonly #missing: string[];
  readonly #m: Loaded | undefined;

  private constructor(dir: string, o: WhisperOptions, missing: string[], m?: Loaded) {
    this.#dir = dir;
    this.#o = o;
    this.#missing = missing;
    this.#m = m;
    const base = basename(resolve(dir)).toLowerCase().replace(/^onnx-community[_-]/, '');
    this.id = base.startsWith('whisper') ? base : `whisper-${base}`;
  }

  /** Never throws for missing files: the engine then reports them in info() and refuses to transcribe. */
  static async open(dir: string, o: WhisperOptions = {}): Promise<WhisperEngine> {
    const enc = findModelFile(dir, ['encoder_model.onnx', 'encoder_model_quantized.onnx']);
    const dec = findModelFile(dir, ['decoder_model_merged.onnx', 'decoder_model_merged_quantized.onnx']);
    const missing = [
      ...(enc ? [] : ['onnx/encoder_model.onnx']),
      ...(dec ? [] : ['onnx/decoder_model_merged.onnx']),
      ...(existsSync(join(dir, 'tokenizer.json')) || existsSync(join(dir, 'vocab.json')) ? [] : ['tokenizer.json']),
      ...(existsSync(join(dir, 'config.json')) ? [] : ['config.json']),
    ];
    if (missing.length > 0 || !enc || !dec) return new WhisperEngine(dir, o, missing);
    const config = (await readJson<DecoderConfig & { num_mel_bins?: number }>(join(dir, 'config.json'))) ?? {};
    let gen = (await readJson<GenerationConfig>(join(dir, 'generation_config.json'))) ?? {};
    // English-only checkpoints (whisper-tiny.en) carry language tokens in their vocabulary but were
    // trained without them in the prompt; trust the name when generation_config does not say
    if (gen.is_multilingual === undefined && /\.en$/i.test(basename(resolve(dir)))) gen = { ...gen, is_multilingual: false };
    const [encoder, decoder, tokenizer] = await Promise.all([createSession(enc, o.threads), createSession(dec, o.threads), WhisperTokenizer.fromDir(dir, gen)]);
    const meta = encoder.inputMetadata[0];
    const melDim = meta?.isTensor ? meta.shape[1] : undefined;
    const nMels = typeof melDim === 'number' ? melDim : config.num_mel_bins ?? 80;
    return new WhisperEngine(dir, o, [], { encoder, decoder, layout: decoderLayout(decoder, config), tokenizer, gen, nMels });
  }

  async info(): Promise<EngineInfo> {
    const m = this.#m;
    if (!m) {
      return { id: this.id, family: 'neural', available: false, detail: `missing in ${this.#dir}: ${this.#missing.join(', ')} (see voice/README.md, "Neural engines")` };
    }
    const { layers, heads, headDim } = m.layout;
    return {
      id: this.id,
      family: 'neural',
      available: true,
      detail: `onnxruntime-node CPU: ${m.nMels} mels, decoder ${layers} layers x ${heads} heads x ${headDim}, beam ${this.#o.beam ?? 1}`,
      languages: m.tokenizer.languages.size > 0 ? [...m.tokenizer.languages.keys()] : ['en'],
    };
  }

  async transcribe(audio: Audio, opts: TranscribeOptions = {}): Promise<Transcript> {
    const m = this.#m;
    if (!m) throw new VoiceError(`${this.id} is not installed: missing ${this.#missing.join(', ')}`, 503);
    const a = audio.sampleRate === SAMPLE_RATE ? audio : resample(audio, SAMPLE_RATE);
    const wanted = opts.language ?? this.#o.language;
    let lang: number | undefined;
    if (wanted && m.tokenizer.languages.size > 0) {
      lang = m.tokenizer.languageToken(wanted);
      if (lang === undefined) throw new VoiceError(`${this.id} does not know language "${wanted}"`, 422);
    } else if (wanted && !/^en\b/i.test(wanted)) {
      throw new VoiceError(`${this.id} transcribes English only, not "${wanted}"`, 422);
    }
    const segments: TranscriptSegment[] = [];
    let detected: string | undefined = m.tokenizer.languages.size > 0 ? undefined : 'en';
    for (const w of audioWindows(a, CHUNK_SECONDS, this.#o.segmenter)) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new VoiceError('aborted', 400);
      const hidden = await this.#encode(m, slice(a, w));
      const dec = new MergedDecoder(m.decoder, m.layout, hidden, this.#o.onStep);
      let langId = lang;
      if (langId === undefined && m.tokenizer.languages.size > 0) langId = await this.#detect(m, dec);
      if (langId !== undefined) detected ??= [...m.tokenizer.languages].find(([, id]) => id === langId)?.[0];
      for (const s of await this.#decode(m, dec, langId, w.end - w.start, opts.signal)) {
        const end = Math.min(w.end, w.start + s.end);
        segments.push({ start: Math.min(end, w.start + s.start), end, text: s.text });
      }
      opts.onPartial?.(joinText(segments));
    }
    return { text: joinText(segments), segments, ...(detected ? { language: detected } : {}), engine: this.id };
  }

  async #encode(m: Loaded, samples: Float32Array): Promise<ort.Tensor> {
    const t0 = performance.now();
    const feats = new ort.Tensor('float32', logMelSpectrogram(samples, m.nMels), [1, m.nMels, N_FRAMES]);
    const name = m.encoder.inputNames[0] ?? 'input_features';
    const out = await m.encoder.run({ [name]: feats });
    const hidden = out['last_hidden_state'] ?? out[m.encoder.outputNames[0]!];
    if (!hidden) throw new VoiceError('whisper encoder: the model has no output', 503);
    this.#o.onEncode?.(performance.now() - t0);
    return hidden;
  }

  /** Whisper's language detection: one step from <|startoftranscript|>, best language token wins. */
  async #detect(m: Loaded, dec: MergedDecoder): Promise<number> {
    const { logits } = await dec.step([[m.tokenizer.sot]], undefined, 0);
    const row = logits[0]!;
    let best: number | undefined;
    for (const id of m.tokenizer.languages.values()) if (best === undefined || row[id]! > row[best]!) best = id;
    return best ?? m.tokenizer.languageToken('en')!;
  }

  async #decode(m: Loaded, dec: MergedDecoder, langId: number | undefined, seconds: number, signal?: AbortSignal) {
    const tok = m.tokenizer;
    const timestamps = this.#o.timestamps ?? true;
    const prompt = [tok.sot, ...(langId !== undefined ? [langId, tok.transcribe] : []), ...(timestamps ? [] : [tok.noTimestamps])];
    const maxNewTokens = Math.min(this.#o.maxNewTokens ?? 224, (m.gen.max_length ?? 448) - prompt.length);
    const rules = whisperRules({
      eot: tok.eot,
      timestampBegin: tok.timestampBegin,
      suppress: m.gen.suppress_tokens ?? [],
      beginSuppress: m.gen.begin_suppress_tokens ?? [...tok.blankIds(), tok.eot],
      timestamps,
      ...(m.gen.max_initial_timestamp_index !== undefined ? { maxInitialTimestampIndex: m.gen.max_initial_timestamp_index } : {}),
    });
    const beam = this.#o.beam ?? 1;
    const g = await generate(dec, { prompt, eot: tok.eot, maxNewTokens, beam, processLogits: rules, ...(signal ? { signal } : {}) });
    return timestampSegments(g.tokens, tok.timestampBegin, seconds)
      .map((s) => ({ start: s.start, end: s.end, text: tok.decode(s.tokens).trim() }))
      .filter((s) => s.text.length > 0);
  }

  async close(): Promise<void> {
    await this.#m?.encoder.release();
    await this.#m?.decoder.release();
  }
}

export function joinText(segments: readonly { text: string }[]): string {
  return segments.map((s) => s.text).join(' ').replace(/\s+/g, ' ').trim();
}
