// The transport-free relay core: handleConnection / handleMessage / handleDisconnect.
// Pipeline (strfry's, in Node terms): socket (main thread, no parsing) -> ingest workers (JSON,
// signatures) -> core (policies, dispatch) -> one writer thread (group commits; OK after commit)
// -> live matching through SubscriptionIndex; history queries run on reader threads.
import { isEphemeral, msgAuth, msgClosed, msgCount, msgEose, msgEvent, msgNotice, msgOk, type Filter, type NostrEvent } from '../nostr/nip01.js';
import { Connection, type Subscription, type Transport } from './connection.js';
import { firstRejection, reportError, type Hooks } from './hooks.js';
import { IngestPool } from './pipeline/ingest-pool.js';
import type { ClientMessage } from './pipeline/parse.js';
import { RateLimiter } from './policies/rate-limit.js';
import { expirationOf } from './store/event-writer.js';
import { SubscriptionIndex, toLiveFilters } from './subscriptions.js';
import type { RelayConfig } from './config.js';
import { checkAuthEvent, urlHost } from '../nostr/nip42.js';
import { msgNegErr, NegentropyHandler } from './negentropy.js';

/** Live events held for one subscription while its history query runs. */
const MAX_PENDING_LIVE = 5000;

/** The `ip` of in-process connections (relay/inprocess-client.ts): the instance's own code, never rate-limited. */
export const IN_PROCESS_IP = 'in-process';

export interface CoreStats {
  connections: number;
  subscriptions: number;
  eventsAccepted: number;
  eventsRejected: number;
  /** Connections cut off because they did not read (send queue over maxBufferedBytes). */
  dropped: number;
  /** History answers cut short by `readCostPerIp` (CLOSED rate-limited: instead of EOSE). */
  answersTruncated: number;
  /** Messages handed to the ingest workers (JSON parse, signature check). */
  ingested: number;
  /** EVENTs refused by `eventsPerIp` on arrival, before parsing and signature check. */
  eventsRateLimitedEarly: number;
}

/** An EVENT message, recognised without parsing it. */
const EVENT_PREFIX = /^\s*\[\s*"EVENT"\s*,/;
/** The id of an EVENT message's event, read without parsing (the first "id" key of the object). */
const rawEventId = (data: string): string | undefined => /^\s*\[\s*"EVENT"\s*,\s*\{[^]*?"id"\s*:\s*"([0-9a-f]{64})"/.exec(data.slice(0, 4096))?.[1];

export class RelayCore {
  private readonly conns = new Map<number, Connection>();
  private readonly ipCounts = new Map<string, number>();
  private readonly live = new SubscriptionIndex<Subscription>();
  private readonly ingest: IngestPool;
  private readonly eventsPerIp: RateLimiter;
  private readonly eventsPerPubkey: RateLimiter;
  private readonly reqsPerIp: RateLimiter;
  /** Events served (and reader time) per IP: what answers cost, not how many REQs ask. */
  private readonly readCost: RateLimiter;
  private nextId = 1;
  private readonly neg: NegentropyHandler;
  readonly stats: CoreStats = { connections: 0, subscriptions: 0, eventsAccepted: 0, eventsRejected: 0, dropped: 0, answersTruncated: 0, ingested: 0, eventsRateLimitedEarly: 0 };

  constructor(
    private readonly cfg: RelayConfig,
    readonly hooks: Hooks,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.ingest = new IngestPool(cfg.ingestWorkers, { maxFilters: cfg.maxFilters, maxSubIdLength: cfg.maxSubidLength, maxFilterValues: cfg.maxFilterValues }, (c, m, t) =>
      this.dispatch(c, m, t),
      (where, err) => reportError(this.hooks, where, err),
    );
    this.eventsPerIp = new RateLimiter(cfg.rateLimits.eventsPerIp);
    this.eventsPerPubkey = new RateLimiter(cfg.rateLimits.eventsPerPubkey);
    this.reqsPerIp = new RateLimiter(cfg.rateLimits.reqsPerIp);
    this.readCost = new RateLimiter(cfg.rateLimits.readCostPerIp);
    hooks.onEventSaved.push((e, json) => this.deliverLive(e, json));
    this.neg = new NegentropyHandler(cfg.negentropy, hooks);
  }

  private exempt(ip: string): boolean {
    return ip === IN_PROCESS_IP || this.cfg.rateLimits.exemptIps.includes(ip);
  }

  /** Whether a new connection from `ip` may open; the transport refuses the upgrade otherwise. */
  admit(ip: string): string | undefined {
    if (this.conns.size >= this.cfg.maxConnections) return 'too many connections';
    if (!this.exempt(ip) && (this.ipCounts.get(ip) ?? 0) >= this.cfg.maxConnectionsPerIp) return 'too many connections from this address';
    return undefined;
  }

  handleConnection(transport: Transport, ip: string, host: string): Connection {
    const c = new Connection(this.nextId++, ip, transport, host, this.ingest.assign(), this.cfg.maxBufferedBytes, (x) => this.overflow(x));
    this.conns.set(c.id, c);
    this.ipCounts.set(ip, (this.ipCounts.get(ip) ?? 0) + 1);
    this.stats.connections = this.conns.size;
    // NIP-42 lets the challenge come up front or with the first auth-required answer. Up front
    // only when it is needed or asked for: some clients treat a challenge as "must log in first".
    if (this.cfg.auth.required || this.cfg.auth.challengeOnConnect) c.send(msgAuth(c.challenge));
    for (const h of this.hooks.onConnect) h(c);
    return c;
  }

  /**
   * A client whose send queue passed maxBufferedBytes does not read what we send: it is closed
   * (1008) and its queued output dropped, so a slow reader costs at most that much memory.
   */
  private overflow(c: Connection): void {
    const buffered = c.transport.bufferedAmount();
    this.stats.dropped++;
    const reason = 'not reading fast enough';
    if (c.transport.terminate) c.transport.terminate(1008, reason);
    else c.transport.close(1008, reason);
    for (const h of this.hooks.onDrop) h(c, buffered);
    // Not inline: the send that overflowed may be inside a loop over this connection's state.
    queueMicrotask(() => this.handleDisconnect(c));
  }

  handleDisconnect(c: Connection): void {
    if (c.closed) return;
    c.closed = true;
    for (const s of [...c.subs.values()]) this.removeSub(s);
    this.conns.delete(c.id);
    const n = (this.ipCounts.get(c.ip) ?? 1) - 1;
    if (n <= 0) this.ipCounts.delete(c.ip);
    else this.ipCounts.set(c.ip, n);
    this.stats.connections = this.conns.size;
    for (const h of this.hooks.onDisconnect) h(c);
  }

  handleMessage(c: Connection, data: string): void {
    if (c.closed) return;
    if (Buffer.byteLength(data) > this.cfg.maxMessageLength) {
      // Answer in the most useful form we can without parsing a huge message.
      const id = rawEventId(data);
      const why = `invalid: message too large (max ${this.cfg.maxMessageLength} bytes)`;
      c.send(id ? msgOk(id, false, why) : msgNotice(why));
      return;
    }
    // The per-IP event limit is applied here, before the message is parsed and its signature
    // checked: a flood from one address costs a regex per message, not a verify. (The per-pubkey
    // limit stays after verification: a forged pubkey must not drain someone else's budget.)
    if (EVENT_PREFIX.test(data) && !this.exempt(c.ip) && !this.eventsPerIp.take(c.ip)) {
      this.stats.eventsRejected++;
      this.stats.eventsRateLimitedEarly++;
      const id = rawEventId(data);
      const why = 'rate-limited: too many events from your address, slow down';
      c.send(id ? msgOk(id, false, why) : msgNotice(why));
      this.eventDone(performance.now(), false, why);
      return;
    }
    this.stats.ingested++;
    // Receipt time, for the onEventDone / onQueryDone observers (one clock read per message).
    this.ingest.submit(c.worker, c.id, data, performance.now());
  }

  private dispatch(connId: number, m: ClientMessage, receivedAt: number): void {
    const c = this.conns.get(connId);
    if (!c || c.closed) return;
    try {
      this.route(c, m, receivedAt);
    } catch (err) {
      this.internalError(c, err);
    }
  }

  /** A bug in our handling of one message must not take the process (or this client) down. */
  private internalError(c: Connection, err: unknown): void {
    reportError(this.hooks, 'error handling a client message', err);
    c.send(msgNotice('error: internal error while handling your message'));
  }

  private route(c: Connection, m: ClientMessage, receivedAt: number): void {
    switch (m.type) {
      case 'EVENT':
        this.onEvent(c, m.event, m.json, receivedAt).catch((err: unknown) => this.internalError(c, err));
        break;
      case 'AUTH':
        this.onAuth(c, m.event);
        break;
      case 'REQ':
        this.onReq(c, m.subId, m.filters, receivedAt);
        break;
      case 'COUNT':
        this.onCount(c, m.subId, m.filters);
        break;
      case 'CLOSE': {
        const s = c.subs.get(m.subId);
        if (s) this.removeSub(s);
        break;
      }
      case 'NEG-OPEN': {
        const s = m.subId;
        if (!this.checkFilters(c, s, [m.filter], 'REQ', (why) => c.send(msgNegErr(s, why)))) {
          c.negs.delete(s);
          break;
        }
        this.neg.open(c, s, m.filter, m.message, this.queryContext(c)).catch((err: unknown) => {
          c.negs.delete(s);
          reportError(this.hooks, 'negentropy open', err);
          c.send(msgNegErr(s, 'error: could not read the events to sync'));
        });
        break;
      }
      case 'NEG-MSG':
        this.neg.message(c, m.subId, m.message);
        break;
      case 'NEG-CLOSE':
        this.neg.close(c, m.subId);
        break;
      case 'BAD_NEG':
        c.negs.delete(m.subId);
        c.send(msgNegErr(m.subId, `invalid: ${m.reason}`));
        break;
      case 'BAD_EVENT': {
        this.stats.eventsRejected++;
        const why = `invalid: ${m.reason}`;
        c.send(msgOk(m.id, false, why));
        this.eventDone(receivedAt, false, why);
        break;
      }
      case 'BAD_SUB':
        c.send(msgClosed(m.subId, `invalid: ${m.reason}`));
        break;
      case 'BAD_MESSAGE':
        c.send(msgNotice(`invalid: ${m.reason}`));
        break;
    }
  }

  private reject(c: Connection | null, reason: string): void {
    // NIP-42: an auth-required answer comes with a (re-sent) challenge.
    if (c && reason.startsWith('auth-required:')) c.send(msgAuth(c.challenge));
  }

  /** Tells the onEventDone observers; the clock is read only when there are any. */
  private eventDone(receivedAt: number, ok: boolean, message: string): void {
    const hooks = this.hooks.onEventDone;
    if (hooks.length === 0) return;
    const ms = performance.now() - receivedAt;
    for (const h of hooks) h(ms, ok, message);
  }

  /**
   * Accepts one event from a connection (or in-process when `c` is null). Resolves with the OK.
   * `receivedAt` (performance.now() when the message arrived) times the onEventDone observers.
   */
  async onEvent(c: Connection | null, e: NostrEvent, json: string, receivedAt = performance.now()): Promise<{ ok: boolean; message: string }> {
    const answer = (ok: boolean, message: string) => {
      if (ok) this.stats.eventsAccepted++;
      else this.stats.eventsRejected++;
      c?.send(msgOk(e.id, ok, message));
      this.eventDone(receivedAt, ok, message);
      return { ok, message };
    };
    // eventsPerIp was taken on arrival (handleMessage), before the signature check.
    if (c && !this.exempt(c.ip) && !this.eventsPerPubkey.take(e.pubkey)) return answer(false, 'rate-limited: too many events from this pubkey, slow down');
    const why = firstRejection(this.hooks.rejectEvent, e, c);
    if (why !== undefined) {
      this.reject(c, why);
      return answer(false, why);
    }
    if (isEphemeral(e.kind)) {
      for (const h of this.hooks.onEventSaved) h(e, json);
      return answer(true, '');
    }
    const [primary, ...mirrors] = this.hooks.storeEvent;
    if (!primary) return answer(false, 'error: no store configured');
    let out;
    try {
      out = await primary({ event: e, json });
    } catch (err) {
      return answer(false, `error: could not store event (${(err as Error).message})`);
    }
    if (out.stored) {
      for (const m of mirrors) void m({ event: e, json }).catch(() => undefined);
      if (e.kind === 5) for (const h of this.hooks.deleteEvent) h(e);
      for (const h of this.hooks.onEventSaved) h(e, json);
    }
    return answer(out.ok, out.message);
  }

  private onAuth(c: Connection, e: NostrEvent): void {
    const hosts = [c.host];
    const configured = this.cfg.url === undefined ? undefined : urlHost(this.cfg.url);
    if (configured) hosts.push(configured);
    const why = checkAuthEvent(e, { challenge: c.challenge, hosts, now: this.now() });
    if (why) {
      c.send(msgOk(e.id, false, why));
      return;
    }
    c.authed.add(e.pubkey);
    c.send(msgOk(e.id, true, ''));
  }

  private queryContext(c: Connection | null) {
    const viewers = c ? [...c.authed] : [];
    const hidden = c && c.authed.size === 0 ? this.cfg.auth.readKinds : [];
    return { now: this.now(), privateKinds: c ? [...this.cfg.auth.privateKinds, ...hidden] : [], viewers };
  }

  /** Rate limit and filter policies; a refusal is sent with CLOSED (or `refuse`, e.g. NEG-ERR). */
  private checkFilters(c: Connection, subId: string, filters: Filter[], verb: 'REQ' | 'COUNT', refuse = (why: string) => c.send(msgClosed(subId, why))): boolean {
    if (!this.exempt(c.ip)) {
      if (this.readCost.level(c.ip) < 1) {
        refuse('rate-limited: read budget of your address used up (too many events asked for), slow down');
        return false;
      }
      if (!this.reqsPerIp.take(c.ip)) {
        refuse('rate-limited: too many requests, slow down');
        return false;
      }
    }
    const why = firstRejection(this.hooks.rejectFilter, filters, c, verb);
    if (why !== undefined) {
      this.reject(c, why);
      refuse(why);
      return false;
    }
    return true;
  }

  private onReq(c: Connection, subId: string, filters: Filter[], receivedAt: number): void {
    const old = c.subs.get(subId);
    if (old) this.removeSub(old); // NIP-01: a REQ with an open id replaces that subscription
    if (!this.checkFilters(c, subId, filters, 'REQ')) return;
    if (c.subs.size >= this.cfg.maxSubscriptions) {
      c.send(msgClosed(subId, `blocked: too many open subscriptions (max ${this.cfg.maxSubscriptions})`));
      return;
    }
    const s: Subscription = { conn: c, subId, filters: toLiveFilters(filters), pending: [] };
    c.subs.set(subId, s);
    this.live.add(s);
    this.stats.subscriptions = this.live.size;

    if (filters.every((f) => f.limit === 0)) return this.finishHistory(s, [], receivedAt, 0);
    const query = this.hooks.queryEvents[0];
    if (!query) return this.finishHistory(s, [], receivedAt, 0);
    const ctx = this.queryContext(c);
    // Queued per client IP, fair queuing on reader time; dropped unrun if the client closes it first.
    let readerMs = 0;
    const sched = { key: c.ip, cancelled: () => c.subs.get(subId) !== s, ran: (ms: number) => (readerMs = ms) };
    query(filters, { ...ctx, defaultLimit: this.cfg.defaultLimit, maxLimit: this.cfg.maxLimit, budgetMs: this.cfg.queryBudgetMs }, sched).then(
      (r) => {
        if (c.subs.get(subId) !== s) return this.chargeRead(c, 0, readerMs); // closed or replaced meanwhile
        this.finishHistory(s, r.events, receivedAt, readerMs);
      },
      (err: Error) => {
        if (c.subs.get(subId) !== s) return;
        this.removeSub(s);
        c.send(msgClosed(subId, `error: query failed (${err.message})`));
      },
    ).catch((err: unknown) => this.internalError(c, err));
  }

  private removeSub(s: Subscription): void {
    this.live.remove(s);
    if (s.conn.subs.get(s.subId) === s) s.conn.subs.delete(s.subId);
    this.stats.subscriptions = this.live.size;
  }

  /** Charges a read to the client's IP: `events` sent and `readerMs` of reader-thread time. */
  private chargeRead(c: Connection, events: number, readerMs: number): void {
    if (this.exempt(c.ip)) return;
    this.readCost.spend(c.ip, events + readerMs * this.cfg.rateLimits.readerMsCost);
  }

  private finishHistory(s: Subscription, history: readonly string[], receivedAt: number, readerMs: number): void {
    const c = s.conn;
    // The read budget: as many events as the IP has left; the reader time is charged after
    // (it was spent anyway, so it may put the IP in debt and refuse its next REQs).
    const n = this.exempt(c.ip) ? history.length : Math.min(history.length, Math.max(0, Math.floor(this.readCost.level(c.ip))));
    this.chargeRead(c, n, readerMs);
    const seen = new Set<string>();
    const prefix = `["EVENT",${JSON.stringify(s.subId)},`;
    c.transport.cork?.();
    try {
      for (let i = 0; i < n; i++) {
        if (c.overflowed) return; // cut off mid-answer: the rest would only queue up
        const json = history[i]!;
        seen.add(json.slice(7, 71)); // canonical JSON starts with {"id":"<64 hex>"
        c.send(`${prefix}${json}]`);
        // Let the socket take what it can now and then, so a corked answer does not count
        // against maxBufferedBytes as if the client were not reading.
        if ((i & 255) === 255) {
          c.transport.uncork?.();
          c.transport.cork?.();
        }
      }
    } finally {
      c.transport.uncork?.();
    }
    if (n < history.length) {
      // NIP-01: CLOSED ends the subscription; the client knows the answer is incomplete.
      this.stats.answersTruncated++;
      this.removeSub(s);
      c.send(msgClosed(s.subId, `rate-limited: read budget of your address used up; history cut after ${n} of ${history.length} events, ask again later`));
      return;
    }
    c.send(msgEose(s.subId));
    const pending = s.pending ?? [];
    s.pending = null;
    for (const json of pending) if (!seen.has(json.slice(7, 71))) c.send(msgEvent(s.subId, json));
    if (this.hooks.onQueryDone.length > 0) {
      const ms = performance.now() - receivedAt;
      for (const h of this.hooks.onQueryDone) h(ms, history.length);
    }
  }

  private onCount(c: Connection, subId: string, filters: Filter[]): void {
    if (!this.checkFilters(c, subId, filters, 'COUNT')) return;
    const count = this.hooks.countEvents[0];
    if (!count) return void c.send(msgClosed(subId, 'error: counting is not supported'));
    count(filters, this.queryContext(c), { key: c.ip, cancelled: () => c.closed, ran: (ms) => this.chargeRead(c, 1, ms) }).then(
      (n) => c.send(msgCount(subId, n)),
      (err: Error) => c.send(msgClosed(subId, `error: count failed (${err.message})`)),
    ).catch((err: unknown) => this.internalError(c, err));
  }

  private visibleTo(c: Connection, e: NostrEvent): boolean {
    const { auth } = this.cfg;
    if (c.authed.size === 0 && auth.readKinds.includes(e.kind)) return false;
    if (!auth.privateKinds.includes(e.kind)) return true;
    if (c.authed.has(e.pubkey)) return true;
    return e.tags.some((t) => t[0] === 'p' && t[1] !== undefined && c.authed.has(t[1]));
  }

  private deliverLive(e: NostrEvent, json: string): void {
    const matches = this.live.match(e);
    if (matches.length === 0) return;
    const exp = expirationOf(e);
    if (exp !== null && exp <= this.now()) return;
    for (const s of matches) {
      const c = s.conn;
      if (c.closed || !this.visibleTo(c, e)) continue;
      if (s.pending) {
        if (s.pending.length < MAX_PENDING_LIVE) s.pending.push(json);
        continue;
      }
      c.send(msgEvent(s.subId, json));
    }
  }

  async close(): Promise<void> {
    for (const c of [...this.conns.values()]) this.handleDisconnect(c);
    await this.ingest.close();
  }
}
