// The DVM's configuration (nested under `dvm` in the instance config).
import { z } from 'zod';

const kinds = z.array(z.number().int().min(5000).max(5999));

export const dvmConfigSchema = z
  .object({
    freeKinds: kinds.default([5400]).describe('request kinds served without payment'),
    approvalKinds: kinds.default([]).describe('request kinds that wait for an operator to approve them (timmy job approve)'),
    approvalAboveMsat: z.number().int().min(0).optional().describe('jobs priced above this wait for approval too'),
    feeMsat: z.number().int().min(0).default(0).describe('flat coordinator fee added to every paid job'),
    jobTimeoutSeconds: z.number().int().min(1).default(120).describe('how long a skill may run before the job is reassigned'),
    paymentTimeoutSeconds: z.number().int().min(10).default(600).describe('how long an invoice waits for payment'),
    chainTimeoutSeconds: z.number().int().min(1).default(120).describe('how long a job waits for the result of the job it chains on'),
    maxConcurrentAuctions: z.number().int().min(1).default(16).describe('auctions run at once; further jobs wait their turn in bidding (backpressure under load)'),
    labels: z.boolean().default(true).describe('the coordinator publishes a NIP-32 job label (delivered, late or failed) for the agent after each job'),
    lateAfterSeconds: z.number().int().min(1).default(60).describe('a job whose work took longer than this is labelled late instead of delivered'),
    lookbackSeconds: z.number().int().min(0).default(60).describe('requests this old are still picked up at start'),
    auction: z
      .object({
        commitMs: z.number().int().min(10).default(150).describe('commit window of an auction'),
        revealMs: z.number().int().min(10).default(150).describe('reveal window of an auction'),
      })
      .strict()
      .default({ commitMs: 150, revealMs: 150 }),
  })
  .strict();

export type DvmConfig = z.infer<typeof dvmConfigSchema>;
