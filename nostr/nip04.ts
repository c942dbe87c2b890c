// NIP-04 encrypted payloads (legacy): AES-256-CBC (PKCS#7) keyed with the raw x coordinate of the
// secp256k1 ECDH point, content `base64(ciphertext)?iv=base64(iv)`. Unauthenticated: kept only for
// peers that still speak it (NIP-90 encrypted params name it); prefer NIP-44 (./nip44.ts).
import { cbc } from '@noble/ciphers/aes.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { isHex64 } from './nip01.js';

export class Nip04Error extends Error {
  override name = 'Nip04Error';
}

const IV_BYTES = 16;
const BLOCK = 16;
const SEPARATOR = '?iv=';
const utf8 = new TextEncoder();
// fatal: a wrong key that happens to leave valid padding almost never leaves valid UTF-8 too.
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** The AES key: the x coordinate of sk * peer, not hashed (NIP-04). */
function sharedKey(sk: Uint8Array, peerPubkeyHex: string): Uint8Array {
  if (!(sk instanceof Uint8Array) || sk.length !== 32 || !secp256k1.utils.isValidSecretKey(sk)) throw new Nip04Error('invalid private key');
  if (!isHex64(peerPubkeyHex)) throw new Nip04Error('invalid public key');
  try {
    // "02" + x: the even-y lift; the shared x coordinate is the same for either y.
    return secp256k1.getSharedSecret(sk, hexToBytes('02' + peerPubkeyHex)).subarray(1, 33);
  } catch {
    throw new Nip04Error('invalid public key');
  }
}

/** Strict base64: decodes only what re-encodes to the same text (Buffer alone skips junk). */
function fromBase64(s: string, what: string): Uint8Array {
  const b = Buffer.from(s, 'base64');
  if (s.length === 0 || b.toString('base64') !== s) throw new Nip04Error(`invalid base64 in ${what}`);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

const toBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');

/** Encrypts for `peerPubkeyHex`. `iv` is for test vectors only; leave it out in real use. */
export function encrypt(sk: Uint8Array, peerPubkeyHex: string, plaintext: string, iv: Uint8Array = randomBytes(IV_BYTES)): string {
  if (typeof plaintext !== 'string') throw new Nip04Error('plaintext must be a string');
  if (!(iv instanceof Uint8Array) || iv.length !== IV_BYTES) throw new Nip04Error('invalid iv length');
  const ciphertext = cbc(sharedKey(sk, peerPubkeyHex), iv).encrypt(utf8.encode(plaintext));
  return `${toBase64(ciphertext)}${SEPARATOR}${toBase64(iv)}`;
}

/** Decrypts content from `peerPubkeyHex` (or content we sent to them: the key is symmetric). */
export function decrypt(sk: Uint8Array, peerPubkeyHex: string, content: string): string {
  if (typeof content !== 'string') throw new Nip04Error('content must be a string');
  const parts = content.split(SEPARATOR);
  if (parts.length !== 2) throw new Nip04Error('invalid payload: expected base64?iv=base64');
  const ciphertext = fromBase64(parts[0]!, 'ciphertext');
  const iv = fromBase64(parts[1]!, 'iv');
  if (iv.length !== IV_BYTES) throw new Nip04Error('invalid iv length');
  if (ciphertext.length % BLOCK !== 0) throw new Nip04Error('invalid ciphertext length');
  const key = sharedKey(sk, peerPubkeyHex);
  let padded: Uint8Array;
  try {
    padded = cbc(key, iv).decrypt(ciphertext);
  } catch {
    throw new Nip04Error('invalid padding');
  }
  try {
    return utf8Strict.decode(padded);
  } catch {
    throw new Nip04Error('invalid utf-8 in plaintext');
  }
}
