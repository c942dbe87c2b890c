// Main-thread side of the ingest stage: a pool of workers sized to the cores. Each connection is
// pinned to one worker (round robin at connect). Messages that arrive in the same tick are sent
// to a worker as one batch, to spread postMessage's fixed cost.
import { Worker } from 'node:worker_threads';
import { defaultVerifier } from '../../nostr/verify.js';
import { parseClientMessage, type ClientMessage, type ParseLimits } from './parse.js';

export type Deliver = (connId: number, msg: ClientMessage) => void;

export class IngestPool {
  private readonly workers: Worker[] = [];
  private readonly outbox: { c: number; d: string }[][] = [];
  private flushScheduled = false;
  private next = 0;

  constructor(size: number, private readonly limits: ParseLimits, private readonly deliver: Deliver) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./ingest-worker.js', import.meta.url), { workerData: limits });
      w.on('message', (batch: { c: number; m: ClientMessage }[]) => {
        for (const { c, m } of batch) this.deliver(c, m);
      });
      w.on('error', (err) => {
        // A worker error is a bug in our code, not the client's input: report it loudly.
        console.error('ingest worker failed', err);
      });
      w.unref();
      this.workers.push(w);
      this.outbox.push([]);
    }
  }

  /** Chooses the worker a new connection is pinned to. */
  assign(): number {
    if (this.workers.length === 0) return -1;
    const i = this.next;
    this.next = (this.next + 1) % this.workers.length;
    return i;
  }

  submit(worker: number, connId: number, data: string): void {
    if (worker < 0) {
      // No workers configured: parse inline (used by embedded/in-process setups).
      this.deliver(connId, parseClientMessage(data, defaultVerifier, this.limits));
      return;
    }
    this.outbox[worker]!.push({ c: connId, d: data });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    for (let i = 0; i < this.workers.length; i++) {
      const box = this.outbox[i]!;
      if (box.length === 0) continue;
      this.outbox[i] = [];
      this.workers[i]!.postMessage(box);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
