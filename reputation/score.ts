// The score formula (docs/reputation.md): a Beta posterior over weighted observations, reported as
// its Wilson lower bound, with time decay, rater standing, and a cap on unpaid evidence. Pure math;
// reputation/book.ts keeps the sums incrementally.

export interface ScoreParams {
  /** Weight halves every this many days. */
  readonly halfLifeDays: number;
  /** Weight of a label without a valid proof of payment, before the cap. */
  readonly unpaidWeight: number;
  /** All unpaid evidence about one agent together weighs at most this much (in paid labels). */
  readonly unpaidCap: number;
  /** Beta prior: pseudo-observations of good and bad work every agent starts with. */
  readonly priorGood: number;
  readonly priorBad: number;
  /** Normal quantile of the lower bound (1.96: 95% two-sided). */
  readonly z: number;
}

export const DEFAULT_SCORE_PARAMS: ScoreParams = { halfLifeDays: 90, unpaidWeight: 0.1, unpaidCap: 0.5, priorGood: 1, priorBad: 1, z: 1.96 };

/**
 * Wilson score interval's lower bound for `good` successes out of `good + bad` (weights allowed).
 * It is what a careful reader would bet the agent's success rate is at least.
 */
export function wilsonLower(good: number, bad: number, z: number): number {
  const n = good + bad;
  if (n <= 0) return 0;
  const p = good / n;
  const z2 = z * z;
  const lower = (p + z2 / (2 * n) - z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return Math.max(0, Math.min(1, lower));
}

/** 2^(-age/halfLife): the weight left after `ageSeconds`. */
export const decayFactor = (ageSeconds: number, halfLifeDays: number): number => 2 ** (-ageSeconds / (halfLifeDays * 86400));

/** Standing multiplies a rater's weight: 1 for a key nobody has paid to rate, up to 2 for a rater with a perfect paid record. */
export const standingFactor = (raterPaidScore: number): number => 1 + raterPaidScore;

/** Weighted evidence at a moment: what the posterior is made of. */
export interface Evidence {
  readonly paidGood: number;
  readonly paidBad: number;
  readonly unpaidGood: number;
  readonly unpaidBad: number;
}

export interface ScoreValue {
  /** Wilson lower bound of the posterior, 0..1: the number to compare agents by. */
  readonly score: number;
  /** Posterior mean, 0..1. */
  readonly mean: number;
  /** Effective number of observations (weights summed, prior included). */
  readonly weight: number;
  /** Unpaid evidence after the cap. */
  readonly unpaidCounted: number;
}

/** The score from decayed, standing-weighted evidence (unpaid evidence already multiplied by unpaidWeight). */
export function scoreOf(ev: Evidence, p: ScoreParams): ScoreValue {
  const unpaid = ev.unpaidGood + ev.unpaidBad;
  // The cap keeps the ratio of good to bad unpaid evidence and bounds its mass, so no number of
  // unpaid (e.g. sybil) labels moves a score more than `unpaidCap` paid labels would.
  const scale = unpaid > p.unpaidCap ? p.unpaidCap / unpaid : 1;
  const good = p.priorGood + ev.paidGood + ev.unpaidGood * scale;
  const bad = p.priorBad + ev.paidBad + ev.unpaidBad * scale;
  return { score: wilsonLower(good, bad, p.z), mean: good / (good + bad), weight: good + bad, unpaidCounted: unpaid * scale };
}
