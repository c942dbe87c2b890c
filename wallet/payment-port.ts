// The wallet as the DVM uses it (the shape of dvm/ports.ts PaymentPort; wallet/ cannot import dvm/,
// TypeScript matches the shapes structurally). The composition root passes `paymentPort(wallet)`.
import { TREASURY } from './accounts.js';
import { PaymentPendingError } from './lnd/errors.js';
import type { Wallet } from './wallet.js';

export interface JobPayments {
  invoiceForJob(jobId: string, amountMsat: number, description: string): Promise<{ bolt11: string; paymentHash: string }>;
  waitPaid(paymentHash: string, signal: AbortSignal): Promise<boolean>;
  isPaid(paymentHash: string): Promise<boolean>;
  proof(paymentHash: string): Promise<{ bolt11: string; preimage: string } | null>;
  release(jobId: string, agentAccount: string, agentMsat: number): Promise<void>;
  refund(jobId: string, reason: string): Promise<void>;
  canPayPeer(amountMsat: number): Promise<string | null>;
  checkPeerInvoice(bolt11: string, amountMsat: number): Promise<string | null>;
  payPeer(bolt11: string, maxFeeMsat: number, signal: AbortSignal): Promise<{ feeMsat: number; preimage: string }>;
  reimburse(jobId: string, msat: number): Promise<void>;
}

export interface PaymentPortOptions {
  /** Invoice lifetime; default: the wallet's (wallet.invoiceExpirySeconds). */
  readonly expirySeconds?: number;
  /** wallet.treasury.feePct: this percent of the agent's payment goes to `treasury` (rounded down to the msat). */
  readonly treasuryFeePct?: number;
}

/** The treasury's cut of an agent payment: `pct` percent, rounded down to the msat. */
export function treasuryCut(agentMsat: number, pct: number): number {
  if (!(pct > 0) || agentMsat <= 0) return 0;
  return Math.min(agentMsat, Math.floor((agentMsat * Math.min(100, pct)) / 100));
}

export function paymentPort(wallet: Wallet, o: PaymentPortOptions = {}): JobPayments {
  return {
    /** The payment lands in `escrow:<jobId>`; a second invoice for the same job is fine (the first paid cancels the rest). */
    async invoiceForJob(jobId, amountMsat, description) {
      const inv = await wallet.createInvoice({ amountMsat, description, jobId, ...(o.expirySeconds ? { expirySeconds: o.expirySeconds } : {}) });
      return { bolt11: inv.bolt11, paymentHash: inv.paymentHash };
    },

    /**
     * True once paid (or, for an LND hold invoice, accepted: the escrow is held), false once expired
     * or cancelled; rejects with the signal's reason when aborted.
     */
    waitPaid(paymentHash, signal) {
      return new Promise<boolean>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        let unsubscribe = (): void => {};
        const onAbort = () => {
          unsubscribe();
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          unsubscribe = wallet.subscribeInvoice(paymentHash, (u) => {
            signal.removeEventListener('abort', onAbort);
            resolve(u.status === 'paid' || u.status === 'accepted');
          });
        } catch (err) {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        }
      });
    },

    /** The payment arrived: paid, accepted (held by LND), or paid and since given back (a refunded hold invoice). */
    async isPaid(paymentHash) {
      const inv = await wallet.lookupInvoice(paymentHash);
      return !!inv && (inv.status === 'paid' || inv.status === 'accepted' || inv.paidBy !== null);
    },

    proof: (paymentHash) => wallet.paymentProof(paymentHash),

    /**
     * `agentMsat` minus the treasury's cut to the agent, the cut to `treasury`, the rest of the
     * escrow (coordinator fee, auction surplus) to `fees`.
     */
    async release(jobId, agentAccount, agentMsat) {
      const cut = treasuryCut(agentMsat, o.treasuryFeePct ?? 0);
      await wallet.release({ jobId, toAccount: agentAccount, amountMsat: agentMsat - cut, treasuryMsat: cut, remainderTo: 'fees' });
    },

    async refund(jobId, reason) {
      await wallet.refund(jobId, reason);
    },

    // Paying another instance (docs/federation.md, "Paid jobs between instances"). The treasury
    // fronts the payment and the job's escrow pays it back on release: the customer's own payment
    // (an LND hold invoice) stays refundable until the peer has delivered.

    /** Null when the wallet can pay `amountMsat` to another node now; the reason when not. */
    async canPayPeer(amountMsat) {
      if (!wallet.capabilities.payExternal) return 'the wallet cannot pay other Lightning nodes (wallet.backend lnd can)';
      const have = await wallet.balance(TREASURY);
      if (have < amountMsat) return `the treasury holds ${have} msat and would front ${amountMsat} msat to the peer`;
      return null;
    },

    /** Null when `bolt11` asks exactly `amountMsat` on our network and has not expired; the reason otherwise. */
    async checkPeerInvoice(bolt11, amountMsat) {
      let inv;
      try {
        inv = await wallet.decode(bolt11);
      } catch (err) {
        return `its invoice does not decode: ${(err as Error).message}`;
      }
      const { network } = await wallet.info();
      if (inv.network !== network) return `its invoice is for ${inv.network}, we are on ${network}`;
      if (inv.amountMsat !== amountMsat) return `its invoice asks ${inv.amountMsat ?? 'no amount'} msat, not ${amountMsat}`;
      if ((inv.timestamp + inv.expirySeconds) * 1000 <= Date.now()) return 'its invoice has expired';
      return null;
    },

    /**
     * Pays the peer's invoice from the treasury, at most once (a retry, after a restart too, gets
     * the first outcome); waits while the payment is in flight (a peer's hold invoice settles only
     * when the peer delivers).
     */
    async payPeer(bolt11, maxFeeMsat, signal) {
      for (let pause = 250; ; pause = Math.min(pause * 2, 4000)) {
        try {
          const r = await wallet.pay({ bolt11, fromAccount: TREASURY, maxFeeMsat });
          return { feeMsat: r.feeMsat, preimage: r.preimage };
        } catch (err) {
          if (!(err instanceof PaymentPendingError) || signal.aborted) throw err;
        }
        await new Promise((r) => setTimeout(r, pause));
        if (signal.aborted) throw signal.reason;
      }
    },

    /** Releases the job's escrow: `msat` back to the treasury (the peer's price and routing fee), the rest to fees. */
    async reimburse(jobId, msat) {
      await wallet.release({ jobId, toAccount: TREASURY, amountMsat: msat, remainderTo: 'fees' });
    },
  };
}
