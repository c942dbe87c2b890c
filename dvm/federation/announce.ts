// Publishes this instance's announcement (kind 31280) now and every `intervalSeconds`, with an
// expiration three intervals ahead, and the instance key's NIP-65 relay list. On a clean stop
// it deletes the announcement (NIP-09 `a` tag), so peers drop it at once instead of at expiry.
import { publishWithin, type NostrClient } from '../../nostr/client.js';
import type { Signer } from '../../nostr/signer.js';
import { buildRelayList } from '../../nostr/nip65.js';
import { buildInstanceAnnouncement, INSTANCE_D, INSTANCE_KIND, type InstanceInfo } from '../../nostr/timmy-instance.js';

export interface AnnouncerOptions {
  readonly client: NostrClient;
  readonly signer: Signer;
  /** Read at every refresh, so a changed swarm or price shows in the next announcement. */
  readonly info: () => InstanceInfo;
  readonly intervalSeconds: number;
  readonly now?: () => number;
  readonly onError?: (err: unknown) => void;
}

export class InstanceAnnouncer {
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly o: AnnouncerOptions) {
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
  }

  async start(): Promise<void> {
    const info = this.o.info();
    if (info.relays.length > 0) {
      const list = await this.o.signer.signEvent(buildRelayList(info.relays.map((url) => ({ url, read: true, write: true })), this.now()));
      await this.o.client.publish(list);
    }
    await this.announce();
    this.timer = setInterval(() => void this.announce().catch((err: unknown) => this.o.onError?.(err)), this.o.intervalSeconds * 1000);
    this.timer.unref();
  }

  async announce(): Promise<void> {
    const e = await this.o.signer.signEvent(buildInstanceAnnouncement(this.o.info(), { createdAt: this.now(), ttlSeconds: 3 * this.o.intervalSeconds }));
    const r = await this.o.client.publish(e);
    if (!r.ok) throw new Error(`no relay took the instance announcement: ${r.relays.map((x) => x.message).join('; ')}`);
  }

  async stop(o: { withdraw?: boolean } = {}): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (o.withdraw === false) return;
    const pk = await this.o.signer.getPublicKey();
    const del = await this.o.signer.signEvent({
      kind: 5,
      created_at: this.now(),
      tags: [['a', `${INSTANCE_KIND}:${pk}:${INSTANCE_D}`], ['k', String(INSTANCE_KIND)]],
      content: 'instance stopped',
    });
    // While stopping: a federation relay that is down must not hold the shutdown.
    await publishWithin(this.o.client, del, 2000).catch(() => undefined);
  }
}
