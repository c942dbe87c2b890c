// The baseline embedder: plain feature hashing of lowercased words (the signed hashing trick, raw
// counts, L2-normalised). It is what the default embedder and the benchmark are measured against,
// so it stays deliberately simple. Also home of the feature bag both offline embedders fold into.
import { type Embedder, l2normalize } from '../embedder.js';
import { hashString, words } from './tokenize.js';

/**
 * Hashed features of one text before they are folded into a vector. Keyed by the full 32-bit hash,
 * so repeats of a feature are counted (for sublinear tf) before the fold merges colliding ones.
 * An open-addressing table in typed arrays, reusable across texts (`reset`): it is the embedders'
 * hot path, several times faster than a Map.
 */
export class FeatureBag {
  private cap = 1024;
  private keys = new Int32Array(this.cap);
  /** A slot is in use when its stamp equals the current generation, so reset() clears nothing. */
  private stamps = new Uint32Array(this.cap);
  private gen = 1;
  private weights = new Float64Array(this.cap);
  private counts = new Uint32Array(this.cap);
  private slots = new Int32Array(this.cap);
  private n = 0;

  /** Empties the bag for the next text. */
  reset(): void {
    this.n = 0;
    if (++this.gen === 0xffffffff) {
      this.stamps.fill(0);
      this.gen = 1;
    }
  }

  /** One occurrence of a feature; a repeated feature keeps its largest weight. */
  add(hash: number, weight: number): void {
    const key = hash | 0;
    const mask = this.cap - 1;
    let i = key & mask;
    while (this.stamps[i] === this.gen) {
      if (this.keys[i] === key) {
        this.counts[i]!++;
        if (weight > this.weights[i]!) this.weights[i] = weight;
        return;
      }
      i = (i + 1) & mask;
    }
    this.stamps[i] = this.gen;
    this.keys[i] = key;
    this.weights[i] = weight;
    this.counts[i] = 1;
    this.slots[this.n++] = i;
    if (this.n * 2 > this.cap) this.grow();
  }

  get size(): number {
    return this.n;
  }

  private grow(): void {
    const { keys, weights, counts, slots, n } = this;
    this.cap *= 2;
    this.keys = new Int32Array(this.cap);
    this.stamps = new Uint32Array(this.cap);
    this.weights = new Float64Array(this.cap);
    this.counts = new Uint32Array(this.cap);
    this.slots = new Int32Array(this.cap);
    this.gen = 1;
    this.n = 0;
    const mask = this.cap - 1;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      let i = keys[s]! & mask;
      while (this.stamps[i] === this.gen) i = (i + 1) & mask;
      this.stamps[i] = this.gen;
      this.keys[i] = keys[s]!;
      this.weights[i] = weights[s]!;
      this.counts[i] = counts[s]!;
      this.slots[this.n++] = i;
    }
  }

  /**
   * Signed hashing trick: bit 0 of the hash picks the sign (so collisions cancel on average instead
   * of piling up), the other bits the index. tf is raw or sublinear (1 + ln n).
   */
  fold(dimensions: number, sublinear: boolean): Float32Array {
    const v = new Float32Array(dimensions);
    for (let k = 0; k < this.n; k++) {
      const s = this.slots[k]!;
      const h = this.keys[s]! >>> 0;
      const c = this.counts[s]!;
      const tf = sublinear ? 1 + Math.log(c) : c;
      v[(h >>> 1) % dimensions]! += (h & 1 ? -1 : 1) * this.weights[s]! * tf;
    }
    return l2normalize(v);
  }
}

const WORD_SEED = 1;

export function hashingEmbedder(o: { dimensions?: number } = {}): Embedder {
  const dimensions = checkDimensions(o.dimensions ?? 384);
  const bag = new FeatureBag();
  return {
    id: 'hashing',
    version: 1,
    dimensions,
    async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
      signal?.throwIfAborted();
      return texts.map((text) => {
        bag.reset();
        for (const w of words(text)) bag.add(hashString(w, WORD_SEED), 1);
        return bag.fold(dimensions, false);
      });
    },
  };
}

/** Dimensions must be a positive integer; anything else is a configuration mistake worth a clear message. */
export function checkDimensions(d: number): number {
  if (!Number.isInteger(d) || d < 1 || d > 65536) throw new RangeError(`embedder dimensions must be an integer in 1..65536, got ${d}`);
  return d;
}
