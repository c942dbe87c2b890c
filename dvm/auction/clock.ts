// The clock auctions run on: unix milliseconds and a way to wait for a moment. Injected, so tests
// drive the windows with ManualClock instead of waiting for them.

export interface AuctionClock {
  /** Unix time in milliseconds. */
  now(): number;
  /** Resolves once now() >= ms (at once if it already is), or as soon as `signal` aborts. */
  sleepUntil(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemAuctionClock: AuctionClock = {
  now: () => Date.now(),
  async sleepUntil(ms, signal) {
    // The wait is measured on the monotonic clock (performance.now), the target read from the wall
    // clock once: when the wall clock stepped back (NTP, a resumed VM), re-reading Date.now() made
    // every running auction and bidder wait for the whole step, e.g. an hour (docs/reliability.md,
    // "Fault injection"). Without a step both clocks agree; then wait for the later of the two, as
    // setTimeout may fire a millisecond before Date.now() reaches the target.
    const end = performance.now() + (ms - Date.now());
    const remaining = (): number => {
      const mono = end - performance.now();
      const wall = ms - Date.now();
      return wall - mono > 1000 ? mono : Math.max(mono, wall);
    };
    for (let left = remaining(); left > 0 && !signal?.aborted; left = remaining()) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, left);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  },
};

/** A clock that moves only when told to; sleepers wake in deadline order. */
export class ManualClock implements AuctionClock {
  private sleepers: { at: number; wake: () => void }[] = [];

  constructor(private ms = 0) {}

  now(): number {
    return this.ms;
  }

  sleepUntil(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= this.ms || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = {
        at: ms,
        wake: () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      this.sleepers.sort((a, b) => a.at - b.at);
      signal?.addEventListener('abort', sleeper.wake, { once: true });
    });
  }

  /** Moves time forward by `ms`, waking every sleeper due by then, and lets their continuations run. */
  async advance(ms: number): Promise<void> {
    this.ms += ms;
    for (let s = this.sleepers[0]; s !== undefined && s.at <= this.ms; s = this.sleepers[0]) s.wake();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
