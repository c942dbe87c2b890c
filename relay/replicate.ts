// Replication between instances' relays (docs/federation.md, "Replication"): for each relay a peer
// announces, a NIP-77 pull sync of the events federation needs now and then (every `intervalMs`,
// and when a new relay appears), and a live subscription for new ones in between. Pull only: every
// instance fetches what it lacks, so nobody writes into a peer's relay. Every event is checked
// (relay/sync.ts) and stored through our relay's policies.
import type { Filter, NostrEvent } from '../nostr/nip01.js';
import type { NostrClient, Subscription } from '../nostr/client.js';
import { negentropySync, type SyncLocal, type SyncReport } from './sync.js';

/** What instances share: profiles, relay lists, deletions, labels, auctions, announcements, handlers. */
export const FEDERATION_KINDS: readonly number[] = [0, 5, 1985, 7280, 7281, 7282, 7283, 10002, 31280, 31990];

export interface ReplicatorOptions {
  readonly local: SyncLocal;
  /** The relays to replicate from now (read at every round: peers come and go). */
  readonly relays: () => readonly string[];
  /** Our own relay URLs: never synced with. */
  readonly own: readonly string[];
  readonly filter?: Filter;
  readonly intervalMs: number;
  /** How often to look for relays not seen yet (default 5 s): a new peer is synced at once. */
  readonly discoverMs?: number;
  /** A client for one relay's live events (tests and main pass WsClient). */
  readonly connect: (url: string) => NostrClient;
  readonly onSync?: (url: string, r: SyncReport) => void;
  readonly onError?: (url: string, err: unknown) => void;
}

export class Replicator {
  private timers: NodeJS.Timeout[] = [];
  private readonly live = new Map<string, { client: NostrClient; sub: Subscription }>();
  private readonly syncing = new Set<string>();
  private running = false;
  readonly last = new Map<string, SyncReport>();

  constructor(private readonly o: ReplicatorOptions) {}

  private get filter(): Filter {
    return this.o.filter ?? { kinds: [...FEDERATION_KINDS] };
  }

  start(): void {
    this.running = true;
    this.timers = [setInterval(() => void this.round(true), this.o.intervalMs), setInterval(() => void this.round(false), this.o.discoverMs ?? 5000)];
    for (const t of this.timers) t.unref();
    void this.round(true);
  }

  /** Syncs every relay (force) or only relays seen for the first time; opens live feeds for new ones. */
  async round(force = false): Promise<void> {
    if (!this.running) return;
    const want = new Set(this.o.relays().filter((u) => !this.o.own.includes(u)));
    for (const [url, l] of this.live) {
      if (want.has(url)) continue;
      l.sub.close();
      void l.client.close();
      this.live.delete(url);
    }
    await Promise.all(
      [...want].map(async (url) => {
        const fresh = !this.live.has(url);
        if (fresh) this.follow(url);
        if (fresh || force) await this.syncOne(url);
      }),
    );
  }

  private follow(url: string): void {
    const client = this.o.connect(url);
    const since = Math.floor(Date.now() / 1000) - 60;
    const sub = client.subscribe([{ ...this.filter, since }], {
      onEvent: (e: NostrEvent) => void this.o.local.store(e).catch((err: unknown) => this.o.onError?.(url, err)),
    });
    this.live.set(url, { client, sub });
  }

  private async syncOne(url: string): Promise<void> {
    if (this.syncing.has(url)) return;
    this.syncing.add(url);
    try {
      const r = await negentropySync(url, this.filter, this.o.local, { direction: 'down', timeoutMs: 20_000 });
      this.last.set(url, r);
      this.o.onSync?.(url, r);
    } catch (err) {
      this.o.onError?.(url, err);
    } finally {
      this.syncing.delete(url);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    for (const l of this.live.values()) {
      l.sub.close();
      await l.client.close();
    }
    this.live.clear();
  }
}
