// Paying through the remote NWC wallet from a ledger account, at most once per payment hash
// (wallet/nwc/backend.ts; the same steps as wallet/lnd/payments.ts):
//   1. one SQLite transaction: the nwc_backend_payments row (pending) and the debit of amount + fee
//      reserve from the account to `external` (`nwcpay:<hash>:<attempt>`); an overdraft stops it here.
//   2. pay_invoice. 3. a preimage that hashes to the invoice: the unused reserve goes back
//      (`...:fee`); an error answer: everything goes back (`...:refund`). No answer: the row stays
//      pending and `reconcile` asks lookup_invoice until the remote tells.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { EXTERNAL, type AccountId } from '../accounts.js';
import type { Bolt11Invoice } from '../bolt11.js';
import type { NwcBackendConfig } from '../config.js';
import * as E from '../errors.js';
import type { Ledger } from '../ledger.js';
import type { WalletLog } from '../lnd/invoices.js';
import { PaymentFailedError, PaymentPendingError } from '../lnd/errors.js';
import type * as W from '../wallet.js';
import type { NwcBackendStore, NwcPaymentRow } from './backend-store.js';
import type { NwcClient } from './client.js';
import { NwcRequestError } from './errors.js';

type Outcome =
  | { status: 'succeeded'; preimage: string; feeMsat: number }
  | { status: 'failed'; reason: string }
  /** `unknown`: the remote answered that it has no such payment (NOT_FOUND). */
  | { status: 'pending'; reason: string; unknown?: boolean };

export const validPreimage = (p: unknown, hash: string): p is string => typeof p === 'string' && /^[0-9a-f]{64}$/.test(p) && bytesToHex(sha256(hexToBytes(p))) === hash;

export class NwcPayments {
  /** Hashes this process is paying right now (reconcile leaves them to pay()). */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly ledger: Ledger,
    private readonly store: NwcBackendStore,
    private readonly client: NwcClient,
    private readonly cfg: NwcBackendConfig,
    private readonly log: WalletLog,
  ) {}

  feeLimit(amountMsat: number): number {
    const c = this.cfg;
    return Math.max(c.feeLimitMinMsat, Math.ceil((amountMsat * c.feeLimitPercent) / 100));
  }

  async pay(inv: Bolt11Invoice, from: AccountId, amountMsat: number, maxFeeMsat?: number): Promise<W.PaymentResult> {
    const hash = inv.paymentHash;
    const feeLimit = maxFeeMsat ?? this.feeLimit(amountMsat);
    if (!Number.isSafeInteger(feeLimit) || feeLimit < 0) throw new E.InvalidAmountError(`maxFeeMsat must be a non-negative integer of msat, got ${feeLimit}`);
    if (this.inFlight.has(hash)) throw new PaymentPendingError(`a payment of ${hash} is in flight`);
    const first = this.ledger.atomic(() => {
      const row = this.store.payment(hash);
      if (row?.status === 'succeeded') {
        if (row.fromAccount === from) return paymentResult(row, true);
        throw new E.InvoiceAlreadyPaidError(`invoice ${hash} is already paid`);
      }
      if (row?.status === 'pending') throw new PaymentPendingError(`a payment of ${hash} is in flight; its outcome is posted when the NWC wallet tells it`);
      this.store.startPayment({ paymentHash: hash, fromAccount: from, amountMsat, feeLimitMsat: feeLimit, now: this.ledger.clock.now() });
      this.ledger.post({
        key: `nwcpay:${hash}:${this.store.payment(hash)!.attempt}`,
        kind: 'payment',
        memo: `pay ${amountMsat} msat (fee reserve ${feeLimit}) through the NWC wallet to ${inv.payee.slice(0, 16)}`,
        entries: [
          { account: from, amountMsat: -(amountMsat + feeLimit) },
          { account: EXTERNAL, amountMsat: amountMsat + feeLimit },
        ],
      });
      return null;
    });
    if (first) return first;
    this.inFlight.add(hash);
    try {
      let out: Outcome;
      try {
        const r = await this.client.payInvoice({ invoice: inv.paymentRequest, ...(inv.amountMsat === null ? { amount: amountMsat } : {}) });
        out = validPreimage(r.preimage, hash)
          ? { status: 'succeeded', preimage: r.preimage, feeMsat: Number.isSafeInteger(r.fees_paid) && r.fees_paid! > 0 ? r.fees_paid! : 0 }
          : { status: 'pending', reason: 'the NWC wallet answered with a preimage that does not match the invoice' };
      } catch (err) {
        // An error answer is the remote's refusal (NIP-47); no answer leaves the outcome open.
        out = err instanceof NwcRequestError && err.code !== 'INTERNAL' ? { status: 'failed', reason: `${err.code}: ${err.message}` } : await this.lookupPayment(hash, (err as Error).message);
      }
      const row = this.finish(hash, out);
      if (row.status === 'succeeded') return paymentResult(row, false);
      if (row.status === 'failed') throw new PaymentFailedError(`payment ${hash} failed: ${row.failure}`, row.failure ?? '');
      this.log('warn', `payment ${hash}: ${out.status === 'pending' ? out.reason : ''}; the debit stays until the NWC wallet tells the outcome`);
      throw new PaymentPendingError(`payment ${hash} may be on its way; the debit stays until the NWC wallet tells the outcome`);
    } finally {
      this.inFlight.delete(hash);
    }
  }

  /** Asks the remote how a payment ended (lookup_invoice); NOT_FOUND or no answer: still pending (NOT_FOUND marked `unknown`). */
  private async lookupPayment(hash: string, why: string): Promise<Outcome> {
    try {
      const tx = await this.client.lookupInvoice({ payment_hash: hash });
      if (tx.state === 'settled' && validPreimage(tx.preimage, hash)) return { status: 'succeeded', preimage: tx.preimage, feeMsat: Number.isSafeInteger(tx.fees_paid) && tx.fees_paid > 0 ? tx.fees_paid : 0 };
      if (tx.state === 'failed' || tx.state === 'expired') return { status: 'failed', reason: `the NWC wallet reports the payment ${tx.state}` };
    } catch (err) {
      if (err instanceof NwcRequestError && err.code === 'NOT_FOUND') return { status: 'pending', reason: why, unknown: true };
    }
    return { status: 'pending', reason: why };
  }

  /** Posts a payment's outcome: the unused fee reserve back on success, everything back on failure. */
  private finish(hash: string, out: Outcome): NwcPaymentRow {
    return this.ledger.atomic(() => {
      const row = this.store.payment(hash)!;
      if (row.status !== 'pending' || out.status === 'pending') return row;
      const now = this.ledger.clock.now();
      const key = `nwcpay:${hash}:${row.attempt}`;
      if (out.status === 'succeeded') {
        const fee = Math.min(out.feeMsat, row.feeLimitMsat);
        if (out.feeMsat > row.feeLimitMsat) this.log('warn', `payment ${hash}: the NWC wallet charged ${out.feeMsat} msat of fees, above the reserve of ${row.feeLimitMsat}; the rest is not in the ledger`);
        this.store.succeed(hash, out.preimage, fee, now);
        if (row.feeLimitMsat - fee > 0) {
          this.ledger.post({ key: `${key}:fee`, kind: 'payment', memo: 'unused fee reserve', entries: [{ account: EXTERNAL, amountMsat: -(row.feeLimitMsat - fee) }, { account: row.fromAccount, amountMsat: row.feeLimitMsat - fee }] });
        }
      } else {
        this.store.fail(hash, out.reason, now);
        const back = row.amountMsat + row.feeLimitMsat;
        this.ledger.post({ key: `${key}:refund`, kind: 'payment', memo: `payment failed: ${out.reason.slice(0, 150)}`, entries: [{ account: EXTERNAL, amountMsat: -back }, { account: row.fromAccount, amountMsat: back }] });
      }
      return this.store.payment(hash)!;
    });
  }

  /** Payments left pending (no answer, or a restart): asked again once their request has expired on the remote. */
  async reconcile(closed: () => boolean): Promise<void> {
    const late = this.ledger.clock.now() - Math.ceil((2 * this.cfg.timeoutMs) / 1000);
    for (const row of this.store.pendingPayments()) {
      if (closed() || this.inFlight.has(row.paymentHash)) continue;
      const out = await this.lookupPayment(row.paymentHash, 'no answer');
      if (closed()) return;
      // Unknown to the remote long after our request expired there: it was never made.
      if (out.status === 'pending' && out.unknown === true && row.createdAt < late) this.finish(row.paymentHash, { status: 'failed', reason: 'the NWC wallet has no record of the payment' });
      else this.finish(row.paymentHash, out);
    }
  }
}


function paymentResult(row: NwcPaymentRow, replayed: boolean): W.PaymentResult {
  return {
    paymentHash: row.paymentHash,
    preimage: row.preimage ?? '',
    amountMsat: row.amountMsat,
    feeMsat: row.feeMsat ?? 0,
    fromAccount: row.fromAccount,
    settledAt: row.settledAt ?? row.createdAt,
    replayed,
  };
}
