// Invoices (`lni`): the invoice request's fields copied, plus invoice fields 160-176, signed by
// `invoice_node_id`. Reader rules that need no node state are checked here; the caller passes
// its invoice request (and clock, chains) for the rest.
import { Bolt12Error } from './errors.js';
import { decodeBolt12String, encodeBolt12String } from './bech32-nochecksum.js';
import { BITCOIN_CHAIN, CHAIN_HASHES, hasUnknownEvenBit, hexField, readFeatures, readPoint, readSized, readTu32, readTu64, writeFeatures, writeTu32, writeTu64 } from './fields.js';
import { isSignatureType, publicKeyHex, signMerkle, verifyMerkle } from './merkle.js';
import { OFFER_TYPES, readOfferFields, type OfferFields, type ReaderOptions } from './offer.js';
import { checkMirrors, INVREQ_TYPES, readInvreqFields, SIGNATURE_TYPE, type InvoiceRequest, type InvreqFields, type SignOptions } from './invoice-request.js';
import {
  readBlindedPaths, readBlindedPayInfos, readFallbacks, usableFallback, writeBlindedPaths, writeBlindedPayInfos, writeFallbacks,
  type BlindedPath, type BlindedPayInfo, type FallbackAddress,
} from './paths.js';
import { checkRecordTypes, readTlvStream, U64_MAX, writeTlvStream, type TlvRecord } from './tlv.js';

export const INVOICE_TYPES = {
  paths: 160n,
  blindedPay: 162n,
  createdAt: 164n,
  relativeExpiry: 166n,
  paymentHash: 168n,
  amount: 170n,
  fallbacks: 172n,
  features: 174n,
  nodeId: 176n,
} as const;

export const DEFAULT_RELATIVE_EXPIRY = 7200;
/** Invoice features: MPP compulsory (16) and optional (17). */
export const KNOWN_INVOICE_FEATURES: ReadonlySet<number> = new Set([16, 17]);
/** Blinded payinfo features this codec knows (none): a path with an even bit set is unusable. */
export const KNOWN_PAYINFO_FEATURES: ReadonlySet<number> = new Set();

export interface Invoice {
  readonly kind: 'invoice';
  readonly offer: OfferFields;
  readonly invoiceRequest: InvreqFields;
  readonly paths: readonly BlindedPath[];
  /** One per path, in order. */
  readonly blindedPay: readonly BlindedPayInfo[];
  /** Indexes of the paths a payer may use (their payinfo has no unknown even feature bit). */
  readonly usablePaths: readonly number[];
  readonly createdAt: bigint;
  readonly relativeExpiry: number | null;
  /** createdAt + relativeExpiry (default 7200 s). */
  readonly expiresAt: bigint;
  readonly paymentHash: string;
  readonly amountMsat: bigint;
  /** As written, in order of preference. */
  readonly fallbacks: readonly FallbackAddress[];
  /** The fallbacks a payer may use: on bitcoin (any network), those the spec does not say to ignore. */
  readonly usableFallbacks: readonly FallbackAddress[];
  readonly features: readonly number[] | null;
  readonly nodeId: string;
  readonly signature: string;
  readonly unknown: readonly TlvRecord[];
  readonly records: readonly TlvRecord[];
}

export interface InvoiceReaderOptions extends ReaderOptions {
  /** The request we sent: fields 0-159 and 1000000000-2999999999 must match it exactly. */
  readonly invoiceRequest?: InvoiceRequest;
  /** For a request sent to an offer without issuer id: the final blinded_node_id we sent it to. */
  readonly expectedNodeId?: string;
}

const KNOWN: ReadonlySet<bigint> = new Set([
  ...Object.values(OFFER_TYPES), ...Object.values(INVREQ_TYPES), ...Object.values(INVOICE_TYPES), SIGNATURE_TYPE,
]);
// The spec gives invoices no range rule: unknown even types are rejected, unknown odd ones kept.
const RULES = { stream: 'invoice', known: KNOWN, ranges: [[0n, U64_MAX]] as const };
const BITCOIN_CHAINS: readonly string[] = Object.values(CHAIN_HASHES);
const MIRRORED = [[0n, 159n], [1_000_000_000n, 2_999_999_999n]] as const;

function required<T>(v: T | null, field: string): T {
  if (v === null) throw new Bolt12Error(`${field} is not set`);
  return v;
}

/** Parses and checks invoice TLV bytes. */
export function parseInvoice(bytes: Uint8Array, opts: InvoiceReaderOptions = {}): Invoice {
  const records = readTlvStream(bytes);
  const unknown = checkRecordTypes(records, RULES);
  const offer = readOfferFields(records);
  const invoiceRequest = readInvreqFields(records);
  const opt = <T>(t: bigint, read: (v: Uint8Array) => T): T | null => {
    const v = records.find((r) => r.type === t)?.value;
    return v === undefined ? null : read(v);
  };
  const T = INVOICE_TYPES;
  const amountMsat = required(opt(T.amount, (v) => readTu64(v, 'invoice_amount')), 'invoice_amount');
  const createdAt = required(opt(T.createdAt, (v) => readTu64(v, 'invoice_created_at')), 'invoice_created_at');
  const paymentHash = required(opt(T.paymentHash, (v) => readSized(v, 32, 'invoice_payment_hash')), 'invoice_payment_hash');
  const nodeId = required(opt(T.nodeId, (v) => readPoint(v, 'invoice_node_id')), 'invoice_node_id');
  const chain = invoiceRequest.chain ?? BITCOIN_CHAIN;
  if (opts.chains !== undefined && !opts.chains.includes(chain)) throw new Bolt12Error(`invoice chain ${chain} is not supported`);
  const features = opt(T.features, (v) => readFeatures(v, KNOWN_INVOICE_FEATURES, 'invoice_features'));
  const relativeExpiry = opt(T.relativeExpiry, (v) => readTu32(v, 'invoice_relative_expiry'));
  const expiresAt = createdAt + BigInt(relativeExpiry ?? DEFAULT_RELATIVE_EXPIRY);
  if (opts.now !== undefined && BigInt(opts.now) > expiresAt) throw new Bolt12Error(`invoice expired at ${expiresAt}`);
  const paths = required(opt(T.paths, (v) => readBlindedPaths(v, 'invoice_paths')), 'invoice_paths');
  const blindedPay = required(opt(T.blindedPay, (v) => readBlindedPayInfos(v, 'invoice_blindedpay')), 'invoice_blindedpay');
  if (blindedPay.length !== paths.length) throw new Bolt12Error(`invoice_blindedpay has ${blindedPay.length} payinfos for ${paths.length} paths`);
  const usablePaths = blindedPay.flatMap((p, i) => (hasUnknownEvenBit(p.features, KNOWN_PAYINFO_FEATURES) ? [] : [i]));
  if (usablePaths.length === 0) throw new Bolt12Error('no usable invoice path: every payinfo has unknown even feature bits');
  const fallbacks = opt(T.fallbacks, (v) => readFallbacks(v, 'invoice_fallbacks')) ?? [];
  const sig = required(records.find((r) => r.type === SIGNATURE_TYPE) ?? null, 'signature');
  const signature = readSized(sig.value, 64, 'signature');
  if (!verifyMerkle(records, 'invoice', sig.value, nodeId)) throw new Bolt12Error('signature is not valid for invoice_node_id');
  if (invoiceRequest.amountMsat !== null && amountMsat !== invoiceRequest.amountMsat) {
    throw new Bolt12Error(`invoice_amount ${amountMsat} is not invreq_amount ${invoiceRequest.amountMsat}`);
  }
  if (opts.invoiceRequest !== undefined) {
    checkMirrors(records, opts.invoiceRequest.records, MIRRORED, 'invoice request');
    if (offer.issuerId !== null && nodeId !== offer.issuerId) throw new Bolt12Error('invoice_node_id is not offer_issuer_id');
  }
  if (opts.expectedNodeId !== undefined && nodeId !== opts.expectedNodeId) throw new Bolt12Error('invoice_node_id is not the node we sent the request to');
  return {
    kind: 'invoice', offer, invoiceRequest, paths, blindedPay, usablePaths, createdAt, relativeExpiry, expiresAt, paymentHash, amountMsat,
    fallbacks, usableFallbacks: BITCOIN_CHAINS.includes(chain) ? fallbacks.filter(usableFallback) : fallbacks, features, nodeId, signature, unknown, records,
  };
}

/** Decodes an `lni1…` string, applying every reader rule (clock, chains, request only when given). */
export function decodeInvoice(s: string, opts: InvoiceReaderOptions = {}): Invoice {
  return parseInvoice(decodeBolt12String(s, 'lni').bytes, opts);
}

/** What the payee adds to the request. `amountMsat` is needed only when the request and offer give none in msat. */
export interface InvoiceInput {
  readonly paths: readonly BlindedPath[];
  readonly blindedPay: readonly BlindedPayInfo[];
  readonly createdAt: bigint | number;
  readonly relativeExpiry?: number | null;
  readonly paymentHash: string;
  readonly amountMsat?: bigint | null;
  readonly fallbacks?: readonly FallbackAddress[] | null;
  readonly features?: readonly number[] | null;
}

/** The amount the invoice must carry: invreq_amount, else offer_amount (msat) times the quantity. */
function invoiceAmount(req: InvoiceRequest, given: bigint | null | undefined): bigint {
  const expected = req.amountMsat ?? (req.offer.amount !== null && req.offer.currency === null ? req.offer.amount * (req.quantity ?? 1n) : null);
  if (given !== null && given !== undefined) {
    if (req.amountMsat !== null && given !== req.amountMsat) throw new Bolt12Error('invoice_amount must be invreq_amount');
    return given;
  }
  if (expected === null) throw new Bolt12Error('invoice_amount: give amountMsat (the offer amount is in a currency)');
  return expected;
}

/** Builds and signs an invoice answering `req` with the node's key. Checks the result. */
export function signInvoice(req: InvoiceRequest, input: InvoiceInput, nodeSecretKey: Uint8Array, opts: SignOptions = {}): string {
  const nodeId = publicKeyHex(nodeSecretKey);
  if (req.offer.issuerId !== null && nodeId !== req.offer.issuerId) throw new Bolt12Error('invoice_node_id must be offer_issuer_id: sign with the issuer key');
  const T = INVOICE_TYPES;
  const out: TlvRecord[] = req.records.filter((r) => !isSignatureType(r.type));
  const put = <V>(type: bigint, v: V | null | undefined, write: (v: V) => Uint8Array): void => {
    if (v !== null && v !== undefined) out.push({ type, value: write(v) });
  };
  put(T.paths, input.paths, (p) => writeBlindedPaths(p, 'invoice_paths'));
  put(T.blindedPay, input.blindedPay, (p) => writeBlindedPayInfos(p, 'invoice_blindedpay'));
  put(T.createdAt, BigInt(input.createdAt), (t) => writeTu64(t, 'invoice_created_at'));
  put(T.relativeExpiry, input.relativeExpiry, (e) => writeTu32(e, 'invoice_relative_expiry'));
  put(T.paymentHash, input.paymentHash, (h) => hexField(h, 32, 'invoice_payment_hash'));
  put(T.amount, invoiceAmount(req, input.amountMsat), (a) => writeTu64(a, 'invoice_amount'));
  put(T.fallbacks, input.fallbacks, (f) => writeFallbacks(f, 'invoice_fallbacks'));
  put(T.features, input.features, (f) => writeFeatures(f, 'invoice_features'));
  put(T.nodeId, nodeId, (k) => hexField(k, 33, 'invoice_node_id'));
  const unsigned = readTlvStream(writeTlvStream(out));
  const sig = signMerkle(unsigned, 'invoice', nodeSecretKey, opts.auxRand);
  const s = encodeBolt12String('lni', writeTlvStream([...unsigned, { type: SIGNATURE_TYPE, value: sig }]), opts);
  decodeInvoice(s, { invoiceRequest: req });
  return s;
}
