// A persona is data, not code: who an agent is (its Nostr profile), which NIP-90 job kinds it
// serves, how it prices them, and the parameters of its bidding learner. One zod schema; unknown
// keys are errors, so a typo in a persona file is reported instead of silently ignored.
import { z } from 'zod';

/** Agent names: NIP-05 local-part safe, file-name safe. */
export const PERSONA_NAME = /^[a-z0-9_-]{1,64}$/;

const msat = z.number().int().min(0);

export const pricingSchema = z
  .object({
    baseMsat: msat.describe('price of any job, in millisats'),
    perUnitMsat: msat.describe("price per work unit (the skill's units(), e.g. per 1,000 input characters)"),
    minMarginPct: z.number().min(0).max(1000).default(0).describe('the agent never bids below cost plus this margin'),
  })
  .strict();

/**
 * The bidding learner's parameters (agents/bidding/learner.ts LearnerConfig), all optional: what a
 * persona leaves out, the learner's defaults fill in, so `new PriceLearner(persona.bidding)` works.
 */
export const biddingSchema = z
  .object({
    window: z.number().int().min(1).optional().describe('auctions in the moving win-rate window'),
    lowWinRate: z.number().min(0).max(1).optional().describe('below this recent win rate the markup falls'),
    highWinRate: z.number().min(0).max(1).optional().describe('above this recent win rate the markup rises'),
    learningRate: z.number().gt(0).max(10).optional().describe('how fast the markup moves after an auction'),
    minMarkupPct: z.number().min(0).optional().describe('lowest markup over the risk-adjusted cost'),
    maxMarkupPct: z.number().min(0).optional().describe('highest markup the learner may reach'),
    initialMarkupPct: z.number().min(0).optional().describe('markup before the learner has data'),
    exploration: z.number().min(0).max(1).optional().describe('share of bids that try a random markup'),
    minSuccessRate: z.number().gt(0).max(1).optional().describe('failures raise the cost by at most 1 / this'),
  })
  .strict()
  .refine((b) => b.lowWinRate === undefined || b.highWinRate === undefined || b.lowWinRate <= b.highWinRate, {
    message: 'lowWinRate must not exceed highWinRate',
    path: ['lowWinRate'],
  })
  .refine((b) => b.minMarkupPct === undefined || b.maxMarkupPct === undefined || b.minMarkupPct <= b.maxMarkupPct, {
    message: 'minMarkupPct must not exceed maxMarkupPct',
    path: ['minMarkupPct'],
  });

export const identitySchema = z
  .object({
    platform: z.string().regex(/^[a-z0-9._/-]+$/, 'platform: a-z 0-9 . _ / - only (NIP-39)'),
    identity: z.string().min(1),
    proof: z.string().min(1),
  })
  .strict();

export const relaySchema = z
  .object({
    url: z.string().regex(/^wss?:\/\/\S+$/, 'a ws:// or wss:// URL'),
    marker: z.enum(['read', 'write']).optional().describe('NIP-65 marker; omitted = read and write'),
  })
  .strict();

export const personaSchema = z
  .object({
    name: z.string().regex(PERSONA_NAME, 'name: 1-64 of a-z 0-9 _ -').describe('unique id; key file name and NIP-05 local part'),
    displayName: z.string().min(1).max(100).describe('kind 0 display_name'),
    about: z.string().max(2000).describe('kind 0 about'),
    picture: z.url().optional().describe('kind 0 picture'),
    kinds: z
      .array(z.number().int().min(5000).max(5999))
      .min(1)
      .refine((ks) => new Set(ks).size === ks.length, 'kinds must not repeat')
      .describe('NIP-90 request kinds this agent serves'),
    pricing: pricingSchema,
    bidding: biddingSchema.default({}).describe('bidding learner parameters; omitted ones take the learner defaults'),
    systemPrompt: z.string().max(4000).optional().describe('for text generation (5050): the system message the agent sends the model'),
    identities: z.array(identitySchema).default([]).describe('NIP-39 external identities (kind 10011)'),
    relays: z.array(relaySchema).default([]).describe('NIP-65 relay list (kind 10002); empty = the instance relays'),
    enabled: z.boolean().default(true).describe('false keeps the persona on file without starting it'),
  })
  .strict();

export type Persona = z.infer<typeof personaSchema>;
export type PersonaInput = z.input<typeof personaSchema>;
export type Pricing = z.infer<typeof pricingSchema>;

/** The asking price of a job of `units` work units, in millisats (whole millisats, rounded up). */
export const priceMsat = (p: Pick<Pricing, 'baseMsat' | 'perUnitMsat'>, units: number): number =>
  p.baseMsat + Math.ceil(p.perUnitMsat * Math.max(0, units));
