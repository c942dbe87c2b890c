// RIFF/WAVE in and out, and sample-rate conversion. Every engine speaks `Audio` (mono float32);
// this file is the only place that knows the container. WAV is decoded in JS so the common case
// (browsers, Debian tools, tests) needs no ffmpeg.

import { VoiceError, type Audio } from './engine.js';

const PCM = 1;
const IEEE_FLOAT = 3;
const EXTENSIBLE = 0xfffe;

/** True when the bytes start with a RIFF/WAVE (or RF64) header. */
export function isWav(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const tag = ascii(bytes, 0, 4);
  return (tag === 'RIFF' || tag === 'RF64') && ascii(bytes, 8, 4) === 'WAVE';
}

/**
 * Decodes PCM 8/16/24/32-bit integer and 32-bit float WAV (also WAVE_FORMAT_EXTENSIBLE), mixing
 * every channel down to mono. Throws VoiceError(415) when the bytes are not a WAV we can read.
 */
export function decodeWav(bytes: Uint8Array): Audio {
  if (!isWav(bytes)) throw new VoiceError('not a WAV file (no RIFF/WAVE header)', 415);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format = -1;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  let data: { offset: number; length: number } | undefined;
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = ascii(bytes, pos, 4);
    let size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new VoiceError('WAV fmt chunk is truncated', 415);
      format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      bits = view.getUint16(body + 14, true);
      if (format === EXTENSIBLE) {
        if (size < 40 || body + 26 > bytes.length) throw new VoiceError('WAV extensible fmt chunk is truncated', 415);
        // The sub-format GUID starts with the plain format code.
        format = view.getUint16(body + 24, true);
      }
    } else if (id === 'data') {
      // Streaming writers (ffmpeg to a pipe, sox) leave the size as 0 or 0xffffffff: take the rest.
      if (size === 0 || size === 0xffffffff || body + size > bytes.length) size = bytes.length - body;
      data = { offset: body, length: size };
      break;
    }
    pos = body + size + (size & 1);
  }
  if (format < 0) throw new VoiceError('WAV has no fmt chunk', 415);
  if (!data) throw new VoiceError('WAV has no data chunk', 415);
  if (channels < 1 || sampleRate < 1) throw new VoiceError('WAV header has no channels or sample rate', 415);
  const read = sampleReader(view, format, bits);
  const bytesPer = bits / 8;
  const frameSize = bytesPer * channels;
  const frames = Math.floor(data.length / frameSize);
  const samples = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    const at = data.offset + f * frameSize;
    for (let c = 0; c < channels; c++) sum += read(at + c * bytesPer);
    samples[f] = sum / channels;
  }
  return { sampleRate, samples };
}

function sampleReader(view: DataView, format: number, bits: number): (at: number) => number {
  if (format === PCM) {
    switch (bits) {
      case 8:
        return (at) => (view.getUint8(at) - 128) / 128;
      case 16:
        return (at) => view.getInt16(at, true) / 32768;
      case 24:
        return (at) => {
          const v = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16);
          return v / 8388608;
        };
      case 32:
        return (at) => view.getInt32(at, true) / 2147483648;
    }
  } else if (format === IEEE_FLOAT) {
    if (bits === 32) return (at) => view.getFloat32(at, true);
    if (bits === 64) return (at) => view.getFloat64(at, true);
  }
  throw new VoiceError(`unsupported WAV encoding (format ${format}, ${bits} bits)`, 415);
}

/** Encodes mono audio as a WAV: 16-bit PCM by default, or 32-bit float. */
export function encodeWav(a: Audio, o: { bits?: 16 | 32 } = {}): Uint8Array {
  const bits = o.bits ?? 16;
  const bytesPer = bits / 8;
  const dataLength = a.samples.length * bytesPer;
  const out = new Uint8Array(44 + dataLength);
  const view = new DataView(out.buffer);
  writeAscii(out, 0, 'RIFF');
  view.setUint32(4, 36 + dataLength, true);
  writeAscii(out, 8, 'WAVE');
  writeAscii(out, 12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, bits === 32 ? IEEE_FLOAT : PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, a.sampleRate, true);
  view.setUint32(28, a.sampleRate * bytesPer, true);
  view.setUint16(32, bytesPer, true);
  view.setUint16(34, bits, true);
  writeAscii(out, 36, 'data');
  view.setUint32(40, dataLength, true);
  const s = a.samples;
  if (bits === 32) {
    for (let i = 0; i < s.length; i++) view.setFloat32(44 + i * 4, s[i]!, true);
  } else {
    for (let i = 0; i < s.length; i++) {
      const v = Math.max(-1, Math.min(1, s[i]!));
      view.setInt16(44 + i * 2, v < 0 ? Math.round(v * 32768) : Math.round(v * 32767), true);
    }
  }
  return out;
}

/**
 * Windowed-sinc resampling (Blackman window, cut-off at the lower Nyquist), so downsampling
 * 48 kHz browser audio to 16 kHz does not fold energy above 8 kHz back into the speech band.
 */
export function resample(a: Audio, rate: number): Audio {
  if (!(rate > 0)) throw new VoiceError(`invalid sample rate ${rate}`, 400);
  if (rate === a.sampleRate) return a;
  const k = kernel(a.sampleRate, rate);
  const src = a.samples;
  const n = Math.floor(src.length * k.ratio);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = interpolate(src, 0, src.length, i / k.ratio, k);
  return { sampleRate: rate, samples: out };
}

interface Kernel {
  readonly ratio: number;
  /** Relative to the input Nyquist frequency. */
  readonly cutoff: number;
  /** Half the filter length, in input samples. */
  readonly radius: number;
  /** The windowed sinc sampled every 1/TABLE_STEPS input sample over [0, radius] (computing sin/cos per tap is 10× slower). */
  readonly table: Float32Array;
}

const TABLE_STEPS = 256;
const kernels = new Map<string, Kernel>();

function kernel(from: number, to: number): Kernel {
  const key = `${from}/${to}`;
  const cached = kernels.get(key);
  if (cached) return cached;
  const ratio = to / from;
  // 16 zero crossings each side at the lower rate; cut a little below Nyquist for the transition band.
  const cutoff = Math.min(1, ratio) * 0.95;
  const radius = 16 / Math.min(1, ratio);
  const table = new Float32Array(Math.ceil(radius * TABLE_STEPS) + 2);
  for (let i = 0; i < table.length; i++) {
    const x = i / TABLE_STEPS;
    table[i] = sinc(x * cutoff) * blackman(x / radius);
  }
  const k = { ratio, cutoff, radius, table };
  if (kernels.size < 32) kernels.set(key, k);
  return k;
}

/** One output sample at input position `center` (absolute); src[0] is absolute index `offset`. */
function interpolate(src: Float32Array, offset: number, total: number, center: number, k: Kernel): number {
  const lo = Math.max(0, Math.ceil(center - k.radius));
  const hi = Math.min(total - 1, Math.floor(center + k.radius));
  let acc = 0;
  let wsum = 0;
  const t = k.table;
  for (let j = lo; j <= hi; j++) {
    const p = Math.abs(j - center) * TABLE_STEPS;
    const i = Math.floor(p);
    const w = t[i]! + (t[i + 1]! - t[i]!) * (p - i);
    acc += (src[j - offset] ?? 0) * w;
    wsum += w;
  }
  // Normalising by the tap sum keeps DC gain at 1, also near the edges.
  return wsum !== 0 ? acc / wsum : 0;
}

/**
 * The same filter over audio that arrives in chunks (a /voice/stream session at 48 kHz): output
 * is identical to resampling the whole recording at once, with a delay of the filter's half length.
 */
export class StreamResampler {
  private readonly k: Kernel;
  private buf = new Float32Array(0);
  private bufStart = 0; // absolute input index of buf[0]
  private total = 0; // input samples pushed
  private next = 0; // next output index

  constructor(
    readonly from: number,
    readonly to: number,
  ) {
    if (!(from > 0 && to > 0)) throw new VoiceError(`invalid sample rate ${from} -> ${to}`, 400);
    this.k = kernel(from, to);
  }

  push(x: Float32Array): Float32Array {
    if (this.from === this.to) return x;
    const merged = new Float32Array(this.buf.length + x.length);
    merged.set(this.buf);
    merged.set(x, this.buf.length);
    this.buf = merged;
    this.total += x.length;
    return this.drain(false);
  }

  /** The last samples, once no more input will come. */
  flush(): Float32Array {
    if (this.from === this.to) return new Float32Array(0);
    return this.drain(true);
  }

  private drain(final: boolean): Float32Array {
    const out: number[] = [];
    const end = final ? Math.floor(this.total * this.k.ratio) : Infinity;
    for (;;) {
      const center = this.next / this.k.ratio;
      if (this.next >= end || (!final && Math.floor(center + this.k.radius) >= this.total)) break;
      out.push(interpolate(this.buf, this.bufStart, this.total, center, this.k));
      this.next++;
    }
    const keepFrom = Math.max(this.bufStart, Math.ceil(this.next / this.k.ratio - this.k.radius) - 1);
    this.buf = this.buf.slice(keepFrom - this.bufStart);
    this.bufStart = keepFrom;
    return Float32Array.from(out);
  }
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Blackman window over t in [-1, 1]. */
function blackman(t: number): number {
  if (t <= -1 || t >= 1) return 0;
  const p = Math.PI * (t + 1); // 0..2π
  return 0.42 - 0.5 * Math.cos(p) + 0.08 * Math.cos(2 * p);
}

function ascii(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}

function writeAscii(b: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i);
}
