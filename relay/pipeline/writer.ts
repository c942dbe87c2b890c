// Main-thread handle to the writer thread. Saves issued in the same tick go out as one request;
// the promise settles only after the transaction that holds the event has committed, so the
// relay sends OK true only for events that are on disk.
import { Worker } from 'node:worker_threads';
import type { SaveOutcome, WriteItem } from '../store/event-writer.js';
import type { Durability } from '../store/schema.js';
import type { WriteFault } from './writer-thread.js';

type Pending = { resolve: (v: never) => void; reject: (e: Error) => void };

export class WriterHandle {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private batch: { item: WriteItem; resolve: (o: SaveOutcome) => void; reject: (e: Error) => void }[] = [];
  private scheduled = false;
  private closed = false;
  /** Why the writer thread is gone, once it is (calls then fail at once instead of never settling). */
  private dead: Error | null = null;
  private readonly ready: Promise<void>;

  constructor(path: string, durability: Durability, private readonly maxBatch = 2000) {
    this.worker = new Worker(new URL('./writer-thread.js', import.meta.url), { workerData: { path, durability } });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('online', () => resolve());
      this.worker.once('error', reject);
    });
    this.worker.on('message', (m: { n: number } & Record<string, unknown>) => {
      const p = this.pending.get(m.n);
      if (!p) return;
      this.pending.delete(m.n);
      p.resolve(m as never);
    });
    this.worker.on('error', (err) => {
      this.dead ??= err;
      this.failAll(err);
    });
    this.worker.on('exit', (code) => {
      this.dead ??= new Error(`writer thread exited (${code})`);
      this.failAll(this.dead);
    });
  }

  /** Resolves once the writer has opened and migrated the database. */
  async started(): Promise<void> {
    await this.ready;
    await this.call<{ purged: number }>({ t: 'purge', now: 0 });
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private call<T>(req: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    // A message to a thread that has exited is never answered: without this, every later EVENT
    // would wait forever for its OK (found by the fault-injection tests, docs/reliability.md).
    if (this.dead) return Promise.reject(this.dead);
    const n = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(n, { resolve: resolve as (v: never) => void, reject });
      this.worker.postMessage({ ...req, n });
    });
  }

  save(item: WriteItem): Promise<SaveOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, stored: false, message: 'error: relay is shutting down' });
    return new Promise((resolve, reject) => {
      this.batch.push({ item, resolve, reject });
      if (this.batch.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const b = this.batch;
    if (b.length === 0) return;
    this.batch = [];
    this.call<{ outcomes: SaveOutcome[] }>({ t: 'save', items: b.map((x) => x.item) }).then(
      (r) => b.forEach((x, i) => x.resolve(r.outcomes[i] ?? { ok: false, stored: false, message: 'error: no outcome' })),
      (err: Error) => b.forEach((x) => x.reject(err)),
    );
  }

  async purgeExpired(now: number): Promise<number> {
    return (await this.call<{ purged: number }>({ t: 'purge', now })).purged;
  }

  /**
   * Fault injection for tests (docs/reliability.md): with 'full', every commit from now on fails
   * and rolls back as on a full disk (SQLITE_FULL); null clears it. Not reachable from configuration.
   */
  async injectFault(fault: WriteFault | null): Promise<void> {
    await this.call({ t: 'fault', fault });
  }

  /** Commits what is queued, checkpoints the WAL, and stops the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    await this.call({ t: 'close' });
    this.closed = true;
    await this.worker.terminate();
  }
}
