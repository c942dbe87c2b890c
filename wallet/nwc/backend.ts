// A remote NWC (NIP-47) wallet as the instance's wallet backend (wallet.backend nwc). Accounts,
// escrow and the records stay in the local ledger (this class extends BuiltinWallet, like the LND
// backend); money in and out goes through the remote wallet:
//   createInvoice  -> make_invoice (the remote keeps the preimage); followed with lookup_invoice
//                     (backoff from wallet.pollIntervalMs up to a minute) and payment_received
//                     notifications; settled -> external -> the invoice's account (`invoice:<hash>`)
//   createInvoice(jobId) -> the same; paid -> external -> escrow:<job>. Job escrow is held in the
//                     ledger (make_hold_invoice is not used), released and refunded there.
//   pay            -> debit (amount + fee reserve) first, pay_invoice, then the unused reserve back,
//                     or everything back when the remote refuses. One payment per hash, ever
//                     (wallet/nwc/backend-payments.ts).
//                     An invoice of this wallet is paid inside the ledger (no remote call).
// The connection URI holds a spending secret: it is never logged nor put in an error.
import type { Nip47Transaction } from '../../nostr/nip47.js';
import { EXTERNAL, assertMsat, assertSpendable } from '../accounts.js';
import { decodeBolt11, type Bolt11Invoice } from '../bolt11.js';
import { BuiltinWallet, type BuiltinWalletOptions, type OpenedLedger } from '../builtin.js';
import { walletConfigSchema, type WalletConfig } from '../config.js';
import * as E from '../errors.js';
import { recordEscrow } from '../escrow.js';
import type { WalletLog } from '../lnd/invoices.js';
import type * as W from '../wallet.js';
import { NwcPayments, validPreimage } from './backend-payments.js';
import { NwcBackendStore } from './backend-store.js';
import { NwcClient } from './client.js';
import { NwcRequestError } from './errors.js';

export interface NwcWalletOptions extends BuiltinWalletOptions {
  /** nostr+walletconnect://… (a secret). */
  readonly uri: string;
  /** How long the start waits for get_info; default wallet.nwcBackend.probeTimeoutMs. */
  readonly probeTimeoutMs?: number;
  readonly log?: WalletLog;
}

/** The remote wallet did not answer, or refused us, at start: the caller may fall back to the built-in wallet. */
export class NwcUnavailableError extends E.WalletError {
  override name = 'NwcUnavailableError';
  constructor(
    message: string,
    /** It answered with an error (e.g. UNAUTHORIZED: the connection was removed), rather than not at all. */
    readonly refused = false,
  ) {
    super(message);
  }
}

const MAX_POLL_MS = 60_000;
/** A payment can still arrive this long after an invoice's expiry (clock skew, a late settle). */
const EXPIRY_GRACE_S = 60;


function withTimeout<T>(p: Promise<T>, ms: number, err: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(err()), ms)))]).finally(() => clearTimeout(timer));
}

/** What the remote wallet is: the part of get_info we use (never the URI). */
export interface RemoteWallet {
  readonly walletPubkey: string;
  readonly nodePubkey: string;
  readonly alias: string;
  readonly methods: readonly string[];
  readonly notifications: readonly string[];
}


export class NwcWallet extends BuiltinWallet {
  override readonly capabilities: W.WalletCapabilities;
  readonly remote: RemoteWallet;
  private readonly client: NwcClient;
  private readonly store: NwcBackendStore;
  private readonly log: WalletLog;
  private readonly payments: NwcPayments;
  private timer: NodeJS.Timeout | null = null;
  private tickPromise: Promise<void> | null = null;
  private stopNotifications: (() => void) | null = null;
  private closed = false;

  private constructor(opened: OpenedLedger, nodeKey: Uint8Array, client: NwcClient, remote: RemoteWallet, log: WalletLog) {
    super(opened, nodeKey);
    this.client = client;
    this.remote = remote;
    this.log = log;
    const m = new Set(remote.methods);
    const cfg = this.cfg;
    this.capabilities = Object.freeze({
      invoices: true,
      payExternal: m.has('pay_invoice'),
      receiveExternal: m.has('make_invoice') && m.has('lookup_invoice'),
      holdInvoices: false,
      bolt12: false,
      lnurl: false,
      keysend: false,
      escrow: true,
      testFunding: cfg.network === 'regtest' || cfg.network === 'signet' || cfg.allowFunding,
      onChain: false,
    });
    this.store = new NwcBackendStore(this.ledger.db);
    this.payments = new NwcPayments(this.ledger, this.store, client, cfg.nwcBackend, log);
  }

  /**
   * Asks the remote wallet for get_info (within probeTimeoutMs), checks its network and opens the
   * ledger. Throws NwcUnavailableError when it does not answer or refuses us, WalletConfigError for
   * a bad URI or another network.
   */
  static async connect(o: NwcWalletOptions): Promise<NwcWallet> {
    const cfg: WalletConfig = walletConfigSchema.parse(o.config ?? {});
    const log: WalletLog = o.log ?? ((level, m) => (level === 'error' ? console.error : console.warn)(`wallet: ${m}`));
    let client: NwcClient;
    try {
      client = new NwcClient(o.uri, { timeoutMs: cfg.nwcBackend.timeoutMs });
    } catch (err) {
      throw new E.WalletConfigError(`wallet.nwcBackend.uri: ${(err as Error).message}`);
    }
    const where = `the NWC wallet ${client.walletPubkey.slice(0, 16)} on ${client.connection.relays.join(', ')}`;
    let opened: OpenedLedger | undefined;
    try {
      const ms = o.probeTimeoutMs ?? cfg.nwcBackend.probeTimeoutMs;
      const info = await withTimeout(client.getInfo(), ms, () => new NwcUnavailableError(`${where} did not answer get_info within ${ms} ms`)).catch((err: unknown) => {
        if (err instanceof NwcUnavailableError) throw err;
        if (err instanceof NwcRequestError) throw new NwcUnavailableError(`${where} refused get_info (${err.code}: ${err.message})`, true);
        throw new NwcUnavailableError(`${where} did not answer get_info (${(err as Error).message})`);
      });
      if (info.network && info.network !== cfg.network) throw new E.WalletConfigError(`${where} is on ${info.network}, but wallet.network is ${cfg.network}`);
      const remote: RemoteWallet = {
        walletPubkey: client.walletPubkey,
        nodePubkey: typeof info.pubkey === 'string' ? info.pubkey : '',
        alias: typeof info.alias === 'string' ? info.alias : '',
        methods: Array.isArray(info.methods) ? info.methods : [],
        notifications: Array.isArray(info.notifications) ? info.notifications : [],
      };
      opened = BuiltinWallet.openLedger(o);
      const w = new NwcWallet(opened, Uint8Array.from(o.nodeKey), client, remote, log);
      await w.start();
      return w;
    } catch (err) {
      opened?.ledger.close();
      await client.close();
      throw err;
    }
  }

  override async info(): Promise<W.WalletInfo> {
    return { backend: 'nwc', network: this.network, nodePubkey: this.remote.nodePubkey || this.nodePubkey, capabilities: this.capabilities };
  }

  /** What the remote wallet holds for this connection (get_balance), msat. */
  async remoteBalance(): Promise<number> {
    return (await this.client.getBalance()).balance;
  }

  override async createInvoice(p: W.CreateInvoiceParams): Promise<W.InvoiceRecord> {
    if (!this.capabilities.receiveExternal) return super.createInvoice(p);
    const req = this.invoiceRequest(p);
    if (p.jobId !== undefined && this.rec.escrow(p.jobId)) throw new E.EscrowStateError(`job ${p.jobId} already has an escrow`);
    const tx = await this.client.makeInvoice({
      amount: p.amountMsat,
      ...(req.descTag.tag === 'd' ? { description: req.description } : { description_hash: req.descTag.value }),
      expiry: req.expirySeconds,
    });
    const d = decodeBolt11(tx.invoice ?? '');
    if (d.paymentHash !== tx.payment_hash || d.amountMsat !== p.amountMsat || d.network !== this.network) {
      throw new E.WalletError('the NWC wallet returned an invoice that does not match the request (hash, amount or network)');
    }
    const hash = d.paymentHash;
    this.ledger.atomic(() => {
      if (p.jobId !== undefined && this.rec.escrow(p.jobId)) throw new E.EscrowStateError(`job ${p.jobId} already has an escrow`);
      this.rec.insertInvoice({
        paymentHash: hash,
        preimage: null,
        bolt11: d.paymentRequest,
        amountMsat: p.amountMsat,
        description: req.description,
        account: req.account,
        jobId: p.jobId ?? null,
        refundAccount: p.refundAccount ?? null,
        kind: 'standard',
        createdAt: d.timestamp,
        expiresAt: d.expiresAt,
      });
      this.store.insertInvoice(hash, Date.now() + this.cfg.pollIntervalMs);
    });
    return this.view(this.rec.invoice(hash))!;
  }

  override async pay(p: W.PayParams): Promise<W.PaymentResult> {
    assertSpendable(p.fromAccount);
    const inv = decodeBolt11(p.bolt11);
    if (inv.network !== this.network) throw new E.NetworkMismatchError(`the invoice is for ${inv.network}; this wallet is on ${this.network}`);
    if (inv.payee === this.nodePubkey) return super.pay(p); // issued by the built-in wallet on this database
    if (this.store.invoice(inv.paymentHash) && this.rec.invoice(inv.paymentHash)) return this.payOwn(inv, p);
    if (!this.capabilities.payExternal) throw new E.WalletUnsupportedError('the NWC wallet does not offer pay_invoice to this connection');
    if (inv.amountMsat !== null && p.amountMsat !== undefined && p.amountMsat !== inv.amountMsat) {
      throw new E.InvalidAmountError(`the invoice is for ${inv.amountMsat} msat, not ${p.amountMsat}`);
    }
    const amount = inv.amountMsat ?? p.amountMsat;
    assertMsat(amount, 'amountMsat (the invoice has no amount)');
    if (this.store.payment(inv.paymentHash)?.status !== 'succeeded' && this.ledger.clock.now() >= inv.expiresAt) {
      throw new E.InvoiceExpiredError(`invoice ${inv.paymentHash} expired at ${new Date(inv.expiresAt * 1000).toISOString()}`);
    }
    return this.payments.pay(inv, p.fromAccount, amount, p.maxFeeMsat);
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.stopNotifications?.();
    // A lookup waiting on a slow remote is not waited for long: the poll checks `closed` after each answer.
    if (this.tickPromise) await Promise.race([this.tickPromise, new Promise((r) => setTimeout(r, 1000).unref())]);
    await this.client.close();
    await super.close();
  }

  private async start(): Promise<void> {
    if (this.remote.notifications.includes('payment_received')) {
      try {
        this.stopNotifications = await this.client.subscribeNotifications((n) => {
          if (n.notification_type === 'payment_received' && !this.closed) this.applyRemote(n.notification.payment_hash, n.notification);
        });
      } catch (err) {
        this.log('warn', `NWC notifications not available (${(err as Error).message}); invoices are polled only`);
      }
    }
    const tick = () => {
      if (this.tickPromise || this.closed) return;
      this.tickPromise = this.poll()
        .catch((err: unknown) => this.log('warn', `following the NWC wallet: ${(err as Error).message}`))
        .finally(() => (this.tickPromise = null));
    };
    tick();
    this.timer = setInterval(tick, Math.max(100, Math.min(this.cfg.pollIntervalMs, 1000)));
    this.timer.unref();
  }

  /** Looks up the invoices that are due (backoff per invoice), and the payments whose outcome is unknown. */
  private async poll(): Promise<void> {
    for (const l of this.store.dueInvoices(Date.now())) {
      if (this.closed) return;
      const row = this.rec.invoice(l.paymentHash);
      if (!row) continue;
      let tx: Nip47Transaction | undefined;
      try {
        tx = await this.client.lookupInvoice({ payment_hash: l.paymentHash });
      } catch (err) {
        if (!(err instanceof NwcRequestError)) this.log('warn', `lookup_invoice ${l.paymentHash.slice(0, 16)}: ${(err as Error).message}`);
      }
      if (this.closed) return;
      if (tx) this.applyRemote(l.paymentHash, tx);
      if (this.store.invoice(l.paymentHash)?.state !== 'open') continue;
      if (this.ledger.clock.now() > row.expiresAt + EXPIRY_GRACE_S) this.ledger.atomic(() => this.store.done(l.paymentHash));
      else this.store.reschedule(l.paymentHash, Date.now() + Math.min(MAX_POLL_MS, this.cfg.pollIntervalMs * 2 ** Math.min(l.checks, 16)));
    }
    await this.payments.reconcile(() => this.closed);
  }

  /** The remote's word on one of our invoices (lookup or notification): credits a settled one once. */
  private applyRemote(hash: string, tx: Nip47Transaction): void {
    if (tx.state !== 'settled' && tx.state !== 'expired' && tx.state !== 'failed') return;
    this.ledger.atomic(() => {
      const row = this.rec.invoice(hash);
      const l = this.store.invoice(hash);
      if (!row || l?.state !== 'open') return;
      this.store.done(hash);
      const now = this.ledger.clock.now();
      if (tx.state !== 'settled') {
        this.rec.finish(hash, now >= row.expiresAt ? 'expired' : 'cancelled');
        return;
      }
      if (validPreimage(tx.preimage, hash)) this.store.setPreimage(hash, tx.preimage);
      const received = Math.max(typeof tx.amount === 'number' && Number.isSafeInteger(tx.amount) ? tx.amount : 0, row.amountMsat);
      if (row.status === 'paid') {
        this.log('error', `invoice ${hash} was paid from ${row.paidBy} and also to the NWC wallet (${received} msat); that payment is not in the ledger`);
        return;
      }
      if (row.jobId !== null && (row.status !== 'open' || this.rec.escrow(row.jobId))) {
        this.log('error', `job ${row.jobId}'s invoice ${hash} was paid to the NWC wallet after the job was paid or closed; ${received} msat are not in the ledger`);
        return;
      }
      const { txId } = this.ledger.post({
        key: `invoice:${hash}`,
        kind: 'payment',
        memo: row.description.slice(0, 200),
        entries: [
          { account: EXTERNAL, amountMsat: -received },
          { account: row.account, amountMsat: received },
        ],
      });
      this.rec.markPaid(hash, now, EXTERNAL, txId);
      if (row.jobId !== null) {
        recordEscrow(this.ledger, this.rec, row.jobId, row.refundAccount ?? EXTERNAL, received, txId);
        for (const h of this.rec.openInvoicesForJob(row.jobId)) this.rec.finish(h, 'cancelled');
      }
      if (row.status !== 'open') this.log('warn', `invoice ${hash} was ${row.status} here but the NWC wallet was paid: ${received} msat credited to ${row.account}`);
    });
    this.notifier.drain();
  }

  /**
   * An invoice this wallet had the remote mint, paid from one of our accounts: moved inside the
   * ledger. The remote keeps the preimage, so the result carries none ('').
   */
  private async payOwn(inv: Bolt11Invoice, p: W.PayParams): Promise<W.PaymentResult> {
    this.expireDue();
    try {
      return this.ledger.atomic(() => {
        const r = this.rec.invoice(inv.paymentHash)!;
        const result = (settledAt: number, replayed: boolean): W.PaymentResult => ({
          paymentHash: r.paymentHash,
          preimage: r.preimage ?? '',
          amountMsat: r.amountMsat,
          feeMsat: 0,
          fromAccount: p.fromAccount,
          settledAt,
          replayed,
        });
        if (p.amountMsat !== undefined && p.amountMsat !== r.amountMsat) throw new E.InvalidAmountError(`the invoice is for ${r.amountMsat} msat, not ${p.amountMsat}`);
        if (r.status === 'paid') {
          if (r.paidBy === p.fromAccount) return result(r.settledAt!, true);
          throw new E.InvoiceAlreadyPaidError(`invoice ${r.paymentHash} is already paid`);
        }
        if (r.status === 'cancelled') throw new E.InvoiceCancelledError(`invoice ${r.paymentHash} was cancelled`);
        const now = this.ledger.clock.now();
        if (r.status !== 'open' || now >= r.expiresAt) throw new E.InvoiceExpiredError(`invoice ${r.paymentHash} expired`);
        if (p.fromAccount === r.account) throw new E.InvalidAccountError(`${p.fromAccount} cannot pay its own invoice`);
        if (r.jobId !== null && this.rec.escrow(r.jobId)) throw new E.EscrowStateError(`job ${r.jobId} already has an escrow`);
        const { txId } = this.ledger.post({
          key: `invoice:${r.paymentHash}`,
          kind: 'payment',
          memo: r.description.slice(0, 200),
          entries: [
            { account: p.fromAccount, amountMsat: -r.amountMsat },
            { account: r.account, amountMsat: r.amountMsat },
          ],
        });
        this.rec.markPaid(r.paymentHash, now, p.fromAccount, txId);
        if (r.jobId !== null) {
          recordEscrow(this.ledger, this.rec, r.jobId, r.refundAccount ?? p.fromAccount, r.amountMsat, txId);
          for (const h of this.rec.openInvoicesForJob(r.jobId)) this.rec.finish(h, 'cancelled');
        }
        // Still open on the remote: a later payment there is reported (applyRemote), not credited twice.
        return result(now, false);
      });
    } finally {
      this.notifier.drain();
    }
  }
}
