// The interfaces every speech engine implements. Engines are chosen by what the machine has
// (voice/select.ts): the neural ones (Whisper, Moonshine; Piper, Kokoro) when their model files are
// installed (`timmy models`), the Debian ones (PocketSphinx; espeak-ng, flite) always.

/** Mono PCM, samples in [-1, 1]. */
export interface Audio {
  readonly sampleRate: number;
  readonly samples: Float32Array;
}

export interface TranscriptSegment {
  /** Seconds from the start of the audio given. */
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export interface Transcript {
  readonly text: string;
  readonly segments: readonly TranscriptSegment[];
  readonly language?: string;
  /** The engine id that produced it. */
  readonly engine: string;
}

export interface TranscribeOptions {
  /** BCP-47 or ISO 639-1 language hint ("en"). */
  readonly language?: string;
  readonly signal?: AbortSignal;
  /** Called with the text so far for long audio (streaming / progress). */
  readonly onPartial?: (text: string) => void;
}

export interface SynthesizeOptions {
  readonly language?: string;
  readonly voice?: string;
  readonly signal?: AbortSignal;
}

export interface EngineInfo {
  readonly id: string;
  /** "neural" engines need model files; "system" ones need Debian packages. */
  readonly family: 'neural' | 'system';
  readonly available: boolean;
  /** Why it is not available (missing binary, missing model file), or what it runs on. */
  readonly detail: string;
  readonly languages?: readonly string[];
}

export interface SttEngine {
  readonly id: string;
  info(): Promise<EngineInfo>;
  transcribe(audio: Audio, opts?: TranscribeOptions): Promise<Transcript>;
  close?(): Promise<void>;
}

export interface TtsEngine {
  readonly id: string;
  info(): Promise<EngineInfo>;
  synthesize(text: string, opts?: SynthesizeOptions): Promise<Audio>;
  close?(): Promise<void>;
}

/** A problem the caller should read about: no engine available, unreadable audio, unsupported language. */
export class VoiceError extends Error {
  override name = 'VoiceError';
  constructor(
    message: string,
    /** HTTP-ish status for the edges: 400 bad input, 415 unsupported media, 503 no engine. */
    readonly status: 400 | 415 | 422 | 503 = 400,
  ) {
    super(message);
  }
}

/** The chunks of a synthesis stream as one Audio (what synthesize() returns for streaming engines). */
export async function collectAudio(stream: AsyncIterable<Audio>, sampleRate: number): Promise<Audio> {
  const parts: Float32Array[] = [];
  for await (const a of stream) parts.push(a.samples);
  const samples = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    samples.set(p, at);
    at += p.length;
  }
  return { sampleRate, samples };
}
