// Deterministic synthetic Nostr workload for the relay benchmark.
// Event `i` of a stream depends only on (stream, i), so any prefix of the stored stream is the same
// event set whatever total was generated, and both relays are always fed byte-identical events.
import { createHash } from 'node:crypto';
import { signSchnorr, xOnlyPointFromScalar } from 'tiny-secp256k1';

/** Bump when the generator changes: cached JSONL files carry this version in their name. */
export const DATASET_VERSION = 1;

export const AUTHOR_COUNT = 1_000;
/** `e` tag values: pseudo event ids. ~0.8 per event, uniform: ~16 hits per value at 1M stored, ~1.6 at 100K. */
export const E_POOL = 50_000;
/** `p` tag values: the 1,000 authors plus 4,000 other keys. ~1.5 per event: ~300 hits per value at 1M. */
export const P_POOL = 5_000;
/** `t` tag values: 500 hashtags, Zipf(s=1) popularity: the top tag is on ~15% of events. */
export const T_POOL = 500;
/** created_at is spread uniformly over 180 days ending at this fixed instant (2026-10-01T00:00Z). */
export const SPAN_END = Date.UTC(2026, 9, 1) / 1000;
export const SPAN_SECONDS = 180 * 86_400;
export const SPAN_START = SPAN_END - SPAN_SECONDS;

export type Stream = 'stored' | 'fresh';

export interface BenchEvent {
  id: string;
  pubkey: string;
  created_at: number;
  kind: number;
  tags: string[][];
  content: string;
  sig: string;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** mulberry32: small, fast, good enough for workload shaping. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedOf(label: string): number {
  return sha256(label).readUInt32LE(0);
}

export function authorSecret(j: number): Uint8Array {
  return new Uint8Array(sha256(`timmy-bench/author/${j}`));
}

let authorPubCache: string[] | undefined;
export function authorPubkeys(): string[] {
  if (!authorPubCache) {
    const out: string[] = [];
    for (let j = 0; j < AUTHOR_COUNT; j++) out.push(Buffer.from(xOnlyPointFromScalar(authorSecret(j))).toString('hex'));
    authorPubCache = out;
  }
  return authorPubCache;
}

export function eValue(k: number): string {
  return sha256(`timmy-bench/e/${k}`).toString('hex');
}

export function pValue(k: number): string {
  const authors = authorPubkeys();
  return k < authors.length ? (authors[k] as string) : sha256(`timmy-bench/p/${k}`).toString('hex');
}

export function tValue(k: number): string {
  return `topic${k}`;
}

let zipfCdf: Float64Array | undefined;
function zipfPick(r: number): number {
  if (!zipfCdf) {
    const cdf = new Float64Array(T_POOL);
    let sum = 0;
    for (let k = 0; k < T_POOL; k++) sum += 1 / (k + 1);
    let acc = 0;
    for (let k = 0; k < T_POOL; k++) {
      acc += 1 / (k + 1) / sum;
      cdf[k] = acc;
    }
    zipfCdf = cdf;
  }
  let lo = 0;
  let hi = T_POOL - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((zipfCdf[mid] as number) < r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const WORDS = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not ' +
  'what all were we when your can said there use an each which she do how their if will up other about out many then ' +
  'them these so some her would make like him into time has look two more write go see number no way could people my ' +
  'than first water been call who oil its now find long down day did get come made may part nostr relay zap note key ' +
  'sats lightning bitcoin node agent timmy signal market price feed thread reply event filter query index sqlite fast'
).split(' ');

function pick<T>(arr: readonly T[], r: number): T {
  return arr[Math.floor(r * arr.length)] as T;
}

/** The unsigned event `i` of `stream`, and its author index. */
export function eventTemplate(stream: Stream, i: number): { author: number; created_at: number; tags: string[][]; content: string } {
  const r = rng(seedOf(`${stream}/${i}`));
  const author = Math.floor(r() * AUTHOR_COUNT);
  const created_at = SPAN_START + Math.floor(r() * SPAN_SECONDS);
  const tags: string[][] = [];
  const ue = r();
  const eCount = ue < 0.4 ? 0 : ue < 0.8 ? 1 : 2;
  for (let k = 0; k < eCount; k++) tags.push(['e', eValue(Math.floor(r() * E_POOL))]);
  const up = r();
  const pCount = up < 0.6 ? 1 : up < 0.9 ? 2 : 3;
  for (let k = 0; k < pCount; k++) tags.push(['p', pValue(Math.floor(r() * P_POOL))]);
  const ut = r();
  const tCount = ut < 0.2 ? 0 : ut < 0.6 ? 1 : ut < 0.9 ? 2 : 3;
  for (let k = 0; k < tCount; k++) tags.push(['t', tValue(zipfPick(r()))]);
  const nWords = 5 + Math.floor(r() * 36);
  const words: string[] = [];
  for (let k = 0; k < nWords; k++) words.push(pick(WORDS, r()));
  return { author, created_at, tags, content: `${words.join(' ')} #${stream}${i}` };
}

const ZERO_AUX = new Uint8Array(32);

/** Sign a kind-1 event (BIP-340 with zero aux randomness, so the output is deterministic). */
export function signEvent(
  secret: Uint8Array,
  pubkey: string,
  created_at: number,
  kind: number,
  tags: string[][],
  content: string,
): BenchEvent {
  const idBuf = sha256(JSON.stringify([0, pubkey, created_at, kind, tags, content]));
  const sig = Buffer.from(signSchnorr(new Uint8Array(idBuf), secret, ZERO_AUX)).toString('hex');
  return { id: idBuf.toString('hex'), pubkey, created_at, kind, tags, content, sig };
}

export function makeEvent(stream: Stream, i: number): BenchEvent {
  const t = eventTemplate(stream, i);
  const pub = authorPubkeys()[t.author] as string;
  return signEvent(authorSecret(t.author), pub, t.created_at, 1, t.tags, t.content);
}

/** Fisher-Yates with a seeded rng: a permutation of 0..n-1. */
export function permutation(n: number, seed: number): number[] {
  const r = rng(seed);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const tmp = a[i] as number;
    a[i] = a[j] as number;
    a[j] = tmp;
  }
  return a;
}
