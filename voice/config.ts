// The `voice` section of the instance config (the composition root nests it).
import { z } from 'zod';

export const voiceConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('offer the voice service, the dashboard voice button and DVM kinds 5000/5250 when an engine is available'),
    stt: z.string().default('auto').describe('speech-to-text engine id (whisper-tiny, moonshine-tiny, pocketsphinx, …) or auto: the best available'),
    tts: z.string().default('auto').describe('text-to-speech engine id (piper-…, kokoro-82m, system = flite for English and espeak-ng otherwise, espeak-ng, flite) or auto: the best available'),
    language: z.string().default('en').describe('default language when a request gives none'),
    maxUploadBytes: z.number().int().min(1024).default(25 * 1024 * 1024).describe('largest audio accepted by /voice/transcribe and 5000 jobs'),
  })
  .strict();

export type VoiceConfig = z.infer<typeof voiceConfigSchema>;
