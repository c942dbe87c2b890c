// Kind 5050, text generation, through the LLM router (../llm/router.ts): the providers the operator
// configured, in order, each behind a circuit breaker. When none is reachable the router throws a
// SkillError ("no language model is reachable: tried ..."), which the DVM sends as `error` feedback.
//
// Input: the prompt (every text input, joined by a blank line; 5050.md's example marks it "prompt").
// Params (5050.md): `model` (used only if a provider lists it), `max_tokens`, `temperature`,
// `top_k` / `top-k`, `top_p` / `top-p`, `frequency_penalty`. Output: text/plain.
import { SkillError, type Skill, type SkillContext, type SkillJob, type SkillOutput } from '../../dvm/skill.js';
import type { ChatMessage, GenerateRequest, GenerateResult } from '../llm/provider.js';
import { inputTexts, intParam, numberParam } from './params.js';

export const GENERATE_KIND = 5050;

/** What the skill needs of the router (LlmRouter implements it). */
export interface TextGenerator {
  generate(req: GenerateRequest, signal?: AbortSignal): Promise<GenerateResult>;
}

export interface GenerateSkillOptions {
  /** The persona's system prompt. */
  system?: string;
  /** max_tokens when the job gives none (default 512). */
  defaultMaxTokens?: number;
  /** The largest max_tokens a job may ask for (default 4096). */
  maxTokens?: number;
}

export const promptOf = (job: SkillJob): string => inputTexts(job).join('\n\n').trim();

/** What the agent recalled about this customer, as a paragraph for the system prompt. */
export function memoryNote(ctx: Pick<SkillContext, 'memories'>): string | undefined {
  const m = ctx.memories ?? [];
  if (m.length === 0) return undefined;
  const lines = m.map((x) => `- (${new Date(x.createdAt * 1000).toISOString().slice(0, 10)}) ${x.text}`);
  return `What you remember from earlier work for this customer (use it if it helps, e.g. their preferences):\n${lines.join('\n')}`;
}

export function generateSkill(llm: TextGenerator, o: GenerateSkillOptions = {}): Skill {
  const cap = o.maxTokens ?? 4096;
  const requestOf = (job: SkillJob, ctx?: SkillContext): GenerateRequest & { maxTokens: number } => {
    const prompt = promptOf(job);
    if (!prompt) throw new SkillError('nothing to generate from: give a prompt as a text input');
    const system = [o.system, ctx ? memoryNote(ctx) : undefined].filter((x): x is string => !!x).join('\n\n');
    const messages: ChatMessage[] = [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: prompt }];
    const model = job.param('model')?.trim();
    const temperature = numberParam(job, ['temperature'], 0, 2);
    const topK = numberParam(job, ['top_k', 'top-k'], 1, 1000);
    const topP = numberParam(job, ['top_p', 'top-p'], 0, 1);
    const frequencyPenalty = numberParam(job, ['frequency_penalty', 'frequency-penalty'], -2, 2);
    return {
      messages,
      maxTokens: intParam(job, 'max_tokens', 1, cap, Math.min(o.defaultMaxTokens ?? 512, cap))!,
      ...(model ? { model } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(topK !== undefined ? { topK: Math.round(topK) } : {}),
      ...(topP !== undefined ? { topP } : {}),
      ...(frequencyPenalty !== undefined ? { frequencyPenalty } : {}),
    };
  };
  return {
    kind: GENERATE_KIND,
    name: 'generate',
    // About four characters a token: one unit per started 1,000 tokens of prompt plus answer budget.
    units: (job) => {
      let maxTokens: number;
      try {
        maxTokens = requestOf(job).maxTokens;
      } catch {
        maxTokens = o.defaultMaxTokens ?? 512;
      }
      return Math.max(1, Math.ceil((promptOf(job).length / 4 + maxTokens) / 1000));
    },
    async run(job: SkillJob, ctx: SkillContext): Promise<SkillOutput> {
      const req = requestOf(job, ctx);
      ctx.progress('asking the language model');
      const out = await llm.generate(req, ctx.signal);
      if (!out.text.trim()) throw new SkillError(`the language model (${out.provider}) returned an empty answer`);
      return { content: out.text };
    },
  };
}
