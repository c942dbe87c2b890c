// Test support for NostrClient tests: a subscription recorder, and a scripted fake relay.
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { NostrClient, Subscription } from '../../nostr/client.js';
import type { Filter, NostrEvent } from '../../nostr/nip01.js';

/** Records what a subscription delivers; `next` waits for an event matching a predicate. */
export class Recorder {
  readonly events: NostrEvent[] = [];
  readonly closed: { reason: string; relay: string }[] = [];
  eoseCount = 0;
  readonly sub: Subscription;
  private waiters: (() => void)[] = [];

  constructor(client: NostrClient, filters: Filter[]) {
    this.sub = client.subscribe(filters, {
      onEvent: (e) => {
        this.events.push(e);
        this.wake();
      },
      onEose: () => {
        this.eoseCount++;
        this.wake();
      },
      onClosed: (reason, relay) => {
        this.closed.push({ reason, relay });
        this.wake();
      },
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `pred` holds (checked after every callback), rejects after the timeout. */
  until(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; have ${this.events.length} events, ${this.eoseCount} EOSE, closed ${JSON.stringify(this.closed)}`)), timeoutMs);
      const check = () => {
        if (pred()) {
          clearTimeout(t);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  eose(): Promise<void> {
    return this.until(() => this.eoseCount > 0, 'EOSE');
  }

  has(id: string): Promise<void> {
    return this.until(() => this.events.some((e) => e.id === id), `event ${id.slice(0, 8)}`);
  }

  close(): void {
    this.sub.close();
  }
}

export type Frame = [string, ...unknown[]];

/**
 * A relay we script: every client message is handed to `onMessage` with a `send` for the answer.
 * For feeding a client what no honest relay would send (forged signatures, junk).
 */
export interface FakeRelay {
  readonly url: string;
  readonly received: Frame[];
  close(): Promise<void>;
}

export async function startFakeRelay(
  onMessage: (m: Frame, send: (m: unknown) => void, ws: WebSocket) => void,
  onConnect: (send: (m: unknown) => void) => void = () => undefined,
): Promise<FakeRelay> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const received: Frame[] = [];
  wss.on('connection', (ws) => {
    const send = (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m));
    onConnect(send);
    ws.on('message', (d) => {
      let m: Frame;
      try {
        m = JSON.parse(String(d)) as Frame;
      } catch {
        return;
      }
      received.push(m);
      onMessage(m, send, ws);
    });
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
