// Keeps the instance's reputation book current: every label and deletion on the client's relays
// (the embedded relay, and any configured ones) goes into the book as it arrives; at start the
// history is read page by page, after the live subscription is open so nothing falls in between.
import type { NostrClient, Subscription } from '../nostr/client.js';
import { LABEL_KIND } from '../nostr/nip32.js';
import type { ReputationBook } from './book.js';
import { queryAll } from './fetch.js';

export interface ReputationServiceOptions {
  readonly client: NostrClient;
  readonly book: ReputationBook;
  readonly onError?: (err: unknown) => void;
  readonly pageSize?: number;
}

export class ReputationService {
  private sub: Subscription | undefined;
  private stopped = false;
  /** Resolves once the stored history is in the book. */
  ready: Promise<void> = Promise.resolve();

  constructor(private readonly o: ReputationServiceOptions) {}

  get book(): ReputationBook {
    return this.o.book;
  }

  start(): Promise<void> {
    const { book, client } = this.o;
    // limit 0: live events only, whatever their created_at (a backdated label published now still counts).
    this.sub = client.subscribe([{ kinds: [LABEL_KIND], limit: 0 }, { kinds: [5], limit: 0 }], {
      onEvent: (e) => {
        if (this.stopped) return;
        if (e.kind === 5) book.remove(e);
        else book.add(e);
      },
    });
    this.ready = (async () => {
      const opts = this.o.pageSize !== undefined ? { pageSize: this.o.pageSize } : {};
      for (const e of await queryAll(client, { kinds: [LABEL_KIND] }, opts)) book.add(e);
      // Relays that honour NIP-09 no longer have deleted labels; deletions matter for those that keep them.
      for (const e of await queryAll(client, { kinds: [5], '#k': [String(LABEL_KIND)] }, opts)) book.remove(e);
    })().catch((err: unknown) => this.o.onError?.(err));
    return this.ready;
  }

  stop(): void {
    this.stopped = true;
    this.sub?.close();
  }
}
