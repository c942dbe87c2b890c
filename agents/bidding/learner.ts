// What an agent asks in an auction: its cost estimate for the job. The estimate is the direct cost
// (cost model) raised for the risk of failing (success rate), plus a markup for the capacity the
// job takes (opportunity cost), which a bounded learner moves with demand: win often and the
// agent's time is scarce, so it is worth more; win rarely and it is idle, so it is worth less.
// Under the second-price rule the agent is best off bidding exactly this estimate (docs/auction.md).
// The names follow the persona's `pricing` and `bidding` keys (agents/personas/schema.ts).

export interface CostModel {
  /** Fixed cost of taking a job, msat. */
  readonly baseMsat: number;
  /** Cost per work unit (Skill.units), msat. */
  readonly perUnitMsat: number;
  /** The agent never bids below cost plus this markup, percent (default 0). */
  readonly minMarginPct?: number;
}

export interface LearnerConfig {
  /** Exponential moving window: each new outcome weighs alpha = 2 / (window + 1). */
  readonly window: number;
  /** Below this recent win rate the markup falls... */
  readonly lowWinRate: number;
  /** ...and above this one it rises; in between it holds. */
  readonly highWinRate: number;
  /** Per auction, (1 + markup) is multiplied by exp(±learningRate × the win rate's distance outside the band). */
  readonly learningRate: number;
  /** Bounds of the markup, percent over the (risk-adjusted) cost; the bid also never goes below the cost model's minMarginPct. */
  readonly minMarkupPct: number;
  readonly maxMarkupPct: number;
  /** Markup before the learner has data (clamped to the bounds). */
  readonly initialMarkupPct: number;
  /** Share of bids that try a random markup within the bounds, drawn from `random` (default 0: always the estimate). */
  readonly exploration: number;
  /** Failures raise the cost estimate by 1 / success rate, counted no lower than this (so at most 1 / minSuccessRate). */
  readonly minSuccessRate: number;
}

export const DEFAULT_LEARNER: LearnerConfig = {
  window: 20,
  lowWinRate: 0.2,
  highWinRate: 0.6,
  learningRate: 0.1,
  minMarkupPct: 0,
  maxMarkupPct: 300,
  initialMarkupPct: 20,
  exploration: 0,
  minSuccessRate: 0.5,
};

export interface LearnerState {
  readonly markupPct: number;
  /** Moving average of auctions won (1) and lost (0). */
  readonly winRate: number;
  /** Moving average of jobs done (1) and failed (0). */
  readonly successRate: number;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

function checkConfig(c: LearnerConfig): LearnerConfig {
  const ok =
    c.window >= 1 &&
    c.lowWinRate >= 0 && c.lowWinRate <= c.highWinRate && c.highWinRate <= 1 &&
    c.learningRate > 0 &&
    c.minMarkupPct >= 0 && c.minMarkupPct <= c.maxMarkupPct && Number.isFinite(c.maxMarkupPct) &&
    c.exploration >= 0 && c.exploration <= 1 &&
    c.minSuccessRate > 0 && c.minSuccessRate <= 1;
  if (!ok) throw new RangeError('learner config out of range');
  return c;
}

/** The bounded learner. Deterministic given its random source: the same outcomes give the same prices. */
export class PriceLearner {
  readonly config: LearnerConfig;
  private markup: number;
  private wins: number;
  private successes: number;

  constructor(
    config: Partial<LearnerConfig> = {},
    state: Partial<LearnerState> = {},
    private readonly random: () => number = Math.random,
  ) {
    const c = (this.config = checkConfig({ ...DEFAULT_LEARNER, ...config }));
    this.markup = clamp(state.markupPct ?? c.initialMarkupPct, c.minMarkupPct, c.maxMarkupPct);
    this.wins = clamp(state.winRate ?? (c.lowWinRate + c.highWinRate) / 2, 0, 1); // no news: inside the band
    this.successes = clamp(state.successRate ?? 1, 0, 1);
  }

  private get alpha(): number {
    return 2 / (this.config.window + 1);
  }

  /** After each auction the agent bid in. */
  recordAuction(won: boolean): void {
    const c = this.config;
    this.wins += this.alpha * ((won ? 1 : 0) - this.wins);
    const distance = this.wins > c.highWinRate ? this.wins - c.highWinRate : this.wins < c.lowWinRate ? this.wins - c.lowWinRate : 0;
    const factor = (1 + this.markup / 100) * Math.exp(c.learningRate * distance);
    this.markup = clamp((factor - 1) * 100, c.minMarkupPct, c.maxMarkupPct);
  }

  /** After each job the agent ran: failures raise the cost estimate. */
  recordJob(succeeded: boolean): void {
    this.successes += this.alpha * ((succeeded ? 1 : 0) - this.successes);
  }

  /** The learned markup, percent. */
  get markupPct(): number {
    return this.markup;
  }

  /** The markup for the next bid: the learned one, or with probability `exploration` a random one within the bounds. */
  nextMarkupPct(): number {
    const c = this.config;
    if (c.exploration === 0 || this.random() >= c.exploration) return this.markup;
    return c.minMarkupPct + this.random() * (c.maxMarkupPct - c.minMarkupPct);
  }

  /** Expected cost per paid job over direct cost: 1 / success rate, in [1, 1 / minSuccessRate]. */
  get riskFactor(): number {
    return 1 / Math.max(this.successes, this.config.minSuccessRate);
  }

  state(): LearnerState {
    return { markupPct: this.markup, winRate: this.wins, successRate: this.successes };
  }
}

/** Direct cost of a job of `units` work units, msat: base + ceil(perUnit × units), as the persona's priceMsat. */
export function directCost(m: CostModel, units: number): number {
  if (!(units >= 0 && Number.isFinite(units))) throw new RangeError('units must be a non-negative number');
  return m.baseMsat + Math.ceil(m.perUnitMsat * units);
}

/**
 * The bid, msat: direct cost × risk factor × (1 + markup), rounded to a whole msat, the markup never
 * below the cost model's minMarginPct. Without a learner: the minimum margin, no failure allowance.
 */
export function bidPrice(m: CostModel, units: number, o: { markupPct?: number; riskFactor?: number } = {}): number {
  const markup = Math.max(o.markupPct ?? 0, m.minMarginPct ?? 0);
  return Math.round(directCost(m, units) * (o.riskFactor ?? 1) * (1 + markup / 100));
}
