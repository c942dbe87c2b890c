// Piper: a VITS voice exported to ONNX (rhasspy/piper-voices), run through onnxruntime-node. Text
// is phonemized by espeak-ng (WASM), mapped to ids with the voice's own phoneme_id_map, and
// synthesized one sentence at a time: the time to first audio is one sentence, and a long text
// can be streamed or aborted between sentences.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { collectAudio, VoiceError, type Audio, type EngineInfo, type SynthesizeOptions, type TtsEngine } from '../engine.js';
import { espeakVoice, espeakVoiceName, hasSpeech, phonemizeSentence, splitSentences } from '../phonemes.js';
import { parsePiperConfig, piperLanguage, type PiperConfig } from './config.js';
import { phonemesToIds } from './ids.js';

type Ort = typeof import('onnxruntime-node');

export interface PiperOpenOptions {
  /** The voice's file name without `.onnx` ("en_US-lessac-medium"); default: the only/first one. */
  readonly voice?: string;
  /** onnxruntime intra-op threads; default 1 (a shared machine, and VITS is small). */
  readonly threads?: number;
  /** Silence between sentences, seconds (piper's default 0.2). */
  readonly sentenceSilence?: number;
}

export interface PiperSynthesizeOptions extends SynthesizeOptions {
  /** Speaker name (speaker_id_map) or number, for multi-speaker voices. `voice` is read the same way. */
  readonly speaker?: string | number;
  /** Overrides the config's inference scales. */
  readonly lengthScale?: number;
  readonly noiseScale?: number;
  readonly noiseW?: number;
}

interface VoiceFiles {
  readonly name: string;
  readonly model: string;
  readonly config: string;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Finds `<name>.onnx` and `<name>.onnx.json` in dir; lists what is missing instead of throwing. */
export async function findPiperVoice(dir: string, voice?: string): Promise<VoiceFiles | { missing: string[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return { missing: [`${dir}/ (no such directory)`] };
  }
  const models = names.filter((n) => n.endsWith('.onnx')).map((n) => n.slice(0, -'.onnx'.length));
  const configs = names.filter((n) => n.endsWith('.onnx.json')).map((n) => n.slice(0, -'.onnx.json'.length));
  const name = voice ?? models.find((m) => configs.includes(m)) ?? models[0] ?? configs[0];
  if (name === undefined) return { missing: [join(dir, '<voice>.onnx'), join(dir, '<voice>.onnx.json')] };
  const model = join(dir, `${name}.onnx`);
  const config = join(dir, `${name}.onnx.json`);
  const missing = [];
  if (!(await exists(model))) missing.push(model);
  if (!(await exists(config))) missing.push(config);
  return missing.length ? { missing } : { name, model, config };
}

/** Samples with `n` zeros in front: the pause between sentences. */
export function withLeadingSilence(samples: Float32Array, n: number): Float32Array {
  if (n <= 0) return samples;
  const out = new Float32Array(n + samples.length);
  out.set(samples, n);
  return out;
}

/**
 * The espeak voice a Piper voice is phonemized with (the voice decides; a request's language only
 * matters when the config names none); VoiceError(422) when the WASM build lacks it.
 */
export function piperPhonemizerVoice(c: PiperConfig, language?: string): string {
  if (c.phoneme_type === 'text') return 'en-us';
  return c.espeak ? espeakVoiceName(c.espeak.voice) : espeakVoice(language ?? piperLanguage(c));
}

function missingMessage(missing: readonly string[]): string {
  return `piper: missing ${missing.join(', ')} (a voice is a .onnx with its .onnx.json, from huggingface.co/rhasspy/piper-voices)`;
}

/**
 * Scales a sentence to full range, as piper does before writing int16: VITS output levels vary
 * from sentence to sentence. Peaks under 0.01 count as 0.01, so near-silence is not blown up to noise.
 */
export function normalizePeak(samples: Float32Array): Float32Array {
  let peak = 0.01;
  for (const v of samples) peak = Math.max(peak, Math.abs(v));
  const k = 1 / peak;
  for (let i = 0; i < samples.length; i++) samples[i] = samples[i]! * k;
  return samples;
}

export class PiperEngine implements TtsEngine {
  readonly id: string;
  /** Phonemes the voice had no ids for, with counts, since open (espeak/voice mismatch shows here). */
  readonly missingPhonemes = new Map<string, number>();

  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    private readonly files: VoiceFiles,
    readonly config: PiperConfig,
    private readonly sentenceSilence: number,
  ) {
    this.id = `piper-${files.name}`;
  }

  /** What is (not) there, without loading anything: for `timmy voice info` before an open. */
  static async probe(dir: string, o: PiperOpenOptions = {}): Promise<EngineInfo> {
    const f = await findPiperVoice(dir, o.voice);
    if ('missing' in f) return { id: `piper-${o.voice ?? 'voice'}`, family: 'neural', available: false, detail: missingMessage(f.missing) };
    const id = `piper-${f.name}`;
    try {
      const c = parsePiperConfig(await readFile(f.config, 'utf8'), basename(f.config));
      piperPhonemizerVoice(c);
      return { id, family: 'neural', available: true, detail: `${f.model} (not loaded)`, languages: [piperLanguage(c)] };
    } catch (e) {
      return { id, family: 'neural', available: false, detail: (e as Error).message };
    }
  }

  static async open(dir: string, o: PiperOpenOptions = {}): Promise<PiperEngine> {
    const f = await findPiperVoice(dir, o.voice);
    if ('missing' in f) throw new VoiceError(missingMessage(f.missing), 503);
    const config = parsePiperConfig(await readFile(f.config, 'utf8'), basename(f.config));
    piperPhonemizerVoice(config); // fail at open, not at the first sentence, for a language we cannot phonemize
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(f.model, {
      intraOpNumThreads: o.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    for (const name of ['input', 'input_lengths', 'scales']) {
      if (!session.inputNames.includes(name)) {
        await session.release();
        throw new VoiceError(`piper: ${basename(f.model)} has no input "${name}" (inputs: ${session.inputNames.join(', ')}); not a Piper voice`, 422);
      }
    }
    return new PiperEngine(ort, session, f, config, o.sentenceSilence ?? 0.2);
  }

  get sampleRate(): number {
    return this.config.audio.sample_rate;
  }

  async info(): Promise<EngineInfo> {
    const missing = [];
    if (!(await exists(this.files.model))) missing.push(this.files.model);
    if (!(await exists(this.files.config))) missing.push(this.files.config);
    const languages = [piperLanguage(this.config)];
    if (missing.length) return { id: this.id, family: 'neural', available: false, detail: missingMessage(missing), languages };
    const speakers = this.config.num_speakers > 1 ? `, ${this.config.num_speakers} speakers` : '';
    return { id: this.id, family: 'neural', available: true, detail: `${this.files.model} (${this.sampleRate} Hz${speakers}, onnxruntime CPU)`, languages };
  }

  async synthesize(text: string, opts: PiperSynthesizeOptions = {}): Promise<Audio> {
    return collectAudio(this.synthesizeStream(text, opts), this.sampleRate);
  }

  /**
   * One Audio per sentence, each after the first led by the sentence silence, so concatenating
   * them gives what synthesize() returns. A sentence is phonemized only when its turn comes (time
   * to first audio is one sentence), and the signal is checked before each.
   */
  async *synthesizeStream(text: string, opts: PiperSynthesizeOptions = {}): AsyncIterable<Audio> {
    const sid = this.speakerId(opts.speaker ?? opts.voice);
    const voice = piperPhonemizerVoice(this.config, opts.language);
    const silence = Math.round(this.sentenceSilence * this.sampleRate);
    let first = true;
    for (const sentence of splitSentences(text)) {
      opts.signal?.throwIfAborted();
      const phonemes = this.config.phoneme_type === 'text' ? sentence : await phonemizeSentence(sentence, voice);
      if (!hasSpeech(phonemes)) continue;
      opts.signal?.throwIfAborted();
      const audio = await this.infer(phonemes, sid, opts);
      yield { sampleRate: this.sampleRate, samples: first ? audio : withLeadingSilence(audio, silence) };
      first = false;
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  /** The sid input, or undefined for single-speaker voices (their graph has no sid). */
  private speakerId(speaker: string | number | undefined): number | undefined {
    if (!this.session.inputNames.includes('sid')) return undefined;
    if (speaker === undefined || speaker === '') return 0;
    const byName = this.config.speaker_id_map[String(speaker)];
    if (byName !== undefined) return byName;
    const n = Number(speaker);
    if (Number.isInteger(n) && n >= 0 && n < this.config.num_speakers) return n;
    throw new VoiceError(`piper: no speaker "${speaker}" in ${this.id} (${Object.keys(this.config.speaker_id_map).slice(0, 10).join(', ') || `0..${this.config.num_speakers - 1}`})`, 400);
  }

  private async infer(phonemes: string, sid: number | undefined, opts: PiperSynthesizeOptions): Promise<Float32Array> {
    const { ids, missing } = phonemesToIds(phonemes, this.config.phoneme_id_map);
    for (const [p, n] of missing) this.missingPhonemes.set(p, (this.missingPhonemes.get(p) ?? 0) + n);
    const { Tensor } = this.ort;
    const inf = this.config.inference;
    const feeds: Record<string, Tensor> = {
      input: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      input_lengths: new Tensor('int64', BigInt64Array.from([BigInt(ids.length)]), [1]),
      scales: new Tensor('float32', Float32Array.from([opts.noiseScale ?? inf.noise_scale, opts.lengthScale ?? inf.length_scale, opts.noiseW ?? inf.noise_w]), [3]),
    };
    if (sid !== undefined) feeds['sid'] = new Tensor('int64', BigInt64Array.from([BigInt(sid)]), [1]);
    const out = await this.session.run(feeds);
    const t = out['output'] ?? out[this.session.outputNames[0] ?? ''];
    if (!t || t.type !== 'float32') throw new VoiceError(`piper: ${this.id} gave no float output`, 422);
    // [1, 1, samples] or [1, samples]: the data is the samples either way. Copy: ORT may reuse it.
    const samples = Float32Array.from(t.data as Float32Array);
    for (const v of Object.values(out)) v.dispose();
    return normalizePeak(samples);
  }
}
