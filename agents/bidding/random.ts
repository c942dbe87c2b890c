// Repeatable randomness for tests and simulations: sha256(seed:counter) blocks. Never for real
// salts (a salt must be unguessable: Bidder uses node:crypto unless told otherwise).
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

/** n pseudo-random bytes per call, the same sequence for the same seed. */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 32) out.set(sha256(utf8ToBytes(`${seed}:${counter++}`)).subarray(0, n - i), i);
    return out;
  };
}

/** Numbers in [0, 1), the same sequence for the same seed (48 bits each). */
export function seededRng(seed: string): () => number {
  const bytes = seededRandom(seed);
  return () => bytes(6).reduce((x, b) => x * 256 + b, 0) / 2 ** 48;
}
