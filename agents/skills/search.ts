// Kind 5302, content search: a NIP-50 `search` filter through the NostrClient (the embedded relay
// answers it from its FTS5 index, ranked by bm25, limit applied after ranking).
//
// Input: text (every text input, joined). Params (5302.md): `users` (a JSON list of ["p", <pubkey>]
// tags; a JSON list or comma-separated pubkeys also work), `since`, `until`, `max_results`
// (default 20, at most 500). Output: a JSON-stringified list of tags, `["e", <id>]` for notes and
// `["a", <kind:pubkey:d>]` for long-form articles, best match first.
//
// NostrClient.query merges relays' answers newest first, which loses the relay's ranking; the set of
// events is still the relay's best `max_results`, and we order them again here: events containing
// more of the query's words first, then more occurrences, then newer.
import { SkillError, type Skill, type SkillContext, type SkillJob, type SkillOutput } from '../../dvm/skill.js';
import type { Filter, NostrEvent } from '../../nostr/nip01.js';
import { parseSearch, type SearchQuery } from '../../nostr/nip50.js';
import { inputTexts, intParam, pubkeyListParam, queryEvents, tagListContent } from './params.js';

export const SEARCH_KIND = 5302;

export interface SearchSkillOptions {
  /** Kinds searched (default: 1 notes and 30023 long-form articles). */
  kinds?: readonly number[];
  /** A relay URL to put in each result tag as a hint (the instance's public relay URL). */
  relayHint?: string;
  defaultResults?: number;
  maxResults?: number;
  /**
   * Semantic recall over the agents' memories (agents/memory/): the ids of the events behind the
   * memories that best match the query, best first, private (encrypted) jobs left out. Finds what
   * the relay's word search cannot (paraphrases, synonyms); its events come after the word matches.
   */
  recall?: (query: string, limit: number, signal: AbortSignal) => Promise<readonly string[]>;
}

const MAX_TIME = 2 ** 40;

/** How well an event matches: [distinct query words present, total occurrences]. */
export function matchScore(q: SearchQuery, content: string): [number, number] {
  const hay = content.normalize('NFKC').toLowerCase();
  let present = 0;
  let total = 0;
  for (const t of new Set(q.terms)) {
    let at = hay.indexOf(t);
    if (at >= 0) present++;
    while (at >= 0) {
      total++;
      at = hay.indexOf(t, at + t.length);
    }
  }
  return [present, total];
}

export function rankByMatch(q: SearchQuery, events: readonly NostrEvent[]): NostrEvent[] {
  const scored = events.map((e) => ({ e, s: matchScore(q, e.content) }));
  scored.sort((a, b) => b.s[0] - a.s[0] || b.s[1] - a.s[1] || b.e.created_at - a.e.created_at || (a.e.id < b.e.id ? -1 : 1));
  return scored.map((x) => x.e);
}

/** The events behind recalled memories that the job's filter allows (authors, since, until), not already found. */
async function recalled(recall: NonNullable<SearchSkillOptions['recall']>, text: string, limit: number, filter: Filter, have: readonly NostrEvent[], ctx: SkillContext): Promise<NostrEvent[]> {
  const seen = new Set(have.map((e) => e.id));
  const ids = (await recall(text, limit, ctx.signal)).filter((id) => !seen.has(id));
  if (ids.length === 0) return [];
  const events = await queryEvents(ctx, [{ ids: [...new Set(ids)] }]);
  const rank = new Map(ids.map((id, i) => [id, i]));
  return events
    .filter((e) => (!filter.authors || filter.authors.includes(e.pubkey)) && (filter.since === undefined || e.created_at >= filter.since) && (filter.until === undefined || e.created_at <= filter.until))
    .sort((a, b) => rank.get(a.id)! - rank.get(b.id)!);
}

export function searchSkill(o: SearchSkillOptions = {}): Skill {
  const kinds = [...(o.kinds ?? [1, 30023])];
  const maxResults = o.maxResults ?? 500;
  return {
    kind: SEARCH_KIND,
    name: 'search',
    units: () => 1,
    async run(job: SkillJob, ctx: SkillContext): Promise<SkillOutput> {
      const text = inputTexts(job).join(' ').trim();
      const q = parseSearch(text);
      if (q.terms.length === 0) throw new SkillError('nothing to search for: give the words to look for as a text input');
      const limit = intParam(job, 'max_results', 1, maxResults, Math.min(o.defaultResults ?? 20, maxResults))!;
      const filter: Filter = { kinds, search: text, limit };
      const users = job.param('users');
      if (users !== undefined && users.trim() !== '') {
        const authors = pubkeyListParam(users, 'param users');
        if (authors.length === 0) return { content: '[]' };
        filter.authors = authors;
      }
      const since = intParam(job, 'since', 0, MAX_TIME);
      const until = intParam(job, 'until', 0, MAX_TIME);
      if (since !== undefined) filter.since = since;
      if (until !== undefined) filter.until = until;
      const found = rankByMatch(q, await queryEvents(ctx, [filter]));
      if (o.recall && found.length < limit) found.push(...(await recalled(o.recall, text, limit, filter, found, ctx)));
      return { content: tagListContent(found.slice(0, limit), o.relayHint) };
    },
  };
}
