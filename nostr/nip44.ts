// NIP-44 v2 encrypted payloads: secp256k1 ECDH -> HKDF -> ChaCha20 + HMAC-SHA256, padded, base64.
// Written against the current 44.md, including the extended length prefix for plaintexts of
// 65536 bytes and more ([0x00,0x00][u32 length]), which older implementations and vectors reject.
import { chacha20 } from '@noble/ciphers/chacha.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { isHex64 } from './nip01.js';

export class Nip44Error extends Error {
  override name = 'Nip44Error';
}

const VERSION = 2;
const MIN_PLAINTEXT = 1;
const MAX_PLAINTEXT = 0xffffffff;
/** Lengths at or above this use the 6-byte prefix. */
const EXTENDED_THRESHOLD = 65536;
const MIN_PAYLOAD_CHARS = 132;
const MIN_DATA_BYTES = 99;
const SALT = new TextEncoder().encode('nip44-v2');

const utf8 = new TextEncoder();
// fatal: a payload whose MAC checks but whose plaintext is not UTF-8 is corrupt; don't hand back U+FFFD.
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Conversation key between A and B; symmetric: conv(a, B) == conv(b, A). */
export function getConversationKey(privkeyA: Uint8Array, pubkeyB: string): Uint8Array {
  if (!(privkeyA instanceof Uint8Array) || privkeyA.length !== 32 || !secp256k1.utils.isValidSecretKey(privkeyA))
    throw new Nip44Error('invalid private key');
  if (!isHex64(pubkeyB)) throw new Nip44Error('invalid public key');
  let shared: Uint8Array;
  try {
    // "02" + x: BIP-340 lift_x picks the even-y point; ECDH's x coordinate does not depend on that choice.
    shared = secp256k1.getSharedSecret(privkeyA, hexToBytes('02' + pubkeyB));
  } catch {
    throw new Nip44Error('invalid public key');
  }
  return extract(sha256, shared.subarray(1, 33), SALT);
}

export interface MessageKeys {
  chachaKey: Uint8Array;
  chachaNonce: Uint8Array;
  hmacKey: Uint8Array;
}

export function getMessageKeys(conversationKey: Uint8Array, nonce: Uint8Array): MessageKeys {
  if (!(conversationKey instanceof Uint8Array) || conversationKey.length !== 32) throw new Nip44Error('invalid conversation key length');
  if (!(nonce instanceof Uint8Array) || nonce.length !== 32) throw new Nip44Error('invalid nonce length');
  const keys = expand(sha256, conversationKey, nonce, 76);
  return { chachaKey: keys.subarray(0, 32), chachaNonce: keys.subarray(32, 44), hmacKey: keys.subarray(44, 76) };
}

/** Padded length (without the prefix) for a plaintext of `len` bytes. Up to 2^32, so plain JS numbers, no bit ops. */
export function calcPaddedLen(len: number): number {
  if (!Number.isSafeInteger(len) || len < MIN_PLAINTEXT || len > MAX_PLAINTEXT) throw new Nip44Error('invalid plaintext length');
  if (len <= 32) return 32;
  let nextPower = 1;
  while (nextPower <= len - 1) nextPower *= 2; // == 1 << (floor(log2(len - 1)) + 1), without float log2 or int32 shifts
  const chunk = nextPower <= 256 ? 32 : nextPower / 8;
  return chunk * (Math.floor((len - 1) / chunk) + 1);
}

function pad(plaintext: string): Uint8Array {
  const unpadded = utf8.encode(plaintext);
  const len = unpadded.length;
  if (len < MIN_PLAINTEXT || len > MAX_PLAINTEXT) throw new Nip44Error('invalid plaintext length');
  const prefixLen = len >= EXTENDED_THRESHOLD ? 6 : 2;
  const out = new Uint8Array(prefixLen + calcPaddedLen(len)); // zero-filled: the suffix is already there
  const dv = new DataView(out.buffer);
  if (prefixLen === 6) dv.setUint32(2, len, false); // bytes 0..1 stay 0x0000: the extended-format marker
  else dv.setUint16(0, len, false);
  out.set(unpadded, prefixLen);
  return out;
}

function unpad(padded: Uint8Array): string {
  if (padded.length < 2) throw new Nip44Error('invalid padding');
  const dv = new DataView(padded.buffer, padded.byteOffset, padded.byteLength);
  let len = dv.getUint16(0, false);
  let prefixLen = 2;
  if (len === 0) {
    if (padded.length < 6) throw new Nip44Error('invalid padding');
    len = dv.getUint32(2, false);
    // A short length in the long form is non-canonical; the spec rejects it so each length has one encoding.
    if (len < EXTENDED_THRESHOLD) throw new Nip44Error('invalid padding');
    prefixLen = 6;
  }
  if (padded.length !== prefixLen + calcPaddedLen(len)) throw new Nip44Error('invalid padding');
  try {
    return utf8Strict.decode(padded.subarray(prefixLen, prefixLen + len));
  } catch {
    throw new Nip44Error('invalid utf-8 in plaintext');
  }
}

function mac(hmacKey: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  // The nonce is the AAD: MAC over concat(nonce, ciphertext), streamed to avoid copying a large ciphertext.
  return hmac.create(sha256, hmacKey).update(nonce).update(ciphertext).digest();
}

function equalCt(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Encrypts to a base64 payload. `nonce` is for test vectors only; leave it out in real use. */
export function encrypt(plaintext: string, conversationKey: Uint8Array, nonce: Uint8Array = randomBytes(32)): string {
  const { chachaKey, chachaNonce, hmacKey } = getMessageKeys(conversationKey, nonce);
  const padded = pad(plaintext);
  const out = new Uint8Array(1 + 32 + padded.length + 32);
  out[0] = VERSION;
  out.set(nonce, 1);
  const ciphertext = out.subarray(33, 33 + padded.length);
  chacha20(chachaKey, chachaNonce, padded, ciphertext);
  out.set(mac(hmacKey, nonce, ciphertext), 33 + padded.length);
  return Buffer.from(out.buffer, out.byteOffset, out.length).toString('base64');
}

export interface DecryptOptions {
  /**
   * Reject longer payloads before base64-decoding them (44.md: implementations SHOULD enforce their own
   * maximum). Default: no limit beyond the spec's, since event size limits already bound real inputs.
   */
  maxPayloadLength?: number;
}

function decodePayload(payload: string, maxLen: number): { nonce: Uint8Array; ciphertext: Uint8Array; mac: Uint8Array } {
  if (typeof payload !== 'string') throw new Nip44Error('payload must be a string');
  // '#' marks a future non-base64 encoding: the spec says report an unsupported version, not bad base64.
  if (payload[0] === '#') throw new Nip44Error('unknown encryption version');
  const plen = payload.length;
  if (plen < MIN_PAYLOAD_CHARS || plen > maxLen) throw new Nip44Error(`invalid payload length: ${plen}`);
  const data = Buffer.from(payload, 'base64');
  // Buffer's decoder skips junk and tolerates missing padding; re-encoding rejects anything non-canonical.
  if (data.toString('base64') !== payload) throw new Nip44Error('invalid base64');
  const dlen = data.length;
  if (dlen < MIN_DATA_BYTES) throw new Nip44Error(`invalid data length: ${dlen}`);
  if (data[0] !== VERSION) throw new Nip44Error(`unknown encryption version ${data[0]}`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, dlen);
  return { nonce: bytes.subarray(1, 33), ciphertext: bytes.subarray(33, dlen - 32), mac: bytes.subarray(dlen - 32) };
}

export function decrypt(payload: string, conversationKey: Uint8Array, opts: DecryptOptions = {}): string {
  const { nonce, ciphertext, mac: got } = decodePayload(payload, opts.maxPayloadLength ?? Infinity);
  const { chachaKey, chachaNonce, hmacKey } = getMessageKeys(conversationKey, nonce);
  if (!equalCt(mac(hmacKey, nonce, ciphertext), got)) throw new Nip44Error('invalid MAC');
  return unpad(chacha20(chachaKey, chachaNonce, ciphertext));
}
