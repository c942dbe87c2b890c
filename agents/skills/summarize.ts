// Kind 5001, summarization: extractive, with TextRank over the sentences of every input (./textrank.ts).
// Every sentence of the summary is one the author wrote; nothing leaves the machine.
//
// Params: `length` as 5001.md defines it ("N words", "N paragraphs"), plus "N sentences" or a bare N
// (sentences); `max_sentences` (ours) is the same as "N sentences". Default: about a fifth of the
// sentences, 1 to 5. Output: text/plain, paragraphs separated by a blank line.
import { SkillError, type Skill, type SkillContext, type SkillJob, type SkillOutput } from '../../dvm/skill.js';
import { inputTexts, intParam, unitsByChars } from './params.js';
import { layout, parseLength, rankSentences, select, splitSentences, defaultLength, type SummaryLength } from './textrank.js';

export const SUMMARIZE_KIND = 5001;
/** Sentences beyond this many are not ranked (the graph is quadratic in them). */
export const MAX_SUMMARY_SENTENCES = 2000;

function lengthOf(job: SkillJob): SummaryLength | undefined {
  const raw = job.param('length');
  if (raw !== undefined) {
    const len = parseLength(raw);
    if (!len) throw new SkillError(`param length must look like "3 paragraphs", "120 words" or "5 sentences", got ${JSON.stringify(raw)}`);
    return len;
  }
  const n = intParam(job, 'max_sentences', 1, 10_000);
  return n === undefined ? undefined : { n, unit: 'sentences' };
}

export function summarizeSkill(): Skill {
  return {
    kind: SUMMARIZE_KIND,
    name: 'summarize',
    units: (job) => unitsByChars(inputTexts(job).reduce((n, t) => n + t.length, 0)),
    async run(job: SkillJob, ctx: SkillContext): Promise<SkillOutput> {
      const len = lengthOf(job);
      const all = splitSentences(inputTexts(job));
      if (all.length === 0) throw new SkillError('nothing to summarize: the inputs hold no text');
      const sentences = all.slice(0, MAX_SUMMARY_SENTENCES);
      if (all.length > sentences.length) ctx.progress(`the input has ${all.length} sentences; summarizing the first ${sentences.length}`);
      const scores = rankSentences(sentences, { check: () => ctx.signal.throwIfAborted() });
      const l = len ?? defaultLength(sentences.length);
      return { content: layout(select(sentences, scores, l), l) };
    },
  };
}
