// A Piper voice's `<name>.onnx.json`, written by piper's training export. Only the keys synthesis
// needs are read; the rest (dataset, language names, piper_version) pass through unvalidated.
import { z } from 'zod';
import { VoiceError } from '../engine.js';

const ids = z.array(z.number().int().nonnegative()).min(1);

export const piperConfigSchema = z
  .object({
    audio: z.object({ sample_rate: z.number().int().positive().describe('output sample rate in Hz (16000 or 22050)') }).passthrough(),
    espeak: z.object({ voice: z.string().min(1).describe('espeak-ng voice the phonemes come from ("en-us")') }).passthrough().optional(),
    phoneme_type: z.enum(['espeak', 'text']).default('espeak').describe('"text" voices take the letters themselves'),
    inference: z
      .object({
        noise_scale: z.number().default(0.667).describe('variance of the generated audio'),
        length_scale: z.number().positive().default(1).describe('speaking time: > 1 is slower'),
        noise_w: z.number().default(0.8).describe('variance of phoneme durations'),
      })
      .passthrough()
      .default({ noise_scale: 0.667, length_scale: 1, noise_w: 0.8 }),
    phoneme_id_map: z.record(z.string(), ids).describe('phoneme (one code point) -> model input ids'),
    num_speakers: z.number().int().positive().default(1),
    speaker_id_map: z.record(z.string(), z.number().int().nonnegative()).default({}),
    language: z.object({ code: z.string() }).passthrough().optional(),
  })
  .passthrough();

export type PiperConfig = z.infer<typeof piperConfigSchema>;

/** Parses and validates the JSON text; errors name the file and the key. */
export function parsePiperConfig(json: string, file = 'voice config'): PiperConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new VoiceError(`${file}: not JSON (${(e as Error).message})`, 422);
  }
  const r = piperConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new VoiceError(`${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`, 422);
  }
  const map = r.data.phoneme_id_map;
  for (const k of ['_', '^', '$']) {
    if (!map[k]) throw new VoiceError(`${file}: phoneme_id_map has no "${k}" (pad, start, end symbols)`, 422);
  }
  return r.data;
}

/** The voice's language as a BCP-47 tag ("en-US" from piper's "en_US"), else its espeak voice. */
export function piperLanguage(c: PiperConfig): string {
  return c.language?.code.replace(/_/g, '-') ?? c.espeak?.voice ?? 'en-US';
}
