// Voice for the agents (composition root): the VoicePort the 5000/5250 skills use, built on the
// engines this machine has, and the store of generated audio that GET /voice/audio/<sha>.wav serves.
// Without an engine (or with voice.enabled false) there is no port: the personas' kinds 5000/5250
// are skipped with a log line, and a persona left with no kind is not started; nothing fails.
import { join } from 'node:path';
import type { Persona } from '../agents/personas/schema.js';
import type { VoicePort } from '../agents/skills/voice-port.js';
import { STT_KIND } from '../agents/skills/stt.js';
import { TTS_KIND } from '../agents/skills/tts.js';
import { toAudio } from '../voice/convert.js';
import { AudioStore, audioUrl } from '../voice/audio-store.js';
import { selectEngines } from '../voice/select.js';
import { VoiceService } from '../voice/service.js';
import type { Config } from './config.js';
import { closeUnchosen, neuralEngines, warmUpTts } from './voice-engines.js';

export const VOICE_KINDS: readonly number[] = [STT_KIND, TTS_KIND];

export interface AgentVoice {
  /** The instance's voice service (engines + VAD), shared with /voice/* on the HTTP server. */
  readonly service: VoiceService | undefined;
  /** Undefined when no engine serves: the skills are then not offered. */
  readonly port: VoicePort | undefined;
  readonly store: AudioStore;
  /** Why a kind is not offered (engine missing, voice disabled), by kind. */
  readonly missing: ReadonlyMap<number, string>;
  /** The HTTP server's public URL, once it listens (the links in 5250 results start with it). */
  setBaseUrl(url: string): void;
  close(): Promise<void>;
}

export interface AgentVoiceOptions {
  readonly enabled: boolean;
  readonly dataDir: string;
  /** Undefined when voice is disabled or the engines could not be chosen. */
  readonly service: VoiceService | undefined;
  /** Used until setBaseUrl is called: web.publicUrl, or http://host:httpPort. */
  readonly baseUrl: string;
  readonly maxUploadBytes?: number;
}

export function agentVoice(o: AgentVoiceOptions): AgentVoice {
  const store = new AudioStore(join(o.dataDir, 'voice-audio'));
  let base = o.baseUrl;
  const missing = new Map<number, string>();
  const svc = o.service;
  if (!o.enabled || !svc) {
    for (const k of VOICE_KINDS) missing.set(k, o.enabled ? 'the voice engines could not be chosen' : 'voice.enabled is false');
  } else {
    const info = svc.info();
    if (!svc.canTranscribe) missing.set(STT_KIND, `no speech-to-text engine: ${info.stt.detail}`);
    if (!svc.canSpeak) missing.set(TTS_KIND, `no text-to-speech engine: ${info.tts.detail}`);
  }
  const port: VoicePort | undefined =
    svc && missing.size < VOICE_KINDS.length
      ? {
          decode: (bytes, contentType, signal) => toAudio(bytes, contentType, { ...(o.maxUploadBytes ? { maxBytes: o.maxUploadBytes } : {}), ...(signal ? { signal } : {}) }),
          transcribe: (audio, opts = {}) => svc.transcribeAudio(audio, opts),
          speak: (text, opts = {}) => svc.synthesize(text, opts),
          audioSink: async (wav) => audioUrl(base, store.save(wav)),
        }
      : undefined;
  return { service: svc, port, store, missing, setBaseUrl: (url) => void (base = url), close: async () => svc?.close() };
}
/**
 * The personas without the voice kinds no engine serves; a persona left with no kind is dropped.
 * `log` hears one line per change, saying why.
 */
export function withoutMissingKinds(personas: readonly Persona[], missing: ReadonlyMap<number, string>, log: (msg: string) => void): Persona[] {
  const out: Persona[] = [];
  for (const p of personas) {
    const skipped = p.kinds.filter((k) => missing.has(k));
    if (skipped.length === 0) {
      out.push(p);
      continue;
    }
    for (const k of skipped) log(`agent ${p.name} does not serve kind ${k}: ${missing.get(k)}`);
    const kinds = p.kinds.filter((k) => !missing.has(k));
    if (kinds.length > 0) out.push({ ...p, kinds });
    else log(`agent ${p.name} is not started: it serves no kind this machine can run`);
  }
  return out;
}

/** The agents' voice for this instance's config: the machine's engines, the audio folder, the base URL. */
export async function startAgentVoice(config: Config, log: (level: 'info' | 'warn', msg: string) => void): Promise<AgentVoice> {
  const c = config.voice;
  let service: VoiceService | undefined;
  if (c.enabled) {
    try {
      const modelsDir = join(config.dataDir, 'models');
      const neural = await neuralEngines(modelsDir, log);
      const engines = await selectEngines({ modelsDir, prefer: { stt: c.stt, tts: c.tts }, extraStt: neural.stt, extraTts: neural.tts });
      await closeUnchosen(neural, engines);
      service = new VoiceService(engines, { language: c.language, maxBytes: c.maxUploadBytes });
      for (const n of engines.notes ?? []) log('warn', `voice: ${n}`);
      void warmUpTts(engines.tts, log); // in the background: the start does not wait for it
    } catch (err) {
      log('warn', `voice: no engine could be chosen: ${(err as Error).message}`);
    }
  }
  const hostPart = config.host.includes(':') ? `[${config.host}]` : config.host;
  const voice = agentVoice({ enabled: c.enabled, dataDir: config.dataDir, service, baseUrl: config.web.publicUrl ?? `http://${hostPart}:${config.httpPort}`, maxUploadBytes: c.maxUploadBytes });
  if (service) log('info', `voice: speech-to-text ${service.engines.stt?.id ?? 'none'}, text-to-speech ${service.engines.tts?.id ?? 'none'}`);
  return voice;
}
