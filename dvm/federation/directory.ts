// The peer directory: every Timmy instance announced (kind 31280) on the federation relays, kept
// while its announcement has not expired nor been deleted. An announcement only vouches for the
// agents that vouch back: an agent counts as a peer's when its own NIP-89 handler announcement
// (kind 31990) names that instance (`["p", <instance>, "", "instance"]`), so a forged
// announcement cannot borrow other instances' agents or their reputation.
import type { NostrClient, Subscription } from '../../nostr/client.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import { HANDLER_INFO_KIND } from '../../nostr/nip89.js';
import { INSTANCE_D, INSTANCE_KIND, parseInstanceAnnouncement, type AnnouncedAgent, type InstanceAnnouncement } from '../../nostr/timmy-instance.js';

export interface Peer {
  readonly pubkey: string;
  readonly announcement: InstanceAnnouncement;
  /** The announced agents whose handler announcements name this instance. */
  readonly agents: readonly AnnouncedAgent[];
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export interface DirectoryOptions {
  readonly client: NostrClient;
  /** Our own instance pubkey: never a peer of ourselves. */
  readonly self: string;
  readonly now?: () => number;
  /** How often expired announcements are swept (default 15 s). */
  readonly sweepSeconds?: number;
  readonly onChange?: (peers: readonly Peer[]) => void;
  readonly onRejected?: (e: NostrEvent, reason: string) => void;
}

/** Whether a handler announcement names `instance` as the agent's instance. */
export const vouchesFor = (handler: NostrEvent, instance: string): boolean => handler.tags.some((t) => t[0] === 'p' && t[1] === instance && t[3] === 'instance');

export class PeerDirectory {
  private readonly byPubkey = new Map<string, Peer>();
  /** Deleted announcements (pubkey -> deletion time): an older copy seen again stays deleted. */
  private readonly deleted = new Map<string, number>();
  private sub: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly o: DirectoryOptions) {
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.sub = this.o.client.subscribe(
        [
          { kinds: [INSTANCE_KIND], '#d': [INSTANCE_D] },
          { kinds: [5], '#k': [String(INSTANCE_KIND)] },
        ],
        { onEvent: (e) => void this.onEvent(e), onEose: () => resolve() },
      );
    });
    this.timer = setInterval(() => this.sweep(), (this.o.sweepSeconds ?? 15) * 1000);
    this.timer.unref();
  }

  /** One pass over what the relays hold now (no subscription): for `timmy peers`. */
  async load(): Promise<Peer[]> {
    const events = await this.o.client.query([
      { kinds: [INSTANCE_KIND], '#d': [INSTANCE_D] },
      { kinds: [5], '#k': [String(INSTANCE_KIND)] },
    ]);
    for (const e of events) await this.onEvent(e);
    return this.peers();
  }

  stop(): void {
    this.sub?.close();
    if (this.timer) clearInterval(this.timer);
  }

  /** Live peers, newest announcement first. */
  peers(): Peer[] {
    this.sweep();
    return [...this.byPubkey.values()].sort((a, b) => b.announcement.createdAt - a.announcement.createdAt);
  }

  get(pubkey: string): Peer | undefined {
    this.sweep();
    return this.byPubkey.get(pubkey);
  }

  /** Peers with a vouched agent serving `kind`. */
  serving(kind: number): Peer[] {
    return this.peers().filter((p) => p.agents.some((a) => a.kinds.includes(kind)));
  }

  /** The peer instance an agent belongs to (by a vouched agent pubkey). */
  instanceOf(agent: string): Peer | undefined {
    return this.peers().find((p) => p.agents.some((a) => a.pubkey === agent));
  }

  private async onEvent(e: NostrEvent): Promise<void> {
    if (e.kind === 5) return this.onDeletion(e);
    if (e.pubkey === this.o.self) return;
    const r = parseInstanceAnnouncement(e, this.now());
    if (!r.ok) return this.o.onRejected?.(e, r.reason);
    const prev = this.byPubkey.get(e.pubkey);
    if (prev && prev.announcement.createdAt >= e.created_at) return;
    if ((this.deleted.get(e.pubkey) ?? -1) >= e.created_at) return;
    const agents = await this.vouched(r.value);
    const now = this.now();
    this.byPubkey.set(e.pubkey, { pubkey: e.pubkey, announcement: r.value, agents, firstSeen: prev?.firstSeen ?? now, lastSeen: now });
    this.o.onChange?.(this.peers());
  }

  private async vouched(a: InstanceAnnouncement): Promise<AnnouncedAgent[]> {
    if (a.agents.length === 0) return [];
    let handlers: NostrEvent[] = [];
    try {
      handlers = await this.o.client.query([{ kinds: [HANDLER_INFO_KIND], authors: a.agents.map((x) => x.pubkey) }], { timeoutMs: 5000 });
    } catch {
      return [];
    }
    const ok = new Set(handlers.filter((h) => vouchesFor(h, a.pubkey)).map((h) => h.pubkey));
    return a.agents.filter((x) => ok.has(x.pubkey));
  }

  private onDeletion(e: NostrEvent): void {
    const target = `${INSTANCE_KIND}:${e.pubkey}:${INSTANCE_D}`;
    if (!e.tags.some((t) => t[0] === 'a' && t[1] === target)) return;
    this.deleted.set(e.pubkey, Math.max(this.deleted.get(e.pubkey) ?? 0, e.created_at));
    const p = this.byPubkey.get(e.pubkey);
    if (p && p.announcement.createdAt <= e.created_at) {
      this.byPubkey.delete(e.pubkey);
      this.o.onChange?.(this.peers());
    }
  }

  private sweep(): void {
    const now = this.now();
    let changed = false;
    for (const [pk, p] of this.byPubkey) {
      if (p.announcement.expiresAt <= now) {
        this.byPubkey.delete(pk);
        changed = true;
      }
    }
    if (changed) this.o.onChange?.([...this.byPubkey.values()]);
  }
}
