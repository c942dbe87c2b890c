// Rows of the invoices and escrows tables, read and written inside the ledger's transactions.
import type Database from 'better-sqlite3';
import type { EscrowRecord, EscrowStatus, InvoiceRecord, InvoiceStatus } from './wallet.js';

export interface InvoiceRow extends InvoiceRecord {
  readonly preimage: string | null;
  readonly refundAccount: string | null;
  readonly kind: 'standard' | 'hold';
  readonly settleTxId: number | null;
}

const INVOICE_COLS = `payment_hash AS paymentHash, preimage, bolt11, amount_msat AS amountMsat, description, account,
  job_id AS jobId, refund_account AS refundAccount, kind, status, created_at AS createdAt, expires_at AS expiresAt,
  settled_at AS settledAt, paid_by AS paidBy, settle_tx_id AS settleTxId`;

const ESCROW_COLS = `job_id AS jobId, payer, amount_msat AS amountMsat, status, released_to AS releasedTo,
  released_msat AS releasedMsat, fee_msat AS feeMsat, refunded_msat AS refundedMsat, reason,
  created_at AS createdAt, closed_at AS closedAt`;

/** The public view of an invoice row (no preimage). */
export function invoiceRecord(r: InvoiceRow): InvoiceRecord {
  return {
    paymentHash: r.paymentHash,
    bolt11: r.bolt11,
    amountMsat: r.amountMsat,
    description: r.description,
    account: r.account,
    jobId: r.jobId,
    status: r.status,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    settledAt: r.settledAt,
    paidBy: r.paidBy,
  };
}

export class Records {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      insertInvoice: db.prepare(
        `INSERT INTO invoices (payment_hash, preimage, bolt11, amount_msat, description, account, job_id, refund_account, kind, status, created_at, expires_at)
         VALUES (@paymentHash, @preimage, @bolt11, @amountMsat, @description, @account, @jobId, @refundAccount, @kind, 'open', @createdAt, @expiresAt)`,
      ),
      invoice: db.prepare<[string], InvoiceRow>(`SELECT ${INVOICE_COLS} FROM invoices WHERE payment_hash = ?`),
      openForJob: db.prepare<[string], { h: string }>(`SELECT payment_hash AS h FROM invoices WHERE job_id = ? AND status = 'open'`),
      setStatus: db.prepare(`UPDATE invoices SET status = ? WHERE payment_hash = ? AND status = 'open'`),
      markPaid: db.prepare(`UPDATE invoices SET status = 'paid', settled_at = ?, paid_by = ?, settle_tx_id = ? WHERE payment_hash = ?`),
      markAccepted: db.prepare(`UPDATE invoices SET status = 'accepted', paid_by = ?, settle_tx_id = ? WHERE payment_hash = ? AND status = 'open'`),
      settleAccepted: db.prepare(`UPDATE invoices SET status = 'paid', settled_at = ? WHERE payment_hash = ? AND status = 'accepted'`),
      cancelAccepted: db.prepare(`UPDATE invoices SET status = 'cancelled' WHERE payment_hash = ? AND status = 'accepted'`),
      acceptedForJob: db.prepare<[string], { h: string }>(`SELECT payment_hash AS h FROM invoices WHERE job_id = ? AND status = 'accepted'`),
      due: db.prepare<[number], { h: string }>(`SELECT payment_hash AS h FROM invoices WHERE status = 'open' AND expires_at <= ?`),
      settlementsSince: db.prepare<[number], { id: number; key: string }>(
        `SELECT id, idempotency_key AS key FROM transactions WHERE id > ? AND idempotency_key LIKE 'invoice:%' ORDER BY id`,
      ),
      maxTxId: db.prepare<[], { m: number | null }>('SELECT MAX(id) AS m FROM transactions'),
      escrow: db.prepare<[string], EscrowRecord>(`SELECT ${ESCROW_COLS} FROM escrows WHERE job_id = ?`),
      recentEscrows: db.prepare<[number], EscrowRecord>(`SELECT ${ESCROW_COLS} FROM escrows ORDER BY hold_tx_id DESC LIMIT ?`),
      insertEscrow: db.prepare(
        `INSERT INTO escrows (job_id, payer, amount_msat, status, hold_tx_id, created_at) VALUES (?, ?, ?, 'held', ?, ?)`,
      ),
      closeEscrow: db.prepare(
        `UPDATE escrows SET status = @status, released_to = @releasedTo, released_msat = @releasedMsat, fee_msat = @feeMsat,
           refunded_msat = @refundedMsat, reason = @reason, close_tx_id = @txId, closed_at = @now
         WHERE job_id = @jobId AND status = 'held'`,
      ),
    };
  }

  insertInvoice(r: {
    paymentHash: string;
    preimage: string | null;
    bolt11: string;
    amountMsat: number;
    description: string;
    account: string;
    jobId: string | null;
    refundAccount: string | null;
    kind: 'standard' | 'hold';
    createdAt: number;
    expiresAt: number;
  }): void {
    this.s.insertInvoice.run(r);
  }

  invoice(paymentHash: string): InvoiceRow | undefined {
    return this.s.invoice.get(paymentHash);
  }

  openInvoicesForJob(jobId: string): string[] {
    return this.s.openForJob.all(jobId).map((r) => r.h);
  }

  /** Moves an open invoice to `status`; false if it was not open. */
  finish(paymentHash: string, status: Exclude<InvoiceStatus, 'open' | 'paid'>): boolean {
    return this.s.setStatus.run(status, paymentHash).changes > 0;
  }

  markPaid(paymentHash: string, now: number, paidBy: string, txId: number): void {
    this.s.markPaid.run(now, paidBy, txId, paymentHash);
  }

  /**
   * A hold invoice whose payment arrived and is held by the node (LND): `paidBy` and, for a job's
   * invoice, the ledger transaction that put the money in escrow. False if it was not open.
   */
  markAccepted(paymentHash: string, paidBy: string, txId: number | null): boolean {
    return this.s.markAccepted.run(paidBy, txId, paymentHash).changes > 0;
  }

  /** An accepted hold invoice was settled (the money is ours); false if it was not accepted. */
  settleAccepted(paymentHash: string, now: number): boolean {
    return this.s.settleAccepted.run(now, paymentHash).changes > 0;
  }

  /** An accepted hold invoice was cancelled (the payment went back); false if it was not accepted. */
  cancelAccepted(paymentHash: string): boolean {
    return this.s.cancelAccepted.run(paymentHash).changes > 0;
  }

  /** The job's accepted hold invoice (its escrow is held by the node), if any. */
  acceptedForJob(jobId: string): string | undefined {
    return this.s.acceptedForJob.get(jobId)?.h;
  }

  /** Open invoices whose expiry has passed. */
  dueInvoices(now: number): string[] {
    return this.s.due.all(now).map((r) => r.h);
  }

  /** Invoice settlements committed after transaction `afterTxId`, oldest first. */
  settlementsSince(afterTxId: number): { txId: number; paymentHash: string }[] {
    return this.s.settlementsSince.all(afterTxId).map((r) => ({ txId: r.id, paymentHash: r.key.slice('invoice:'.length) }));
  }

  maxTxId(): number {
    return this.s.maxTxId.get()?.m ?? 0;
  }

  escrow(jobId: string): EscrowRecord | undefined {
    return this.s.escrow.get(jobId) as (EscrowRecord & { status: EscrowStatus }) | undefined;
  }

  /** The newest `limit` escrows (by when they were held), newest first. */
  recentEscrows(limit: number): EscrowRecord[] {
    return this.s.recentEscrows.all(limit);
  }

  insertEscrow(jobId: string, payer: string, amountMsat: number, holdTxId: number, now: number): void {
    this.s.insertEscrow.run(jobId, payer, amountMsat, holdTxId, now);
  }

  closeEscrow(c: {
    jobId: string;
    status: 'released' | 'refunded';
    releasedTo: string | null;
    releasedMsat: number;
    feeMsat: number;
    refundedMsat: number;
    reason: string;
    txId: number;
    now: number;
  }): void {
    this.s.closeEscrow.run(c);
  }
}
