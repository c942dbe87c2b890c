import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NostrEvent } from '../../nostr/nip01.js';
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent, type EventTemplate } from '../../nostr/verify.js';
import {
  auctionOpenTemplate,
  bidCommitmentTemplate,
  bidRevealTemplate,
  commitmentHash,
  parseAuctionOpen,
  parseAuctionResult,
  parseBidCommitment,
  parseBidReveal,
  tieBreakKey,
  type AuctionOpen,
} from '../../nostr/auction.js';
import { resolveAuction, resultTemplate, type Received } from './resolve.js';
import { recheck } from './recheck.js';

const T0 = 1_700_000_000_000;
const CD = T0 + 150; // commit deadline
const RD = CD + 150; // reveal deadline
const SEC = Math.floor(T0 / 1000);
const JOB = 'f'.repeat(64);
const coordinator = generateSecretKey();

class Agent {
  readonly sk = generateSecretKey();
  readonly pk = getPublicKey(this.sk);
  sign(t: EventTemplate): NostrEvent {
    return finalizeEvent(t, this.sk);
  }
}

function makeOpen(maxPrice?: number, reputation: { minScore?: number; scores?: ReadonlyMap<string, number> } = {}): AuctionOpen {
  const t = auctionOpenTemplate({ jobId: JOB, jobKind: 5050, commitDeadline: CD, revealDeadline: RD, ...(maxPrice !== undefined ? { maxPrice } : {}), ...reputation, created_at: SEC });
  const p = parseAuctionOpen(finalizeEvent(t, coordinator));
  assert.ok(p.ok);
  return p.value;
}

interface Bid {
  readonly agent: Agent;
  readonly price: number;
  readonly salt: string;
  readonly commit: NostrEvent;
  readonly reveal: NostrEvent;
}

interface BidOptions {
  salt?: string;
  revealPrice?: number;
  revealSalt?: string;
  revealer?: Agent;
  commitCreatedAt?: number;
  revealCreatedAt?: number;
}

function bid(open: AuctionOpen, agent: Agent, price: number, o: BidOptions = {}): Bid {
  const salt = o.salt ?? randomBytes(32).toString('hex');
  const commit = agent.sign(bidCommitmentTemplate({ auctionId: open.id, commit: commitmentHash(open.id, price, agent.pk, salt), created_at: o.commitCreatedAt ?? SEC }));
  const reveal = (o.revealer ?? agent).sign(
    bidRevealTemplate({ auctionId: open.id, commitId: commit.id, price: o.revealPrice ?? price, salt: o.revealSalt ?? salt, created_at: o.revealCreatedAt ?? SEC }),
  );
  return { agent, price, salt, commit, reveal };
}

const at = (event: NostrEvent, receivedAt: number): Received => ({ event, receivedAt });
/** Commitments inside the commit window, then reveals inside the reveal window, in the given order. */
const onTime = (bids: readonly Bid[]): Received[] => [...bids.map((b, i) => at(b.commit, T0 + 10 + i)), ...bids.map((b, i) => at(b.reveal, CD + 10 + i))];
const summary = (r: { ranking: readonly { agent: string; price: number }[] }): [string, number][] => r.ranking.map((b) => [b.agent, b.price]);

const [a, b, c] = [new Agent(), new Agent(), new Agent()] as const;

describe('resolveAuction', () => {
  it('ranks three valid bids and pays the winner the second-lowest price', () => {
    const open = makeOpen();
    const bids = [bid(open, a, 300), bid(open, b, 100), bid(open, c, 200)];
    const r = resolveAuction(open, onTime(bids));
    assert.deepEqual(summary(r), [[b.pk, 100], [c.pk, 200], [a.pk, 300]]);
    assert.deepEqual(r.ranking[0], { agent: b.pk, price: 100, commitId: bids[1]!.commit.id, revealId: bids[1]!.reveal.id });
    assert.equal(r.winner, b.pk);
    assert.equal(r.pricePaid, 200);
    assert.deepEqual(r.void, []);
    assert.deepEqual(r.commitments, bids.map((x) => x.commit.id));
    assert.deepEqual(r.reveals, bids.map((x) => x.reveal.id));
  });

  it('pays a lone bidder its own price; with no valid bid there is no winner', () => {
    const open = makeOpen();
    const alone = resolveAuction(open, onTime([bid(open, a, 4200)]));
    assert.equal(alone.winner, a.pk);
    assert.equal(alone.pricePaid, 4200);

    const none = resolveAuction(open, []);
    assert.deepEqual([none.ranking, none.void, none.winner, none.pricePaid], [[], [], undefined, undefined]);
    const template = resultTemplate(open, none, SEC);
    const parsed = parseAuctionResult(finalizeEvent(template, coordinator));
    assert.ok(parsed.ok && parsed.value.status === 'no-bids');

    const silent = bid(open, b, 100);
    const unrevealed = resolveAuction(open, [at(silent.commit, T0 + 1)]);
    assert.equal(unrevealed.winner, undefined);
    assert.deepEqual(unrevealed.void, [{ id: silent.commit.id, reason: 'unrevealed' }]);
  });

  it('voids a reveal whose price or salt does not match its commitment', () => {
    const open = makeOpen();
    const badSalt = bid(open, a, 100, { revealSalt: randomBytes(32).toString('hex') });
    const badPrice = bid(open, b, 500, { revealPrice: 50 });
    const honest = bid(open, c, 300);
    const r = resolveAuction(open, onTime([badSalt, badPrice, honest]));
    assert.deepEqual(summary(r), [[c.pk, 300]]);
    assert.equal(r.pricePaid, 300);
    assert.deepEqual(r.void, [
      { id: badSalt.commit.id, reason: 'unrevealed' },
      { id: badPrice.commit.id, reason: 'unrevealed' },
      { id: badSalt.reveal.id, reason: 'mismatch' },
      { id: badPrice.reveal.id, reason: 'mismatch' },
    ]);
  });

  it('voids a reveal signed by another key, and a copied commitment', () => {
    const open = makeOpen();
    const victim = bid(open, a, 200);
    const stolen = bid(open, a, 200, { salt: victim.salt, revealer: b }); // b reveals a's commitment
    // c copies a's commit hash under its own key and reveals a's price and salt once a has revealed.
    const copy = c.sign(bidCommitmentTemplate({ auctionId: open.id, commit: victim.commit.tags[1]![1]!, created_at: SEC }));
    const copyReveal = c.sign(bidRevealTemplate({ auctionId: open.id, commitId: copy.id, price: 200, salt: victim.salt, created_at: SEC }));
    const r = resolveAuction(open, [at(victim.commit, T0 + 1), at(copy, T0 + 2), at(stolen.reveal, CD + 1), at(victim.reveal, CD + 2), at(copyReveal, CD + 3)]);
    assert.deepEqual(summary(r), [[a.pk, 200]]);
    assert.deepEqual(r.void, [
      { id: copy.id, reason: 'unrevealed' },
      { id: stolen.reveal.id, reason: 'wrong-signer' },
      { id: copyReveal.id, reason: 'mismatch' },
    ]);
  });

  it('judges lateness by receive time, not created_at', () => {
    const open = makeOpen();
    const late = bid(open, a, 10, { commitCreatedAt: SEC - 3600 }); // claims to be an hour early
    const onTimeFuture = bid(open, b, 300, { commitCreatedAt: SEC + 3600 }); // claims to be from the future
    const lateReveal = bid(open, c, 20);
    const r = resolveAuction(open, [
      at(lateReveal.commit, T0),
      at(onTimeFuture.commit, CD - 1),
      at(late.commit, CD), // exactly at the deadline: late
      at(late.reveal, CD + 1),
      at(onTimeFuture.reveal, RD - 1),
      at(lateReveal.reveal, RD),
    ]);
    assert.deepEqual(summary(r), [[b.pk, 300]]);
    assert.deepEqual(r.void, [
      { id: lateReveal.commit.id, reason: 'unrevealed' },
      { id: late.commit.id, reason: 'late' },
      { id: late.reveal.id, reason: 'unknown-commitment' },
      { id: lateReveal.reveal.id, reason: 'late' },
    ]);
  });

  it('voids a reveal received before the commit deadline (it leaks the price)', () => {
    const open = makeOpen();
    const early = bid(open, a, 100);
    const other = bid(open, b, 200);
    const r = resolveAuction(open, [at(early.commit, T0), at(other.commit, T0 + 1), at(early.reveal, CD - 1), at(other.reveal, CD)]);
    assert.deepEqual(summary(r), [[b.pk, 200]]);
    assert.deepEqual(r.void, [
      { id: early.commit.id, reason: 'unrevealed' },
      { id: early.reveal.id, reason: 'early' },
    ]);
  });

  it('counts the first commitment of an agent and the first matching reveal of a commitment', () => {
    const open = makeOpen();
    const first = bid(open, a, 100);
    const second = bid(open, a, 50);
    const again = a.sign(bidRevealTemplate({ auctionId: open.id, commitId: first.commit.id, price: 100, salt: first.salt, created_at: SEC + 1 }));
    const r = resolveAuction(open, [
      at(first.commit, T0),
      at(second.commit, T0 + 1),
      at(first.commit, T0 + 2), // the same event delivered twice is one event
      at(first.reveal, CD),
      at(second.reveal, CD + 1),
      at(again, CD + 2),
    ]);
    assert.deepEqual(summary(r), [[a.pk, 100]]);
    assert.deepEqual(r.commitments, [first.commit.id, second.commit.id]);
    assert.deepEqual(r.void, [
      { id: second.commit.id, reason: 'duplicate' },
      { id: second.reveal.id, reason: 'unknown-commitment' },
      { id: again.id, reason: 'duplicate' },
    ]);
  });

  it('voids bids above the max price, so the paid price never exceeds it', () => {
    const open = makeOpen(150);
    const low = bid(open, a, 100);
    const high = bid(open, b, 200);
    const r = resolveAuction(open, onTime([low, high]));
    assert.deepEqual(summary(r), [[a.pk, 100]]);
    assert.equal(r.pricePaid, 100, 'its own price: the only valid bid');
    assert.deepEqual(r.void, [
      { id: high.commit.id, reason: 'over-max' },
      { id: high.reveal.id, reason: 'over-max' },
    ]);
    const atMax = resolveAuction(open, onTime([bid(open, a, 100), bid(open, b, 150)]));
    assert.equal(atMax.pricePaid, 150);
  });

  it('breaks ties by the lowest sha256(auction id:agent), whatever the receive order', () => {
    const open = makeOpen();
    const bids = [bid(open, a, 100), bid(open, b, 100), bid(open, c, 200)];
    const tied = [a.pk, b.pk].sort((x, y) => (tieBreakKey(open.id, x) < tieBreakKey(open.id, y) ? -1 : 1));
    const r1 = resolveAuction(open, onTime(bids));
    const r2 = resolveAuction(open, onTime([...bids].reverse()));
    assert.deepEqual(summary(r1), [[tied[0]!, 100], [tied[1]!, 100], [c.pk, 200]]);
    assert.deepEqual(r2.ranking, r1.ranking);
    assert.equal(r1.winner, tied[0]);
    assert.equal(r1.pricePaid, 100);
  });

  it('voids commitments of agents listed below the min-score (unlisted: 0), before judging lateness', () => {
    const open = makeOpen(undefined, { minScore: 0.5, scores: new Map([[a.pk, 0.9], [b.pk, 0.4999]]) });
    const [good, low, unlisted] = [bid(open, a, 300), bid(open, b, 100), bid(open, c, 200)];
    const r = resolveAuction(open, [at(good.commit, T0), at(low.commit, T0 + 1), at(unlisted.commit, CD), at(good.reveal, CD), at(low.reveal, CD + 1), at(unlisted.reveal, CD + 2)]);
    assert.deepEqual(summary(r), [[a.pk, 300]]);
    assert.equal(r.pricePaid, 300);
    assert.deepEqual(r.void, [
      { id: low.commit.id, reason: 'low-score' },
      { id: unlisted.commit.id, reason: 'low-score' }, // received late too: low-score is checked first
      { id: low.reveal.id, reason: 'unknown-commitment' },
      { id: unlisted.reveal.id, reason: 'unknown-commitment' },
    ]);
    const atMin = makeOpen(undefined, { minScore: 0, scores: new Map() });
    assert.deepEqual(resolveAuction(atMin, onTime([bid(atMin, c, 5)])).void, [], 'an unlisted agent meets a min-score of 0');
  });

  it('gives equal prices to the higher listed score, whatever the tie-break key; a lower price still wins', () => {
    const keyOf = (pk: string, open: AuctionOpen): string => tieBreakKey(open.id, pk);
    // The scores are part of the open, so of its id and the tie-break keys: find scores under which
    // the key alone would rank a first, then give b the higher score.
    let open = makeOpen(undefined, { scores: new Map([[a.pk, 0.6], [b.pk, 0.9]]) });
    for (let i = 1; keyOf(a.pk, open) > keyOf(b.pk, open); i++) open = makeOpen(undefined, { scores: new Map([[a.pk, 0.6], [b.pk, 0.9 + i / 10_000]]) });
    const tied = resolveAuction(open, onTime([bid(open, a, 100), bid(open, b, 100), bid(open, c, 100)]));
    assert.deepEqual(summary(tied), [[b.pk, 100], [a.pk, 100], [c.pk, 100]], 'by score; c is unlisted: 0');
    assert.equal(tied.winner, b.pk);
    assert.equal(tied.pricePaid, 100);
    const cheaper = resolveAuction(open, onTime([bid(open, b, 100), bid(open, c, 99)]));
    assert.deepEqual(summary(cheaper), [[c.pk, 99], [b.pk, 100]], 'price first: unlisted c is cheaper');
    assert.equal(cheaper.pricePaid, 100);
    // Unlisted counts as exactly 0: against an agent listed at 0, the tie-break key decides.
    const zero = makeOpen(undefined, { scores: new Map([[a.pk, 0]]) });
    const byKey = [a.pk, c.pk].sort((x, y) => (keyOf(x, zero) < keyOf(y, zero) ? -1 : 1));
    assert.deepEqual(summary(resolveAuction(zero, onTime([bid(zero, a, 7), bid(zero, c, 7)]))), [[byKey[0]!, 7], [byKey[1]!, 7]]);
  });

  it('leaves out forged events, other kinds and other auctions; voids malformed bids', () => {
    const open = makeOpen();
    const other = makeOpen(5); // another auction: different tags, different id
    const good = bid(open, a, 100);
    const forged = { ...bid(open, b, 10).commit, sig: good.commit.sig };
    const elsewhere = bid(other, c, 1);
    const note = a.sign({ kind: 1, created_at: SEC, tags: [['e', open.id]], content: 'hi' });
    const malformed = c.sign({ kind: 7281, created_at: SEC, tags: [['e', open.id]], content: '' });
    const r = resolveAuction(open, [at(good.commit, T0), at(forged, T0), at(elsewhere.commit, T0), at(note, T0), at(malformed, T0), at(good.reveal, CD), at(elsewhere.reveal, CD)]);
    assert.deepEqual(summary(r), [[a.pk, 100]]);
    assert.deepEqual(r.commitments, [good.commit.id, malformed.id]);
    assert.deepEqual(r.void, [{ id: malformed.id, reason: 'malformed' }]);
  });
});

describe('recheck', () => {
  const open = makeOpen(1000);
  const bids = [bid(open, a, 300), bid(open, b, 100), bid(open, c, 200)];
  const lateOne = bid(open, new Agent(), 50);
  const received = [...onTime(bids), at(lateOne.commit, CD + 5), at(lateOne.reveal, CD + 6)];
  const events = [open.event, ...received.map((r) => r.event)];
  const resolution = resolveAuction(open, received);
  const sign = (tags: string[][], sk = coordinator): NostrEvent => finalizeEvent({ kind: 7283, created_at: SEC, tags, content: '' }, sk);
  const published = finalizeEvent(resultTemplate(open, resolution, SEC), coordinator);
  const tags = (): string[][] => published.tags.map((t) => [...t]);

  it('accepts the published result, taking only the timing claims on trust', () => {
    const report = recheck(published, [...events].reverse());
    assert.deepEqual(report.problems, []);
    assert.ok(report.ok);
    assert.deepEqual(report.timingClaims, [{ id: lateOne.commit.id, reason: 'late' }]);
    assert.deepEqual(report.unlisted, []);
    assert.equal(report.recomputed?.pricePaid, 200);
  });

  it('catches a tampered price, ranking, winner or signer', () => {
    const cheaper = recheck(sign(tags().map((t) => (t[0] === 'price' ? ['price', '100'] : t))), events);
    assert.deepEqual(cheaper.problems, ['the paid price is not the second-lowest valid price']);
    const rank = tags().filter((t) => t[0] === 'rank');
    const swapped = tags().filter((t) => t[0] !== 'rank' && t[0] !== 'p');
    swapped.push(['p', c.pk], ['rank', '1', ...rank[1]!.slice(2)], ['rank', '2', ...rank[0]!.slice(2)], rank[2]!);
    const r = recheck(sign(swapped), events);
    assert.ok(!r.ok);
    assert.deepEqual(r.problems, ['the ranking does not follow from the events', 'the winner does not follow from the events']);
    assert.match(recheck({ ...published, tags: swapped }, events).problems[0]!, /bad id or signature/);
    assert.deepEqual(recheck(sign(tags(), generateSecretKey()), events).problems, ['the result is not signed by the coordinator that opened the auction']);
  });

  it('catches a listed event that is missing and a void claim that does not follow', () => {
    const missing = recheck(published, events.filter((e) => e.id !== bids[0]!.reveal.id));
    assert.ok(!missing.ok);
    assert.match(missing.problems[0]!, /is not among the events/);
    const wrongVoid = tags().map((t) => (t[0] === 'void' ? ['void', t[1]!, 'duplicate'] : t));
    assert.ok(recheck(sign(wrongVoid), events).problems.includes('the void list does not follow from the events'));
    assert.match(recheck(published, []).problems[0]!, /auction open event is not among the events/);
  });

  it('reaches the same score ranking and low-score voids from the open event alone', () => {
    const scored = makeOpen(undefined, { minScore: 0.2, scores: new Map([[a.pk, 0.3], [b.pk, 0.8], [c.pk, 0.1]]) });
    const rx = onTime([bid(scored, a, 100), bid(scored, b, 100), bid(scored, c, 50)]);
    const res = resolveAuction(scored, rx);
    assert.deepEqual(summary(res), [[b.pk, 100], [a.pk, 100]]);
    assert.equal(res.void[0]?.reason, 'low-score');
    const evs = [scored.event, ...rx.map((r) => r.event)];
    const honest = finalizeEvent(resultTemplate(scored, res, SEC), coordinator);
    assert.deepEqual(recheck(honest, evs).problems, []);
    // A result that ignores the scores (a ranked first on its key, c's commitment counted) is caught.
    const ignored = finalizeEvent(resultTemplate(scored, resolveAuction({ ...scored, scores: new Map(), minScore: 0 }, rx), SEC), coordinator);
    const report = recheck(ignored, evs);
    assert.ok(!report.ok);
    assert.ok(report.problems.includes('the ranking does not follow from the events'), JSON.stringify(report.problems));
    assert.ok(report.problems.includes('the void list does not follow from the events'));
  });

  it('cannot disprove timing claims or omissions, but reports them', () => {
    // The coordinator says b's winning reveal came late and leaves a's reveal out of the result.
    const censored = received.filter((r) => r.event.id !== bids[0]!.reveal.id).map((r) => (r.event.id === bids[1]!.reveal.id ? at(r.event, RD + 1) : r));
    const rigged = finalizeEvent(resultTemplate(open, resolveAuction(open, censored), SEC), coordinator);
    const report = recheck(rigged, events);
    assert.ok(report.ok, JSON.stringify(report.problems));
    assert.equal(report.recomputed?.winner, c.pk);
    assert.deepEqual(report.timingClaims, [
      { id: lateOne.commit.id, reason: 'late' },
      { id: bids[1]!.reveal.id, reason: 'late' },
    ]);
    assert.deepEqual(report.unlisted, [bids[0]!.reveal.id]);
  });
});

describe('docs/protocol.md examples', () => {
  it('are valid events of one auction: the reveal opens the commitment and the result ranks it first', () => {
    const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Sealed-bid auctions'));
    const [open, commit, reveal, result] = [...section.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]!) as NostrEvent);
    assert.ok(open && commit && reveal && result);
    for (const e of [open, commit, reveal, result]) assert.ok(verifyEvent(e), `example ${e.kind} is signed`);
    const o = parseAuctionOpen(open);
    const c = parseBidCommitment(commit);
    const r = parseBidReveal(reveal);
    const res = parseAuctionResult(result);
    assert.ok(o.ok && c.ok && r.ok && res.ok);
    assert.equal(c.value.auctionId, o.value.id);
    assert.equal(commitmentHash(o.value.id, r.value.price, c.value.agent, r.value.salt), c.value.commit);
    assert.deepEqual(res.value.ranking[0], { agent: c.value.agent, price: r.value.price, commitId: commit.id, revealId: reveal.id });
    assert.equal(res.value.auctionId, o.value.id);
    assert.equal(res.value.coordinator, o.value.coordinator);
    assert.equal(res.value.price, res.value.ranking[1]?.price);
  });
});
