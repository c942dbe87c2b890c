// One test LND node's state: its identity key, invoices (standard ones settle when an HTLC
// arrives; hold invoices stay ACCEPTED until settled or cancelled, and are cancelled when the
// chain nears their HTLC's expiry, as LND does), outgoing payments (one per payment hash, as
// LND's control tower keeps them) and an on-chain balance. The gRPC layer (server.ts) turns RPCs
// into calls here and these records into LND's messages (rpc.ts). Errors carry LND's own text.
import { createHash, randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { decodeBolt11, encodeBolt11, nodePublicKey, type Bolt11Invoice, type Bolt11Tag } from '../../../wallet/bolt11.js';
import type { HtlcOutcome, IncomingHtlc, NetworkNode, Route, TestLnNetwork } from './network.js';

/** gRPC status codes used here (LND answers most errors with UNKNOWN). */
export const Code = { UNKNOWN: 2, INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6, UNIMPLEMENTED: 12, UNAVAILABLE: 14 } as const;

export class RpcError extends Error {
  override name = 'RpcError';
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details);
  }
}

const lnd = (details: string) => new RpcError(Code.UNKNOWN, details);

export type InvoiceState = 'OPEN' | 'ACCEPTED' | 'SETTLED' | 'CANCELED';

export interface InvoiceHtlc {
  readonly htlc: IncomingHtlc;
  state: 'ACCEPTED' | 'SETTLED' | 'CANCELED';
  readonly acceptTime: number;
  resolveTime: number;
}

export interface NodeInvoice {
  readonly hash: string;
  preimage: string | null;
  readonly valueMsat: number;
  readonly memo: string;
  readonly descriptionHash: string | null;
  readonly request: string;
  readonly creation: number;
  readonly expiry: number;
  readonly cltv: number;
  readonly paymentAddr: string;
  readonly hold: boolean;
  readonly addIndex: number;
  state: InvoiceState;
  settleIndex: number;
  settleDate: number;
  amtPaidMsat: number;
  readonly htlcs: InvoiceHtlc[];
}

export type PaymentStatus = 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED';

export interface NodePayment {
  readonly hash: string;
  readonly request: string;
  readonly valueMsat: number;
  readonly index: number;
  readonly creationNs: bigint;
  readonly route: Route | null;
  status: PaymentStatus;
  failureReason: string;
  preimage: string;
  feeMsat: number;
  resolveNs: bigint;
}

export interface TestLndNodeOptions {
  readonly network: TestLnNetwork;
  readonly alias?: string;
  /** The identity key (32 bytes); random by default. */
  readonly key?: Uint8Array;
  /** On-chain wallet balance (sat). */
  readonly chainSat?: number;
}

/** LND cancels an accepted hold invoice this many blocks before its HTLC expires (so the payer's node need not go on chain). */
export const HOLD_CANCEL_DELTA = 10;
const FEATURES = [8, 14];
const nowSec = () => Math.floor(Date.now() / 1000);
const nowNs = () => BigInt(Date.now()) * 1_000_000n;
const sha256hex = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

export class TestLndNode implements NetworkNode {
  readonly pubkey: string;
  readonly alias: string;
  readonly network: TestLnNetwork;
  chainSat: number;
  private readonly key: Uint8Array;
  readonly invoices = new Map<string, NodeInvoice>();
  readonly payments = new Map<string, NodePayment>();
  private readonly invoiceSubs = new Map<string, Set<(inv: NodeInvoice) => void>>();
  private readonly paymentSubs = new Map<string, Set<(p: NodePayment) => void>>();
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();
  private addIndex = 0;
  private settleIndex = 0;
  private paymentIndex = 0;

  constructor(o: TestLndNodeOptions) {
    this.network = o.network;
    this.key = o.key ? Uint8Array.from(o.key) : secp256k1.utils.randomSecretKey();
    this.pubkey = nodePublicKey(this.key);
    this.alias = o.alias ?? `test-lnd-${this.pubkey.slice(0, 8)}`;
    this.chainSat = o.chainSat ?? 0;
    o.network.register(this);
  }

  // ---- invoices ----

  addInvoice(o: {
    valueMsat: number;
    memo: string;
    descriptionHash: string | null;
    expiry: number;
    cltv: number;
    preimage?: string;
    hash?: string;
  }): NodeInvoice {
    if (!Number.isSafeInteger(o.valueMsat) || o.valueMsat < 0) throw new RpcError(Code.INVALID_ARGUMENT, 'amount must be a positive number of msat');
    if (Buffer.byteLength(o.memo, 'utf8') > 1024) throw lnd('memo too large: 1024 bytes max');
    const preimage = o.hash ? null : (o.preimage ?? randomBytes(32).toString('hex'));
    if (preimage !== null && !/^[0-9a-f]{64}$/.test(preimage)) throw lnd('payment preimage must be exactly 32 bytes');
    const hash = o.hash ?? sha256hex(preimage!);
    if (!/^[0-9a-f]{64}$/.test(hash)) throw lnd('payment hash must be exactly 32 bytes');
    if (this.invoices.has(hash)) throw lnd('invoice with payment hash already exists');
    const creation = nowSec();
    const expiry = o.expiry > 0 ? o.expiry : 86_400;
    const cltv = o.cltv > 0 ? o.cltv : 80;
    const paymentAddr = randomBytes(32).toString('hex');
    const desc: Bolt11Tag = o.descriptionHash ? { tag: 'h', value: o.descriptionHash } : { tag: 'd', value: o.memo };
    const request = encodeBolt11(
      {
        network: 'regtest',
        ...(o.valueMsat > 0 ? { amountMsat: o.valueMsat } : {}),
        timestamp: creation,
        tags: [
          { tag: 'p', value: hash },
          { tag: 's', value: paymentAddr },
          desc,
          { tag: 'x', value: expiry },
          { tag: 'c', value: cltv },
          { tag: '9', value: FEATURES },
        ],
      },
      this.key,
    );
    const inv: NodeInvoice = {
      hash,
      preimage,
      valueMsat: o.valueMsat,
      memo: o.memo,
      descriptionHash: o.descriptionHash,
      request,
      creation,
      expiry,
      cltv,
      paymentAddr,
      hold: o.hash !== undefined,
      addIndex: ++this.addIndex,
      state: 'OPEN',
      settleIndex: 0,
      settleDate: 0,
      amtPaidMsat: 0,
      htlcs: [],
    };
    this.invoices.set(hash, inv);
    // LND's expiry watcher cancels invoices still open when they expire.
    const t = setTimeout(() => {
      this.expiryTimers.delete(hash);
      if (inv.state === 'OPEN') this.setState(inv, 'CANCELED');
    }, expiry * 1000);
    t.unref();
    this.expiryTimers.set(hash, t);
    return inv;
  }

  lookup(hash: string): NodeInvoice {
    const inv = this.invoices.get(hash);
    if (!inv) throw lnd('unable to locate invoice');
    return inv;
  }

  settle(preimage: string): NodeInvoice {
    if (!/^[0-9a-f]{64}$/.test(preimage)) throw lnd('unable to locate invoice');
    const inv = this.invoices.get(sha256hex(preimage));
    if (!inv) throw lnd('unable to locate invoice');
    if (inv.state === 'SETTLED') return inv; // LND: settling a settled invoice with its preimage is a no-op
    if (inv.state === 'CANCELED') throw lnd('invoice already canceled');
    if (inv.state === 'OPEN') throw lnd('invoice still open');
    inv.preimage = preimage;
    for (const h of inv.htlcs) {
      if (h.state !== 'ACCEPTED') continue;
      h.htlc.settle(preimage);
      h.state = 'SETTLED';
      h.resolveTime = nowSec();
    }
    this.setState(inv, 'SETTLED');
    return inv;
  }

  /** Cancels an open or accepted invoice (its HTLCs go back); succeeds for a cancelled one. */
  cancel(hash: string): NodeInvoice {
    const inv = this.lookup(hash);
    if (inv.state === 'SETTLED') throw lnd('invoice already settled');
    if (inv.state === 'CANCELED') return inv;
    this.failHtlcs(inv);
    this.setState(inv, 'CANCELED');
    return inv;
  }

  /** Calls `cb` with the invoice now and after every change, until unsubscribed. */
  subscribeInvoice(hash: string, cb: (inv: NodeInvoice) => void): () => void {
    const inv = this.lookup(hash);
    let set = this.invoiceSubs.get(hash);
    if (!set) this.invoiceSubs.set(hash, (set = new Set()));
    set.add(cb);
    queueMicrotask(() => set.has(cb) && cb(inv));
    return () => set.delete(cb);
  }

  decode(request: string): Bolt11Invoice {
    try {
      return decodeBolt11(request);
    } catch (err) {
      throw lnd(`invalid payment request: ${(err as Error).message}`);
    }
  }

  receiveHtlc(h: IncomingHtlc): void {
    const inv = this.invoices.get(h.paymentHash);
    const now = nowSec();
    // LND answers every mismatch with incorrect_or_unknown_payment_details.
    if (
      !inv ||
      inv.state !== 'OPEN' ||
      now >= inv.creation + inv.expiry ||
      h.paymentAddr !== inv.paymentAddr ||
      h.amountMsat < inv.valueMsat ||
      h.expiryHeight - this.network.height < inv.cltv
    ) {
      return h.fail();
    }
    inv.htlcs.push({ htlc: h, state: 'ACCEPTED', acceptTime: now, resolveTime: 0 });
    inv.amtPaidMsat += h.amountMsat;
    if (inv.hold) return this.setState(inv, 'ACCEPTED');
    h.settle(inv.preimage!);
    inv.htlcs.at(-1)!.state = 'SETTLED';
    inv.htlcs.at(-1)!.resolveTime = now;
    this.setState(inv, 'SETTLED');
  }

  onBlock(height: number): void {
    for (const inv of this.invoices.values()) {
      if (inv.state !== 'ACCEPTED') continue;
      if (inv.htlcs.some((h) => h.state === 'ACCEPTED' && h.htlc.expiryHeight - height <= HOLD_CANCEL_DELTA)) {
        this.failHtlcs(inv);
        this.setState(inv, 'CANCELED');
      }
    }
  }

  private failHtlcs(inv: NodeInvoice): void {
    for (const h of inv.htlcs) {
      if (h.state !== 'ACCEPTED') continue;
      h.htlc.fail();
      h.state = 'CANCELED';
      h.resolveTime = nowSec();
    }
  }

  private setState(inv: NodeInvoice, state: InvoiceState): void {
    inv.state = state;
    if (state === 'SETTLED') {
      inv.settleIndex = ++this.settleIndex;
      inv.settleDate = nowSec();
    }
    if (state !== 'OPEN') {
      clearTimeout(this.expiryTimers.get(inv.hash));
      this.expiryTimers.delete(inv.hash);
    }
    for (const cb of [...(this.invoiceSubs.get(inv.hash) ?? [])]) cb(inv);
  }

  // ---- payments ----

  /**
   * Starts paying a BOLT11 invoice (routerrpc.SendPaymentV2): refuses a second payment of a hash
   * that succeeded or is in flight, as LND does; a failed one may be tried again.
   */
  sendPayment(o: { request: string; amtMsat: number; feeLimitMsat: number }): NodePayment {
    const inv = this.decode(o.request);
    if (inv.network !== 'regtest') throw lnd('invoice not for current active network');
    if (nowSec() >= inv.timestamp + inv.expirySeconds) throw lnd(`invoice expired. Valid until ${new Date((inv.timestamp + inv.expirySeconds) * 1000).toISOString()}`);
    const amount = inv.amountMsat ?? o.amtMsat;
    if (!amount) throw lnd('amount must be specified when paying a zero amount invoice');
    if (inv.amountMsat !== null && o.amtMsat && o.amtMsat !== inv.amountMsat) throw lnd('amount must not be specified when paying a non-zero amount invoice');
    const prev = this.payments.get(inv.paymentHash);
    if (prev?.status === 'SUCCEEDED') throw lnd('invoice is already paid');
    if (prev?.status === 'IN_FLIGHT') throw lnd('payment is in transition');
    const found = this.network.findRoute(this.pubkey, inv.payee, amount, o.feeLimitMsat, inv.minFinalCltvExpiry);
    const p: NodePayment = {
      hash: inv.paymentHash,
      request: o.request,
      valueMsat: amount,
      index: ++this.paymentIndex,
      creationNs: nowNs(),
      route: typeof found === 'string' ? null : found,
      status: 'IN_FLIGHT',
      failureReason: 'FAILURE_REASON_NONE',
      preimage: '',
      feeMsat: 0,
      resolveNs: 0n,
    };
    this.payments.set(p.hash, p);
    if (typeof found === 'string') {
      queueMicrotask(() => this.finishPayment(p, { failed: found }));
      return p;
    }
    void this.network
      .sendHtlc(found, inv.paymentHash, inv.paymentSecret ?? '', amount)
      .then((out: HtlcOutcome) => this.finishPayment(p, 'preimage' in out ? { preimage: out.preimage, feeMsat: found.feeMsat } : { failed: out.failed }));
    return p;
  }

  /** Calls `cb` with the payment now and after every change, until unsubscribed. */
  subscribePayment(hash: string, cb: (p: NodePayment) => void): () => void {
    const p = this.payments.get(hash);
    if (!p) throw lnd("payment isn't initiated");
    let set = this.paymentSubs.get(hash);
    if (!set) this.paymentSubs.set(hash, (set = new Set()));
    set.add(cb);
    queueMicrotask(() => set.has(cb) && cb(p));
    return () => set.delete(cb);
  }

  private finishPayment(p: NodePayment, out: { preimage: string; feeMsat: number } | { failed: string }): void {
    if ('preimage' in out) {
      p.status = 'SUCCEEDED';
      p.preimage = out.preimage;
      p.feeMsat = out.feeMsat;
    } else {
      p.status = 'FAILED';
      p.failureReason = out.failed;
    }
    p.resolveNs = nowNs();
    for (const cb of [...(this.paymentSubs.get(p.hash) ?? [])]) cb(p);
  }

  // ---- on chain ----

  sendCoins(addr: string, amountSat: number): string {
    if (!addr) throw lnd('decoding address failed');
    if (!Number.isSafeInteger(amountSat) || amountSat <= 0) throw lnd('amount must be positive');
    if (amountSat > this.chainSat) throw lnd('insufficient funds available to construct transaction');
    this.chainSat -= amountSat;
    return randomBytes(32).toString('hex');
  }

  close(): void {
    for (const t of this.expiryTimers.values()) clearTimeout(t);
    this.expiryTimers.clear();
    this.invoiceSubs.clear();
    this.paymentSubs.clear();
    this.network.unregister(this.pubkey);
  }
}
