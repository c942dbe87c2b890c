// The built-in wallet: accounts, invoices and escrow in the local ledger (wallet.sqlite), invoices
// signed with the node key it is given. It settles payments between accounts it holds; it cannot
// reach the Lightning network (paying foreign invoices, or being paid from outside, is the LND
// backend's job), and says so with WalletUnsupportedError.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { EXTERNAL, accountKind, assertMsat, assertSpendable, escrowAccount, type AccountId } from './accounts.js';
import { decodeBolt11, encodeBolt11, nodePublicKey, type Bolt11Invoice, type Bolt11Tag, type Network } from './bolt11.js';
import { walletConfigSchema, type WalletConfig } from './config.js';
import * as E from './errors.js';
import { holdEscrow, refundEscrow, releaseEscrow } from './escrow.js';
import { Ledger, type AccountBalance, type Clock } from './ledger.js';
import { InvoiceNotifier } from './notifier.js';
import { Records, invoiceRecord, type InvoiceRow } from './records.js';
import { settleInvoice } from './settle.js';
import type * as W from './wallet.js';

export interface BuiltinWalletOptions {
  /** The database file, e.g. `<dataDir>/wallet.sqlite` (created if missing). */
  readonly path: string;
  /** The node's 32-byte secret key; it signs every invoice. The composition root keeps it encrypted at rest. */
  readonly nodeKey: Uint8Array;
  readonly config?: Partial<WalletConfig>;
  readonly clock?: Clock;
  /** Called when an invoice listener throws or a poll fails (default: console.error). */
  readonly onListenerError?: (err: unknown) => void;
}

export interface FundResult {
  readonly txId: number;
  readonly replayed: boolean;
  readonly balanceMsat: number;
}

/** BOLT #9 bits we set: var_onion_optin and payment_secret, both compulsory. */
const FEATURES = [8, 14];

/** What `BuiltinWallet.openLedger` hands a backend's constructor. */
export interface OpenedLedger {
  readonly ledger: Ledger;
  readonly cfg: WalletConfig;
  readonly onListenerError: (err: unknown) => void;
}

/** An invoice request, checked: what the backends mint from. */
export interface InvoiceRequest {
  readonly account: AccountId;
  readonly description: string;
  /** `d` (the description) or `h` (its sha256, given or because the description is long). */
  readonly descTag: Extract<Bolt11Tag, { tag: 'd' | 'h' }>;
  readonly expirySeconds: number;
}

/**
 * The LND backend (wallet/lnd/wallet.ts) extends this class: it keeps the ledger, escrow and
 * records and replaces the Lightning legs, so what is protected here is its interface.
 */
export class BuiltinWallet implements W.Wallet {
  readonly capabilities: W.WalletCapabilities;
  readonly network: Network;
  /** The key that signs the built-in wallet's invoices (33-byte compressed, hex). */
  readonly nodePubkey: string;
  protected readonly rec: Records;
  protected readonly notifier: InvoiceNotifier;
  readonly ledger: Ledger;
  protected readonly cfg: WalletConfig;

  protected constructor(
    opened: OpenedLedger,
    private readonly nodeKey: Uint8Array,
  ) {
    const { ledger, cfg, onListenerError } = opened;
    this.ledger = ledger;
    this.cfg = cfg;
    this.network = cfg.network;
    this.nodePubkey = nodePublicKey(nodeKey);
    const testFunding = cfg.network === 'regtest' || cfg.network === 'signet' || cfg.allowFunding;
    this.capabilities = Object.freeze({
      invoices: true,
      payExternal: false,
      receiveExternal: false,
      holdInvoices: false,
      bolt12: false,
      lnurl: false,
      keysend: false,
      escrow: true,
      testFunding,
      onChain: false,
    });
    this.rec = new Records(ledger.db);
    this.notifier = new InvoiceNotifier(
      {
        settlementsSince: (id) => this.rec.settlementsSince(id),
        maxTxId: () => this.rec.maxTxId(),
        invoice: (h) => this.view(this.rec.invoice(h)) ?? undefined,
        expireDue: () => this.expireDue(),
        dataVersion: () => this.ledger.db.pragma('data_version', { simple: true }) as number,
      },
      cfg.pollIntervalMs,
      onListenerError,
    );
  }

  /** Opens the wallet database; refuses one created for another network or node key. */
  static open(o: BuiltinWalletOptions): BuiltinWallet {
    return new BuiltinWallet(BuiltinWallet.openLedger(o), Uint8Array.from(o.nodeKey));
  }

  /** Opens and checks the database (network, node key) for a backend's constructor. */
  protected static openLedger(o: BuiltinWalletOptions): OpenedLedger {
    const cfg = walletConfigSchema.parse(o.config ?? {});
    if (!(o.nodeKey instanceof Uint8Array) || !secp256k1.utils.isValidSecretKey(o.nodeKey)) {
      throw new E.WalletConfigError('the node key must be a valid 32-byte secp256k1 secret key');
    }
    const ledger = Ledger.open(o.path, { durability: cfg.durability, clock: o.clock });
    try {
      const pubkey = nodePublicKey(o.nodeKey);
      ledger.atomic(() => {
        const net = ledger.getMeta('network');
        const pk = ledger.getMeta('node_pubkey');
        if (net !== undefined && net !== cfg.network) throw new E.WalletConfigError(`${o.path} holds a ${net} wallet, but the configured network is ${cfg.network}`);
        if (pk !== undefined && pk !== pubkey) throw new E.WalletConfigError(`${o.path} was created with another node key (${pk})`);
        ledger.setMeta('network', cfg.network);
        ledger.setMeta('node_pubkey', pubkey);
      });
    } catch (err) {
      ledger.close();
      throw err;
    }
    const onListenerError = o.onListenerError ?? ((err: unknown) => console.error('wallet:', err));
    return { ledger, cfg, onListenerError };
  }

  async info(): Promise<W.WalletInfo> {
    return { backend: 'builtin', network: this.network, nodePubkey: this.nodePubkey, capabilities: this.capabilities };
  }

  async balance(account: AccountId): Promise<number> {
    return this.ledger.balance(account);
  }

  /** Every account with its balance (they sum to zero: `external` is minus what came in). */
  async accounts(): Promise<AccountBalance[]> {
    return this.ledger.balances();
  }

  async decode(bolt11: string): Promise<Bolt11Invoice> {
    return decodeBolt11(bolt11);
  }

  /** Checks an invoice request (amount, expiry, account or job, description); throws WalletError subclasses. */
  protected invoiceRequest(p: W.CreateInvoiceParams): InvoiceRequest {
    assertMsat(p.amountMsat);
    const description = p.description ?? '';
    if (typeof description !== 'string') throw new E.WalletError('description must be a string');
    const expiry = p.expirySeconds ?? this.cfg.invoiceExpirySeconds;
    if (!Number.isSafeInteger(expiry) || expiry < 1 || expiry > 31_536_000) throw new E.WalletError(`expirySeconds must be 1 to 31536000, got ${expiry}`);
    if ((p.account === undefined) === (p.jobId === undefined)) throw new E.InvalidAccountError('give exactly one of account or jobId');
    const account = p.jobId !== undefined ? escrowAccount(p.jobId) : p.account!;
    const kind = accountKind(account);
    if (p.jobId === undefined && (kind === 'external' || kind === 'escrow')) throw new E.InvalidAccountError(`an invoice cannot credit ${account} (use jobId for escrow)`);
    if (p.refundAccount !== undefined) assertSpendable(p.refundAccount);
    const bytes = new TextEncoder().encode(description);
    let descTag: InvoiceRequest['descTag'] = { tag: 'd', value: description };
    if (p.descriptionHash !== undefined) {
      if (!/^[0-9a-f]{64}$/.test(p.descriptionHash)) throw new E.WalletError('descriptionHash must be 32 bytes of lowercase hex');
      descTag = { tag: 'h', value: p.descriptionHash };
    } else if (bytes.length > 639) {
      descTag = { tag: 'h', value: bytesToHex(sha256(bytes)) };
    }
    return { account, description, descTag, expirySeconds: expiry };
  }

  async createInvoice(p: W.CreateInvoiceParams): Promise<W.InvoiceRecord> {
    const { account, description, descTag, expirySeconds: expiry } = this.invoiceRequest(p);
    const preimage = randomBytes(32);
    const paymentHash = bytesToHex(sha256(preimage));
    const now = this.ledger.clock.now();
    const bolt11 = encodeBolt11(
      {
        network: this.network,
        amountMsat: p.amountMsat,
        timestamp: now,
        tags: [
          { tag: 'p', value: paymentHash },
          { tag: 's', value: bytesToHex(randomBytes(32)) },
          descTag,
          { tag: 'x', value: expiry },
          { tag: 'c', value: this.cfg.minFinalCltvExpiry },
          { tag: '9', value: FEATURES },
        ],
      },
      this.nodeKey,
    );
    this.ledger.atomic(() => {
      if (p.jobId !== undefined && this.rec.escrow(p.jobId)) throw new E.EscrowStateError(`job ${p.jobId} already has an escrow`);
      this.rec.insertInvoice({
        paymentHash,
        preimage: bytesToHex(preimage),
        bolt11,
        amountMsat: p.amountMsat,
        description,
        account,
        jobId: p.jobId ?? null,
        refundAccount: p.refundAccount ?? null,
        kind: 'standard',
        createdAt: now,
        expiresAt: now + expiry,
      });
    });
    return this.view(this.rec.invoice(paymentHash))!;
  }

  async lookupInvoice(paymentHash: string): Promise<W.InvoiceRecord | null> {
    return this.view(this.rec.invoice(paymentHash));
  }

  async paymentProof(paymentHash: string): Promise<{ bolt11: string; preimage: string } | null> {
    const row = this.rec.invoice(paymentHash);
    return row && row.status === 'paid' && row.preimage !== null ? { bolt11: row.bolt11, preimage: row.preimage } : null;
  }

  async cancelInvoice(paymentHash: string): Promise<W.InvoiceRecord> {
    const r = this.ledger.atomic(() => {
      const row = this.rec.invoice(paymentHash);
      if (!row) throw new E.InvoiceNotFoundError(`no invoice ${paymentHash}`);
      if (row.status === 'paid') throw new E.InvoiceAlreadyPaidError(`invoice ${paymentHash} is already paid`);
      this.rec.finish(paymentHash, 'cancelled');
      return this.rec.invoice(paymentHash)!;
    });
    this.notifier.drain();
    return this.view(r)!;
  }

  subscribeInvoice(paymentHash: string, cb: (u: W.InvoiceUpdate) => void): W.Unsubscribe {
    if (!this.rec.invoice(paymentHash)) throw new E.InvoiceNotFoundError(`no invoice ${paymentHash}`);
    return this.notifier.subscribe(paymentHash, cb);
  }

  onInvoicePaid(cb: (u: W.InvoiceUpdate) => void): W.Unsubscribe {
    return this.notifier.onPaid(cb);
  }

  async pay(p: W.PayParams): Promise<W.PaymentResult> {
    assertSpendable(p.fromAccount);
    const inv = decodeBolt11(p.bolt11);
    if (inv.network !== this.network) throw new E.NetworkMismatchError(`the invoice is for ${inv.network}; this wallet is on ${this.network}`);
    if (inv.payee !== this.nodePubkey) {
      throw new E.WalletUnsupportedError('the built-in wallet pays only invoices it issued itself; paying other Lightning nodes needs the LND backend');
    }
    if (!this.rec.invoice(inv.paymentHash)) throw new E.InvoiceNotFoundError(`invoice ${inv.paymentHash} is signed by this node but not in ${this.ledger.db.name}`);
    this.expireDue();
    try {
      return this.ledger.atomic(() => settleInvoice(this.ledger, this.rec, inv.paymentHash, p.fromAccount, p.amountMsat));
    } finally {
      this.notifier.drain();
    }
  }

  /** Test and demo money from `external`: only on regtest/signet, or with `allowFunding`. */
  async fund(account: AccountId, amountMsat: number, note = '', idempotencyKey?: string): Promise<FundResult> {
    if (!this.capabilities.testFunding) {
      throw new E.FundingDisabledError(`funding mints test money: allowed on regtest and signet, not ${this.network} (set wallet.allowFunding to override)`);
    }
    const kind = accountKind(account);
    if (kind === 'external' || kind === 'escrow') throw new E.InvalidAccountError(`cannot fund ${account}`);
    assertMsat(amountMsat);
    const { txId, replayed } = this.ledger.post({
      key: `fund:${idempotencyKey ?? bytesToHex(randomBytes(16))}`,
      kind: 'fund',
      memo: note,
      entries: [
        { account: EXTERNAL, amountMsat: -amountMsat },
        { account, amountMsat },
      ],
    });
    return { txId, replayed, balanceMsat: this.ledger.balance(account) };
  }

  /** Sends `sat` to an on-chain address (capabilities.onChain); the built-in wallet has no chain to send on. */
  async sendToChain(_address: string, _sat: number, _description = ''): Promise<string> {
    throw new E.WalletUnsupportedError('the built-in wallet cannot send on chain; on-chain withdrawals need the LND backend');
  }

  async createHoldInvoice(_p: W.CreateHoldInvoiceParams): Promise<W.InvoiceRecord> {
    throw new E.WalletUnsupportedError('hold invoices need the LND backend');
  }

  async settleHold(_preimage: string): Promise<W.InvoiceRecord> {
    throw new E.WalletUnsupportedError('hold invoices need the LND backend');
  }

  async cancelHold(_paymentHash: string): Promise<W.InvoiceRecord> {
    throw new E.WalletUnsupportedError('hold invoices need the LND backend');
  }

  async hold(p: W.HoldParams): Promise<W.EscrowRecord> {
    try {
      return holdEscrow(this.ledger, this.rec, p);
    } finally {
      this.notifier.drain();
    }
  }

  async release(p: W.ReleaseParams): Promise<W.EscrowRecord> {
    this.refuseHeldByNode(p.jobId);
    return releaseEscrow(this.ledger, this.rec, p);
  }

  async refund(jobId: string, reason = ''): Promise<W.EscrowRecord | null> {
    this.refuseHeldByNode(jobId);
    try {
      return refundEscrow(this.ledger, this.rec, jobId, reason).escrow;
    } finally {
      this.notifier.drain();
    }
  }

  async getEscrow(jobId: string): Promise<W.EscrowRecord | null> {
    return this.rec.escrow(jobId) ?? null;
  }

  /** The newest `limit` escrows (1 to 1000), newest first, whatever their status. */
  async escrows(limit = 100): Promise<W.EscrowRecord[]> {
    return this.rec.recentEscrows(Math.min(1000, Math.max(1, Math.floor(limit) || 1)));
  }

  /** Marks open invoices past their expiry as expired (the poller calls this); returns how many. */
  expireDue(): number {
    const now = this.ledger.clock.now();
    if (this.rec.dueInvoices(now).length === 0) return 0;
    return this.ledger.atomic(() => this.rec.dueInvoices(now).filter((h) => this.rec.finish(h, 'expired')).length);
  }

  async close(): Promise<void> {
    this.notifier.close();
    this.ledger.close();
    this.nodeKey.fill(0);
  }

  /**
   * A job paid by an LND hold invoice has its money in an HTLC on the node: only the LND backend can
   * settle or cancel it, so the ledger alone must not release or refund it (this wallet runs on the
   * same database when LND is down or another backend is configured).
   */
  private refuseHeldByNode(jobId: string): void {
    if (typeof jobId === 'string' && this.rec.acceptedForJob(jobId) !== undefined) {
      throw new E.WalletUnsupportedError(`job ${jobId} was paid with a hold invoice that LND holds; releasing or refunding it needs the LND backend`);
    }
  }

  /** The public record; an open invoice past its expiry reads as expired before the poller marks it. */
  protected view(r: InvoiceRow | undefined): W.InvoiceRecord | null {
    if (!r) return null;
    const rec = invoiceRecord(r);
    return rec.status === 'open' && this.ledger.clock.now() >= rec.expiresAt ? { ...rec, status: 'expired' } : rec;
  }
}
