// Sealed-bid auctions end to end through a real relay: the coordinator on the in-process client
// (as the instance runs it), bidders over websockets, a third party re-checking from the relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { WsClient } from '../nostr/ws-client.js';
import { InProcessClient } from '../relay/inprocess-client.js';
import { secretKeySigner } from '../nostr/signer.js';
import { finalizeEvent, generateSecretKey, getPublicKey } from '../nostr/verify.js';
import type { NostrEvent } from '../nostr/nip01.js';
import {
  AUCTION_OPEN_KIND,
  AUCTION_RESULT_KIND,
  bidCommitmentTemplate,
  bidRevealTemplate,
  commitmentHash,
  parseAuctionOpen,
  type AuctionOpen,
} from '../nostr/auction.js';
import { AuctionCoordinator, DEFAULT_WINDOWS } from '../dvm/auction/coordinator.js';
import { fetchAuctionEvents, recheck } from '../dvm/auction/recheck.js';
import { Bidder, type BidOutcome } from '../agents/bidding/bidder.js';
import type { CostModel } from '../agents/bidding/learner.js';
import { Keys, sleep, startTestRelay, type TestRelay } from './support/relay.js';

// Bids for 10 units at the learner's initial 20 % markup:
const costs: CostModel[] = [
  { baseMsat: 2000, perUnitMsat: 300 }, // 6000
  { baseMsat: 1000, perUnitMsat: 100 }, // 2400
  { baseMsat: 1500, perUnitMsat: 150 }, // 3600
];
const jobId = (): string => new Keys().sign({ kind: 5050, content: 'a job' }).id;

describe('auctions through a real relay', () => {
  let relay: TestRelay;
  let coordinatorClient: InProcessClient;
  const closers: (() => unknown)[] = [];
  const coordinatorKey = generateSecretKey();

  before(async () => {
    relay = await startTestRelay();
    coordinatorClient = await InProcessClient.open(relay.relay);
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    await coordinatorClient.close();
    await relay.stop();
  });

  async function wsClient(): Promise<WsClient> {
    const c = new WsClient(relay.url);
    closers.push(() => c.close());
    assert.ok(await c.waitForConnections());
    return c;
  }

  it('three bidders: the lowest wins at the second price, in well under a second, re-checkable from the relay', async (t) => {
    const outcomes: BidOutcome[] = [];
    const bidders = await Promise.all(
      costs.map(async (cost) => new Bidder({ client: await wsClient(), signer: secretKeySigner(generateSecretKey()), kinds: [5050], cost, onBid: (b) => outcomes.push(b) })),
    );
    await Promise.all(bidders.map((b) => b.start()));
    t.after(() => bidders.forEach((b) => b.stop())); // out of the next test's auction
    const coordinator = new AuctionCoordinator({ client: coordinatorClient, signer: secretKeySigner(coordinatorKey) });

    const started = performance.now();
    const outcome = await coordinator.open({ id: jobId(), kind: 5050, units: 10, maxPrice: 10_000 });
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `the auction took ${elapsed.toFixed(0)} ms`);
    t.diagnostic(`auction with 3 bidders: ${elapsed.toFixed(0)} ms (windows ${DEFAULT_WINDOWS.commitMs} + ${DEFAULT_WINDOWS.revealMs} ms)`);
    assert.ok(elapsed >= DEFAULT_WINDOWS.commitMs + DEFAULT_WINDOWS.revealMs - 1);

    assert.deepEqual(outcome.void, []);
    assert.deepEqual(outcome.ranking.map((b) => b.price), [2400, 3600, 6000]);
    assert.equal(outcome.pricePaid, 3600);
    assert.ok(outcome.published.result.ok);

    const deadline = Date.now() + 2000;
    while (outcomes.length < 3 && Date.now() < deadline) await sleep(10);
    const winner = bidders.find((b) => b.priceFor(10) === 2400)!;
    assert.equal(outcomes.find((o) => o.price === 2400)?.won, true);
    assert.deepEqual(outcomes.map((o) => o.won).sort(), [false, false, true]);
    assert.ok(winner.learner.state().winRate > 0.4);

    // A third party with nothing but the relay.
    const watcher = await wsClient();
    const [result] = await watcher.query([{ kinds: [AUCTION_RESULT_KIND], '#e': [outcome.open.id] }]);
    assert.ok(result);
    const report = recheck(result, await fetchAuctionEvents(watcher, outcome.open.id));
    assert.deepEqual(report.problems, []);
    assert.ok(report.ok);
    assert.deepEqual([report.timingClaims, report.unlisted], [[], []]);
    assert.equal(report.recomputed?.winner, outcome.winner);
  });

  it('voids a backdated late commitment and an early reveal, judged by when the coordinator received them', async () => {
    const client = await wsClient();
    const job = jobId();
    const opened = new Promise<AuctionOpen>((resolve) => {
      const sub = client.subscribe([{ kinds: [AUCTION_OPEN_KIND], '#e': [job] }], {
        onEvent: (e) => {
          const p = parseAuctionOpen(e);
          if (!p.ok) return;
          sub.close();
          resolve(p.value);
        },
      });
      closers.push(() => sub.close());
    });
    // start() waits for EOSE of a later REQ on the same socket, so the one above is live too.
    const honest = new Bidder({ client, signer: secretKeySigner(generateSecretKey()), kinds: [5050], cost: costs[0]! });
    await honest.start();
    closers.push(() => honest.stop());

    const coordinator = new AuctionCoordinator({ client: coordinatorClient, signer: secretKeySigner(coordinatorKey) });
    const running = coordinator.open({ id: job, kind: 5050, units: 10 });
    const open = await opened;

    const sign = (sk: Uint8Array, price: number, salt: string, created_at: number): { commit: NostrEvent; reveal: NostrEvent } => {
      const commit = finalizeEvent(bidCommitmentTemplate({ auctionId: open.id, commit: commitmentHash(open.id, price, getPublicKey(sk), salt), created_at }), sk);
      const reveal = finalizeEvent(bidRevealTemplate({ auctionId: open.id, commitId: commit.id, price, salt, created_at }), sk);
      return { commit, reveal };
    };
    const now = Math.floor(Date.now() / 1000);
    const early = sign(generateSecretKey(), 10, 'a'.repeat(64), now);
    assert.ok((await client.publish(early.commit)).ok);
    assert.ok((await client.publish(early.reveal)).ok); // before the commit deadline: it would leak the price
    await sleep(Math.max(0, open.commitDeadline - Date.now()) + 20);
    const late = sign(generateSecretKey(), 20, 'b'.repeat(64), now - 60); // claims to be a minute old
    assert.ok((await client.publish(late.commit)).ok);

    const outcome = await running;
    assert.deepEqual(outcome.ranking.map((b) => b.price), [6000]);
    assert.deepEqual(new Set(outcome.void.map((v) => `${v.id} ${v.reason}`)), new Set([
      `${early.commit.id} unrevealed`,
      `${early.reveal.id} early`,
      `${late.commit.id} late`,
    ]));
    const report = recheck(outcome.result, await fetchAuctionEvents(client, open.id));
    assert.ok(report.ok, report.problems.join('; '));
    assert.deepEqual(report.timingClaims.map((v) => v.reason).sort(), ['early', 'late']);
  });
});
