// The customers of the DVM benchmark: each has its own key and its own websocket (nostr/ws-client.ts)
// to the instance's relay port, and loops: sign a NIP-90 request, publish it, wait for
// payment-required, pay it (through `pay`, which the caller wires to the instance's wallet), wait for
// the 6xxx result and the `success` feedback (sent after the escrow is released), check the escrow.
// Runs on the main thread (--inline) or in a worker thread (bench/lib/dvm-worker.ts, the default),
// so the load generator's own work stays off the instance's event loop.
import { randomBytes } from 'node:crypto';
import { signSchnorr, xOnlyPointFromScalar, isPrivate } from 'tiny-secp256k1';
import { WsClient } from '../../nostr/ws-client.js';
import { getEventHash, type NostrEvent } from '../../nostr/nip01.js';

/** Wall-clock milliseconds with sub-millisecond precision, comparable across threads. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export interface CustomerSpec {
  /** Secret key, 64 hex. */
  readonly sk: string;
  /** The funded wallet account that pays this customer's invoices. */
  readonly account: string;
}

export interface LoadSpec {
  readonly url: string;
  readonly customers: readonly CustomerSpec[];
  /** Request kind (5001 paid, 5400 free, ...). */
  readonly kind: number;
  /** Whether to expect payment-required (a paid kind) or not. */
  readonly paid: boolean;
  /** What each request asks for (plain data, so it can be sent to a worker). */
  readonly request: RequestShape;
  /** Customers stop starting jobs this long after the start (ms). */
  readonly durationMs: number;
  /** A job that has not ended this long after it was published fails with `timeout`. */
  readonly jobTimeoutMs: number;
}

/** A 5001 summary of a short text, or a 5400 count whose filter matches nothing (the customer's kind 0). */
export type RequestShape = { readonly type: 'summarize'; readonly text: string; readonly maxSentences: number } | { readonly type: 'count' };

/** The request's `i` and `param` tags. */
export function requestTags(shape: RequestShape, pubkey: string): string[][] {
  if (shape.type === 'summarize') return [['i', shape.text, 'text'], ['param', 'max_sentences', String(shape.maxSentences)]];
  return [['i', JSON.stringify([{ kinds: [0], authors: [pubkey] }]), 'text']];
}

export interface Payer {
  pay(bolt11: string, account: string): Promise<void>;
  /** The job's escrow as the wallet sees it (status 'released' once settled), or null. */
  escrow(jobId: string): Promise<{ status: string; amountMsat: number; releasedMsat: number } | null>;
}

/** One job as the customer saw it. Times are wall-clock ms (nowMs). */
export interface JobRecord {
  customer: number;
  id: string;
  tSign: number;
  tPublish: number;
  tOk?: number;
  tPayReq?: number;
  tPaid?: number;
  tProcessing?: number;
  tResult?: number;
  tSuccess?: number;
  priceMsat?: number;
  /** Escrow status read after the success feedback (paid jobs). */
  escrow?: string;
  fail?: string;
}

export interface LoadResult {
  readonly t0: number;
  readonly tEnd: number;
  readonly jobs: JobRecord[];
  readonly connectMs: number;
}

const hexToBytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

export function newCustomerKey(): string {
  for (;;) {
    const sk = randomBytes(32);
    if (isPrivate(sk)) return sk.toString('hex');
  }
}

export function pubkeyOf(skHex: string): string {
  return Buffer.from(xOnlyPointFromScalar(hexToBytes(skHex))).toString('hex');
}

/** Signs with libsecp256k1 (WASM), ~0.2 ms: the customers' own signing should cost the instance little. */
function sign(sk: Uint8Array, pubkey: string, kind: number, tags: string[][], content: string): NostrEvent {
  const created_at = Math.floor(Date.now() / 1000);
  const id = getEventHash({ pubkey, created_at, kind, tags, content });
  const sig = Buffer.from(signSchnorr(hexToBytes(id), sk, randomBytes(32))).toString('hex');
  return { id, pubkey, created_at, kind, tags, content, sig };
}

interface Waiter {
  rec: JobRecord;
  /** The invoice of the payment-required feedback. */
  bolt11?: string;
  /** Resolves on the next event that concerns this job. */
  wake: () => void;
}

class Customer {
  readonly pubkey: string;
  private readonly sk: Uint8Array;
  private readonly client: WsClient;
  private readonly waiting = new Map<string, Waiter>();
  readonly jobs: JobRecord[] = [];

  constructor(
    readonly index: number,
    private readonly spec: CustomerSpec,
    private readonly load: LoadSpec,
    private readonly payer: Payer,
  ) {
    this.sk = hexToBytes(spec.sk);
    this.pubkey = pubkeyOf(spec.sk);
    this.client = new WsClient(load.url, { reconnect: { initialMs: 50, maxMs: 1000 }, onError: () => undefined });
  }

  /** Connects and opens the one subscription for all of this customer's feedback and results. */
  async open(): Promise<void> {
    if (!(await this.client.waitForConnections(10_000))) throw new Error(`customer ${this.index}: could not connect to ${this.load.url}`);
    await new Promise<void>((live) => {
      this.client.subscribe([{ kinds: [7000, this.load.kind + 1000], '#p': [this.pubkey], since: Math.floor(Date.now() / 1000) - 5 }], {
        onEvent: (e) => this.onEvent(e),
        onEose: () => live(),
      });
    });
  }

  private onEvent(e: NostrEvent): void {
    const t = nowMs();
    const jobId = e.tags.find((x) => x[0] === 'e')?.[1];
    const w = jobId ? this.waiting.get(jobId) : undefined;
    if (!w) return;
    const r = w.rec;
    if (e.kind === 7000) {
      const st = e.tags.find((x) => x[0] === 'status');
      switch (st?.[1]) {
        case 'payment-required': {
          const amount = e.tags.find((x) => x[0] === 'amount');
          if (r.tPayReq === undefined && amount?.[2]) {
            r.tPayReq = t;
            r.priceMsat = Number(amount[1]);
            w.bolt11 = amount[2];
          }
          break;
        }
        case 'processing':
          // The coordinator's "waiting for approval" would also be `processing`; only the agent's counts.
          if (r.tProcessing === undefined) r.tProcessing = t;
          break;
        case 'success':
          if (r.tSuccess === undefined) r.tSuccess = t;
          break;
        case 'error':
          if (!r.fail) r.fail = `error feedback: ${st[2] ?? ''}`;
          break;
        default:
          break;
      }
    } else if (e.kind === this.load.kind + 1000) {
      if (r.tResult === undefined) r.tResult = t;
    }
    w.wake();
  }

  /** Waits until `done(rec)` holds, the job fails, or its deadline passes. */
  private async until(w: Waiter, done: (r: JobRecord) => boolean, deadline: number, what: string): Promise<boolean> {
    while (!done(w.rec) && !w.rec.fail) {
      const left = deadline - nowMs();
      if (left <= 0) {
        w.rec.fail = `timeout waiting for ${what}`;
        break;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        w.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return !w.rec.fail;
  }

  async runOne(): Promise<JobRecord> {
    const tSign = nowMs();
    // The NIP-31 alt tag makes each request unique: the same request signed twice in one second
    // would otherwise have the same id, and the relay would take it as a duplicate.
    const tags = [...requestTags(this.load.request, this.pubkey), ['alt', `timmy bench:dvm job ${this.index}#${this.jobs.length}`]];
    const e = sign(this.sk, this.pubkey, this.load.kind, tags, '');
    const rec: JobRecord = { customer: this.index, id: e.id, tSign, tPublish: nowMs() };
    this.jobs.push(rec);
    const w: Waiter = { rec, wake: () => undefined };
    this.waiting.set(e.id, w);
    const deadline = rec.tPublish + this.load.jobTimeoutMs;
    try {
      const published = this.client.publish(e).then((r) => {
        rec.tOk = nowMs();
        if (!r.ok) rec.fail = `request refused: ${r.relays.map((x) => x.message).join('; ')}`;
        w.wake();
      });
      if (this.load.paid) {
        if (!(await this.until(w, (r) => r.tPayReq !== undefined, deadline, 'payment-required'))) return rec;
        try {
          await this.payer.pay(w.bolt11 as string, this.spec.account);
          rec.tPaid = nowMs();
        } catch (err) {
          rec.fail = `pay failed: ${(err as Error).message}`;
          return rec;
        }
      }
      if (!(await this.until(w, (r) => r.tResult !== undefined, deadline, 'the result'))) return rec;
      if (!(await this.until(w, (r) => r.tSuccess !== undefined, deadline, 'success feedback (settlement)'))) return rec;
      await published;
      if (this.load.paid) {
        const esc = await this.payer.escrow(rec.id);
        rec.escrow = esc?.status ?? 'none';
        if (esc?.status !== 'released') rec.fail = `escrow not released after success feedback: ${rec.escrow}`;
      }
      return rec;
    } finally {
      this.waiting.delete(e.id);
    }
  }

  async loop(stopAt: number): Promise<void> {
    while (nowMs() < stopAt) await this.runOne();
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Runs the customers: connect all, then each loops until `durationMs` has passed; in-flight jobs finish. */
export async function runLoad(load: LoadSpec, payer: Payer, onStart?: (t0: number) => void): Promise<LoadResult> {
  const customers = load.customers.map((c, i) => new Customer(i, c, load, payer));
  const tc = nowMs();
  try {
    await Promise.all(customers.map((c) => c.open()));
    const connectMs = nowMs() - tc;
    const t0 = nowMs();
    onStart?.(t0);
    await Promise.all(customers.map((c) => c.loop(t0 + load.durationMs)));
    return { t0, tEnd: nowMs(), jobs: customers.flatMap((c) => c.jobs), connectMs };
  } finally {
    await Promise.all(customers.map((c) => c.close()));
  }
}
