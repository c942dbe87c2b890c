// Text-to-speech with Festival Lite (Debian `flite`): English only, small and fast, and its voices
// are closer to natural speech than espeak-ng's: the default system TTS speaks English with it
// (engines/system.ts) and other languages with espeak-ng.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VoiceError, type Audio, type EngineInfo, type SynthesizeOptions, type TtsEngine } from '../engine.js';
import { onPath, run } from '../proc.js';
import { decodeWav } from '../wav.js';
import { isEnglish } from './pocketsphinx.js';

export interface FliteOptions {
  readonly binary?: string;
  /** Default voice (flite -lv lists them); default `slt` when installed (16 kHz), else flite's own. */
  readonly voice?: string;
}

const VOICE_NAME = /^[A-Za-z0-9_]{1,32}$/;

export class FliteEngine implements TtsEngine {
  readonly id = 'flite';
  private readonly binary: string;
  private voiceList: Promise<string[]> | undefined;

  constructor(private readonly o: FliteOptions = {}) {
    this.binary = o.binary ?? 'flite';
  }

  /** `flite -lv`: "Voices available: kal awb_time kal16 awb rms slt". */
  voices(): Promise<string[]> {
    this.voiceList ??= run(this.binary, ['-lv'], { timeoutMs: 15_000 }).then(
      (r) => (/Voices available:(.*)/.exec(r.stdout.toString('utf8') + r.stderr)?.[1] ?? '').trim().split(/\s+/).filter(Boolean),
      () => [],
    );
    return this.voiceList;
  }

  async info(): Promise<EngineInfo> {
    const base = { id: this.id, family: 'system', languages: ['en'] } as const;
    if (!onPath(this.binary)) return { ...base, available: false, detail: `${this.binary} not found (apt install flite)` };
    return { ...base, available: true, detail: `Festival Lite, voices: ${(await this.voices()).join(', ') || 'default'}` };
  }

  async synthesize(text: string, opts: SynthesizeOptions = {}): Promise<Audio> {
    if (!isEnglish(opts.language)) throw new VoiceError(`flite speaks English only, not "${opts.language}"`, 422);
    if (!onPath(this.binary)) throw new VoiceError(`${this.binary} is not installed`, 503);
    const voices = await this.voices();
    const voice = opts.voice ?? this.o.voice ?? (voices.includes('slt') ? 'slt' : undefined);
    if (voice !== undefined) {
      if (!VOICE_NAME.test(voice)) throw new VoiceError(`bad flite voice name "${voice}"`, 400);
      if (voices.length > 0 && !voices.includes(voice)) throw new VoiceError(`flite has no voice "${voice}" (it has ${voices.join(', ')})`, 422);
    }
    const dir = await mkdtemp(join(tmpdir(), 'timmy-flite-'));
    try {
      // Text from a file: no argv length limit, and flite's -t would read a leading "-" as an option.
      const input = join(dir, 'in.txt');
      const output = join(dir, 'out.wav');
      await writeFile(input, text);
      const r = await run(this.binary, [...(voice ? ['-voice', voice] : []), '-f', input, '-o', output], { ...(opts.signal ? { signal: opts.signal } : {}), timeoutMs: 60_000 + text.length * 20 });
      if (r.code !== 0) throw new VoiceError(`flite failed (exit ${r.code}): ${r.stderr.trim().split('\n')[0] ?? ''}`, 503);
      return decodeWav(await readFile(output));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
