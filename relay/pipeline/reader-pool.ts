// Main-thread handle to the reader threads; each request goes to the least busy reader.
import { Worker } from 'node:worker_threads';
import type { Filter } from '../../nostr/nip01.js';
import type { QueryResult } from '../store/event-reader.js';
import type { QueryContext } from '../store/query-sql.js';

export type QueryOptions = QueryContext & { defaultLimit: number; maxLimit: number; budgetMs: number };
export type RecordsOptions = QueryContext & { maxRecords: number };

type Slot = { worker: Worker; busy: number; pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }> };

export class ReaderPool {
  private readonly slots: Slot[] = [];
  private seq = 0;

  constructor(path: string, size: number) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = new Worker(new URL('./reader-thread.js', import.meta.url), { workerData: { path } });
      const slot: Slot = { worker, busy: 0, pending: new Map() };
      worker.on('message', (m: { n: number; result?: unknown; error?: string }) => {
        const p = slot.pending.get(m.n);
        if (!p) return;
        slot.pending.delete(m.n);
        slot.busy--;
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.result);
      });
      worker.on('error', (err) => {
        for (const p of slot.pending.values()) p.reject(err);
        slot.pending.clear();
      });
      this.slots.push(slot);
    }
  }

  private call<T>(t: 'query' | 'count' | 'records', filters: readonly Filter[], ctx: QueryContext | QueryOptions | RecordsOptions): Promise<T> {
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.busy < slot.busy) slot = s;
    const n = ++this.seq;
    slot.busy++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(n, { resolve: resolve as (v: unknown) => void, reject });
      slot.worker.postMessage({ n, t, filters, ctx });
    });
  }

  query(filters: readonly Filter[], opts: QueryOptions): Promise<QueryResult> {
    return this.call('query', filters, opts);
  }

  count(filters: readonly Filter[], ctx: QueryContext): Promise<number> {
    return this.call('count', filters, ctx);
  }

  /** NIP-77: the (created_at, id) records of one filter's events. */
  records(filter: Filter, ctx: RecordsOptions): Promise<{ records: [number, string][]; tooMany: boolean }> {
    return this.call('records', [filter], ctx);
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
