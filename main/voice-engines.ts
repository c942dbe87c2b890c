// The neural speech engines of this instance, wired in one place (composition root): every catalog
// model of engine whisper, moonshine, piper or kokoro whose directory exists under
// <dataDir>/models/ (`timmy models install`) is opened. A directory with missing or broken files
// still yields an engine, one whose info() says `available: false` and why, so `timmy voice info`
// shows what to fix; selectEngines then passes over it. Order is the catalog's (best first).
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { VoiceError, type Audio, type EngineInfo, type SttEngine, type Transcript, type TtsEngine } from '../voice/engine.js';
import { KokoroEngine, kokoroVoiceLanguage } from '../voice/kokoro/engine.js';
import { MoonshineEngine } from '../voice/moonshine/engine.js';
import { warmUpPhonemizer } from '../voice/phonemes.js';
import { PiperEngine, piperPhonemizerVoice } from '../voice/piper/engine.js';
import type { VoiceEngines } from '../voice/select.js';
import { WhisperEngine } from '../voice/whisper/engine.js';
import { CATALOG, localPath, type CatalogModel } from './models/catalog.js';

export type VoiceLog = (level: 'info' | 'warn', msg: string) => void;

export interface NeuralEngines {
  readonly stt: SttEngine[];
  readonly tts: TtsEngine[];
}

/** An installed model that cannot run: it reports why and refuses work with a 503. */
class UnavailableEngine implements SttEngine, TtsEngine {
  constructor(
    readonly id: string,
    private readonly why: EngineInfo,
  ) {}

  async info(): Promise<EngineInfo> {
    return this.why;
  }

  async transcribe(): Promise<Transcript> {
    throw new VoiceError(`${this.id} is not available: ${this.why.detail}`, 503);
  }

  async synthesize(): Promise<Audio> {
    throw new VoiceError(`${this.id} is not available: ${this.why.detail}`, 503);
  }
}

const unavailable = (id: string, detail: string): UnavailableEngine => new UnavailableEngine(id, { id, family: 'neural', available: false, detail });

/** Piper's voice name is its .onnx file name in the model directory (catalog: en_US-lessac-medium). */
function piperVoice(m: CatalogModel): string | undefined {
  const f = m.files.map(localPath).find((p) => p.endsWith('.onnx'));
  return f?.slice(0, -'.onnx'.length);
}

async function openModel(m: CatalogModel, dir: string): Promise<SttEngine | TtsEngine> {
  switch (m.engine) {
    case 'whisper':
      return WhisperEngine.open(dir);
    case 'moonshine':
      return MoonshineEngine.open(dir);
    case 'piper': {
      const voice = piperVoice(m);
      const o = voice ? { voice } : {};
      // open() throws on missing files; probe() says which, without loading anything.
      const probe = await PiperEngine.probe(dir, o);
      return probe.available ? PiperEngine.open(dir, o) : new UnavailableEngine(m.id, { ...probe, id: m.id });
    }
    case 'kokoro': {
      const probe = await KokoroEngine.probe(dir);
      return probe.available ? KokoroEngine.open(dir) : new UnavailableEngine(m.id, { ...probe, id: m.id });
    }
    default:
      throw new Error(`not a speech engine: ${m.engine}`);
  }
}

/** The catalog's speech models (whisper, moonshine: stt; piper, kokoro: tts), in catalog order. */
export const SPEECH_MODELS: readonly CatalogModel[] = CATALOG.filter((m) => ['whisper', 'moonshine', 'piper', 'kokoro'].includes(m.engine));

export interface HardwareTier {
  /** small: under 4 cores or 6 GiB (a Raspberry Pi, a small VPS); desktop otherwise. */
  readonly tier: 'small' | 'desktop';
  readonly cores: number;
  readonly memGiB: number;
  /** Model ids in the order they are preferred on this tier (best first). */
  readonly preference: readonly string[];
}

/**
 * Which installed models to prefer on this machine. Small machines take the models whose cost
 * follows the audio (Moonshine's encoder) or the lighter voice (Piper) first; desktops the more
 * accurate Whisper base and Kokoro. Engines not installed are passed over either way.
 */
export function hardwareTier(cores = os.availableParallelism(), memBytes = os.totalmem()): HardwareTier {
  const memGiB = Math.round((memBytes / 2 ** 30) * 10) / 10;
  const tier = cores < 4 || memGiB < 6 ? 'small' : 'desktop';
  const preference =
    tier === 'small'
      ? ['moonshine-tiny', 'whisper-tiny', 'whisper-base', 'piper-en_US-lessac-medium', 'kokoro-82m']
      : ['whisper-base', 'moonshine-tiny', 'whisper-tiny', 'kokoro-82m', 'piper-en_US-lessac-medium'];
  return { tier, cores, memGiB, preference };
}

const byPreference = (t: HardwareTier) => (a: CatalogModel, b: CatalogModel): number => {
  const rank = (m: CatalogModel) => (t.preference.includes(m.id) ? t.preference.indexOf(m.id) : t.preference.length);
  return rank(a) - rank(b);
};

/** One model directory as an engine; never throws: a model that does not open is an unavailable engine saying why. */
export async function openSpeechModel(m: CatalogModel, dir: string): Promise<SttEngine | TtsEngine> {
  try {
    return await openModel(m, dir);
  } catch (err) {
    return unavailable(m.id, `${dir} did not open: ${(err as Error).message.split('\n')[0]}`);
  }
}

/**
 * Opens the neural engines whose model directories exist under `modelsDir`, STT and TTS in the
 * order this machine's hardware tier prefers (hardwareTier). Never throws for a bad model: it becomes an unavailable engine with the error as detail.
 */
export async function neuralEngines(modelsDir: string, log?: VoiceLog, tier: HardwareTier = hardwareTier()): Promise<NeuralEngines> {
  const out: NeuralEngines = { stt: [], tts: [] };
  for (const m of [...SPEECH_MODELS].sort(byPreference(tier))) {
    const dir = join(modelsDir, m.id);
    if (!existsSync(dir)) continue;
    const engine = await openSpeechModel(m, dir);
    const info = await engine.info().catch((err: Error) => ({ available: false, detail: err.message }) as const);
    if (!info.available) log?.('warn', `voice: model ${m.id} is installed but cannot run: ${info.detail}`);
    if (m.task === 'stt') out.stt.push(engine as SttEngine);
    else out.tts.push(engine as TtsEngine);
  }
  return out;
}

/** Releases the neural engines selectEngines did not choose (each holds its ONNX sessions in memory). */
export async function closeUnchosen(neural: NeuralEngines, chosen: Pick<VoiceEngines, 'stt' | 'tts'>): Promise<void> {
  const idle = [...neural.stt, ...neural.tts].filter((e) => e !== chosen.stt && e !== chosen.tts);
  await Promise.allSettled(idle.map((e) => e.close?.()));
}

/**
 * When the chosen TTS phonemizes (Piper, Kokoro), compiles the phonemizer's WASM in the background
 * so the first request does not pay 1-3 s for it. Returns at once; the promise is for tests.
 */
export function warmUpTts(tts: TtsEngine | undefined, log?: VoiceLog): Promise<void> | undefined {
  let voice: string;
  try {
    if (tts instanceof PiperEngine) voice = piperPhonemizerVoice(tts.config);
    else if (tts instanceof KokoroEngine) voice = kokoroVoiceLanguage(tts.defaultVoice);
    else return undefined;
  } catch {
    voice = 'en-us';
  }
  return warmUpPhonemizer(voice).then(
    (ms) => log?.('info', `voice: phonemizer (${voice}) warmed up in ${Math.round(ms)} ms`),
    (err: Error) => log?.('warn', `voice: phonemizer warm-up failed: ${err.message}`),
  );
}
