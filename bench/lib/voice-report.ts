// The figures of bench/voice.ts and their markdown: one table for STT, one for TTS, the VAD, the
// default choice, and the seed targets of the voice issue next to what each engine reaches here.
import type { PhonemizerTiming } from '../../voice/phonemes.js';
import type { Machine } from './report.js';
import { fmtMs } from './util.js';
import type { SetResult, SynthTiming } from './voice-measure.js';

interface Row {
  readonly engine: string;
  readonly family: 'system' | 'neural';
  /** Neural engine on generated test models (random weights): pipeline cost only. */
  readonly generated: boolean;
  readonly available: boolean;
  readonly detail: string;
  readonly openMs?: number;
}

export interface SttRow extends Row {
  readonly coldMs?: number;
  readonly warmMs?: number;
  readonly warmRuns?: readonly number[];
  /** Median time for 0.5 s of silence: what a call costs before any audio. */
  readonly floorMs?: number;
  readonly alone?: readonly SetResult[];
  readonly service?: readonly SetResult[];
  readonly heard5s?: string;
}

export interface TtsRow extends Row {
  readonly streams?: boolean;
  readonly cold?: SynthTiming;
  readonly warmTotalMs?: number;
  readonly warmFirstAudioMs?: number;
  readonly audioSec?: number;
  readonly xRealTime?: number;
  /** Whether an earlier engine had already paid the phonemizer's first load. */
  readonly phonemizerWasWarm?: boolean;
}

export interface VoiceReport {
  readonly machine: Machine;
  readonly loadavg: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly runs: number;
  readonly quick: boolean;
  readonly models: { readonly dir: string; readonly kind: 'real' | 'generated' };
  readonly utterance: { readonly seconds: number; readonly speechSeconds: number };
  readonly ttsText: string;
  readonly sentences: number;
  readonly defaults: {
    readonly noModels: { readonly stt: string | null; readonly tts: string | null };
    readonly withModels: { readonly stt: string | null; readonly tts: string | null; readonly models: string };
  };
  readonly vad: { readonly openMs: number; readonly audioSec: number; readonly coldMsPerSec: number; readonly warmMsPerSec: number };
  readonly phonemizer: PhonemizerTiming;
  readonly stt: readonly SttRow[];
  readonly tts: readonly TtsRow[];
}

const GENERATED = 'generated test models, random weights: pipeline cost only, not a real model\'s speed or accuracy';
const name = (r: Row): string => (r.generated ? `${r.engine} †` : r.engine);
const set = (rs: readonly SetResult[] | undefined, voice: string, generated: boolean): string => {
  const r = rs?.find((x) => x.voice === voice);
  if (!r) return '—';
  return generated ? `— / ${r.rtf.toFixed(2)}` : `${r.meanWer.toFixed(3)} / ${r.rtf.toFixed(2)}`;
};

export function renderVoiceReport(r: VoiceReport): string {
  const m = r.machine;
  const L: string[] = [];
  L.push(`## Voice benchmark, ${m.date}`, '');
  L.push(`${m.cpu}, ${m.nproc} cores, ${m.ramGiB.toFixed(1)} GiB, Node ${m.node}; load average ${r.loadavg.start.map((x) => x.toFixed(1)).join(' ')} at start, ${r.loadavg.end.map((x) => x.toFixed(1)).join(' ')} at the end (shared machine).`);
  L.push(`Neural models: ${r.models.kind === 'generated' ? `† = ${GENERATED}` : `real, from ${r.models.dir}`}.`, '');
  L.push(`**Chosen by default** (selectEngines): without models STT \`${r.defaults.noModels.stt}\`, TTS \`${r.defaults.noModels.tts}\`; with the ${r.defaults.withModels.models} models STT \`${r.defaults.withModels.stt}\`, TTS \`${r.defaults.withModels.tts}\`.`, '');

  L.push(`### Speech-to-text: ${r.utterance.seconds.toFixed(1)} s utterance (${r.utterance.speechSeconds.toFixed(1)} s of flite speech), ${r.sentences} sentences per voice`, '');
  L.push('| engine | open ms | cold ms | warm ms (median of ' + r.runs + ') | warm RTF | < 500 ms | per-call floor ms | flite set: WER / RTF, alone | via VoiceService | espeak-ng set: WER / RTF, alone | via VoiceService |');
  L.push('|---|---:|---:|---:|---:|:-:|---:|---:|---:|---:|---:|');
  for (const s of r.stt) {
    if (!s.available) {
      L.push(`| ${name(s)} | not available: ${s.detail.slice(0, 80)} ||||||||||`);
      continue;
    }
    const rtf = (s.warmMs ?? 0) / 1000 / r.utterance.seconds;
    L.push(`| ${name(s)} | ${fmtMs(s.openMs)} | ${fmtMs(s.coldMs)} | ${fmtMs(s.warmMs)} | ${rtf.toFixed(2)} | ${(s.warmMs ?? Infinity) < 500 ? 'yes' : 'no'} | ${fmtMs(s.floorMs)} | ${set(s.alone, 'flite', s.generated)} | ${set(s.service, 'flite', s.generated)} | ${set(s.alone, 'espeak-ng', s.generated)} | ${set(s.service, 'espeak-ng', s.generated)} |`);
  }
  L.push('', 'Cold = a new engine instance\'s first call (open time apart); per-call floor = 0.5 s of silence (model loading per call, fixed windows); RTF = processing time / audio time (lower is faster); WER = mean per-sentence word error rate; sets run one sentence after the other (VoiceService runs VAD segments of the Debian engines two at a time).', '');

  L.push(`### Text-to-speech: "${r.ttsText}"`, '');
  L.push('| engine | open ms | streams | cold: first audio ms / total ms | warm first audio ms | warm total ms | audio s | × real time | ≥ 5× here |');
  L.push('|---|---:|:-:|---:|---:|---:|---:|---:|:-:|');
  for (const t of r.tts) {
    if (!t.available) {
      L.push(`| ${name(t)} | not available: ${t.detail.slice(0, 80)} ||||||||`);
      continue;
    }
    const cold = t.cold ? `${fmtMs(t.cold.firstAudioMs)} / ${fmtMs(t.cold.totalMs)}` : '—';
    L.push(`| ${name(t)} | ${fmtMs(t.openMs)} | ${t.streams ? 'yes' : 'no'} | ${cold}${t.phonemizerWasWarm === false ? ' (incl. phonemizer load)' : ''} | ${fmtMs(t.warmFirstAudioMs)} | ${fmtMs(t.warmTotalMs)} | ${t.audioSec?.toFixed(2)} | ${t.xRealTime?.toFixed(1)} | ${(t.xRealTime ?? 0) >= 5 ? 'yes' : 'no'} |`);
  }
  L.push('', `Phonemizer (espeak-ng WASM, Piper and Kokoro): first call ${fmtMs(r.phonemizer.firstCallMs)} ms, then ${r.phonemizer.calls > 1 ? fmtMs(r.phonemizer.warmMs / (r.phonemizer.calls - 1)) : 'n/a'} ms per sentence on average.`, '');

  L.push(`### VAD (Silero v5, onnxruntime-node)`, '');
  L.push(`Open ${fmtMs(r.vad.openMs)} ms; ${r.vad.audioSec.toFixed(1)} s of speech and pauses: ${r.vad.coldMsPerSec.toFixed(2)} ms per second of audio cold, ${r.vad.warmMsPerSec.toFixed(2)} warm (median of ${r.runs}).`, '');

  L.push('### Seed targets', '');
  for (const s of r.stt.filter((x) => x.available)) L.push(`- STT < 500 ms for a 5 s utterance (desktop): ${name(s)} ${fmtMs(s.warmMs)} ms warm, ${fmtMs(s.coldMs)} ms cold here${s.generated ? ' (generated model)' : ''}.`);
  for (const t of r.tts.filter((x) => x.available)) L.push(`- TTS ≥ 5× real time (Raspberry Pi 4 class): ${name(t)} ${t.xRealTime?.toFixed(1)}× here, first audio after ${fmtMs(t.warmFirstAudioMs)} ms${t.generated ? ' (generated model)' : ''}.`);
  return L.join('\n');
}
