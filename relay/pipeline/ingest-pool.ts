// Main-thread side of the ingest stage: a pool of workers sized to the cores. Each connection is
// pinned to one worker (round robin at connect). Messages that arrive in the same tick are sent
// to a worker as one batch, to spread postMessage's fixed cost. Batches stay queued until their
// answer arrives, so a worker that dies is replaced and its unanswered batches are sent again:
// no client message is lost to a crashed thread.
import { Worker } from 'node:worker_threads';
import { defaultVerifier } from '../../nostr/verify.js';
import { parseClientMessage, type ClientMessage, type ParseLimits } from './parse.js';

/** `receivedAt` is the time the core stamped on the message at submit (performance.now()). */
export type Deliver = (connId: number, msg: ClientMessage, receivedAt: number) => void;
/** The receipt time `t` stays on the main thread: a worker answers each batch in order, one per item. */
type Item = { c: number; d: string; t: number };

/** More restarts than this within RESTART_WINDOW_MS means the threads cannot run here: parse inline. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 10_000;

interface Slot {
  worker: Worker | null;
  inFlight: Item[][];
  outbox: Item[];
}

export class IngestPool {
  private readonly slots: Slot[] = [];
  private flushScheduled = false;
  private next = 0;
  private restarts: number[] = [];
  private closing = false;

  constructor(
    size: number,
    private readonly limits: ParseLimits,
    private readonly deliver: Deliver,
    private readonly onError: (where: string, err: unknown) => void = (where, err) => console.error(`relay: ${where}`, err),
  ) {
    for (let i = 0; i < size; i++) {
      const slot: Slot = { worker: null, inFlight: [], outbox: [] };
      this.slots.push(slot);
      this.spawn(slot);
    }
  }

  private spawn(slot: Slot): void {
    const w = new Worker(new URL('./ingest-worker.js', import.meta.url), { workerData: this.limits, execArgv: [] });
    slot.worker = w;
    w.on('message', (batch: { c: number; m: ClientMessage }[]) => {
      const sent = slot.inFlight.shift();
      for (let i = 0; i < batch.length; i++) {
        const { c, m } = batch[i]!;
        this.deliver(c, m, sent?.[i]?.t ?? performance.now());
      }
    });
    w.on('error', (err) => this.onError('ingest worker failed; restarting it', err));
    w.on('exit', () => {
      if (this.closing || slot.worker !== w) return;
      slot.worker = null;
      const now = Date.now();
      this.restarts = [...this.restarts.filter((t) => now - t < RESTART_WINDOW_MS), now];
      const pending = slot.inFlight;
      slot.inFlight = [];
      if (this.restarts.length <= MAX_RESTARTS) {
        this.spawn(slot);
        for (const b of pending) this.post(slot, b);
      } else {
        this.onError('ingest workers keep failing; parsing on the main thread from now on', new Error(`${this.restarts.length} restarts in ${RESTART_WINDOW_MS} ms`));
        for (const b of pending) for (const it of b) this.parseInline(it);
      }
    });
  }

  private parseInline({ c, d, t }: Item): void {
    this.deliver(c, parseClientMessage(d, defaultVerifier, this.limits), t);
  }

  private post(slot: Slot, batch: Item[]): void {
    if (!slot.worker) {
      for (const it of batch) this.parseInline(it);
      return;
    }
    slot.inFlight.push(batch);
    slot.worker.postMessage(batch);
  }

  /** Chooses the worker a new connection is pinned to (-1: parse inline). */
  assign(): number {
    if (this.slots.length === 0) return -1;
    const i = this.next;
    this.next = (this.next + 1) % this.slots.length;
    return i;
  }

  /** `receivedAt` comes back with the parsed message (0 when nobody times it). */
  submit(worker: number, connId: number, data: string, receivedAt = 0): void {
    const slot = this.slots[worker];
    if (!slot) {
      // No workers configured: parse inline (used by small embedded setups).
      this.parseInline({ c: connId, d: data, t: receivedAt });
      return;
    }
    slot.outbox.push({ c: connId, d: data, t: receivedAt });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const slot of this.slots) {
      if (slot.outbox.length === 0) continue;
      const batch = slot.outbox;
      slot.outbox = [];
      this.post(slot, batch);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }
}
