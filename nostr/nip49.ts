// NIP-49: a secret key encrypted with a password (ncryptsec): scrypt(NFKC password) -> XChaCha20-Poly1305.
// Layout before bech32: version(1)=0x02 | log_n(1) | salt(16) | nonce(24) | key_security(1) | ciphertext(32+16).
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bech32Decode, bech32Encode, Bech32Error } from './bech32.js';

export class Nip49Error extends Error {
  override name = 'Nip49Error';
}

export type NCryptsec = `ncryptsec1${string}`;

/** KEY_SECURITY_BYTE: 0x00 known to have been handled insecurely, 0x01 not known to, 0x02 not tracked. */
export type KeySecurity = 0x00 | 0x01 | 0x02;

const VERSION = 0x02;
const RAW_LEN = 91; // "The output prior to bech32 encoding should be 91 bytes long."
/** scrypt needs 1 KiB * 2^log_n of memory (r = 8): 16 -> 64 MiB, 20 -> 1 GiB, 22 -> 4 GiB. */
export const MAX_LOG_N = 22;
/** Decryption refuses more than this unless asked: the log_n byte comes from the (untrusted) string. */
export const DEFAULT_MAX_LOG_N_DECRYPT = 20;

/** The spec asks for NFKC so the same password typed on another device derives the same key. */
export const normalizePassword = (password: string): string => password.normalize('NFKC');

function deriveKey(password: string, salt: Uint8Array, logN: number): Uint8Array {
  const N = 2 ** logN;
  // noble's default budget is 1 GiB; raise it exactly as far as this log_n needs.
  return scrypt(normalizePassword(password), salt, { N, r: 8, p: 1, dkLen: 32, maxmem: 1024 * (N + 1) + 4096 });
}

export function encrypt(sk: Uint8Array, password: string, logN = 16, keySecurity: KeySecurity = 0x02): NCryptsec {
  if (!(sk instanceof Uint8Array) || sk.length !== 32 || !secp256k1.utils.isValidSecretKey(sk)) throw new Nip49Error('invalid secret key');
  if (typeof password !== 'string') throw new Nip49Error('password must be a string');
  if (!Number.isInteger(logN) || logN < 1 || logN > MAX_LOG_N) throw new Nip49Error(`log_n must be an integer in 1..${MAX_LOG_N}`);
  if (keySecurity !== 0x00 && keySecurity !== 0x01 && keySecurity !== 0x02) throw new Nip49Error('key security byte must be 0, 1 or 2');
  const salt = randomBytes(16);
  const nonce = randomBytes(24);
  const aad = Uint8Array.of(keySecurity);
  const key = deriveKey(password, salt, logN);
  const ciphertext = xchacha20poly1305(key, nonce, aad).encrypt(sk);
  key.fill(0); // the spec: the symmetric key "should be zeroed and discarded after use"
  const raw = new Uint8Array(RAW_LEN);
  raw[0] = VERSION;
  raw[1] = logN;
  raw.set(salt, 2);
  raw.set(nonce, 18);
  raw[42] = keySecurity;
  raw.set(ciphertext, 43);
  return bech32Encode('ncryptsec', raw) as NCryptsec;
}

export interface NcryptsecInfo {
  logN: number;
  /** As stored (0, 1 or 2); authenticated, so trustworthy once decrypt succeeds. */
  keySecurity: KeySecurity;
  salt: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

/** Parses an ncryptsec without the password, e.g. to show its cost (log_n) before asking for one. */
export function parse(ncryptsec: string): NcryptsecInfo {
  let prefix: string;
  let raw: Uint8Array;
  try {
    ({ prefix, data: raw } = bech32Decode(ncryptsec));
  } catch (err) {
    throw err instanceof Bech32Error ? new Nip49Error(err.message) : err;
  }
  if (prefix !== 'ncryptsec') throw new Nip49Error(`expected ncryptsec, got ${prefix}`);
  if (raw.length !== RAW_LEN) throw new Nip49Error(`expected ${RAW_LEN} bytes, got ${raw.length}`);
  if (raw[0] !== VERSION) throw new Nip49Error(`unsupported version ${raw[0]}`);
  // 49.md: KEY_SECURITY_BYTE is "one of" 0x00, 0x01, 0x02. Found by the fuzzer (test/fuzz/corpus/nip49/
  // regress-key-security-3.txt): any other byte used to be passed through, and decrypted if the AAD matched.
  const ksb = raw[42]!;
  if (ksb !== 0x00 && ksb !== 0x01 && ksb !== 0x02) throw new Nip49Error(`unknown key security byte ${ksb}`);
  return {
    logN: raw[1]!,
    keySecurity: ksb,
    salt: raw.slice(2, 18),
    nonce: raw.slice(18, 42),
    ciphertext: raw.slice(43),
  };
}

export interface DecryptOptions {
  /** Highest log_n to accept (memory is 1 KiB * 2^log_n). Default DEFAULT_MAX_LOG_N_DECRYPT. */
  maxLogN?: number;
}

export function decrypt(ncryptsec: string, password: string, opts: DecryptOptions = {}): Uint8Array {
  if (typeof password !== 'string') throw new Nip49Error('password must be a string');
  const info = parse(ncryptsec);
  const maxLogN = opts.maxLogN ?? DEFAULT_MAX_LOG_N_DECRYPT;
  if (info.logN < 1 || info.logN > maxLogN) throw new Nip49Error(`log_n ${info.logN} outside the accepted range 1..${maxLogN}`);
  const key = deriveKey(password, info.salt, info.logN);
  let sk: Uint8Array;
  try {
    sk = xchacha20poly1305(key, info.nonce, Uint8Array.of(info.keySecurity)).decrypt(info.ciphertext);
  } catch {
    // Poly1305 cannot tell a wrong password from a damaged string.
    throw new Nip49Error('wrong password or corrupted ncryptsec');
  } finally {
    key.fill(0);
  }
  if (!secp256k1.utils.isValidSecretKey(sk)) throw new Nip49Error('decrypted key is not a valid secret key');
  return sk;
}
