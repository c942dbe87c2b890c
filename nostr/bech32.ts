// Bech32 (BIP-173, the original checksum, not bech32m) over whole bytes, as NIP-19 and NIP-49 use it.
// Written here rather than imported so the size limit, the padding rule and the error messages are ours
// (nostr-tools' copy comes from @scure/base, which is only a transitive dependency of this project).

export class Bech32Error extends Error {
  override name = 'Bech32Error';
}

/** NIP-19: "Bech32-formatted strings SHOULD be limited in size to 5000 characters." (BIP-173 itself says 90.) */
export const BECH32_MAX_LENGTH = 5000;

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const CHARSET_REV: Record<string, number> = Object.fromEntries([...CHARSET].map((c, i) => [c, i]));
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) >> 5);
  out.push(0);
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) & 31);
  return out;
}

/** True when `words` (data followed by the 6 checksum words) carry a valid bech32 checksum for `hrp`. */
export function bech32ChecksumOk(hrp: string, words: readonly number[]): boolean {
  // The same polymod as above, streamed (no arrays): invoices are long and read in bulk.
  let chk = 1;
  const step = (v: number) => {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    if (top & 1) chk ^= 0x3b6a57b2;
    if (top & 2) chk ^= 0x26508e6d;
    if (top & 4) chk ^= 0x1ea119fa;
    if (top & 8) chk ^= 0x3d4233dd;
    if (top & 16) chk ^= 0x2a1462b3;
  };
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) >> 5);
  step(0);
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) & 31);
  for (let i = 0; i < words.length; i++) step(words[i]!);
  return chk >>> 0 === 1;
}

const VALUE_BY_CODE = new Int8Array(128).fill(-1);
for (let i = 0; i < CHARSET.length; i++) VALUE_BY_CODE[CHARSET.charCodeAt(i)] = i;
/** The 5-bit value of a lowercase bech32 character by its char code, or -1. */
export const bech32CodeValue = (code: number): number => (code < 128 ? VALUE_BY_CODE[code]! : -1);

function checksum(hrp: string, words: readonly number[]): number[] {
  const mod = polymod([...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const out: number[] = [];
  for (let i = 0; i < 6; i++) out.push((mod >>> (5 * (5 - i))) & 31);
  return out;
}

/** 8-bit bytes to 5-bit words, zero-padding the last word (also used for BOLT11's tagged fields). */
export function bytesToWords(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >>> bits) & 31);
    }
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}

/** 5-bit words back to bytes. BIP-173: at most 4 bits of padding, and they must be zero. */
function fromWords(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(Math.floor((words.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (const w of words) {
    acc = ((acc << 5) | w) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >>> bits) & 0xff;
    }
  }
  if (bits >= 5 || ((acc << (8 - bits)) & 0xff) !== 0) throw new Bech32Error('invalid padding');
  return out;
}

function checkHrp(hrp: string): void {
  if (hrp.length < 1 || hrp.length > 83) throw new Bech32Error('invalid prefix length');
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) throw new Bech32Error('invalid prefix character');
  }
}

/** Encodes raw 5-bit words. Exposed for tests that need malformed payloads with valid checksums. */
export function bech32EncodeWords(prefix: string, words: readonly number[], limit = BECH32_MAX_LENGTH): string {
  checkHrp(prefix);
  // The checksum covers the prefix, so compute it over the lowercase form the decoder will see.
  const hrp = prefix.toLowerCase();
  if (!words.every((w) => Number.isInteger(w) && w >= 0 && w < 32)) throw new Bech32Error('words must be 5-bit integers');
  const out = hrp + '1' + [...words, ...checksum(hrp, words)].map((w) => CHARSET[w]).join('');
  if (out.length > limit) throw new Bech32Error(`too long: ${out.length} > ${limit} characters`);
  return out;
}

export const bech32Encode = (prefix: string, data: Uint8Array, limit = BECH32_MAX_LENGTH): string =>
  bech32EncodeWords(prefix, bytesToWords(data), limit);

export interface Bech32Decoded {
  prefix: string;
  data: Uint8Array;
}

export function bech32Decode(s: string, limit = BECH32_MAX_LENGTH): Bech32Decoded {
  if (typeof s !== 'string') throw new Bech32Error('not a string');
  if (s.length > limit) throw new Bech32Error(`too long: ${s.length} > ${limit} characters`);
  const lower = s.toLowerCase();
  if (s !== lower && s !== s.toUpperCase()) throw new Bech32Error('mixed case');
  const sep = lower.lastIndexOf('1');
  if (sep < 1) throw new Bech32Error('missing prefix or separator');
  if (lower.length - sep - 1 < 6) throw new Bech32Error('too short for a checksum');
  const hrp = lower.slice(0, sep);
  checkHrp(hrp);
  const words: number[] = [];
  for (const c of lower.slice(sep + 1)) {
    const w = CHARSET_REV[c];
    if (w === undefined) throw new Bech32Error(`invalid character ${JSON.stringify(c)}`);
    words.push(w);
  }
  if (polymod([...hrpExpand(hrp), ...words]) !== 1) throw new Bech32Error('invalid checksum');
  return { prefix: hrp, data: fromWords(words.slice(0, -6)) };
}
