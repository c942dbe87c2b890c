// Text-to-speech with espeak-ng (Debian `espeak-ng`): formant synthesis, robotic but clear, about
// a hundred languages, 50–150× faster than real time. The always-available fallback TTS.
import { VoiceError, type Audio, type EngineInfo, type SynthesizeOptions, type TtsEngine } from '../engine.js';
import { onPath, run, which } from '../proc.js';
import { decodeWav } from '../wav.js';

export interface EspeakOptions {
  /** The binary (default `espeak-ng` on PATH). */
  readonly binary?: string;
  /** Words per minute (espeak-ng's default is 175). */
  readonly speed?: number;
}

/** A voice name or language tag espeak-ng can take with -v (letters, digits, -, _, +). */
const VOICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_+-]{0,63}$/;

export class EspeakEngine implements TtsEngine {
  readonly id = 'espeak-ng';
  private readonly binary: string;
  private languages: Promise<Set<string>> | undefined;

  constructor(private readonly o: EspeakOptions = {}) {
    this.binary = o.binary ?? 'espeak-ng';
  }

  /** The language tags of the installed voices (from `espeak-ng --voices`). */
  private voices(): Promise<Set<string>> {
    this.languages ??= run(this.binary, ['--voices'], { timeoutMs: 15_000 }).then(
      (r) => new Set(parseVoiceList(r.stdout.toString('utf8'))),
      () => new Set<string>(),
    );
    return this.languages;
  }

  async info(): Promise<EngineInfo> {
    const base = { id: this.id, family: 'system' } as const;
    if (!onPath(this.binary)) return { ...base, available: false, detail: `${this.binary} not found (apt install espeak-ng)` };
    const version = (await which(this.binary, ['--version'])) ?? this.binary;
    const langs = [...(await this.voices())].sort();
    return { ...base, available: true, detail: `${version.replace(/\s+Data at:.*$/, '')}; ${langs.length} languages`, languages: langs };
  }

  /** The -v argument for a request: the voice if given, else the best match for the language. */
  async voiceFor(opts: SynthesizeOptions): Promise<string> {
    if (opts.voice !== undefined) {
      if (!VOICE_NAME.test(opts.voice)) throw new VoiceError(`bad espeak-ng voice name "${opts.voice}"`, 400);
      return opts.voice;
    }
    const lang = (opts.language ?? 'en').toLowerCase().replace(/_/g, '-');
    if (!VOICE_NAME.test(lang)) throw new VoiceError(`bad language tag "${opts.language}"`, 400);
    const known = await this.voices();
    // "en" alone means British English to espeak-ng; most callers mean American.
    if (lang === 'en' && known.has('en-us')) return 'en-us';
    if (known.size === 0 || known.has(lang)) return lang;
    const primary = lang.split('-')[0]!;
    if (known.has(primary)) return primary;
    // "fr" is listed only as fr-fr, fr-be, …: the country named like the language first.
    if (known.has(`${primary}-${primary}`)) return `${primary}-${primary}`;
    const cousin = [...known].find((l) => l.startsWith(`${primary}-`));
    if (cousin) return cousin;
    throw new VoiceError(`espeak-ng has no voice for language "${opts.language}"`, 422);
  }

  async synthesize(text: string, opts: SynthesizeOptions = {}): Promise<Audio> {
    if (!onPath(this.binary)) throw new VoiceError(`${this.binary} is not installed`, 503);
    const voice = await this.voiceFor(opts);
    const args = ['--stdout', '--stdin', '-v', voice, ...(this.o.speed ? ['-s', String(this.o.speed)] : [])];
    // Text on stdin: no argv length limit, and a text starting with "-" is not an option.
    const r = await run(this.binary, args, { input: text, ...(opts.signal ? { signal: opts.signal } : {}), timeoutMs: 60_000 + text.length * 20 });
    if (r.code !== 0 || r.stdout.length <= 44) throw new VoiceError(`espeak-ng failed (exit ${r.code}): ${r.stderr.trim().split('\n')[0] ?? ''}`, 503);
    return decodeWav(r.stdout);
  }
}

/** The Language column of `espeak-ng --voices`. */
export function parseVoiceList(out: string): string[] {
  const langs = new Set<string>();
  for (const line of out.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length >= 4 && /^\d+$/.test(cols[0]!)) langs.add(cols[1]!.toLowerCase());
  }
  return [...langs];
}
