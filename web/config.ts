// The dashboard's settings (nested under `web` in the instance config).
import { z } from 'zod';

const pubkey = z.string().regex(/^(npub1[02-9ac-hj-np-z]{58}|[0-9a-f]{64})$/, 'an npub or a 64-character hex pubkey');

export const webConfigSchema = z
  .object({
    admins: z.array(pubkey).default([]).describe('npubs (or hex pubkeys) with admin rights on the dashboard: all jobs, approvals, wallet'),
    publicUrl: z
      .string()
      .url()
      .optional()
      .describe('the dashboard\'s URL as browsers reach it (e.g. behind a TLS proxy); NIP-98 events must name it. Default: http://<Host header>'),
    sessionHours: z.number().positive().max(24 * 365).default(24).describe('how long a login lasts'),
    nip98WindowSeconds: z.number().int().min(5).max(600).default(60).describe('how far a NIP-98 event\'s created_at may be from now'),
    l402: z
      .object({
        priceMsat: z.number().int().min(1).default(10_000).describe('what a job submitted over POST /api/paid/jobs costs (the invoice of the L402 challenge)'),
        expirySeconds: z.number().int().min(10).max(86_400).default(600).describe('how long an L402 challenge (its invoice and macaroon) is good for'),
      })
      .strict()
      .default({ priceMsat: 10_000, expirySeconds: 600 })
      .describe('paid endpoints over L402 (docs/web.md, "L402")'),
  })
  .strict();

export type WebConfig = z.infer<typeof webConfigSchema>;
