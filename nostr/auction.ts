// Timmy's sealed-bid auction events (docs/protocol.md, "Kinds defined by Timmy"; the mechanism in
// docs/auction.md): auction open (7280), bid commitment (7281), bid reveal (7282) and auction
// result (7283). Pure build/parse functions, the commitment hash and the tie-break key; deciding
// an auction from these events lives in dvm/auction/resolve.ts.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { isHex64, tagValue, type Checked, type NostrEvent } from './nip01.js';
import type { EventTemplate } from './verify.js';

export const AUCTION_OPEN_KIND = 7280;
export const BID_COMMITMENT_KIND = 7281;
export const BID_REVEAL_KIND = 7282;
export const AUCTION_RESULT_KIND = 7283;

export const AUCTION_STATUSES = ['won', 'no-bids'] as const;
export type AuctionStatus = (typeof AUCTION_STATUSES)[number];

/** Why a commitment or reveal does not count (docs/protocol.md gives the order they are checked in). */
export const VOID_REASONS = [
  'malformed', // tags missing or not in the form docs/protocol.md gives
  'low-score', // commitment from an agent whose listed score (unlisted: 0) is below the auction's min-score
  'late', // commitment received at or after the commit deadline; reveal at or after the reveal deadline
  'early', // reveal received before the commit deadline (it would leak the price while others still commit)
  'duplicate', // a second commitment from the same agent, or a second matching reveal of one commitment
  'unknown-commitment', // reveal of a commitment that is not a counted commitment of this auction
  'wrong-signer', // reveal signed by another key than its commitment
  'mismatch', // price and salt do not hash to the commitment
  'over-max', // revealed price above the auction's max-price (on the reveal and its commitment)
  'unrevealed', // counted commitment with no matching reveal
] as const;
export type VoidReason = (typeof VOID_REASONS)[number];

/** A valid bid, as ranked by the auction: lowest price first. Prices are millisats. */
export interface RankedBid {
  readonly agent: string;
  readonly price: number;
  readonly commitId: string;
  readonly revealId: string;
}

export interface VoidBid {
  readonly id: string;
  readonly reason: VoidReason;
}

export interface AuctionOpen {
  readonly event: NostrEvent;
  readonly id: string;
  readonly coordinator: string;
  /** The NIP-90 job request being auctioned. */
  readonly jobId: string;
  readonly jobKind: number;
  /** Unix milliseconds, by the coordinator's clock: commitments are received before it. */
  readonly commitDeadline: number;
  /** Unix milliseconds: reveals are received from the commit deadline up to (not including) this. */
  readonly revealDeadline: number;
  /** The most a bid may ask, in millisats (the customer's `bid`), if there is a limit. */
  readonly maxPrice?: number;
  /** Work units of the job, a pricing hint for bidders. */
  readonly units?: number;
  /** Commitments from agents whose listed score is below this are void (`low-score`), if set. */
  readonly minScore?: number;
  /** The coordinator's snapshot of reputation scores (0..1) by agent pubkey; unlisted agents count as 0. */
  readonly scores: ReadonlyMap<string, number>;
}

export interface BidCommitment {
  readonly event: NostrEvent;
  readonly id: string;
  readonly agent: string;
  readonly auctionId: string;
  /** sha256 hex of commitmentPreimage(...). */
  readonly commit: string;
}

export interface BidReveal {
  readonly event: NostrEvent;
  readonly id: string;
  readonly agent: string;
  readonly auctionId: string;
  readonly commitId: string;
  readonly price: number;
  readonly salt: string;
}

export interface AuctionResult {
  readonly event: NostrEvent;
  readonly id: string;
  readonly coordinator: string;
  readonly auctionId: string;
  readonly jobId?: string;
  readonly status: AuctionStatus;
  readonly winner?: string;
  /** What the winner is paid, in millisats: the second-lowest valid price (its own if alone). */
  readonly price?: number;
  /** Every commitment and reveal the coordinator considered, each in the order it received them. */
  readonly commitments: readonly string[];
  readonly reveals: readonly string[];
  readonly ranking: readonly RankedBid[];
  readonly void: readonly VoidBid[];
}

// ---- values ----

const UINT = /^(0|[1-9][0-9]{0,15})$/;
const UNITS = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const SCORE = /^(0(\.[0-9]+)?|1(\.0+)?)$/;

/** A tag value holding msat or unix ms: a non-negative safe integer in decimal, no leading zeros. */
function parseUint(s: string | undefined): number | undefined {
  if (s === undefined || !UINT.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

const isUint = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
const hashHex = (s: string): string => bytesToHex(sha256(utf8ToBytes(s)));

/** The commitment preimage: binds the price to this auction and this bidder, so it cannot be replayed elsewhere. */
export function commitmentPreimage(auctionId: string, price: number, agent: string, salt: string): string {
  if (!isUint(price)) throw new RangeError('price must be a non-negative safe integer (msat)');
  return `${auctionId}:${price}:${agent}:${salt}`;
}

/** The `commit` tag value: hex sha256 of the UTF-8 preimage. */
export const commitmentHash = (auctionId: string, price: number, agent: string, salt: string): string =>
  hashHex(commitmentPreimage(auctionId, price, agent, salt));

/** Ties on price and score go to the lowest key: fixed once the auction is open, and recomputable by anyone. */
export const tieBreakKey = (auctionId: string, agent: string): string => hashHex(`${auctionId}:${agent}`);

/** A reputation score (0..1) as written in a tag: 4 decimals. */
const scoreTag = (x: number, what: string): string => {
  if (!(Number.isFinite(x) && x >= 0 && x <= 1)) throw new RangeError(`${what} must be a number in [0, 1]`);
  return x.toFixed(4);
};

/** An agent's listed score in an auction: unlisted agents count as 0. */
export const listedScore = (scores: ReadonlyMap<string, number> | undefined, agent: string): number => scores?.get(agent) ?? 0;

/** Lower price first, then higher listed score (unlisted: 0), then lower tie-break key. */
export function compareBids(
  auctionId: string,
  a: Pick<RankedBid, 'agent' | 'price'>,
  b: Pick<RankedBid, 'agent' | 'price'>,
  scores?: ReadonlyMap<string, number>,
): number {
  if (a.price !== b.price) return a.price - b.price;
  const sa = listedScore(scores, a.agent);
  const sb = listedScore(scores, b.agent);
  if (sa !== sb) return sb - sa;
  const ka = tieBreakKey(auctionId, a.agent);
  const kb = tieBreakKey(auctionId, b.agent);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** A commitment or reveal that tags this auction (by any `e` tag): what a coordinator or a checker collects. */
export function isBidEventOf(e: Pick<NostrEvent, 'kind' | 'tags'>, auctionId: string): boolean {
  return (e.kind === BID_COMMITMENT_KIND || e.kind === BID_REVEAL_KIND) && e.tags.some((t) => t[0] === 'e' && t[1] === auctionId);
}

/** Which window a receive time (unix ms, coordinator's clock) falls in. */
export function auctionPhase(open: Pick<AuctionOpen, 'commitDeadline' | 'revealDeadline'>, ms: number): 'commit' | 'reveal' | 'closed' {
  return ms < open.commitDeadline ? 'commit' : ms < open.revealDeadline ? 'reveal' : 'closed';
}

// ---- builders ----

const eTag = (id: string, marker?: string): string[] => (marker ? ['e', id, '', marker] : ['e', id]);

export interface AuctionOpenParams {
  jobId: string;
  jobKind: number;
  commitDeadline: number;
  revealDeadline: number;
  maxPrice?: number;
  units?: number;
  /** Written as `min-score`, 4 decimals. */
  minScore?: number;
  /** Written as one `score` tag per agent (sorted by pubkey), 4 decimals. */
  scores?: ReadonlyMap<string, number>;
  created_at: number;
}

export function auctionOpenTemplate(p: AuctionOpenParams): EventTemplate {
  if (!isUint(p.commitDeadline) || !isUint(p.revealDeadline) || p.revealDeadline <= p.commitDeadline)
    throw new RangeError('deadlines must be unix milliseconds with commit before reveal');
  if (p.maxPrice !== undefined && !isUint(p.maxPrice)) throw new RangeError('maxPrice must be a non-negative safe integer (msat)');
  if (p.units !== undefined && !(Number.isFinite(p.units) && p.units >= 0)) throw new RangeError('units must be a non-negative number');
  const tags = [eTag(p.jobId), ['k', String(p.jobKind)], ['commit-deadline', String(p.commitDeadline)], ['reveal-deadline', String(p.revealDeadline)]];
  if (p.maxPrice !== undefined) tags.push(['max-price', String(p.maxPrice)]);
  if (p.units !== undefined) tags.push(['units', String(p.units)]);
  if (p.minScore !== undefined) tags.push(['min-score', scoreTag(p.minScore, 'minScore')]);
  for (const [agent, score] of [...(p.scores ?? [])].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    if (!isHex64(agent)) throw new RangeError('scores must be keyed by agent pubkeys in lowercase hex');
    tags.push(['score', agent, scoreTag(score, 'a score')]);
  }
  return { kind: AUCTION_OPEN_KIND, created_at: p.created_at, tags, content: '' };
}

export function bidCommitmentTemplate(p: { auctionId: string; commit: string; created_at: number }): EventTemplate {
  return { kind: BID_COMMITMENT_KIND, created_at: p.created_at, tags: [eTag(p.auctionId), ['commit', p.commit]], content: '' };
}

export function bidRevealTemplate(p: { auctionId: string; commitId: string; price: number; salt: string; created_at: number }): EventTemplate {
  if (!isUint(p.price)) throw new RangeError('price must be a non-negative safe integer (msat)');
  const tags = [eTag(p.commitId, 'commitment'), eTag(p.auctionId, 'auction'), ['price', String(p.price)], ['salt', p.salt]];
  return { kind: BID_REVEAL_KIND, created_at: p.created_at, tags, content: '' };
}

export interface AuctionResultParams {
  auctionId: string;
  jobId?: string;
  commitments: readonly string[];
  reveals: readonly string[];
  ranking: readonly RankedBid[];
  void: readonly VoidBid[];
  /** Paid to ranking[0]; required when the ranking is not empty. */
  price?: number;
  created_at: number;
}

/** Status, winner (`p`) and paid price follow from the ranking; the `e` tags keep receive order. */
export function auctionResultTemplate(p: AuctionResultParams): EventTemplate {
  const tags = [eTag(p.auctionId, 'auction')];
  if (p.jobId !== undefined) tags.push(eTag(p.jobId, 'job'));
  for (const id of p.commitments) tags.push(eTag(id, 'commitment'));
  for (const id of p.reveals) tags.push(eTag(id, 'reveal'));
  const winner = p.ranking[0];
  if (winner === undefined) tags.push(['status', 'no-bids']);
  else {
    if (p.price === undefined || !isUint(p.price)) throw new RangeError('a result with bids needs the paid price (msat)');
    tags.push(['status', 'won'], ['p', winner.agent], ['price', String(p.price)]);
  }
  p.ranking.forEach((b, i) => tags.push(['rank', String(i + 1), b.agent, String(b.price), b.commitId, b.revealId]));
  for (const v of p.void) tags.push(['void', v.id, v.reason]);
  return { kind: AUCTION_RESULT_KIND, created_at: p.created_at, tags, content: '' };
}

// ---- parsers (structure only: signatures are checked by whoever received the event) ----

const fail = <T>(reason: string): Checked<T> => ({ ok: false, reason });

/** `e` tag values carrying this marker (4th element), in tag order. */
function markedE(e: Pick<NostrEvent, 'tags'>, marker: string): string[] {
  return e.tags.filter((t) => t[0] === 'e' && t[3] === marker && t[1] !== undefined).map((t) => t[1] as string);
}

export function parseAuctionOpen(e: NostrEvent): Checked<AuctionOpen> {
  if (e.kind !== AUCTION_OPEN_KIND) return fail(`auction open must be kind ${AUCTION_OPEN_KIND}`);
  const jobId = tagValue(e, 'e');
  if (!isHex64(jobId)) return fail('e tag must be the job request id');
  const jobKind = parseUint(tagValue(e, 'k'));
  if (jobKind === undefined || jobKind > 65535) return fail('k tag must be the job kind');
  const commitDeadline = parseUint(tagValue(e, 'commit-deadline'));
  const revealDeadline = parseUint(tagValue(e, 'reveal-deadline'));
  if (commitDeadline === undefined || revealDeadline === undefined) return fail('commit-deadline and reveal-deadline must be unix milliseconds');
  if (revealDeadline <= commitDeadline) return fail('reveal-deadline must be after commit-deadline');
  const maxTag = tagValue(e, 'max-price');
  const maxPrice = parseUint(maxTag);
  if (maxTag !== undefined && maxPrice === undefined) return fail('max-price must be msat');
  const unitsTag = tagValue(e, 'units');
  if (unitsTag !== undefined && !UNITS.test(unitsTag)) return fail('units must be a non-negative decimal');
  const minTags = e.tags.filter((t) => t[0] === 'min-score');
  const minTag = minTags[0]?.[1];
  if (minTags.length > 1 || (minTags.length === 1 && (minTag === undefined || !SCORE.test(minTag)))) return fail('at most one min-score, a decimal in [0, 1]');
  const scores = new Map<string, number>();
  for (const t of e.tags) {
    if (t[0] !== 'score') continue;
    const [, agent, score] = t;
    if (!isHex64(agent) || score === undefined || !SCORE.test(score)) return fail('score tag must be [score, agent pubkey, decimal in [0, 1]]');
    if (scores.has(agent)) return fail('one score tag per agent');
    scores.set(agent, Number(score));
  }
  const value: AuctionOpen = {
    event: e,
    id: e.id,
    coordinator: e.pubkey,
    jobId,
    jobKind,
    commitDeadline,
    revealDeadline,
    ...(maxPrice !== undefined ? { maxPrice } : {}),
    ...(unitsTag !== undefined ? { units: Number(unitsTag) } : {}),
    ...(minTag !== undefined ? { minScore: Number(minTag) } : {}),
    scores,
  };
  return { ok: true, value };
}

export function parseBidCommitment(e: NostrEvent): Checked<BidCommitment> {
  if (e.kind !== BID_COMMITMENT_KIND) return fail(`bid commitment must be kind ${BID_COMMITMENT_KIND}`);
  const auctionId = tagValue(e, 'e');
  if (!isHex64(auctionId)) return fail('e tag must be the auction open id');
  const commit = tagValue(e, 'commit');
  if (!isHex64(commit)) return fail('commit tag must be a sha256 in lowercase hex');
  return { ok: true, value: { event: e, id: e.id, agent: e.pubkey, auctionId, commit } };
}

export function parseBidReveal(e: NostrEvent): Checked<BidReveal> {
  if (e.kind !== BID_REVEAL_KIND) return fail(`bid reveal must be kind ${BID_REVEAL_KIND}`);
  const [commitId, ...moreCommits] = markedE(e, 'commitment');
  const [auctionId, ...moreAuctions] = markedE(e, 'auction');
  if (!isHex64(commitId) || moreCommits.length > 0) return fail('one e tag marked commitment is required');
  if (!isHex64(auctionId) || moreAuctions.length > 0) return fail('one e tag marked auction is required');
  const price = parseUint(tagValue(e, 'price'));
  if (price === undefined) return fail('price tag must be msat');
  const salt = tagValue(e, 'salt');
  if (!isHex64(salt)) return fail('salt tag must be 32 bytes in lowercase hex');
  return { ok: true, value: { event: e, id: e.id, agent: e.pubkey, auctionId, commitId, price, salt } };
}

export function parseAuctionResult(e: NostrEvent): Checked<AuctionResult> {
  if (e.kind !== AUCTION_RESULT_KIND) return fail(`auction result must be kind ${AUCTION_RESULT_KIND}`);
  const [auctionId, ...moreAuctions] = markedE(e, 'auction');
  if (!isHex64(auctionId) || moreAuctions.length > 0) return fail('one e tag marked auction is required');
  const jobs = markedE(e, 'job');
  if (jobs.length > 1 || !jobs.every(isHex64)) return fail('at most one e tag marked job');
  const commitments = markedE(e, 'commitment');
  const reveals = markedE(e, 'reveal');
  if (![...commitments, ...reveals].every(isHex64)) return fail('e tag values must be event ids');
  const status = tagValue(e, 'status');
  if (!AUCTION_STATUSES.includes(status as AuctionStatus)) return fail('status must be won or no-bids');
  const ranking: RankedBid[] = [];
  for (const t of e.tags) {
    if (t[0] !== 'rank') continue;
    const [, pos, agent, priceTag, commitId, revealId] = t;
    const price = parseUint(priceTag);
    if (pos !== String(ranking.length + 1)) return fail('rank tags must be numbered 1, 2, ... in order');
    if (!isHex64(agent) || price === undefined || !isHex64(commitId) || !isHex64(revealId))
      return fail('rank tag must be [rank, position, agent, price, commitment id, reveal id]');
    ranking.push({ agent, price, commitId, revealId });
  }
  const voids: VoidBid[] = [];
  for (const t of e.tags) {
    if (t[0] !== 'void') continue;
    if (!isHex64(t[1]) || !VOID_REASONS.includes(t[2] as VoidReason)) return fail('void tag must be [void, event id, reason]');
    voids.push({ id: t[1], reason: t[2] as VoidReason });
  }
  const winner = tagValue(e, 'p');
  const priceTag = tagValue(e, 'price');
  const price = parseUint(priceTag);
  if (status === 'won') {
    if (!isHex64(winner) || price === undefined) return fail('a won result needs p (the winner) and price (msat)');
    if (ranking[0]?.agent !== winner) return fail('the winner must be ranked first');
  } else if (winner !== undefined || priceTag !== undefined || ranking.length > 0) return fail('a no-bids result has no p, price or rank');
  const value: AuctionResult = {
    event: e,
    id: e.id,
    coordinator: e.pubkey,
    auctionId,
    ...(jobs[0] !== undefined ? { jobId: jobs[0] } : {}),
    status: status as AuctionStatus,
    ...(winner !== undefined ? { winner } : {}),
    ...(price !== undefined ? { price } : {}),
    commitments,
    reveals,
    ranking,
    void: voids,
  };
  return { ok: true, value };
}
