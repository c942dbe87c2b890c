// Any audio a client sends, as `Audio`: WAV and raw PCM are read in JS; everything else (WebM/Opus
// from a browser's MediaRecorder, Ogg, MP3, FLAC, MP4) goes through ffmpeg, or sox when ffmpeg is
// absent, to 16 kHz mono 16-bit WAV. Limits keep one request from tying up the machine.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VoiceError, type Audio } from './engine.js';
import { run, which } from './proc.js';
import { decodeWav, isWav } from './wav.js';

export const MAX_AUDIO_BYTES = 25 * 1024 * 1024;
export const MAX_AUDIO_SECONDS = 600;

export interface ConvertOptions {
  readonly signal?: AbortSignal;
  /** Default MAX_AUDIO_BYTES (25 MB). */
  readonly maxBytes?: number;
  /** Default MAX_AUDIO_SECONDS (10 minutes). */
  readonly maxSeconds?: number;
  /** The converters to try, in order (default ffmpeg, then sox); [] accepts only WAV and PCM. */
  readonly converters?: readonly ('ffmpeg' | 'sox')[];
}

/** Parses `audio/pcm;rate=16000` and `audio/L16;rate=8000;channels=2`; undefined for other types. */
export function rawPcmFormat(contentType: string | undefined): { rate: number; channels: number; float: boolean; bigEndian: boolean } | undefined {
  if (!contentType) return undefined;
  const [type = '', ...params] = contentType.split(';').map((s) => s.trim());
  const t = type.toLowerCase();
  if (t !== 'audio/pcm' && t !== 'audio/l16') return undefined;
  const p = new Map(params.map((kv) => kv.split('=').map((s) => s.trim().toLowerCase()) as [string, string]));
  const rate = Number(p.get('rate') ?? 16000);
  const channels = Number(p.get('channels') ?? 1);
  if (!Number.isInteger(rate) || rate < 1000 || rate > 384_000) throw new VoiceError(`bad rate in ${contentType}`, 400);
  if (!Number.isInteger(channels) || channels < 1 || channels > 16) throw new VoiceError(`bad channels in ${contentType}`, 400);
  const encoding = p.get('encoding') ?? 's16le';
  if (encoding !== 's16le' && encoding !== 'f32le') throw new VoiceError(`unsupported PCM encoding ${encoding} (s16le or f32le)`, 415);
  // L16 is big-endian in RFC 3551, but browsers and speech APIs send little-endian: LE unless told.
  const bigEndian = /^big/.test(p.get('endianness') ?? p.get('endian') ?? '');
  return { rate, channels, float: encoding === 'f32le', bigEndian };
}

/** Raw interleaved PCM to mono Audio. */
export function decodePcm(bytes: Uint8Array, f: { rate: number; channels: number; float?: boolean; bigEndian?: boolean }): Audio {
  const width = f.float ? 4 : 2;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames = Math.floor(bytes.length / (width * f.channels));
  const samples = new Float32Array(frames);
  const le = !f.bigEndian;
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < f.channels; c++) {
      const at = (i * f.channels + c) * width;
      sum += f.float ? view.getFloat32(at, le) : view.getInt16(at, le) / 32768;
    }
    samples[i] = sum / f.channels;
  }
  return { sampleRate: f.rate, samples };
}

/** A container guess from the first bytes, for sox (which needs a type on a pipe) and messages. */
export function sniff(bytes: Uint8Array): 'wav' | 'ogg' | 'webm' | 'flac' | 'mp3' | 'mp4' | undefined {
  const s = (a: number, n: number) => String.fromCharCode(...bytes.subarray(a, a + n));
  if (isWav(bytes)) return 'wav';
  if (s(0, 4) === 'OggS') return 'ogg';
  if (s(0, 4) === 'fLaC') return 'flac';
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm';
  if (s(4, 4) === 'ftyp') return 'mp4';
  if (s(0, 3) === 'ID3' || (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)) return 'mp3';
  return undefined;
}

/** Decodes audio bytes of any supported kind to mono Audio (at its own sample rate for WAV/PCM, 16 kHz otherwise). */
export async function toAudio(bytes: Uint8Array, contentType?: string, o: ConvertOptions = {}): Promise<Audio> {
  const maxBytes = o.maxBytes ?? MAX_AUDIO_BYTES;
  const maxSeconds = o.maxSeconds ?? MAX_AUDIO_SECONDS;
  if (bytes.length > maxBytes) throw new VoiceError(`audio larger than ${Math.round(maxBytes / 1024 / 1024)} MB`, 400);
  if (bytes.length === 0) throw new VoiceError('no audio: the body is empty', 400);
  let audio: Audio;
  const pcm = rawPcmFormat(contentType);
  if (pcm) audio = decodePcm(bytes, pcm);
  else if (isWav(bytes)) {
    try {
      audio = decodeWav(bytes);
    } catch (err) {
      // A-law, µ-law and ADPCM WAVs (telephony) are left to the converter.
      if (!(err instanceof VoiceError && err.message.startsWith('unsupported WAV encoding'))) throw err;
      audio = await convert(bytes, maxSeconds, o);
    }
  } else audio = await convert(bytes, maxSeconds, o);
  if (audio.samples.length / audio.sampleRate > maxSeconds) throw new VoiceError(`audio longer than ${Math.round(maxSeconds / 60)} minutes`, 400);
  return audio;
}

/** Through ffmpeg (preferred) or sox to 16 kHz mono s16 WAV. */
async function convert(bytes: Uint8Array, maxSeconds: number, o: ConvertOptions): Promise<Audio> {
  const kind = sniff(bytes);
  const allowed = o.converters ?? ['ffmpeg', 'sox'];
  for (const c of allowed) {
    if (c === 'ffmpeg' && (await which('ffmpeg', ['-version']))) return viaFfmpeg(bytes, kind, maxSeconds, o.signal);
    if (c === 'sox' && (await which('sox', ['--version']))) return viaSox(bytes, kind, o.signal);
  }
  throw new VoiceError(`cannot read ${kind ?? 'this'} audio: send WAV or 16-bit PCM (neither ffmpeg nor sox is installed to convert other formats)`, 415);
}

async function viaFfmpeg(bytes: Uint8Array, kind: string | undefined, maxSeconds: number, signal: AbortSignal | undefined): Promise<Audio> {
  const out = ['-ac', '1', '-ar', '16000', '-c:a', 'pcm_s16le', '-t', String(maxSeconds + 1), '-f', 'wav', 'pipe:1'];
  // MP4 keeps its index at the end as often as not: it needs a seekable file, not a pipe.
  if (kind === 'mp4') return withTempFile(bytes, 'in.mp4', (path) => ffmpeg(['-i', path, ...out], undefined, signal));
  return ffmpeg(['-i', 'pipe:0', ...out], bytes, signal);
}

async function ffmpeg(args: string[], input: Uint8Array | undefined, signal: AbortSignal | undefined): Promise<Audio> {
  const r = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], { ...(input ? { input } : {}), ...(signal ? { signal } : {}), timeoutMs: 120_000 });
  if (r.code !== 0 || r.stdout.length <= 44) throw new VoiceError(`cannot read this audio (ffmpeg: ${firstLine(r.stderr) || `exit ${r.code}`})`, 415);
  return decodeWav(r.stdout);
}

async function viaSox(bytes: Uint8Array, kind: string | undefined, signal: AbortSignal | undefined): Promise<Audio> {
  if (!kind || kind === 'webm' || kind === 'mp4') throw new VoiceError(`cannot read ${kind ?? 'this'} audio with sox (install ffmpeg for WebM/Opus and MP4)`, 415);
  const r = await run('sox', ['-t', kind, '-', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'wav', '-'], { input: bytes, ...(signal ? { signal } : {}), timeoutMs: 120_000 });
  if (r.code !== 0 || r.stdout.length <= 44) throw new VoiceError(`cannot read this audio (sox: ${firstLine(r.stderr) || `exit ${r.code}`})`, 415);
  return decodeWav(r.stdout);
}

async function withTempFile<T>(bytes: Uint8Array, name: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'timmy-voice-'));
  try {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const firstLine = (s: string): string => s.split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 200) ?? '';
