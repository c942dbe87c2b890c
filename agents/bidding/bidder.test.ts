// Bidders and the coordinator on a manual clock, over an in-memory NostrClient that delivers each
// event to matching subscriptions before publish returns: every window is driven by the test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NostrClient, PublishResult, SubscriptionHandlers } from '../../nostr/client.js';
import { matchFilters, type Filter, type NostrEvent } from '../../nostr/nip01.js';
import { secretKeySigner } from '../../nostr/signer.js';
import { finalizeEvent, getPublicKey } from '../../nostr/verify.js';
import {
  BID_COMMITMENT_KIND,
  BID_REVEAL_KIND,
  auctionOpenTemplate,
  bidCommitmentTemplate,
  commitmentHash,
  parseAuctionOpen,
  type AuctionOpen,
} from '../../nostr/auction.js';
import { ManualClock } from '../../dvm/auction/clock.js';
import { AuctionCoordinator, AuctionError, type AuctionJob, type AuctionOutcome } from '../../dvm/auction/coordinator.js';
import { Bidder, type BidOutcome } from './bidder.js';
import { seededRandom } from './random.js';
import type { CostModel } from './learner.js';

class Bus implements NostrClient {
  readonly events: NostrEvent[] = [];
  private readonly subs = new Set<{ filters: Filter[]; h: SubscriptionHandlers }>();

  publish(e: NostrEvent): Promise<PublishResult> {
    if (!this.events.some((x) => x.id === e.id)) {
      this.events.push(e);
      for (const s of [...this.subs]) if (matchFilters(s.filters, e)) s.h.onEvent(e);
    }
    return Promise.resolve({ ok: true, relays: [{ relay: 'bus', ok: true, message: '' }] });
  }

  subscribe(filters: Filter[], h: SubscriptionHandlers): { close(): void } {
    const s = { filters, h };
    this.subs.add(s);
    for (const e of this.events) if (matchFilters(filters, e)) h.onEvent(e);
    queueMicrotask(() => h.onEose?.());
    return { close: () => void this.subs.delete(s) };
  }

  query(filters: Filter[]): Promise<NostrEvent[]> {
    return Promise.resolve(this.events.filter((e) => matchFilters(filters, e)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  count(kind: number): number {
    return this.events.filter((e) => e.kind === kind).length;
  }
}

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(pred(), `timed out waiting for ${what}`);
}

const T0 = 1_700_000_000_000;
const JOB = 'e'.repeat(64);
const key = (name: string): Uint8Array => seededRandom(`key:${name}`)(32);
const costs: CostModel[] = [
  // Bids for 10 units at the learner's initial 20 % markup:
  { baseMsat: 1000, perUnitMsat: 100 }, // 2400
  { baseMsat: 500, perUnitMsat: 50 }, // 1200
  { baseMsat: 800, perUnitMsat: 80, minMarginPct: 5 }, // 1920
];

interface Run {
  bus: Bus;
  clock: ManualClock;
  outcome: AuctionOutcome;
  bids: BidOutcome[];
  bidders: Bidder[];
}

/** One auction for a 10-unit job among the three cost models, every step driven by the test. */
async function runAuction(job: Partial<AuctionJob> = {}, admit?: (pubkey: string) => boolean): Promise<Run> {
  const bus = new Bus();
  const clock = new ManualClock(T0);
  const coordinator = new AuctionCoordinator({ client: bus, signer: secretKeySigner(key('coordinator')), clock });
  const bids: BidOutcome[] = [];
  const bidders = costs.map(
    (cost, i) => new Bidder({ client: bus, signer: secretKeySigner(key(`agent${i}`)), clock, kinds: [5050], cost, random: seededRandom(`salt${i}`), onBid: (b) => bids.push(b) }),
  );
  await Promise.all(bidders.map((b) => b.start()));
  const running = coordinator.open({ id: JOB, kind: 5050, units: 10, ...job }, {}, admit);
  await until(() => bids.length + bus.count(BID_COMMITMENT_KIND) === 3, 'commitments');
  await clock.advance(149);
  assert.equal(bus.count(BID_REVEAL_KIND), 0, 'nobody reveals before the commit deadline');
  await clock.advance(1);
  await until(() => bus.count(BID_REVEAL_KIND) === bus.count(BID_COMMITMENT_KIND), 'reveals');
  await clock.advance(150);
  const outcome = await running;
  await until(() => bids.length === 3, 'bid outcomes');
  for (const b of bidders) b.stop();
  return { bus, clock, outcome, bids, bidders };
}

describe('Bidder with AuctionCoordinator (manual clock)', () => {
  it('bids its cost estimate; the lowest wins and is paid the second price; learners hear the result', async () => {
    const { outcome, bids, bidders } = await runAuction();
    const pk = (i: number): string => getPublicKey(key(`agent${i}`));
    assert.deepEqual(outcome.ranking.map((b) => [b.agent, b.price]), [[pk(1), 1200], [pk(2), 1920], [pk(0), 2400]]);
    assert.equal(outcome.winner, pk(1));
    assert.equal(outcome.pricePaid, 1920);
    assert.deepEqual(outcome.void, []);
    assert.ok(outcome.published.open.ok && outcome.published.result.ok);
    const mine = (i: number): BidOutcome => bids.find((b) => b.price === bidders[i]!.priceFor(10))!;
    assert.deepEqual([mine(0).won, mine(1).won, mine(2).won], [false, true, false]);
    assert.equal(mine(1).result?.id, outcome.result.id);
    assert.ok(bidders[1]!.learner.state().winRate > 0.4, 'a win pulls the win rate up');
    assert.ok(bidders[0]!.learner.state().winRate < 0.4, 'a loss pulls it down');
  });

  it('a coordinator that admits only some bidders drops the others\' bids; their learners count nothing', async () => {
    const pk = (i: number): string => getPublicKey(key(`agent${i}`));
    const before = new Bidder({ client: new Bus(), signer: secretKeySigner(key('x')), kinds: [5050], cost: costs[1]! }).learner.state();
    const { outcome, bids, bidders } = await runAuction({}, (a) => a !== pk(1));
    assert.deepEqual(outcome.ranking.map((b) => [b.agent, b.price]), [[pk(2), 1920], [pk(0), 2400]]);
    assert.equal(outcome.commitments.length, 2);
    assert.equal(outcome.reveals.length, 2);
    const dropped = bids.find((b) => b.price === 1200)!;
    assert.equal(dropped.won, false);
    assert.deepEqual(bidders[1]!.learner.state(), before, 'a bid the coordinator did not consider teaches nothing');
  });

  it('is repeatable with seeded randomness: the same commitments, byte for byte', async () => {
    const ids = async (): Promise<string[]> => (await runAuction()).outcome.commitments.slice().sort();
    assert.deepEqual(await ids(), await ids());
  });

  it('stays out of an auction whose max price is below its cost estimate', async () => {
    const { outcome, bids } = await runAuction({ maxPrice: 2000 });
    assert.deepEqual(outcome.ranking.map((b) => b.price), [1200, 1920]);
    assert.deepEqual(bids.filter((b) => b.skipped).map((b) => [b.skipped, b.price]), [['cost estimate above the max price', 2400]]);
  });

  it('stays out of an auction whose min-score is above its listed score (unlisted: 0)', async () => {
    const pk = (i: number): string => getPublicKey(key(`agent${i}`));
    const { outcome, bids } = await runAuction({ minScore: 0.5, scores: new Map([[pk(0), 0.9], [pk(1), 0.4]]) });
    assert.deepEqual(outcome.open.scores, new Map([[pk(0), 0.9], [pk(1), 0.4]]));
    assert.deepEqual(outcome.ranking.map((b) => [b.agent, b.price]), [[pk(0), 2400]]);
    assert.deepEqual(outcome.commitments.length, 1, 'the others did not commit');
    assert.deepEqual(bids.filter((b) => b.skipped).map((b) => [b.skipped, b.price]), [
      ['listed score below the min-score', undefined],
      ['listed score below the min-score', undefined],
    ]);
  });

  it('skips auctions it cannot take part in', async () => {
    const clock = new ManualClock(T0);
    const bus = new Bus();
    const bidder = new Bidder({ client: bus, signer: secretKeySigner(key('x')), clock, kinds: [5050], cost: costs[0]!, units: (o) => (o.units === 7 ? undefined : o.units) });
    const open = (kind: number, units = 1): AuctionOpen => {
      const p = parseAuctionOpen(finalizeEvent(auctionOpenTemplate({ jobId: JOB, jobKind: kind, commitDeadline: T0 + 10, revealDeadline: T0 + 20, units, created_at: 1 }), key('c')));
      assert.ok(p.ok);
      return p.value;
    };
    assert.equal((await bidder.bid(open(5001))).skipped, 'not a kind this agent does');
    assert.equal((await bidder.bid(open(5050, 7))).skipped, 'cannot do this job');
    const stopped = bidder.bid(open(5050));
    await until(() => bus.count(BID_COMMITMENT_KIND) === 1, 'the commitment');
    bidder.stop();
    assert.deepEqual((await stopped).skipped, 'stopped', 'stop() ends a bid waiting for its reveal window');
    await clock.advance(10);
    assert.equal((await bidder.bid(open(5050))).skipped, 'commit window closed');
  });

  it('the coordinator fails when no relay takes the auction open', async () => {
    class Refusing extends Bus {
      override publish(): Promise<PublishResult> {
        return Promise.resolve({ ok: false, relays: [{ relay: 'bus', ok: false, message: 'blocked: not today' }] });
      }
    }
    const refusing = new Refusing();
    const coordinator = new AuctionCoordinator({ client: refusing, signer: secretKeySigner(key('coordinator')), clock: new ManualClock(T0) });
    await assert.rejects(coordinator.open({ id: JOB, kind: 5050 }), (err: Error) => err instanceof AuctionError && /blocked: not today/.test(err.message));
  });

  it('the coordinator judges lateness by its own clock, whatever created_at says', async () => {
    const bus = new Bus();
    const clock = new ManualClock(T0);
    const coordinator = new AuctionCoordinator({ client: bus, signer: secretKeySigner(key('coordinator')), clock });
    assert.throws(() => new AuctionCoordinator({ client: bus, signer: secretKeySigner(key('c')), windows: { commitMs: 0 } }), RangeError);
    const running = coordinator.open({ id: JOB, kind: 5050 }, { commitMs: 50, revealMs: 50 });
    await until(() => bus.events.length === 1, 'the auction open');
    const open = bus.events[0]!;
    const sk = key('late agent');
    const commit = (created_at: number): NostrEvent =>
      finalizeEvent(bidCommitmentTemplate({ auctionId: open.id, commit: commitmentHash(open.id, 100, getPublicKey(sk), 'a'.repeat(64)), created_at }), sk);
    await clock.advance(50);
    const backdated = commit(Math.floor(T0 / 1000) - 60); // says it was made a minute before the auction
    await bus.publish(backdated);
    await clock.advance(50);
    const outcome = await running;
    assert.deepEqual(outcome.void, [{ id: backdated.id, reason: 'late' }]);
    assert.equal(outcome.winner, undefined);
    assert.equal(outcome.open.commitDeadline, T0 + 50);
    assert.equal(outcome.open.revealDeadline, T0 + 100);
  });
});
