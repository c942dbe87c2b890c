// Invoice notifications. Settlements are read back from the ledger (transactions with the key
// `invoice:<hash>`, in id order) rather than pushed from the code that wrote them, so a payment made
// by another process on the same database (e.g. `timmy wallet pay` next to a running instance) is
// announced exactly like one made here. While anyone listens, a timer checks PRAGMA data_version
// (which changes only when another connection commits) and expires due invoices.
import type { InvoiceRecord, InvoiceUpdate, Unsubscribe } from './wallet.js';

export interface NotifierSource {
  /** Settlements committed after transaction `afterTxId`, oldest first. */
  settlementsSince(afterTxId: number): { txId: number; paymentHash: string }[];
  maxTxId(): number;
  invoice(paymentHash: string): InvoiceRecord | undefined;
  /** Marks open invoices past their expiry as expired; returns how many. */
  expireDue(): number;
  /** Changes when another connection commits. */
  dataVersion(): number;
}

type Final = InvoiceUpdate['status'];
/** `accepted` (a hold invoice whose payment the node holds) is final for whoever waits for the payment. */
const isFinal = (s: string): s is Final => s === 'paid' || s === 'accepted' || s === 'expired' || s === 'cancelled';

export class InvoiceNotifier {
  private lastTxId: number;
  private lastVersion: number;
  private readonly paidListeners = new Set<(u: InvoiceUpdate) => void>();
  private readonly subs = new Map<string, Set<(u: InvoiceUpdate) => void>>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly src: NotifierSource,
    private readonly pollMs: number,
    private readonly onListenerError: (err: unknown) => void,
  ) {
    this.lastTxId = src.maxTxId();
    this.lastVersion = src.dataVersion();
  }

  onPaid(cb: (u: InvoiceUpdate) => void): Unsubscribe {
    this.paidListeners.add(cb);
    this.schedule();
    return () => {
      this.paidListeners.delete(cb);
      this.schedule();
    };
  }

  subscribe(paymentHash: string, cb: (u: InvoiceUpdate) => void): Unsubscribe {
    let set = this.subs.get(paymentHash);
    if (!set) this.subs.set(paymentHash, (set = new Set()));
    set.add(cb);
    this.schedule();
    // Already final (or final by the time the microtask runs): deliver without waiting for a poll.
    queueMicrotask(() => this.checkSubscriptions([paymentHash]));
    return () => {
      const s = this.subs.get(paymentHash);
      s?.delete(cb);
      if (s && s.size === 0) this.subs.delete(paymentHash);
      this.schedule();
    };
  }

  /** Announces whatever was committed since the last call. Call after every commit made here. */
  drain(): void {
    if (this.closed) return;
    for (const { txId, paymentHash } of this.src.settlementsSince(this.lastTxId)) {
      this.lastTxId = txId;
      const inv = this.src.invoice(paymentHash);
      if (!inv) continue;
      const u: InvoiceUpdate = { paymentHash, status: inv.status === 'accepted' ? 'accepted' : 'paid', invoice: inv };
      for (const cb of [...this.paidListeners]) this.call(cb, u);
    }
    this.checkSubscriptions([...this.subs.keys()]);
  }

  /** One timer tick: expire due invoices, and drain if anything changed. */
  poll(): void {
    if (this.closed) return;
    const expired = this.subs.size > 0 || this.paidListeners.size > 0 ? this.src.expireDue() : 0;
    const v = this.src.dataVersion();
    if (expired > 0 || v !== this.lastVersion) {
      this.lastVersion = v;
      this.drain();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.subs.clear();
    this.paidListeners.clear();
  }

  private checkSubscriptions(hashes: string[]): void {
    if (this.closed) return;
    for (const h of hashes) {
      const set = this.subs.get(h);
      if (!set) continue;
      const inv = this.src.invoice(h);
      if (!inv || !isFinal(inv.status)) continue;
      this.subs.delete(h);
      const u: InvoiceUpdate = { paymentHash: h, status: inv.status, invoice: inv };
      for (const cb of set) this.call(cb, u);
    }
  }

  private call(cb: (u: InvoiceUpdate) => void, u: InvoiceUpdate): void {
    try {
      cb(u);
    } catch (err) {
      this.onListenerError(err);
    }
  }

  private schedule(): void {
    const wanted = !this.closed && (this.subs.size > 0 || this.paidListeners.size > 0);
    if (wanted && !this.timer) {
      this.timer = setInterval(() => {
        try {
          this.poll();
        } catch (err) {
          this.onListenerError(err); // e.g. SQLITE_BUSY: the next tick tries again
        }
      }, this.pollMs);
      this.timer.unref();
    } else if (!wanted && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
