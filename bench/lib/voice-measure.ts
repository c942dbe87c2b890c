// Measurements for bench/voice.ts: timed STT and TTS calls on one engine, the fixed synthetic set
// through an engine alone and through VoiceService (VAD + engine), and the VAD's cost.
import { performance } from 'node:perf_hooks';
import type { Audio, EngineInfo, SttEngine, TtsEngine } from '../../voice/engine.js';
import { VoiceService } from '../../voice/service.js';
import { duration } from '../../voice/testing.js';
import type { Vad } from '../../voice/vad.js';
import { wer } from '../../voice/wer.js';

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

/** One voice of the fixed set: each sentence's reference text and its 16 kHz audio. */
export interface SpokenSet {
  readonly voice: string;
  readonly texts: readonly string[];
  readonly clips: readonly Audio[];
}

export interface SetResult {
  readonly voice: string;
  /** Mean of the per-sentence WER (as voice/engines/engines.test.ts computes it). */
  readonly meanWer: number;
  /** Wall-clock time over audio time for the whole set, one sentence after the other. */
  readonly rtf: number;
  readonly worst: readonly { text: string; heard: string; wer: number }[];
}

/** Every sentence of the set, one after the other, through `transcribe`. */
export async function runSet(set: SpokenSet, transcribe: (a: Audio) => Promise<string>): Promise<SetResult> {
  const rows: { text: string; heard: string; wer: number }[] = [];
  let ms = 0;
  for (let i = 0; i < set.clips.length; i++) {
    const r = await timed(() => transcribe(set.clips[i]!));
    ms += r.ms;
    rows.push({ text: set.texts[i]!, heard: r.value, wer: wer(set.texts[i]!, r.value) });
  }
  const audioSec = set.clips.reduce((s, c) => s + duration(c), 0);
  return {
    voice: set.voice,
    meanWer: rows.reduce((s, r) => s + r.wer, 0) / rows.length,
    rtf: ms / 1000 / audioSec,
    worst: rows.filter((r) => r.wer > 0).sort((a, b) => b.wer - a.wer).slice(0, 3),
  };
}

/** A VoiceService around one STT engine and the VAD: what /voice/transcribe and the 5000 skill run. */
export function serviceFor(stt: SttEngine, info: EngineInfo, vad: Vad): VoiceService {
  return new VoiceService({ stt, tts: undefined, all: [{ ...info, kind: 'stt' }], vad: true, detector: vad });
}

export interface SynthTiming {
  readonly totalMs: number;
  /** First chunk of synthesizeStream, else the whole synthesis. */
  readonly firstAudioMs: number;
  readonly audioSec: number;
}

type Streaming = TtsEngine & { synthesizeStream(text: string, o?: { language?: string }): AsyncIterable<Audio> };
const streams = (e: TtsEngine): e is Streaming => typeof (e as Partial<Streaming>).synthesizeStream === 'function';

export const hasStream = (e: TtsEngine): boolean => streams(e);

export async function synthTimed(e: TtsEngine, text: string): Promise<SynthTiming> {
  const t0 = performance.now();
  if (streams(e)) {
    let first: number | undefined;
    let sec = 0;
    for await (const a of e.synthesizeStream(text, { language: 'en' })) {
      first ??= performance.now() - t0;
      sec += duration(a);
    }
    const totalMs = performance.now() - t0;
    return { totalMs, firstAudioMs: first ?? totalMs, audioSec: sec };
  }
  const a = await e.synthesize(text, { language: 'en' });
  const totalMs = performance.now() - t0;
  return { totalMs, firstAudioMs: totalMs, audioSec: duration(a) };
}
