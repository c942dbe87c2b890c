// The auction coordinator: opens a sealed-bid auction for a job, collects the commitments and
// reveals that reference it, decides it when the reveal window closes and publishes the result
// (docs/auction.md). Talks to relays only through NostrClient; time comes from an AuctionClock.
import type { NostrClient, PublishResult } from '../../nostr/client.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import type { Signer } from '../../nostr/signer.js';
import {
  BID_COMMITMENT_KIND,
  BID_REVEAL_KIND,
  auctionOpenTemplate,
  parseAuctionOpen,
  type AuctionOpen,
} from '../../nostr/auction.js';
import { systemAuctionClock, type AuctionClock } from './clock.js';
import { resolveAuction, resultTemplate, type Received, type Resolution } from './resolve.js';

export interface AuctionWindows {
  /** How long bidders have to commit, from the moment the auction is opened (ms). */
  readonly commitMs: number;
  /** How long they then have to reveal (ms). */
  readonly revealMs: number;
}

/** Short enough that an auction on one machine finishes in well under a second. */
export const DEFAULT_WINDOWS: AuctionWindows = { commitMs: 150, revealMs: 150 };

/** What is being auctioned: a NIP-90 job request. */
export interface AuctionJob {
  /** The job request's event id. */
  readonly id: string;
  /** Its kind (5000-5999). */
  readonly kind: number;
  /** The most the customer will pay (its `bid`), in millisats; bids above it are void. */
  readonly maxPrice?: number;
  /** Work units, a pricing hint published with the auction. */
  readonly units?: number;
  /** Agents whose score (in `scores`; unlisted: 0) is below this may not bid (their commitments are void `low-score`). */
  readonly minScore?: number;
  /** Reputation scores (0..1) by agent pubkey, as the coordinator knows them now: published in the open, they break price ties. */
  readonly scores?: ReadonlyMap<string, number>;
}

export interface AuctionOutcome extends Resolution {
  readonly open: AuctionOpen;
  /** The published result event (kind 7283). */
  readonly result: NostrEvent;
  /** The relays' answers to the open and the result events. */
  readonly published: { readonly open: PublishResult; readonly result: PublishResult };
}

export interface CoordinatorOptions {
  readonly client: NostrClient;
  readonly signer: Signer;
  readonly clock?: AuctionClock;
  /** Defaults for open(); each auction may override them. */
  readonly windows?: Partial<AuctionWindows>;
}

/** Thrown when the auction could not be opened (no relay accepted the open event). */
export class AuctionError extends Error {
  override name = 'AuctionError';
}

function checkWindows(w: AuctionWindows): AuctionWindows {
  if (!(Number.isSafeInteger(w.commitMs) && w.commitMs > 0 && Number.isSafeInteger(w.revealMs) && w.revealMs > 0))
    throw new RangeError('auction windows must be positive whole milliseconds');
  return w;
}

export class AuctionCoordinator {
  private readonly client: NostrClient;
  private readonly signer: Signer;
  private readonly clock: AuctionClock;
  private readonly windows: AuctionWindows;

  constructor(o: CoordinatorOptions) {
    this.client = o.client;
    this.signer = o.signer;
    this.clock = o.clock ?? systemAuctionClock;
    this.windows = checkWindows({ ...DEFAULT_WINDOWS, ...o.windows });
  }

  /**
   * Runs one auction: publishes the open event, listens for commitments and reveals, waits for the
   * reveal deadline, decides and publishes the result. Several auctions may run at once.
   * `admit` says who may bid (default: anyone): bids by others are dropped as they arrive, as if
   * never received, so they appear nowhere in the result (docs/federation.md, who may bid).
   */
  async open(job: AuctionJob, windows: Partial<AuctionWindows> = {}, admit?: (pubkey: string) => boolean): Promise<AuctionOutcome> {
    const w = checkWindows({ ...this.windows, ...windows });
    const start = this.clock.now();
    const openEvent = await this.signer.signEvent(
      auctionOpenTemplate({
        jobId: job.id,
        jobKind: job.kind,
        commitDeadline: start + w.commitMs,
        revealDeadline: start + w.commitMs + w.revealMs,
        ...(job.maxPrice !== undefined ? { maxPrice: job.maxPrice } : {}),
        ...(job.units !== undefined ? { units: job.units } : {}),
        ...(job.minScore !== undefined ? { minScore: job.minScore } : {}),
        ...(job.scores !== undefined ? { scores: job.scores } : {}),
        created_at: Math.floor(start / 1000),
      }),
    );
    const parsed = parseAuctionOpen(openEvent);
    if (!parsed.ok) throw new AuctionError(`built an invalid auction open: ${parsed.reason}`);
    const open = parsed.value;

    // Subscribe before publishing, so no bid can arrive before we listen. Each event is stamped
    // with our clock as it arrives: that, not its created_at, decides whether it was in time.
    const received: Received[] = [];
    const sub = this.client.subscribe([{ kinds: [BID_COMMITMENT_KIND, BID_REVEAL_KIND], '#e': [open.id] }], {
      onEvent: (event) => {
        if (!admit || admit(event.pubkey)) received.push({ event, receivedAt: this.clock.now() });
      },
    });
    let openAnswer: PublishResult;
    try {
      openAnswer = await this.client.publish(openEvent);
      if (!openAnswer.ok) throw new AuctionError(`no relay accepted the auction open: ${openAnswer.relays.map((r) => r.message).join('; ')}`);
      await this.clock.sleepUntil(open.revealDeadline);
    } finally {
      sub.close();
    }

    const resolution = resolveAuction(open, received);
    const result = await this.signer.signEvent(resultTemplate(open, resolution, Math.floor(this.clock.now() / 1000)));
    const resultAnswer = await this.client.publish(result);
    return { ...resolution, open, result, published: { open: openAnswer, result: resultAnswer } };
  }
}
