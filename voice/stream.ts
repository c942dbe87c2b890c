// Streaming recognition (the /voice/stream websocket): PCM chunks in, a partial result per finished
// utterance out (the VAD decides where an utterance ends), and a final result on stop. Without a
// VAD, the audio is cut every FIXED_WINDOW_SEC seconds instead.
import { VoiceError, type Audio, type SttEngine, type Transcript, type TranscriptSegment } from './engine.js';
import { joinText, offsetSegments } from './pipeline.js';
import type { Vad, VadStream } from './vad.js';
import { StreamResampler } from './wav.js';

export const FIXED_WINDOW_SEC = 10;

export interface StreamOptions {
  /** Of the pushed PCM (default 16000). */
  readonly sampleRate?: number;
  readonly encoding?: 's16le' | 'f32le';
  readonly language?: string;
  /** Longest audio a session takes (default 10 minutes). */
  readonly maxSeconds?: number;
}

export interface StreamPartial {
  readonly text: string;
  /** Where the utterance is in the stream, seconds. */
  readonly segment: { readonly start: number; readonly end: number };
}

type Segment = { start: number; end: number; audio: Audio };

export class VoiceStream {
  private readonly resampler: StreamResampler;
  private readonly encoding: 's16le' | 'f32le';
  private readonly vadStream: VadStream | undefined;
  private readonly abort = new AbortController();
  private leftover = new Uint8Array(0);
  /** Every step (VAD, engine) runs in order on this chain. */
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private readonly results: Transcript[] = [];
  private readonly spans: { start: number; end: number }[] = [];
  private fixed: Float32Array[] = [];
  private fixedLength = 0;
  private fixedStart = 0;
  private seconds = 0;
  private stopped = false;
  private readonly maxSeconds: number;

  constructor(
    private readonly engine: SttEngine,
    vad: Vad | undefined,
    private readonly o: StreamOptions & { readonly onPartial?: (p: StreamPartial) => void } = {},
  ) {
    const rate = o.sampleRate ?? 16_000;
    if (!Number.isInteger(rate) || rate < 8000 || rate > 192_000) throw new VoiceError(`sampleRate must be an integer from 8000 to 192000, got ${rate}`, 400);
    this.encoding = o.encoding ?? 's16le';
    if (this.encoding !== 's16le' && this.encoding !== 'f32le') throw new VoiceError(`encoding must be s16le or f32le`, 400);
    this.resampler = new StreamResampler(rate, 16_000);
    this.vadStream = vad?.stream({ minSilenceMs: 500, maxSegmentSec: 30 });
    this.maxSeconds = o.maxSeconds ?? 600;
  }

  /** Queues a chunk of PCM bytes (any length; samples may straddle chunks). Throws once the session failed or stopped. */
  push(bytes: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (this.stopped) throw new VoiceError('the stream was stopped', 400);
    const width = this.encoding === 'f32le' ? 4 : 2;
    const all = new Uint8Array(this.leftover.length + bytes.length);
    all.set(this.leftover);
    all.set(bytes, this.leftover.length);
    const usable = all.length - (all.length % width);
    this.leftover = all.slice(usable);
    const view = new DataView(all.buffer, all.byteOffset, usable);
    const samples = new Float32Array(usable / width);
    for (let i = 0; i < samples.length; i++) samples[i] = width === 4 ? view.getFloat32(i * 4, true) : view.getInt16(i * 2, true) / 32768;
    this.seconds += samples.length / (this.o.sampleRate ?? 16_000);
    if (this.seconds > this.maxSeconds) {
      this.fail(new VoiceError(`stream longer than ${Math.round(this.maxSeconds / 60)} minutes`, 400));
      throw this.failure!;
    }
    const s16 = this.resampler.push(samples);
    this.enqueue(() => this.feed(s16));
  }

  /** Ends the input: transcribes what is left and resolves with the whole transcript. */
  async stop(): Promise<Transcript> {
    if (!this.stopped) {
      this.stopped = true;
      const tail = this.resampler.flush();
      this.enqueue(async () => {
        await this.feed(tail);
        const last = this.vadStream ? this.vadStream.flush() : this.cutFixed(true);
        if (last) await this.recognise(last);
      });
    }
    await this.chain;
    if (this.failure) throw this.failure;
    const segments: TranscriptSegment[] = [];
    this.results.forEach((t, i) => segments.push(...offsetSegments(t, this.spans[i]!)));
    const language = this.results.find((r) => r.language)?.language ?? this.o.language;
    return { text: joinText(this.results.map((r) => r.text)), segments, engine: this.engine.id, ...(language ? { language } : {}) };
  }

  /** Stops work in progress (the client went away). */
  close(): void {
    this.stopped = true;
    this.fail(new VoiceError('the stream was closed', 400));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.abort.abort(err);
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await step();
      } catch (err) {
        this.fail(err as Error);
      }
    });
  }

  private async feed(s16: Float32Array): Promise<void> {
    if (s16.length === 0) return;
    if (this.vadStream) {
      for (const seg of await this.vadStream.push(s16)) await this.recognise(seg);
      return;
    }
    this.fixed.push(s16);
    this.fixedLength += s16.length;
    for (let seg = this.cutFixed(false); seg; seg = this.cutFixed(false)) await this.recognise(seg);
  }

  /** Without a VAD: a segment of exactly FIXED_WINDOW_SEC seconds (or what is left, at the end). */
  private cutFixed(final: boolean): Segment | undefined {
    const window = FIXED_WINDOW_SEC * 16_000;
    if (this.fixedLength === 0 || (!final && this.fixedLength < window)) return undefined;
    const all = new Float32Array(this.fixedLength);
    let at = 0;
    for (const p of this.fixed) {
      all.set(p, at);
      at += p.length;
    }
    const samples = final ? all : all.slice(0, window);
    const rest = all.slice(samples.length);
    const start = this.fixedStart / 16_000;
    this.fixedStart += samples.length;
    this.fixed = rest.length > 0 ? [rest] : [];
    this.fixedLength = rest.length;
    return { start, end: this.fixedStart / 16_000, audio: { sampleRate: 16_000, samples } };
  }

  private async recognise(seg: Segment): Promise<void> {
    const t = await this.engine.transcribe(seg.audio, { ...(this.o.language ? { language: this.o.language } : {}), signal: this.abort.signal });
    const span = { start: round(seg.start), end: round(seg.end) };
    this.results.push(t);
    this.spans.push(span);
    if (t.text.trim()) this.o.onPartial?.({ text: t.text.trim(), segment: span });
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
