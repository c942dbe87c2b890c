// The 5-bit word plumbing under BOLT #11: bech32 strings to words and back (checksums by
// nostr/bech32.ts), words to bytes and back, integers as big-endian words, and the amount in the
// human-readable part. Pure functions; no keys here.
import { bech32ChecksumOk, bech32CodeValue, bech32EncodeWords } from '../nostr/bech32.js';

export class Bolt11Error extends Error {
  override name = 'Bolt11Error';
}

/** BOLT #11 lifts BIP-173's 90-character limit; we still bound what we parse. */
export const BOLT11_MAX_LENGTH = 10_000;


/** Encodes the human-readable part and data words as a bech32 string with its checksum. */
export function wordsToBech32(hrp: string, words: readonly number[]): string {
  return bech32EncodeWords(hrp, words, BOLT11_MAX_LENGTH);
}

/**
 * Splits a bech32 string into its human-readable part and data words (checksum removed).
 * The checksum is verified by nostr/bech32.ts, so there is one BCH implementation.
 */
export function bech32ToWords(s: string): { hrp: string; words: number[] } {
  if (typeof s !== 'string') throw new Bolt11Error('not a string');
  if (s.length > BOLT11_MAX_LENGTH) throw new Bolt11Error(`too long: ${s.length} > ${BOLT11_MAX_LENGTH} characters`);
  const lower = s.toLowerCase();
  if (s !== lower && s !== s.toUpperCase()) throw new Bolt11Error('mixed case');
  const sep = lower.lastIndexOf('1');
  if (sep < 1) throw new Bolt11Error('missing prefix or separator');
  if (lower.length - sep - 1 < 6) throw new Bolt11Error('too short for a checksum');
  const hrp = lower.slice(0, sep);
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) throw new Bolt11Error('invalid character in the prefix');
  }
  const all = new Array<number>(lower.length - sep - 1);
  for (let i = sep + 1; i < lower.length; i++) {
    const w = bech32CodeValue(lower.charCodeAt(i));
    if (w < 0) throw new Bolt11Error(`invalid character ${JSON.stringify(lower[i])}`);
    all[i - sep - 1] = w;
  }
  if (!bech32ChecksumOk(hrp, all)) throw new Bolt11Error('invalid checksum');
  return { hrp, words: all.slice(0, -6) };
}

/** Bytes to 5-bit words, zero-padding the last word: the same conversion as bech32's. */
export { bytesToWords } from '../nostr/bech32.js';

/** 5-bit words to bytes. `pad`: append zero bits up to a byte (the signed message); otherwise drop the leftover bits (field data). */
export function wordsToBytes(words: readonly number[], pad: boolean): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of words) {
    acc = ((acc << 5) | w) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >>> bits) & 0xff);
    }
  }
  if (pad && bits > 0) out.push((acc << (8 - bits)) & 0xff);
  return Uint8Array.from(out);
}

/** A non-negative integer as big-endian words, `size` of them or as few as possible. */
export function intToWords(n: number, size?: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new Bolt11Error(`not a non-negative integer: ${n}`);
  const out: number[] = [];
  let v = n;
  while (v > 0) {
    out.unshift(v % 32);
    v = Math.floor(v / 32);
  }
  if (size === undefined) return out;
  if (out.length > size) throw new Bolt11Error(`${n} does not fit in ${size} words`);
  while (out.length < size) out.unshift(0);
  return out;
}

export function wordsToInt(words: readonly number[]): number {
  if (words.length > 10) throw new Bolt11Error('integer field longer than 50 bits');
  let v = 0;
  for (const w of words) v = v * 32 + w;
  return v;
}

/** Feature bits (numbers) to the minimal `9` field words; bit 0 is the lowest bit of the last word. */
export function featuresToWords(bits: readonly number[]): number[] {
  if (bits.length === 0) return [];
  const max = Math.max(...bits);
  const out = new Array<number>(Math.floor(max / 5) + 1).fill(0);
  for (const b of bits) {
    if (!Number.isInteger(b) || b < 0) throw new Bolt11Error(`invalid feature bit ${b}`);
    const i = out.length - 1 - Math.floor(b / 5);
    out[i] = out[i]! | (1 << b % 5);
  }
  return out;
}

export function wordsToFeatures(words: readonly number[]): number[] {
  const bits: number[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[words.length - 1 - i]!;
    for (let j = 0; j < 5; j++) if ((w >> j) & 1) bits.push(i * 5 + j);
  }
  return bits;
}

// ---- amounts: the human-readable part counts bitcoin with a multiplier; we count msat ----

const MSAT_PER: Record<string, bigint> = { '': 100_000_000_000n, m: 100_000_000n, u: 100_000n, n: 100n };

/** "2500u" -> 250000000 msat. Throws on leading zeros, unknown multipliers and sub-msat precision. */
export function parseAmount(s: string): number {
  const m = /^([1-9][0-9]*)([munp]?)$/.exec(s);
  if (!m) throw new Bolt11Error(`invalid amount ${JSON.stringify(s)}`);
  const digits = BigInt(m[1]!);
  const mult = m[2]!;
  let msat: bigint;
  if (mult === 'p') {
    if (digits % 10n !== 0n) throw new Bolt11Error('amount has sub-millisatoshi precision');
    msat = digits / 10n;
  } else {
    msat = digits * MSAT_PER[mult]!;
  }
  if (msat > BigInt(Number.MAX_SAFE_INTEGER)) throw new Bolt11Error('amount too large');
  return Number(msat);
}

/** The shortest amount string for `msat`: the largest multiplier that keeps it an integer. */
export function formatAmount(msat: number): string {
  if (!Number.isSafeInteger(msat) || msat <= 0) throw new Bolt11Error(`amount must be a positive integer of msat, got ${msat}`);
  const v = BigInt(msat);
  for (const mult of ['', 'm', 'u', 'n']) {
    const per = MSAT_PER[mult]!;
    if (v % per === 0n) return `${v / per}${mult}`;
  }
  return `${v * 10n}p`;
}
