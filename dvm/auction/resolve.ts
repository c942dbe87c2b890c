// Deciding a sealed-bid second-price auction from its events (docs/auction.md), and re-checking a
// published result against the events on a relay, as a third party would. Pure: no I/O, no clock.
import type { NostrEvent } from '../../nostr/nip01.js';
import { verifyEvent, type EventTemplate } from '../../nostr/verify.js';
import {
  BID_COMMITMENT_KIND,
  auctionPhase,
  auctionResultTemplate,
  commitmentHash,
  compareBids,
  isBidEventOf,
  listedScore,
  parseBidCommitment,
  parseBidReveal,
  type AuctionOpen,
  type BidCommitment,
  type RankedBid,
  type VoidBid,
  type VoidReason,
} from '../../nostr/auction.js';

/** An event as the coordinator received it. */
export interface Received {
  readonly event: NostrEvent;
  /**
   * When the coordinator received it, unix ms by the coordinator's clock. Windows are judged by
   * this, never by created_at, which the sender chooses.
   */
  readonly receivedAt: number;
}

export interface Resolution {
  readonly auctionId: string;
  /** The commitments and the reveals considered, each in receive order (the result's `e` tags). */
  readonly commitments: readonly string[];
  readonly reveals: readonly string[];
  /** Every valid bid, best first: lowest price, then highest listed score, then lowest tie-break key (nostr/auction.ts). */
  readonly ranking: readonly RankedBid[];
  /** Every considered event that does not count, with the first reason that voids it. */
  readonly void: readonly VoidBid[];
  readonly winner?: string;
  /** Millisats paid to the winner: the second-lowest valid price, or its own when it is alone. */
  readonly pricePaid?: number;
}

export interface ResolveOptions {
  /** Id and signature check (default nostr/verify.ts). Events that fail it are not considered at all. */
  verify?: (e: NostrEvent) => boolean;
}

/**
 * Decides the auction. `received` must be in the order the coordinator received the events (the
 * first commitment of an agent counts, and the first matching reveal of a commitment); events of
 * other kinds or auctions, repeated ids and events with a bad id or signature are left out.
 */
export function resolveAuction(open: AuctionOpen, received: readonly Received[], opts: ResolveOptions = {}): Resolution {
  const verify = opts.verify ?? ((e: NostrEvent) => verifyEvent(e));
  const seen = new Set<string>();
  const commits: Received[] = [];
  const reveals: Received[] = [];
  for (const r of received) {
    const e = r.event;
    if (!isBidEventOf(e, open.id) || seen.has(e.id) || !verify(e)) continue;
    seen.add(e.id);
    (e.kind === BID_COMMITMENT_KIND ? commits : reveals).push(r);
  }

  const voided = new Map<string, VoidReason>();
  const counted = new Map<string, BidCommitment>(); // by commitment id
  const agents = new Set<string>();
  for (const r of commits) {
    const c = parseBidCommitment(r.event);
    if (!c.ok || c.value.auctionId !== open.id) voided.set(r.event.id, 'malformed');
    else if (open.minScore !== undefined && listedScore(open.scores, c.value.agent) < open.minScore) voided.set(r.event.id, 'low-score');
    else if (auctionPhase(open, r.receivedAt) !== 'commit') voided.set(r.event.id, 'late');
    else if (agents.has(c.value.agent)) voided.set(r.event.id, 'duplicate');
    else {
      agents.add(c.value.agent);
      counted.set(c.value.id, c.value);
    }
  }

  const revealed = new Set<string>(); // commitments that have had a matching reveal
  const bids: RankedBid[] = [];
  for (const r of reveals) {
    const x = checkReveal(open, r, counted, revealed);
    if ('bid' in x) bids.push(x.bid);
    else {
      voided.set(r.event.id, x.reason);
      if (x.commitId !== undefined) voided.set(x.commitId, x.reason); // over-max voids the whole bid
    }
  }
  for (const id of counted.keys()) if (!revealed.has(id)) voided.set(id, 'unrevealed');

  bids.sort((a, b) => compareBids(open.id, a, b, open.scores));
  const voidList: VoidBid[] = [];
  for (const r of [...commits, ...reveals]) {
    const reason = voided.get(r.event.id);
    if (reason !== undefined) voidList.push({ id: r.event.id, reason });
  }
  const winner = bids[0];
  return {
    auctionId: open.id,
    commitments: commits.map((r) => r.event.id),
    reveals: reveals.map((r) => r.event.id),
    ranking: bids,
    void: voidList,
    ...(winner !== undefined ? { winner: winner.agent, pricePaid: (bids[1] ?? winner).price } : {}),
  };
}

type RevealCheck = { readonly bid: RankedBid } | { readonly reason: VoidReason; readonly commitId?: string };

/** A reveal's bid, or the reason it is void. Marks its commitment revealed when price and salt match it. */
function checkReveal(open: AuctionOpen, r: Received, counted: ReadonlyMap<string, BidCommitment>, revealed: Set<string>): RevealCheck {
  const p = parseBidReveal(r.event);
  if (!p.ok || p.value.auctionId !== open.id) return { reason: 'malformed' };
  const v = p.value;
  const phase = auctionPhase(open, r.receivedAt);
  if (phase === 'commit') return { reason: 'early' };
  if (phase === 'closed') return { reason: 'late' };
  const c = counted.get(v.commitId);
  if (c === undefined) return { reason: 'unknown-commitment' };
  if (v.agent !== c.agent) return { reason: 'wrong-signer' };
  if (commitmentHash(open.id, v.price, c.agent, v.salt) !== c.commit) return { reason: 'mismatch' };
  if (revealed.has(c.id)) return { reason: 'duplicate' };
  revealed.add(c.id);
  if (open.maxPrice !== undefined && v.price > open.maxPrice) return { reason: 'over-max', commitId: c.id };
  return { bid: { agent: c.agent, price: v.price, commitId: c.id, revealId: v.id } };
}

/** The auction result event (kind 7283) that publishes a resolution. */
export function resultTemplate(open: AuctionOpen, r: Resolution, created_at: number): EventTemplate {
  return auctionResultTemplate({
    auctionId: r.auctionId,
    jobId: open.jobId,
    commitments: r.commitments,
    reveals: r.reveals,
    ranking: r.ranking,
    void: r.void,
    price: r.pricePaid,
    created_at,
  });
}
