// Event signatures: BIP-340 Schnorr verification behind a small interface (so the relay can pick the
// fast WASM backend and tests can cross-check it against the pure one), plus signing helpers.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { checkEventShape, getEventHash, type NostrEvent, type UnsignedEvent } from './nip01.js';

export interface SchnorrVerifier {
  readonly name: string;
  /** BIP-340 verify over lowercase hex. Never throws: anything malformed is simply `false`. */
  verify(sigHex: string, msgHashHex: string, pubkeyHex: string): boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

/** Decodes the three hex arguments, or null if any is not exactly the right lowercase hex. */
function parseArgs(sigHex: unknown, msgHex: unknown, pubHex: unknown): [Uint8Array, Uint8Array, Uint8Array] | null {
  if (typeof sigHex !== 'string' || typeof msgHex !== 'string' || typeof pubHex !== 'string') return null;
  if (!HEX128.test(sigHex) || !HEX64.test(msgHex) || !HEX64.test(pubHex)) return null;
  return [hexToBytes(sigHex), hexToBytes(msgHex), hexToBytes(pubHex)];
}

/** @noble/curves: audited pure JS, ~1 ms per verify. Always available. */
export const pureVerifier: SchnorrVerifier = {
  name: 'noble',
  verify(sigHex, msgHashHex, pubkeyHex) {
    const a = parseArgs(sigHex, msgHashHex, pubkeyHex);
    if (!a) return false;
    try {
      return schnorr.verify(a[0], a[1], a[2]);
    } catch {
      return false;
    }
  },
};

type WasmVerify = (hash: Uint8Array, xOnlyPubkey: Uint8Array, sig: Uint8Array) => boolean;
type WasmSign = (hash: Uint8Array, secretKey: Uint8Array, auxRand: Uint8Array) => Uint8Array;
type WasmModule = { verifySchnorr: WasmVerify; signSchnorr?: WasmSign };

// createRequire instead of `import`: a static import that fails to instantiate the WASM would take this
// whole module (and the relay) down with it; a synchronous require inside try/catch degrades instead,
// without making every importer wait on a top-level await.
const loadTinySecp = (): WasmModule => createRequire(import.meta.url)('tiny-secp256k1') as WasmModule;

/**
 * Builds the libsecp256k1 (tiny-secp256k1, WASM) verifier, ~0.2 ms per verify, or returns undefined
 * if the module cannot be loaded. `load` is injectable so the fallback path can be tested.
 */
export function makeWasmVerifier(load: () => WasmModule = loadTinySecp): SchnorrVerifier | undefined {
  let fn: WasmVerify;
  try {
    fn = load().verifySchnorr;
    if (typeof fn !== 'function') return undefined;
  } catch {
    return undefined;
  }
  return {
    name: 'tiny-secp256k1',
    verify(sigHex, msgHashHex, pubkeyHex) {
      const a = parseArgs(sigHex, msgHashHex, pubkeyHex);
      if (!a) return false;
      try {
        // tiny-secp256k1 throws (rather than returning false) for a pubkey off the curve or r/s >= n.
        return fn(a[1], a[2], a[0]);
      } catch {
        return false;
      }
    },
  };
}

export const wasmVerifier: SchnorrVerifier | undefined = makeWasmVerifier();
export const defaultVerifier: SchnorrVerifier = wasmVerifier ?? pureVerifier;

/**
 * BIP-340 signing: libsecp256k1 (WASM, ~0.2 ms) when it loads, @noble/curves (~2 ms) otherwise.
 * Agents sign ten events or so per job, so this is the DVM loop's hot path. Both use fresh
 * auxiliary randomness, as BIP-340 recommends; their signatures verify the same way.
 */
const schnorrSign: (msg: Uint8Array, sk: Uint8Array) => Uint8Array = (() => {
  try {
    const sign = loadTinySecp().signSchnorr;
    if (typeof sign === 'function') return (msg: Uint8Array, sk: Uint8Array) => sign(msg, sk, randomBytes(32));
  } catch {
    /* fall through to the pure implementation */
  }
  return (msg: Uint8Array, sk: Uint8Array) => schnorr.sign(msg, sk);
})();

// ---- events ----

export const BAD_ID = 'event id does not match its contents';
export const BAD_SIG = 'signature verification failed';

export type EventCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks the id hash, then the signature (the cheap check first). Reasons are bare text; the relay
 * prefixes them with `invalid: `. Expects an event that already passed checkEventShape, but does not
 * throw on one that did not.
 */
export function checkEvent(e: NostrEvent, v: SchnorrVerifier = defaultVerifier): EventCheck {
  let id: string;
  try {
    id = getEventHash(e);
  } catch {
    return { ok: false, reason: 'event cannot be serialized' };
  }
  if (id !== e.id) return { ok: false, reason: BAD_ID };
  if (!v.verify(e.sig, e.id, e.pubkey)) return { ok: false, reason: BAD_SIG };
  return { ok: true };
}

export const verifyEvent = (e: NostrEvent, v: SchnorrVerifier = defaultVerifier): boolean => checkEvent(e, v).ok;

// ---- signing ----

export type EventTemplate = Pick<UnsignedEvent, 'kind' | 'created_at' | 'tags' | 'content'>;

export const generateSecretKey = (): Uint8Array => schnorr.utils.randomSecretKey();

function assertSecretKey(sk: Uint8Array): void {
  if (!(sk instanceof Uint8Array) || sk.length !== 32 || !secp256k1.utils.isValidSecretKey(sk))
    throw new TypeError('secret key must be 32 bytes in [1, n-1]');
}

/** x-only public key (BIP-340), lowercase hex: the `pubkey` of events. */
export function getPublicKey(sk: Uint8Array): string {
  assertSecretKey(sk);
  return bytesToHex(schnorr.getPublicKey(sk));
}

/**
 * Fills in pubkey, id and sig. Signs with fresh auxiliary randomness, as BIP-340 recommends.
 * `pubkey` may be passed by a caller that already derived it from `sk` (a signer does, once).
 */
export function finalizeEvent(t: EventTemplate, sk: Uint8Array, pubkey: string = getPublicKey(sk)): NostrEvent {
  const unsigned: UnsignedEvent = { pubkey, created_at: t.created_at, kind: t.kind, tags: t.tags, content: t.content };
  const id = getEventHash(unsigned);
  const e: NostrEvent = { id, ...unsigned, sig: bytesToHex(schnorrSign(hexToBytes(id), sk)) };
  // Refuse to sign something every relay would reject (fractional kind, negative created_at, ...).
  const shape = checkEventShape(e);
  if (!shape.ok) throw new TypeError(shape.reason);
  return e;
}
