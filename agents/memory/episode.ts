// What an agent writes down after a job: a condensed episodic memory (what was asked, what was
// answered), with entities and intent tags so later recall can filter on them. The summary is
// extractive (TextRank, the same as kind 5001) so it needs no model.
import type { SkillJob, SkillOutput } from '../../dvm/skill.js';
import type { NewMemory } from '../../memory/types.js';
import { summarizeText } from '../skills/textrank.js';

/** Tags that make a memory findable by filter: who asked, which kind, which skill. */
export const customerTag = (pubkey: string): string => `customer:${pubkey}`;
export const kindTag = (kind: number): string => `kind:${kind}`;
/** Memories of encrypted jobs carry this tag and are never returned to other customers (5302). */
export const PRIVATE_TAG = 'private';

const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1).trimEnd()}…`);

function condense(text: string, maxChars: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= maxChars) return flat;
  try {
    return clip(summarizeText([text], { n: 2, unit: 'sentences' }).replace(/\s+/g, ' '), maxChars);
  } catch {
    return clip(flat, maxChars);
  }
}

/**
 * Entities worth a tag: hashtags, URLs' hosts, and capitalised words that do not start a sentence
 * (names, places, products). Crude on purpose: it runs on every job and must never fail.
 */
export function entitiesOf(text: string, max = 8): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/#([\p{L}\p{N}_]{2,40})/gu)) out.add(`#${m[1]!.toLowerCase()}`);
  for (const m of text.matchAll(/https?:\/\/([a-z0-9.-]+)/gi)) out.add(m[1]!.toLowerCase());
  for (const m of text.matchAll(/(?<![.!?]\s|^)\b(\p{Lu}[\p{L}\p{N}'-]{2,30}(?:\s\p{Lu}[\p{L}\p{N}'-]{1,30})*)/gu)) out.add(m[1]!);
  return [...out].slice(0, max);
}

export interface EpisodeInput {
  readonly job: SkillJob;
  readonly output: SkillOutput;
  readonly skillName: string;
  readonly agentPubkey: string;
  /** The result event's id, when it is known. */
  readonly resultId?: string;
  readonly now?: number;
}

export function episodeOf(o: EpisodeInput): NewMemory {
  const req = o.job.request;
  const asked = condense(o.job.inputs.map((i) => i.text).join('\n'), 400);
  const answered = condense(o.output.content, 300);
  const params = req.params.map(([k, v]) => `${k}=${v}`).join(', ');
  const text = `${o.skillName} job (kind ${req.kind}) for ${req.customer.slice(0, 12)}: asked "${asked}"${params ? ` with ${params}` : ''}; answered "${answered}"`;
  const tags = [customerTag(req.customer), kindTag(req.kind), `skill:${o.skillName}`, ...entitiesOf(asked), ...(req.encryption ? [PRIVATE_TAG] : [])];
  return {
    text,
    kind: 'episodic',
    owner: o.agentPubkey,
    sourceEvents: [req.id, ...(o.resultId ? [o.resultId] : [])],
    tags,
    importance: 0.5,
    ...(o.now !== undefined ? { createdAt: o.now } : {}),
  };
}
