// Settling an invoice this wallet issued, paid from an account it holds: one ledger transaction
// keyed by the payment hash (payer -> the invoice's account), the invoice marked paid, and for a
// job's invoice the escrow recorded, all inside the caller's atomic() block.
import type { AccountId } from './accounts.js';
import * as E from './errors.js';
import { recordEscrow } from './escrow.js';
import type { Ledger } from './ledger.js';
import type { Records } from './records.js';
import type { PaymentResult } from './wallet.js';

export function settleInvoice(ledger: Ledger, rec: Records, hash: string, from: AccountId, amountMsat: number | undefined): PaymentResult {
  const r = rec.invoice(hash);
  if (!r) throw new E.InvoiceNotFoundError(`no invoice ${hash}`);
  const now = ledger.clock.now();
  const result = (settledAt: number, replayed: boolean): PaymentResult => ({
    paymentHash: hash,
    preimage: r.preimage!,
    amountMsat: r.amountMsat,
    feeMsat: 0,
    fromAccount: from,
    settledAt,
    replayed,
  });
  if (amountMsat !== undefined && amountMsat !== r.amountMsat) throw new E.InvalidAmountError(`the invoice is for ${r.amountMsat} msat, not ${amountMsat}`);
  if (r.status === 'paid') {
    // The same payer retrying gets the first result; nothing moves again.
    if (r.paidBy === from) return result(r.settledAt!, true);
    throw new E.InvoiceAlreadyPaidError(`invoice ${hash} is already paid`);
  }
  // A hold invoice paid over Lightning whose payment the node holds: paid, by someone else.
  if (r.status === 'accepted') throw new E.InvoiceAlreadyPaidError(`invoice ${hash} is already paid`);
  if (r.status === 'cancelled') throw new E.InvoiceCancelledError(`invoice ${hash} was cancelled`);
  if (r.status === 'expired' || now >= r.expiresAt) {
    throw new E.InvoiceExpiredError(`invoice ${hash} expired at ${new Date(r.expiresAt * 1000).toISOString()}`);
  }
  // A hold invoice whose preimage we hold (a job's invoice on LND) can be paid from an account; one
  // whose preimage only its creator knows cannot be settled here.
  if (r.preimage === null) throw new E.WalletUnsupportedError('this hold invoice is settled by whoever holds its preimage (settleHold)');
  if (from === r.account) throw new E.InvalidAccountError(`${from} cannot pay its own invoice`);
  if (r.jobId !== null && rec.escrow(r.jobId)) throw new E.EscrowStateError(`job ${r.jobId} already has an escrow`);
  const { txId } = ledger.post({
    key: `invoice:${hash}`,
    kind: 'payment',
    memo: r.description.slice(0, 200),
    entries: [
      { account: from, amountMsat: -r.amountMsat },
      { account: r.account, amountMsat: r.amountMsat },
    ],
  });
  rec.markPaid(hash, now, from, txId);
  if (r.jobId !== null) {
    recordEscrow(ledger, rec, r.jobId, r.refundAccount ?? from, r.amountMsat, txId);
    for (const h of rec.openInvoicesForJob(r.jobId)) rec.finish(h, 'cancelled');
  }
  return result(now, false);
}
