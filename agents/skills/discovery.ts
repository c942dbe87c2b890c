// Kind 5300, content discovery: recent notes that people engage with.
//
// Algorithm: take the top-level notes (kind 1 without `e` tags) of the last `windowSec` (24 h),
// or, when a text input is given, those matching it as a NIP-50 search (5300.md's "philosophy"
// example); drop the user's own notes (param `p`, default the customer). Score each by the people
// who engaged with it in the window, each person counted once per way of engaging, the author
// not at all: reaction (kind 7) 1, reply (kind 1 with an `e` tag) 2, repost (kind 6, 16) 3,
// zap receipt (kind 9735) 4. Best first, ties newest first; notes nobody engaged with yet fill
// the rest, newest first. Param `max_results` (ours): default 20, at most 200.
// Output: a JSON-stringified list of `["e", <id>]` tags.
import { type Skill, type SkillContext, type SkillJob, type SkillOutput } from '../../dvm/skill.js';
import type { Filter, NostrEvent } from '../../nostr/nip01.js';
import { parseSearch } from '../../nostr/nip50.js';
import { inputTexts, intParam, pubkeyParam, queryEvents, tagListContent } from './params.js';

export const DISCOVERY_KIND = 5300;

export interface DiscoverySkillOptions {
  /** How far back to look, in seconds (default 24 h). */
  windowSec?: number;
  /** Candidate notes considered (default 500). */
  candidates?: number;
  relayHint?: string;
  /** Unix seconds clock (default: now). */
  now?: () => number;
}

export const ENGAGEMENT_WEIGHT: Readonly<Record<string, number>> = { reaction: 1, reply: 2, repost: 3, zap: 4 };

const IDS_PER_FILTER = 250;

function engagementType(e: NostrEvent): string | undefined {
  switch (e.kind) {
    case 7:
      return 'reaction';
    case 1:
      return 'reply';
    case 6:
    case 16:
      return 'repost';
    case 9735:
      return 'zap';
    default:
      return undefined;
  }
}

/** Who engaged: the zap sender for receipts (the `P` tag, else the description's pubkey), else the author. */
function engager(e: NostrEvent): string {
  if (e.kind !== 9735) return e.pubkey;
  const P = e.tags.find((t) => t[0] === 'P')?.[1];
  if (P) return P;
  try {
    const req = JSON.parse(e.tags.find((t) => t[0] === 'description')?.[1] ?? '') as { pubkey?: unknown };
    if (typeof req.pubkey === 'string') return req.pubkey;
  } catch {
    /* fall through */
  }
  return e.pubkey;
}

/** Scores notes by engagement events (pure; exported for tests and other rankers). */
export function scoreNotes(notes: readonly NostrEvent[], engagement: readonly NostrEvent[]): Map<string, number> {
  const byId = new Map(notes.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const score = new Map<string, number>();
  for (const e of engagement) {
    const type = engagementType(e);
    if (!type) continue;
    const who = engager(e);
    // Engagement points at the note with its `e` tags; a reply counts for the note it replies to and its root.
    for (const t of e.tags) {
      if (t[0] !== 'e' || !t[1]) continue;
      const note = byId.get(t[1]);
      if (!note || note.pubkey === who) continue;
      const key = `${note.id}:${type}:${who}`;
      if (seen.has(key)) continue;
      seen.add(key);
      score.set(note.id, (score.get(note.id) ?? 0) + (ENGAGEMENT_WEIGHT[type] ?? 0));
    }
  }
  return score;
}

export function discoverySkill(o: DiscoverySkillOptions = {}): Skill {
  const windowSec = o.windowSec ?? 86_400;
  const now = o.now ?? (() => Math.floor(Date.now() / 1000));
  return {
    kind: DISCOVERY_KIND,
    name: 'discovery',
    units: () => 1,
    async run(job: SkillJob, ctx: SkillContext): Promise<SkillOutput> {
      const p = job.param('p');
      const user = p !== undefined && p.trim() !== '' ? pubkeyParam(p, 'param p') : job.request.customer;
      const max = intParam(job, 'max_results', 1, 200, 20)!;
      const since = now() - windowSec;
      const topic = inputTexts(job).join(' ').trim();
      const filter: Filter = { kinds: [1], since, limit: o.candidates ?? 500 };
      if (parseSearch(topic).terms.length > 0) filter.search = topic;
      const notes = (await queryEvents(ctx, [filter])).filter((n) => n.pubkey !== user && !n.tags.some((t) => t[0] === 'e'));
      if (notes.length === 0) return { content: '[]' };

      const filters: Filter[] = [];
      for (let i = 0; i < notes.length; i += IDS_PER_FILTER)
        filters.push({ kinds: [1, 6, 7, 16, 9735], '#e': notes.slice(i, i + IDS_PER_FILTER).map((n) => n.id), since, limit: 5000 });
      const score = scoreNotes(notes, await queryEvents(ctx, filters));

      const ranked = [...notes].sort(
        (a, b) => (score.get(b.id) ?? 0) - (score.get(a.id) ?? 0) || b.created_at - a.created_at || (a.id < b.id ? -1 : 1),
      );
      return { content: tagListContent(ranked.slice(0, max), o.relayHint) };
    },
  };
}
