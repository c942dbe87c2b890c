// A read-only NostrClient over the embedded relay's SQLite file, for CLI commands that read events
// whether or not the instance is running (WAL lets a reader sit beside the writer).
import { existsSync } from 'node:fs';
import type { NostrClient, PublishResult, Subscription, SubscriptionHandlers } from '../nostr/client.js';
import type { Filter, NostrEvent } from '../nostr/nip01.js';
import { openDatabase } from '../relay/store/open.js';
import { EventReader } from '../relay/store/event-reader.js';

export class StoreQueryClient implements NostrClient {
  private readonly db;
  private readonly reader: EventReader;

  constructor(path: string) {
    if (!existsSync(path)) throw new Error(`no relay database at ${path}: has the instance run there?`);
    this.db = openDatabase(path, { readonly: true, durability: 'normal' });
    this.reader = new EventReader(this.db);
  }

  async query(filters: Filter[]): Promise<NostrEvent[]> {
    const ctx = { now: Math.floor(Date.now() / 1000), privateKinds: [], viewers: [], defaultLimit: 5000, maxLimit: 5000, budgetMs: 10_000 };
    return this.reader.query(filters, ctx).events.map((j) => JSON.parse(j) as NostrEvent);
  }

  async publish(event: NostrEvent): Promise<PublishResult> {
    return { ok: false, relays: [{ relay: 'sqlite', ok: false, message: `error: read-only (${event.id.slice(0, 12)} not stored)` }] };
  }

  subscribe(_filters: Filter[], h: SubscriptionHandlers): Subscription {
    queueMicrotask(() => h.onEose?.());
    return { close: () => undefined };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
