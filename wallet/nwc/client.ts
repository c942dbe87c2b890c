// Our NWC client: talks NIP-47 to any wallet service (ours or another) given a connection URI.
// Reads the service's info event once to pick the encryption (NIP-44 when listed), then for each
// call subscribes to the answer, publishes the request (with an `expiration` tag at the timeout,
// so a request delivered late is not executed after we gave up) and waits for the response.
import { hexToBytes } from '@noble/hashes/utils.js';
import type { NostrClient } from '../../nostr/client.js';
import {
  buildRequest,
  chooseEncryption,
  NWC_INFO_KIND,
  NWC_LEGACY_NOTIFICATION_KIND,
  NWC_NOTIFICATION_KIND,
  NWC_RESPONSE_KIND,
  parseConnectionUri,
  parseInfo,
  parseNotification,
  parseResponse,
  type BalanceResult,
  type BudgetResult,
  type InfoResult,
  type ListTransactionsResult,
  type Nip47Encryption,
  type Nip47Info,
  type Nip47Notification,
  type Nip47Transaction,
  type NwcConnection,
  type PayResult,
} from '../../nostr/nip47.js';
import { getPublicKey } from '../../nostr/verify.js';
import { WsClient } from '../../nostr/ws-client.js';
import { NwcError, NwcRequestError, NwcTimeoutError } from './errors.js';

export interface NwcClientOptions {
  /** How to reach the relays; default: a WsClient on the URI's relays (closed by close()). */
  readonly client?: NostrClient;
  /** Per request (default 30 s). */
  readonly timeoutMs?: number;
  /** Force a scheme instead of reading the info event. */
  readonly encryption?: Nip47Encryption;
}

type Params = Record<string, unknown>;

export class NwcClient {
  readonly connection: NwcConnection;
  /** The client's pubkey (from the URI's secret). */
  readonly pubkey: string;
  private readonly sk: Uint8Array;
  private readonly nostr: NostrClient;
  private readonly ownsClient: boolean;
  private readonly timeoutMs: number;
  private infoPromise: Promise<Nip47Info | null> | undefined;
  private encryption: Nip47Encryption | undefined;

  constructor(uri: string | NwcConnection, o: NwcClientOptions = {}) {
    this.connection = typeof uri === 'string' ? parseConnectionUri(uri) : uri;
    this.sk = hexToBytes(this.connection.secret);
    this.pubkey = getPublicKey(this.sk);
    this.ownsClient = o.client === undefined;
    this.nostr = o.client ?? new WsClient(this.connection.relays);
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.encryption = o.encryption;
  }

  get walletPubkey(): string {
    return this.connection.walletPubkey;
  }

  /** The service's info event (13194), read once; null when the relays have none. */
  info(): Promise<Nip47Info | null> {
    this.infoPromise ??= this.nostr
      .query([{ kinds: [NWC_INFO_KIND], authors: [this.walletPubkey], limit: 1 }], { timeoutMs: this.timeoutMs })
      .then((evs) => (evs[0] ? parseInfo(evs[0]) : null))
      .catch((err: unknown) => {
        this.infoPromise = undefined; // try again next time
        throw err;
      });
    return this.infoPromise;
  }

  /** Sends one request and resolves with its result; an error response throws NwcRequestError with its code. */
  async request<R = Params>(method: string, params: Params = {}, o: { timeoutMs?: number } = {}): Promise<R> {
    const encryption = await this.scheme();
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    const event = buildRequest(
      { walletPubkey: this.walletPubkey, request: { method, params }, encryption, expiration: Math.ceil((Date.now() + timeoutMs) / 1000) },
      this.sk,
    );
    return new Promise<R>((resolve, reject) => {
      let done = false;
      const finish = (f: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sub.close();
        f();
      };
      const timer = setTimeout(() => finish(() => reject(new NwcTimeoutError(`no answer to ${method} within ${timeoutMs} ms`))), timeoutMs);
      const sub = this.nostr.subscribe([{ kinds: [NWC_RESPONSE_KIND], authors: [this.walletPubkey], '#e': [event.id] }], {
        onEvent: (e) => {
          let r;
          try {
            r = parseResponse(e, this.sk, this.walletPubkey);
          } catch {
            return; // not readable with our key: not our answer
          }
          if (r.error) {
            const err = r.error;
            finish(() => reject(new NwcRequestError(err.code, err.message)));
          } else if (r.result_type !== method) {
            finish(() => reject(new NwcError(`the answer to ${method} has result_type ${r.result_type}`)));
          } else {
            finish(() => resolve(r.result as R));
          }
        },
        // Publish once the relays have the subscription, so the answer cannot slip past it.
        onEose: () => {
          if (done) return;
          void this.nostr.publish(event).then((p) => {
            if (!p.ok) finish(() => reject(new NwcError(`the request was not accepted: ${p.relays.map((a) => `${a.relay} ${a.message}`).join('; ')}`)));
          });
        },
      });
    });
  }

  payInvoice(p: { invoice: string; amount?: number; metadata?: Params }): Promise<PayResult> {
    return this.request('pay_invoice', p);
  }

  makeInvoice(p: { amount: number; description?: string; description_hash?: string; expiry?: number; metadata?: Params }): Promise<Nip47Transaction> {
    return this.request('make_invoice', p);
  }

  lookupInvoice(p: { payment_hash?: string; invoice?: string }): Promise<Nip47Transaction> {
    return this.request('lookup_invoice', p);
  }

  listTransactions(p: { from?: number; until?: number; limit?: number; offset?: number; unpaid?: boolean; type?: 'incoming' | 'outgoing' } = {}): Promise<ListTransactionsResult> {
    return this.request('list_transactions', p);
  }

  getBalance(): Promise<BalanceResult> {
    return this.request('get_balance');
  }

  getInfo(): Promise<InfoResult> {
    return this.request('get_info');
  }

  /** Not in the 47.md we follow (see nostr/nip47.ts); services that lack it answer NOT_IMPLEMENTED. */
  getBudget(): Promise<BudgetResult> {
    return this.request('get_budget');
  }

  async makeHoldInvoice(p: { amount: number; payment_hash: string; description?: string; description_hash?: string; expiry?: number; min_cltv_expiry_delta?: number }): Promise<Nip47Transaction> {
    await this.needs('make_hold_invoice');
    return this.request('make_hold_invoice', p);
  }

  async settleHoldInvoice(p: { preimage: string }): Promise<Record<string, never>> {
    await this.needs('settle_hold_invoice');
    return this.request('settle_hold_invoice', p);
  }

  async cancelHoldInvoice(p: { payment_hash: string }): Promise<Record<string, never>> {
    await this.needs('cancel_hold_invoice');
    return this.request('cancel_hold_invoice', p);
  }

  /** Calls `cb` for each notification the service sends this client (in the scheme we use). */
  async subscribeNotifications(cb: (n: Nip47Notification) => void): Promise<() => void> {
    const kind = (await this.scheme()) === 'nip04' ? NWC_LEGACY_NOTIFICATION_KIND : NWC_NOTIFICATION_KIND;
    const sub = this.nostr.subscribe([{ kinds: [kind], authors: [this.walletPubkey], '#p': [this.pubkey], since: Math.floor(Date.now() / 1000) }], {
      onEvent: (e) => {
        try {
          cb(parseNotification(e, this.sk, this.walletPubkey));
        } catch {
          // unreadable or malformed: skip
        }
      },
    });
    return () => sub.close();
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.nostr.close();
    this.sk.fill(0);
  }

  private async scheme(): Promise<Nip47Encryption> {
    if (this.encryption) return this.encryption;
    const info = await this.info();
    // No info event: assume a current service (NIP-44, which 47.md requires of everyone).
    const s = info ? chooseEncryption(info) : 'nip44_v2';
    if (!s) throw new NwcRequestError('UNSUPPORTED_ENCRYPTION', `the wallet service speaks only ${info?.encryptions.join(', ')}`);
    this.encryption = s;
    return s;
  }

  private async needs(method: string): Promise<void> {
    const info = await this.info();
    if (info && !info.capabilities.includes(method)) throw new NwcRequestError('NOT_IMPLEMENTED', `the wallet service does not list ${method}`);
  }
}
