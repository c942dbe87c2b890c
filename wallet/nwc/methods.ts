// The NIP-47 methods, executed against a Wallet for one connection: its account pays and is paid,
// its budget limits payments, and it sees only invoices of its account (paid to it or by it).
// Each method returns the spec's result object or throws NwcRequestError with the spec's code.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { checkMetadata, type Nip47Request, type Nip47Transaction } from '../../nostr/nip47.js';
import { Bolt11Error } from '../bolt11.js';
import * as E from '../errors.js';
import type { AccountInvoice, AccountInvoiceQuery } from '../ledger.js';
import type { InvoiceRecord, InvoiceStatus, Wallet } from '../wallet.js';
import { renewsAt } from './budget.js';
import { NwcRequestError } from './errors.js';
import type { NwcConnectionRecord, NwcStore } from './store.js';

/** Reads the invoices an account was paid or paid (the built-in wallet: Ledger.accountInvoices). */
export type ListInvoices = (account: string, q: AccountInvoiceQuery) => AccountInvoice[];

export interface MethodContext {
  readonly wallet: Wallet;
  readonly store: NwcStore;
  readonly conn: NwcConnectionRecord;
  readonly now: number;
  /** get_info's alias and color. */
  readonly alias: string;
  readonly color: string;
  /** What this connection may call (and `notifications`). */
  readonly methods: readonly string[];
  readonly listInvoices: ListInvoices | undefined;
}

/** The methods this service can run on this wallet; `notifications` is added by the caller. */
export function supportedMethods(wallet: Wallet, canList: boolean): string[] {
  const m = ['pay_invoice', 'make_invoice', 'lookup_invoice', 'get_balance', 'get_info', 'get_budget'];
  if (canList) m.push('list_transactions');
  if (wallet.capabilities.holdInvoices) m.push('make_hold_invoice', 'settle_hold_invoice', 'cancel_hold_invoice');
  return m;
}

export const LIST_LIMIT_DEFAULT = 20;
/** list_transactions pages stay well under a relay's 64 KB message limit (47.md, "Metadata"). */
export const LIST_LIMIT_MAX = 50;

const bad = (message: string) => new NwcRequestError('OTHER', message);

function optInt(p: Readonly<Record<string, unknown>>, k: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = p[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw bad(`${k} must be an integer from ${min} to ${max}`);
  return v;
}
function reqInt(p: Readonly<Record<string, unknown>>, k: string, min: number): number {
  const v = optInt(p, k, min);
  if (v === undefined) throw bad(`${k} is required`);
  return v;
}
function optStr(p: Readonly<Record<string, unknown>>, k: string, max = 4096): string | undefined {
  const v = p[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw bad(`${k} must be a string of at most ${max} characters`);
  return v;
}
function reqStr(p: Readonly<Record<string, unknown>>, k: string, max = 4096): string {
  const v = optStr(p, k, max);
  if (v === undefined || v === '') throw bad(`${k} is required`);
  return v;
}
function hex64(v: string | undefined, k: string): string | undefined {
  if (v !== undefined && !/^[0-9a-f]{64}$/.test(v)) throw bad(`${k} must be 32 bytes of lowercase hex`);
  return v;
}

const STATE: Record<InvoiceStatus, NonNullable<Nip47Transaction['state']>> = {
  open: 'pending',
  accepted: 'accepted',
  paid: 'settled',
  expired: 'expired',
  cancelled: 'failed', // the spec has no "cancelled"; a cancelled invoice can no longer be paid
};

function transaction(
  inv: Pick<InvoiceRecord, 'paymentHash' | 'bolt11' | 'amountMsat' | 'description' | 'status' | 'createdAt' | 'expiresAt' | 'settledAt'>,
  type: 'incoming' | 'outgoing',
  extra: { preimage?: string | null | undefined; metadata?: Record<string, unknown> | undefined; descriptionHash?: string | undefined } = {},
): Nip47Transaction {
  return {
    type,
    state: STATE[inv.status],
    invoice: inv.bolt11,
    description: inv.description,
    ...(extra.descriptionHash ? { description_hash: extra.descriptionHash } : {}),
    ...(extra.preimage ? { preimage: extra.preimage } : {}),
    payment_hash: inv.paymentHash,
    amount: inv.amountMsat,
    fees_paid: 0,
    created_at: inv.createdAt,
    expires_at: inv.expiresAt,
    ...(inv.settledAt !== null ? { settled_at: inv.settledAt } : {}),
    ...(extra.metadata ? { metadata: extra.metadata } : {}),
  };
}

/** The invoice as this connection may see it: paid to its account, or paid by it; otherwise NOT_FOUND. */
async function ownInvoice(ctx: MethodContext, paymentHash: string): Promise<{ inv: InvoiceRecord; type: 'incoming' | 'outgoing' }> {
  const inv = await ctx.wallet.lookupInvoice(paymentHash);
  if (inv && inv.account === ctx.conn.account) return { inv, type: 'incoming' };
  if (inv && inv.status === 'paid' && inv.paidBy === ctx.conn.account) return { inv, type: 'outgoing' };
  throw new NwcRequestError('NOT_FOUND', `no invoice ${paymentHash} for this connection`);
}

async function decode(ctx: MethodContext, bolt11: string) {
  try {
    return await ctx.wallet.decode(bolt11);
  } catch (err) {
    throw bad(`invalid invoice: ${(err as Error).message}`);
  }
}

/** Translates a wallet error into the spec's codes. */
export function toRequestError(err: unknown, method: string): NwcRequestError | undefined {
  if (err instanceof NwcRequestError) return err;
  if (err instanceof E.InsufficientFundsError) return new NwcRequestError('INSUFFICIENT_BALANCE', err.message);
  if (err instanceof E.InvalidAmountError || err instanceof Bolt11Error) return bad(err.message);
  if (method === 'pay_invoice' && err instanceof E.WalletError) return new NwcRequestError('PAYMENT_FAILED', err.message);
  if (err instanceof E.InvoiceNotFoundError) return new NwcRequestError('NOT_FOUND', err.message);
  if (err instanceof E.WalletUnsupportedError) return new NwcRequestError('NOT_IMPLEMENTED', err.message);
  if (err instanceof E.WalletError) return bad(err.message);
  return undefined; // a bug or an I/O failure: INTERNAL, without its details
}

type Handler = (ctx: MethodContext, p: Readonly<Record<string, unknown>>) => Promise<unknown>;

const handlers: Record<string, Handler> = {
  async pay_invoice(ctx, p) {
    const bolt11 = reqStr(p, 'invoice', 8000);
    const amount = optInt(p, 'amount', 1);
    const inv = await decode(ctx, bolt11);
    if (inv.amountMsat !== null && amount !== undefined && amount !== inv.amountMsat) throw bad(`the invoice is for ${inv.amountMsat} msat, not ${amount}`);
    const total = inv.amountMsat ?? amount;
    if (total === undefined) throw bad('the invoice has no amount: give amount (msat)');
    const { created } = ctx.store.reserve(ctx.conn, inv.paymentHash, total, ctx.now);
    try {
      const r = await ctx.wallet.pay({ bolt11, fromAccount: ctx.conn.account, ...(inv.amountMsat === null ? { amountMsat: total } : {}) });
      // Paid before by other means (nothing moved now): the budget is not charged for it.
      if (r.replayed && created) ctx.store.release(ctx.conn.name, inv.paymentHash);
      else ctx.store.settle(ctx.conn.name, inv.paymentHash, r.feeMsat);
      const metadata = checkMetadata(p.metadata);
      if (metadata) ctx.store.setMetadata(inv.paymentHash, metadata);
      return { preimage: r.preimage, fees_paid: r.feeMsat };
    } catch (err) {
      if (created) ctx.store.release(ctx.conn.name, inv.paymentHash);
      throw err;
    }
  },

  async make_invoice(ctx, p) {
    const descriptionHash = hex64(optStr(p, 'description_hash'), 'description_hash');
    const inv = await ctx.wallet.createInvoice({
      amountMsat: reqInt(p, 'amount', 1),
      description: optStr(p, 'description', 4096) ?? '',
      ...(descriptionHash ? { descriptionHash } : {}),
      ...(p.expiry !== undefined ? { expirySeconds: optInt(p, 'expiry', 1, 31_536_000)! } : {}),
      account: ctx.conn.account,
    });
    const metadata = checkMetadata(p.metadata);
    if (metadata) ctx.store.setMetadata(inv.paymentHash, metadata);
    return transaction(inv, 'incoming', { metadata, descriptionHash });
  },

  async lookup_invoice(ctx, p) {
    let hash = hex64(optStr(p, 'payment_hash'), 'payment_hash');
    const bolt11 = optStr(p, 'invoice', 8000);
    if (hash === undefined && bolt11 === undefined) throw bad('give payment_hash or invoice');
    if (hash === undefined) hash = (await decode(ctx, bolt11!)).paymentHash;
    const { inv, type } = await ownInvoice(ctx, hash);
    const preimage = inv.status === 'paid' ? (await ctx.wallet.paymentProof(hash))?.preimage : undefined;
    return transaction(inv, type, { preimage, metadata: ctx.store.metadata(hash) });
  },

  async list_transactions(ctx, p) {
    const type = p.type;
    if (type !== undefined && type !== null && type !== 'incoming' && type !== 'outgoing') throw bad('type must be "incoming" or "outgoing"');
    if (p.unpaid !== undefined && p.unpaid !== null && typeof p.unpaid !== 'boolean') throw bad('unpaid must be a boolean');
    const from = optInt(p, 'from', 0);
    const until = optInt(p, 'until', 0);
    const rows = ctx.listInvoices!(ctx.conn.account, {
      ...(from !== undefined ? { from } : {}),
      ...(until !== undefined ? { until } : {}),
      limit: optInt(p, 'limit', 1, LIST_LIMIT_MAX) ?? LIST_LIMIT_DEFAULT,
      offset: optInt(p, 'offset', 0) ?? 0,
      unpaid: p.unpaid === true,
      ...(type === 'incoming' || type === 'outgoing' ? { direction: type } : {}),
    });
    return { transactions: rows.map((r) => transaction(r, r.direction, { preimage: r.preimage, metadata: ctx.store.metadata(r.paymentHash) })) };
  },

  async get_balance(ctx) {
    return { balance: await ctx.wallet.balance(ctx.conn.account) };
  },

  async get_info(ctx) {
    const info = await ctx.wallet.info();
    return {
      alias: ctx.alias,
      color: ctx.color,
      pubkey: info.nodePubkey,
      network: info.network,
      // The built-in wallet follows no chain.
      block_height: 0,
      block_hash: '',
      methods: ctx.methods.filter((m) => m !== 'notifications'),
      notifications: ctx.methods.includes('notifications') ? ['payment_received', 'payment_sent'] : [],
    };
  },

  async get_budget(ctx) {
    const c = ctx.conn;
    if (c.budgetMsat === null) return {};
    const renews = renewsAt(c.renewal, ctx.now);
    return { used_budget: ctx.store.spent(c, ctx.now), total_budget: c.budgetMsat, ...(renews !== undefined ? { renews_at: renews } : {}), renewal_period: c.renewal };
  },

  async make_hold_invoice(ctx, p) {
    const descriptionHash = hex64(optStr(p, 'description_hash'), 'description_hash');
    const inv = await ctx.wallet.createHoldInvoice({
      amountMsat: reqInt(p, 'amount', 1),
      paymentHash: hex64(reqStr(p, 'payment_hash'), 'payment_hash')!,
      description: optStr(p, 'description', 4096) ?? '',
      ...(descriptionHash ? { descriptionHash } : {}),
      ...(p.expiry !== undefined ? { expirySeconds: optInt(p, 'expiry', 1, 31_536_000)! } : {}),
      account: ctx.conn.account,
    });
    return transaction(inv, 'incoming', { descriptionHash });
  },

  async settle_hold_invoice(ctx, p) {
    const preimage = hex64(reqStr(p, 'preimage'), 'preimage')!;
    const { type } = await ownInvoice(ctx, bytesToHex(sha256(hexToBytes(preimage))));
    if (type !== 'incoming') throw new NwcRequestError('RESTRICTED', 'only the receiving connection settles a hold invoice');
    await ctx.wallet.settleHold(preimage);
    return {};
  },

  async cancel_hold_invoice(ctx, p) {
    const hash = hex64(reqStr(p, 'payment_hash'), 'payment_hash')!;
    const { type } = await ownInvoice(ctx, hash);
    if (type !== 'incoming') throw new NwcRequestError('RESTRICTED', 'only the receiving connection cancels a hold invoice');
    await ctx.wallet.cancelHold(hash);
    return {};
  },
};

/** Runs one request for one connection; the caller has checked that the method is supported and allowed. */
export async function runMethod(ctx: MethodContext, req: Nip47Request): Promise<unknown> {
  const h = Object.hasOwn(handlers, req.method) ? handlers[req.method] : undefined;
  if (!h) throw new NwcRequestError('NOT_IMPLEMENTED', `${req.method} is not implemented`);
  return h(ctx, req.params);
}

export { transaction as toNip47Transaction };
