import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bidPrice, directCost, DEFAULT_LEARNER, PriceLearner, type CostModel } from './learner.js';
import { seededRandom, seededRng } from './random.js';

const cost: CostModel = { baseMsat: 1000, perUnitMsat: 100 };
/** The bid for a 10-unit job (direct cost 2000 msat). */
const price = (l: PriceLearner): number => bidPrice(cost, 10, l);

describe('bid price from the cost model', () => {
  it('is direct cost × risk factor × (1 + markup), never below the minimum margin', () => {
    assert.equal(directCost(cost, 10), 2000);
    assert.equal(directCost({ baseMsat: 0, perUnitMsat: 3 }, 0.1), 1, 'per-unit cost rounds up, as the persona priceMsat');
    assert.equal(bidPrice(cost, 10), 2000);
    assert.equal(bidPrice(cost, 10, { markupPct: 25 }), 2500);
    assert.equal(bidPrice(cost, 10, { markupPct: 25, riskFactor: 2 }), 5000);
    assert.equal(bidPrice({ ...cost, minMarginPct: 30 }, 10, { markupPct: 25 }), 2600, 'the minimum margin wins over a lower markup');
    assert.equal(bidPrice({ baseMsat: 3, perUnitMsat: 0 }, 1, { markupPct: 10 }), 3, 'rounded to a whole msat, not pushed up by float noise');
    assert.throws(() => bidPrice(cost, -1), RangeError);
    assert.throws(() => bidPrice(cost, Number.NaN), RangeError);
  });

  it('starts at the initial markup with no failure allowance', () => {
    const l = new PriceLearner();
    assert.equal(l.markupPct, DEFAULT_LEARNER.initialMarkupPct);
    assert.equal(l.riskFactor, 1);
    assert.equal(price(l), 2400);
  });
});

describe('PriceLearner', () => {
  it('raises the markup while the agent wins too often, up to maxMarkupPct', () => {
    const l = new PriceLearner();
    const prices = [price(l)];
    for (let i = 0; i < 300; i++) {
      l.recordAuction(true);
      prices.push(price(l));
    }
    for (let i = 1; i < prices.length; i++) assert.ok(prices[i]! >= prices[i - 1]!, `never falls while winning (at ${i})`);
    assert.equal(prices[4], 2400, 'holds while the win rate is still inside the band');
    assert.ok(prices[10]! > 2400, 'then rises');
    assert.equal(l.markupPct, DEFAULT_LEARNER.maxMarkupPct);
    assert.equal(prices.at(-1), 8000);
    assert.ok(l.state().winRate > 0.99);
  });

  it('lowers the markup while the agent rarely wins, down to minMarkupPct', () => {
    const l = new PriceLearner({ minMarkupPct: 5 }, { markupPct: 150 });
    const seen = [l.markupPct];
    for (let i = 0; i < 300; i++) {
      l.recordAuction(false);
      seen.push(l.markupPct);
    }
    assert.equal(seen[0], 150);
    assert.ok(seen.every((m, i) => i === 0 || m <= seen[i - 1]!), 'never rises while losing');
    assert.equal(l.markupPct, 5, 'never below the bound');
    assert.equal(price(l), 2100);
  });

  it('holds the markup while the win rate stays inside the band', () => {
    const l = new PriceLearner({}, { markupPct: 50 });
    for (let i = 0; i < 100; i++) l.recordAuction(i % 5 < 2); // wins 40 %
    assert.ok(l.state().winRate > DEFAULT_LEARNER.lowWinRate && l.state().winRate < DEFAULT_LEARNER.highWinRate);
    assert.equal(l.markupPct, 50);
  });

  it('moves prices with demand: up in a busy spell, back down when it ends', () => {
    const l = new PriceLearner({ learningRate: 0.5 });
    for (let i = 0; i < 40; i++) l.recordAuction(true);
    const busy = price(l);
    for (let i = 0; i < 80; i++) l.recordAuction(false);
    assert.ok(busy > 4000, `busy price ${busy}`);
    assert.equal(price(l), 2000, 'idle: down to the bare cost (minMarkupPct 0)');
  });

  it('raises the cost estimate after failures, bounded by minSuccessRate, and recovers', () => {
    const l = new PriceLearner();
    for (let i = 0; i < 3; i++) l.recordJob(false);
    assert.ok(l.riskFactor > 1);
    assert.ok(price(l) > 2400);
    for (let i = 0; i < 200; i++) l.recordJob(false);
    assert.equal(l.riskFactor, 1 / DEFAULT_LEARNER.minSuccessRate);
    assert.equal(price(l), 4800);
    for (let i = 0; i < 200; i++) l.recordJob(true);
    assert.ok(l.riskFactor < 1.001);
    assert.equal(l.markupPct, 20, 'job outcomes do not move the markup');
  });

  it('forgets with its window: a shorter window reacts faster', () => {
    const fast = new PriceLearner({ window: 4 });
    const slow = new PriceLearner({ window: 50 });
    for (let i = 0; i < 5; i++) {
      fast.recordAuction(true);
      slow.recordAuction(true);
    }
    assert.ok(fast.markupPct > slow.markupPct);
    assert.ok(fast.state().winRate > slow.state().winRate);
  });

  it('explores a share of bids within the bounds, repeatably with a seeded source', () => {
    const draws = (seed: string): number[] => {
      const l = new PriceLearner({ exploration: 0.25, minMarkupPct: 10, maxMarkupPct: 100 }, {}, seededRng(seed));
      return Array.from({ length: 400 }, () => l.nextMarkupPct());
    };
    const a = draws('x');
    assert.deepEqual(a, draws('x'));
    assert.notDeepEqual(a, draws('y'));
    const explored = a.filter((m) => m !== 20);
    assert.ok(explored.length > 60 && explored.length < 140, `${explored.length} of 400 explored`);
    assert.ok(explored.every((m) => m >= 10 && m <= 100));
    assert.ok(Array.from({ length: 50 }, () => new PriceLearner().nextMarkupPct()).every((m) => m === 20), 'no exploration by default');
  });

  it('is deterministic and clamps a restored state to its bounds', () => {
    const run = (): number[] => {
      const l = new PriceLearner({ learningRate: 0.8, exploration: 0.1 }, {}, seededRng('run'));
      const out: number[] = [];
      for (let i = 0; i < 50; i++) {
        l.recordAuction(i % 3 !== 0);
        l.recordJob(i % 7 !== 0);
        out.push(bidPrice(cost, 3, { markupPct: l.nextMarkupPct(), riskFactor: l.riskFactor }));
      }
      return out;
    };
    assert.deepEqual(run(), run());
    assert.equal(new PriceLearner({}, { markupPct: 999 }).markupPct, 300);
    assert.equal(new PriceLearner({ minMarkupPct: 10 }, { markupPct: 0 }).markupPct, 10);
    assert.throws(() => new PriceLearner({ minMarkupPct: 30, maxMarkupPct: 20 }), RangeError);
    assert.throws(() => new PriceLearner({ lowWinRate: 0.7, highWinRate: 0.6 }), RangeError);
    assert.throws(() => new PriceLearner({ minSuccessRate: 0 }), RangeError);
    assert.throws(() => new PriceLearner({ exploration: 1.5 }), RangeError);
    assert.deepEqual(seededRandom('s')(40), seededRandom('s')(40));
  });
});
