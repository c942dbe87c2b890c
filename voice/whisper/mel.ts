// Whisper's log-mel front end, step for step as openai/whisper audio.py: pad or trim to 30 s,
// STFT (n_fft 400, hop 160, periodic Hann, centre with reflect padding, last frame dropped), power
// spectrum, librosa's Slaney mel filterbank, log10 clamped at 1e-10, floor at max-8, (x+4)/4.
// Any deviation here shifts every feature the encoder sees, so nothing is approximated.
import { realFftPlan } from '../dsp/fft.js';

export const SAMPLE_RATE = 16000;
export const N_FFT = 400;
export const HOP_LENGTH = 160;
export const CHUNK_SECONDS = 30;
export const N_SAMPLES = CHUNK_SECONDS * SAMPLE_RATE; // 480000
export const N_FRAMES = N_SAMPLES / HOP_LENGTH; // 3000

// Slaney's mel scale (librosa htk=False): linear below 1 kHz, logarithmic above.
const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOGSTEP = Math.log(6.4) / 27;

export function hzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOGSTEP : hz / F_SP;
}

export function melToHz(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOGSTEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

/** librosa.filters.mel(sr, n_fft, n_mels, norm='slaney'): row-major [nMels, nFft/2+1]. */
export function melFilterbank(nMels: number, sr = SAMPLE_RATE, nFft = N_FFT): Float64Array {
  const bins = Math.floor(nFft / 2) + 1;
  const fft = new Float64Array(bins);
  for (let k = 0; k < bins; k++) fft[k] = (k * sr) / nFft;
  const lo = hzToMel(0), hi = hzToMel(sr / 2);
  const pts = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) pts[i] = melToHz(lo + ((hi - lo) * i) / (nMels + 1));
  const w = new Float64Array(nMels * bins);
  for (let m = 0; m < nMels; m++) {
    const f0 = pts[m]!, f1 = pts[m + 1]!, f2 = pts[m + 2]!;
    const enorm = 2 / (f2 - f0);
    for (let k = 0; k < bins; k++) {
      const lower = (fft[k]! - f0) / (f1 - f0);
      const upper = (f2 - fft[k]!) / (f2 - f1);
      w[m * bins + k] = Math.max(0, Math.min(lower, upper)) * enorm;
    }
  }
  return w;
}

/** whisper.audio.pad_or_trim: zero-pad or cut to `length` samples. */
export function padOrTrim(samples: Float32Array, length = N_SAMPLES): Float32Array {
  if (samples.length === length) return samples;
  const out = new Float32Array(length);
  out.set(samples.length > length ? samples.subarray(0, length) : samples);
  return out;
}

const filterCache = new Map<number, { w: Float64Array; from: Int32Array; to: Int32Array }>();

function filters(nMels: number) {
  let f = filterCache.get(nMels);
  if (!f) {
    const w = melFilterbank(nMels);
    const bins = N_FFT / 2 + 1;
    // each triangle covers a few bins: remember its non-zero span to skip the zeros
    const from = new Int32Array(nMels), to = new Int32Array(nMels);
    for (let m = 0; m < nMels; m++) {
      let a = bins, b = 0;
      for (let k = 0; k < bins; k++) if (w[m * bins + k]! > 0) { a = Math.min(a, k); b = k + 1; }
      from[m] = a; to[m] = Math.max(a, b);
    }
    f = { w, from, to };
    filterCache.set(nMels, f);
  }
  return f;
}

/**
 * The encoder input for one 30 s window: row-major [nMels, 3000] (input_features without the batch
 * axis). Audio must be 16 kHz mono; shorter audio is zero-padded, longer is cut at 30 s.
 */
export function logMelSpectrogram(samples: Float32Array, nMels = 80): Float32Array {
  const x = padOrTrim(samples);
  const pad = N_FFT / 2;
  const n = x.length;
  // reflect padding (torch.stft center=True, pad_mode='reflect'): x[-k] = x[k], x[n-1+k] = x[n-1-k]
  const at = (i: number): number => x[i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i]!;
  const win = new Float64Array(N_FFT);
  for (let i = 0; i < N_FFT; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT); // periodic Hann
  const bins = N_FFT / 2 + 1;
  const { w, from, to } = filters(nMels);
  const plan = realFftPlan(N_FFT);
  const frame = new Float64Array(N_FFT), re = new Float64Array(bins), im = new Float64Array(bins), power = new Float64Array(bins);
  const out = new Float32Array(nMels * N_FRAMES);
  const silentLog = Math.log10(1e-10);
  let max = -Infinity;
  for (let t = 0; t < N_FRAMES; t++) {
    const start = t * HOP_LENGTH - pad;
    let any = false;
    for (let i = 0; i < N_FFT; i++) {
      const v = at(start + i);
      frame[i] = v * win[i]!;
      if (v !== 0) any = true;
    }
    if (!any) {
      // the zero padding of short clips: the FFT of zeros is zeros, log10 clamps it
      for (let m = 0; m < nMels; m++) out[m * N_FRAMES + t] = silentLog;
      max = Math.max(max, silentLog);
      continue;
    }
    plan.forward(frame, re, im);
    for (let k = 0; k < bins; k++) power[k] = re[k]! * re[k]! + im[k]! * im[k]!;
    for (let m = 0; m < nMels; m++) {
      let s = 0;
      for (let k = from[m]!; k < to[m]!; k++) s += w[m * bins + k]! * power[k]!;
      const v = Math.log10(Math.max(s, 1e-10));
      out[m * N_FRAMES + t] = v;
      if (v > max) max = v;
    }
  }
  const floor = max - 8;
  for (let i = 0; i < out.length; i++) out[i] = (Math.max(out[i]!, floor) + 4) / 4;
  return out;
}
