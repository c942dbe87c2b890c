// Kind 5000, speech-to-text, on the machine's own engines (voice/: Whisper or Moonshine when their
// files are installed, PocketSphinx always) through the VoicePort. Nothing leaves the machine.
//
// Input (5000.md): an `i` of type `url`, http(s) or `data:audio/...;base64,`; the DVM fetches it and
// hands over the bytes with their content type (dvm/inputs.ts). Params: `range` <start> <end> in
// seconds (only that part is transcribed; cue times stay those of the whole file), `alignment`
// raw | segment | word, and `language` (ours, a hint). Output (`output` tag): text/plain (default),
// text/markdown (same as plain) or text/vtt (WebVTT cues from the engine's segments). Units: audio
// minutes.
import { SkillError, type ResolvedInput, type Skill, type SkillContext, type SkillJob, type SkillOutput } from '../../dvm/skill.js';
import type { ParsedJobRequest } from '../../nostr/nip90.js';
import type { Audio, TranscriptSegment } from '../../voice/engine.js';
import { decodeWav, isWav } from '../../voice/wav.js';
import type { VoicePort } from './voice-port.js';

export const STT_KIND = 5000;
export const STT_OUTPUTS = ['text/plain', 'text/markdown', 'text/vtt'] as const;
export const ALIGNMENTS = ['raw', 'segment', 'word'] as const;
export type Alignment = (typeof ALIGNMENTS)[number];

/** A param tag in full (`["param", "range", "300", "360"]`): the DVM's `param()` keeps the first value only. */
function paramValues(job: SkillJob, name: string): string[] | undefined {
  const tags = (job.request as Partial<ParsedJobRequest>).paramTags;
  const t = tags?.find((x) => x[1] === name);
  if (t) return t.slice(2);
  const v = job.param(name);
  return v === undefined ? undefined : [v];
}

export interface Range {
  readonly start: number;
  readonly end: number;
}

/** `range` as seconds; end may be omitted (to the end of the audio). */
export function rangeOf(job: SkillJob): Range | undefined {
  const v = paramValues(job, 'range');
  if (!v) return undefined;
  const [a, b] = v.length === 1 ? (v[0] ?? '').split(/[\s,-]+/) : v;
  const start = Number(a);
  const end = b === undefined || b === '' ? Infinity : Number(b);
  if (!Number.isFinite(start) || start < 0 || Number.isNaN(end) || end <= start) throw new SkillError(`param range must be "<start> <end>" in seconds with start < end, got ${JSON.stringify(v)}`);
  return { start, end };
}

function alignmentOf(job: SkillJob): Alignment | undefined {
  const a = job.param('alignment')?.trim().toLowerCase();
  if (a === undefined || a === '') return undefined;
  if (!(ALIGNMENTS as readonly string[]).includes(a)) throw new SkillError(`param alignment must be one of ${ALIGNMENTS.join(', ')}, got ${JSON.stringify(a)}`);
  return a as Alignment;
}

function outputOf(job: SkillJob): (typeof STT_OUTPUTS)[number] {
  const o = (job.request.output ?? 'text/plain').trim().toLowerCase();
  if (!(STT_OUTPUTS as readonly string[]).includes(o)) throw new SkillError(`output ${o} is not offered for kind 5000: ask for ${STT_OUTPUTS.join(', ')}`);
  return o as (typeof STT_OUTPUTS)[number];
}

/** The audio input: the first input the DVM resolved to media bytes. */
function audioInput(job: SkillJob): ResolvedInput & { bytes: Uint8Array } {
  const i = job.inputs.find((x) => x.bytes && x.bytes.length > 0);
  if (i) return i as ResolvedInput & { bytes: Uint8Array };
  const url = job.inputs.find((x) => x.type === 'url');
  if (url) throw new SkillError(`input ${url.data.slice(0, 80)} is not audio: expected an audio/* (or video/*, application/octet-stream) body or data: URL`);
  throw new SkillError('kind 5000 needs an audio input: an `i` tag of type url (http(s) or data:audio/...;base64,...)');
}

/** Cuts [start, end) seconds out of the audio. */
export function sliceAudio(a: Audio, r: Range): Audio {
  const from = Math.min(a.samples.length, Math.floor(r.start * a.sampleRate));
  const to = Number.isFinite(r.end) ? Math.min(a.samples.length, Math.ceil(r.end * a.sampleRate)) : a.samples.length;
  return { sampleRate: a.sampleRate, samples: a.samples.subarray(from, Math.max(from, to)) };
}

/**
 * Word cues from segment cues. The engines' transcripts carry segment times only, so a word's time
 * is its share of the segment by characters: approximate, but monotonic and inside the segment.
 */
export function wordCues(segments: readonly TranscriptSegment[]): TranscriptSegment[] {
  const out: TranscriptSegment[] = [];
  for (const s of segments) {
    const words = s.text.split(/\s+/).filter(Boolean);
    const chars = words.reduce((n, w) => n + w.length, 0) || 1;
    let t = s.start;
    for (const w of words) {
      const d = ((s.end - s.start) * w.length) / chars;
      out.push({ start: t, end: t + d, text: w });
      t += d;
    }
  }
  return out;
}

/** HH:MM:SS.mmm, as WebVTT wants. */
export function vttTime(sec: number): string {
  const ms = Math.max(0, Math.round(sec * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** A WebVTT file; `-->` in a cue's text would end its timing line early, so it is broken up. */
export function toVtt(cues: readonly TranscriptSegment[]): string {
  const body = cues
    .filter((c) => c.text.trim())
    .map((c, i) => `${i + 1}\n${vttTime(c.start)} --> ${vttTime(Math.max(c.end, c.start + 0.001))}\n${c.text.trim().replace(/-->/g, '->')}`)
    .join('\n\n');
  return `WEBVTT\n\n${body}${body ? '\n' : ''}`;
}

/** Seconds of audio in the request, for the price: from a data: WAV, else the range, else one minute. */
function quotedSeconds(job: SkillJob): number {
  const i = job.inputs.find((x) => x.bytes) ?? job.inputs.find((x) => x.type === 'url');
  let seconds = 60;
  try {
    let bytes = i?.bytes;
    if (!bytes && i && /^data:[^,]*;base64,/i.test(i.data)) bytes = Buffer.from(i.data.slice(i.data.indexOf(',') + 1), 'base64');
    if (bytes && isWav(bytes)) {
      const a = decodeWav(bytes);
      seconds = a.samples.length / a.sampleRate;
    } else if (bytes) seconds = bytes.length / 16_000; // compressed audio: about 128 kbit/s
    const r = rangeOf(job);
    if (r) seconds = Math.min(seconds, r.end - r.start);
  } catch {
    // a bad input is reported when the job runs; the quote stays at one minute
  }
  return seconds;
}

export function sttSkill(voice: VoicePort): Skill {
  return {
    kind: STT_KIND,
    name: 'speech-to-text',
    units: (job) => quotedSeconds(job) / 60,
    async run(job: SkillJob, ctx: SkillContext): Promise<SkillOutput> {
      const output = outputOf(job);
      const alignment = alignmentOf(job) ?? (output === 'text/vtt' ? 'segment' : 'raw');
      const range = rangeOf(job);
      const input = audioInput(job);
      const language = job.param('language')?.trim() || undefined;
      let audio: Audio;
      try {
        audio = await voice.decode(input.bytes, input.contentType ?? input.marker, ctx.signal);
      } catch (err) {
        throw asSkillError(err, 'the audio could not be read');
      }
      const duration = audio.samples.length / audio.sampleRate;
      if (range && range.start >= duration) throw new SkillError(`param range starts at ${range.start} s, but the audio is ${duration.toFixed(1)} s long`);
      const part = range ? sliceAudio(audio, range) : audio;
      ctx.progress(`transcribing ${(part.samples.length / part.sampleRate).toFixed(1)} s of audio`);
      let t;
      try {
        t = await voice.transcribe(part, { signal: ctx.signal, ...(language ? { language } : {}), onPartial: (text) => ctx.progress('transcribing', text) });
      } catch (err) {
        throw asSkillError(err, 'transcription failed');
      }
      const offset = range?.start ?? 0;
      const segments = t.segments.map((s) => ({ start: s.start + offset, end: s.end + offset, text: s.text.trim() }));
      const tags = [['alt', `Transcript of ${duration.toFixed(1)} s of audio (${t.engine})`]];
      if (output === 'text/vtt') {
        const cues = alignment === 'word' ? wordCues(segments) : alignment === 'raw' ? [{ start: offset, end: offset + part.samples.length / part.sampleRate, text: t.text }] : segments;
        return { content: toVtt(cues), tags };
      }
      if (alignment === 'segment') return { content: segments.map((s) => s.text).filter(Boolean).join('\n'), tags };
      return { content: t.text.trim(), tags };
    },
  };
}

/** Errors of the voice layer (VoiceError: unreadable audio, no engine) are the customer's to read. */
function asSkillError(err: unknown, what: string): Error {
  if (err instanceof SkillError) return err;
  const e = err as { name?: unknown; message?: unknown };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return err as Error;
  if (e?.name === 'VoiceError') return new SkillError(`${what}: ${String(e.message)}`);
  return err instanceof Error ? err : new Error(String(err));
}

export { asSkillError };
