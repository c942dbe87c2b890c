// What the voice skills (5000 speech-to-text, 5250 text-to-speech) need from the voice service,
// as a port: the composition root (main/dvm.ts) builds it on voice/service.ts and the instance's
// audio store, and tests can build it on the engines directly. Without a port, kinds 5000 and 5250
// are not offered at all (agents/skills/index.ts).
import type { Audio, SynthesizeOptions, TranscribeOptions, Transcript } from '../../voice/engine.js';

export interface VoicePort {
  /** Bytes in any format the machine can read (WAV natively; others through ffmpeg/sox) to mono PCM. */
  decode(bytes: Uint8Array, contentType?: string, signal?: AbortSignal): Promise<Audio>;
  transcribe(audio: Audio, o?: TranscribeOptions): Promise<Transcript>;
  speak(text: string, o?: SynthesizeOptions): Promise<Audio>;
  /** Keeps a WAV file where customers can fetch it; returns its public URL. */
  audioSink(wav: Uint8Array): Promise<string>;
}
