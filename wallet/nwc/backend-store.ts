// Rows of the NWC backend (wallet/nwc/backend.ts) beside the ledger's tables in wallet.sqlite: the
// invoices the remote wallet minted for us (followed until paid or past expiry) and the payments
// made through it (one row per payment hash: at most one payment in flight or succeeded).
// Created on open (CREATE TABLE IF NOT EXISTS); read and written inside the ledger's transactions.
import type Database from 'better-sqlite3';

export type NwcPaymentStatus = 'pending' | 'succeeded' | 'failed';

export interface NwcInvoiceRow {
  readonly paymentHash: string;
  /** `open` while followed; `done` once credited, settled inside or given up on. */
  readonly state: 'open' | 'done';
  readonly checks: number;
  readonly nextCheckAt: number;
}

export interface NwcPaymentRow {
  readonly paymentHash: string;
  readonly fromAccount: string;
  readonly amountMsat: number;
  readonly feeLimitMsat: number;
  readonly feeMsat: number | null;
  readonly status: NwcPaymentStatus;
  readonly preimage: string | null;
  readonly attempt: number;
  readonly failure: string | null;
  readonly createdAt: number;
  readonly settledAt: number | null;
}

const INV = `payment_hash AS paymentHash, state, checks, next_check_at AS nextCheckAt`;
const PAY = `payment_hash AS paymentHash, from_account AS fromAccount, amount_msat AS amountMsat, fee_limit_msat AS feeLimitMsat,
  fee_msat AS feeMsat, status, preimage, attempt, failure, created_at AS createdAt, settled_at AS settledAt`;

export class NwcBackendStore {
  private readonly s;

  constructor(db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS nwc_backend_invoices (
        payment_hash TEXT PRIMARY KEY, state TEXT NOT NULL, checks INTEGER NOT NULL DEFAULT 0, next_check_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS nwc_backend_payments (
        payment_hash TEXT PRIMARY KEY, from_account TEXT NOT NULL, amount_msat INTEGER NOT NULL, fee_limit_msat INTEGER NOT NULL,
        fee_msat INTEGER, status TEXT NOT NULL, preimage TEXT, attempt INTEGER NOT NULL, failure TEXT,
        created_at INTEGER NOT NULL, settled_at INTEGER
      ) WITHOUT ROWID;`);
    this.s = {
      insertInvoice: db.prepare(`INSERT INTO nwc_backend_invoices (payment_hash, state, next_check_at) VALUES (?, 'open', ?)`),
      invoice: db.prepare<[string], NwcInvoiceRow>(`SELECT ${INV} FROM nwc_backend_invoices WHERE payment_hash = ?`),
      due: db.prepare<[number], NwcInvoiceRow>(`SELECT ${INV} FROM nwc_backend_invoices WHERE state = 'open' AND next_check_at <= ?`),
      reschedule: db.prepare(`UPDATE nwc_backend_invoices SET checks = checks + 1, next_check_at = ? WHERE payment_hash = ?`),
      done: db.prepare(`UPDATE nwc_backend_invoices SET state = 'done' WHERE payment_hash = ?`),
      payment: db.prepare<[string], NwcPaymentRow>(`SELECT ${PAY} FROM nwc_backend_payments WHERE payment_hash = ?`),
      pending: db.prepare<[], NwcPaymentRow>(`SELECT ${PAY} FROM nwc_backend_payments WHERE status = 'pending'`),
      insertPayment: db.prepare(
        `INSERT INTO nwc_backend_payments (payment_hash, from_account, amount_msat, fee_limit_msat, status, attempt, created_at)
         VALUES (@paymentHash, @fromAccount, @amountMsat, @feeLimitMsat, 'pending', 1, @now)`,
      ),
      retryPayment: db.prepare(
        `UPDATE nwc_backend_payments SET from_account = @fromAccount, amount_msat = @amountMsat, fee_limit_msat = @feeLimitMsat, status = 'pending',
           attempt = attempt + 1, failure = NULL, fee_msat = NULL, created_at = @now WHERE payment_hash = @paymentHash AND status = 'failed'`,
      ),
      succeed: db.prepare(`UPDATE nwc_backend_payments SET status = 'succeeded', preimage = ?, fee_msat = ?, settled_at = ? WHERE payment_hash = ? AND status = 'pending'`),
      fail: db.prepare(`UPDATE nwc_backend_payments SET status = 'failed', failure = ?, settled_at = ? WHERE payment_hash = ? AND status = 'pending'`),
      setPreimage: db.prepare(`UPDATE invoices SET preimage = ? WHERE payment_hash = ? AND preimage IS NULL`),
    };
  }

  insertInvoice(hash: string, nextCheckAt: number): void {
    this.s.insertInvoice.run(hash, nextCheckAt);
  }
  invoice(hash: string): NwcInvoiceRow | undefined {
    return this.s.invoice.get(hash);
  }
  dueInvoices(nowMs: number): NwcInvoiceRow[] {
    return this.s.due.all(nowMs);
  }
  reschedule(hash: string, nextCheckAt: number): void {
    this.s.reschedule.run(nextCheckAt, hash);
  }
  done(hash: string): void {
    this.s.done.run(hash);
  }
  payment(hash: string): NwcPaymentRow | undefined {
    return this.s.payment.get(hash);
  }
  pendingPayments(): NwcPaymentRow[] {
    return this.s.pending.all();
  }
  /** A new payment, or a retry of a failed one (attempt + 1). */
  startPayment(p: { paymentHash: string; fromAccount: string; amountMsat: number; feeLimitMsat: number; now: number }): void {
    if (this.payment(p.paymentHash)) this.s.retryPayment.run(p);
    else this.s.insertPayment.run(p);
  }
  succeed(hash: string, preimage: string, feeMsat: number, now: number): boolean {
    return this.s.succeed.run(preimage, feeMsat, now, hash).changes > 0;
  }
  fail(hash: string, failure: string, now: number): boolean {
    return this.s.fail.run(failure, now, hash).changes > 0;
  }
  /** The preimage of an invoice the remote settled (the ledger's invoices table), for its proof of payment. */
  setPreimage(hash: string, preimage: string): void {
    this.s.setPreimage.run(preimage, hash);
  }
}
