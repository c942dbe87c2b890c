// Token buckets keyed by client IP or pubkey. Idle buckets are forgotten so the map stays small.
export interface Rate {
  readonly perSecond: number;
  readonly burst: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly rate: Rate, private readonly now: () => number = () => performance.now()) {}

  private bucket(key: string): { tokens: number; at: number } {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size > 100_000) this.sweep(t);
      b = { tokens: this.rate.burst, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.rate.burst, b.tokens + ((t - b.at) / 1000) * this.rate.perSecond);
    b.at = t;
    return b;
  }

  /** Takes one token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const b = this.bucket(key);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** The tokens `key` has now (negative while it pays off a debt). */
  level(key: string): number {
    return this.bucket(key).tokens;
  }

  /** Takes `n` tokens for work already done: the bucket may go negative, and refills from there. */
  spend(key: string, n: number): void {
    if (n > 0) this.bucket(key).tokens -= n;
  }

  private sweep(t: number): void {
    // A bucket that has refilled to full is the same as no bucket.
    for (const [k, b] of this.buckets) if (b.tokens + ((t - b.at) / 1000) * this.rate.perSecond >= this.rate.burst) this.buckets.delete(k);
  }
}
