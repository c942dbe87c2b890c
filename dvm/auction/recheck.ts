// What a third party does with a published auction result (kind 7283): fetch the auction's events
// from a relay and decide the auction again. Everything but the receive times is on the relay;
// those are the coordinator's word, and are reported as such (docs/auction.md).
import type { NostrClient } from '../../nostr/client.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import { verifyEvent } from '../../nostr/verify.js';
import {
  AUCTION_OPEN_KIND,
  BID_COMMITMENT_KIND,
  BID_REVEAL_KIND,
  isBidEventOf,
  parseAuctionOpen,
  parseAuctionResult,
  type AuctionOpen,
  type AuctionResult,
  type VoidBid,
  type VoidReason,
} from '../../nostr/auction.js';
import { resolveAuction, type Received, type Resolution, type ResolveOptions } from './resolve.js';

export interface RecheckReport {
  /** True when the result follows from the events, given the coordinator's timing claims. */
  readonly ok: boolean;
  /** What does not hold, one short sentence each. */
  readonly problems: readonly string[];
  /** `late` and `early` voids: they rest on receive times, which are not on the relay, so they are taken on the coordinator's word. */
  readonly timingClaims: readonly VoidBid[];
  /** Valid commitments and reveals of this auction that the result does not list: received after it closed, or left out. */
  readonly unlisted: readonly string[];
  /** The auction decided again from the events. */
  readonly recomputed?: Resolution;
}

const TIMING: readonly VoidReason[] = ['late', 'early'];

/**
 * A receive time that reproduces the coordinator's timing claim for a listed event: in its window
 * unless the result voids it as late (or, for a reveal, early).
 */
function claimedTime(open: AuctionOpen, kind: number, claim: VoidReason | undefined): number {
  if (kind === BID_COMMITMENT_KIND) return claim === 'late' ? open.commitDeadline : open.commitDeadline - 1;
  return claim === 'early' ? open.commitDeadline - 1 : claim === 'late' ? open.revealDeadline : open.commitDeadline;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const voidKeys = (v: readonly VoidBid[]): string[] => v.map((x) => `${x.id} ${x.reason}`).sort();

/** Checks a result event against the events it references (any order; extra events are ignored). */
export function recheck(resultEvent: NostrEvent, events: readonly NostrEvent[], opts: ResolveOptions = {}): RecheckReport {
  const verify = opts.verify ?? ((e: NostrEvent) => verifyEvent(e));
  const failed = (problem: string): RecheckReport => ({ ok: false, problems: [problem], timingClaims: [], unlisted: [] });
  if (!verify(resultEvent)) return failed('the result has a bad id or signature');
  const parsed = parseAuctionResult(resultEvent);
  if (!parsed.ok) return failed(`the result is malformed: ${parsed.reason}`);
  const result: AuctionResult = parsed.value;
  const byId = new Map(events.map((e) => [e.id, e]));
  const openEvent = byId.get(result.auctionId);
  if (openEvent === undefined || openEvent.kind !== AUCTION_OPEN_KIND) return failed('the auction open event is not among the events');
  if (!verify(openEvent)) return failed('the auction open event has a bad id or signature');
  const openParsed = parseAuctionOpen(openEvent);
  if (!openParsed.ok) return failed(`the auction open event is malformed: ${openParsed.reason}`);
  const open = openParsed.value;

  const problems: string[] = [];
  if (open.coordinator !== result.coordinator) problems.push('the result is not signed by the coordinator that opened the auction');
  if (result.jobId !== undefined && result.jobId !== open.jobId) problems.push('the result names another job than the auction open');
  const claims = new Map(result.void.map((v) => [v.id, v.reason]));
  const received: Received[] = [];
  for (const id of [...result.commitments, ...result.reveals]) {
    const e = byId.get(id);
    if (e === undefined) problems.push(`listed event ${id} is not among the events`);
    else received.push({ event: e, receivedAt: claimedTime(open, e.kind, claims.get(id)) });
  }
  const again = resolveAuction(open, received, opts);
  if (!same(again.commitments, result.commitments) || !same(again.reveals, result.reveals))
    problems.push('the listed commitments and reveals are not the valid events of this auction, by kind, in order');
  if (!same(again.ranking, result.ranking)) problems.push('the ranking does not follow from the events');
  if (!same(voidKeys(again.void), voidKeys(result.void))) problems.push('the void list does not follow from the events');
  if (again.winner !== result.winner) problems.push('the winner does not follow from the events');
  if (again.pricePaid !== result.price) problems.push('the paid price is not the second-lowest valid price');

  const listed = new Set([...result.commitments, ...result.reveals]);
  const unlisted = events.filter((e) => isBidEventOf(e, open.id) && !listed.has(e.id) && verify(e)).map((e) => e.id);
  return {
    ok: problems.length === 0,
    problems,
    timingClaims: result.void.filter((v) => TIMING.includes(v.reason)),
    unlisted,
    recomputed: again,
  };
}

/** The events a result refers to, from a relay: the auction open and every commitment and reveal tagging it. */
export async function fetchAuctionEvents(client: NostrClient, auctionId: string): Promise<NostrEvent[]> {
  return client.query([{ ids: [auctionId] }, { kinds: [BID_COMMITMENT_KIND, BID_REVEAL_KIND], '#e': [auctionId] }]);
}
