// Timmy's wallet served over Nostr Wallet Connect (NIP-47). One service key (its pubkey is the
// `<wallet pubkey>` of every connection URI); each connection has its own client key, account,
// budget and allowed methods (wallet/nwc/store.ts). The service listens for requests (23194)
// p-tagged to its key, from anyone: a key without a connection is answered UNAUTHORIZED. It
// answers with encrypted responses (23195) in the request's scheme, publishes its info event
// (13194) on start, and announces payments to and from a connection's account (23197, and 23196
// for NIP-04 clients). A hostile or broken event is ignored or answered; it never throws.
import type { NostrClient, Subscription } from '../../nostr/client.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import {
  buildInfo,
  buildNotification,
  buildResponse,
  errorResponse,
  NWC_REQUEST_KIND,
  okResponse,
  parseRequest,
  type Nip47Encryption,
  type Nip47ErrorCode,
  type Nip47Response,
} from '../../nostr/nip47.js';
import { getPublicKey } from '../../nostr/verify.js';
import type { InvoiceUpdate, Unsubscribe, Wallet } from '../wallet.js';
import { NwcRequestError } from './errors.js';
import { runMethod, supportedMethods, toNip47Transaction, toRequestError, type ListInvoices } from './methods.js';
import type { NwcConnectionRecord, NwcStore } from './store.js';

/** `debug`: ignored requests (anyone can send them; keep them out of normal logs). */
export type NwcLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;

export interface NwcServiceOptions {
  readonly client: NostrClient;
  readonly wallet: Wallet;
  readonly store: NwcStore;
  /** The service's secret key (the keystore's `nwc-service`). Copied. */
  readonly serviceKey: Uint8Array;
  /** Enables list_transactions. */
  readonly listInvoices?: ListInvoices;
  /** get_info's alias (default "Timmy") and color. */
  readonly alias?: string;
  readonly color?: string;
  /** Unix seconds (default: the system clock). */
  readonly now?: () => number;
  readonly log?: NwcLog;
  /** Requests being executed at once beyond this are answered RATE_LIMITED (default 32). */
  readonly maxInFlight?: number;
  /** stop() closes the store too (startNwcService opens it). */
  readonly ownsStore?: boolean;
}

/** Encryption schemes the service speaks, preferred first. */
export const SERVICE_ENCRYPTIONS: readonly Nip47Encryption[] = ['nip44_v2', 'nip04'];
export const SERVICE_NOTIFICATIONS = ['payment_received', 'payment_sent'] as const;

export class NwcService {
  readonly pubkey: string;
  /** Everything the service can do on this wallet, plus `notifications`. */
  readonly capabilities: readonly string[];
  private readonly sk: Uint8Array;
  private readonly now: () => number;
  private readonly log: NwcLog;
  private readonly inFlight = new Set<Promise<void>>();
  private executing = 0;
  private sub: Subscription | undefined;
  private unsubPaid: Unsubscribe | undefined;
  private stopped = false;

  constructor(private readonly o: NwcServiceOptions) {
    this.sk = Uint8Array.from(o.serviceKey);
    this.pubkey = getPublicKey(this.sk);
    this.capabilities = [...supportedMethods(o.wallet, o.listInvoices !== undefined), 'notifications'];
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
    this.log = o.log ?? ((level, msg) => (level === 'warn' || level === 'error' ? console.error(`nwc: ${msg}`) : undefined));
  }

  /** Publishes the info event, then listens for requests and for paid invoices. */
  async start(): Promise<void> {
    const info = buildInfo({ capabilities: this.capabilities, encryptions: SERVICE_ENCRYPTIONS, notifications: [...SERVICE_NOTIFICATIONS] }, this.sk);
    const r = await this.o.client.publish(info);
    if (!r.ok) this.log('warn', `info event not accepted: ${r.relays.map((a) => `${a.relay} ${a.message}`).join('; ')}`);
    this.sub = this.o.client.subscribe([{ kinds: [NWC_REQUEST_KIND], '#p': [this.pubkey], since: this.now() }], {
      onEvent: (e) => this.track(this.handle(e)),
      onClosed: (reason, relay) => this.log('warn', `relay ${relay} closed the request subscription: ${reason}`),
    });
    this.unsubPaid = this.o.wallet.onInvoicePaid((u) => this.track(this.notify(u)));
    this.log('info', `NWC wallet service ${this.pubkey} listening`);
  }

  /** Stops listening and waits for the requests being answered. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.sub?.close();
    this.unsubPaid?.();
    await Promise.allSettled([...this.inFlight]);
    if (this.o.ownsStore) this.o.store.close();
    this.sk.fill(0);
  }

  /** The methods (and `notifications`) a connection may use: its own list within what the service supports. */
  allowed(c: NwcConnectionRecord): string[] {
    return c.methods === null ? [...this.capabilities] : this.capabilities.filter((m) => c.methods!.includes(m));
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async handle(e: NostrEvent): Promise<void> {
    try {
      if (this.stopped) return;
      const p = parseRequest(e, this.sk, this.now());
      if (p.status === 'ignore') {
        this.log('debug', `ignored request ${e.id.slice(0, 12)} from ${e.pubkey.slice(0, 12)}: ${p.reason}`);
        return;
      }
      const method = p.status === 'ok' ? p.request.method : p.method;
      const answer = (r: Nip47Response<unknown>) => this.respond(e, p.encryption, r);
      const conn = this.o.store.byPubkey(p.client);
      if (!conn) return await answer(errorResponse(method, 'UNAUTHORIZED', 'no wallet is connected to this key'));
      if (p.status === 'error') return await answer(errorResponse(method, p.code, p.message));
      // last_used_at to the minute: not a synchronous write for every request.
      if (conn.lastUsedAt === null || this.now() - conn.lastUsedAt >= 60) this.o.store.touch(conn.name, this.now());
      const allowed = this.allowed(conn);
      if (!this.capabilities.includes(method) || method === 'notifications') return await answer(errorResponse(method, 'NOT_IMPLEMENTED', `${method} is not implemented`));
      if (!allowed.includes(method)) return await answer(errorResponse(method, 'RESTRICTED', `this connection may not use ${method}`));
      if (this.executing >= (this.o.maxInFlight ?? 32)) return await answer(errorResponse(method, 'RATE_LIMITED', 'too many requests at once; retry in a few seconds'));
      this.executing++;
      let response: Nip47Response<unknown>;
      try {
        const ctx = {
          wallet: this.o.wallet,
          store: this.o.store,
          conn,
          now: this.now(),
          alias: this.o.alias ?? 'Timmy',
          color: this.o.color ?? '#f7931a',
          methods: allowed,
          listInvoices: this.o.listInvoices,
        };
        response = okResponse(method, await runMethod(ctx, p.request));
      } catch (err) {
        const known = toRequestError(err, method);
        if (!known) this.log('error', `${method} for connection ${conn.name} failed: ${(err as Error)?.stack ?? String(err)}`);
        response = errorResponse(method, (known?.code ?? 'INTERNAL') as Nip47ErrorCode, known?.message ?? 'internal error');
      } finally {
        this.executing--;
      }
      await answer(response);
    } catch (err) {
      this.log('error', `request ${e.id.slice(0, 12)}: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  private async respond(req: NostrEvent, encryption: Nip47Encryption, response: Nip47Response<unknown>): Promise<void> {
    const ev = buildResponse({ requestId: req.id, client: req.pubkey, encryption, response, createdAt: this.now() }, this.sk);
    const r = await this.o.client.publish(ev);
    if (!r.ok) this.log('warn', `response to ${req.id.slice(0, 12)} not accepted: ${r.relays.map((a) => a.message).join('; ')}`);
  }

  /** payment_received to the connections of the invoice's account, payment_sent to those of the payer's. */
  private async notify(u: InvoiceUpdate): Promise<void> {
    try {
      if (this.stopped || u.status !== 'paid') return;
      const inv = u.invoice;
      const targets: [NwcConnectionRecord[], 'payment_received' | 'payment_sent', 'incoming' | 'outgoing'][] = [
        [this.o.store.byAccount(inv.account), 'payment_received', 'incoming'],
        [inv.paidBy ? this.o.store.byAccount(inv.paidBy) : [], 'payment_sent', 'outgoing'],
      ];
      if (targets.every(([conns]) => conns.length === 0)) return;
      const preimage = (await this.o.wallet.paymentProof(inv.paymentHash))?.preimage;
      const metadata = this.o.store.metadata(inv.paymentHash);
      for (const [conns, type, direction] of targets) {
        const notification = { notification_type: type, notification: toNip47Transaction(inv, direction, { preimage, metadata }) };
        for (const c of conns) {
          if (!this.allowed(c).includes('notifications')) continue;
          // 47.md: a service that speaks both schemes sends each notification twice, 23197 (NIP-44) and 23196 (NIP-04).
          for (const encryption of SERVICE_ENCRYPTIONS) {
            const r = await this.o.client.publish(buildNotification({ client: c.pubkey, encryption, notification, createdAt: this.now() }, this.sk));
            if (!r.ok) this.log('warn', `${type} notification for ${c.name} not accepted: ${r.relays.map((a) => a.message).join('; ')}`);
          }
        }
      }
    } catch (err) {
      this.log('error', `notification for ${u.paymentHash.slice(0, 12)}: ${(err as Error)?.message ?? String(err)}`);
    }
  }
}

export { NwcRequestError };
