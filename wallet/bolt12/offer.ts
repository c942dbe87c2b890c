// Offers (`lno`): the TLV fields 1-79 (and the experimental 1000000000-1999999999), every reader
// rule of the spec that can be checked without a node, and an encoder that checks its own output.
import { Bolt12Error } from './errors.js';
import { decodeBolt12String, encodeBolt12String, type EncodeStringOptions } from './bech32-nochecksum.js';
import { BITCOIN_CHAIN, bytesToHex, hexField, readChains, readFeatures, readPoint, readTu64, readUtf8, writeFeatures, writePoint, writeTu64, writeUtf8 } from './fields.js';
import { readBlindedPaths, writeBlindedPaths, type BlindedPath } from './paths.js';
import { checkRecordTypes, readTlvStream, writeTlvStream, type TlvRecord } from './tlv.js';

export const OFFER_TYPES = {
  chains: 2n,
  metadata: 4n,
  currency: 6n,
  amount: 8n,
  description: 10n,
  features: 12n,
  absoluteExpiry: 14n,
  paths: 16n,
  issuer: 18n,
  quantityMax: 20n,
  issuerId: 22n,
} as const;

/** Offer feature bits this codec knows (BOLT12 defines none yet): any even bit is unknown. */
export const KNOWN_OFFER_FEATURES: ReadonlySet<number> = new Set();

/** The offer fields, as they also appear (mirrored) in invoice requests and invoices. */
export interface OfferFields {
  /** Chain hashes; null when absent, which means bitcoin only. */
  readonly chains: readonly string[] | null;
  readonly metadata: string | null;
  /** ISO 4217 code; when set, `amount` is in that currency's minor unit (e.g. USD cents). */
  readonly currency: string | null;
  /** Per item: msat when `currency` is null. */
  readonly amount: bigint | null;
  readonly description: string | null;
  /** Set feature bits (unknown even bits are rejected). */
  readonly features: readonly number[] | null;
  /** Seconds since 1970 after which no invoice_request should be sent. */
  readonly absoluteExpiry: bigint | null;
  readonly paths: readonly BlindedPath[] | null;
  readonly issuer: string | null;
  /** Maximum quantity per invoice; 0 means unlimited; null means one item only. */
  readonly quantityMax: bigint | null;
  readonly issuerId: string | null;
}

export interface Offer extends OfferFields {
  readonly kind: 'offer';
  /** `amount` when it is in msat (no currency), else null. */
  readonly amountMsat: bigint | null;
  /** Records of unknown odd types, kept (they are mirrored into invoice requests). */
  readonly unknown: readonly TlvRecord[];
  /** Every record, as read. */
  readonly records: readonly TlvRecord[];
}

export type OfferInput = { readonly [K in keyof OfferFields]?: OfferFields[K] | null } & { readonly unknown?: readonly TlvRecord[] };

/** Checks that depend on the reader: its clock and the chains it pays on. */
export interface ReaderOptions {
  /** Seconds since 1970; when given, an expired offer or invoice is rejected. */
  readonly now?: number | bigint;
  /** Chain hashes this node accepts (see CHAIN_HASHES); when given, other chains are rejected. */
  readonly chains?: readonly string[];
}

export const OFFER_RANGES = [
  [1n, 79n],
  [1_000_000_000n, 1_999_999_999n],
] as const;

const OFFER_RULES = { stream: 'offer', known: new Set(Object.values(OFFER_TYPES)), ranges: OFFER_RANGES };

/** Reads the offer fields (types 2-22) present in any of the three streams. */
export function readOfferFields(records: readonly TlvRecord[]): OfferFields {
  const get = (t: bigint): Uint8Array | undefined => records.find((r) => r.type === t)?.value;
  const opt = <T>(t: bigint, read: (v: Uint8Array) => T): T | null => {
    const v = get(t);
    return v === undefined ? null : read(v);
  };
  const T = OFFER_TYPES;
  return {
    chains: opt(T.chains, (v) => readChains(v, 'offer_chains')),
    metadata: opt(T.metadata, bytesToHex),
    currency: opt(T.currency, (v) => readCurrency(v)),
    amount: opt(T.amount, (v) => readTu64(v, 'offer_amount')),
    description: opt(T.description, (v) => readUtf8(v, 'offer_description')),
    features: opt(T.features, (v) => readFeatures(v, KNOWN_OFFER_FEATURES, 'offer_features')),
    absoluteExpiry: opt(T.absoluteExpiry, (v) => readTu64(v, 'offer_absolute_expiry')),
    paths: opt(T.paths, (v) => readBlindedPaths(v, 'offer_paths')),
    issuer: opt(T.issuer, (v) => readUtf8(v, 'offer_issuer')),
    quantityMax: opt(T.quantityMax, (v) => readTu64(v, 'offer_quantity_max')),
    issuerId: opt(T.issuerId, (v) => readPoint(v, 'offer_issuer_id')),
  };
}

function readCurrency(v: Uint8Array): string {
  const s = readUtf8(v, 'offer_currency');
  if (!/^[A-Z]{3}$/.test(s)) throw new Bolt12Error(`offer_currency: ${JSON.stringify(s)} is not an ISO 4217 three-letter code`);
  return s;
}

/** The reader rules on the offer fields of an offer (or of an invoice request responding to one). */
export function checkOfferRules(f: OfferFields, opts: ReaderOptions = {}): void {
  if (f.amount !== null && f.description === null) throw new Bolt12Error('offer_amount is set but offer_description is not');
  if (f.amount !== null && f.amount === 0n) throw new Bolt12Error('offer_amount is not greater than zero');
  if (f.currency !== null && f.amount === null) throw new Bolt12Error('offer_currency is set but offer_amount is not');
  if (f.issuerId === null && f.paths === null) throw new Bolt12Error('neither offer_issuer_id nor offer_paths is set');
  if (opts.chains !== undefined) {
    const chains = f.chains ?? [BITCOIN_CHAIN];
    if (!chains.some((c) => opts.chains!.includes(c))) throw new Bolt12Error(`offer is for chains we do not accept: ${chains.join(', ')}`);
  }
  if (opts.now !== undefined && f.absoluteExpiry !== null && BigInt(opts.now) > f.absoluteExpiry) {
    throw new Bolt12Error(`offer expired at ${f.absoluteExpiry}`);
  }
}

/** Parses and checks offer TLV bytes. */
export function parseOffer(bytes: Uint8Array, opts: ReaderOptions = {}): Offer {
  const records = readTlvStream(bytes);
  const unknown = checkRecordTypes(records, OFFER_RULES);
  const fields = readOfferFields(records);
  checkOfferRules(fields, opts);
  return { kind: 'offer', ...fields, amountMsat: fields.currency === null ? fields.amount : null, unknown, records };
}

/** Decodes an `lno1…` string, applying every reader rule (clock and chains only when given). */
export function decodeOffer(s: string, opts: ReaderOptions = {}): Offer {
  return parseOffer(decodeBolt12String(s, 'lno').bytes, opts);
}

/** The TLV records of offer fields (known ones from `o`, plus its unknown records). */
export function offerRecords(o: OfferInput): TlvRecord[] {
  const T = OFFER_TYPES;
  const out: TlvRecord[] = [];
  const put = <V>(type: bigint, v: V | null | undefined, write: (v: V) => Uint8Array): void => {
    if (v !== null && v !== undefined) out.push({ type, value: write(v) });
  };
  put(T.chains, o.chains, (cs) => {
    if (cs.length === 0) throw new Bolt12Error('offer_chains: needs at least one chain');
    return Uint8Array.from(cs.flatMap((c) => [...hexField(c, 32, 'offer_chains')]));
  });
  put(T.metadata, o.metadata, (m) => hexField(m, null, 'offer_metadata'));
  put(T.currency, o.currency, writeUtf8);
  put(T.amount, o.amount, (a) => writeTu64(a, 'offer_amount'));
  put(T.description, o.description, writeUtf8);
  put(T.features, o.features, (f) => writeFeatures(f, 'offer_features'));
  put(T.absoluteExpiry, o.absoluteExpiry, (e) => writeTu64(e, 'offer_absolute_expiry'));
  put(T.paths, o.paths, (p) => writeBlindedPaths(p, 'offer_paths'));
  put(T.issuer, o.issuer, writeUtf8);
  put(T.quantityMax, o.quantityMax, (q) => writeTu64(q, 'offer_quantity_max'));
  put(T.issuerId, o.issuerId, (k) => writePoint(k, 'offer_issuer_id'));
  return [...out, ...(o.unknown ?? [])];
}

/** Encodes an offer; the result is decoded again, so an offer breaking a reader rule throws here. */
export function encodeOffer(o: OfferInput, opts: EncodeStringOptions = {}): string {
  const s = encodeBolt12String('lno', writeTlvStream(offerRecords(o)), opts);
  decodeOffer(s);
  return s;
}
