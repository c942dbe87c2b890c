// BOLT #11 invoices: encode and sign, decode and verify. Signatures are secp256k1 recoverable
// ECDSA (RFC 6979, low-S) over sha256(hrp as UTF-8 || data words packed to bytes, zero-padded),
// written as r || s || recovery id. Amounts are integer millisatoshis (number, safe-integer checked).
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import {
  Bolt11Error,
  bech32ToWords,
  bytesToWords,
  featuresToWords,
  formatAmount,
  intToWords,
  parseAmount,
  wordsToBech32,
  wordsToBytes,
  wordsToFeatures,
  wordsToInt,
} from './bolt11-words.js';

export { Bolt11Error, BOLT11_MAX_LENGTH } from './bolt11-words.js';

export type Network = 'mainnet' | 'testnet' | 'signet' | 'regtest';

/** The currency part of the prefix for each network (after `ln`). */
export const NETWORK_PREFIX = { mainnet: 'bc', testnet: 'tb', signet: 'tbs', regtest: 'bcrt' } as const satisfies Record<Network, string>;

/** Longest first, so `lnbcrt` is not read as `lnbc` + "rt" and `lntbs` not as `lntb` + "s". */
const PREFIXES = (Object.entries(NETWORK_PREFIX) as [Network, string][]).sort((a, b) => b[1].length - a[1].length);

export const DEFAULT_EXPIRY_SECONDS = 3600;
export const DEFAULT_MIN_FINAL_CLTV_EXPIRY = 18;

/** Feature bits we know (BOLT #9, context 9): var_onion_optin, payment_secret, basic_mpp, route_blinding, payment_metadata. */
const KNOWN_FEATURES = new Set([8, 9, 14, 15, 16, 17, 24, 25, 48, 49]);

const TAG_CODE = { p: 1, s: 16, d: 13, h: 23, n: 19, x: 6, c: 24, '9': 5 } as const;
type Letter = keyof typeof TAG_CODE;
const CODE_LETTER = new Map<number, Letter>(Object.entries(TAG_CODE).map(([k, v]) => [v, k as Letter]));
const FIXED_WORDS: Partial<Record<Letter, number>> = { p: 52, s: 52, h: 52, n: 53 };

/**
 * One tagged field, in invoice order. Hashes and keys are lowercase hex. `raw` keeps what we do not
 * interpret (`f` fallback addresses, `r` routes, `t`, unknown types, and known types of the wrong
 * length, which readers must skip), so a decoded invoice re-encodes to the same string.
 */
export type Bolt11Tag =
  | { [L in Letter]: { readonly tag: L; readonly value: TagValue[L] } }[Letter]
  | { readonly tag: 'raw'; readonly code: number; readonly words: readonly number[] };

/** p payment hash, s payment secret, h description hash (32-byte hex); n payee (33-byte hex); d description; x expiry seconds; c min_final_cltv_expiry; 9 feature bits. */
interface TagValue {
  p: string;
  s: string;
  h: string;
  n: string;
  d: string;
  x: number;
  c: number;
  '9': readonly number[];
}

export interface Bolt11Unsigned {
  readonly network: Network;
  /** Omit (or null) for an invoice of any amount. */
  readonly amountMsat?: number | null;
  /** Seconds since 1970. */
  readonly timestamp: number;
  readonly tags: readonly Bolt11Tag[];
}

export interface Bolt11Invoice {
  /** The invoice string, lowercase. */
  readonly paymentRequest: string;
  readonly hrp: string;
  readonly network: Network;
  readonly amountMsat: number | null;
  readonly timestamp: number;
  readonly paymentHash: string;
  readonly paymentSecret: string | null;
  readonly description: string | null;
  readonly descriptionHash: string | null;
  readonly expirySeconds: number;
  /** timestamp + expirySeconds. */
  readonly expiresAt: number;
  readonly minFinalCltvExpiry: number;
  /** The payee's 33-byte compressed public key (hex): the `n` field, or recovered from the signature. */
  readonly payee: string;
  /** Set feature bits, ascending. */
  readonly features: readonly number[];
  readonly tags: readonly Bolt11Tag[];
  /** r || s, 64 bytes hex. */
  readonly signature: string;
  readonly recoveryId: number;
}

const hex32 = /^[0-9a-f]{64}$/;

function tagWords(t: Bolt11Tag): { code: number; data: number[] } {
  switch (t.tag) {
    case 'p':
    case 's':
    case 'h':
      if (!hex32.test(t.value)) throw new Bolt11Error(`${t.tag} field must be 32 bytes of lowercase hex`);
      return { code: TAG_CODE[t.tag], data: bytesToWords(hexToBytes(t.value)) };
    case 'n':
      if (!/^0[23][0-9a-f]{64}$/.test(t.value)) throw new Bolt11Error('n field must be a 33-byte compressed public key in hex');
      return { code: TAG_CODE.n, data: bytesToWords(hexToBytes(t.value)) };
    case 'd':
      return { code: TAG_CODE.d, data: bytesToWords(new TextEncoder().encode(t.value)) };
    case 'x':
    case 'c':
      return { code: TAG_CODE[t.tag], data: intToWords(t.value) };
    case '9':
      return { code: TAG_CODE['9'], data: featuresToWords(t.value) };
    case 'raw':
      if (!Number.isInteger(t.code) || t.code < 0 || t.code > 31) throw new Bolt11Error(`invalid field type ${t.code}`);
      return { code: t.code, data: [...t.words] };
  }
}

function hrpFor(network: Network, amountMsat: number | null | undefined): string {
  return 'ln' + NETWORK_PREFIX[network] + (amountMsat == null ? '' : formatAmount(amountMsat));
}

function sigHash(hrp: string, words: readonly number[]): Uint8Array {
  const h = new TextEncoder().encode(hrp);
  const d = wordsToBytes(words, true);
  const msg = new Uint8Array(h.length + d.length);
  msg.set(h);
  msg.set(d, h.length);
  return sha256(msg);
}

/** Encodes and signs an invoice with the payee's 32-byte secret key. Tags are written in the given order. */
export function encodeBolt11(inv: Bolt11Unsigned, secretKey: Uint8Array): string {
  if (!(inv.network in NETWORK_PREFIX)) throw new Bolt11Error(`unknown network ${String(inv.network)}`);
  const hrp = hrpFor(inv.network, inv.amountMsat);
  if (!Number.isSafeInteger(inv.timestamp) || inv.timestamp < 0 || inv.timestamp >= 2 ** 35) throw new Bolt11Error('timestamp must fit in 35 bits');
  const words = intToWords(inv.timestamp, 7);
  for (const t of inv.tags) {
    const { code, data } = tagWords(t);
    if (data.length > 1023) throw new Bolt11Error(`field ${t.tag} is too long (${data.length} words > 1023)`);
    words.push(code, ...intToWords(data.length, 2), ...data);
  }
  // 'recovered' is [recovery id, r, s]; BOLT #11 writes r, s, recovery id.
  const rec = secp256k1.sign(sigHash(hrp, words), secretKey, { prehash: false, format: 'recovered' });
  const sig = new Uint8Array(65);
  sig.set(rec.subarray(1), 0);
  sig[64] = rec[0]!;
  return wordsToBech32(hrp, [...words, ...bytesToWords(sig)]);
}

function parseHrp(hrp: string): { network: Network; amountMsat: number | null } {
  if (!hrp.startsWith('ln')) throw new Bolt11Error(`not a lightning invoice prefix: ${hrp}`);
  for (const [network, cur] of PREFIXES) {
    if (!hrp.startsWith('ln' + cur)) continue;
    const rest = hrp.slice(2 + cur.length);
    if (rest === '') return { network, amountMsat: null };
    if (/^[0-9]/.test(rest)) return { network, amountMsat: parseAmount(rest) };
  }
  throw new Bolt11Error(`unknown currency prefix or invalid amount in ${JSON.stringify(hrp)}`);
}

function readTag(code: number, data: number[]): Bolt11Tag {
  const raw: Bolt11Tag = { tag: 'raw', code, words: data };
  const letter = CODE_LETTER.get(code);
  if (letter === undefined) return raw;
  const fixed = FIXED_WORDS[letter];
  if (fixed !== undefined && data.length !== fixed) return raw; // readers MUST skip these
  switch (letter) {
    case 'p':
    case 's':
    case 'h':
    case 'n':
      return { tag: letter, value: bytesToHex(wordsToBytes(data, false)) } as Bolt11Tag;
    case 'd':
      try {
        return { tag: 'd', value: new TextDecoder('utf-8', { fatal: true }).decode(wordsToBytes(data, false)) };
      } catch {
        throw new Bolt11Error('description is not valid UTF-8');
      }
    case 'x':
    case 'c':
      return { tag: letter, value: wordsToInt(data) } as Bolt11Tag;
    case '9':
      return { tag: '9', value: wordsToFeatures(data) };
  }
}

/** First value of a tag, if any. */
function first<L extends Letter>(tags: readonly Bolt11Tag[], tag: L): TagValue[L] | undefined {
  for (const t of tags) if (t.tag === tag) return (t as unknown as { value: TagValue[L] }).value;
  return undefined;
}

/** The fields of an invoice, its signature not checked yet. */
function readFields(s: string) {
  const { hrp, words } = bech32ToWords(s);
  const { network, amountMsat } = parseHrp(hrp);
  if (words.length < 7 + 104) throw new Bolt11Error('too short');
  const body = words.slice(0, -104);
  const sigBytes = wordsToBytes(words.slice(-104), false);
  const tags: Bolt11Tag[] = [];
  for (let i = 7; i < body.length; ) {
    if (i + 3 > body.length) throw new Bolt11Error('truncated tagged field');
    const code = body[i]!;
    const len = body[i + 1]! * 32 + body[i + 2]!;
    if (i + 3 + len > body.length) throw new Bolt11Error('tagged field longer than the invoice');
    tags.push(readTag(code, body.slice(i + 3, i + 3 + len)));
    i += 3 + len;
  }
  return { hrp, network, amountMsat, timestamp: wordsToInt(body.slice(0, 7)), body, sigBytes, tags };
}

/**
 * Payment hash and amount of an invoice, without the signature check (a proof of payment is the
 * preimage, whoever signed): fast enough to read many label proofs. Null if it is not an invoice.
 */
export function readBolt11(s: string): { paymentHash: string; amountMsat: number | null } | null {
  try {
    const { hrp, words } = bech32ToWords(s);
    const { amountMsat } = parseHrp(hrp);
    const body = words.length - 104;
    // Walk the tagged fields by type and length; decode only the payment hash (type 1, 52 words).
    for (let i = 7; i + 3 <= body; ) {
      const code = words[i]!;
      const len = words[i + 1]! * 32 + words[i + 2]!;
      if (i + 3 + len > body) return null;
      if (code === TAG_CODE.p && len === 52) return { paymentHash: bytesToHex(wordsToBytes(words.slice(i + 3, i + 3 + len), false)), amountMsat };
      i += 3 + len;
    }
    return null;
  } catch {
    return null;
  }
}

/**
 * Decodes an invoice and checks its signature: against the `n` field when present, otherwise by
 * recovering the payee's key (a tampered invoice then names a different payee: compare `payee`).
 * Throws Bolt11Error for bad checksums, prefixes, amounts, fields and signatures, and for unknown
 * even (required) feature bits.
 */
export function decodeBolt11(s: string): Bolt11Invoice {
  const { hrp, network, amountMsat, timestamp, body, sigBytes, tags } = readFields(s);
  const paymentHash = first(tags, 'p');
  if (paymentHash === undefined) throw new Bolt11Error('no payment hash (p field)');
  const description = first(tags, 'd') ?? null;
  const descriptionHash = first(tags, 'h') ?? null;
  if (description === null && descriptionHash === null) throw new Bolt11Error('no description (d) or description hash (h)');
  const features = first(tags, '9') ?? [];
  // Every `9` field, not only the first: a second one with an unknown even (required) bit must fail the
  // payment too. Found by the fuzzer (test/fuzz/corpus/bolt11/regress-second-9-field.txt).
  const unknownRequired = [...new Set(tags.flatMap((t) => (t.tag === '9' ? t.value : [])))].filter((b) => b % 2 === 0 && !KNOWN_FEATURES.has(b));
  if (unknownRequired.length > 0) throw new Bolt11Error(`unknown required feature bits: ${unknownRequired.join(', ')}`);

  const recoveryId = sigBytes[64]!;
  if (recoveryId > 3) throw new Bolt11Error(`invalid recovery id ${recoveryId}`);
  const compact = sigBytes.subarray(0, 64);
  const hash = sigHash(hrp, body);
  const n = first(tags, 'n');
  let payee: string;
  if (n !== undefined) {
    let ok = false;
    try {
      ok = secp256k1.verify(compact, hash, hexToBytes(n), { prehash: false, lowS: false });
    } catch {
      ok = false;
    }
    if (!ok) throw new Bolt11Error('invalid signature for the payee in the n field');
    payee = n;
  } else {
    const rec = new Uint8Array(65);
    rec[0] = recoveryId;
    rec.set(compact, 1);
    try {
      payee = bytesToHex(secp256k1.recoverPublicKey(rec, hash, { prehash: false }));
    } catch {
      throw new Bolt11Error('signature is not recoverable');
    }
  }

  const expirySeconds = first(tags, 'x') ?? DEFAULT_EXPIRY_SECONDS;
  return {
    paymentRequest: s.toLowerCase(),
    hrp,
    network,
    amountMsat,
    timestamp,
    paymentHash,
    paymentSecret: first(tags, 's') ?? null,
    description,
    descriptionHash,
    expirySeconds,
    expiresAt: timestamp + expirySeconds,
    minFinalCltvExpiry: first(tags, 'c') ?? DEFAULT_MIN_FINAL_CLTV_EXPIRY,
    payee,
    features,
    tags,
    signature: bytesToHex(compact),
    recoveryId,
  };
}

/** The payee public key (33-byte compressed, hex) for a node's secret key. */
export function nodePublicKey(secretKey: Uint8Array): string {
  return bytesToHex(secp256k1.getPublicKey(secretKey, true));
}
