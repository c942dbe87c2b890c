// The autoregressive loop over a Hugging Face "merged" decoder export (decoder_model_merged.onnx),
// shared by Whisper and Moonshine: one graph with both branches, picked by `use_cache_branch`.
// Step one feeds the whole prompt with an empty past (past_seq 0) and branch false; every later step
// feeds only the last token, the decoder presents of the previous step, and the ENCODER presents of
// step one (the cache branch returns placeholders for those, as optimum exports them). Greedy and
// beam search follow openai/whisper decoding.py (beam: top beam+1 per source, rank by logprob/length).
import ort from 'onnxruntime-node';
import { VoiceError } from '../engine.js';

type Session = ort.InferenceSession;
type Tensor = ort.Tensor;

export interface DecoderLayout {
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
}

/** Model config keys that name the decoder's shape across Whisper and Moonshine config.json files. */
export interface DecoderConfig {
  decoder_layers?: number;
  decoder_num_hidden_layers?: number;
  num_hidden_layers?: number;
  decoder_attention_heads?: number;
  decoder_num_attention_heads?: number;
  decoder_num_key_value_heads?: number;
  num_key_value_heads?: number;
  num_attention_heads?: number;
  d_model?: number;
  hidden_size?: number;
}

/** Layers from the past_key_values inputs; heads and head_dim from their shapes, else config.json. */
export function decoderLayout(session: Session, config: DecoderConfig = {}): DecoderLayout {
  const past = session.inputNames.filter((n) => /^past_key_values\.\d+\.decoder\.key$/.test(n));
  const layers = past.length || (config.decoder_layers ?? config.decoder_num_hidden_layers ?? config.num_hidden_layers ?? 0);
  const meta = session.inputMetadata.find((m) => m.name === 'past_key_values.0.decoder.key');
  const shape = meta && meta.isTensor ? meta.shape : [];
  const heads = typeof shape[1] === 'number' ? shape[1]
    : config.decoder_num_key_value_heads ?? config.num_key_value_heads ?? config.decoder_attention_heads ?? config.decoder_num_attention_heads ?? config.num_attention_heads;
  const hidden = config.d_model ?? config.hidden_size;
  const attnHeads = config.decoder_attention_heads ?? config.decoder_num_attention_heads ?? config.num_attention_heads ?? heads;
  const headDim = typeof shape[3] === 'number' ? shape[3] : hidden !== undefined && attnHeads ? hidden / attnHeads : undefined;
  if (!layers || !heads || !headDim) throw new VoiceError('decoder: cannot tell layers/heads/head_dim from the model inputs or config.json', 503);
  return { layers, heads, headDim };
}

interface Cache {
  readonly batch: number;
  readonly pastLength: number;
  /** past input name -> tensor [batch, heads, past, headDim] */
  readonly self: Map<string, Tensor>;
}

export interface StepInfo {
  readonly step: number;
  readonly batch: number;
  /** Decoder self-attention length after the step (dim 2 of present.*.decoder.key). */
  readonly pastLength: number;
  readonly encoderLength: number;
  readonly ms: number;
}

/** Rows of [batch, ...rest] copied by source index: the cache reorder after a beam step, or tiling. */
function gatherBatch(t: Tensor, sources: readonly number[]): Tensor {
  const row = t.size / t.dims[0]!;
  const src = t.data as Float32Array;
  const out = new Float32Array(row * sources.length);
  sources.forEach((s, i) => out.set(src.subarray(s * row, (s + 1) * row), i * row));
  return new ort.Tensor('float32', out, [sources.length, ...t.dims.slice(1)]);
}

const identity = (s: readonly number[], n: number) => s.length === n && s.every((v, i) => v === i);

/** One decoder session with the encoder output of one utterance; it owns the KV cache tensors. */
export class MergedDecoder {
  readonly layout: DecoderLayout;
  #encoderOne: Map<string, Tensor> | undefined;
  #tiled = new Map<number, { hidden: Tensor; kv: Map<string, Tensor> }>();

  constructor(readonly session: Session, layout: DecoderLayout, readonly encoderHidden: Tensor, readonly onStep?: (s: StepInfo) => void) {
    this.layout = layout;
  }

  #names(i: number, kind: 'decoder' | 'encoder', kv: 'key' | 'value') {
    return { past: `past_key_values.${i}.${kind}.${kv}`, present: `present.${i}.${kind}.${kv}` };
  }

  #atBatch(batch: number) {
    let t = this.#tiled.get(batch);
    if (!t) {
      const zeros = new Array<number>(batch).fill(0);
      const kv = new Map<string, Tensor>();
      for (const [k, v] of this.#encoderOne ?? []) kv.set(k, batch === 1 ? v : gatherBatch(v, zeros));
      t = { hidden: batch === 1 ? this.encoderHidden : gatherBatch(this.encoderHidden, zeros), kv };
      if (this.#encoderOne) this.#tiled.set(batch, t);
    }
    return t;
  }

  /** Runs one step; returns the last-position logits per batch row and the grown cache. */
  async step(ids: readonly (readonly number[])[], cache: Cache | undefined, step: number): Promise<{ logits: Float32Array[]; cache: Cache }> {
    const batch = ids.length, seq = ids[0]!.length;
    const { layers, heads, headDim } = this.layout;
    const t0 = performance.now();
    const at = this.#atBatch(batch);
    const feeds: Record<string, Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.flat(), (x) => BigInt(x)), [batch, seq]),
      encoder_hidden_states: at.hidden,
    };
    const empty = new ort.Tensor('float32', new Float32Array(0), [batch, heads, 0, headDim]);
    for (let i = 0; i < layers; i++) {
      for (const kv of ['key', 'value'] as const) {
        const d = this.#names(i, 'decoder', kv).past, e = this.#names(i, 'encoder', kv).past;
        feeds[d] = cache?.self.get(d) ?? empty;
        // the first step of every generation computes the encoder cache afresh, even after a detection step
        feeds[e] = (cache && at.kv.get(e)) || empty;
      }
    }
    const inputs = new Set(this.session.inputNames);
    if (inputs.has('use_cache_branch')) feeds['use_cache_branch'] = new ort.Tensor('bool', Uint8Array.of(cache ? 1 : 0), [1]);
    const past = cache?.pastLength ?? 0;
    if (inputs.has('attention_mask')) feeds['attention_mask'] = new ort.Tensor('int64', new BigInt64Array(batch * (past + seq)).fill(1n), [batch, past + seq]);
    if (inputs.has('encoder_attention_mask')) {
      const encLen = at.hidden.dims[1]!;
      feeds['encoder_attention_mask'] = new ort.Tensor('int64', new BigInt64Array(batch * encLen).fill(1n), [batch, encLen]);
    }
    if (inputs.has('position_ids')) {
      feeds['position_ids'] = new ort.Tensor('int64', BigInt64Array.from({ length: batch * seq }, (_, j) => BigInt(past + (j % seq))), [batch, seq]);
    }
    for (const k of Object.keys(feeds)) if (!inputs.has(k)) delete feeds[k];
    const out = await this.session.run(feeds);
    const self = new Map<string, Tensor>();
    const encoderOne = new Map<string, Tensor>();
    for (let i = 0; i < layers; i++) {
      for (const kv of ['key', 'value'] as const) {
        const d = this.#names(i, 'decoder', kv), e = this.#names(i, 'encoder', kv);
        const pd = out[d.present];
        if (!pd) throw new VoiceError(`decoder: model has no output ${d.present}`, 503);
        self.set(d.past, pd);
        const pe = out[e.present];
        if (!cache && pe) encoderOne.set(e.past, pe.dims[0] === 1 ? pe : gatherBatch(pe, [0]));
      }
    }
    if (!cache) {
      this.#encoderOne = encoderOne;
      this.#tiled.clear();
    }
    const logitsT = out['logits'];
    if (!logitsT) throw new VoiceError('decoder: model has no logits output', 503);
    const [, lseq, vocab] = logitsT.dims as [number, number, number];
    const data = logitsT.data as Float32Array;
    const logits = Array.from({ length: batch }, (_, b) => data.slice((b * lseq + lseq - 1) * vocab, (b * lseq + lseq) * vocab));
    const pastLength = self.get('past_key_values.0.decoder.key')!.dims[2]!;
    const encoderLength = encoderOne.get('past_key_values.0.encoder.key')?.dims[2] ?? this.#encoderOne?.get('past_key_values.0.encoder.key')?.dims[2] ?? 0;
    this.onStep?.({ step, batch, pastLength, encoderLength, ms: performance.now() - t0 });
    return { logits, cache: { batch, pastLength, self } };
  }

  /** The cache reordered to follow the surviving beams. */
  reorder(cache: Cache, sources: readonly number[]): Cache {
    if (identity(sources, cache.batch)) return cache;
    const self = new Map<string, Tensor>();
    for (const [k, v] of cache.self) self.set(k, gatherBatch(v, sources));
    return { batch: sources.length, pastLength: cache.pastLength, self };
  }
}

export function logSoftmax(x: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return x.map((v) => v - lse);
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

function topk(x: Float32Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (x[i] === -Infinity) continue;
    if (idx.length < k) idx.push(i);
    else if (x[i]! > x[idx[k - 1]!]!) idx[k - 1] = i;
    else continue;
    idx.sort((a, b) => x[b]! - x[a]!);
  }
  return idx;
}

export interface GenerateOptions {
  /** The forced prefix: [sot, lang, task, (notimestamps)] for Whisper, [bos] for Moonshine. */
  readonly prompt: readonly number[];
  readonly eot: number;
  /** Maximum number of tokens sampled after the prompt. */
  readonly maxNewTokens: number;
  /** 1 = greedy. */
  readonly beam?: number;
  /** Edits one row of logits in place (suppress tokens, timestamp rules); `sampled` excludes the prompt. */
  readonly processLogits?: (logits: Float32Array, sampled: readonly number[]) => void;
  readonly signal?: AbortSignal;
}

export interface Generated {
  /** The sampled tokens without the prompt and without the end token. */
  readonly tokens: number[];
  readonly logprob: number;
  /** True when it ended on the end token, false when cut at maxNewTokens. */
  readonly finished: boolean;
}

/** Runs the decoding loop to <|endoftext|> or maxNewTokens. */
export async function generate(dec: MergedDecoder, o: GenerateOptions): Promise<Generated> {
  const beamSize = Math.max(1, o.beam ?? 1);
  let r = await dec.step([o.prompt], undefined, 0);
  let cache = r.cache;
  let beams: { tokens: number[]; logp: number }[] = [{ tokens: [], logp: 0 }];
  const finished: { tokens: number[]; logp: number; ended: boolean }[] = [];
  for (let step = 1; step <= o.maxNewTokens; step++) {
    if (o.signal?.aborted) throw o.signal.reason ?? new VoiceError('aborted', 400);
    const cands: { tokens: number[]; logp: number; src: number; tok: number }[] = [];
    beams.forEach((b, i) => {
      const row = r.logits[i]!;
      o.processLogits?.(row, b.tokens);
      const lp = logSoftmax(row);
      const picks = beamSize === 1 ? [argmax(lp)] : topk(lp, beamSize + 1);
      for (const tok of picks) cands.push({ tokens: [...b.tokens, tok], logp: b.logp + lp[tok]!, src: i, tok });
    });
    cands.sort((a, b) => b.logp - a.logp);
    const next: typeof cands = [];
    for (const c of cands) {
      if (c.tok === o.eot) {
        if (finished.length < beamSize) finished.push({ tokens: c.tokens.slice(0, -1), logp: c.logp, ended: true });
      } else next.push(c);
      if (next.length === beamSize) break;
    }
    if (finished.length >= beamSize || next.length === 0 || step === o.maxNewTokens) {
      if (finished.length === 0 || (step === o.maxNewTokens && finished.length < beamSize)) {
        for (const c of next) if (finished.length < beamSize) finished.push({ tokens: c.tokens, logp: c.logp, ended: false });
      }
      break;
    }
    beams = next.map((c) => ({ tokens: c.tokens, logp: c.logp }));
    cache = dec.reorder(cache, next.map((c) => c.src));
    r = await dec.step(next.map((c) => [c.tok]), cache, step);
    cache = r.cache;
  }
  // openai/whisper MaximumLikelihoodRanker with length_penalty=None: logprob / length
  const score = (c: { tokens: number[]; logp: number }) => c.logp / Math.max(1, c.tokens.length);
  finished.sort((a, b) => score(b) - score(a));
  const best = finished[0] ?? { tokens: [], logp: 0, ended: false };
  return { tokens: best.tokens, logprob: best.logp, finished: best.ended };
}

export interface WhisperRules {
  readonly eot: number;
  readonly timestampBegin: number;
  /** Ids never sampled (generation_config suppress_tokens); the other special tokens are added. */
  readonly suppress?: readonly number[];
  /** Ids suppressed only as the first sampled token (a lone space, eot). */
  readonly beginSuppress?: readonly number[];
  readonly timestamps: boolean;
  /** Latest allowed first timestamp, in 0.02 s steps (whisper: 1.0 s = 50). */
  readonly maxInitialTimestampIndex?: number;
}

/** Whisper's logit filters: SuppressTokens, SuppressBlank and ApplyTimestampRules from decoding.py. */
export function whisperRules(r: WhisperRules): (logits: Float32Array, sampled: readonly number[]) => void {
  const tb = r.timestampBegin, eot = r.eot;
  const maxInit = r.maxInitialTimestampIndex ?? 50;
  return (logits, sampled) => {
    for (const id of r.suppress ?? []) if (id < logits.length) logits[id] = -Infinity;
    // every special between eot and the timestamps (sot, languages, tasks, notimestamps) is prompt-only
    for (let id = eot + 1; id < Math.min(tb, logits.length); id++) logits[id] = -Infinity;
    if (sampled.length === 0) for (const id of r.beginSuppress ?? []) if (id < logits.length) logits[id] = -Infinity;
    if (!r.timestamps) {
      logits.fill(-Infinity, tb);
      return;
    }
    const n = sampled.length;
    const last = n >= 1 && sampled[n - 1]! >= tb;
    const penultimate = n < 2 || sampled[n - 2]! >= tb;
    if (last) {
      if (penultimate) logits.fill(-Infinity, tb); // a pair just closed: text or eot next
      else logits.fill(-Infinity, 0, eot); // a segment end: another timestamp or eot
    }
    const stamps = sampled.filter((t) => t >= tb);
    if (stamps.length > 0) {
      // monotonic, and each segment must have a nonzero length
      const lastStamp = stamps[stamps.length - 1]!;
      logits.fill(-Infinity, tb, last && !penultimate ? lastStamp : lastStamp + 1);
    }
    if (n === 0) {
      logits.fill(-Infinity, 0, tb); // start with a timestamp
      logits.fill(-Infinity, tb + maxInit + 1);
    }
    // if the timestamps together are likelier than any single text token, force a timestamp
    const lp = logSoftmax(logits);
    let maxText = -Infinity, sumTs = 0, maxTs = -Infinity;
    for (let i = 0; i < tb && i < lp.length; i++) if (lp[i]! > maxText) maxText = lp[i]!;
    for (let i = tb; i < lp.length; i++) if (lp[i]! > maxTs) maxTs = lp[i]!;
    if (maxTs > -Infinity) {
      for (let i = tb; i < lp.length; i++) sumTs += Math.exp(lp[i]! - maxTs);
      if (maxTs + Math.log(sumTs) > maxText) logits.fill(-Infinity, 0, tb);
    }
  };
}

export interface TokenSegment {
  readonly start: number;
  readonly end: number;
  readonly tokens: number[];
}

/**
 * Splits sampled tokens at timestamp tokens into segments (seconds from the window start), as
 * whisper's transcribe loop does; text without timestamps becomes one segment of the whole window.
 */
export function timestampSegments(tokens: readonly number[], timestampBegin: number, windowSeconds: number, precision = 0.02): TokenSegment[] {
  const sec = (t: number) => Math.round((t - timestampBegin) * precision * 100) / 100;
  const segs: TokenSegment[] = [];
  let start: number | undefined;
  let text: number[] = [];
  for (const t of tokens) {
    if (t < timestampBegin) {
      text.push(t);
      continue;
    }
    if (start === undefined || text.length === 0) {
      start = sec(t);
      continue;
    }
    segs.push({ start, end: sec(t), tokens: text });
    start = undefined;
    text = [];
  }
  if (text.length > 0) segs.push({ start: start ?? 0, end: Math.max(start ?? 0, windowSeconds), tokens: text });
  return segs;
}
