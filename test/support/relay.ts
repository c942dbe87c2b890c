// Test support: a real relay on port 0 over real websockets, with a temporary data dir,
// and a minimal raw websocket client that records every message.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { relayConfigSchema, type RelayConfig } from '../../relay/config.js';
import { EmbeddedRelay, type Clock } from '../../relay/relay.js';
import { serveRelay, type RelayServer } from '../../relay/server.js';
import { finalizeEvent, generateSecretKey, getPublicKey } from '../../nostr/verify.js';
import type { NostrEvent } from '../../nostr/nip01.js';

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface TestRelay {
  readonly url: string;
  readonly dataDir: string;
  readonly relay: EmbeddedRelay;
  readonly server: RelayServer;
  /** Stops the relay; with keepData the data dir stays for a restart. */
  stop(keepData?: boolean): Promise<void>;
}

export async function startTestRelay(
  overrides: Record<string, unknown> = {},
  o: { dataDir?: string; clock?: Clock; port?: number } = {},
): Promise<TestRelay> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'timmy-relay-'));
  const cfg: RelayConfig = relayConfigSchema.parse({ ingestWorkers: 2, readerThreads: 2, durability: 'normal', ...overrides });
  const relay = await EmbeddedRelay.open(cfg, dataDir, o.clock);
  const server = await serveRelay(relay, { host: '127.0.0.1', port: o.port ?? 0, version: 'test' });
  return {
    url: server.url,
    dataDir,
    relay,
    server,
    async stop(keepData = false) {
      await server.close();
      await relay.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type Msg = [string, ...unknown[]];

/** A raw client: send strings or arrays, await messages matching a predicate. */
export class RawClient {
  readonly messages: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Msg;
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => (w.pred(m) ? (w.resolve(m), false) : true));
    });
    ws.on('close', () => (this.closed = true));
  }

  static async connect(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    const c = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return c;
  }

  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  next(pred: (m: Msg) => boolean, timeoutMs = 5000): Promise<Msg> {
    const have = this.messages.find(pred);
    if (have) {
      this.messages.splice(this.messages.indexOf(have), 1);
      return Promise.resolve(have);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting; got ${JSON.stringify(this.messages.slice(-5))}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          this.messages.splice(this.messages.indexOf(m), 1);
          resolve(m);
        },
      });
    });
  }

  ok(id: string): Promise<Msg> {
    return this.next((m) => m[0] === 'OK' && m[1] === id);
  }

  async publish(e: NostrEvent): Promise<{ ok: boolean; message: string }> {
    this.send(['EVENT', e]);
    const m = await this.ok(e.id);
    return { ok: m[2] as boolean, message: m[3] as string };
  }

  /** REQ and collect events until EOSE (or CLOSED). */
  async req(subId: string, ...filters: unknown[]): Promise<{ events: NostrEvent[]; closed?: string }> {
    this.send(['REQ', subId, ...filters]);
    const events: NostrEvent[] = [];
    for (;;) {
      const m = await this.next((x) => x[1] === subId && (x[0] === 'EVENT' || x[0] === 'EOSE' || x[0] === 'CLOSED'));
      if (m[0] === 'EVENT') events.push(m[2] as NostrEvent);
      else if (m[0] === 'CLOSED') return { events, closed: m[2] as string };
      else return { events };
    }
  }

  close(): void {
    this.ws.close();
  }
}

export class Keys {
  readonly sk = generateSecretKey();
  readonly pk = getPublicKey(this.sk);
  sign(t: { kind: number; content?: string; tags?: string[][]; created_at?: number }): NostrEvent {
    return finalizeEvent({ kind: t.kind, content: t.content ?? '', tags: t.tags ?? [], created_at: t.created_at ?? Math.floor(Date.now() / 1000) }, this.sk);
  }
}

export const now = (): number => Math.floor(Date.now() / 1000);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `f` every 25 ms until it returns something other than undefined. */
export async function until<T>(what: string, f: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Every stored event (up to 5,000) from a relay, over a fresh connection; the REQ must not be refused. */
export async function allEvents(url: string): Promise<NostrEvent[]> {
  const c = await RawClient.connect(url);
  try {
    const { events, closed } = await c.req('all', { limit: 5000 });
    if (closed !== undefined) throw new Error(`REQ refused: ${closed}`);
    return events;
  } finally {
    c.close();
  }
}
