// The wallet as the rest of Timmy sees it. The built-in backend (wallet/builtin.ts) keeps every
// account in the local ledger and settles invoices it issued itself; the LND backend
// (wallet/lnd/wallet.ts) implements the same interface with the same ledger for accounts and
// escrow, plus a node for the Lightning legs. Amounts are integer millisatoshis as `number` (safe-integer checked everywhere;
// 2^53 msat is about 90,000 BTC). Every method that changes money commits before it resolves.
import type { AccountId } from './accounts.js';
import type { Bolt11Invoice, Network } from './bolt11.js';

export type { AccountId } from './accounts.js';
export type { Bolt11Invoice, Network } from './bolt11.js';

export interface WalletCapabilities {
  /** Mints BOLT11 invoices. */
  readonly invoices: boolean;
  /** Pays invoices of other Lightning nodes (false: only invoices this wallet issued). */
  readonly payExternal: boolean;
  /** Its invoices can be paid from other Lightning nodes. */
  readonly receiveExternal: boolean;
  readonly holdInvoices: boolean;
  readonly bolt12: boolean;
  readonly lnurl: boolean;
  readonly keysend: boolean;
  /** Escrow per job: hold, release, refund. */
  readonly escrow: boolean;
  /** `fund` may mint test money (regtest/signet, or `allowFunding`). */
  readonly testFunding: boolean;
  /** Sends to on-chain addresses (`sendToChain`; LND). */
  readonly onChain: boolean;
}

export interface WalletInfo {
  readonly backend: 'builtin' | 'lnd' | 'nwc';
  readonly network: Network;
  /** The node key that signs invoices (33-byte compressed, hex). */
  readonly nodePubkey: string;
  readonly capabilities: WalletCapabilities;
}

export type InvoiceStatus = 'open' | 'accepted' | 'paid' | 'expired' | 'cancelled';

export interface InvoiceRecord {
  readonly paymentHash: string;
  readonly bolt11: string;
  readonly amountMsat: number;
  readonly description: string;
  /** Credited when paid: the account asked for, or `escrow:<jobId>` for a job's invoice. */
  readonly account: AccountId;
  readonly jobId: string | null;
  readonly status: InvoiceStatus;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly settledAt: number | null;
  /** The paying account (internal payments), or `external` (paid over Lightning). */
  readonly paidBy: AccountId | null;
}

/**
 * The final state of an invoice, delivered once per subscription. `accepted` is a hold invoice
 * (LND) whose payment arrived and is held by the node until it is settled or cancelled: final for
 * whoever waits for the payment (a job's escrow is held from then on).
 */
export interface InvoiceUpdate {
  readonly paymentHash: string;
  readonly status: 'paid' | 'accepted' | 'expired' | 'cancelled';
  readonly invoice: InvoiceRecord;
}

export interface CreateInvoiceParams {
  readonly amountMsat: number;
  /** UTF-8; above 639 bytes the invoice carries its sha256 (`h`) instead. Default ''. */
  readonly description?: string;
  /** Commit to this sha256 (hex) instead of writing the description into the invoice. */
  readonly descriptionHash?: string;
  /** Default from config (3600). */
  readonly expirySeconds?: number;
  /** The account credited when paid. Give this or `jobId`. */
  readonly account?: AccountId;
  /** The payment is held in escrow for this job (credited to `escrow:<jobId>`). */
  readonly jobId?: string;
  /** Where `refund(jobId)` returns the money; default: the account that paid. */
  readonly refundAccount?: AccountId;
}

export interface CreateHoldInvoiceParams extends Omit<CreateInvoiceParams, 'jobId'> {
  /** sha256 of a preimage only the caller knows; the payment is settled by `settleHold(preimage)`. */
  readonly paymentHash: string;
}

export interface PayParams {
  readonly bolt11: string;
  readonly fromAccount: AccountId;
  /** Only for invoices without an amount; must equal the amount otherwise. */
  readonly amountMsat?: number;
  /** Routing fee limit (LND); the built-in wallet charges no fee. */
  readonly maxFeeMsat?: number;
}

export interface PaymentResult {
  readonly paymentHash: string;
  /** Proof of payment. */
  readonly preimage: string;
  readonly amountMsat: number;
  readonly feeMsat: number;
  readonly fromAccount: AccountId;
  readonly settledAt: number;
  /** True when this payer had already paid this invoice: nothing moved again. */
  readonly replayed: boolean;
}

export type EscrowStatus = 'held' | 'released' | 'refunded';

export interface EscrowRecord {
  readonly jobId: string;
  /** Where a refund goes. */
  readonly payer: AccountId;
  readonly amountMsat: number;
  readonly status: EscrowStatus;
  readonly releasedTo: AccountId | null;
  readonly releasedMsat: number;
  /** Kept by the instance (the `fees` account) on release. */
  readonly feeMsat: number;
  /** Returned to the payer (a refund, or the remainder of a release with `remainderTo: 'payer'`). */
  readonly refundedMsat: number;
  readonly reason: string;
  readonly createdAt: number;
  readonly closedAt: number | null;
}

export interface HoldParams {
  readonly jobId: string;
  readonly fromAccount: AccountId;
  readonly amountMsat: number;
}

export interface ReleaseParams {
  readonly jobId: string;
  /** The winner. */
  readonly toAccount: AccountId;
  /** Paid to the winner; default: everything held minus `feeMsat`. May be 0. */
  readonly amountMsat?: number;
  /** To the `fees` account. Default 0. */
  readonly feeMsat?: number;
  /** To the `treasury` account (the instance's cut, wallet.treasury.feePct). Default 0. */
  readonly treasuryMsat?: number;
  /** What is left after amount and fee (e.g. the auction's surplus): to `fees` (default) or back to the payer. */
  readonly remainderTo?: 'fees' | 'payer';
}

export type Unsubscribe = () => void;

export interface Wallet {
  readonly capabilities: WalletCapabilities;
  info(): Promise<WalletInfo>;
  /** An account's balance in msat (0 if never used). */
  balance(account: AccountId): Promise<number>;
  decode(bolt11: string): Promise<Bolt11Invoice>;

  createInvoice(p: CreateInvoiceParams): Promise<InvoiceRecord>;
  lookupInvoice(paymentHash: string): Promise<InvoiceRecord | null>;
  /**
   * For a paid invoice of ours: the invoice and its preimage, the proof of payment a job label
   * carries (docs/protocol.md, "Job labels"). Null while unpaid or unknown.
   */
  paymentProof(paymentHash: string): Promise<{ bolt11: string; preimage: string } | null>;
  /** Cancels an open invoice (a later payment is refused). No-op for a cancelled one; paid ones throw. */
  cancelInvoice(paymentHash: string): Promise<InvoiceRecord>;
  /**
   * Calls `cb` once when the invoice is paid, expires or is cancelled, also if that happened before
   * the call or in another process using the same database (polled).
   */
  subscribeInvoice(paymentHash: string, cb: (u: InvoiceUpdate) => void): Unsubscribe;
  /** Calls `cb` after every invoice payment committed from now on (in any process using the database). */
  onInvoicePaid(cb: (u: InvoiceUpdate) => void): Unsubscribe;

  /** Pays an invoice from an account. Refuses expired, cancelled and already paid invoices, and overdrafts. */
  pay(p: PayParams): Promise<PaymentResult>;

  createHoldInvoice(p: CreateHoldInvoiceParams): Promise<InvoiceRecord>;
  settleHold(preimage: string): Promise<InvoiceRecord>;
  cancelHold(paymentHash: string): Promise<InvoiceRecord>;

  /** Moves money from an account into the job's escrow. Idempotent per job (same payer and amount). */
  hold(p: HoldParams): Promise<EscrowRecord>;
  /** Pays the job's escrow out to the winner (+ fee). Idempotent per job (same arguments). */
  release(p: ReleaseParams): Promise<EscrowRecord>;
  /**
   * Returns the job's escrow to the payer. Idempotent per job. With nothing held yet it cancels the
   * job's open invoices and resolves null.
   */
  refund(jobId: string, reason?: string): Promise<EscrowRecord | null>;
  getEscrow(jobId: string): Promise<EscrowRecord | null>;

  close(): Promise<void>;
}
