// Speech-to-text with CMU PocketSphinx (Debian `pocketsphinx` + `pocketsphinx-en-us`): the
// engine that is always there when nothing neural is installed. English only, ~0.3× real time on
// two cores, word times from `-time yes`. One child process per call; the service calls it per
// VAD segment, two at a time.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VoiceError, type Audio, type EngineInfo, type SttEngine, type TranscribeOptions, type Transcript, type TranscriptSegment } from '../engine.js';
import { onPath, run } from '../proc.js';
import { encodeWav, resample } from '../wav.js';

export const POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface PocketSphinxOptions {
  /** The binary (default `pocketsphinx_continuous` on PATH). */
  readonly binary?: string;
  /** Holds `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  readonly modelDir?: string;
}

/** One recognised word with its times in seconds. */
export interface TimedWord {
  readonly word: string;
  readonly start: number;
  readonly end: number;
}

/** True for BCP-47 / ISO 639-1 tags PocketSphinx's en-us model can take (or none given). */
export function isEnglish(language: string | undefined): boolean {
  return language === undefined || language === '' || /^en(?:[-_].*)?$/i.test(language);
}

export class PocketSphinxEngine implements SttEngine {
  readonly id = 'pocketsphinx';
  private readonly binary: string;
  private readonly modelDir: string;

  constructor(o: PocketSphinxOptions = {}) {
    this.binary = o.binary ?? 'pocketsphinx_continuous';
    this.modelDir = o.modelDir ?? POCKETSPHINX_MODEL_DIR;
  }

  private files(): { hmm: string; lm: string; dict: string } {
    return { hmm: join(this.modelDir, 'en-us'), lm: join(this.modelDir, 'en-us.lm.bin'), dict: join(this.modelDir, 'cmudict-en-us.dict') };
  }

  async info(): Promise<EngineInfo> {
    const base = { id: this.id, family: 'system', languages: ['en'] } as const;
    if (!onPath(this.binary)) return { ...base, available: false, detail: `${this.binary} not found (apt install pocketsphinx pocketsphinx-en-us)` };
    const missing = Object.values(this.files()).filter((f) => !existsSync(f));
    if (missing.length > 0) return { ...base, available: false, detail: `model files missing: ${missing.join(', ')} (apt install pocketsphinx-en-us)` };
    return { ...base, available: true, detail: `CMU PocketSphinx (${this.binary}) with the en-us model in ${this.modelDir}` };
  }

  async transcribe(audio: Audio, opts: TranscribeOptions = {}): Promise<Transcript> {
    if (!isEnglish(opts.language)) throw new VoiceError(`pocketsphinx recognises English only, not "${opts.language}"`, 422);
    if (!onPath(this.binary)) throw new VoiceError(`${this.binary} is not installed`, 503);
    const a16 = resample(audio, 16_000);
    const dir = await mkdtemp(join(tmpdir(), 'timmy-ps-'));
    try {
      const wav = join(dir, 'in.wav');
      await writeFile(wav, encodeWav(a16));
      const f = this.files();
      const r = await run(this.binary, ['-infile', wav, '-hmm', f.hmm, '-lm', f.lm, '-dict', f.dict, '-time', 'yes', '-logfn', '/dev/null'], {
        ...(opts.signal ? { signal: opts.signal } : {}),
        // Generous: ~0.3× real time normally, but a loaded machine can be 10× slower.
        timeoutMs: 60_000 + (a16.samples.length / 16_000) * 10_000,
      });
      if (r.code !== 0) throw new VoiceError(`pocketsphinx failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}`, 503);
      const segments = parsePocketSphinx(r.stdout.toString('utf8'));
      const text = segments.map((s) => s.text).join(' ');
      opts.onPartial?.(text);
      return { text, segments, language: 'en', engine: this.id };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

const WORD_LINE = /^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?(?:e-?\d+)?)$/;

/**
 * `pocketsphinx_continuous -time yes` prints, per utterance it detects, the hypothesis line and
 * then one `word start end posterior` line per word, bracketed by `<s>` and `</s>`. Each utterance
 * becomes a segment; fillers (<sil>, [NOISE], ++UH++) are dropped and alternates (`the(2)`) named
 * by their base word.
 */
export function parsePocketSphinx(stdout: string): TranscriptSegment[] {
  const segments: TranscriptSegment[] = [];
  let words: TimedWord[] = [];
  const close = () => {
    if (words.length > 0) segments.push({ start: words[0]!.start, end: words[words.length - 1]!.end, text: words.map((w) => w.word).join(' ') });
    words = [];
  };
  for (const line of stdout.split('\n')) {
    const m = WORD_LINE.exec(line.trim());
    if (!m) continue;
    const token = m[1]!;
    if (token === '<s>') close();
    else if (token === '</s>') close();
    else if (isWord(token)) words.push({ word: token.replace(/\(\d+\)$/, ''), start: Number(m[2]), end: Number(m[3]) });
  }
  close();
  return segments;
}

function isWord(token: string): boolean {
  return !/^(<.*>|\[.*\]|\+\+.*\+\+|\+.*\+)$/.test(token);
}
