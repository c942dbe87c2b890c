// BOLT12's text form: a human-readable prefix, `1`, then the TLV bytes as bech32 characters with
// no checksum. Writers may split long strings with `+` (and whitespace after it); readers remove
// each `+` and its whitespace when it sits between two bech32 characters, and reject it anywhere else.
import { bech32CodeValue, bytesToWords } from '../../nostr/bech32.js';
import { Bolt12Error } from './errors.js';

export type Bolt12Prefix = 'lno' | 'lnr' | 'lni';

/** We bound what we parse: the largest onion message payload is ~64 KiB, so its text is below this. */
export const BOLT12_MAX_LENGTH = 120_000;

const ASCII_SPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c]);
const BECH32_CHAR = /^[0-9a-z]$/i;

/** Removes the `+` joins (each with its trailing whitespace), checking each lies between two bech32 characters. */
export function removeJoins(s: string): string {
  if (!s.includes('+')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c !== '+') {
      out += c;
      i++;
      continue;
    }
    const before = s[i - 1];
    i++;
    while (i < s.length && ASCII_SPACE.has(s.charCodeAt(i))) i++;
    const after = s[i];
    if (before === undefined || !BECH32_CHAR.test(before) || after === undefined || !BECH32_CHAR.test(after)) {
      throw new Bolt12Error(`a '+' must join two bech32 characters (at character ${i})`);
    }
  }
  return out;
}

/** Decodes a bolt12 string to its prefix and TLV bytes. `expect` restricts the prefix. */
export function decodeBolt12String(s: string, expect?: Bolt12Prefix): { prefix: Bolt12Prefix; bytes: Uint8Array } {
  if (typeof s !== 'string') throw new Bolt12Error('not a string');
  if (s.length > BOLT12_MAX_LENGTH) throw new Bolt12Error(`too long: ${s.length} > ${BOLT12_MAX_LENGTH} characters`);
  const joined = removeJoins(s);
  const lower = joined.toLowerCase();
  if (joined !== lower && joined !== joined.toUpperCase()) throw new Bolt12Error('mixed case: a bolt12 string is all lowercase or all UPPERCASE');
  const sep = lower.lastIndexOf('1');
  if (sep < 0) throw new Bolt12Error('missing the 1 separator');
  const prefix = lower.slice(0, sep);
  if (prefix !== 'lno' && prefix !== 'lnr' && prefix !== 'lni') throw new Bolt12Error(`unknown prefix ${JSON.stringify(prefix.slice(0, 20))}`);
  if (expect !== undefined && prefix !== expect) throw new Bolt12Error(`expected an ${expect} string, got ${prefix}`);
  const bytes = new Uint8Array(Math.floor(((lower.length - sep - 1) * 5) / 8));
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = sep + 1; i < lower.length; i++) {
    const w = bech32CodeValue(lower.charCodeAt(i));
    if (w < 0) throw new Bolt12Error(`invalid bech32 character ${JSON.stringify(lower[i])} at ${i}`);
    acc = ((acc << 5) | w) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[n++] = (acc >>> bits) & 0xff;
    }
  }
  if (bits >= 5) throw new Bolt12Error(`bech32 padding of ${bits} bits exceeds 4 bits`);
  if ((acc & ((1 << bits) - 1)) !== 0) throw new Bolt12Error('non-zero bech32 padding');
  return { prefix, bytes };
}

export interface EncodeStringOptions {
  /** Upper case, for QR codes (the spec's SHOULD). */
  readonly uppercase?: boolean;
  /** Split the data every `chunk` characters with `+` and a newline (for limited text fields). */
  readonly chunk?: number;
}

/** Encodes TLV bytes as a bolt12 string (no checksum). */
export function encodeBolt12String(prefix: Bolt12Prefix, bytes: Uint8Array, opts: EncodeStringOptions = {}): string {
  const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  let data = '';
  for (const w of bytesToWords(bytes)) data += CHARSET[w];
  if (opts.chunk !== undefined && opts.chunk > 0 && data.length > opts.chunk) {
    const parts: string[] = [];
    for (let i = 0; i < data.length; i += opts.chunk) parts.push(data.slice(i, i + opts.chunk));
    data = parts.join('+\n');
  }
  const s = `${prefix}1${data}`;
  if (s.length > BOLT12_MAX_LENGTH) throw new Bolt12Error(`too long: ${s.length} > ${BOLT12_MAX_LENGTH} characters`);
  return opts.uppercase ? s.toUpperCase() : s;
}
