// The value types inside BOLT12 TLV records: points, chain hashes, UTF-8, feature bitmaps,
// truncated integers. Each reader names the field in its error; each writer is its exact inverse.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { Bolt12Error } from './errors.js';
import { readTruncated, writeTruncated } from './tlv.js';

export { bytesToHex };

const reverseHex = (h: string): string => bytesToHex(hexToBytes(h).reverse());

/** Chain hashes as BOLT12 writes them: the genesis block hash in internal (little-endian) byte order. */
export const CHAIN_HASHES = {
  bitcoin: reverseHex('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f'),
  testnet: reverseHex('000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943'),
  signet: reverseHex('00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6'),
  regtest: reverseHex('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206'),
} as const;
export const BITCOIN_CHAIN = CHAIN_HASHES.bitcoin;

/** Lowercase hex of exactly `size` bytes, or throws. */
export function hexField(hex: string, size: number | null, field: string): Uint8Array {
  if (typeof hex !== 'string' || !/^([0-9a-f]{2})*$/i.test(hex)) throw new Bolt12Error(`${field}: not hex`);
  const b = hexToBytes(hex.toLowerCase());
  if (size !== null && b.length !== size) throw new Bolt12Error(`${field}: ${b.length} bytes, expected ${size}`);
  return b;
}

/** A compressed secp256k1 point (33 bytes, 02/03 prefix, on the curve), as hex. */
export function readPoint(b: Uint8Array, field: string): string {
  if (b.length !== 33) throw new Bolt12Error(`${field}: a point is 33 bytes, got ${b.length}`);
  if (b[0] !== 2 && b[0] !== 3) throw new Bolt12Error(`${field}: invalid point prefix ${b[0]}`);
  try {
    secp256k1.Point.fromBytes(b);
  } catch {
    throw new Bolt12Error(`${field}: not a point on secp256k1`);
  }
  return bytesToHex(b);
}

export function writePoint(hex: string, field: string): Uint8Array {
  const b = hexField(hex, 33, field);
  readPoint(b, field);
  return b;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function readUtf8(b: Uint8Array, field: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new Bolt12Error(`${field}: invalid UTF-8`);
  }
}

export const writeUtf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export const readTu64 = (b: Uint8Array, field: string): bigint => readTruncated(b, 8, field);
export const readTu32 = (b: Uint8Array, field: string): number => Number(readTruncated(b, 4, field));
export const writeTu64 = (v: bigint, field: string): Uint8Array => writeTruncated(v, 8, field);
export const writeTu32 = (v: number, field: string): Uint8Array => writeTruncated(BigInt(v), 4, field);

/** `...*chain_hash`: one or more 32-byte hashes (an empty list is explicitly invalid for offer_chains). */
export function readChains(b: Uint8Array, field: string): string[] {
  if (b.length === 0) throw new Bolt12Error(`${field}: present but has no chains`);
  if (b.length % 32 !== 0) throw new Bolt12Error(`${field}: length ${b.length} is not a multiple of 32`);
  const out: string[] = [];
  for (let i = 0; i < b.length; i += 32) out.push(bytesToHex(b.subarray(i, i + 32)));
  return out;
}

export function readSized(b: Uint8Array, size: number, field: string): string {
  if (b.length !== size) throw new Bolt12Error(`${field}: ${b.length} bytes, expected ${size}`);
  return bytesToHex(b);
}

/** The set bits of a feature bitmap (bit 0 is the last byte's lowest bit), ascending. */
export function featureBits(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = b.length - 1; i >= 0; i--) {
    const byte = b[i]!;
    if (byte === 0) continue;
    const base = (b.length - 1 - i) * 8;
    for (let k = 0; k < 8; k++) if (byte & (1 << k)) out.push(base + k);
  }
  return out;
}

/** Rejects unknown even bits ("it's OK to be odd"); returns the set bits. */
export function readFeatures(b: Uint8Array, known: ReadonlySet<number>, field: string): number[] {
  const bits = featureBits(b);
  const bad = bits.find((bit) => bit % 2 === 0 && !known.has(bit));
  if (bad !== undefined) throw new Bolt12Error(`${field}: unknown even feature bit ${bad}`);
  return bits;
}

/** Whether any set bit is even and unknown (for a payinfo, which makes its path unusable). */
export const hasUnknownEvenBit = (bits: readonly number[], known: ReadonlySet<number>): boolean =>
  bits.some((bit) => bit % 2 === 0 && !known.has(bit));

export function writeFeatures(bits: readonly number[], field: string): Uint8Array {
  if (bits.length === 0) return new Uint8Array(0);
  for (const bit of bits) if (!Number.isSafeInteger(bit) || bit < 0 || bit > 65_535) throw new Bolt12Error(`${field}: bad bit ${bit}`);
  const len = Math.floor(Math.max(...bits) / 8) + 1;
  const out = new Uint8Array(len);
  for (const bit of bits) {
    const i = len - 1 - Math.floor(bit / 8);
    out[i] = (out[i] ?? 0) | (1 << bit % 8);
  }
  return out;
}
