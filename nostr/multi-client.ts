// Several NostrClients seen as one: the embedded relay (in-process) plus remote relays (websockets),
// so the DVM hears requests from both and publishes to both. Pure composition, no I/O of its own.
import type { NostrClient, PublishResult, QueryOptions, Subscription, SubscriptionHandlers } from './client.js';
import { SeenIds, sortNewestFirst } from './client-support.js';
import type { Filter, NostrEvent } from './nip01.js';

export class MultiClient implements NostrClient {
  constructor(private readonly clients: readonly NostrClient[]) {
    if (clients.length === 0) throw new RangeError('MultiClient needs at least one client');
  }

  async publish(event: NostrEvent): Promise<PublishResult> {
    const results = await Promise.all(this.clients.map((c) => c.publish(event)));
    return { ok: results.some((r) => r.ok), relays: results.flatMap((r) => r.relays) };
  }

  subscribe(filters: Filter[], h: SubscriptionHandlers): Subscription {
    const seen = new SeenIds();
    let pending = this.clients.length;
    let closed = false;
    const subs = this.clients.map((c) =>
      c.subscribe(filters, {
        onEvent: (e) => {
          if (!closed && seen.add(e.id)) h.onEvent(e);
        },
        onEose: () => {
          if (!closed && --pending === 0) h.onEose?.();
        },
        onClosed: (reason, relay) => {
          if (!closed) h.onClosed?.(reason, relay);
        },
      }),
    );
    return {
      close: () => {
        closed = true;
        for (const s of subs) s.close();
      },
    };
  }

  async query(filters: Filter[], opts?: QueryOptions): Promise<NostrEvent[]> {
    const settled = await Promise.allSettled(this.clients.map((c) => c.query(filters, opts)));
    const ok = settled.filter((s): s is PromiseFulfilledResult<NostrEvent[]> => s.status === 'fulfilled');
    if (ok.length === 0) throw new Error(settled.map((s) => (s as PromiseRejectedResult).reason?.message ?? 'query failed').join('; '));
    const byId = new Map<string, NostrEvent>();
    for (const r of ok) for (const e of r.value) byId.set(e.id, e);
    return sortNewestFirst([...byId.values()]);
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }
}
