// Reputation settings (nested under `reputation` in the instance config). The score parameters
// must match across instances for their scores of one agent to agree (docs/reputation.md).
import { z } from 'zod';
import { DEFAULT_SCORE_PARAMS } from './score.js';

const D = DEFAULT_SCORE_PARAMS;
const unit = z.number().min(0).max(1);

export const reputationConfigSchema = z
  .object({
    halfLifeDays: z.number().positive().default(D.halfLifeDays).describe('a label weighs half as much after this many days'),
    unpaidWeight: unit.default(D.unpaidWeight).describe('weight of a label without a valid proof of payment (a paid one weighs 1)'),
    unpaidCap: z.number().min(0).default(D.unpaidCap).describe('all unpaid labels about one agent together weigh at most this many paid labels'),
    priorGood: z.number().positive().default(D.priorGood).describe('Beta prior: pseudo-labels of good work every agent starts with'),
    priorBad: z.number().positive().default(D.priorBad).describe('Beta prior: pseudo-labels of bad work every agent starts with'),
    z: z.number().positive().default(D.z).describe('normal quantile of the Wilson lower bound (1.96 = 95%)'),
    minScore: unit.default(0).describe('agents below this score do not take part in auctions'),
    minScoreByKind: z
      .record(z.string().regex(/^5[0-9]{3}$/, 'a request kind 5000-5999'), unit)
      .default({})
      .describe('per request kind minimum score, e.g. {"5050": 0.3}; overrides minScore for that kind'),
    relays: z.array(z.string().url()).default([]).describe('extra relays `timmy agent show` reads labels from (besides the embedded relay and `relays`)'),
  })
  .strict();

export type ReputationConfig = z.infer<typeof reputationConfigSchema>;

export const scoreParams = (c: ReputationConfig) => ({ halfLifeDays: c.halfLifeDays, unpaidWeight: c.unpaidWeight, unpaidCap: c.unpaidCap, priorGood: c.priorGood, priorBad: c.priorBad, z: c.z });

/** The minimum score an agent needs to bid on a request kind. */
export const minScoreFor = (c: ReputationConfig, kind: number): number => c.minScoreByKind[String(kind)] ?? c.minScore;
