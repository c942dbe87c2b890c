// Portability: everything needed to score an agent, read from any relays through a NostrClient.
// Labels about the agent, labels about each of its raters (their standing), and the deletions
// their authors made; then the same book as a live instance keeps computes the same score.
import type { NostrClient } from '../nostr/client.js';
import type { Filter, NostrEvent } from '../nostr/nip01.js';
import { LABEL_KIND } from '../nostr/nip32.js';
import { ReputationBook, type BookOptions, type ReputationReport } from './book.js';

export interface FetchOptions {
  /** Events per page (relays clamp `limit`; the embedded relay to relay.maxLimit). */
  readonly pageSize?: number;
  readonly timeoutMs?: number;
  /** Authors or tags per filter. */
  readonly chunk?: number;
  /** Stop paging after this many events per filter (a bound against hostile relays). */
  readonly maxEvents?: number;
}

/**
 * Every stored event matching the filter, paging backwards with `until`. A page whose events are
 * all known moves `until` one second back, so more than `pageSize` events in one second can be
 * missed: a NIP-01 limit no client can page around.
 */
export async function queryAll(client: NostrClient, filter: Filter, o: FetchOptions = {}): Promise<NostrEvent[]> {
  const pageSize = o.pageSize ?? 5000;
  const max = o.maxEvents ?? 1_000_000;
  const seen = new Map<string, NostrEvent>();
  let until: number | undefined = filter.until;
  for (;;) {
    const page = await client.query([{ ...filter, limit: pageSize, ...(until !== undefined ? { until } : {}) }], { timeoutMs: o.timeoutMs ?? 10_000 });
    if (page.length === 0) break;
    let fresh = 0;
    let oldest = Infinity;
    for (const e of page) {
      if (!seen.has(e.id)) {
        seen.set(e.id, e);
        fresh++;
      }
      oldest = Math.min(oldest, e.created_at);
    }
    if (seen.size >= max) break;
    // `until` is inclusive: the next page repeats the oldest second, unless this page brought nothing new.
    until = fresh === 0 ? oldest - 1 : oldest;
    if (until < 0) break;
  }
  return [...seen.values()];
}

const chunks = <T>(xs: readonly T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

/** Labels about `pubkey` and about its raters, and the deletions of any of them by their authors. */
export async function collectLabels(client: NostrClient, pubkey: string, o: FetchOptions = {}): Promise<{ labels: NostrEvent[]; deletions: NostrEvent[] }> {
  const n = o.chunk ?? 200;
  const about = await queryAll(client, { kinds: [LABEL_KIND], '#p': [pubkey] }, o);
  const raters = [...new Set(about.map((e) => e.pubkey))].filter((r) => r !== pubkey);
  const labels = new Map(about.map((e) => [e.id, e]));
  for (const part of chunks(raters, n)) for (const e of await queryAll(client, { kinds: [LABEL_KIND], '#p': part }, o)) labels.set(e.id, e);
  const authors = [...new Set([...labels.values()].map((e) => e.pubkey))];
  // All the authors' deletions (NIP-09's `k` tag is a SHOULD, so filtering on it could miss some).
  const deletions = new Map<string, NostrEvent>();
  for (const part of chunks(authors, n)) for (const e of await queryAll(client, { kinds: [5], authors: part }, o)) deletions.set(e.id, e);
  return { labels: [...labels.values()], deletions: [...deletions.values()] };
}

/** A fresh book from the given events: what any instance computes from the same labels. */
export function bookFrom(events: Iterable<NostrEvent>, deletions: Iterable<NostrEvent>, o: BookOptions): ReputationBook {
  const book = new ReputationBook(o);
  for (const e of events) book.add(e);
  for (const d of deletions) book.remove(d);
  return book;
}

/** Fetches and scores one agent from the client's relays. */
export async function fetchReputation(client: NostrClient, pubkey: string, o: BookOptions & FetchOptions & { asOf?: number; last?: number }): Promise<ReputationReport> {
  const { labels, deletions } = await collectLabels(client, pubkey, o);
  return bookFrom(labels, deletions, o).report(pubkey, { ...(o.asOf !== undefined ? { now: o.asOf } : {}), ...(o.last !== undefined ? { last: o.last } : {}) });
}
