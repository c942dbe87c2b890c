// BOLT #1's wire primitives as BOLT12 uses them: BigSize, TLV streams (strictly increasing types,
// minimal encodings, lengths within the data), and a cursor for the fixed-size fields inside a value.
import { Bolt12Error } from './errors.js';

/** One TLV record: its type and its value bytes (the length is implied). */
export interface TlvRecord {
  readonly type: bigint;
  readonly value: Uint8Array;
}

export const U64_MAX = (1n << 64n) - 1n;

/** Reads a BigSize at `pos`; rejects truncation and non-minimal encodings. Returns [value, next position]. */
export function readBigSize(buf: Uint8Array, pos: number, what: string): [bigint, number] {
  const first = buf[pos];
  if (first === undefined) throw new Bolt12Error(`truncated ${what}`);
  if (first < 0xfd) return [BigInt(first), pos + 1];
  const size = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
  const min = first === 0xfd ? 0xfdn : first === 0xfe ? 0x1_0000n : 0x1_0000_0000n;
  if (pos + 1 + size > buf.length) throw new Bolt12Error(`truncated ${what}`);
  let v = 0n;
  for (let i = 1; i <= size; i++) v = (v << 8n) | BigInt(buf[pos + i]!);
  if (v < min) throw new Bolt12Error(`non-minimal BigSize encoding of ${what}`);
  return [v, pos + 1 + size];
}

export function writeBigSize(v: bigint): Uint8Array {
  if (v < 0n || v > U64_MAX) throw new Bolt12Error(`BigSize out of range: ${v}`);
  if (v < 0xfdn) return Uint8Array.of(Number(v));
  const [marker, size] = v <= 0xffffn ? [0xfd, 2] : v <= 0xffff_ffffn ? [0xfe, 4] : [0xff, 8];
  const out = new Uint8Array(1 + size);
  out[0] = marker;
  for (let i = size; i >= 1; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** Parses a whole TLV stream. Types must be strictly increasing; every length must fit the data. */
export function readTlvStream(bytes: Uint8Array): TlvRecord[] {
  const out: TlvRecord[] = [];
  let pos = 0;
  let prev: bigint | null = null;
  while (pos < bytes.length) {
    let type: bigint;
    let length: bigint;
    [type, pos] = readBigSize(bytes, pos, 'TLV type');
    if (prev !== null && type <= prev) {
      throw new Bolt12Error(type === prev ? `duplicate TLV type ${type}` : `TLV type ${type} after ${prev}: types must be strictly increasing`);
    }
    [length, pos] = readBigSize(bytes, pos, `length of TLV ${type}`);
    const left = bytes.length - pos;
    if (length > BigInt(left)) throw new Bolt12Error(`TLV ${type} truncated: length ${length}, ${left} bytes left`);
    out.push({ type, value: bytes.slice(pos, pos + Number(length)) });
    pos += Number(length);
    prev = type;
  }
  return out;
}

/** One record's wire bytes: type, length, value. */
export function encodeTlvRecord(r: TlvRecord): Uint8Array {
  return concat([writeBigSize(r.type), writeBigSize(BigInt(r.value.length)), r.value]);
}

/** Serialises records, sorted by type; a duplicate type is a caller bug and throws. */
export function writeTlvStream(records: readonly TlvRecord[]): Uint8Array {
  const sorted = [...records].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.type === sorted[i - 1]!.type) throw new Bolt12Error(`duplicate TLV type ${sorted[i]!.type}`);
  }
  return concat(sorted.map(encodeTlvRecord));
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A truncated unsigned integer (tu64 / tu32): big-endian, no leading zero bytes, zero is empty. */
export function readTruncated(value: Uint8Array, maxBytes: 4 | 8, field: string): bigint {
  if (value.length > maxBytes) throw new Bolt12Error(`${field}: ${value.length} bytes is too long for a tu${maxBytes * 8}`);
  if (value[0] === 0) throw new Bolt12Error(`${field}: tu${maxBytes * 8} is not minimally encoded (leading zero)`);
  let v = 0n;
  for (const b of value) v = (v << 8n) | BigInt(b);
  return v;
}

export function writeTruncated(v: bigint, maxBytes: 4 | 8, field: string): Uint8Array {
  if (v < 0n || v >= 1n << BigInt(maxBytes * 8)) throw new Bolt12Error(`${field}: ${v} does not fit a tu${maxBytes * 8}`);
  const out: number[] = [];
  for (; v > 0n; v >>= 8n) out.unshift(Number(v & 0xffn));
  return Uint8Array.from(out);
}

/** Fixed-size big-endian unsigned integer. */
export function writeUint(v: bigint | number, size: number): Uint8Array {
  let x = BigInt(v);
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

/** Reads fixed-size fields inside one TLV value, naming the field in every error. */
export class Cursor {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly field: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  bytes(n: number, what: string): Uint8Array {
    if (this.pos + n > this.buf.length) throw new Bolt12Error(`${this.field}: truncated ${what}`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  peek(): number | undefined {
    return this.buf[this.pos];
  }

  uint(size: 1 | 2 | 4 | 8, what: string): bigint {
    let v = 0n;
    for (const b of this.bytes(size, what)) v = (v << 8n) | BigInt(b);
    return v;
  }

  /** Fails on trailing bytes. */
  end(): void {
    if (!this.done) throw new Bolt12Error(`${this.field}: ${this.buf.length - this.pos} unexpected trailing bytes`);
  }
}

/** Which types a stream admits: `ranges` (inclusive) and, within them, the known even types. */
export interface StreamRules {
  readonly stream: string;
  readonly known: ReadonlySet<bigint>;
  readonly ranges: readonly (readonly [bigint, bigint])[];
}

/** Rejects types outside the stream's ranges and unknown even types; unknown odd types are kept. */
export function checkRecordTypes(records: readonly TlvRecord[], rules: StreamRules): TlvRecord[] {
  const unknown: TlvRecord[] = [];
  for (const r of records) {
    if (!rules.ranges.some(([lo, hi]) => r.type >= lo && r.type <= hi)) {
      const ranges = rules.ranges.map(([lo, hi]) => `${lo}-${hi}`).join(', ');
      throw new Bolt12Error(`${rules.stream}: TLV type ${r.type} is outside the allowed ranges ${ranges}`);
    }
    if (rules.known.has(r.type)) continue;
    if (r.type % 2n === 0n) throw new Bolt12Error(`${rules.stream}: unknown even TLV type ${r.type}`);
    unknown.push(r);
  }
  return unknown;
}
