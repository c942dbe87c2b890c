// The agent side of an auction (docs/auction.md): hear an auction open for a job kind the agent
// can do, commit to its cost estimate with a random salt, reveal once the commit window has
// closed, and learn from the result. Talks to relays only through NostrClient.
import { randomBytes } from 'node:crypto';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { NostrClient, Subscription } from '../../nostr/client.js';
import type { Signer } from '../../nostr/signer.js';
import {
  AUCTION_OPEN_KIND,
  AUCTION_RESULT_KIND,
  auctionPhase,
  bidCommitmentTemplate,
  bidRevealTemplate,
  commitmentHash,
  listedScore,
  parseAuctionOpen,
  parseAuctionResult,
  type AuctionOpen,
  type AuctionResult,
} from '../../nostr/auction.js';
import { systemAuctionClock, type AuctionClock } from '../../dvm/auction/clock.js';
import { bidPrice, PriceLearner, type CostModel } from './learner.js';

export interface BidderOptions {
  readonly client: NostrClient;
  readonly signer: Signer;
  readonly clock?: AuctionClock;
  /** The job kinds this agent can do. */
  readonly kinds: readonly number[];
  readonly cost: CostModel;
  /** Moves the cost estimate with demand and failures (default: a PriceLearner with default bounds, floored at cost.minMarginPct). */
  readonly learner?: PriceLearner;
  /**
   * Only answer auctions opened by these pubkeys (default: any coordinator). A function is asked at
   * each auction, for a list that changes (peer instances come and go).
   */
  readonly coordinators?: readonly string[] | (() => readonly string[]);
  /** Work units of the job (default: the auction's `units` tag, else 1); undefined means do not bid. */
  readonly units?: (open: AuctionOpen) => number | undefined | Promise<number | undefined>;
  /** Random bytes for salts (default: node:crypto randomBytes); seededRandom (./random.ts) makes a run repeatable. */
  readonly random?: (n: number) => Uint8Array;
  /**
   * Reveal this long after the commit deadline (default 0). On one machine the coordinator shares
   * the bidder's clock; across machines, set it above the clock difference, or the reveal is `early`.
   */
  readonly revealDelayMs?: number;
  /** How long to wait for the result after the reveal deadline (default 2000 ms). */
  readonly resultTimeoutMs?: number;
  /** Each auction heard by start(), when its bid is over. */
  readonly onBid?: (b: BidOutcome) => void;
  readonly onError?: (err: unknown) => void;
}

export interface BidOutcome {
  readonly auctionId: string;
  /** Why the agent did not bid (or stopped), if it did not complete a bid. */
  readonly skipped?: string;
  /** What it bid, msat. */
  readonly price?: number;
  readonly commitId?: string;
  readonly revealId?: string;
  /** The coordinator's result, if it arrived in time. */
  readonly result?: AuctionResult;
  readonly won?: boolean;
}

const cryptoRandom = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

export class Bidder {
  readonly learner: PriceLearner;
  private readonly clock: AuctionClock;
  private readonly random: (n: number) => Uint8Array;
  private sub: Subscription | undefined;
  private stopping = new AbortController();

  constructor(private readonly o: BidderOptions) {
    this.learner = o.learner ?? new PriceLearner({ minMarkupPct: o.cost.minMarginPct ?? 0 });
    this.clock = o.clock ?? systemAuctionClock;
    this.random = o.random ?? cryptoRandom;
  }

  /** The agent's current cost estimate for a job of `units` work units, msat: what it bids, unless exploring. */
  priceFor(units: number): number {
    return bidPrice(this.o.cost, units, this.learner);
  }

  /**
   * Listens for auctions of the agent's kinds opened from now on, and bids in each. Resolves once
   * the subscription is live (the relays have sent their stored events).
   */
  start(): Promise<void> {
    if (this.sub) return Promise.resolve();
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    const filter = {
      kinds: [AUCTION_OPEN_KIND],
      '#k': this.o.kinds.map(String),
      // Live only (limit 0), not `since: now`: a relay matches `since` against each new event's
      // created_at too, so after our wall clock stepped back every auction opened later was stamped
      // "before" the filter and never reached the agents: each job was refunded for want of bids
      // (docs/reliability.md, "Fault injection"). Opens a relay replays anyway are skipped below
      // (commit window closed); after a reconnect the client asks only for what it missed.
      limit: 0,
      ...(Array.isArray(this.o.coordinators) ? { authors: [...(this.o.coordinators as readonly string[])] } : {}),
    };
    return new Promise((live) => {
      this.sub = this.o.client.subscribe([filter], {
        onEvent: (e) => {
          const open = parseAuctionOpen(e);
          if (!open.ok) return;
          this.bid(open.value).then(
            (b) => this.o.onBid?.(b),
            (err: unknown) => this.o.onError?.(err),
          );
        },
        onEose: () => live(),
      });
    });
  }

  /** Stops listening; bids under way stop at their next wait. */
  stop(): void {
    this.sub?.close();
    this.sub = undefined;
    this.stopping.abort();
  }

  /** After a job the agent won ends: failures raise its cost estimate. */
  recordJob(succeeded: boolean): void {
    this.learner.recordJob(succeeded);
  }

  /** One whole bid: commit, reveal after the commit deadline, wait for the result and learn from it. */
  async bid(open: AuctionOpen): Promise<BidOutcome> {
    const skip = (skipped: string, more: Partial<BidOutcome> = {}): BidOutcome => ({ auctionId: open.id, skipped, ...more });
    if (!this.o.kinds.includes(open.jobKind)) return skip('not a kind this agent does');
    const cs = this.o.coordinators;
    if (cs && !(typeof cs === 'function' ? cs() : cs).includes(open.coordinator)) return skip('not a coordinator this agent answers');
    const agent = await this.o.signer.getPublicKey();
    // A commitment from an agent listed below the min-score would only be voided `low-score`.
    if (open.minScore !== undefined && listedScore(open.scores, agent) < open.minScore) return skip('listed score below the min-score');
    const units = this.o.units ? await this.o.units(open) : (open.units ?? 1);
    if (units === undefined) return skip('cannot do this job');
    const price = bidPrice(this.o.cost, units, { markupPct: this.learner.nextMarkupPct(), riskFactor: this.learner.riskFactor });
    if (open.maxPrice !== undefined && price > open.maxPrice) {
      // Priced out is a lost auction: the learner must hear of it, or its markup only ever rises
      // (the agent that still fits wins alone and raises its price, until nobody fits).
      this.learner.recordAuction(false);
      return skip('cost estimate above the max price', { price });
    }
    if (auctionPhase(open, this.clock.now()) !== 'commit') return skip('commit window closed', { price });

    const salt = bytesToHex(this.random(32));
    const commitment = await this.o.signer.signEvent(
      bidCommitmentTemplate({ auctionId: open.id, commit: commitmentHash(open.id, price, agent, salt), created_at: this.seconds() }),
    );
    if (!(await this.o.client.publish(commitment)).ok) return skip('commitment refused by every relay', { price });
    const commitId = commitment.id;

    // Listen for the result before revealing, so it cannot slip past.
    let onResult: (r: AuctionResult) => void = () => undefined;
    const resultArrived = new Promise<AuctionResult>((resolve) => (onResult = resolve));
    const resultSub = this.o.client.subscribe([{ kinds: [AUCTION_RESULT_KIND], authors: [open.coordinator], '#e': [open.id] }], {
      onEvent: (e) => {
        const r = parseAuctionResult(e);
        if (r.ok && r.value.auctionId === open.id) onResult(r.value);
      },
    });
    const done = new AbortController();
    const stop = AbortSignal.any([done.signal, this.stopping.signal]);
    try {
      await this.clock.sleepUntil(open.commitDeadline + (this.o.revealDelayMs ?? 0), stop);
      if (stop.aborted) return skip('stopped', { price, commitId });
      if (auctionPhase(open, this.clock.now()) !== 'reveal') return skip('reveal window closed', { price, commitId });
      const reveal = await this.o.signer.signEvent(bidRevealTemplate({ auctionId: open.id, commitId, price, salt, created_at: this.seconds() }));
      if (!(await this.o.client.publish(reveal)).ok) return skip('reveal refused by every relay', { price, commitId });
      const revealId = reveal.id;

      const timeout = this.clock.sleepUntil(open.revealDeadline + (this.o.resultTimeoutMs ?? 2000), stop).then(() => undefined);
      const result = await Promise.race([resultArrived, timeout]);
      if (result === undefined) return { auctionId: open.id, price, commitId, revealId };
      const won = result.ranking[0]?.commitId === commitId;
      // A coordinator that did not consider our bid (it admits only some bidders: a peer instance's,
      // docs/federation.md) says nothing about our price: the learner does not count it.
      if (result.commitments.includes(commitId)) this.learner.recordAuction(won);
      return { auctionId: open.id, price, commitId, revealId, result, won };
    } finally {
      done.abort();
      resultSub.close();
    }
  }

  private seconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }
}
