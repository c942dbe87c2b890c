// The LND backend. Accounts, escrow and the records stay in the local ledger (wallet.sqlite, the
// built-in wallet's schema and code: this class extends BuiltinWallet); money in and out goes
// through LND:
//   createInvoice        -> AddInvoice (our preimage); settled on LND -> external -> account
//   createInvoice(jobId) -> AddHoldInvoice (our preimage): the job's escrow is the HTLC LND holds;
//                           accepted -> external -> escrow:<job>; release settles it on LND, then
//                           pays the agent in the ledger; refund cancels it (the HTLC goes back)
//   pay                  -> SendPaymentV2 from an account (wallet/lnd/payments.ts); an invoice of
//                           our own is paid inside the ledger and cancelled on LND
//   createHoldInvoice / settleHold / cancelHold -> the hold-invoice RPCs (someone else's preimage)
// LND's view of each invoice is followed and written down by wallet/lnd/invoices.ts.
// A held job escrow must end before the HTLC expires (wallet.minFinalCltvExpiry blocks after the
// payment, minus LND's safety margin); jobs that may run longer are paid from a ledger balance.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { assertMsat, assertSpendable } from '../accounts.js';
import { decodeBolt11, type Bolt11Invoice } from '../bolt11.js';
import { BuiltinWallet, type BuiltinWalletOptions, type OpenedLedger } from '../builtin.js';
import { walletConfigSchema, type WalletConfig } from '../config.js';
import * as E from '../errors.js';
import { releaseEscrow } from '../escrow.js';
import type { InvoiceRow } from '../records.js';
import { settleInvoice } from '../settle.js';
import type * as W from '../wallet.js';
import { LndClient, type LndCredentials } from './client.js';
import { HeldEscrows, dryRun } from './held.js';
import { InvoiceSync, InvoiceWatcher, type WalletLog } from './invoices.js';
import { Payments } from './payments.js';
import { LndStore } from './store.js';

export interface LndWalletOptions extends BuiltinWalletOptions {
  readonly lnd: LndCredentials;
  /** How long the first call (getWalletInfo) may take; default wallet.lnd.timeoutMs. */
  readonly probeTimeoutMs?: number;
  /** Warnings and errors of the background work (default: console). Never given the macaroon. */
  readonly log?: WalletLog;
}

/** The chain ids the `lightning` library reports (getWalletInfo's `chains`, genesis hashes in its byte order) for each network. */
const CHAINS: Record<W.Network, readonly string[]> = {
  mainnet: ['6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000'],
  testnet: ['43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000', '43f08bdab050e35b567c864b91f47f50ae725ae2de53bcfbbaf284da00000000'],
  signet: ['f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000'],
  regtest: ['06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f'],
};

/** LND cancels a held HTLC some blocks before it expires; we count on no more than this many. */
export const HOLD_SAFETY_BLOCKS = 20;

export class LndWallet extends BuiltinWallet {
  override readonly capabilities: W.WalletCapabilities;
  /** LND's identity key: it signs this wallet's invoices. */
  readonly lndPubkey: string;
  readonly client: LndClient;
  private readonly store: LndStore;
  private readonly sync: InvoiceSync;
  private readonly watcher: InvoiceWatcher;
  private readonly payments: Payments;
  private readonly held: HeldEscrows;
  private readonly log: WalletLog;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  private constructor(opened: OpenedLedger, nodeKey: Uint8Array, client: LndClient, lndPubkey: string, log: WalletLog) {
    super(opened, nodeKey);
    this.client = client;
    this.lndPubkey = lndPubkey;
    this.log = log;
    this.capabilities = Object.freeze({ ...this.testFundingOnly(), invoices: true, payExternal: true, receiveExternal: true, holdInvoices: true, escrow: true, onChain: true });
    this.store = new LndStore(this.ledger.db);
    const sync = (this.sync = new InvoiceSync(this.ledger, this.rec, this.store, log));
    this.watcher = new InvoiceWatcher(client, this.store, sync, () => this.notifier.drain(), log);
    this.payments = new Payments(this.ledger, this.store, client, this.cfg.lnd, log);
    this.held = new HeldEscrows({
      ledger: this.ledger,
      rec: this.rec,
      store: this.store,
      client,
      watcher: this.watcher,
      drained: () => this.notifier.drain(),
      settleRetryMs: Math.min(30_000, 3 * this.cfg.lnd.timeoutMs),
    });
  }

  /**
   * Connects to LND (one getWalletInfo, within wallet.lnd.timeoutMs), checks its network and
   * opens the ledger. Throws LndUnavailableError, LndAuthError or LndPermissionError when LND is
   * down, locked or refuses the macaroon.
   */
  static async connect(o: LndWalletOptions): Promise<LndWallet> {
    const cfg: WalletConfig = walletConfigSchema.parse(o.config ?? {});
    const log: WalletLog = o.log ?? ((level, m) => (level === 'error' ? console.error : console.warn)(`wallet: ${m}`));
    const client = new LndClient(o.lnd, cfg.lnd.timeoutMs);
    let opened: OpenedLedger | undefined;
    try {
      const info = await client.info(o.probeTimeoutMs);
      if (info.chains.length > 0 && !info.chains.some((c) => CHAINS[cfg.network].includes(c))) {
        throw new E.WalletConfigError(`LND at ${client.socket} is not on ${cfg.network} (its chains: ${info.chains.join(', ')})`);
      }
      opened = BuiltinWallet.openLedger(o);
      LndWallet.checkNode(opened, info.publicKey, o.path);
      const w = new LndWallet(opened, Uint8Array.from(o.nodeKey), client, info.publicKey, log);
      w.start();
      return w;
    } catch (err) {
      opened?.ledger.close();
      client.close();
      throw err;
    }
  }

  /** The database remembers its LND node; another node is refused while the first has invoices or payments in flight. */
  private static checkNode(opened: OpenedLedger, pubkey: string, path: string): void {
    const { ledger } = opened;
    ledger.atomic(() => {
      const before = ledger.getMeta('lnd_pubkey');
      if (before !== undefined && before !== pubkey) {
        const store = new LndStore(ledger.db);
        if (store.liveInvoices().length > 0 || store.pendingPayments().length > 0) {
          throw new E.WalletConfigError(`${path} has invoices or payments in flight on LND node ${before}; this LND is ${pubkey}`);
        }
      }
      ledger.setMeta('lnd_pubkey', pubkey);
    });
  }

  override async info(): Promise<W.WalletInfo> {
    return { backend: 'lnd', network: this.network, nodePubkey: this.lndPubkey, capabilities: this.capabilities };
  }

  /** What LND holds: the local side of its channels, the remote side (what it can receive), and on chain. */
  async nodeBalances(): Promise<{ channelLocalMsat: number; channelRemoteMsat: number; chainSat: number }> {
    const [c, b] = await Promise.all([this.client.channelBalance(), this.client.chainBalance()]);
    return { channelLocalMsat: c.localMsat, channelRemoteMsat: c.remoteMsat, chainSat: b.sat };
  }

  /** Sends `sat` from LND's on-chain wallet to `address` (the caller moves the ledger); resolves the txid. */
  override async sendToChain(address: string, sat: number, description = ''): Promise<string> {
    if (typeof address !== 'string' || address.length === 0) throw new E.WalletError('an on-chain address is required');
    if (!Number.isSafeInteger(sat) || sat <= 0) throw new E.InvalidAmountError(`sat must be a positive whole number, got ${sat}`);
    return this.client.sendToChain(address, sat, description);
  }

  /** How long a job's escrow may stay held by an HTLC: the invoice's CLTV minus LND's safety margin, about 10 minutes a block. */
  holdWindowSeconds(): number {
    return Math.max(0, this.cfg.minFinalCltvExpiry - HOLD_SAFETY_BLOCKS) * 600;
  }

  override async createInvoice(p: W.CreateInvoiceParams): Promise<W.InvoiceRecord> {
    const req = this.invoiceRequest(p);
    if (p.jobId !== undefined && this.rec.escrow(p.jobId)) throw new E.EscrowStateError(`job ${p.jobId} already has an escrow`);
    const preimage = bytesToHex(randomBytes(32));
    const hash = bytesToHex(sha256(hexToBytes(preimage)));
    const request = await this.addOnLnd(hash, p.jobId !== undefined ? null : preimage, p.amountMsat, req.descTag, req.expirySeconds);
    return this.insert(request, hash, preimage, p.amountMsat, req.description, req.account, p.jobId ?? null, p.refundAccount ?? null);
  }

  override async createHoldInvoice(p: W.CreateHoldInvoiceParams): Promise<W.InvoiceRecord> {
    if (typeof p.paymentHash !== 'string' || !/^[0-9a-f]{64}$/.test(p.paymentHash)) throw new E.WalletError('paymentHash must be 32 bytes of lowercase hex');
    if (this.rec.invoice(p.paymentHash)) throw new E.WalletError(`an invoice for ${p.paymentHash} exists already`);
    const req = this.invoiceRequest({ ...p, jobId: undefined } as W.CreateInvoiceParams);
    const request = await this.addOnLnd(p.paymentHash, null, p.amountMsat, req.descTag, req.expirySeconds);
    return this.insert(request, p.paymentHash, null, p.amountMsat, req.description, req.account, null, p.refundAccount ?? null);
  }

  override async cancelInvoice(paymentHash: string): Promise<W.InvoiceRecord> {
    const row = this.rec.invoice(paymentHash);
    if (!row) throw new E.InvoiceNotFoundError(`no invoice ${paymentHash}`);
    if (!this.store.invoice(paymentHash)) return super.cancelInvoice(paymentHash);
    if (row.status === 'paid' || row.status === 'accepted') throw new E.InvoiceAlreadyPaidError(`invoice ${paymentHash} is already paid`);
    this.ledger.atomic(() => {
      if (this.rec.finish(paymentHash, 'cancelled')) this.store.setCancelPending(paymentHash, true, this.ledger.clock.now());
    });
    this.notifier.drain();
    // A cancel that cannot reach LND now is retried; a payment LND takes meanwhile is given back.
    await this.watcher.cancel(paymentHash);
    return this.view(this.rec.invoice(paymentHash))!;
  }

  override async pay(p: W.PayParams): Promise<W.PaymentResult> {
    assertSpendable(p.fromAccount);
    const inv = decodeBolt11(p.bolt11);
    if (inv.network !== this.network) throw new E.NetworkMismatchError(`the invoice is for ${inv.network}; this wallet is on ${this.network}`);
    if (inv.payee === this.nodePubkey) return super.pay(p); // issued by the built-in wallet on this database
    if (inv.payee === this.lndPubkey) return this.payOwn(inv, p);
    if (inv.amountMsat !== null && p.amountMsat !== undefined && p.amountMsat !== inv.amountMsat) {
      throw new E.InvalidAmountError(`the invoice is for ${inv.amountMsat} msat, not ${p.amountMsat}`);
    }
    const amount = inv.amountMsat ?? p.amountMsat;
    assertMsat(amount, 'amountMsat (the invoice has no amount)');
    const prev = this.store.payment(inv.paymentHash);
    if (prev?.status !== 'succeeded' && this.ledger.clock.now() >= inv.expiresAt) {
      throw new E.InvoiceExpiredError(`invoice ${inv.paymentHash} expired at ${new Date(inv.expiresAt * 1000).toISOString()}`);
    }
    return this.payments.pay(inv, p.fromAccount, amount, p.maxFeeMsat);
  }

  override async settleHold(preimage: string): Promise<W.InvoiceRecord> {
    if (typeof preimage !== 'string' || !/^[0-9a-f]{64}$/.test(preimage)) throw new E.WalletError('preimage must be 32 bytes of lowercase hex');
    const hash = bytesToHex(sha256(hexToBytes(preimage)));
    const row = this.ownHold(hash);
    if (row.jobId !== null) throw new E.EscrowStateError(`invoice ${hash} pays job ${row.jobId}: release the job instead`);
    if (row.status !== 'paid') {
      try {
        await this.client.settleInvoice(preimage);
      } catch (err) {
        if ((await this.watcher.refresh(hash))?.state !== 'SETTLED') throw err;
      }
      this.store.setPreimage(hash, preimage);
      await this.watcher.refresh(hash);
    }
    return this.view(this.rec.invoice(hash))!;
  }

  override async cancelHold(paymentHash: string): Promise<W.InvoiceRecord> {
    const row = this.ownHold(paymentHash);
    if (row.jobId !== null) throw new E.EscrowStateError(`invoice ${paymentHash} pays job ${row.jobId}: refund the job instead`);
    if (row.status === 'paid') throw new E.InvoiceAlreadyPaidError(`invoice ${paymentHash} is already paid`);
    await this.client.cancelInvoice(paymentHash);
    await this.watcher.refresh(paymentHash);
    return this.view(this.rec.invoice(paymentHash))!;
  }

  override async release(p: W.ReleaseParams): Promise<W.EscrowRecord> {
    const held = this.held.heldInvoice(p.jobId);
    // A ledger escrow (paid from an account), or a retry: releaseEscrow decides.
    return held ? this.held.release(held, p) : releaseEscrow(this.ledger, this.rec, p);
  }

  override async refund(jobId: string, reason = ''): Promise<W.EscrowRecord | null> {
    return this.held.refund(jobId, reason);
  }

  override async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watcher.close();
    this.client.close();
    await super.close();
  }

  private start(): void {
    const tick = () => {
      if (this.ticking) return;
      this.ticking = true;
      try {
        this.watcher.tick();
      } catch (err) {
        this.log('warn', `following LND's invoices: ${(err as Error).message}`);
      }
      this.payments
        .reconcile()
        .catch((err: unknown) => this.log('warn', `checking LND payments: ${(err as Error).message}`))
        .finally(() => (this.ticking = false));
    };
    tick();
    this.timer = setInterval(tick, Math.max(250, this.cfg.pollIntervalMs));
    this.timer.unref();
  }

  private testFundingOnly(): Pick<W.WalletCapabilities, 'testFunding' | 'bolt12' | 'lnurl' | 'keysend'> {
    return { testFunding: this.cfg.network === 'regtest' || this.cfg.network === 'signet' || this.cfg.allowFunding, bolt12: false, lnurl: false, keysend: false };
  }

  /** Adds the invoice on LND: a standard one when we give the preimage, a hold invoice otherwise. */
  private async addOnLnd(hash: string, preimage: string | null, amountMsat: number, desc: { tag: 'd' | 'h'; value: string }, expirySeconds: number): Promise<string> {
    const o = {
      mtokens: String(amountMsat),
      expiresAt: new Date((Math.floor(Date.now() / 1000) + expirySeconds) * 1000).toISOString(),
      cltvDelta: this.cfg.minFinalCltvExpiry,
      ...(desc.tag === 'd' ? { description: desc.value } : { descriptionHash: desc.value }),
    };
    return preimage !== null ? this.client.createInvoice({ ...o, preimage }) : this.client.createHoldInvoice({ ...o, paymentHash: hash });
  }

  /** Records an invoice LND issued and starts following it. */
  private insert(request: string, hash: string, preimage: string | null, amountMsat: number, description: string, account: string, jobId: string | null, refundAccount: string | null): W.InvoiceRecord {
    const d = decodeBolt11(request);
    if (d.paymentHash !== hash || d.payee !== this.lndPubkey || d.amountMsat !== amountMsat) {
      throw new E.WalletError(`LND returned an invoice that does not match the request (hash, payee or amount)`);
    }
    try {
      this.ledger.atomic(() => {
        if (jobId !== null && this.rec.escrow(jobId)) throw new E.EscrowStateError(`job ${jobId} already has an escrow`);
        this.rec.insertInvoice({
          paymentHash: hash,
          preimage,
          bolt11: d.paymentRequest,
          amountMsat,
          description,
          account,
          jobId,
          refundAccount,
          kind: jobId !== null || preimage === null ? 'hold' : 'standard',
          createdAt: d.timestamp,
          expiresAt: d.expiresAt,
        });
        this.store.insertInvoice(hash, this.ledger.clock.now());
      });
    } catch (err) {
      void this.client.cancelInvoice(hash).catch(() => undefined);
      throw err;
    }
    this.watcher.watch(hash);
    return this.view(this.rec.invoice(hash))!;
  }

  /** An invoice of our LND node paid from an account: in the ledger, and LND must not take a payment for it as well. */
  private async payOwn(inv: Bolt11Invoice, p: W.PayParams): Promise<W.PaymentResult> {
    const row = this.rec.invoice(inv.paymentHash);
    if (!row || !this.store.invoice(inv.paymentHash)) {
      throw new E.WalletUnsupportedError(`invoice ${inv.paymentHash} is from this LND node but not from this wallet; paying one's own node is not supported`);
    }
    const settle = () => settleInvoice(this.ledger, this.rec, inv.paymentHash, p.fromAccount, p.amountMsat);
    if (this.sync.payingInside.has(inv.paymentHash)) throw new E.WalletError(`invoice ${inv.paymentHash} is being paid right now`);
    this.sync.payingInside.add(inv.paymentHash);
    try {
      if (row.kind === 'standard' && row.status === 'open') {
        // LND settles a standard invoice by itself: cancel it there first (it must be reachable).
        dryRun(this.ledger, settle);
        await this.client.cancelInvoice(inv.paymentHash).catch(async (err: unknown) => {
          await this.watcher.refresh(inv.paymentHash).catch(() => undefined);
          if (this.rec.invoice(inv.paymentHash)?.status === 'paid') throw new E.InvoiceAlreadyPaidError(`invoice ${inv.paymentHash} is already paid`);
          throw err;
        });
      }
      const r = this.ledger.atomic(() => {
        const out = settle();
        if (!out.replayed) this.store.setCancelPending(inv.paymentHash, true, this.ledger.clock.now());
        return out;
      });
      this.notifier.drain();
      // A hold invoice: an HTLC that arrives meanwhile is given back (now, or when LND can be reached).
      if (!r.replayed) await this.watcher.cancel(inv.paymentHash);
      return r;
    } finally {
      this.sync.payingInside.delete(inv.paymentHash);
      this.notifier.drain();
    }
  }

  private ownHold(hash: string): InvoiceRow {
    const row = this.rec.invoice(hash);
    if (!row) throw new E.InvoiceNotFoundError(`no invoice ${hash}`);
    if (!this.store.invoice(hash) || row.kind !== 'hold') throw new E.WalletUnsupportedError(`invoice ${hash} is not a hold invoice on LND`);
    return row;
  }
}
