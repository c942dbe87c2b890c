// The compound subtypes: BOLT #4's `blinded_path` (and its `onionmsg_hop`s, with a first node that
// is a point or a short channel id plus direction), `blinded_payinfo` and `fallback_address`.
import { Bolt12Error } from './errors.js';
import { bytesToHex, featureBits, hexField, readPoint, writeFeatures, writePoint } from './fields.js';
import { concat, Cursor, writeUint } from './tlv.js';

/** The introduction node: a node id, or a channel (`block x tx x output`) and a direction. */
export type FirstNode =
  | { readonly kind: 'node_id'; readonly nodeId: string }
  | { readonly kind: 'sciddir'; readonly shortChannelId: string; readonly direction: 0 | 1 };

export interface BlindedHop {
  readonly blindedNodeId: string;
  readonly encryptedRecipientData: string;
}

export interface BlindedPath {
  readonly firstNode: FirstNode;
  readonly pathKey: string;
  readonly hops: readonly BlindedHop[];
}

function formatScid(v: bigint): string {
  return `${v >> 40n}x${(v >> 16n) & 0xff_ffffn}x${v & 0xffffn}`;
}

function parseScid(s: string, field: string): bigint {
  const m = /^(\d+)x(\d+)x(\d+)$/.exec(s);
  const [b, t, o] = m ? [BigInt(m[1]!), BigInt(m[2]!), BigInt(m[3]!)] : [-1n, 0n, 0n];
  if (b < 0n || b > 0xff_ffffn || t > 0xff_ffffn || o > 0xffffn) throw new Bolt12Error(`${field}: bad short channel id ${JSON.stringify(s)}`);
  return (b << 40n) | (t << 16n) | o;
}

/** `...*blinded_path`: one or more paths, each with at least one hop. */
export function readBlindedPaths(value: Uint8Array, field: string): BlindedPath[] {
  const c = new Cursor(value, field);
  const out: BlindedPath[] = [];
  if (c.done) throw new Bolt12Error(`${field}: present but contains no path`);
  while (!c.done) {
    const n = out.length;
    const tag = c.peek();
    let firstNode: FirstNode;
    if (tag === 0 || tag === 1) {
      c.bytes(1, `first_node_id of path ${n}`);
      firstNode = { kind: 'sciddir', direction: tag, shortChannelId: formatScid(c.uint(8, `first_node_id of path ${n}`)) };
    } else {
      firstNode = { kind: 'node_id', nodeId: readPoint(c.bytes(33, `first_node_id of path ${n}`), `${field}: first_node_id of path ${n}`) };
    }
    const pathKey = readPoint(c.bytes(33, `path_key of path ${n}`), `${field}: path_key of path ${n}`);
    const numHops = Number(c.uint(1, `num_hops of path ${n}`));
    if (numHops === 0) throw new Bolt12Error(`${field}: num_hops is 0 in path ${n}`);
    const hops: BlindedHop[] = [];
    for (let h = 0; h < numHops; h++) {
      const blindedNodeId = readPoint(c.bytes(33, `blinded_node_id of hop ${h} of path ${n}`), `${field}: blinded_node_id of hop ${h} of path ${n}`);
      const len = Number(c.uint(2, `enclen of hop ${h} of path ${n}`));
      hops.push({ blindedNodeId, encryptedRecipientData: bytesToHex(c.bytes(len, `encrypted_recipient_data of hop ${h} of path ${n}`)) });
    }
    out.push({ firstNode, pathKey, hops });
  }
  return out;
}

export function writeBlindedPaths(paths: readonly BlindedPath[], field: string): Uint8Array {
  if (paths.length === 0) throw new Bolt12Error(`${field}: needs at least one path`);
  const parts: Uint8Array[] = [];
  for (const p of paths) {
    const f = p.firstNode;
    if (f.kind === 'sciddir') parts.push(Uint8Array.of(f.direction), writeUint(parseScid(f.shortChannelId, field), 8));
    else parts.push(writePoint(f.nodeId, `${field}: first_node_id`));
    parts.push(writePoint(p.pathKey, `${field}: path_key`));
    if (p.hops.length === 0 || p.hops.length > 255) throw new Bolt12Error(`${field}: a path has 1 to 255 hops, got ${p.hops.length}`);
    parts.push(Uint8Array.of(p.hops.length));
    for (const h of p.hops) {
      const data = hexField(h.encryptedRecipientData, null, `${field}: encrypted_recipient_data`);
      if (data.length > 0xffff) throw new Bolt12Error(`${field}: encrypted_recipient_data too long`);
      parts.push(writePoint(h.blindedNodeId, `${field}: blinded_node_id`), writeUint(data.length, 2), data);
    }
  }
  return concat(parts);
}

/** What it costs to pay through one invoice path, aggregated over its hops. */
export interface BlindedPayInfo {
  readonly feeBaseMsat: number;
  readonly feeProportionalMillionths: number;
  readonly cltvExpiryDelta: number;
  readonly htlcMinimumMsat: bigint;
  readonly htlcMaximumMsat: bigint;
  /** Set feature bits; a path whose payinfo has an unknown even bit must not be used. */
  readonly features: readonly number[];
}

export function readBlindedPayInfos(value: Uint8Array, field: string): BlindedPayInfo[] {
  const c = new Cursor(value, field);
  const out: BlindedPayInfo[] = [];
  while (!c.done) {
    const n = `payinfo ${out.length}`;
    const feeBaseMsat = Number(c.uint(4, `fee_base_msat of ${n}`));
    const feeProportionalMillionths = Number(c.uint(4, `fee_proportional_millionths of ${n}`));
    const cltvExpiryDelta = Number(c.uint(2, `cltv_expiry_delta of ${n}`));
    const htlcMinimumMsat = c.uint(8, `htlc_minimum_msat of ${n}`);
    const htlcMaximumMsat = c.uint(8, `htlc_maximum_msat of ${n}`);
    const flen = Number(c.uint(2, `flen of ${n}`));
    const features = featureBits(c.bytes(flen, `features of ${n}`));
    out.push({ feeBaseMsat, feeProportionalMillionths, cltvExpiryDelta, htlcMinimumMsat, htlcMaximumMsat, features });
  }
  return out;
}

export function writeBlindedPayInfos(infos: readonly BlindedPayInfo[], field: string): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const p of infos) {
    const f = writeFeatures(p.features, field);
    parts.push(
      writeUint(checkUint(p.feeBaseMsat, 32, field), 4),
      writeUint(checkUint(p.feeProportionalMillionths, 32, field), 4),
      writeUint(checkUint(p.cltvExpiryDelta, 16, field), 2),
      writeUint(checkUint(p.htlcMinimumMsat, 64, field), 8),
      writeUint(checkUint(p.htlcMaximumMsat, 64, field), 8),
      writeUint(f.length, 2),
      f,
    );
  }
  return concat(parts);
}

function checkUint<T extends number | bigint>(v: T, bits: number, field: string): T {
  const b = BigInt(v);
  if (b < 0n || b >= 1n << BigInt(bits)) throw new Bolt12Error(`${field}: ${v} does not fit in u${bits}`);
  return v;
}

/** An on-chain fallback: witness version and program. */
export interface FallbackAddress {
  readonly version: number;
  readonly address: string;
}

export function readFallbacks(value: Uint8Array, field: string): FallbackAddress[] {
  const c = new Cursor(value, field);
  const out: FallbackAddress[] = [];
  while (!c.done) {
    const version = Number(c.uint(1, `version of fallback ${out.length}`));
    const len = Number(c.uint(2, `len of fallback ${out.length}`));
    out.push({ version, address: bytesToHex(c.bytes(len, `address of fallback ${out.length}`)) });
  }
  return out;
}

/** The reader's "MUST ignore" rules for bitcoin: version 0..16, 2..40 bytes, v0 programs of 20 or 32 bytes. */
export function usableFallback(f: FallbackAddress): boolean {
  const len = f.address.length / 2;
  if (f.version > 16 || len < 2 || len > 40) return false;
  return f.version !== 0 || len === 20 || len === 32;
}

export function writeFallbacks(fallbacks: readonly FallbackAddress[], field: string): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fallbacks) {
    const a = hexField(f.address, null, field);
    if (a.length > 0xffff) throw new Bolt12Error(`${field}: address too long`);
    parts.push(Uint8Array.of(checkUint(f.version, 8, field)), writeUint(a.length, 2), a);
  }
  return concat(parts);
}
