import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NostrEvent } from './nip01.js';
import { finalizeEvent, generateSecretKey, getPublicKey, type EventTemplate } from './verify.js';
import {
  AUCTION_OPEN_KIND,
  AUCTION_RESULT_KIND,
  BID_COMMITMENT_KIND,
  BID_REVEAL_KIND,
  auctionOpenTemplate,
  auctionPhase,
  auctionResultTemplate,
  bidCommitmentTemplate,
  bidRevealTemplate,
  commitmentHash,
  commitmentPreimage,
  compareBids,
  parseAuctionOpen,
  parseAuctionResult,
  parseBidCommitment,
  parseBidReveal,
  tieBreakKey,
} from './auction.js';

const sk = generateSecretKey();
const pk = getPublicKey(sk);
const sign = (t: EventTemplate): NostrEvent => finalizeEvent(t, sk);
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const D = 'd'.repeat(64);
const withTags = (e: NostrEvent, tags: string[][]): NostrEvent => sign({ ...e, tags });

describe('auction events (kinds 7280-7283)', () => {
  it('hashes the commitment over auction, price, bidder and salt (fixed vector)', () => {
    assert.equal(commitmentPreimage(A, 21000, B, C), `${A}:21000:${B}:${C}`);
    assert.equal(commitmentHash(A, 21000, B, C), 'd21bdfe3e6c2eda3dfcb565d953f588e4a1fe3d22bd1c484a272c7b2e7749a48');
    assert.notEqual(commitmentHash(D, 21000, B, C), commitmentHash(A, 21000, B, C), 'bound to the auction');
    assert.notEqual(commitmentHash(A, 21000, D, C), commitmentHash(A, 21000, B, C), 'bound to the bidder');
    assert.throws(() => commitmentHash(A, 1.5, B, C), RangeError);
    assert.throws(() => commitmentHash(A, -1, B, C), RangeError);
    assert.equal(tieBreakKey(A, B), '6173cf9d3267e6b926102c8b149812658d05d834916fd23f7451c48c888147ab');
  });

  it('orders bids by price, then by tie-break key', () => {
    const lowKey = tieBreakKey(A, B) < tieBreakKey(A, C) ? B : C;
    const highKey = lowKey === B ? C : B;
    assert.ok(compareBids(A, { agent: highKey, price: 5 }, { agent: lowKey, price: 6 }) < 0);
    assert.ok(compareBids(A, { agent: lowKey, price: 6 }, { agent: highKey, price: 6 }) < 0);
    assert.equal(compareBids(A, { agent: B, price: 6 }, { agent: B, price: 6 }), 0);
  });

  it('orders equal prices by higher listed score (unlisted: 0) before the tie-break key', () => {
    const lowKey = tieBreakKey(A, B) < tieBreakKey(A, C) ? B : C;
    const highKey = lowKey === B ? C : B;
    const scores = new Map([[highKey, 0.5]]);
    assert.ok(compareBids(A, { agent: highKey, price: 6 }, { agent: lowKey, price: 6 }, scores) < 0, 'listed beats unlisted');
    assert.ok(compareBids(A, { agent: lowKey, price: 5 }, { agent: highKey, price: 6 }, scores) < 0, 'price still first');
    assert.ok(compareBids(A, { agent: lowKey, price: 6 }, { agent: highKey, price: 6 }, new Map([[B, 0.5], [C, 0.5]])) < 0, 'equal scores: the key');
  });

  it('puts receive times in half-open windows', () => {
    const w = { commitDeadline: 1000, revealDeadline: 2000 };
    assert.equal(auctionPhase(w, 999), 'commit');
    assert.equal(auctionPhase(w, 1000), 'reveal');
    assert.equal(auctionPhase(w, 1999), 'reveal');
    assert.equal(auctionPhase(w, 2000), 'closed');
  });

  it('builds and parses an auction open', () => {
    const e = sign(auctionOpenTemplate({ jobId: A, jobKind: 5050, commitDeadline: 1_700_000_000_150, revealDeadline: 1_700_000_000_300, maxPrice: 50_000, units: 2.5, created_at: 1_700_000_000 }));
    assert.equal(e.kind, AUCTION_OPEN_KIND);
    const p = parseAuctionOpen(e);
    assert.ok(p.ok);
    assert.deepEqual(
      { ...p.value, event: undefined },
      { event: undefined, id: e.id, coordinator: pk, jobId: A, jobKind: 5050, commitDeadline: 1_700_000_000_150, revealDeadline: 1_700_000_000_300, maxPrice: 50_000, units: 2.5, scores: new Map() },
    );
    const bare = parseAuctionOpen(sign(auctionOpenTemplate({ jobId: A, jobKind: 5001, commitDeadline: 10, revealDeadline: 20, created_at: 0 })));
    assert.ok(bare.ok && bare.value.maxPrice === undefined && bare.value.units === undefined && bare.value.minScore === undefined && bare.value.scores.size === 0);
    assert.throws(() => auctionOpenTemplate({ jobId: A, jobKind: 5001, commitDeadline: 20, revealDeadline: 20, created_at: 0 }), RangeError);
    for (const [tags, why] of [
      [[['k', '5050'], ['commit-deadline', '1'], ['reveal-deadline', '2']], /job request/],
      [[['e', A], ['commit-deadline', '1'], ['reveal-deadline', '2']], /job kind/],
      [[['e', A], ['k', '5050'], ['commit-deadline', '2'], ['reveal-deadline', '1']], /after/],
      [[['e', A], ['k', '5050'], ['commit-deadline', '01'], ['reveal-deadline', '2']], /milliseconds/],
      [[['e', A], ['k', '5050'], ['commit-deadline', '1'], ['reveal-deadline', '2'], ['max-price', '-5']], /max-price/],
    ] as const) {
      const r = parseAuctionOpen(withTags(e, tags.map((t) => [...t])));
      assert.ok(!r.ok && why.test(r.reason), `${JSON.stringify(tags)}: ${JSON.stringify(r)}`);
    }
  });

  it('builds and parses min-score and score tags (4 decimals, sorted by agent)', () => {
    const base = { jobId: A, jobKind: 5050, commitDeadline: 10, revealDeadline: 20, created_at: 0 };
    const e = sign(auctionOpenTemplate({ ...base, minScore: 0.5, scores: new Map([[C, 0.83125], [B, 1], [D, 0]]) }));
    assert.deepEqual(e.tags.slice(4), [['min-score', '0.5000'], ['score', B, '1.0000'], ['score', C, '0.8313'], ['score', D, '0.0000']]);
    const p = parseAuctionOpen(e);
    assert.ok(p.ok, JSON.stringify(p));
    assert.equal(p.value.minScore, 0.5);
    assert.deepEqual([...p.value.scores], [[B, 1], [C, 0.8313], [D, 0]]);
    assert.throws(() => auctionOpenTemplate({ ...base, minScore: 1.5 }), RangeError);
    assert.throws(() => auctionOpenTemplate({ ...base, scores: new Map([[B, -0.1]]) }), RangeError);
    assert.throws(() => auctionOpenTemplate({ ...base, scores: new Map([[B.toUpperCase(), 0.5]]) }), RangeError);

    const head = e.tags.slice(0, 4).map((t) => [...t]);
    assert.ok(parseAuctionOpen(withTags(e, [...head, ['min-score', '1'], ['score', B, '0.25']])).ok, 'any number of decimals');
    for (const [tags, why] of [
      [[['score', 'b'.repeat(63), '0.5']], /score tag/],
      [[['score', B.toUpperCase(), '0.5']], /score tag/],
      [[['score', B]], /score tag/],
      [[['score', B, '1.5']], /score tag/],
      [[['score', B, '-0.1']], /score tag/],
      [[['score', B, '.5']], /score tag/],
      [[['score', B, '5e-1']], /score tag/],
      [[['score', B, '0.5'], ['score', B, '0.6']], /one score tag per agent/],
      [[['min-score', '1.01']], /min-score/],
      [[['min-score', 'high']], /min-score/],
      [[['min-score']], /min-score/],
      [[['min-score', '0.5'], ['min-score', '0.6']], /min-score/],
    ] as const) {
      const r = parseAuctionOpen(withTags(e, [...head, ...tags.map((t) => [...t])]));
      assert.ok(!r.ok && why.test(r.reason), `${JSON.stringify(tags)}: ${JSON.stringify(r)}`);
    }
  });

  it('builds and parses commitments and reveals', () => {
    const c = sign(bidCommitmentTemplate({ auctionId: A, commit: commitmentHash(A, 700, pk, C), created_at: 1 }));
    assert.equal(c.kind, BID_COMMITMENT_KIND);
    const pc = parseBidCommitment(c);
    assert.ok(pc.ok && pc.value.auctionId === A && pc.value.agent === pk && pc.value.commit === commitmentHash(A, 700, pk, C));
    assert.ok(!parseBidCommitment(withTags(c, [['e', A], ['commit', 'xyz']])).ok);

    const r = sign(bidRevealTemplate({ auctionId: A, commitId: c.id, price: 700, salt: C, created_at: 1 }));
    assert.equal(r.kind, BID_REVEAL_KIND);
    assert.deepEqual(r.tags, [['e', c.id, '', 'commitment'], ['e', A, '', 'auction'], ['price', '700'], ['salt', C]]);
    const pr = parseBidReveal(r);
    assert.ok(pr.ok && pr.value.commitId === c.id && pr.value.auctionId === A && pr.value.price === 700 && pr.value.salt === C);
    const base = [['e', c.id, '', 'commitment'], ['e', A, '', 'auction']];
    for (const tags of [
      [...base, ['price', '0700'], ['salt', C]],
      [...base, ['price', '700'], ['salt', C.slice(2)]],
      [...base, ['price', '700'], ['salt', C.toUpperCase()]],
      [['e', c.id], ['e', A, '', 'auction'], ['price', '700'], ['salt', C]],
      [...base, ['e', B, '', 'auction'], ['price', '700'], ['salt', C]],
    ]) assert.ok(!parseBidReveal(withTags(r, tags)).ok, JSON.stringify(tags));
  });

  it('builds and parses results, won and no-bids', () => {
    const ranking = [
      { agent: B, price: 100, commitId: C, revealId: D },
      { agent: D, price: 200, commitId: B, revealId: A },
    ];
    const e = sign(auctionResultTemplate({ auctionId: A, jobId: B, commitments: [C, B], reveals: [D, A], ranking, void: [{ id: pk, reason: 'late' }], price: 200, created_at: 5 }));
    assert.equal(e.kind, AUCTION_RESULT_KIND);
    const p = parseAuctionResult(e);
    assert.ok(p.ok, JSON.stringify(p));
    assert.deepEqual(
      { ...p.value, event: undefined },
      { event: undefined, id: e.id, coordinator: pk, auctionId: A, jobId: B, status: 'won', winner: B, price: 200, commitments: [C, B], reveals: [D, A], ranking, void: [{ id: pk, reason: 'late' }] },
    );
    const none = parseAuctionResult(sign(auctionResultTemplate({ auctionId: A, commitments: [], reveals: [], ranking: [], void: [], created_at: 5 })));
    assert.ok(none.ok && none.value.status === 'no-bids' && none.value.winner === undefined && none.value.ranking.length === 0);
    assert.throws(() => auctionResultTemplate({ auctionId: A, commitments: [], reveals: [], ranking, void: [], created_at: 5 }), RangeError);

    const tags = e.tags.map((t) => [...t]);
    const swap = (name: string, first: string, value: string[]): string[][] => tags.map((t) => (t[0] === name && t[1] === first ? value : t));
    const bad: [string[][], RegExp][] = [
      [tags.filter((t) => t[0] !== 'status'), /status/],
      [swap('p', B, ['p', D]), /ranked first/],
      [swap('rank', '1', ['rank', '1', B, '100', C, 'zz']), /rank tag/],
      [[...tags.filter((t) => t[0] !== 'rank'), ...tags.filter((t) => t[0] === 'rank').reverse()], /numbered/],
      [[...tags, ['void', A, 'because']], /void tag/],
      [tags.filter((t) => t[3] !== 'auction'), /auction/],
    ];
    for (const [t, why] of bad) {
      const r = parseAuctionResult(withTags(e, t));
      assert.ok(!r.ok && why.test(r.reason), JSON.stringify(r));
    }
    const noBidsWithWinner = [['e', A, '', 'auction'], ['status', 'no-bids'], ['p', B]];
    assert.ok(!parseAuctionResult(withTags(e, noBidsWithWinner)).ok);
  });
});
