// Rows of lnd_invoices and lnd_payments (wallet/schema.ts, version 2), read and written inside the
// ledger's transactions like wallet/records.ts.
import type Database from 'better-sqlite3';
import type { LndInvoiceState } from './client.js';

export interface LndInvoiceRow {
  readonly paymentHash: string;
  readonly state: LndInvoiceState;
  readonly cancelPending: number;
  readonly amtPaidMsat: number;
  readonly htlcExpiry: number | null;
}

export type LndPaymentStatus = 'pending' | 'succeeded' | 'failed';

export interface LndPaymentRow {
  readonly paymentHash: string;
  readonly bolt11: string;
  readonly fromAccount: string;
  readonly amountMsat: number;
  readonly feeLimitMsat: number;
  readonly feeMsat: number | null;
  readonly status: LndPaymentStatus;
  readonly preimage: string | null;
  readonly attempt: number;
  readonly failure: string | null;
  readonly createdAt: number;
  readonly settledAt: number | null;
}

const INV = `payment_hash AS paymentHash, state, cancel_pending AS cancelPending, amt_paid_msat AS amtPaidMsat, htlc_expiry AS htlcExpiry`;
const PAY = `payment_hash AS paymentHash, bolt11, from_account AS fromAccount, amount_msat AS amountMsat, fee_limit_msat AS feeLimitMsat,
  fee_msat AS feeMsat, status, preimage, attempt, failure, created_at AS createdAt, settled_at AS settledAt`;

export class LndStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      insertInvoice: db.prepare(`INSERT INTO lnd_invoices (payment_hash, state, updated_at) VALUES (?, 'OPEN', ?)`),
      invoice: db.prepare<[string], LndInvoiceRow>(`SELECT ${INV} FROM lnd_invoices WHERE payment_hash = ?`),
      live: db.prepare<[], LndInvoiceRow>(`SELECT ${INV} FROM lnd_invoices WHERE state IN ('OPEN', 'ACCEPTED') OR cancel_pending = 1`),
      setState: db.prepare(`UPDATE lnd_invoices SET state = ?, amt_paid_msat = ?, htlc_expiry = ?, updated_at = ? WHERE payment_hash = ?`),
      setCancelPending: db.prepare(`UPDATE lnd_invoices SET cancel_pending = ?, updated_at = ? WHERE payment_hash = ?`),
      payment: db.prepare<[string], LndPaymentRow>(`SELECT ${PAY} FROM lnd_payments WHERE payment_hash = ?`),
      pending: db.prepare<[], LndPaymentRow>(`SELECT ${PAY} FROM lnd_payments WHERE status = 'pending'`),
      insertPayment: db.prepare(
        `INSERT INTO lnd_payments (payment_hash, bolt11, from_account, amount_msat, fee_limit_msat, status, attempt, created_at)
         VALUES (@paymentHash, @bolt11, @fromAccount, @amountMsat, @feeLimitMsat, 'pending', 1, @now)`,
      ),
      retryPayment: db.prepare(
        `UPDATE lnd_payments SET from_account = @fromAccount, amount_msat = @amountMsat, fee_limit_msat = @feeLimitMsat, status = 'pending',
           attempt = attempt + 1, failure = NULL, fee_msat = NULL, created_at = @now WHERE payment_hash = @paymentHash AND status = 'failed'`,
      ),
      succeed: db.prepare(`UPDATE lnd_payments SET status = 'succeeded', preimage = ?, fee_msat = ?, settled_at = ? WHERE payment_hash = ? AND status = 'pending'`),
      fail: db.prepare(`UPDATE lnd_payments SET status = 'failed', failure = ?, settled_at = ? WHERE payment_hash = ? AND status = 'pending'`),
      setPreimage: db.prepare(`UPDATE invoices SET preimage = ? WHERE payment_hash = ? AND preimage IS NULL`),
    };
  }

  insertInvoice(paymentHash: string, now: number): void {
    this.s.insertInvoice.run(paymentHash, now);
  }

  invoice(paymentHash: string): LndInvoiceRow | undefined {
    return this.s.invoice.get(paymentHash);
  }

  /** Invoices LND may still change (open, accepted) or that wait for a cancel to reach LND. */
  liveInvoices(): LndInvoiceRow[] {
    return this.s.live.all();
  }

  setState(paymentHash: string, state: LndInvoiceState, amtPaidMsat: number, htlcExpiry: number | null, now: number): void {
    this.s.setState.run(state, amtPaidMsat, htlcExpiry, now, paymentHash);
  }

  setCancelPending(paymentHash: string, pending: boolean, now: number): void {
    this.s.setCancelPending.run(pending ? 1 : 0, now, paymentHash);
  }

  /** The preimage of a hold invoice we settled with someone else's preimage (the proof of payment). */
  setPreimage(paymentHash: string, preimage: string): void {
    this.s.setPreimage.run(preimage, paymentHash);
  }

  payment(paymentHash: string): LndPaymentRow | undefined {
    return this.s.payment.get(paymentHash);
  }

  pendingPayments(): LndPaymentRow[] {
    return this.s.pending.all();
  }

  /** A new payment, or another attempt at a failed one; false if one is pending or succeeded. */
  startPayment(p: { paymentHash: string; bolt11: string; fromAccount: string; amountMsat: number; feeLimitMsat: number; now: number }): boolean {
    if (this.s.retryPayment.run(p).changes > 0) return true;
    return this.s.insertPayment.run(p).changes > 0;
  }

  succeed(paymentHash: string, preimage: string, feeMsat: number, now: number): boolean {
    return this.s.succeed.run(preimage, feeMsat, now, paymentHash).changes > 0;
  }

  fail(paymentHash: string, failure: string, now: number): boolean {
    return this.s.fail.run(failure, now, paymentHash).changes > 0;
  }
}
