// Kind 5250, text-to-speech, on the machine's own engines (voice/: Piper or Kokoro when their files
// are installed, espeak-ng or flite always) through the VoicePort.
//
// Input (5250.md): a prompt (`text`), an event, or a prior job (chained); every input's text, joined.
// Param: `language` (ISO 639-1/639-2; the service's default when absent). Output (5250.md: "a link
// to the generated audio"): the content is the URL of a WAV file this instance serves
// (/voice/audio/<sha256>.wav); tags describe the file the way NIP-94 does (m, x, size) plus its
// duration, so a client can play it without a HEAD request. Units: per started 1,000 characters.
import { createHash } from 'node:crypto';
import { SkillError, type Skill, type SkillContext, type SkillJob, type SkillOutput } from '../../dvm/skill.js';
import type { Audio } from '../../voice/engine.js';
import { encodeWav } from '../../voice/wav.js';
import { inputTexts, unitsByChars } from './params.js';
import { asSkillError } from './stt.js';
import type { VoicePort } from './voice-port.js';

export const TTS_KIND = 5250;
/** Longer texts are refused (the voice service's own limit, voice/service.ts MAX_TEXT_CHARS): about five minutes of speech. */
export const MAX_TTS_CHARS = 5000;

const textOf = (job: SkillJob): string => inputTexts(job).map((t) => t.trim()).filter(Boolean).join('\n\n');

export function ttsSkill(voice: VoicePort): Skill {
  return {
    kind: TTS_KIND,
    name: 'text-to-speech',
    units: (job) => unitsByChars(textOf(job).length),
    async run(job: SkillJob, ctx: SkillContext): Promise<SkillOutput> {
      const text = textOf(job);
      if (!text) throw new SkillError('nothing to speak: give the text as an input (text, event or job)');
      if (text.length > MAX_TTS_CHARS) throw new SkillError(`the text is ${text.length} characters; at most ${MAX_TTS_CHARS} are spoken per job`);
      const language = job.param('language')?.trim().toLowerCase() || undefined;
      if (language !== undefined && !/^[a-z]{2,3}(-[a-z0-9]{2,8})*$/.test(language)) throw new SkillError(`param language must be an ISO 639 code such as "en", got ${JSON.stringify(language)}`);
      ctx.progress(`speaking ${text.length} characters`);
      let audio: Audio;
      try {
        audio = await voice.speak(text, { signal: ctx.signal, ...(language ? { language } : {}) });
      } catch (err) {
        throw asSkillError(err, 'speech synthesis failed');
      }
      ctx.signal.throwIfAborted();
      const wav = encodeWav(audio);
      const url = await voice.audioSink(wav);
      const seconds = audio.samples.length / audio.sampleRate;
      return {
        content: url,
        tags: [
          ['alt', `Speech audio (${seconds.toFixed(1)} s, WAV): ${url}`],
          ['m', 'audio/wav'],
          ['x', createHash('sha256').update(wav).digest('hex')],
          ['size', String(wav.length)],
          ['duration', seconds.toFixed(2)],
        ],
      };
    },
  };
}
