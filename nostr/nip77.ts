// NIP-77: Negentropy set reconciliation (protocol V1, the appendix of ../shared/specs/nips/77.md),
// written to the spec because the reference implementation is not on npm here. Both sides hold a
// sorted list of (created_at, id) records; the initiator sends fingerprints of ranges, the other
// side answers with finer ranges or id lists where the fingerprints differ, and after a few round
// trips the initiator knows which ids it has that the other lacks (have) and which it lacks (need).
// Bytes in, bytes out: the relay (relay/negentropy.ts) and the sync client wrap them in
// NEG-OPEN / NEG-MSG / NEG-CLOSE with hex.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

export const PROTOCOL_VERSION = 0x61;
const ID_SIZE = 32;
const FINGERPRINT_SIZE = 16;
/** Ranges with fewer records than this are sent as id lists; larger ones split into BUCKETS fingerprints. */
const BUCKETS = 16;
const MODE_SKIP = 0;
const MODE_FINGERPRINT = 1;
const MODE_IDLIST = 2;
/** The reserved "infinity" timestamp (2^64 - 1 on the wire): larger than every real one. */
export const INFINITY = Number.POSITIVE_INFINITY;

export class NegentropyError extends Error {
  override name = 'NegentropyError';
}

export interface NegItem {
  readonly timestamp: number;
  /** 32 bytes. */
  readonly id: Uint8Array;
}

interface Bound {
  readonly timestamp: number;
  /** A prefix of an id (0 to 32 bytes); the missing bytes are zeros. */
  readonly id: Uint8Array;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  // A shorter prefix is padded with zeros: it is smaller only if the rest of the other is not all zero.
  if (a.length < b.length) return b.subarray(n).some((x) => x !== 0) ? -1 : 0;
  if (b.length < a.length) return a.subarray(n).some((x) => x !== 0) ? 1 : 0;
  return 0;
}

function compareItems(a: Bound, b: Bound): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return compareBytes(a.id, b.id);
}

/** The records of one side, sorted by (timestamp, id) as the protocol needs. Sealed once built. */
export class NegentropyStorage {
  private readonly items: NegItem[] = [];
  private sealed = false;

  /** Adds a record; `id` as 64 hex characters or 32 bytes. */
  insert(timestamp: number, id: string | Uint8Array): void {
    if (this.sealed) throw new NegentropyError('storage already sealed');
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new NegentropyError(`bad timestamp ${timestamp}`);
    const bytes = typeof id === 'string' ? hexToBytes(id) : id;
    if (bytes.length !== ID_SIZE) throw new NegentropyError('ids are 32 bytes');
    this.items.push({ timestamp, id: bytes });
  }

  seal(): this {
    if (this.sealed) return this;
    this.items.sort(compareItems);
    // Equal records would break the fingerprints' arithmetic on one side only: keep one.
    for (let i = this.items.length - 1; i > 0; i--) if (compareItems(this.items[i]!, this.items[i - 1]!) === 0) this.items.splice(i, 1);
    this.sealed = true;
    return this;
  }

  get size(): number {
    return this.items.length;
  }

  get(i: number): NegItem {
    const it = this.items[i];
    if (!it) throw new NegentropyError(`index ${i} out of range`);
    return it;
  }

  /** The first index in [first, last) whose record is >= bound (binary search). */
  findLowerBound(first: number, last: number, bound: Bound): number {
    let lo = first;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareItems(this.items[mid]!, bound) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The spec's fingerprint: sum mod 2^256 of the ids as little-endian integers, then the count, SHA-256, 16 bytes. */
  fingerprint(begin: number, end: number): Uint8Array {
    const acc = new Uint8Array(ID_SIZE);
    for (let i = begin; i < end; i++) {
      const id = this.items[i]!.id;
      let carry = 0;
      for (let j = 0; j < ID_SIZE; j++) {
        const s = acc[j]! + id[j]! + carry;
        acc[j] = s & 0xff;
        carry = s >>> 8;
      }
    }
    const n = encodeVarint(end - begin);
    const buf = new Uint8Array(ID_SIZE + n.length);
    buf.set(acc);
    buf.set(n, ID_SIZE);
    return sha256(buf).subarray(0, FINGERPRINT_SIZE);
  }

  assertSealed(): void {
    if (!this.sealed) throw new NegentropyError('seal the storage first');
  }
}

export function encodeVarint(n: number): Uint8Array {
  if (n === 0) return Uint8Array.of(0);
  const digits: number[] = [];
  while (n > 0) {
    digits.push(n % 128);
    n = Math.floor(n / 128);
  }
  digits.reverse();
  return Uint8Array.from(digits.map((d, i) => (i < digits.length - 1 ? d | 0x80 : d)));
}

/** Reads a message front to back; every read checks there are bytes left. */
class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw new NegentropyError('message ends early');
    return this.buf[this.pos++]!;
  }
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new NegentropyError('message ends early');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  varint(): number {
    let n = 0;
    for (let i = 0; ; i++) {
      const b = this.byte();
      n = n * 128 + (b & 0x7f);
      // 2^53: larger values are no timestamp or count we could hold; a hostile peer's, refused.
      if (n > Number.MAX_SAFE_INTEGER || i > 9) throw new NegentropyError('varint too large');
      if ((b & 0x80) === 0) return n;
    }
  }
}

class Writer {
  private readonly parts: Uint8Array[] = [];
  size = 0;
  push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }
  append(w: Writer): void {
    for (const p of w.parts) this.push(p);
  }
  clear(): void {
    this.parts.length = 0;
    this.size = 0;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export interface ReconcileResult {
  /** The next message to send; null when the initiator is done (reconciliation complete). */
  readonly output: Uint8Array | null;
  /** Initiator only: ids we have that the other side does not (hex). */
  readonly have: string[];
  /** Initiator only: ids the other side has that we do not (hex). */
  readonly need: string[];
}

export class Negentropy {
  private isInitiator = false;
  private lastTimestampIn = 0;
  private lastTimestampOut = 0;

  /**
   * @param frameSizeLimit bytes per message (0: no limit; else at least 4096). Ranges past the
   * limit are answered in a later round, so big syncs go in bounded steps.
   */
  constructor(
    private readonly storage: NegentropyStorage,
    private readonly frameSizeLimit = 0,
  ) {
    storage.assertSealed();
    if (frameSizeLimit !== 0 && frameSizeLimit < 4096) throw new NegentropyError('frameSizeLimit is 0 or at least 4096');
  }

  /** The initiator's first message: the whole range, split into fingerprints (or one id list). */
  initiate(): Uint8Array {
    if (this.isInitiator) throw new NegentropyError('already initiated');
    this.isInitiator = true;
    const out = new Writer();
    out.push(Uint8Array.of(PROTOCOL_VERSION));
    this.lastTimestampOut = 0;
    out.append(this.splitRange(0, this.storage.size, { timestamp: INFINITY, id: new Uint8Array(0) }));
    return out.bytes();
  }

  /** The responder's answer to a message (NEG-OPEN's initial message or a NEG-MSG). */
  respond(query: Uint8Array): Uint8Array {
    if (this.isInitiator) throw new NegentropyError('the initiator calls reconcile()');
    return this.reconcileAux(query, [], []);
  }

  /** The initiator reads the responder's answer: what it learned, and the next message or null. */
  reconcile(query: Uint8Array): ReconcileResult {
    if (!this.isInitiator) throw new NegentropyError('call initiate() first');
    const have: string[] = [];
    const need: string[] = [];
    const out = this.reconcileAux(query, have, need);
    return { output: out.length === 1 ? null : out, have, need };
  }

  private reconcileAux(query: Uint8Array, have: string[], need: string[]): Uint8Array {
    this.lastTimestampIn = 0;
    this.lastTimestampOut = 0;
    const r = new Reader(query);
    const full = new Writer();
    const version = r.byte();
    if (version < 0x60 || version > 0x6f) throw new NegentropyError('invalid negentropy protocol version byte');
    if (version !== PROTOCOL_VERSION) {
      if (this.isInitiator) throw new NegentropyError(`unsupported negentropy protocol version ${version - 0x60}`);
      // The spec: answer with the highest version we support, so the other side can downgrade.
      return Uint8Array.of(PROTOCOL_VERSION);
    }
    full.push(Uint8Array.of(PROTOCOL_VERSION));

    const storage = this.storage;
    let prevBound: Bound = { timestamp: 0, id: new Uint8Array(0) };
    let prevIndex = 0;
    let skip = false;
    while (!r.done) {
      const o = new Writer();
      const doSkip = () => {
        if (!skip) return;
        skip = false;
        o.push(this.encodeBound(prevBound));
        o.push(encodeVarint(MODE_SKIP));
      };
      const currBound = this.decodeBound(r);
      const mode = r.varint();
      const lower = prevIndex;
      let upper = storage.findLowerBound(prevIndex, storage.size, currBound);
      if (compareItems(currBound, prevBound) < 0) throw new NegentropyError('ranges out of order');

      if (mode === MODE_SKIP) {
        skip = true;
      } else if (mode === MODE_FINGERPRINT) {
        const theirs = r.bytes(FINGERPRINT_SIZE);
        const ours = storage.fingerprint(lower, upper);
        if (compareBytes(theirs, ours) !== 0 || theirs.length !== ours.length) {
          doSkip();
          o.append(this.splitRange(lower, upper, currBound));
        } else {
          skip = true;
        }
      } else if (mode === MODE_IDLIST) {
        const n = r.varint();
        if (n > query.length / ID_SIZE) throw new NegentropyError('id list longer than the message');
        const theirs = new Map<string, Uint8Array>();
        for (let i = 0; i < n; i++) {
          const id = r.bytes(ID_SIZE);
          theirs.set(bytesToHex(id), id);
        }
        for (let i = lower; i < upper; i++) {
          const k = bytesToHex(storage.get(i).id);
          if (!theirs.has(k)) {
            if (this.isInitiator) have.push(k);
          } else {
            theirs.delete(k);
          }
        }
        if (this.isInitiator) {
          skip = true;
          for (const k of theirs.keys()) need.push(k);
        } else {
          doSkip();
          const ids = new Writer();
          let count = 0;
          let endBound = currBound;
          for (let i = lower; i < upper; i++) {
            if (this.exceeded(full.size + ids.size)) {
              endBound = storage.get(i);
              upper = i;
              break;
            }
            ids.push(storage.get(i).id);
            count++;
          }
          o.push(this.encodeBound(endBound));
          o.push(encodeVarint(MODE_IDLIST));
          o.push(encodeVarint(count));
          o.append(ids);
          full.append(o);
          o.clear();
        }
      } else {
        throw new NegentropyError(`unexpected range mode ${mode}`);
      }

      if (this.exceeded(full.size + o.size)) {
        // Over the frame limit: stop here, and send one fingerprint for everything left, which
        // the other side splits again in its next message.
        full.push(this.encodeBound({ timestamp: INFINITY, id: new Uint8Array(0) }));
        full.push(encodeVarint(MODE_FINGERPRINT));
        full.push(storage.fingerprint(upper, storage.size));
        break;
      }
      full.append(o);
      prevIndex = upper;
      prevBound = currBound;
    }
    return full.bytes();
  }

  /** 200 bytes of headroom for the range that closes the message. */
  private exceeded(size: number): boolean {
    return this.frameSizeLimit !== 0 && size > this.frameSizeLimit - 200;
  }

  private splitRange(lower: number, upper: number, upperBound: Bound): Writer {
    const out = new Writer();
    const n = upper - lower;
    if (n < BUCKETS * 2) {
      out.push(this.encodeBound(upperBound));
      out.push(encodeVarint(MODE_IDLIST));
      out.push(encodeVarint(n));
      for (let i = lower; i < upper; i++) out.push(this.storage.get(i).id);
      return out;
    }
    const per = Math.floor(n / BUCKETS);
    const extra = n % BUCKETS;
    let curr = lower;
    for (let i = 0; i < BUCKETS; i++) {
      const size = per + (i < extra ? 1 : 0);
      const fp = this.storage.fingerprint(curr, curr + size);
      curr += size;
      const next = curr === upper ? upperBound : minimalBound(this.storage.get(curr - 1), this.storage.get(curr));
      out.push(this.encodeBound(next));
      out.push(encodeVarint(MODE_FINGERPRINT));
      out.push(fp);
    }
    return out;
  }

  private encodeBound(b: Bound): Uint8Array {
    const w = new Writer();
    w.push(this.encodeTimestampOut(b.timestamp));
    w.push(encodeVarint(b.id.length));
    w.push(b.id);
    return w.bytes();
  }

  private encodeTimestampOut(ts: number): Uint8Array {
    if (ts === INFINITY) {
      this.lastTimestampOut = INFINITY;
      return encodeVarint(0);
    }
    const delta = ts - this.lastTimestampOut;
    this.lastTimestampOut = ts;
    return encodeVarint(delta + 1);
  }

  private decodeBound(r: Reader): Bound {
    const timestamp = this.decodeTimestampIn(r);
    const len = r.varint();
    if (len > ID_SIZE) throw new NegentropyError('bound id prefix longer than 32 bytes');
    return { timestamp, id: r.bytes(len) };
  }

  private decodeTimestampIn(r: Reader): number {
    const raw = r.varint();
    const ts = raw === 0 ? INFINITY : raw - 1;
    if (this.lastTimestampIn === INFINITY || ts === INFINITY) {
      this.lastTimestampIn = INFINITY;
      return INFINITY;
    }
    const abs = ts + this.lastTimestampIn;
    if (!Number.isSafeInteger(abs)) throw new NegentropyError('timestamp too large');
    this.lastTimestampIn = abs;
    return abs;
  }
}

/** The shortest bound above `prev` and at or below `curr`. */
function minimalBound(prev: NegItem, curr: NegItem): Bound {
  if (curr.timestamp !== prev.timestamp) return { timestamp: curr.timestamp, id: new Uint8Array(0) };
  let shared = 0;
  while (shared < ID_SIZE && curr.id[shared] === prev.id[shared]) shared++;
  return { timestamp: curr.timestamp, id: curr.id.slice(0, shared + 1) };
}

export const toHex = bytesToHex;
export const fromHex = (hex: string): Uint8Array => {
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new NegentropyError('message is not hex');
  return hexToBytes(hex);
};
