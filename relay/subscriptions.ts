// Live matching: each open filter is filed under its most selective key (id, author, tag value,
// kind, or "any"), so a new event is checked only against filters that could match it, not
// against every open subscription.
import { filterTags, matchFilter, type Filter, type NostrEvent } from '../nostr/nip01.js';
import { matchSearch, parseSearch, type SearchQuery } from '../nostr/nip50.js';

export interface LiveFilter {
  readonly filter: Filter;
  readonly search: SearchQuery | null;
}

export interface Subscriber {
  readonly filters: readonly LiveFilter[];
}

function keysOf(f: Filter): string[] {
  if (f.ids) return f.ids.map((id) => `i:${id}`);
  if (f.authors) return f.authors.map((a) => `a:${a}`);
  const tags = filterTags(f);
  if (tags.length > 0) {
    const [name, values] = [...tags].sort((x, y) => x[1].length - y[1].length)[0]!;
    return values.map((v) => `t:${name}:${v}`);
  }
  if (f.kinds) return f.kinds.map((k) => `k:${k}`);
  return ['*'];
}

export function toLiveFilters(filters: readonly Filter[]): LiveFilter[] {
  return filters.map((filter) => ({ filter, search: filter.search !== undefined ? parseSearch(filter.search) : null }));
}

export function matchLive(lf: LiveFilter, e: NostrEvent): boolean {
  return matchFilter(lf.filter, e) && (lf.search === null || matchSearch(lf.search, e.content));
}

export class SubscriptionIndex<S extends Subscriber> {
  private readonly index = new Map<string, Set<S>>();
  private readonly keys = new Map<S, string[]>();

  get size(): number {
    return this.keys.size;
  }

  add(s: S): void {
    const keys = [...new Set(s.filters.flatMap((lf) => keysOf(lf.filter)))];
    this.keys.set(s, keys);
    for (const k of keys) {
      let set = this.index.get(k);
      if (!set) this.index.set(k, (set = new Set()));
      set.add(s);
    }
  }

  remove(s: S): void {
    const keys = this.keys.get(s);
    if (!keys) return;
    this.keys.delete(s);
    for (const k of keys) {
      const set = this.index.get(k);
      if (!set) continue;
      set.delete(s);
      if (set.size === 0) this.index.delete(k);
    }
  }

  /** Every subscriber with at least one filter that matches the event, each once. */
  match(e: NostrEvent): S[] {
    const candidates = new Set<S>();
    const add = (k: string): void => {
      const set = this.index.get(k);
      if (set) for (const s of set) candidates.add(s);
    };
    add(`i:${e.id}`);
    add(`a:${e.pubkey}`);
    add(`k:${e.kind}`);
    for (const t of e.tags) if (t[0] !== undefined && t[0].length === 1 && t[1] !== undefined) add(`t:${t[0]}:${t[1]}`);
    add('*');
    const out: S[] = [];
    for (const s of candidates) if (s.filters.some((lf) => matchLive(lf, e))) out.push(s);
    return out;
  }
}
