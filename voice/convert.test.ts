// Audio in any form to `Audio`: WAV and raw PCM in JS, WebM/Opus and others through ffmpeg (a real
// ffmpeg encodes the test input from a synthesized WAV), clear errors for what cannot be read.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { VoiceError, type Audio } from './engine.js';
import { decodePcm, rawPcmFormat, sniff, toAudio } from './convert.js';
import { onPath } from './proc.js';
import { encodeWav } from './wav.js';

const tone = (rate: number, seconds: number): Audio => ({
  sampleRate: rate,
  samples: Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate)),
});

const is = (status: number, re?: RegExp) => (e: unknown) => e instanceof VoiceError && e.status === status && (!re || re.test(e.message));

/** Encodes a WAV with ffmpeg into another container/codec. */
function ffmpegEncode(wav: Uint8Array, args: string[]): Buffer {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', ...args, 'pipe:1'], { input: wav, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

describe('toAudio', () => {
  it('decodes WAV in JS at its own rate', async () => {
    const a = await toAudio(encodeWav(tone(22050, 0.5)));
    assert.equal(a.sampleRate, 22050);
    assert.equal(a.samples.length, 11025);
  });

  it('reads raw PCM by content type: audio/pcm and audio/L16, little-endian s16 by default', async () => {
    assert.deepEqual(rawPcmFormat('audio/pcm;rate=16000'), { rate: 16000, channels: 1, float: false, bigEndian: false });
    assert.deepEqual(rawPcmFormat('audio/L16; rate=8000; channels=2'), { rate: 8000, channels: 2, float: false, bigEndian: false });
    assert.equal(rawPcmFormat('audio/wav'), undefined);
    assert.equal(rawPcmFormat(undefined), undefined);
    assert.throws(() => rawPcmFormat('audio/pcm;rate=12'), is(400));
    const bytes = new Uint8Array(6);
    const v = new DataView(bytes.buffer);
    v.setInt16(0, 16384, true);
    v.setInt16(2, -32768, true);
    v.setInt16(4, 0, true);
    const a = await toAudio(bytes, 'audio/pcm;rate=16000');
    assert.equal(a.sampleRate, 16000);
    assert.deepEqual([...a.samples], [0.5, -1, 0]);
    const stereo = await toAudio(bytes.subarray(0, 4), 'audio/L16;rate=8000;channels=2');
    assert.deepEqual([...stereo.samples], [-0.25]);
    assert.deepEqual([...decodePcm(Uint8Array.from([0x40, 0]), { rate: 8000, channels: 1, bigEndian: true }).samples], [0.5]);
  });

  it('converts WebM/Opus (what a browser records) and Ogg/Vorbis and MP3 through ffmpeg to 16 kHz', async (t) => {
    if (!onPath('ffmpeg')) return t.skip('ffmpeg is not installed');
    const wav = encodeWav(tone(48000, 2));
    const cases: [string, string[], string][] = [
      ['webm', ['-c:a', 'libopus', '-f', 'webm'], 'audio/webm;codecs=opus'],
      ['ogg', ['-c:a', 'libopus', '-f', 'ogg'], 'audio/ogg'],
      ['mp3', ['-c:a', 'libmp3lame', '-f', 'mp3'], 'audio/mpeg'],
      ['flac', ['-c:a', 'flac', '-f', 'flac'], 'audio/flac'],
    ];
    for (const [kind, args, type] of cases) {
      const probe = spawnSync('ffmpeg', ['-hide_banner', '-encoders']).stdout.toString();
      const codec = args[1]!;
      if (!probe.includes(codec)) continue; // an ffmpeg built without this encoder
      const bytes = ffmpegEncode(wav, args);
      assert.equal(sniff(bytes), kind);
      const a = await toAudio(bytes, type);
      assert.equal(a.sampleRate, 16000, kind);
      assert.ok(Math.abs(a.samples.length / 16000 - 2) < 0.1, `${kind}: ${a.samples.length / 16000} s`);
      const peak = a.samples.subarray(4000, 28000).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      assert.ok(peak > 0.35 && peak < 0.65, `${kind}: peak ${peak}`);
    }
  });

  it('answers 415 for bytes no converter can read, 400 for empty, too big or too long', async (t) => {
    await assert.rejects(toAudio(new Uint8Array(0)), is(400, /empty/));
    await assert.rejects(toAudio(new Uint8Array(2000), undefined, { maxBytes: 1000 }), is(400, /larger/));
    await assert.rejects(toAudio(encodeWav(tone(8000, 3)), undefined, { maxSeconds: 2 }), is(400, /longer/));
    if (!onPath('ffmpeg') && !onPath('sox')) return t.skip('no converter installed');
    await assert.rejects(toAudio(new TextEncoder().encode('this is certainly not audio '.repeat(40)), 'audio/webm'), is(415, /cannot read/));
    await assert.rejects(toAudio(Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 'audio/webm'), is(415));
  });

  it('falls back to sox for Ogg and FLAC, and says what is missing for WebM or with no converter', async (t) => {
    if (!onPath('ffmpeg') || !onPath('sox')) return t.skip('needs ffmpeg (to make the input) and sox');
    const wav = encodeWav(tone(16000, 1));
    for (const args of [['-c:a', 'flac', '-f', 'flac'], ['-c:a', 'libvorbis', '-f', 'ogg']]) {
      const a = await toAudio(ffmpegEncode(wav, args), undefined, { converters: ['sox'] });
      assert.equal(a.sampleRate, 16000);
      assert.ok(Math.abs(a.samples.length - 16000) < 400, `${args[1]}: ${a.samples.length}`);
    }
    await assert.rejects(toAudio(ffmpegEncode(wav, ['-c:a', 'libopus', '-f', 'webm']), 'audio/webm', { converters: ['sox'] }), is(415, /install ffmpeg/));
    await assert.rejects(toAudio(ffmpegEncode(wav, ['-c:a', 'flac', '-f', 'flac']), 'audio/flac', { converters: [] }), is(415, /send WAV or 16-bit PCM/));
  });

  it('passes an abort to the converter', async (t) => {
    if (!onPath('ffmpeg')) return t.skip('ffmpeg is not installed');
    const bytes = ffmpegEncode(encodeWav(tone(16000, 1)), ['-c:a', 'flac', '-f', 'flac']);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await assert.rejects(toAudio(bytes, 'audio/flac', { signal: ac.signal }), /stop/);
  });
});
