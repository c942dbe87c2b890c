// Who signs: an interface small enough for a secret key in memory, a NIP-46 bunker or a NIP-07
// extension, and the in-memory implementation.
import type { NostrEvent } from './nip01.js';
import { finalizeEvent, getPublicKey, type EventTemplate } from './verify.js';

export interface Signer {
  /** The x-only public key (64 lowercase hex) that signEvent signs as. */
  getPublicKey(): Promise<string>;
  /** Fills in pubkey, id and sig. */
  signEvent(template: EventTemplate): Promise<NostrEvent>;
}

/** A signer over a 32-byte secret key held in memory. The key is copied. */
export function secretKeySigner(sk: Uint8Array): Signer {
  const key = Uint8Array.from(sk);
  const pubkey = getPublicKey(key); // validates the key now, not at the first signature
  return {
    getPublicKey: () => Promise.resolve(pubkey),
    signEvent: (t) => Promise.resolve().then(() => finalizeEvent(t, key, pubkey)),
  };
}
