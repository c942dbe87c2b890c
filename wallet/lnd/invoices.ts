// Our invoices on LND, mirrored into the ledger. LND decides what happened to an invoice (open,
// accepted, settled, cancelled); `apply` writes it down in one SQLite transaction:
//   a job's hold invoice ACCEPTED  -> external -> escrow:<job> (`invoice:<hash>`), escrow recorded
//                                     with the payer `external` (a refund is the HTLC going back)
//   a standard invoice SETTLED     -> external -> the invoice's account (`invoice:<hash>`)
//   another hold invoice SETTLED   -> the same, once settled (until then the money is not ours)
//   an accepted job invoice CANCELED (LND gave the HTLC back, e.g. near its expiry)
//                                  -> the escrow is refunded to `external`
// A payment that arrives for an invoice we no longer want (cancelled or expired here, paid from an
// account, or a second payment for a job) is cancelled on LND, so the payer gets it back.
// InvoiceWatcher follows each live invoice with SubscribeSingleInvoice and, when a stream breaks
// (LND restarts, the connection drops), subscribes again with growing pauses; cancels that could
// not reach LND are retried the same way.
import { EXTERNAL } from '../accounts.js';
import { recordEscrow, refundEscrow } from '../escrow.js';
import type { Ledger } from '../ledger.js';
import type { Records } from '../records.js';
import type { LndClient, LndInvoice } from './client.js';
import type { LndStore } from './store.js';

export type WalletLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export class InvoiceSync {
  /** Invoices being paid from an account right now: our own cancel on LND must not read as a cancellation. */
  readonly payingInside = new Set<string>();

  constructor(
    private readonly ledger: Ledger,
    private readonly rec: Records,
    private readonly store: LndStore,
    private readonly log: WalletLog,
  ) {}

  /** Records LND's view of one invoice; true when the invoice should be cancelled on LND. */
  apply(u: LndInvoice): boolean {
    return this.ledger.atomic(() => {
      const h = u.paymentHash;
      const row = this.rec.invoice(h);
      const l = this.store.invoice(h);
      if (!row || !l) return false;
      const now = this.ledger.clock.now();
      this.store.setState(h, u.state, u.receivedMsat, u.htlcExpiry, now);
      // What arrived (LND reports it for accepted and settled invoices; at least the amount asked).
      const received = Math.max(u.receivedMsat, row.amountMsat);
      switch (u.state) {
        case 'OPEN':
          return l.cancelPending === 1 || (row.status !== 'open' && row.status !== 'accepted');
        case 'ACCEPTED': {
          if (row.status === 'accepted') return false;
          if (row.status !== 'open' || l.cancelPending === 1 || row.kind !== 'hold') return true;
          if (row.jobId === null) {
            // Someone else's preimage: the money is ours only once settleHold runs.
            this.rec.markAccepted(h, EXTERNAL, null);
            return false;
          }
          if (this.rec.escrow(row.jobId)) return true; // the job was paid another way
          const { txId } = this.ledger.post({
            key: `invoice:${h}`,
            kind: 'payment',
            memo: row.description.slice(0, 200),
            entries: [
              { account: EXTERNAL, amountMsat: -received },
              { account: row.account, amountMsat: received },
            ],
          });
          this.rec.markAccepted(h, EXTERNAL, txId);
          recordEscrow(this.ledger, this.rec, row.jobId, EXTERNAL, received, txId);
          for (const other of this.rec.openInvoicesForJob(row.jobId)) {
            this.rec.finish(other, 'cancelled');
            if (this.store.invoice(other)) this.store.setCancelPending(other, true, now);
          }
          return false;
        }
        case 'SETTLED': {
          this.store.setCancelPending(h, false, now);
          if (row.status === 'paid') {
            if (row.paidBy !== EXTERNAL) this.log('error', `invoice ${h} was paid from ${row.paidBy} and also over Lightning (${u.receivedMsat} msat); the Lightning payment is not in the ledger`);
            return false;
          }
          if (row.status === 'accepted' && row.jobId !== null) {
            this.rec.settleAccepted(h, now); // the escrow's money is ours; release moves it on
            return false;
          }
          if (row.jobId !== null) {
            this.log('error', `job ${row.jobId}'s invoice ${h} was settled on LND without an escrow here; ${u.receivedMsat} msat are not in the ledger`);
            return false;
          }
          const { txId } = this.ledger.post({
            key: `invoice:${h}`,
            kind: 'payment',
            memo: row.description.slice(0, 200),
            entries: [
              { account: EXTERNAL, amountMsat: -received },
              { account: row.account, amountMsat: received },
            ],
          });
          this.rec.markPaid(h, now, EXTERNAL, txId);
          if (row.status !== 'open' && row.status !== 'accepted') this.log('warn', `invoice ${h} was ${row.status} here but LND settled it: ${u.receivedMsat} msat credited to ${row.account}`);
          return false;
        }
        case 'CANCELED': {
          this.store.setCancelPending(h, false, now);
          if (row.status === 'open' && !this.payingInside.has(h)) this.rec.finish(h, now >= row.expiresAt ? 'expired' : 'cancelled');
          if (row.status === 'accepted') {
            if (row.jobId !== null && this.rec.escrow(row.jobId)?.status === 'held') {
              refundEscrow(this.ledger, this.rec, row.jobId, 'LND cancelled the held payment (its HTLC neared expiry)');
              this.log('warn', `LND cancelled the held payment of job ${row.jobId} (its HTLC neared expiry): the escrow went back to the payer`);
            }
            this.rec.cancelAccepted(h);
          }
          return false;
        }
      }
    });
  }
}

interface Watch {
  stop: (() => void) | null;
  failures: number;
  retryAt: number;
  cancelling: boolean;
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;
const backoff = (failures: number) => Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.min(failures, 10));

export class InvoiceWatcher {
  private readonly watches = new Map<string, Watch>();
  private closed = false;

  constructor(
    private readonly client: LndClient,
    private readonly store: LndStore,
    private readonly sync: InvoiceSync,
    /** After every change written (announces it to the wallet's listeners). */
    private readonly changed: () => void,
    private readonly log: WalletLog,
  ) {}

  /** Follows an invoice now (e.g. right after creating it). */
  watch(paymentHash: string): void {
    const w = this.entry(paymentHash);
    if (!w.stop) this.subscribe(paymentHash, w);
  }

  /**
   * One round: follow every live invoice that is not followed (after its pause), and push cancels
   * that have not reached LND yet.
   */
  tick(): void {
    if (this.closed) return;
    const now = Date.now();
    for (const l of this.store.liveInvoices()) {
      const w = this.entry(l.paymentHash);
      if (w.retryAt > now) continue;
      if (l.cancelPending === 1) void this.cancel(l.paymentHash, w);
      else if (!w.stop) this.subscribe(l.paymentHash, w);
    }
  }

  /** Asks LND to cancel the invoice; on failure it is tried again later. */
  async cancel(paymentHash: string, w = this.entry(paymentHash)): Promise<void> {
    if (w.cancelling || this.closed) return;
    w.cancelling = true;
    try {
      await this.client.cancelInvoice(paymentHash);
      this.record(await this.client.lookupInvoice(paymentHash));
      w.failures = 0;
    } catch (err) {
      // Settled before the cancel arrived: record that instead.
      const settled = await this.client.lookupInvoice(paymentHash).catch(() => null);
      if (settled?.state === 'SETTLED') this.record(settled);
      else {
        w.retryAt = Date.now() + backoff(w.failures++);
        this.log('warn', `cancelling invoice ${paymentHash} on LND failed (tried again later): ${(err as Error).message}`);
      }
    } finally {
      w.cancelling = false;
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.watches.values()) w.stop?.();
    this.watches.clear();
  }

  private entry(paymentHash: string): Watch {
    let w = this.watches.get(paymentHash);
    if (!w) this.watches.set(paymentHash, (w = { stop: null, failures: 0, retryAt: 0, cancelling: false }));
    return w;
  }

  private subscribe(paymentHash: string, w: Watch): void {
    if (this.closed) return;
    const stop = this.client.subscribeInvoice(
      paymentHash,
      (u) => {
        w.failures = 0;
        this.record(u);
        if ((u.state === 'SETTLED' || u.state === 'CANCELED') && this.store.invoice(paymentHash)?.cancelPending !== 1) {
          w.stop?.();
          this.watches.delete(paymentHash);
        }
      },
      (err) => {
        if (w.stop !== stop) return;
        w.stop = null;
        if (this.closed) return;
        if (err) {
          w.retryAt = Date.now() + backoff(w.failures++);
          if (w.failures === 1) this.log('warn', `lost LND's updates of invoice ${paymentHash} (following again): ${err.message}`);
        }
      },
    );
    w.stop = stop;
  }

  /** Reads the invoice from LND and records what it says. */
  async refresh(paymentHash: string): Promise<LndInvoice> {
    const u = await this.client.lookupInvoice(paymentHash);
    this.record(u);
    return u;
  }

  /** Writes down an update of LND's (and cancels on LND what we no longer want). */
  record(u: LndInvoice): void {
    if (this.closed) return;
    let cancel = false;
    try {
      cancel = this.sync.apply(u);
    } catch (err) {
      this.log('error', `recording LND's update of invoice ${u.paymentHash} failed: ${(err as Error).message}`);
      return;
    }
    this.changed();
    if (cancel && u.state !== 'CANCELED' && u.state !== 'SETTLED') {
      this.store.setCancelPending(u.paymentHash, true, Math.floor(Date.now() / 1000));
      void this.cancel(u.paymentHash);
    }
  }
}
