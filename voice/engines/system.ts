// The default system text-to-speech: flite for English, espeak-ng for every other language. Measured
// here (voice/README.md): PocketSphinx transcribes flite's `slt` voice at WER 0.06 and espeak-ng's
// formant voice at 0.84, and flite sounds closer to natural speech; but flite speaks English only,
// so a request in another language (or for an espeak-ng voice) goes to espeak-ng. The choice is per
// request because the language is: one engine chosen at start could not serve both well.
import { VoiceError, type Audio, type EngineInfo, type SynthesizeOptions, type TtsEngine } from '../engine.js';
import { EspeakEngine } from './espeak.js';
import { FliteEngine } from './flite.js';
import { isEnglish } from './pocketsphinx.js';

export const SYSTEM_TTS_ID = 'system';

export class SystemTtsEngine implements TtsEngine {
  readonly id = SYSTEM_TTS_ID;

  constructor(
    readonly flite: FliteEngine = new FliteEngine(),
    readonly espeak: EspeakEngine = new EspeakEngine(),
  ) {}

  async info(): Promise<EngineInfo> {
    const [f, e] = await Promise.all([this.flite.info(), this.espeak.info()]);
    const base = { id: this.id, family: 'system' } as const;
    const languages = [...new Set([...(f.available ? (f.languages ?? ['en']) : []), ...(e.available ? (e.languages ?? []) : [])])].sort();
    if (f.available && e.available) return { ...base, available: true, detail: 'flite for English, espeak-ng for other languages', languages };
    if (f.available) return { ...base, available: true, detail: `flite, English only (espeak-ng: ${e.detail})`, languages };
    if (e.available) return { ...base, available: true, detail: `espeak-ng for every language (flite: ${f.detail})`, languages };
    return { ...base, available: false, detail: `flite: ${f.detail}; espeak-ng: ${e.detail}` };
  }

  /** The engine a request goes to: a flite voice name goes to flite, any other voice to espeak-ng; else by language. */
  async engineFor(opts: SynthesizeOptions = {}): Promise<FliteEngine | EspeakEngine> {
    const [f, e] = await Promise.all([this.flite.info(), this.espeak.info()]);
    if (!f.available && !e.available) throw new VoiceError(`no system text-to-speech: flite: ${f.detail}; espeak-ng: ${e.detail}`, 503);
    if (opts.voice !== undefined) return f.available && (await this.flite.voices()).includes(opts.voice) ? this.flite : e.available ? this.espeak : this.flite;
    return f.available && (isEnglish(opts.language) || !e.available) ? this.flite : this.espeak;
  }

  async synthesize(text: string, opts: SynthesizeOptions = {}): Promise<Audio> {
    return (await this.engineFor(opts)).synthesize(text, opts);
  }
}
