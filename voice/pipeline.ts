// Recognition of a whole recording: VAD cuts it into speech segments (silence dropped, none longer
// than 30 s), the engine transcribes each with its time offset, results come back in order.
// Without a VAD the engine gets the whole audio.
import type { Audio, SttEngine, TranscribeOptions, Transcript, TranscriptSegment } from './engine.js';
import { mapLimit } from './proc.js';
import type { SegmentOptions, Span, Vad } from './vad.js';
import { resample } from './wav.js';

export interface PipelineOptions extends TranscribeOptions {
  readonly vad?: Vad;
  /** Segments transcribed at once (default 1; the Debian engines take 2: one child per core). */
  readonly concurrency?: number;
  readonly segmentation?: SegmentOptions;
}

/** The samples of [start, end) seconds. */
export function slice(a: Audio, span: Span): Audio {
  return { sampleRate: a.sampleRate, samples: a.samples.subarray(Math.max(0, Math.floor(span.start * a.sampleRate)), Math.ceil(span.end * a.sampleRate)) };
}

/** Transcribes audio of any length through the VAD (when given) with one engine. */
export async function transcribeSegmented(engine: SttEngine, audio: Audio, o: PipelineOptions = {}): Promise<Transcript> {
  const a16 = resample(audio, 16_000);
  const duration = a16.samples.length / a16.sampleRate;
  const spans: Span[] = o.vad ? mergeSpans(await o.vad.segments(a16, { maxSegmentSec: 30, ...o.segmentation })) : [{ start: 0, end: duration }];
  o.signal?.throwIfAborted();
  const opts: TranscribeOptions = { ...(o.language ? { language: o.language } : {}), ...(o.signal ? { signal: o.signal } : {}) };
  // Partial text is reported in order, as soon as every earlier segment is done.
  const done: (Transcript | undefined)[] = spans.map(() => undefined);
  let reported = 0;
  const parts = await mapLimit(spans, Math.max(1, o.concurrency ?? 1), async (span, i) => {
    const t = await engine.transcribe(slice(a16, span), opts);
    done[i] = t;
    while (reported < done.length && done[reported]) reported++;
    if (o.onPartial && reported > 0) o.onPartial(joinText(done.slice(0, reported).map((d) => d!.text)));
    return t;
  });
  const segments: TranscriptSegment[] = [];
  parts.forEach((t, i) => segments.push(...offsetSegments(t, spans[i]!)));
  const language = parts.find((p) => p.language)?.language ?? o.language;
  return { text: joinText(parts.map((p) => p.text)), segments, engine: engine.id, ...(language ? { language } : {}) };
}

/**
 * Joins neighbours less than `maxGapSec` apart while the result stays under `maxSec`: every engine
 * call has a fixed cost (PocketSphinx loads its model, ~1 s; Whisper encodes a 30 s window), and a
 * short pause inside a segment costs nothing. Long silences stay cut out.
 */
export function mergeSpans(spans: readonly Span[], o: { maxGapSec?: number; maxSec?: number } = {}): Span[] {
  const gap = o.maxGapSec ?? 1;
  const max = o.maxSec ?? 30;
  const out: Span[] = [];
  for (const s of spans) {
    const prev = out[out.length - 1];
    if (prev && s.start - prev.end <= gap && s.end - prev.start <= max) out[out.length - 1] = { start: prev.start, end: s.end };
    else out.push(s);
  }
  return out;
}

/** An engine's segments moved to the span's place in the whole audio (one segment when it gave none). */
export function offsetSegments(t: Transcript, span: Span): TranscriptSegment[] {
  if (t.segments.length === 0) return t.text.trim() ? [{ start: span.start, end: span.end, text: t.text.trim() }] : [];
  return t.segments.map((s) => ({ start: round(span.start + s.start), end: round(Math.min(span.end, span.start + s.end)), text: s.text }));
}

export const joinText = (texts: readonly string[]): string =>
  texts
    .map((t) => t.trim())
    .filter(Boolean)
    .join(' ');

const round = (x: number): number => Math.round(x * 1000) / 1000;
