import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logMelSpectrogram, melFilterbank, N_FRAMES } from './mel.js';
import { randomWeights } from '../../test/support/onnx-builder.js';

// The reference is written from the formulas again, not from mel.ts: a naive DFT per frame, the
// Slaney mel scale as librosa documents it, the triangles via librosa's "ramps" formulation.
const SR = 16000, NFFT = 400, HOP = 160;

function slaneyMel(hz: number): number {
  return hz < 1000 ? (3 * hz) / 200 : 15 + (27 * Math.log(hz / 1000)) / Math.log(6.4);
}
function slaneyHz(mel: number): number {
  return mel < 15 ? (200 * mel) / 3 : 1000 * Math.pow(6.4, (mel - 15) / 27);
}

function referenceFilters(nMels: number): number[][] {
  const freqs = Array.from({ length: NFFT / 2 + 1 }, (_, k) => (k * SR) / 2 / (NFFT / 2));
  const top = slaneyMel(SR / 2);
  const melF = Array.from({ length: nMels + 2 }, (_, i) => slaneyHz((top * i) / (nMels + 1)));
  return Array.from({ length: nMels }, (_, i) => {
    const fdiffLo = melF[i + 1]! - melF[i]!, fdiffHi = melF[i + 2]! - melF[i + 1]!;
    const enorm = 2 / (melF[i + 2]! - melF[i]!);
    return freqs.map((f) => {
      const lower = -(melF[i]! - f) / fdiffLo;
      const upper = (melF[i + 2]! - f) / fdiffHi;
      return Math.max(0, Math.min(lower, upper)) * enorm;
    });
  });
}

function referenceLogMel(audio: Float32Array, nMels: number): Float64Array {
  const x = new Float64Array(30 * SR);
  for (let i = 0; i < Math.min(x.length, audio.length); i++) x[i] = audio[i]!;
  const padded = new Float64Array(x.length + NFFT);
  for (let i = 0; i < padded.length; i++) {
    let j = i - NFFT / 2;
    if (j < 0) j = -j;
    if (j >= x.length) j = 2 * (x.length - 1) - j;
    padded[i] = x[j]!;
  }
  const win = Array.from({ length: NFFT }, (_, n) => Math.sin((Math.PI * n) / NFFT) ** 2); // periodic Hann
  const cos: Float64Array[] = [], sin: Float64Array[] = [];
  for (let k = 0; k <= NFFT / 2; k++) {
    cos.push(Float64Array.from({ length: NFFT }, (_, n) => Math.cos((2 * Math.PI * k * n) / NFFT) * win[n]!));
    sin.push(Float64Array.from({ length: NFFT }, (_, n) => Math.sin((2 * Math.PI * k * n) / NFFT) * win[n]!));
  }
  const fb = referenceFilters(nMels);
  const out = new Float64Array(nMels * N_FRAMES);
  const power = new Float64Array(NFFT / 2 + 1);
  for (let t = 0; t < N_FRAMES; t++) {
    const off = t * HOP;
    for (let k = 0; k <= NFFT / 2; k++) {
      let re = 0, im = 0;
      const c = cos[k]!, s = sin[k]!;
      for (let n = 0; n < NFFT; n++) {
        re += padded[off + n]! * c[n]!;
        im -= padded[off + n]! * s[n]!;
      }
      power[k] = re * re + im * im;
    }
    for (let m = 0; m < nMels; m++) {
      let e = 0;
      fb[m]!.forEach((w, k) => (e += w * power[k]!));
      out[m * N_FRAMES + t] = Math.log10(Math.max(e, 1e-10));
    }
  }
  const max = out.reduce((a, b) => Math.max(a, b), -Infinity);
  return out.map((v) => (Math.max(v, max - 8) + 4) / 4);
}

function sines(seconds: number, parts: [number, number][], noise: number): Float32Array {
  const n = Math.round(seconds * SR);
  const r = randomWeights(n, 42, noise);
  return Float32Array.from({ length: n }, (_, i) => parts.reduce((s, [f, a]) => s + a * Math.sin((2 * Math.PI * f * i) / SR), r[i]!));
}

test('the filterbank matches librosa slaney filters computed from the formulas', () => {
  for (const nMels of [80, 128]) {
    const ours = melFilterbank(nMels);
    const ref = referenceFilters(nMels);
    ref.forEach((row, m) => row.forEach((w, k) => assert.ok(Math.abs(ours[m * 201 + k]! - w) < 1e-9, `${nMels}:${m},${k}`)));
  }
});

test('log-mel of sines + noise (31 s, trimmed to 30 s) matches an independent naive-DFT reference', () => {
  const audio = sines(31, [[440, 0.3], [1000, 0.2], [3150.5, 0.1]], 0.02);
  const ours = logMelSpectrogram(audio, 80);
  assert.equal(ours.length, 80 * 3000);
  const ref = referenceLogMel(audio, 80);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!));
  assert.ok(worst < 1e-4, `max abs difference ${worst}`);
});

test('log-mel of a short clip (zero-padded to 30 s, 128 mels) matches the reference', () => {
  const audio = sines(1.3, [[220, 0.5], [2500, 0.25]], 0.05);
  const ours = logMelSpectrogram(audio, 128);
  assert.equal(ours.length, 128 * 3000);
  const ref = referenceLogMel(audio, 128);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!));
  assert.ok(worst < 1e-4, `max abs difference ${worst}`);
});

test('silence is the clamped floor everywhere: (log10(1e-10) + 4) / 4 = -1.5', () => {
  const ours = logMelSpectrogram(new Float32Array(16000), 80);
  assert.equal(ours.length, 80 * 3000);
  assert.ok(ours.every((v) => v === -1.5));
});

test('a 1 kHz tone peaks in the mel band centred nearest 1 kHz', () => {
  const ours = logMelSpectrogram(sines(2, [[1000, 0.5]], 0), 80);
  const top = slaneyMel(8000);
  const centres = Array.from({ length: 80 }, (_, m) => slaneyHz((top * (m + 1)) / 81));
  const want = centres.reduce((b, c, m) => (Math.abs(c - 1000) < Math.abs(centres[b]! - 1000) ? m : b), 0);
  const frame = 100; // 1 s in, well inside the tone
  let best = 0;
  for (let m = 1; m < 80; m++) if (ours[m * 3000 + frame]! > ours[best * 3000 + frame]!) best = m;
  assert.equal(best, want);
  assert.ok(centres[want]! > 950 && centres[want]! < 1050);
});
