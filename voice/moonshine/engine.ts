// Moonshine (Useful Sensors) through onnxruntime-node, on the `onnx-community/moonshine-*-ONNX`
// exports: raw 16 kHz samples go straight into encoder_model.onnx (no mel front end; its encoder
// length follows the audio length), then the same merged-decoder loop as Whisper with [bos] as the
// prompt and no timestamps. Its tokenizer is a byte-fallback SentencePiece BPE: "▁" is a space and
// <0xNN> tokens are raw bytes, joined before UTF-8 decoding.
import ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { VoiceError, type Audio, type EngineInfo, type SttEngine, type Transcript, type TranscribeOptions, type TranscriptSegment } from '../engine.js';
import { resample } from '../wav.js';
import { MergedDecoder, decoderLayout, generate, type DecoderConfig, type DecoderLayout } from '../whisper/decoder.js';
import { audioWindows, createSession, findModelFile, joinText, readJson, slice, type NeuralSttOptions } from '../whisper/engine.js';
import type { TokenizerJson } from '../whisper/tokenizer.js';

const RATE = 16000;
/** Moonshine speaks about this many tokens per second; HF caps generation with it. */
const TOKENS_PER_SECOND = 6.5;
const WINDOW_SECONDS = 30;

export class MoonshineTokenizer {
  readonly #tokens = new Map<number, string>();
  readonly #special = new Set<number>();

  constructor(tj: TokenizerJson) {
    for (const [tok, id] of Object.entries(tj.model?.vocab ?? {})) this.#tokens.set(id, tok);
    for (const a of tj.added_tokens ?? []) {
      this.#tokens.set(a.id, a.content);
      if (a.special !== false) this.#special.add(a.id);
    }
  }

  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    const enc = new TextEncoder();
    for (const id of ids) {
      if (this.#special.has(id)) continue;
      const tok = this.#tokens.get(id);
      if (tok === undefined) continue;
      const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(tok);
      if (byte) bytes.push(parseInt(byte[1]!, 16));
      else bytes.push(...enc.encode(tok.replaceAll('▁', ' ')));
    }
    // SentencePiece's decoder strips the one space that "▁" puts before the first word
    return new TextDecoder().decode(Uint8Array.from(bytes)).replace(/^ /, '');
  }
}

interface MoonshineConfig extends DecoderConfig {
  decoder_start_token_id?: number;
  bos_token_id?: number;
  eos_token_id?: number;
  max_position_embeddings?: number;
}

interface Loaded {
  encoder: ort.InferenceSession;
  decoder: ort.InferenceSession;
  layout: DecoderLayout;
  tokenizer: MoonshineTokenizer;
  bos: number;
  eos: number;
  maxLength: number;
}

export class MoonshineEngine implements SttEngine {
  readonly id: string;
  readonly #dir: string;
  readonly #o: NeuralSttOptions;
  readonly #missing: string[];
  readonly #m: Loaded | undefined;

  private constructor(dir: string, o: NeuralSttOptions, missing: string[], m?: Loaded) {
    this.#dir = dir;
    this.#o = o;
    this.#missing = missing;
    this.#m = m;
    const base = basename(resolve(dir)).toLowerCase().replace(/^onnx-community[_-]/, '').replace(/-onnx$/, '');
    this.id = base.startsWith('moonshine') ? base : `moonshine-${base}`;
  }

  /** Never throws for missing files: info() names them and transcribe() answers 503. */
  static async open(dir: string, o: NeuralSttOptions = {}): Promise<MoonshineEngine> {
    const enc = findModelFile(dir, ['encoder_model.onnx', 'encoder_model_quantized.onnx']);
    const dec = findModelFile(dir, ['decoder_model_merged.onnx', 'decoder_model_merged_quantized.onnx']);
    const missing = [
      ...(enc ? [] : ['onnx/encoder_model.onnx']),
      ...(dec ? [] : ['onnx/decoder_model_merged.onnx']),
      ...(existsSync(join(dir, 'tokenizer.json')) ? [] : ['tokenizer.json']),
      ...(existsSync(join(dir, 'config.json')) ? [] : ['config.json']),
    ];
    if (missing.length > 0 || !enc || !dec) return new MoonshineEngine(dir, o, missing);
    const config = (await readJson<MoonshineConfig>(join(dir, 'config.json'))) ?? {};
    const gen = (await readJson<MoonshineConfig>(join(dir, 'generation_config.json'))) ?? {};
    const tj = (await readJson<TokenizerJson>(join(dir, 'tokenizer.json'))) ?? {};
    const [encoder, decoder] = await Promise.all([createSession(enc, o.threads), createSession(dec, o.threads)]);
    return new MoonshineEngine(dir, o, [], {
      encoder,
      decoder,
      layout: decoderLayout(decoder, config),
      tokenizer: new MoonshineTokenizer(tj),
      bos: gen.decoder_start_token_id ?? config.decoder_start_token_id ?? config.bos_token_id ?? 1,
      eos: gen.eos_token_id ?? config.eos_token_id ?? 2,
      maxLength: config.max_position_embeddings ?? 194,
    });
  }

  async info(): Promise<EngineInfo> {
    const m = this.#m;
    if (!m) return { id: this.id, family: 'neural', available: false, detail: `missing in ${this.#dir}: ${this.#missing.join(', ')} (see voice/README.md, "Neural engines")` };
    const { layers, heads, headDim } = m.layout;
    return { id: this.id, family: 'neural', available: true, detail: `onnxruntime-node CPU: decoder ${layers} layers x ${heads} heads x ${headDim}, beam ${this.#o.beam ?? 1}`, languages: ['en'] };
  }

  async transcribe(audio: Audio, opts: TranscribeOptions = {}): Promise<Transcript> {
    const m = this.#m;
    if (!m) throw new VoiceError(`${this.id} is not installed: missing ${this.#missing.join(', ')}`, 503);
    const lang = opts.language ?? this.#o.language;
    if (lang && !/^en\b/i.test(lang)) throw new VoiceError(`${this.id} transcribes English only, not "${lang}"`, 422);
    const a = audio.sampleRate === RATE ? audio : resample(audio, RATE);
    const segments: TranscriptSegment[] = [];
    for (const w of audioWindows(a, WINDOW_SECONDS, this.#o.segmenter)) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new VoiceError('aborted', 400);
      const samples = slice(a, w);
      if (samples.length < RATE / 10) continue; // under 0.1 s the encoder's convolutions have nothing to see
      const hidden = await this.#encode(m, samples);
      const dec = new MergedDecoder(m.decoder, m.layout, hidden, this.#o.onStep);
      const maxNewTokens = Math.min(m.maxLength - 1, Math.max(4, Math.ceil((samples.length / RATE) * TOKENS_PER_SECOND)));
      const g = await generate(dec, { prompt: [m.bos], eot: m.eos, maxNewTokens, beam: this.#o.beam ?? 1, ...(opts.signal ? { signal: opts.signal } : {}) });
      const text = m.tokenizer.decode(g.tokens).trim();
      if (text) segments.push({ start: w.start, end: w.end, text });
      opts.onPartial?.(joinText(segments));
    }
    return { text: joinText(segments), segments, language: 'en', engine: this.id };
  }

  async #encode(m: Loaded, samples: Float32Array): Promise<ort.Tensor> {
    const t0 = performance.now();
    const feeds: Record<string, ort.Tensor> = { input_values: new ort.Tensor('float32', Float32Array.from(samples), [1, samples.length]) };
    if (m.encoder.inputNames.includes('attention_mask')) feeds['attention_mask'] = new ort.Tensor('int64', new BigInt64Array(samples.length).fill(1n), [1, samples.length]);
    const out = await m.encoder.run(feeds);
    const hidden = out['last_hidden_state'] ?? out[m.encoder.outputNames[0]!];
    if (!hidden) throw new VoiceError('moonshine encoder: the model has no output', 503);
    this.#o.onEncode?.(performance.now() - t0);
    return hidden;
  }

  async close(): Promise<void> {
    await this.#m?.encoder.release();
    await this.#m?.decoder.release();
  }
}
