// The websocket adapter of NostrClient: talks NIP-01 to one or more relays of any make (strfry,
// nostr-rs-relay, khatru, ours). Per relay: one socket, reconnect with jittered exponential
// backoff, open subscriptions re-sent after a reconnect (resuming from the disconnect), events
// awaiting OK re-sent too. Incoming events are checked (shape, filter match, id and signature)
// and dropped when bad. With a signer it answers NIP-42 AUTH challenges, and retries an EVENT or
// REQ once after an `auth-required:` answer. No socket callback ever throws.
import WebSocket from 'ws';
import type { NostrClient, PublishResult, QueryOptions, RelayAnswer, Subscription, SubscriptionHandlers } from './client.js';
import { defaultReporter, safeCall, SeenIds, sortNewestFirst, type ErrorReporter } from './client-support.js';
import { checkEventShape, matchFilters, type Filter, type NostrEvent } from './nip01.js';
import { authTemplate } from './nip42.js';
import type { Signer } from './signer.js';
import { verifyEvent } from './verify.js';

export interface WsClientOptions {
  /** Answers NIP-42 AUTH challenges as this signer's pubkey. Without one, AUTH is never sent. */
  signer?: Signer;
  /**
   * `eager` (default): authenticate as soon as a relay sends a challenge. `on-demand`: only after
   * a relay answered an EVENT or REQ with `auth-required:`. Either way that EVENT/REQ is retried once.
   */
  auth?: 'eager' | 'on-demand';
  /** How long publish waits for each relay's OK (default 10 s), including time to (re)connect. */
  publishTimeoutMs?: number;
  /** Default query timeout (default 10 s). */
  queryTimeoutMs?: number;
  /** Websocket opening handshake timeout (default 10 s). */
  connectTimeoutMs?: number;
  /** Reconnect backoff: the first delay, doubled per failed attempt up to the maximum, with jitter (defaults 250 ms, 30 s). */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** Ping each relay this often; a relay that did not answer the previous ping is reconnected. 0 disables (default 30 s). */
  pingIntervalMs?: number;
  /** Event check (default: id and BIP-340 signature, nostr/verify.ts). */
  verify?: (e: NostrEvent) => boolean;
  onNotice?(message: string, relay: string): void;
  /** An event a relay sent that was dropped: malformed, not matching the filters, or a bad id/signature. */
  onInvalidEvent?(reason: string, relay: string): void;
  /** Errors thrown by handlers or the signer (default: console.warn). */
  onError?(err: unknown, where: string): void;
}

interface Settings {
  signer: Signer | undefined;
  eagerAuth: boolean;
  publishTimeoutMs: number;
  queryTimeoutMs: number;
  connectTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  pingIntervalMs: number;
  verify: (e: NostrEvent) => boolean;
  onNotice: (message: string, relay: string) => void;
  onInvalidEvent: (reason: string, relay: string) => void;
  report: ErrorReporter;
}

/** After a reconnect, a subscription asks again for events from this long before the disconnect. */
const RESUME_MARGIN_SECONDS = 60;
/** After `auth-required:` without a challenge yet, wait this long for the relay's AUTH message. */
const CHALLENGE_WAIT_MS = 2000;
const CLOSE_GRACE_MS = 1000;
/** A connection that stayed open this long resets the backoff; one that drops sooner keeps backing off. */
const STABLE_CONNECTION_MS = 5000;

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The filters re-sent after a reconnect: only what may have been missed since `since`. */
function resumeFilters(filters: readonly Filter[], since: number): Filter[] {
  return filters.map((f) => {
    const g: Filter = { ...f, since: Math.max(f.since ?? 0, since) };
    if (g.limit === 0) delete g.limit; // a live-only subscription wants what it missed, too
    return g;
  });
}

type SubStatus = 'pending' | 'eose' | 'closed' | 'unreachable';

interface RelaySubState {
  /** Where this relay is with the stored events. */
  status: SubStatus;
  /** The relay has sent EOSE for this subscription on some connection. */
  everEose: boolean;
  /** Set when the connection dropped after EOSE: the REQ re-sent asks only for events since then. */
  resumeSince: number | undefined;
  /** An `auth-required:` CLOSED was already retried on this connection. */
  authRetried: boolean;
  /** The relay's CLOSED reason. */
  reason: string | undefined;
}

class ClientSub {
  readonly seen = new SeenIds();
  readonly perRelay = new Map<RelayLink, RelaySubState>();
  eoseFired = false;
  closed = false;

  constructor(
    readonly id: string,
    readonly filters: readonly Filter[],
    private readonly handlers: SubscriptionHandlers,
    private readonly report: ErrorReporter,
  ) {}

  deliver(e: NostrEvent): void {
    if (this.closed || !this.seen.add(e.id)) return;
    safeCall(this.report, 'subscription onEvent', () => this.handlers.onEvent(e));
  }

  /** Fires onEose once no relay is still sending stored events. */
  settle(): void {
    if (this.eoseFired || this.closed) return;
    for (const s of this.perRelay.values()) if (s.status === 'pending') return;
    this.eoseFired = true;
    const h = this.handlers;
    if (h.onEose) safeCall(this.report, 'subscription onEose', () => h.onEose?.());
  }

  closedBy(relay: string, reason: string): void {
    if (this.closed) return;
    const h = this.handlers;
    if (h.onClosed) safeCall(this.report, 'subscription onClosed', () => h.onClosed?.(reason, relay));
  }
}

type OkCallback = (ok: boolean, message: string) => void;
type LinkState = 'connecting' | 'open' | 'down' | 'closed';

/** One relay: its socket, reconnects, pending OKs, subscriptions and AUTH state. */
class RelayLink {
  state: LinkState = 'connecting';
  private ws: WebSocket | null = null;
  /** Incremented per socket: callbacks of an old socket are ignored. */
  private gen = 0;
  private attempts = 0;
  private openedAt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongSeen = true;
  private challenge: string | undefined;
  private readonly challengeWaiters = new Set<() => void>();
  private authedChallenge: string | undefined;
  private authing: Promise<boolean> | undefined;
  private readonly okWaiters = new Map<string, Set<OkCallback>>();
  /** EVENTs sent (or to send) whose OK has not arrived: re-sent on every (re)connect. */
  private readonly awaitingOk = new Map<string, NostrEvent>();
  private readonly subs = new Map<string, ClientSub>();
  readonly openListeners = new Set<() => void>();

  constructor(
    readonly url: string,
    private readonly o: Settings,
  ) {
    this.connect();
  }

  /** Runs a socket callback body; nothing escapes into `ws`. */
  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.report(err, `${this.url} ${where}`);
    }
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const gen = ++this.gen;
    this.challenge = undefined;
    this.authedChallenge = undefined;
    this.authing = undefined;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, { handshakeTimeout: this.o.connectTimeoutMs });
    } catch (err) {
      this.o.report(err, `${this.url} connect`);
      this.onDown(gen);
      return;
    }
    this.ws = ws;
    ws.on('open', () => this.guard('open', () => gen === this.gen && this.onOpen()));
    ws.on('message', (data, isBinary) =>
      this.guard('message', () => {
        if (gen !== this.gen || isBinary) return;
        this.onMessage(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8'));
      }),
    );
    ws.on('pong', () => (this.pongSeen = true));
    ws.on('error', () => undefined); // 'close' follows; connection errors are routine (relay down)
    ws.on('close', () => this.guard('close', () => gen === this.gen && this.onDown(gen)));
  }

  private onOpen(): void {
    this.state = 'open';
    this.openedAt = Date.now();
    this.pongSeen = true;
    if (this.o.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => this.guard('ping', () => this.ping()), this.o.pingIntervalMs);
      this.pingTimer.unref();
    }
    for (const sub of this.subs.values()) {
      const st = sub.perRelay.get(this);
      if (st) st.authRetried = false;
      this.sendReq(sub);
    }
    for (const e of this.awaitingOk.values()) this.send(['EVENT', e]);
    for (const l of [...this.openListeners]) l();
  }

  private ping(): void {
    const ws = this.ws;
    if (!ws || this.state !== 'open') return;
    if (!this.pongSeen) {
      ws.terminate(); // no answer to the last ping: a half-open connection
      return;
    }
    this.pongSeen = false;
    ws.ping();
  }

  private onDown(gen: number): void {
    if (gen !== this.gen) return;
    const wasOpen = this.state === 'open';
    this.ws = null;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.wakeChallengeWaiters();
    if (this.state === 'closed') return;
    this.state = 'down';
    if (wasOpen && Date.now() - this.openedAt >= STABLE_CONNECTION_MS) this.attempts = 0;
    const resumeFrom = nowSeconds() - RESUME_MARGIN_SECONDS;
    for (const sub of this.subs.values()) {
      const st = sub.perRelay.get(this);
      if (!st) continue;
      if (wasOpen && st.everEose && st.resumeSince === undefined) st.resumeSince = resumeFrom;
      if (st.status === 'pending') {
        st.status = 'unreachable';
        sub.settle();
      }
    }
    const base = Math.min(this.o.backoffMaxMs, this.o.backoffInitialMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.guard('reconnect', () => this.connect());
    }, base / 2 + Math.random() * (base / 2));
  }

  private send(message: unknown): void {
    const ws = this.ws;
    if (!ws || this.state !== 'open' || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(message), () => undefined); // a failed write shows up as 'close'
  }

  // ---- incoming ----

  private onMessage(text: string): void {
    let m: unknown;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (!Array.isArray(m) || typeof m[0] !== 'string') return;
    switch (m[0]) {
      case 'EVENT': {
        const sub = typeof m[1] === 'string' ? this.subs.get(m[1]) : undefined;
        if (sub) this.onEvent(sub, m[2]);
        return;
      }
      case 'EOSE': {
        const sub = typeof m[1] === 'string' ? this.subs.get(m[1]) : undefined;
        const st = sub?.perRelay.get(this);
        if (!sub || !st) return;
        st.everEose = true;
        st.resumeSince = undefined;
        st.status = 'eose';
        sub.settle();
        return;
      }
      case 'CLOSED': {
        const sub = typeof m[1] === 'string' ? this.subs.get(m[1]) : undefined;
        if (sub) this.onClosed(sub, typeof m[2] === 'string' ? m[2] : '');
        return;
      }
      case 'OK': {
        if (typeof m[1] !== 'string') return;
        const cbs = this.okWaiters.get(m[1]);
        this.okWaiters.delete(m[1]);
        this.awaitingOk.delete(m[1]);
        const ok = m[2] === true;
        const message = typeof m[3] === 'string' ? m[3] : '';
        for (const cb of cbs ?? []) cb(ok, message);
        return;
      }
      case 'NOTICE':
        if (typeof m[1] === 'string') {
          const msg = m[1];
          safeCall(this.o.report, 'onNotice', () => this.o.onNotice(msg, this.url));
        }
        return;
      case 'AUTH':
        if (typeof m[1] !== 'string') return;
        this.challenge = m[1];
        this.wakeChallengeWaiters();
        if (this.o.eagerAuth && this.o.signer && this.authedChallenge !== m[1]) void this.authenticate();
        return;
      default:
        return; // COUNT and anything newer: not used by this client
    }
  }

  private invalid(reason: string): void {
    safeCall(this.o.report, 'onInvalidEvent', () => this.o.onInvalidEvent(reason, this.url));
  }

  private onEvent(sub: ClientSub, raw: unknown): void {
    const shape = checkEventShape(raw);
    if (!shape.ok) return this.invalid(`malformed event: ${shape.reason}`);
    const e = shape.value;
    if (sub.seen.has(e.id)) return; // already delivered (verified) from this or another relay
    if (!matchFilters(sub.filters, e)) return this.invalid(`event ${e.id} does not match the subscription's filters`);
    if (!this.o.verify(e)) return this.invalid(`event ${e.id} has a bad id or signature`);
    sub.deliver(e);
  }

  private onClosed(sub: ClientSub, reason: string): void {
    const st = sub.perRelay.get(this);
    if (!st) return;
    if (reason.startsWith('auth-required:') && this.o.signer && !st.authRetried) {
      st.authRetried = true;
      const gen = this.gen;
      void this.authenticate().then((ok) =>
        this.guard('auth retry', () => {
          if (sub.closed || this.subs.get(sub.id) !== sub || gen !== this.gen) return; // a reconnect re-sent it already
          if (ok && this.state === 'open') this.sendReq(sub);
          else this.endSub(sub, st, reason);
        }),
      );
      return;
    }
    this.endSub(sub, st, reason);
  }

  private endSub(sub: ClientSub, st: RelaySubState, reason: string): void {
    this.subs.delete(sub.id);
    st.status = 'closed';
    st.reason = reason;
    sub.closedBy(this.url, reason);
    sub.settle();
  }

  // ---- subscriptions ----

  addSub(sub: ClientSub): void {
    if (this.state === 'closed') {
      sub.perRelay.set(this, { status: 'closed', everEose: false, resumeSince: undefined, authRetried: false, reason: 'error: client closed' });
      return;
    }
    const status: SubStatus = this.state === 'down' ? 'unreachable' : 'pending';
    sub.perRelay.set(this, { status, everEose: false, resumeSince: undefined, authRetried: false, reason: undefined });
    this.subs.set(sub.id, sub);
    if (this.state === 'open') this.sendReq(sub);
  }

  removeSub(sub: ClientSub): void {
    if (this.subs.get(sub.id) !== sub) return;
    this.subs.delete(sub.id);
    this.send(['CLOSE', sub.id]);
  }

  private sendReq(sub: ClientSub): void {
    const st = sub.perRelay.get(this);
    if (!st) return;
    st.status = 'pending';
    const filters = st.resumeSince === undefined ? sub.filters : resumeFilters(sub.filters, st.resumeSince);
    this.send(['REQ', sub.id, ...filters]);
  }

  // ---- publishing ----

  private addOkWaiter(id: string, cb: OkCallback): void {
    let set = this.okWaiters.get(id);
    if (!set) this.okWaiters.set(id, (set = new Set()));
    set.add(cb);
  }

  private dropOkWaiter(id: string, cb: OkCallback): void {
    const set = this.okWaiters.get(id);
    if (!set) return;
    set.delete(cb);
    if (set.size === 0) {
      this.okWaiters.delete(id);
      this.awaitingOk.delete(id);
    }
  }

  publish(e: NostrEvent): Promise<RelayAnswer> {
    return new Promise((resolve) => {
      if (this.state === 'closed') return resolve({ relay: this.url, ok: false, message: 'error: client closed' });
      let done = false;
      let retried = false;
      const finish = (ok: boolean, message: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.dropOkWaiter(e.id, onOk);
        resolve({ relay: this.url, ok, message });
      };
      const onOk: OkCallback = (ok, message) => {
        if (!ok && !retried && message.startsWith('auth-required:') && this.o.signer) {
          retried = true;
          void this.authenticate().then((authed) =>
            this.guard('publish auth retry', () => {
              if (done) return;
              if (authed) this.sendEvent(e, onOk);
              else finish(ok, message);
            }),
          );
          return;
        }
        finish(ok, message);
      };
      const timer = setTimeout(
        () => finish(false, this.state === 'open' ? 'error: timed out waiting for OK' : 'error: could not reach the relay'),
        this.o.publishTimeoutMs,
      );
      this.sendEvent(e, onOk);
    });
  }

  private sendEvent(e: NostrEvent, cb: OkCallback): void {
    this.addOkWaiter(e.id, cb);
    this.awaitingOk.set(e.id, e);
    this.send(['EVENT', e]);
  }

  // ---- NIP-42 ----

  private wakeChallengeWaiters(): void {
    for (const w of [...this.challengeWaiters]) w();
  }

  private waitForChallenge(ms: number): Promise<string | undefined> {
    if (this.challenge !== undefined) return Promise.resolve(this.challenge);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.challengeWaiters.delete(done);
        resolve(this.challenge);
      };
      const t = setTimeout(done, ms);
      this.challengeWaiters.add(done);
    });
  }

  /** Authenticates this connection (once per challenge). Resolves false when it cannot. */
  authenticate(): Promise<boolean> {
    const signer = this.o.signer;
    if (!signer || this.state === 'closed') return Promise.resolve(false);
    if (this.challenge !== undefined && this.authedChallenge === this.challenge) return Promise.resolve(true);
    if (this.authing) return this.authing;
    const p: Promise<boolean> = this.runAuth(signer, this.gen)
      .catch((err: unknown) => {
        this.o.report(err, `${this.url} AUTH`);
        return false;
      })
      .finally(() => {
        if (this.authing === p) this.authing = undefined;
      });
    this.authing = p;
    return p;
  }

  private async runAuth(signer: Signer, gen: number): Promise<boolean> {
    const challenge = await this.waitForChallenge(CHALLENGE_WAIT_MS);
    if (challenge === undefined || gen !== this.gen || this.state !== 'open') return false;
    const ev = await signer.signEvent(authTemplate(this.url, challenge, nowSeconds()));
    if (gen !== this.gen || this.state !== 'open') return false;
    const ok = await new Promise<boolean>((resolve) => {
      const cb: OkCallback = (accepted) => {
        clearTimeout(t);
        resolve(accepted);
      };
      const t = setTimeout(() => {
        this.dropOkWaiter(ev.id, cb);
        resolve(false);
      }, this.o.publishTimeoutMs);
      this.addOkWaiter(ev.id, cb);
      this.send(['AUTH', ev]);
    });
    if (!ok || gen !== this.gen) return false;
    this.authedChallenge = challenge;
    return true;
  }

  // ---- shutdown ----

  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    this.state = 'closed';
    this.gen++; // ignore whatever the old socket still says
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.reconnectTimer = this.pingTimer = undefined;
    const waiters = [...this.okWaiters.values()];
    this.okWaiters.clear();
    this.awaitingOk.clear();
    for (const set of waiters) for (const cb of set) cb(false, 'error: client closed');
    this.wakeChallengeWaiters();
    this.subs.clear();
    for (const l of [...this.openListeners]) l(); // waiters see the client closed
    this.openListeners.clear();
    const ws = this.ws;
    this.ws = null;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      try {
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000);
      } catch {
        ws.terminate();
      }
    });
  }
}

/** A NostrClient over websockets to one or more relays. Connects at construction. */
export class WsClient implements NostrClient {
  private readonly links: RelayLink[];
  private readonly settings: Settings;
  private readonly subs = new Set<ClientSub>();
  private readonly queries = new Set<(err: Error) => void>();
  private nextSub = 0;
  private closed = false;

  constructor(relays: string | readonly string[], opts: WsClientOptions = {}) {
    const urls = [...new Set(typeof relays === 'string' ? [relays] : relays)];
    if (urls.length === 0) throw new TypeError('WsClient needs at least one relay URL');
    for (const u of urls) {
      let p: URL;
      try {
        p = new URL(u);
      } catch {
        throw new TypeError(`not a relay URL: ${u}`);
      }
      if (p.protocol !== 'ws:' && p.protocol !== 'wss:') throw new TypeError(`not a ws:// or wss:// URL: ${u}`);
    }
    const report = opts.onError ?? defaultReporter;
    this.settings = {
      signer: opts.signer,
      eagerAuth: (opts.auth ?? 'eager') === 'eager',
      publishTimeoutMs: opts.publishTimeoutMs ?? 10_000,
      queryTimeoutMs: opts.queryTimeoutMs ?? 10_000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      backoffInitialMs: opts.reconnect?.initialMs ?? 250,
      backoffMaxMs: opts.reconnect?.maxMs ?? 30_000,
      pingIntervalMs: opts.pingIntervalMs ?? 30_000,
      verify: opts.verify ?? ((e) => verifyEvent(e)),
      onNotice: opts.onNotice ?? (() => undefined),
      onInvalidEvent: opts.onInvalidEvent ?? (() => undefined),
      report,
    };
    this.links = urls.map((u) => new RelayLink(u, this.settings));
  }

  /** The relay URLs, in the order given. */
  get relays(): string[] {
    return this.links.map((l) => l.url);
  }

  /** The relays whose socket is open right now. */
  connectedRelays(): string[] {
    return this.links.filter((l) => l.state === 'open').map((l) => l.url);
  }

  /** Resolves true once every relay is connected, false after the timeout (or when closed). */
  waitForConnections(timeoutMs = 5000): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.closed) return finish(false);
        if (this.links.every((l) => l.state === 'open')) finish(true);
      };
      const finish = (v: boolean) => {
        clearTimeout(t);
        for (const l of this.links) l.openListeners.delete(check);
        resolve(v);
      };
      const t = setTimeout(() => finish(false), timeoutMs);
      for (const l of this.links) l.openListeners.add(check);
      check();
    });
  }

  /** Authenticates (NIP-42) with every connected relay that has sent a challenge; true where it worked. */
  async authenticate(): Promise<boolean[]> {
    return Promise.all(this.links.map((l) => (l.state === 'open' ? l.authenticate() : Promise.resolve(false))));
  }

  async publish(event: NostrEvent): Promise<PublishResult> {
    const relays = await Promise.all(this.links.map((l) => l.publish(event)));
    return { ok: relays.some((r) => r.ok), relays };
  }

  subscribe(filters: Filter[], handlers: SubscriptionHandlers): Subscription {
    const sub = this.openSub(filters, handlers);
    return { close: () => this.closeSub(sub) };
  }

  private openSub(filters: Filter[], handlers: SubscriptionHandlers): ClientSub {
    if (this.closed) throw new Error('client closed');
    if (filters.length === 0) throw new TypeError('a subscription needs at least one filter');
    const sub = new ClientSub(`s${(this.nextSub++).toString(36)}`, filters.map((f) => ({ ...f })), handlers, this.settings.report);
    this.subs.add(sub);
    for (const l of this.links) l.addSub(sub);
    queueMicrotask(() => sub.settle()); // every relay unreachable: EOSE now, but not before we return
    return sub;
  }

  private closeSub(sub: ClientSub): void {
    if (sub.closed) return;
    sub.closed = true;
    this.subs.delete(sub);
    for (const l of this.links) l.removeSub(sub);
  }

  query(filters: Filter[], opts: QueryOptions = {}): Promise<NostrEvent[]> {
    return new Promise((resolve, reject) => {
      const got = new Map<string, NostrEvent>();
      let finished = false;
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.queries.delete(abort);
        this.closeSub(sub);
        if (err) return reject(err);
        const states = [...sub.perRelay.entries()];
        if (got.size === 0 && states.every(([, s]) => s.status === 'closed' || s.status === 'unreachable')) {
          const why = states.map(([l, s]) => `${l.url}: ${s.status === 'closed' ? s.reason : 'could not reach the relay'}`);
          return reject(new Error(`query failed: ${why.join('; ')}`));
        }
        resolve(sortNewestFirst([...got.values()]));
      };
      const abort = (err: Error) => finish(err);
      const sub = this.openSub(filters, { onEvent: (e) => got.set(e.id, e), onEose: () => finish() });
      this.queries.add(abort);
      const timer = setTimeout(() => finish(), opts.timeoutMs ?? this.settings.queryTimeoutMs);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of [...this.queries]) q(new Error('client closed'));
    for (const s of [...this.subs]) this.closeSub(s);
    await Promise.all(this.links.map((l) => l.close()));
  }
}
