// Invoice requests (`lnr`): the mirrored offer fields plus invreq fields 0 and 80-91, signed by
// `invreq_payer_id` over the Merkle root. Reader rules of the spec that need no node state are
// checked here; "does it match our offer" is checked when the caller passes the offer.
import { Bolt12Error } from './errors.js';
import { decodeBolt12String, encodeBolt12String, type EncodeStringOptions } from './bech32-nochecksum.js';
import { BITCOIN_CHAIN, bytesToHex, hexField, readFeatures, readPoint, readSized, readTu64, readUtf8, writeFeatures, writeTu64, writeUtf8 } from './fields.js';
import { isSignatureType, publicKeyHex, signMerkle, verifyMerkle } from './merkle.js';
import { checkOfferRules, OFFER_RANGES, OFFER_TYPES, readOfferFields, type Offer, type OfferFields, type ReaderOptions } from './offer.js';
import { readBlindedPaths, writeBlindedPaths, type BlindedPath } from './paths.js';
import { checkRecordTypes, Cursor, readTlvStream, writeTlvStream, type TlvRecord } from './tlv.js';

export const INVREQ_TYPES = {
  metadata: 0n,
  chain: 80n,
  amount: 82n,
  features: 84n,
  quantity: 86n,
  payerId: 88n,
  payerNote: 89n,
  paths: 90n,
  bip353Name: 91n,
} as const;
export const SIGNATURE_TYPE = 240n;

/** Invoice request feature bits this codec knows (none defined yet). */
export const KNOWN_INVREQ_FEATURES: ReadonlySet<number> = new Set();

export interface Bip353Name {
  readonly name: string;
  readonly domain: string;
}

/** The invreq fields as they appear in an invoice request (and, mirrored, in an invoice). */
export interface InvreqFields {
  readonly metadata: string | null;
  readonly chain: string | null;
  readonly amountMsat: bigint | null;
  readonly features: readonly number[] | null;
  readonly quantity: bigint | null;
  readonly payerId: string | null;
  readonly payerNote: string | null;
  readonly paths: readonly BlindedPath[] | null;
  readonly bip353Name: Bip353Name | null;
}

export interface InvoiceRequest extends InvreqFields {
  readonly kind: 'invoice_request';
  readonly metadata: string;
  readonly payerId: string;
  /** The mirrored offer fields. */
  readonly offer: OfferFields;
  /** BIP-340 signature (hex); null only in a request that answers no offer. */
  readonly signature: string | null;
  readonly unknown: readonly TlvRecord[];
  readonly records: readonly TlvRecord[];
}

export interface InvoiceRequestReaderOptions extends ReaderOptions {
  /** Our offer: the request's offer fields must match it exactly. */
  readonly offer?: Offer;
}

const RANGES = [[0n, 159n], [240n, 1000n], [1_000_000_000n, 2_999_999_999n]] as const;
export const INVREQ_KNOWN_TYPES: ReadonlySet<bigint> = new Set([...Object.values(OFFER_TYPES), ...Object.values(INVREQ_TYPES), SIGNATURE_TYPE]);
const RULES = { stream: 'invoice_request', known: INVREQ_KNOWN_TYPES, ranges: RANGES };

const BIP353_CHARS = /^[0-9a-zA-Z._-]*$/;

function readBip353(v: Uint8Array): Bip353Name {
  const c = new Cursor(v, 'invreq_bip_353_name');
  const name = c.bytes(Number(c.uint(1, 'name_len')), 'name');
  const domain = c.bytes(Number(c.uint(1, 'domain_len')), 'domain');
  c.end();
  const out = { name: new TextDecoder().decode(name), domain: new TextDecoder().decode(domain) };
  if (!BIP353_CHARS.test(out.name) || !BIP353_CHARS.test(out.domain)) throw new Bolt12Error('invreq_bip_353_name: name or domain has a byte outside 0-9 a-z A-Z - _ .');
  return out;
}

/** Reads the invreq fields (types 0, 80-91) present in an invoice request or an invoice. */
export function readInvreqFields(records: readonly TlvRecord[]): InvreqFields {
  const opt = <T>(t: bigint, read: (v: Uint8Array) => T): T | null => {
    const v = records.find((r) => r.type === t)?.value;
    return v === undefined ? null : read(v);
  };
  const T = INVREQ_TYPES;
  return {
    metadata: opt(T.metadata, bytesToHex),
    chain: opt(T.chain, (v) => readSized(v, 32, 'invreq_chain')),
    amountMsat: opt(T.amount, (v) => readTu64(v, 'invreq_amount')),
    features: opt(T.features, (v) => readFeatures(v, KNOWN_INVREQ_FEATURES, 'invreq_features')),
    quantity: opt(T.quantity, (v) => readTu64(v, 'invreq_quantity')),
    payerId: opt(T.payerId, (v) => readPoint(v, 'invreq_payer_id')),
    payerNote: opt(T.payerNote, (v) => readUtf8(v, 'invreq_payer_note')),
    paths: opt(T.paths, (v) => readBlindedPaths(v, 'invreq_paths')),
    bip353Name: opt(T.bip353Name, readBip353),
  };
}

/** Records in the offer's ranges must be byte-for-byte those of `offer`. */
export function checkMirrors(records: readonly TlvRecord[], original: readonly TlvRecord[], ranges: readonly (readonly [bigint, bigint])[], what: string): void {
  const pick = (rs: readonly TlvRecord[]) => rs.filter((r) => ranges.some(([lo, hi]) => r.type >= lo && r.type <= hi));
  const a = pick(records);
  const b = pick(original);
  const same = a.length === b.length && a.every((r, i) => r.type === b[i]!.type && bytesToHex(r.value) === bytesToHex(b[i]!.value));
  if (!same) throw new Bolt12Error(`the ${what} fields do not exactly match`);
}

function checkAgainstOffer(offer: OfferFields, f: InvreqFields, opts: ReaderOptions): void {
  checkOfferRules(offer, opts.now === undefined ? {} : { now: opts.now });
  if (f.chain !== null && !(offer.chains ?? [BITCOIN_CHAIN]).includes(f.chain)) throw new Bolt12Error('invreq_chain is not one of the offer chains');
  if (offer.quantityMax !== null) {
    if (f.quantity === null) throw new Bolt12Error('offer_quantity_max is set but invreq_quantity is not');
    if (offer.quantityMax !== 0n && (f.quantity === 0n || f.quantity > offer.quantityMax)) {
      throw new Bolt12Error(`invreq_quantity ${f.quantity} is not within 1..${offer.quantityMax}`);
    }
  } else if (f.quantity !== null) throw new Bolt12Error('invreq_quantity is set but the offer has no offer_quantity_max');
  if (offer.amount === null) {
    if (f.amountMsat === null) throw new Bolt12Error('neither offer_amount nor invreq_amount is set');
  } else if (f.amountMsat !== null && offer.currency === null) {
    const expected = offer.amount * (f.quantity ?? 1n);
    if (f.amountMsat < expected) throw new Bolt12Error(`invreq_amount ${f.amountMsat} msat is less than the expected ${expected} msat`);
  }
}

/** Parses and checks invoice request TLV bytes. */
export function parseInvoiceRequest(bytes: Uint8Array, opts: InvoiceRequestReaderOptions = {}): InvoiceRequest {
  const records = readTlvStream(bytes);
  const unknown = checkRecordTypes(records, RULES);
  const offer = readOfferFields(records);
  const f = readInvreqFields(records);
  if (f.metadata === null) throw new Bolt12Error('invreq_metadata is not set');
  if (f.payerId === null) throw new Bolt12Error('invreq_payer_id is not set');
  const sig = records.find((r) => r.type === SIGNATURE_TYPE);
  const signature = sig === undefined ? null : readSized(sig.value, 64, 'signature');
  const answersOffer = offer.issuerId !== null || offer.paths !== null;
  if (answersOffer) {
    checkAgainstOffer(offer, f, opts);
    if (signature === null) throw new Bolt12Error('signature is not set');
  } else {
    if (offer.chains !== null || offer.features !== null || offer.quantityMax !== null) {
      throw new Bolt12Error('an invoice request without an offer has offer_chains, offer_features or offer_quantity_max');
    }
    if (f.amountMsat === null) throw new Bolt12Error('an invoice request without an offer has no invreq_amount');
  }
  if (opts.chains !== undefined && !opts.chains.includes(f.chain ?? BITCOIN_CHAIN)) throw new Bolt12Error(`invreq_chain ${f.chain ?? 'bitcoin'} is not supported`);
  if (sig !== undefined && !verifyMerkle(records, 'invoice_request', sig.value, f.payerId)) throw new Bolt12Error('signature is not valid for invreq_payer_id');
  if (opts.offer !== undefined) checkMirrors(records, opts.offer.records, OFFER_RANGES, 'offer');
  return { kind: 'invoice_request', offer, ...f, metadata: f.metadata, payerId: f.payerId, signature, unknown, records };
}

/** Decodes an `lnr1…` string, applying every reader rule (clock, chains and offer only when given). */
export function decodeInvoiceRequest(s: string, opts: InvoiceRequestReaderOptions = {}): InvoiceRequest {
  return parseInvoiceRequest(decodeBolt12String(s, 'lnr').bytes, opts);
}

/** What the payer adds to an offer. `metadata` must be unpredictable (e.g. 16 random bytes, hex). */
export interface InvoiceRequestInput {
  readonly metadata: string;
  readonly chain?: string | null;
  readonly amountMsat?: bigint | null;
  readonly features?: readonly number[] | null;
  readonly quantity?: bigint | null;
  readonly payerNote?: string | null;
  readonly paths?: readonly BlindedPath[] | null;
  readonly bip353Name?: Bip353Name | null;
}

export interface SignOptions extends EncodeStringOptions {
  /** BIP-340 auxiliary randomness (32 bytes); fresh by default. Fixed only in tests. */
  readonly auxRand?: Uint8Array;
}

/** Builds and signs an invoice request for `offer` with the payer's (transient) key. Checks the result. */
export function signInvoiceRequest(offer: Offer, input: InvoiceRequestInput, payerSecretKey: Uint8Array, opts: SignOptions = {}): string {
  const T = INVREQ_TYPES;
  const out: TlvRecord[] = offer.records.filter((r) => !isSignatureType(r.type));
  const put = <V>(type: bigint, v: V | null | undefined, write: (v: V) => Uint8Array): void => {
    if (v !== null && v !== undefined) out.push({ type, value: write(v) });
  };
  put(T.metadata, input.metadata, (m) => {
    const b = hexField(m, null, 'invreq_metadata');
    if (b.length === 0) throw new Bolt12Error('invreq_metadata: must be unpredictable bytes, not empty');
    return b;
  });
  put(T.chain, input.chain, (c) => hexField(c, 32, 'invreq_chain'));
  put(T.amount, input.amountMsat, (a) => writeTu64(a, 'invreq_amount'));
  put(T.features, input.features, (f) => writeFeatures(f, 'invreq_features'));
  put(T.quantity, input.quantity, (q) => writeTu64(q, 'invreq_quantity'));
  put(T.payerId, publicKeyHex(payerSecretKey), (k) => hexField(k, 33, 'invreq_payer_id'));
  put(T.payerNote, input.payerNote, writeUtf8);
  put(T.paths, input.paths, (p) => writeBlindedPaths(p, 'invreq_paths'));
  put(T.bip353Name, input.bip353Name, (n) => {
    const name = writeUtf8(n.name);
    const domain = writeUtf8(n.domain);
    if (name.length > 255 || domain.length > 255) throw new Bolt12Error('invreq_bip_353_name: name and domain are at most 255 bytes');
    return Uint8Array.from([name.length, ...name, domain.length, ...domain]);
  });
  const unsigned = readTlvStream(writeTlvStream(out));
  const sig = signMerkle(unsigned, 'invoice_request', payerSecretKey, opts.auxRand);
  const s = encodeBolt12String('lnr', writeTlvStream([...unsigned, { type: SIGNATURE_TYPE, value: sig }]), opts);
  decodeInvoiceRequest(s, { offer });
  return s;
}
