// Negentropy sync with another relay (NIP-77), the way `strfry sync` does it: reconcile the ids of
// a filter's events, then download what we lack (REQ by ids, every event checked before it is
// stored) and/or upload what they lack (EVENT, waiting for each OK). Used by `timmy relay sync`
// and by federation to replicate between instances' embedded relays.
import WebSocket from 'ws';
import type { Filter, NostrEvent } from '../nostr/nip01.js';
import { fromHex, Negentropy, NegentropyStorage, toHex } from '../nostr/nip77.js';
import { checkEvent } from '../nostr/verify.js';

export type SyncDirection = 'down' | 'up' | 'both';

/** This side of the sync: our records, our events by id, and where downloaded events go. */
export interface SyncLocal {
  records(filter: Filter): Promise<readonly (readonly [number, string])[]>;
  events(ids: readonly string[]): Promise<NostrEvent[]>;
  /** Stores one event; ok false with the reason when refused. */
  store(e: NostrEvent): Promise<{ ok: boolean; message: string }>;
}

export interface SyncOptions {
  readonly direction?: SyncDirection;
  /** Bytes per negentropy message (default 60,000; the relay keeps to its own limit too). */
  readonly frameSizeLimit?: number;
  /** Gives up when the other relay is silent this long (default 30 s). */
  readonly timeoutMs?: number;
  /** Ids per download REQ (default 500). */
  readonly batch?: number;
  readonly onProgress?: (p: { phase: 'reconcile' | 'download' | 'upload'; done: number; total: number }) => void;
  readonly signal?: AbortSignal;
}

export interface SyncReport {
  readonly have: number;
  readonly need: number;
  readonly rounds: number;
  readonly downloaded: number;
  readonly uploaded: number;
  /** Events refused: theirs that failed our checks or store, ours that they refused. */
  readonly rejected: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Time to learn have/need (connect, read our records, all negentropy rounds). */
  readonly reconcileMs: number;
  readonly ms: number;
}

export class SyncError extends Error {
  override name = 'SyncError';
}

type Msg = [string, ...unknown[]];

/** One websocket with a queue of incoming messages that waiters take by predicate. */
class Wire {
  private readonly queue: Msg[] = [];
  private waiter: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private failure: Error | undefined;
  bytesSent = 0;
  bytesReceived = 0;

  private constructor(
    private readonly ws: WebSocket,
    private readonly timeoutMs: number,
  ) {
    ws.on('message', (d: Buffer) => {
      this.bytesReceived += d.length;
      let m: Msg;
      try {
        m = JSON.parse(d.toString('utf8')) as Msg;
      } catch {
        return;
      }
      if (!Array.isArray(m)) return;
      const w = this.waiter;
      if (w && w.pred(m)) {
        this.waiter = undefined;
        clearTimeout(w.timer);
        w.resolve(m);
      } else this.queue.push(m);
    });
    const fail = (err: Error) => {
      this.failure = err;
      const w = this.waiter;
      this.waiter = undefined;
      if (w) (clearTimeout(w.timer), w.reject(err));
    };
    ws.on('close', () => fail(new SyncError('the relay closed the connection')));
    ws.on('error', (err) => fail(new SyncError(`relay connection failed: ${err.message}`)));
  }

  static open(url: string, timeoutMs: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
      const t = setTimeout(() => (ws.terminate(), reject(new SyncError(`could not connect to ${url} within ${timeoutMs} ms`))), timeoutMs);
      ws.once('open', () => (clearTimeout(t), resolve(new Wire(ws, timeoutMs))));
      ws.once('error', (err) => (clearTimeout(t), reject(new SyncError(`could not connect to ${url}: ${err.message}`))));
    });
  }

  send(m: unknown): void {
    const s = JSON.stringify(m);
    this.bytesSent += Buffer.byteLength(s);
    this.ws.send(s);
  }

  next(pred: (m: Msg) => boolean): Promise<Msg> {
    const i = this.queue.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]!);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new SyncError(`the relay did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiter = { pred, resolve, reject, timer };
    });
  }

  close(): void {
    this.ws.close();
  }
}

export async function negentropySync(url: string, filter: Filter, local: SyncLocal, o: SyncOptions = {}): Promise<SyncReport> {
  const started = performance.now();
  const direction = o.direction ?? 'down';
  const wire = await Wire.open(url, o.timeoutMs ?? 30_000);
  const abort = () => wire.close();
  o.signal?.addEventListener('abort', abort, { once: true });
  try {
    const storage = new NegentropyStorage();
    for (const [t, id] of await local.records(filter)) storage.insert(t, id);
    const neg = new Negentropy(storage.seal(), o.frameSizeLimit ?? 60_000);
    const subId = `neg-${Math.random().toString(36).slice(2, 10)}`;
    wire.send(['NEG-OPEN', subId, filter, toHex(neg.initiate())]);
    const have: string[] = [];
    const need: string[] = [];
    let rounds = 0;
    for (;;) {
      const m = await wire.next((x) => (x[0] === 'NEG-MSG' || x[0] === 'NEG-ERR') && x[1] === subId);
      rounds++;
      if (m[0] === 'NEG-ERR') throw new SyncError(`the relay refused the sync: ${String(m[2])}`);
      const r = neg.reconcile(fromHex(String(m[2])));
      have.push(...r.have);
      need.push(...r.need);
      o.onProgress?.({ phase: 'reconcile', done: rounds, total: 0 });
      if (!r.output) break;
      wire.send(['NEG-MSG', subId, toHex(r.output)]);
    }
    wire.send(['NEG-CLOSE', subId]);
    const reconcileMs = performance.now() - started;

    let downloaded = 0;
    let uploaded = 0;
    let rejected = 0;
    if (direction !== 'up') {
      const batch = o.batch ?? 500;
      for (let i = 0; i < need.length; i += batch) {
        const ids = need.slice(i, i + batch);
        const sub = `get-${i}`;
        wire.send(['REQ', sub, { ids, limit: ids.length }]);
        for (;;) {
          const m = await wire.next((x) => x[1] === sub && (x[0] === 'EVENT' || x[0] === 'EOSE' || x[0] === 'CLOSED'));
          if (m[0] !== 'EVENT') break;
          const e = m[2] as NostrEvent;
          // The other relay is not trusted: an event it sends must be one we asked for, and valid.
          if (!ids.includes(e?.id) || !checkEvent(e).ok) {
            rejected++;
            continue;
          }
          const s = await local.store(e);
          if (s.ok) downloaded++;
          else if (!/^duplicate:/.test(s.message)) rejected++;
        }
        wire.send(['CLOSE', sub]);
        o.onProgress?.({ phase: 'download', done: Math.min(i + batch, need.length), total: need.length });
      }
    }
    if (direction !== 'down' && have.length > 0) {
      const events = await local.events(have);
      for (const [i, e] of events.entries()) {
        wire.send(['EVENT', e]);
        const m = await wire.next((x) => x[0] === 'OK' && x[1] === e.id);
        if (m[2] === true) uploaded++;
        else if (!/^duplicate:/.test(String(m[3]))) rejected++;
        if ((i + 1) % 500 === 0) o.onProgress?.({ phase: 'upload', done: i + 1, total: events.length });
      }
    }
    return { have: have.length, need: need.length, rounds, downloaded, uploaded, rejected, bytesSent: wire.bytesSent, bytesReceived: wire.bytesReceived, reconcileMs, ms: performance.now() - started };
  } finally {
    o.signal?.removeEventListener('abort', abort);
    wire.close();
  }
}

/** The SyncLocal of an embedded relay: its records and events, and stores through its policies. */
export function relayLocal(relay: {
  records(filter: Filter): Promise<{ records: [number, string][]; tooMany: boolean }>;
  eventsById(ids: readonly string[]): Promise<NostrEvent[]>;
  publish(e: NostrEvent): Promise<{ ok: boolean; message: string }>;
}): SyncLocal {
  return {
    async records(filter) {
      const r = await relay.records(filter);
      if (r.tooMany) throw new SyncError('our side has more events than relay.negentropy.maxRecords for this filter: narrow it');
      return r.records;
    },
    events: (ids) => relay.eventsById(ids),
    store: (e) => relay.publish(e),
  };
}
