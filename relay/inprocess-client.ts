// The in-process adapter of NostrClient: talks to the embedded relay without sockets.
// publish goes through EmbeddedRelay.publish (the same policies and store as websocket clients);
// REQ/CLOSE go through the core on a virtual connection whose transport receives the relay's
// outgoing messages as JSON strings. With a signer, the connection counts as authenticated
// (NIP-42) for the signer's pubkey, so it reads that pubkey's private kinds (DMs, gift wraps).
import { urlHost } from '../nostr/nip42.js';
import type { NostrClient, PublishResult, QueryOptions, Subscription, SubscriptionHandlers } from '../nostr/client.js';
import { defaultReporter, safeCall, SeenIds, sortNewestFirst, type ErrorReporter } from '../nostr/client-support.js';
import type { Filter, NostrEvent } from '../nostr/nip01.js';
import type { Signer } from '../nostr/signer.js';
import type { Connection, Transport } from './connection.js';
import { IN_PROCESS_IP } from './core.js';
import type { EmbeddedRelay } from './relay.js';

/** The `relay` of this adapter's publish answers. */
export const IN_PROCESS = 'in-process';

export interface InProcessClientOptions {
  /** The connection counts as authenticated for this signer's pubkey. */
  signer?: Signer;
  /** How long publish waits for the store (default 10 s). */
  publishTimeoutMs?: number;
  /** Default query timeout (default 10 s). */
  queryTimeoutMs?: number;
  onNotice?(message: string): void;
  /** Errors thrown by handlers (default: console.warn). */
  onError?(err: unknown, where: string): void;
}

interface LocalSub {
  readonly id: string;
  readonly handlers: SubscriptionHandlers;
  readonly seen: SeenIds;
  eose: boolean;
  closed: boolean;
}

export class InProcessClient implements NostrClient {
  private readonly conn: Connection;
  private readonly subs = new Map<string, LocalSub>();
  private readonly queries = new Set<(err: Error) => void>();
  private readonly inbox: string[] = [];
  private flushScheduled = false;
  private nextSub = 0;
  private closed = false;
  private readonly report: ErrorReporter;
  private readonly onDisconnect = (c: Connection): void => {
    if (c === this.conn) this.relayGone();
  };

  /** Opens a virtual connection to the relay's core (async: the signer's pubkey is asked first). */
  static async open(relay: EmbeddedRelay, opts: InProcessClientOptions = {}): Promise<InProcessClient> {
    const pubkey = opts.signer ? await opts.signer.getPublicKey() : undefined;
    return new InProcessClient(relay, opts, pubkey);
  }

  private constructor(
    private readonly relay: EmbeddedRelay,
    private readonly opts: InProcessClientOptions,
    pubkey: string | undefined,
  ) {
    this.report = opts.onError ?? defaultReporter;
    const transport: Transport = {
      send: (m) => this.receive(m),
      close: () => this.relayGone(),
      bufferedAmount: () => 0,
    };
    const host = relay.cfg.url === undefined ? IN_PROCESS : (urlHost(relay.cfg.url) ?? IN_PROCESS);
    this.conn = relay.core.handleConnection(transport, IN_PROCESS_IP, host);
    if (pubkey !== undefined) this.conn.authed.add(pubkey);
    relay.hooks.onDisconnect.push(this.onDisconnect);
  }

  /** The pubkeys this connection counts as authenticated for. */
  get authedPubkeys(): string[] {
    return [...this.conn.authed];
  }

  // ---- relay -> client: queued, so handlers never run inside the core's own loops ----

  private receive(message: string): void {
    this.inbox.push(message);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.inbox.splice(0);
    for (const text of batch) {
      try {
        this.dispatch(text);
      } catch (err) {
        this.report(err, 'in-process dispatch');
      }
    }
  }

  private dispatch(text: string): void {
    const m = JSON.parse(text) as unknown[];
    const sub = typeof m[1] === 'string' ? this.subs.get(m[1]) : undefined;
    switch (m[0]) {
      case 'EVENT': {
        const e = m[2] as NostrEvent;
        if (!sub || sub.closed || !sub.seen.add(e.id)) return;
        safeCall(this.report, 'subscription onEvent', () => sub.handlers.onEvent(e));
        return;
      }
      case 'EOSE':
        if (!sub || sub.closed || sub.eose) return;
        sub.eose = true;
        if (sub.handlers.onEose) safeCall(this.report, 'subscription onEose', () => sub.handlers.onEose?.());
        return;
      case 'CLOSED':
        if (!sub || sub.closed) return;
        this.endSub(sub, typeof m[2] === 'string' ? m[2] : '');
        return;
      case 'NOTICE': {
        const notice = this.opts.onNotice;
        if (notice && typeof m[1] === 'string') safeCall(this.report, 'onNotice', () => notice(m[1] as string));
        return;
      }
      default:
        return; // AUTH (the connection is already authenticated or needs no auth), OK, COUNT
    }
  }

  private endSub(sub: LocalSub, reason: string): void {
    sub.closed = true;
    this.subs.delete(sub.id);
    if (sub.handlers.onClosed) safeCall(this.report, 'subscription onClosed', () => sub.handlers.onClosed?.(reason, IN_PROCESS));
  }

  /** The core dropped the connection (the relay is shutting down). */
  private relayGone(): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.unhook()); // not while the core iterates its onDisconnect hooks
    for (const s of [...this.subs.values()]) this.endSub(s, 'error: the relay shut down');
    for (const q of [...this.queries]) q(new Error('query failed: the relay shut down'));
  }

  private unhook(): void {
    const hooks = this.relay.hooks.onDisconnect;
    const i = hooks.indexOf(this.onDisconnect);
    if (i >= 0) hooks.splice(i, 1);
  }

  // ---- NostrClient ----

  async publish(event: NostrEvent): Promise<PublishResult> {
    if (this.closed) return { ok: false, relays: [{ relay: IN_PROCESS, ok: false, message: 'error: client closed' }] };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ ok: boolean; message: string }>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, message: 'error: timed out waiting for the store' }), this.opts.publishTimeoutMs ?? 10_000);
    });
    let answer: { ok: boolean; message: string };
    try {
      answer = await Promise.race([this.relay.publish(event), timeout]);
    } catch (err) {
      answer = { ok: false, message: `error: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
    return { ok: answer.ok, relays: [{ relay: IN_PROCESS, ok: answer.ok, message: answer.message }] };
  }

  subscribe(filters: Filter[], handlers: SubscriptionHandlers): Subscription {
    if (this.closed) throw new Error('client closed');
    if (filters.length === 0) throw new TypeError('a subscription needs at least one filter');
    const sub: LocalSub = { id: `s${(this.nextSub++).toString(36)}`, handlers, seen: new SeenIds(), eose: false, closed: false };
    this.subs.set(sub.id, sub);
    const req = JSON.stringify(['REQ', sub.id, ...filters]);
    if (Buffer.byteLength(req) > this.relay.cfg.maxMessageLength) {
      // The core would answer a NOTICE, which names no subscription: answer as the REQ's CLOSED.
      this.receive(JSON.stringify(['CLOSED', sub.id, `invalid: message too large (max ${this.relay.cfg.maxMessageLength} bytes)`]));
    } else {
      this.relay.core.handleMessage(this.conn, req);
    }
    return {
      close: () => {
        if (sub.closed) return;
        sub.closed = true;
        this.subs.delete(sub.id);
        if (!this.closed) this.relay.core.handleMessage(this.conn, JSON.stringify(['CLOSE', sub.id]));
      },
    };
  }

  query(filters: Filter[], opts: QueryOptions = {}): Promise<NostrEvent[]> {
    return new Promise((resolve, reject) => {
      const got = new Map<string, NostrEvent>();
      let finished = false;
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.queries.delete(finish);
        sub.close();
        if (err) reject(err);
        else resolve(sortNewestFirst([...got.values()]));
      };
      const sub = this.subscribe(filters, {
        onEvent: (e) => got.set(e.id, e),
        onEose: () => finish(),
        onClosed: (reason) => finish(new Error(`query failed: ${IN_PROCESS}: ${reason}`)),
      });
      this.queries.add(finish);
      const timer = setTimeout(() => finish(), opts.timeoutMs ?? this.opts.queryTimeoutMs ?? 10_000);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subs.values()) s.closed = true;
    this.subs.clear();
    for (const q of [...this.queries]) q(new Error('client closed'));
    this.relay.core.handleDisconnect(this.conn);
    this.unhook();
  }
}
