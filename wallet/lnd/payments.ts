// Paying over Lightning from a ledger account, at most once per payment hash:
//   1. one SQLite transaction: the lnd_payments row (pending) and the debit of amount + fee limit
//      from the account to `external` (`lnpay:<hash>:<attempt>`); an overdraft stops it here.
//   2. LND pays (SendPaymentV2) and we wait for the outcome.
//   3. succeeded: the unused fee limit goes back (`...:fee`); failed: everything goes back
//      (`...:refund`). When LND cannot say (the connection broke), the row stays pending and
//      `reconcile` asks LND (TrackPaymentV2) until it knows; "never initiated" counts as failed.
// A payment that is pending or succeeded is never sent again: a retry by the same account gets
// the first result, by another account InvoiceAlreadyPaidError. LND refuses a second payment of
// a hash on its side too.
import { EXTERNAL, type AccountId } from '../accounts.js';
import type { Bolt11Invoice } from '../bolt11.js';
import type { LndConfig } from '../config.js';
import * as E from '../errors.js';
import type { Ledger } from '../ledger.js';
import type { PaymentResult } from '../wallet.js';
import type { LndClient, PayOutcome } from './client.js';
import { LndUnavailableError, PaymentFailedError, PaymentPendingError } from './errors.js';
import type { LndPaymentRow, LndStore } from './store.js';
import type { WalletLog } from './invoices.js';

export class Payments {
  /** Hashes this process is paying right now (reconcile leaves them to pay()). */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly ledger: Ledger,
    private readonly store: LndStore,
    private readonly client: LndClient,
    private readonly cfg: LndConfig,
    private readonly log: WalletLog,
  ) {}

  feeLimit(amountMsat: number): number {
    return Math.max(this.cfg.feeLimitMinMsat, Math.ceil((amountMsat * this.cfg.feeLimitPercent) / 100));
  }

  async pay(inv: Bolt11Invoice, from: AccountId, amountMsat: number, maxFeeMsat?: number): Promise<PaymentResult> {
    const hash = inv.paymentHash;
    const feeLimit = maxFeeMsat ?? this.feeLimit(amountMsat);
    if (!Number.isSafeInteger(feeLimit) || feeLimit < 0) throw new E.InvalidAmountError(`maxFeeMsat must be a non-negative integer of msat, got ${feeLimit}`);
    if (this.inFlight.has(hash)) throw new PaymentPendingError(`a payment of ${hash} is in flight`);
    const first = this.ledger.atomic(() => {
      const row = this.store.payment(hash);
      if (row?.status === 'succeeded') {
        if (row.fromAccount === from) return result(row, true);
        throw new E.InvoiceAlreadyPaidError(`invoice ${hash} is already paid`);
      }
      if (row?.status === 'pending') throw new PaymentPendingError(`a payment of ${hash} is in flight; its outcome is posted when LND reports it`);
      this.store.startPayment({ paymentHash: hash, bolt11: inv.paymentRequest, fromAccount: from, amountMsat, feeLimitMsat: feeLimit, now: this.ledger.clock.now() });
      const attempt = this.store.payment(hash)!.attempt;
      this.ledger.post({
        key: `lnpay:${hash}:${attempt}`,
        kind: 'payment',
        memo: `pay ${amountMsat} msat (fee limit ${feeLimit}) over Lightning to ${inv.payee.slice(0, 16)}`,
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
      let out: PayOutcome;
      let refusal = '';
      try {
        out = await this.client.pay({ request: inv.paymentRequest, maxFeeMtokens: String(feeLimit), ...(inv.amountMsat === null ? { mtokens: String(amountMsat) } : {}) });
      } catch (err) {
        // LND refused, or the answer got lost: only LND knows whether the payment started.
        refusal = (err as Error).message;
        out = await this.client.trackPayment(hash).catch(() => ({ status: 'pending' }) as const);
        if (out.status === 'pending' && err instanceof LndUnavailableError) {
          this.log('warn', `payment ${hash}: ${refusal}; the debit stays until LND reports the outcome`);
        }
      }
      const row = this.finish(hash, out, refusal);
      if (row.status === 'succeeded') return result(row, false);
      if (row.status === 'failed') throw new PaymentFailedError(`payment ${hash} failed: ${row.failure}`, row.failure ?? '');
      throw new PaymentPendingError(`payment ${hash} is in flight (${refusal || 'LND has not reported the outcome yet'}); its outcome is posted when LND reports it`);
    } finally {
      this.inFlight.delete(hash);
    }
  }

  /** Asks LND about every pending payment not being paid right now and posts the outcomes it knows. */
  async reconcile(): Promise<void> {
    for (const p of this.store.pendingPayments()) {
      if (this.inFlight.has(p.paymentHash)) continue;
      try {
        this.finish(p.paymentHash, await this.client.trackPayment(p.paymentHash), '');
      } catch (err) {
        if (!(err instanceof LndUnavailableError)) this.log('warn', `checking payment ${p.paymentHash} failed: ${(err as Error).message}`);
        return; // LND is away: the next round tries again
      }
    }
  }

  /** Posts a final outcome (idempotent); returns the row as it is afterwards. */
  private finish(hash: string, out: PayOutcome, refusal: string): LndPaymentRow {
    return this.ledger.atomic(() => {
      const row = this.store.payment(hash)!;
      if (row.status !== 'pending' || out.status === 'pending') return row;
      const now = this.ledger.clock.now();
      const key = `lnpay:${hash}:${row.attempt}`;
      if (out.status === 'succeeded') {
        this.store.succeed(hash, out.preimage, out.feeMsat, now);
        const back = row.feeLimitMsat - out.feeMsat;
        if (back !== 0) {
          // LND keeps the fee within the limit; should it not, the account pays the difference.
          this.ledger.post({
            key: `${key}:fee`,
            kind: 'payment',
            memo: `routing fee ${out.feeMsat} msat (limit ${row.feeLimitMsat})`,
            entries: [
              { account: EXTERNAL, amountMsat: -back },
              { account: row.fromAccount, amountMsat: back },
            ],
          });
        }
      } else {
        const reason = out.status === 'failed' ? out.reason : `LND never started it${refusal ? ` (${refusal})` : ''}`;
        this.store.fail(hash, reason, now);
        this.ledger.post({
          key: `${key}:refund`,
          kind: 'payment',
          memo: `payment failed: ${reason}`.slice(0, 200),
          entries: [
            { account: EXTERNAL, amountMsat: -(row.amountMsat + row.feeLimitMsat) },
            { account: row.fromAccount, amountMsat: row.amountMsat + row.feeLimitMsat },
          ],
        });
      }
      return this.store.payment(hash)!;
    });
  }
}

function result(row: LndPaymentRow, replayed: boolean): PaymentResult {
  return {
    paymentHash: row.paymentHash,
    preimage: row.preimage!,
    amountMsat: row.amountMsat,
    feeMsat: row.feeMsat ?? 0,
    fromAccount: row.fromAccount,
    settledAt: row.settledAt ?? row.createdAt,
    replayed,
  };
}
