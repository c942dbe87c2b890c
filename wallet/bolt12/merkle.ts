// BOLT12 "Signature Calculation": BIP-340 tagged hashes over a Merkle tree of the TLV records.
// Each non-signature record gives a leaf H("LnLeaf", record) and a nonce leaf
// H("LnNonce" || first record, type); pairs are hashed with H("LnBranch", lesser || greater),
// adjacent nodes are paired level by level (an odd last node moves up unchanged), and the root is
// signed with the tag "lightning" || message name || field name.
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { defaultVerifier } from '../../nostr/verify.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { Bolt12Error } from './errors.js';
import { concat, encodeTlvRecord, writeBigSize, type TlvRecord } from './tlv.js';

export type MessageName = 'invoice_request' | 'invoice';

/** Signature TLV elements are types 240 to 1000 inclusive; they are not in the tree. */
export const isSignatureType = (type: bigint): boolean => type >= 240n && type <= 1000n;

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** H(tag, msg) = SHA256(SHA256(tag) || SHA256(tag) || msg). */
export function taggedHash(tag: string | Uint8Array, msg: Uint8Array): Uint8Array {
  const t = sha256(typeof tag === 'string' ? ascii(tag) : tag);
  return sha256(concat([t, t, msg]));
}

export const leafHash = (record: TlvRecord): Uint8Array => taggedHash('LnLeaf', encodeTlvRecord(record));

export const nonceHash = (first: TlvRecord, type: bigint): Uint8Array =>
  taggedHash(concat([ascii('LnNonce'), encodeTlvRecord(first)]), writeBigSize(type));

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** H("LnBranch", lesser || greater): the order of the arguments does not matter. */
export const branchHash = (a: Uint8Array, b: Uint8Array): Uint8Array =>
  taggedHash('LnBranch', compare(a, b) <= 0 ? concat([a, b]) : concat([b, a]));

/** The Merkle root of a TLV stream's non-signature records (in ascending type order). */
export function merkleRoot(records: readonly TlvRecord[]): Uint8Array {
  const leaves = records.filter((r) => !isSignatureType(r.type));
  const first = leaves[0];
  if (first === undefined) throw new Bolt12Error('nothing to sign: no non-signature TLV records');
  let level = leaves.map((r) => branchHash(leafHash(r), nonceHash(first, r.type)));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? branchHash(level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  return level[0]!;
}

/** The 32-byte message a signature field signs: H("lightning" || messagename || fieldname, root). */
export const signatureMessage = (messageName: MessageName, root: Uint8Array, fieldName = 'signature'): Uint8Array =>
  taggedHash(`lightning${messageName}${fieldName}`, root);

/** BIP-340 signature over the stream's Merkle root. `auxRand` defaults to fresh randomness. */
export function signMerkle(records: readonly TlvRecord[], messageName: MessageName, secretKey: Uint8Array, auxRand?: Uint8Array): Uint8Array {
  return schnorr.sign(signatureMessage(messageName, merkleRoot(records)), secretKey, auxRand);
}

/** Verifies a BIP-340 signature by a compressed point (its x coordinate is the BIP-340 key). Never throws. */
export function verifyMerkle(records: readonly TlvRecord[], messageName: MessageName, signature: Uint8Array, pointHex: string): boolean {
  try {
    // libsecp256k1 in WASM when it loaded (about 6x faster than pure JS), as for Nostr events.
    if (signature.length !== 64 || !/^0[23][0-9a-f]{64}$/.test(pointHex)) return false;
    return defaultVerifier.verify(bytesToHex(signature), bytesToHex(signatureMessage(messageName, merkleRoot(records))), pointHex.slice(2));
  } catch {
    return false;
  }
}

/** The compressed public key (hex) of a secret key: what goes in offer_issuer_id, invreq_payer_id, invoice_node_id. */
export function publicKeyHex(secretKey: Uint8Array): string {
  try {
    return bytesToHex(secp256k1.getPublicKey(secretKey, true));
  } catch {
    throw new Bolt12Error('invalid secret key');
  }
}
