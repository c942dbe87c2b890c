// WAV in and out: our own encoder round trips, hand-built headers of every encoding we read, files
// written by sox (when installed) for each format, and the resampler's pass band and stop band.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VoiceError, type Audio } from './engine.js';
import { decodeWav, encodeWav, isWav, resample, StreamResampler } from './wav.js';
import { onPath } from './proc.js';

const tone = (rate: number, hz: number, seconds: number, amp = 0.5): Audio => ({
  sampleRate: rate,
  samples: Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate)),
});

/** Peak amplitude away from the edges (the filter's warm-up). */
const peak = (s: Float32Array, skip = 200): number => s.subarray(skip, s.length - skip).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** A WAV header + data by hand: format code, channels, bits, and the raw frames. */
function wavBytes(o: { format: number; channels: number; rate: number; bits: number; data: Uint8Array; extensible?: boolean; extra?: Uint8Array }): Uint8Array {
  const fmtSize = o.extensible ? 40 : 16;
  const extra = o.extra ?? new Uint8Array(0);
  const out = new Uint8Array(12 + 8 + fmtSize + extra.length + 8 + o.data.length);
  const v = new DataView(out.buffer);
  const put = (at: number, s: string) => [...s].forEach((c, i) => (out[at + i] = c.charCodeAt(0)));
  put(0, 'RIFF');
  v.setUint32(4, out.length - 8, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  v.setUint16(20, o.extensible ? 0xfffe : o.format, true);
  v.setUint16(22, o.channels, true);
  v.setUint32(24, o.rate, true);
  v.setUint32(28, (o.rate * o.channels * o.bits) / 8, true);
  v.setUint16(32, (o.channels * o.bits) / 8, true);
  v.setUint16(34, o.bits, true);
  if (o.extensible) {
    v.setUint16(36, 22, true);
    v.setUint16(38, o.bits, true);
    v.setUint32(40, o.channels === 2 ? 3 : 4, true);
    v.setUint16(44, o.format, true); // the GUID's first two bytes
  }
  let at = 20 + fmtSize;
  out.set(extra, at); // e.g. a LIST chunk before the data
  at += extra.length;
  put(at, 'data');
  v.setUint32(at + 4, o.data.length, true);
  out.set(o.data, at + 8);
  return out;
}

describe('WAV', () => {
  it('round trips 16-bit PCM within one quantisation step, and 32-bit float exactly', () => {
    const a = tone(16000, 440, 0.5);
    const b16 = decodeWav(encodeWav(a));
    assert.equal(b16.sampleRate, 16000);
    assert.equal(b16.samples.length, a.samples.length);
    for (let i = 0; i < a.samples.length; i++) assert.ok(Math.abs(b16.samples[i]! - a.samples[i]!) <= 1 / 32767, `sample ${i}`);
    const b32 = decodeWav(encodeWav(a, { bits: 32 }));
    assert.deepEqual(b32.samples, a.samples);
    // Out-of-range samples are clipped, not wrapped.
    const loud = decodeWav(encodeWav({ sampleRate: 8000, samples: Float32Array.from([2, -2, 1, -1]) }));
    assert.deepEqual([...loud.samples].map((x) => Math.round(x * 1000) / 1000), [1, -1, 1, -1]);
  });

  it('reads 8, 24 and 32-bit integer, float, stereo (mixed to mono), extensible, and skips other chunks', () => {
    const u8 = wavBytes({ format: 1, channels: 1, rate: 8000, bits: 8, data: Uint8Array.from([128, 255, 0, 192]) });
    assert.deepEqual([...decodeWav(u8).samples], [0, 127 / 128, -1, 0.5]);
    const s24 = wavBytes({ format: 1, channels: 1, rate: 8000, bits: 24, data: Uint8Array.from([0, 0, 0x40, 0, 0, 0xc0, 0xff, 0xff, 0x7f]) });
    assert.deepEqual([...decodeWav(s24).samples].map((x) => Math.round(x * 1e4) / 1e4), [0.5, -0.5, 1]);
    const s32 = new Uint8Array(8);
    new DataView(s32.buffer).setInt32(0, 1 << 30, true);
    new DataView(s32.buffer).setInt32(4, -(2 ** 31), true);
    assert.deepEqual([...decodeWav(wavBytes({ format: 1, channels: 1, rate: 8000, bits: 32, data: s32 })).samples], [0.5, -1]);
    const stereo = new Uint8Array(8);
    const sv = new DataView(stereo.buffer);
    sv.setInt16(0, 16384, true); // L 0.5
    sv.setInt16(2, 0, true); // R 0
    sv.setInt16(4, -32768, true); // L -1
    sv.setInt16(6, -32768, true); // R -1
    const list = Uint8Array.from([...'LIST'].map((c) => c.charCodeAt(0)).concat([3, 0, 0, 0, 1, 2, 3, 0])); // odd size: padded
    const st = decodeWav(wavBytes({ format: 1, channels: 2, rate: 44100, bits: 16, data: stereo, extensible: true, extra: list }));
    assert.equal(st.sampleRate, 44100);
    assert.deepEqual([...st.samples], [0.25, -1]);
    const f = new Uint8Array(8);
    new DataView(f.buffer).setFloat32(0, 0.25, true);
    new DataView(f.buffer).setFloat32(4, -0.75, true);
    assert.deepEqual([...decodeWav(wavBytes({ format: 3, channels: 1, rate: 48000, bits: 32, data: f, extensible: true })).samples], [0.25, -0.75]);
  });

  it('refuses what is not a WAV with VoiceError 415, and unsupported encodings too', () => {
    for (const bad of [new Uint8Array(0), new TextEncoder().encode('hello, this is not audio at all'), Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0])]) {
      assert.equal(isWav(bad), false);
      assert.throws(() => decodeWav(bad), (e: unknown) => e instanceof VoiceError && e.status === 415);
    }
    const alaw = wavBytes({ format: 6, channels: 1, rate: 8000, bits: 8, data: new Uint8Array(4) });
    assert.equal(isWav(alaw), true);
    assert.throws(() => decodeWav(alaw), /unsupported WAV encoding/);
    const noData = encodeWav(tone(8000, 100, 0.01)).subarray(0, 36);
    assert.throws(() => decodeWav(noData), (e: unknown) => e instanceof VoiceError && e.status === 415);
  });

  it('reads what sox writes in each format (when sox is installed)', (t) => {
    if (!onPath('sox')) return t.skip('sox is not installed');
    const dir = mkdtempSync(join(tmpdir(), 'timmy-wav-'));
    try {
      const src = join(dir, 'src.wav');
      writeFileSync(src, encodeWav(tone(16000, 300, 0.25, 0.5), { bits: 32 }));
      for (const [args, rate] of [
        [['-b', '8', '-e', 'unsigned-integer'], 16000],
        [['-b', '16'], 16000],
        [['-b', '24'], 16000],
        [['-b', '32', '-e', 'signed-integer'], 16000],
        [['-b', '32', '-e', 'floating-point'], 16000],
        [['-c', '2', '-r', '22050'], 22050],
      ] as const) {
        const out = join(dir, 'out.wav');
        const r = spawnSync('sox', [src, ...args, out]);
        assert.equal(r.status, 0, r.stderr.toString());
        const a = decodeWav(readFileSync(out));
        assert.equal(a.sampleRate, rate, args.join(' '));
        assert.ok(Math.abs(peak(a.samples, 50) - 0.5) < 0.03, `${args.join(' ')}: peak ${peak(a.samples, 50)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resample', () => {
  it('is the identity at the same rate', () => {
    const a = tone(16000, 440, 0.1);
    assert.equal(resample(a, 16000), a);
  });

  it('keeps speech-band tones and removes what would alias when going 48 kHz -> 16 kHz', () => {
    const speech = resample(tone(48000, 1000, 0.5), 16000);
    assert.equal(speech.sampleRate, 16000);
    assert.equal(speech.samples.length, 8000);
    assert.ok(Math.abs(peak(speech.samples) - 0.5) < 0.01, `1 kHz kept: ${peak(speech.samples)}`);
    // 12 kHz is above the new Nyquist (8 kHz): without a low-pass it would fold to 4 kHz.
    const alias = resample(tone(48000, 12000, 0.5), 16000);
    assert.ok(peak(alias.samples) < 0.005, `12 kHz removed: ${peak(alias.samples)}`);
  });

  it('upsamples 8 kHz -> 16 kHz and 22.05 kHz -> 16 kHz with the tone intact', () => {
    for (const from of [8000, 22050]) {
      const b = resample(tone(from, 300, 0.5), 16000);
      assert.equal(b.samples.length, 8000);
      for (let i = 200; i < b.samples.length - 200; i++) assert.ok(Math.abs(b.samples[i]! - 0.5 * Math.sin((2 * Math.PI * 300 * i) / 16000)) < 0.002, `${from}: sample ${i}`);
    }
  });

  it('in chunks gives the same samples as all at once', () => {
    const a = tone(48000, 700, 1.3);
    const whole = resample(a, 16000).samples;
    const r = new StreamResampler(48000, 16000);
    const parts: number[] = [];
    for (let i = 0; i < a.samples.length; i += 4799) parts.push(...r.push(a.samples.subarray(i, i + 4799)));
    parts.push(...r.flush());
    assert.equal(parts.length, whole.length);
    for (let i = 0; i < whole.length; i++) assert.ok(Math.abs(parts[i]! - whole[i]!) < 1e-6, `sample ${i}`);
  });
});
