// Test and benchmark helpers: the fixed synthetic sentence set (voice/testdata/sentences.txt), and
// audio made from it with the Debian TTS engines, padded and joined with silence.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Audio } from './engine.js';
import { resample } from './wav.js';

/** The repository's voice/testdata (this file runs from dist/voice/). */
export const TESTDATA = fileURLToPath(new URL('../../voice/testdata/', import.meta.url));

/** The fixed set: short English sentences, one per line. */
export function sentences(): string[] {
  return readFileSync(`${TESTDATA}sentences.txt`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export const silence = (seconds: number, rate = 16_000): Audio => ({ sampleRate: rate, samples: new Float32Array(Math.round(seconds * rate)) });

/** Joins clips (resampled to `rate`, default 16 kHz) into one. */
export function join(clips: readonly Audio[], rate = 16_000): Audio {
  const parts = clips.map((c) => resample(c, rate).samples);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { sampleRate: rate, samples: out };
}

export const duration = (a: Audio): number => a.samples.length / a.sampleRate;
