// A small typed facade over the `lightning` library (LND's gRPC API): only the calls the wallet
// makes, each with a timeout (payments excepted: they wait for their outcome) and LND's errors
// turned into WalletError subclasses whose messages name the operation and the permission it
// needs, with the macaroon scrubbed out of anything LND or gRPC said.
import { EventEmitter } from 'node:events';
import {
  authenticatedLndGrpc,
  cancelHodlInvoice,
  createHodlInvoice,
  createInvoice,
  getChainBalance,
  getChannelBalance,
  getInvoice,
  getPayment,
  getWalletInfo,
  sendToChainAddress,
  settleHodlInvoice,
  subscribeToInvoice,
  subscribeToPayViaRequest,
  type AuthenticatedLnd,
} from 'lightning';
import type { WalletError } from '../errors.js';
import { LndAuthError, LndError, LndPermissionError, LndUnavailableError } from './errors.js';

export interface LndCredentials {
  /** host:port */
  readonly socket: string;
  /** The TLS certificate: PEM text, or base64 / hex of the PEM file. */
  readonly cert: string;
  /** The macaroon, hex or base64. */
  readonly macaroon: string;
}

export type LndInvoiceState = 'OPEN' | 'ACCEPTED' | 'SETTLED' | 'CANCELED';

/** An invoice as LND reports it. */
export interface LndInvoice {
  readonly paymentHash: string;
  readonly state: LndInvoiceState;
  readonly receivedMsat: number;
  /** The lowest expiry height of the HTLCs held (ACCEPTED), if any. */
  readonly htlcExpiry: number | null;
}

export interface LndInfo {
  readonly publicKey: string;
  readonly alias: string;
  readonly version: string;
  readonly height: number;
  /** Chain hashes (lightning's `chains`). */
  readonly chains: readonly string[];
}

export type PayOutcome =
  | { readonly status: 'succeeded'; readonly preimage: string; readonly feeMsat: number }
  | { readonly status: 'failed'; readonly reason: string }
  | { readonly status: 'pending' }
  /** LND says it never started a payment for this hash. */
  | { readonly status: 'unknown' };

/** The permission each operation needs (LND's names), for error messages. */
const NEEDS = {
  info: 'info:read',
  createInvoice: 'invoices:write',
  createHoldInvoice: 'invoices:write',
  lookupInvoice: 'invoices:read',
  settleInvoice: 'invoices:write',
  cancelInvoice: 'invoices:write',
  subscribeInvoice: 'invoices:read',
  pay: 'offchain:write',
  trackPayment: 'offchain:read',
  channelBalance: 'offchain:read',
  chainBalance: 'onchain:read',
  sendToChain: 'onchain:write',
} as const;
type Op = keyof typeof NEEDS;

/** Texts of a locked or starting LND (lnd/rpcperms and older versions). */
const LOCKED = /wallet locked|unknown service lnrpc\.Lightning|waiting to start|in the process of starting up|wallet not created/i;

function pemToBase64(cert: string): string {
  return cert.includes('-----BEGIN') ? Buffer.from(cert, 'utf8').toString('base64') : cert.trim();
}

function macaroonHex(m: string): string {
  const t = m.trim();
  return /^(?:[0-9a-f]{2})+$/i.test(t) ? t.toLowerCase() : Buffer.from(t, 'base64').toString('hex');
}

interface GrpcLike {
  code?: number;
  details?: string;
}

export class LndClient {
  readonly socket: string;
  private readonly lnd: AuthenticatedLnd;
  private readonly secrets: string[];
  private closed = false;

  constructor(
    creds: LndCredentials,
    private readonly timeoutMs: number,
  ) {
    this.socket = creds.socket;
    const hex = macaroonHex(creds.macaroon);
    this.secrets = [hex, Buffer.from(hex, 'hex').toString('base64'), creds.macaroon.trim()].filter((s) => s.length >= 16);
    try {
      this.lnd = authenticatedLndGrpc({ socket: creds.socket, cert: pemToBase64(creds.cert), macaroon: hex }).lnd;
    } catch (err) {
      throw new LndAuthError(this.scrub(`cannot use the LND credentials for ${creds.socket}: ${(err as Error).message}`));
    }
  }

  /** getWalletInfo; `timeoutMs` overrides the client's (a start-up probe waits less). */
  async info(timeoutMs?: number): Promise<LndInfo> {
    const i = await this.call('info', getWalletInfo({ lnd: this.lnd }), timeoutMs);
    return { publicKey: i.public_key, alias: i.alias, version: i.version, height: i.current_block_height, chains: i.chains };
  }

  /** A standard invoice that settles itself when paid; we give the preimage. */
  async createInvoice(o: { preimage: string; mtokens: string; description?: string; descriptionHash?: string; expiresAt: string; cltvDelta: number }): Promise<string> {
    const r = await this.call(
      'createInvoice',
      createInvoice({
        lnd: this.lnd,
        secret: o.preimage,
        mtokens: o.mtokens,
        expires_at: o.expiresAt,
        cltv_delta: o.cltvDelta,
        ...(o.description !== undefined ? { description: o.description } : {}),
        ...(o.descriptionHash !== undefined ? { description_hash: o.descriptionHash } : {}),
      }),
    );
    return r.request;
  }

  /** A hold invoice: LND holds the payment (ACCEPTED) until settleInvoice(preimage) or cancelInvoice. */
  async createHoldInvoice(o: { paymentHash: string; mtokens: string; description?: string; descriptionHash?: string; expiresAt: string; cltvDelta: number }): Promise<string> {
    const r = await this.call(
      'createHoldInvoice',
      createHodlInvoice({
        lnd: this.lnd,
        id: o.paymentHash,
        mtokens: o.mtokens,
        expires_at: o.expiresAt,
        cltv_delta: o.cltvDelta,
        ...(o.description !== undefined ? { description: o.description } : {}),
        ...(o.descriptionHash !== undefined ? { description_hash: o.descriptionHash } : {}),
      }),
    );
    return r.request;
  }

  async lookupInvoice(paymentHash: string): Promise<LndInvoice> {
    return invoiceOf(await this.call('lookupInvoice', getInvoice({ lnd: this.lnd, id: paymentHash })));
  }

  async settleInvoice(preimage: string): Promise<void> {
    await this.call('settleInvoice', settleHodlInvoice({ lnd: this.lnd, secret: preimage }));
  }

  /** Cancels an open or accepted invoice (a held payment goes back to the payer). */
  async cancelInvoice(paymentHash: string): Promise<void> {
    await this.call('cancelInvoice', cancelHodlInvoice({ lnd: this.lnd, id: paymentHash }));
  }

  /**
   * Follows one invoice: `onUpdate` with its state now and after each change; `onEnd` once the
   * stream ends or breaks (with the error, if any). Returns the function that stops following.
   */
  subscribeInvoice(paymentHash: string, onUpdate: (inv: LndInvoice) => void, onEnd: (err?: WalletError) => void): () => void {
    let sub: EventEmitter;
    try {
      sub = subscribeToInvoice({ lnd: this.lnd, id: paymentHash });
    } catch (err) {
      queueMicrotask(() => onEnd(this.error('subscribeInvoice', err)));
      return () => {};
    }
    let ended = false;
    const end = (err?: WalletError) => {
      if (ended) return;
      ended = true;
      sub.removeAllListeners();
      onEnd(err);
    };
    sub.on('invoice_updated', (i: Parameters<typeof invoiceOf>[0]) => onUpdate(invoiceOf(i)));
    sub.on('error', (err: unknown) => end(this.error('subscribeInvoice', err)));
    sub.on('end', () => end());
    return () => {
      ended = true;
      sub.removeAllListeners();
    };
  }

  /**
   * Pays a BOLT11 invoice and waits for the outcome. `failed` is final (nothing left the node);
   * when LND cannot say (an error on the stream), the outcome is asked with trackPayment.
   */
  async pay(o: { request: string; mtokens?: string; maxFeeMtokens: string }): Promise<PayOutcome> {
    let sub: EventEmitter;
    try {
      sub = subscribeToPayViaRequest({ lnd: this.lnd, request: o.request, max_fee_mtokens: o.maxFeeMtokens, ...(o.mtokens ? { mtokens: o.mtokens } : {}) });
    } catch (err) {
      throw this.error('pay', err);
    }
    const outcome = await new Promise<PayOutcome | { error: unknown }>((resolve) => {
      sub.once('confirmed', (c: { secret: string; fee_mtokens: string }) => resolve({ status: 'succeeded', preimage: c.secret, feeMsat: Number(c.fee_mtokens) }));
      sub.once('failed', (f: Record<string, unknown>) => resolve({ status: 'failed', reason: failureReason(f) }));
      sub.once('error', (err: unknown) => resolve({ error: err }));
    });
    sub.removeAllListeners();
    if (!('error' in outcome)) return outcome;
    throw this.error('pay', outcome.error);
  }

  /** What LND knows of our payment of `paymentHash`. */
  async trackPayment(paymentHash: string): Promise<PayOutcome> {
    try {
      const p = await this.call('trackPayment', getPayment({ lnd: this.lnd, id: paymentHash }));
      if (p.is_confirmed && p.payment) return { status: 'succeeded', preimage: p.payment.secret, feeMsat: Number(p.payment.fee_mtokens) };
      if (p.is_failed) return { status: 'failed', reason: failureReason((p.failed ?? {}) as Record<string, unknown>) };
      return { status: 'pending' };
    } catch (err) {
      if (Array.isArray(err) && err[1] === 'SentPaymentNotFound') return { status: 'unknown' };
      if (err instanceof LndError && /SentPaymentNotFound/.test(err.message)) return { status: 'unknown' };
      throw err;
    }
  }

  async channelBalance(): Promise<{ localMsat: number; remoteMsat: number }> {
    const b = await this.call('channelBalance', getChannelBalance({ lnd: this.lnd }));
    return { localMsat: Number(b.channel_balance_mtokens ?? b.channel_balance * 1000), remoteMsat: Number(b.inbound_mtokens ?? (b.inbound ?? 0) * 1000) };
  }

  async chainBalance(): Promise<{ sat: number }> {
    const b = await this.call('chainBalance', getChainBalance({ lnd: this.lnd }));
    return { sat: b.chain_balance };
  }

  /** Sends `sat` to an on-chain address; resolves the transaction id. */
  async sendToChain(address: string, sat: number, description = ''): Promise<string> {
    const r = await this.call('sendToChain', sendToChainAddress({ lnd: this.lnd, address, tokens: sat, ...(description ? { description } : {}) }));
    return r.id;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of Object.values(this.lnd as unknown as Record<string, { close?: () => void }>)) c?.close?.();
  }

  /** Turns anything `lightning` or gRPC threw into a WalletError for `op`. */
  error(op: Op, err: unknown): WalletError {
    if (err instanceof LndUnavailableError || err instanceof LndAuthError || err instanceof LndPermissionError || err instanceof LndError) return err;
    const arr = Array.isArray(err) ? (err as unknown[]) : null;
    const code = arr ? String(arr[1] ?? '') : err instanceof Error ? err.message : String(err);
    const g = ((arr?.[2] as { err?: GrpcLike } | undefined)?.err ?? (err && typeof err === 'object' && 'code' in err ? err : undefined)) as GrpcLike | undefined;
    const details = typeof g?.details === 'string' ? g.details : '';
    const say = (s: string) => this.scrub(`${op}: ${s}`);
    if (code === 'LndLocked' || LOCKED.test(details)) return new LndUnavailableError(say(`LND at ${this.socket} is locked (unlock its wallet): ${details || code}`));
    if (code === 'FailedToConnectToDaemon' || g?.code === 14 || g?.code === 4) return new LndUnavailableError(say(`cannot reach LND at ${this.socket}: ${details || code}`));
    if (/permission denied/i.test(details)) return new LndPermissionError(say(`LND refused: permission denied (the macaroon needs ${NEEDS[op]})`), NEEDS[op]);
    if (/macaroon|verification failed/i.test(details)) return new LndAuthError(say(`LND refused the macaroon: ${details}`));
    return new LndError(say(details || code || 'unknown error'));
  }

  private async call<T>(op: Op, p: Promise<T>, ms = this.timeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LndUnavailableError(`${op}: LND at ${this.socket} did not answer within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([p, timeout]);
    } catch (err) {
      throw this.error(op, err);
    } finally {
      clearTimeout(timer);
      p.catch(() => undefined); // a late rejection after the timeout is not unhandled
    }
  }

  private scrub(s: string): string {
    let out = s;
    for (const secret of this.secrets) out = out.split(secret).join('<macaroon>');
    return out;
  }
}

function invoiceOf(i: {
  id: string;
  is_held?: boolean;
  is_confirmed: boolean;
  is_canceled?: boolean;
  received_mtokens: string;
  payments: readonly { is_held: boolean; timeout: number }[];
}): LndInvoice {
  const state: LndInvoiceState = i.is_confirmed ? 'SETTLED' : i.is_canceled ? 'CANCELED' : i.is_held ? 'ACCEPTED' : 'OPEN';
  const held = i.payments.filter((p) => p.is_held).map((p) => p.timeout);
  return { paymentHash: i.id, state, receivedMsat: Number(i.received_mtokens || 0), htlcExpiry: held.length ? Math.min(...held) : null };
}

function failureReason(f: Record<string, unknown>): string {
  if (f.is_insufficient_balance) return 'insufficient local balance';
  if (f.is_route_not_found) return 'unable to find a path to destination';
  if (f.is_invalid_payment) return 'the payee rejected the payment (incorrect or unknown payment details)';
  if (f.is_pathfinding_timeout) return 'payment attempts timed out';
  if (f.is_canceled) return 'the payment was cancelled';
  return 'the payment failed';
}
