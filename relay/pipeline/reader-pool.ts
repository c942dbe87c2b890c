// Main-thread handle to the reader threads. Each thread runs one request at a time; waiting
// requests are queued by client (its IP) and served by fair queuing on reader time: the next
// request comes from the client that has used the least reader time (virtual time, as in start-time
// fair queuing). A client that floods expensive REQs waits behind its own queries, and a client
// with one cheap query waits for at most the queries already running. A request whose client has
// gone (or closed the subscription) is dropped when its turn comes instead of being run.
import { Worker } from 'node:worker_threads';
import type { Filter } from '../../nostr/nip01.js';
import type { QueryResult } from '../store/event-reader.js';
import type { QueryContext } from '../store/query-sql.js';

export type QueryOptions = QueryContext & { defaultLimit: number; maxLimit: number; budgetMs: number };
export type RecordsOptions = QueryContext & { maxRecords: number };

/** How a request is scheduled (kept on the main thread; never posted to a reader). */
export interface Schedule {
  /** Requests with the same key share one turn of the round robin (the core uses the client IP). */
  readonly key?: string;
  /** Checked when the request's turn comes: true drops it (rejected with "cancelled"). */
  readonly cancelled?: () => boolean;
  /** Told the reader-thread time the request took, before its promise settles (the core charges it). */
  readonly ran?: (ms: number) => void;
}

/** Reader time charged when a request starts (so a key's second request queues behind others' first). */
const START_CHARGE_MS = 1;

type Job = { t: 'query' | 'count' | 'records'; filters: readonly Filter[]; ctx: unknown; sched: Schedule; resolve: (v: unknown) => void; reject: (e: Error) => void };
type Slot = { worker: Worker; job: { n: number; j: Job; key: string; started: number } | null };

export class ReaderPool {
  private readonly slots: Slot[] = [];
  private seq = 0;
  /** Waiting requests by schedule key. */
  private readonly waiting = new Map<string, Job[]>();
  /** Virtual finish time (reader ms) per key with requests waiting or running. */
  private readonly vtime = new Map<string, number>();
  /** The virtual time of the last request started: a key that was idle starts from here. */
  private clock = 0;

  constructor(path: string, size: number) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = new Worker(new URL('./reader-thread.js', import.meta.url), { workerData: { path } });
      const slot: Slot = { worker, job: null };
      worker.on('message', (m: { n: number; result?: unknown; error?: string }) => {
        const cur = slot.job;
        if (!cur || cur.n !== m.n) return;
        slot.job = null;
        const ms = performance.now() - cur.started;
        this.charge(cur.key, ms);
        cur.j.sched.ran?.(ms);
        if (m.error !== undefined) cur.j.reject(new Error(m.error));
        else cur.j.resolve(m.result);
        this.pump();
      });
      worker.on('error', (err) => {
        const cur = slot.job;
        slot.job = null;
        if (cur) {
          const ms = performance.now() - cur.started;
          this.charge(cur.key, ms);
          cur.j.sched.ran?.(ms);
        }
        cur?.j.reject(err);
        this.pump();
      });
      this.slots.push(slot);
    }
  }

  /** Requests waiting for a reader thread (all clients). */
  get queued(): number {
    let n = 0;
    for (const q of this.waiting.values()) n += q.length;
    return n;
  }

  /** Adds a finished request's reader time to its key. */
  private charge(key: string, ms: number): void {
    this.vtime.set(key, (this.vtime.get(key) ?? this.clock) + Math.max(ms, START_CHARGE_MS) - START_CHARGE_MS);
    if (!this.waiting.has(key) && !this.slots.some((s) => s.job?.key === key) && (this.vtime.get(key) ?? 0) <= this.clock) this.vtime.delete(key);
  }

  private next(): { j: Job; key: string } | undefined {
    for (;;) {
      let key: string | undefined;
      let best = Infinity;
      for (const k of this.waiting.keys()) {
        const v = Math.max(this.vtime.get(k) ?? this.clock, this.clock);
        if (v < best) (best = v), (key = k);
      }
      if (key === undefined) return undefined;
      const q = this.waiting.get(key)!;
      const j = q.shift()!;
      if (q.length === 0) this.waiting.delete(key);
      if (j.sched.cancelled?.()) {
        j.reject(new Error('cancelled'));
        continue;
      }
      this.clock = best;
      this.vtime.set(key, best + START_CHARGE_MS); // the rest is charged when it finishes
      return { j, key };
    }
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const got = this.next();
      if (!got) return;
      const { j, key } = got;
      const n = ++this.seq;
      slot.job = { n, j, key, started: performance.now() };
      slot.worker.postMessage({ n, t: j.t, filters: j.filters, ctx: j.ctx });
    }
  }

  private call<T>(t: Job['t'], filters: readonly Filter[], ctx: QueryContext | QueryOptions | RecordsOptions, sched: Schedule = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const key = sched.key ?? '';
      let q = this.waiting.get(key);
      if (!q) this.waiting.set(key, (q = []));
      q.push({ t, filters, ctx, sched, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  query(filters: readonly Filter[], opts: QueryOptions, sched?: Schedule): Promise<QueryResult> {
    return this.call('query', filters, opts, sched);
  }

  count(filters: readonly Filter[], ctx: QueryContext, sched?: Schedule): Promise<number> {
    return this.call('count', filters, ctx, sched);
  }

  /** NIP-77: the (created_at, id) records of one filter's events. */
  records(filter: Filter, ctx: RecordsOptions, sched?: Schedule): Promise<{ records: [number, string][]; tooMany: boolean }> {
    return this.call('records', [filter], ctx, sched);
  }

  async close(): Promise<void> {
    for (const q of this.waiting.values()) for (const j of q) j.reject(new Error('relay closing'));
    this.waiting.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
