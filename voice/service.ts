// The instance's voice service: what /voice/* (web/voice.ts), `timmy voice info` and the DVM skills
// call. It owns the chosen engines and the VAD; every failure is a VoiceError with an HTTP-ish
// status (503 with the reason when there is no engine), so the edges degrade instead of crashing.
import { VoiceError, type Audio, type EngineInfo, type Transcript } from './engine.js';
import { MAX_AUDIO_BYTES, MAX_AUDIO_SECONDS, toAudio } from './convert.js';
import { transcribeSegmented } from './pipeline.js';
import type { VoiceEngines } from './select.js';
import { VoiceStream, type StreamOptions, type StreamPartial } from './stream.js';
import { encodeWav } from './wav.js';

export const MAX_TEXT_CHARS = 5000;

export interface VoiceServiceOptions {
  /** Default language of requests that give none (default "en"). */
  readonly language?: string;
  readonly maxBytes?: number;
  readonly maxSeconds?: number;
  readonly maxTextChars?: number;
}

export interface VoiceInfo {
  /** True when at least one of STT and TTS works. */
  readonly available: boolean;
  /** Why voice is not (fully) available. */
  readonly reason?: string;
  readonly stt: { readonly available: boolean; readonly engine: string | null; readonly detail: string; readonly languages?: readonly string[] };
  readonly tts: { readonly available: boolean; readonly engine: string | null; readonly detail: string; readonly languages?: readonly string[] };
  readonly vad: { readonly available: boolean; readonly detail: string };
  readonly engines: readonly (EngineInfo & { readonly kind: 'stt' | 'tts'; readonly chosen: boolean })[];
  readonly modelsDir?: string;
  readonly notes: readonly string[];
  /** What reads compressed audio (WebM/Opus, Ogg, MP3, FLAC); without one only WAV and PCM are accepted. */
  readonly converters: readonly string[];
  readonly limits: { readonly maxBytes: number; readonly maxSeconds: number; readonly maxTextChars: number };
  readonly stream: { readonly sampleRate: 16000; readonly encodings: readonly string[] };
}

export interface TranscribeRequest {
  readonly language?: string;
  readonly signal?: AbortSignal;
  readonly onPartial?: (text: string) => void;
}

export interface SpeakRequest {
  readonly language?: string;
  readonly voice?: string;
  readonly signal?: AbortSignal;
}

export class VoiceService {
  private readonly language: string;
  private readonly maxBytes: number;
  private readonly maxSeconds: number;
  private readonly maxTextChars: number;

  constructor(
    readonly engines: VoiceEngines,
    o: VoiceServiceOptions = {},
  ) {
    this.language = o.language ?? 'en';
    this.maxBytes = o.maxBytes ?? MAX_AUDIO_BYTES;
    this.maxSeconds = o.maxSeconds ?? MAX_AUDIO_SECONDS;
    this.maxTextChars = o.maxTextChars ?? MAX_TEXT_CHARS;
  }

  get canTranscribe(): boolean {
    return this.engines.stt !== undefined;
  }

  get canSpeak(): boolean {
    return this.engines.tts !== undefined;
  }

  info(): VoiceInfo {
    const e = this.engines;
    const side = (kind: 'stt' | 'tts', id: string | undefined) => {
      const i = e.all.find((x) => x.kind === kind && x.id === id);
      return i
        ? { available: true, engine: i.id, detail: i.detail, ...(i.languages ? { languages: i.languages } : {}) }
        : { available: false, engine: null, detail: noEngine(kind, e) };
    };
    const stt = side('stt', e.stt?.id);
    const tts = side('tts', e.tts?.id);
    const reason = !stt.available && !tts.available ? `no speech engine: ${stt.detail}; ${tts.detail}` : !stt.available ? stt.detail : !tts.available ? tts.detail : undefined;
    return {
      available: stt.available || tts.available,
      ...(reason ? { reason } : {}),
      stt,
      tts,
      vad: { available: e.vad, detail: e.vadDetail ?? (e.vad ? 'Silero VAD v5' : 'not loaded') },
      engines: e.all.map((i) => ({ ...i, chosen: (i.kind === 'stt' ? e.stt?.id : e.tts?.id) === i.id })),
      ...(e.modelsDir ? { modelsDir: e.modelsDir } : {}),
      notes: e.notes ?? [],
      converters: e.converters ?? [],
      limits: { maxBytes: this.maxBytes, maxSeconds: this.maxSeconds, maxTextChars: this.maxTextChars },
      stream: { sampleRate: 16000, encodings: ['s16le', 'f32le'] },
    };
  }

  /** Audio bytes (WAV, PCM with `audio/pcm;rate=…`, or anything ffmpeg reads) to text. */
  async transcribe(bytes: Uint8Array, contentType?: string, o: TranscribeRequest = {}): Promise<Transcript> {
    this.sttOrThrow();
    const audio = await toAudio(bytes, contentType, { maxBytes: this.maxBytes, maxSeconds: this.maxSeconds, ...(o.signal ? { signal: o.signal } : {}) });
    return this.transcribeAudio(audio, o);
  }

  /** Decoded audio to text: VAD segments, each through the engine, in order. */
  async transcribeAudio(audio: Audio, o: TranscribeRequest = {}): Promise<Transcript> {
    const stt = this.sttOrThrow();
    const info = this.engines.all.find((i) => i.kind === 'stt' && i.id === stt.id);
    return transcribeSegmented(stt, audio, {
      language: o.language ?? this.language,
      // The Debian engines are one child process each: two at a time use two cores.
      concurrency: info?.family === 'system' ? 2 : 1,
      ...(this.engines.detector ? { vad: this.engines.detector } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onPartial ? { onPartial: o.onPartial } : {}),
    });
  }

  /** Text to a 16-bit mono WAV at the engine's rate. */
  async speak(text: string, o: SpeakRequest = {}): Promise<Uint8Array> {
    return encodeWav(await this.synthesize(text, o));
  }

  async synthesize(text: string, o: SpeakRequest = {}): Promise<Audio> {
    const tts = this.engines.tts;
    if (!tts) throw new VoiceError(`text-to-speech is not available: ${noEngine('tts', this.engines)}`, 503);
    const clean = text.trim();
    if (!clean) throw new VoiceError('no text to speak', 400);
    if (clean.length > this.maxTextChars) throw new VoiceError(`text longer than ${this.maxTextChars} characters`, 400);
    return tts.synthesize(clean, { language: o.language ?? this.language, ...(o.voice ? { voice: o.voice } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  }

  /** A streaming recognition session; partial results per utterance through onPartial. */
  stream(o: StreamOptions & { onPartial?: (p: StreamPartial) => void } = {}): VoiceStream {
    const stt = this.sttOrThrow();
    return new VoiceStream(stt, this.engines.detector, { language: this.language, maxSeconds: this.maxSeconds, ...o });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.engines.stt?.close?.(), this.engines.tts?.close?.(), this.engines.detector?.close()]);
  }

  private sttOrThrow() {
    const stt = this.engines.stt;
    if (!stt) throw new VoiceError(`speech-to-text is not available: ${noEngine('stt', this.engines)}`, 503);
    return stt;
  }
}

/** Why no engine of a kind serves: each candidate's reason. */
function noEngine(kind: 'stt' | 'tts', e: VoiceEngines): string {
  const tried = e.all.filter((i) => i.kind === kind);
  if (tried.length === 0) return `no ${kind === 'stt' ? 'speech-to-text' : 'text-to-speech'} engine is configured`;
  return tried.map((i) => `${i.id}: ${i.detail}`).join('; ');
}
