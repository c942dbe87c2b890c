// Escrow per job, on the ledger: `escrow:<jobId>` holds the customer's payment from the moment it is
// paid until the job ends; then it is released once (winner + fee, the rest to fees or back to the
// payer) or refunded once. Each move is one ledger transaction with the key `escrow:<jobId>:<move>`,
// and the escrows row changes in the same SQLite transaction, so a retry can neither pay twice nor
// pay after a refund.
import { FEES, TREASURY, accountKind, assertMsat, assertSpendable, escrowAccount } from './accounts.js';
import { EscrowNotFoundError, EscrowStateError, InvalidAccountError, InvalidAmountError } from './errors.js';
import type { Ledger } from './ledger.js';
import type { Records } from './records.js';
import type { EscrowRecord, HoldParams, ReleaseParams } from './wallet.js';

function checkJobId(jobId: string): void {
  if (typeof jobId !== 'string') throw new InvalidAccountError('job id must be a string');
  escrowAccount(jobId); // validates the characters and length
}

/** Moves `amountMsat` from an account into the job's escrow. A retry with the same payer and amount returns the escrow. */
export function holdEscrow(ledger: Ledger, rec: Records, p: HoldParams): EscrowRecord {
  checkJobId(p.jobId);
  assertSpendable(p.fromAccount);
  assertMsat(p.amountMsat);
  return ledger.atomic(() => {
    const existing = rec.escrow(p.jobId);
    if (existing) {
      if (existing.payer === p.fromAccount && existing.amountMsat === p.amountMsat) return existing;
      throw new EscrowStateError(`job ${p.jobId} already has an escrow of ${existing.amountMsat} msat from ${existing.payer}`);
    }
    const { txId } = ledger.post({
      key: `escrow:${p.jobId}:hold`,
      kind: 'escrow_hold',
      memo: `hold for job ${p.jobId}`,
      entries: [
        { account: p.fromAccount, amountMsat: -p.amountMsat },
        { account: escrowAccount(p.jobId), amountMsat: p.amountMsat },
      ],
    });
    rec.insertEscrow(p.jobId, p.fromAccount, p.amountMsat, txId, ledger.clock.now());
    for (const h of rec.openInvoicesForJob(p.jobId)) rec.finish(h, 'cancelled');
    return rec.escrow(p.jobId)!;
  });
}

/** Records an escrow whose money already arrived in `escrow:<jobId>` by transaction `txId` (a paid job invoice). */
export function recordEscrow(ledger: Ledger, rec: Records, jobId: string, payer: string, amountMsat: number, txId: number): void {
  if (rec.escrow(jobId)) throw new EscrowStateError(`job ${jobId} already has an escrow`);
  rec.insertEscrow(jobId, payer, amountMsat, txId, ledger.clock.now());
}

function nonNegative(n: number | undefined, what: string): number {
  if (n === undefined) return 0;
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidAmountError(`${what} must be a non-negative integer of msat, got ${n}`);
  return n;
}

/** Pays the escrow out: `amountMsat` to the winner, `feeMsat` to fees, the remainder to fees or back to the payer. */
export function releaseEscrow(ledger: Ledger, rec: Records, p: ReleaseParams): EscrowRecord {
  checkJobId(p.jobId);
  const kind = accountKind(p.toAccount);
  if (kind === 'external' || kind === 'escrow') throw new InvalidAccountError(`cannot release an escrow to ${p.toAccount}`);
  const fee = nonNegative(p.feeMsat, 'feeMsat');
  const cut = nonNegative(p.treasuryMsat, 'treasuryMsat');
  const remainderTo = p.remainderTo ?? 'fees';
  return ledger.atomic(() => {
    const e = rec.escrow(p.jobId);
    if (!e) throw new EscrowNotFoundError(`no escrow for job ${p.jobId} (not paid yet?)`);
    const amount = p.amountMsat === undefined ? e.amountMsat - fee - cut : nonNegative(p.amountMsat, 'amountMsat');
    if (amount < 0 || amount + fee + cut > e.amountMsat) {
      throw new InvalidAmountError(`release of ${amount} + fee ${fee} + treasury ${cut} msat exceeds the ${e.amountMsat} msat held for job ${p.jobId}`);
    }
    const remainder = e.amountMsat - amount - fee - cut;
    const toFees = fee + (remainderTo === 'fees' ? remainder : 0);
    const toPayer = remainderTo === 'payer' ? remainder : 0;
    if (e.status === 'released') {
      if (e.releasedTo === p.toAccount && e.releasedMsat === amount && e.feeMsat === toFees && e.refundedMsat === toPayer) return e;
      throw new EscrowStateError(`job ${p.jobId} was already released: ${e.releasedMsat} msat to ${e.releasedTo}`);
    }
    if (e.status === 'refunded') throw new EscrowStateError(`job ${p.jobId} was already refunded`);
    const { txId } = ledger.post({
      key: `escrow:${p.jobId}:release`,
      kind: 'escrow_release',
      memo: `release job ${p.jobId} to ${p.toAccount}`,
      entries: [
        { account: escrowAccount(p.jobId), amountMsat: -e.amountMsat },
        { account: p.toAccount, amountMsat: amount },
        { account: FEES, amountMsat: toFees },
        { account: TREASURY, amountMsat: cut },
        { account: e.payer, amountMsat: toPayer },
      ],
    });
    rec.closeEscrow({
      jobId: p.jobId,
      status: 'released',
      releasedTo: p.toAccount,
      releasedMsat: amount,
      feeMsat: toFees,
      refundedMsat: toPayer,
      reason: '',
      txId,
      now: ledger.clock.now(),
    });
    return rec.escrow(p.jobId)!;
  });
}

/**
 * Returns everything held to the payer. A retry returns the refunded escrow; after a release it
 * throws. With no escrow yet it cancels the job's open invoices (so a late payment is refused) and returns null.
 */
export function refundEscrow(ledger: Ledger, rec: Records, jobId: string, reason: string): { escrow: EscrowRecord | null; cancelled: string[] } {
  checkJobId(jobId);
  return ledger.atomic(() => {
    const cancelled = rec.openInvoicesForJob(jobId).filter((h) => rec.finish(h, 'cancelled'));
    const e = rec.escrow(jobId);
    if (!e) return { escrow: null, cancelled };
    if (e.status === 'refunded') return { escrow: e, cancelled };
    if (e.status === 'released') throw new EscrowStateError(`job ${jobId} was already released to ${e.releasedTo}; it cannot be refunded`);
    const { txId } = ledger.post({
      key: `escrow:${jobId}:refund`,
      kind: 'escrow_refund',
      memo: `refund job ${jobId}${reason ? ': ' + reason : ''}`,
      entries: [
        { account: escrowAccount(jobId), amountMsat: -e.amountMsat },
        { account: e.payer, amountMsat: e.amountMsat },
      ],
    });
    rec.closeEscrow({
      jobId,
      status: 'refunded',
      releasedTo: null,
      releasedMsat: 0,
      feeMsat: 0,
      refundedMsat: e.amountMsat,
      reason,
      txId,
      now: ledger.clock.now(),
    });
    return { escrow: rec.escrow(jobId)!, cancelled };
  });
}
