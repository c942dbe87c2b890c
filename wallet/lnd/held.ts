// A job's escrow held by LND: the customer's payment is an HTLC on a hold invoice whose preimage
// only Timmy knows (wallet/lnd/invoices.ts records it in escrow:<job> when LND accepts it).
//   release: SettleInvoice first (riding out a short LND outage), then the ledger's release.
//            A bad release fails before anything moves (checked in a rolled-back transaction).
//   refund:  the ledger at once (escrow -> external), then CancelInvoice, retried until LND
//            takes it; the HTLC going back is the refund. Never after LND settled it.
import * as E from '../errors.js';
import { refundEscrow, releaseEscrow } from '../escrow.js';
import type { Ledger } from '../ledger.js';
import type { InvoiceRow, Records } from '../records.js';
import type { EscrowRecord, ReleaseParams } from '../wallet.js';
import type { LndClient } from './client.js';
import { LndUnavailableError } from './errors.js';
import type { InvoiceWatcher } from './invoices.js';
import type { LndStore } from './store.js';

const DRY_RUN = Symbol('dry run');

/** Runs `fn` in a transaction that is always rolled back: its checks, without its effects. */
export function dryRun(ledger: Ledger, fn: () => unknown): void {
  try {
    ledger.atomic(() => {
      fn();
      throw DRY_RUN;
    });
  } catch (err) {
    if (err !== DRY_RUN) throw err;
  }
}

export interface HeldEscrowDeps {
  readonly ledger: Ledger;
  readonly rec: Records;
  readonly store: LndStore;
  readonly client: LndClient;
  readonly watcher: InvoiceWatcher;
  /** Announces committed changes to the wallet's listeners. */
  readonly drained: () => void;
  /** How long a release keeps trying to settle while LND cannot be reached. */
  readonly settleRetryMs: number;
}

export class HeldEscrows {
  constructor(private readonly d: HeldEscrowDeps) {}

  /** The job's accepted hold invoice, if its escrow is held by LND. */
  heldInvoice(jobId: string): string | undefined {
    return typeof jobId === 'string' ? this.d.rec.acceptedForJob(jobId) : undefined;
  }

  async release(held: string, p: ReleaseParams): Promise<EscrowRecord> {
    const { ledger, rec } = this.d;
    dryRun(ledger, () => releaseEscrow(ledger, rec, p));
    await this.settle(rec.invoice(held)!);
    const e = ledger.atomic(() => {
      rec.settleAccepted(held, ledger.clock.now());
      return releaseEscrow(ledger, rec, p);
    });
    this.d.drained();
    return e;
  }

  /** Refunds the job's escrow (held by LND or not) and cancels its invoices on LND. */
  async refund(jobId: string, reason: string): Promise<EscrowRecord | null> {
    const { ledger, rec, store } = this.d;
    const held = this.heldInvoice(jobId);
    if (held) {
      // Settled on LND already (a release that stopped before the ledger): refunding would lose the money.
      const u = await this.d.client.lookupInvoice(held).catch(() => null);
      if (u?.state === 'SETTLED') throw new E.EscrowStateError(`job ${jobId}'s payment is already settled on LND; release the job instead`);
    }
    const now = ledger.clock.now();
    const r = ledger.atomic(() => {
      const out = refundEscrow(ledger, rec, jobId, reason);
      const toCancel = [...out.cancelled];
      if (held && rec.cancelAccepted(held)) toCancel.push(held);
      const onLnd = toCancel.filter((h) => store.invoice(h));
      for (const h of onLnd) store.setCancelPending(h, true, now);
      return { escrow: out.escrow, onLnd };
    });
    this.d.drained();
    // The ledger is settled; LND gives the HTLC back now, or when it can be reached (retried).
    await Promise.all(r.onLnd.map((h) => this.d.watcher.cancel(h)));
    return r.escrow;
  }

  /** Settles the held HTLC; refunds the escrow (and throws) if LND gave it back meanwhile. */
  private async settle(row: InvoiceRow): Promise<void> {
    const { client, watcher } = this.d;
    const deadline = Date.now() + this.d.settleRetryMs;
    for (let pause = 250; ; pause = Math.min(pause * 2, 4000)) {
      try {
        await client.settleInvoice(row.preimage!);
        await watcher.refresh(row.paymentHash).catch(() => undefined);
        return;
      } catch (err) {
        const u = await client.lookupInvoice(row.paymentHash).catch(() => null);
        if (u?.state === 'SETTLED') return;
        if (u?.state === 'CANCELED') {
          watcher.record(u);
          throw new E.EscrowStateError(`job ${row.jobId}'s payment went back to the payer before it was settled (LND cancelled the HTLC); the escrow was refunded`);
        }
        if (!(err instanceof LndUnavailableError) || Date.now() + pause > deadline) throw err;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }
}
