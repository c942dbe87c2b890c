// Kind 5400, event count (data-vending-machines kinds/5400.md): the input is a JSON list of NIP-01
// filters (a text input, or the request's content as in the spec's example); the result content is
// the count as a string, or with `group` params a (nested) JSON object of counts.
//
// NostrClient has no COUNT (NIP-45), so we query and count distinct ids, paging each filter back
// in time with `until` (pages of `pageSize`, 5,000: the relay's default maxLimit) up to `maxEvents`
// (100,000). A count that hits that cap is a lower bound and the result carries ["capped", "<cap>"].
// A filter's own `limit` is ignored (a count counts all matches). The `relay` params are accepted
// but not dialled: we count over the relays this instance's client talks to.
//
// Groups (5400.md): `content`, `pubkey`, `reply` (NIP-10 reply e-tag), `root` (NIP-10 root e-tag),
// anything else is a tag name (the first such tag's value). Events without a value for a group are
// left out of grouped counts.
import { SkillError, type Skill, type SkillContext, type SkillJob, type SkillOutput } from '../../dvm/skill.js';
import { checkFilter, type Filter, type NostrEvent } from '../../nostr/nip01.js';
import { inputTexts, queryEvents } from './params.js';

export const COUNT_KIND = 5400;

export interface CountSkillOptions {
  pageSize?: number;
  maxEvents?: number;
}

export function parseFilters(text: string): Filter[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SkillError('the input must be a JSON list of NIP-01 filters, e.g. [{"kinds":[7],"#e":["<id>"]}]');
  }
  const list = Array.isArray(json) ? json : [json];
  if (list.length === 0 || list.length > 20) throw new SkillError('give between 1 and 20 filters');
  return list.map((raw, i) => {
    // 5400.md's own example writes "#kinds" for "kinds"; read it as what it clearly means.
    if (raw && typeof raw === 'object' && !Array.isArray(raw) && '#kinds' in raw) {
      const { ['#kinds']: kinds, ...rest } = raw as Record<string, unknown>;
      raw = { kinds, ...rest };
    }
    const c = checkFilter(raw);
    if (!c.ok) throw new SkillError(`filter ${i + 1}: ${c.reason}`);
    const { limit: _ignored, ...f } = c.value;
    return f as Filter;
  });
}

/**
 * NIP-10 root / reply e-tags. Marked tags: `root`, and `reply` (a direct reply to the root has only
 * a `root` tag, which is then also what it replies to). Unmarked (deprecated positional form):
 * the first e-tag is the root, the last the reply.
 */
function nip10(e: NostrEvent, which: 'root' | 'reply'): string | undefined {
  const es = e.tags.filter((t) => t[0] === 'e' && t[1]);
  const root = es.find((t) => t[3] === 'root')?.[1];
  const reply = es.find((t) => t[3] === 'reply')?.[1];
  if (es.some((t) => t[3] === 'root' || t[3] === 'reply' || t[3] === 'mention')) return which === 'root' ? root : (reply ?? root);
  return (which === 'root' ? es[0] : es[es.length - 1])?.[1];
}

export function groupValue(e: NostrEvent, group: string): string | undefined {
  switch (group) {
    case 'content':
      return e.content;
    case 'pubkey':
      return e.pubkey;
    case 'root':
    case 'reply':
      return nip10(e, group);
    default:
      return e.tags.find((t) => t[0] === group)?.[1];
  }
}

type Nested = { [k: string]: number | Nested };

/** Counts events into a nested object, one level per group. */
export function groupCounts(events: Iterable<NostrEvent>, groups: readonly string[]): Nested {
  const root: Nested = {};
  outer: for (const e of events) {
    const path: string[] = [];
    for (const g of groups) {
      const v = groupValue(e, g);
      if (v === undefined) continue outer;
      path.push(v);
    }
    let node = root;
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i]!;
      const next = node[k];
      node = typeof next === 'object' ? next : (node[k] = {});
    }
    const leaf = path[path.length - 1]!;
    node[leaf] = ((node[leaf] as number | undefined) ?? 0) + 1;
  }
  return root;
}

export function countSkill(o: CountSkillOptions = {}): Skill {
  const pageSize = o.pageSize ?? 5000;
  const maxEvents = o.maxEvents ?? 100_000;
  return {
    kind: COUNT_KIND,
    name: 'count',
    units: () => 1,
    async run(job: SkillJob, ctx: SkillContext): Promise<SkillOutput> {
      const text = inputTexts(job).find((t) => t.trim() !== '') ?? job.request.event.content;
      if (!text.trim()) throw new SkillError('nothing to count: give a JSON list of filters as a text input or as the request content');
      const filters = parseFilters(text);
      const groups = job.request.params.filter(([k]) => k === 'group').map(([, v]) => v);
      const grouped = groups.length > 0;
      const ids = new Set<string>();
      const kept = new Map<string, NostrEvent>();
      let capped = false;

      for (const base of filters) {
        let until = base.until;
        for (;;) {
          const page = await queryEvents(ctx, [{ ...base, ...(until !== undefined ? { until } : {}), limit: pageSize }]);
          let fresh = 0;
          for (const e of page) {
            if (ids.has(e.id)) continue;
            ids.add(e.id);
            fresh++;
            if (grouped) kept.set(e.id, e);
          }
          if (ids.size >= maxEvents) {
            capped = true;
            break;
          }
          // There may be more behind this page, even a short one (a relay may clamp `limit` below
          // pageSize): step back to the oldest second seen (read again; duplicates are skipped) until
          // a page brings nothing new. A search filter is ranked, not paged.
          const oldest = page[page.length - 1];
          if (fresh === 0 || !oldest || base.search !== undefined) break;
          until = oldest.created_at;
          ctx.progress(`counted ${ids.size} events so far`, grouped ? undefined : String(ids.size));
        }
        if (capped) break;
      }

      const tags = capped ? [['capped', String(maxEvents)]] : [];
      const content = grouped ? JSON.stringify(groupCounts(kept.values(), groups)) : String(ids.size);
      return { content, tags };
    },
  };
}
