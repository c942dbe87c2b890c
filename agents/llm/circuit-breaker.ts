// A circuit breaker per LLM provider: closed (requests flow) -> open after N consecutive failures
// (requests skip the provider) -> half-open once the cooldown has passed (one trial request at a
// time) -> closed when the trial succeeds, open again (a fresh cooldown) when it fails.
// The clock is injected so tests can move time by hand.

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Numeric encoding for a gauge such as `timmy_llm_circuit_state{provider}`. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 3). */
  failureThreshold?: number;
  /** How long an open circuit waits before it lets one trial request through (default 30 s). */
  cooldownMs?: number;
  /** Milliseconds clock (default Date.now). */
  now?: () => number;
}

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private readonly now: () => number;
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(opts: CircuitBreakerOptions = {}) {
    this.failureThreshold = opts.failureThreshold ?? 3;
    this.cooldownMs = opts.cooldownMs ?? 30_000;
    this.now = opts.now ?? Date.now;
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) throw new RangeError('failureThreshold must be an integer >= 1');
    if (!(this.cooldownMs >= 0)) throw new RangeError('cooldownMs must be >= 0');
  }

  get state(): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.cooldownMs ? 'half-open' : 'open';
  }

  /** Consecutive failures since the last success. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Milliseconds until an open circuit turns half-open (0 when it is not open). */
  retryInMs(): number {
    if (this.openedAt === undefined) return 0;
    return Math.max(0, this.openedAt + this.cooldownMs - this.now());
  }

  /**
   * May a request go through now? Closed: yes. Open: no. Half-open: yes for exactly one caller
   * (the trial) until it reports back with onSuccess, onFailure or release.
   */
  tryAcquire(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  onFailure(): void {
    this.failures++;
    const wasTrial = this.trialInFlight;
    this.trialInFlight = false;
    // A failed trial re-opens at once; otherwise the threshold decides. Re-opening restarts the cooldown.
    if (wasTrial || this.openedAt !== undefined || this.failures >= this.failureThreshold) this.openedAt = this.now();
  }

  /** The request ended without a verdict on the provider (e.g. the job was cancelled): free the trial slot. */
  release(): void {
    this.trialInFlight = false;
  }
}
