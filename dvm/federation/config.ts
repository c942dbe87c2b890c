// The `federation` section of the instance config (docs/federation.md): how this instance
// announces itself, finds peers, whom it lets bid in its auctions, and how it forwards jobs.
import { z } from 'zod';

export const forwardConfigSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('a job of a kind no agent here serves (or a paid one whose bid only a peer meets) is forwarded to a peer instance whose agents serve it; paid ones need wallet.backend "lnd" and a peer announcing Lightning'),
    maxHops: z.number().int().min(1).max(10).default(2).describe('a request already forwarded this many times is not forwarded again'),
    feePct: z.number().min(0).max(100).default(10).describe("our fee on a forwarded paid job, in percent of the peer's price (plus dvm.feeMsat); it also pays the Lightning routing fee"),
    timeoutSeconds: z.number().int().min(1).default(300).describe("how long a forwarded job waits for the peer's result before it fails"),
  })
  .strict();

export type ForwardConfig = z.infer<typeof forwardConfigSchema>;

export const federationConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('announce this instance (kind 31280) and keep a directory of peer instances'),
    relays: z
      .array(z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL'))
      .default([])
      .describe('relays where instances meet (announcements; shared auctions need a relay in `relays`); empty = the top-level `relays` (and the embedded relay)'),
    name: z.string().max(200).optional().describe('the name other instances see (default: the relay name)'),
    announceSeconds: z.number().int().min(10).default(600).describe('how often the announcement is refreshed; it expires after three times this'),
    auctions: z.enum(['closed', 'peers', 'open']).default('closed').describe('who may bid in our auctions: our agents only, also agents of announced peers, or any agent whose score is at least minScore'),
    minScore: z.number().min(0).max(1).default(0.5).describe('with auctions "open": the least reputation score of an outside agent'),
    replicate: z
      .object({
        enabled: z.boolean().default(true).describe('pull the events federation needs (profiles, labels, auctions, announcements, handlers, deletions) from the relays peers announce: a NIP-77 sync now and then, live in between'),
        intervalSeconds: z.number().int().min(10).default(300).describe('how often each peer relay is synced again'),
      })
      .strict()
      .default({ enabled: true, intervalSeconds: 300 }),
    bidOnPeers: z
      .boolean()
      .default(false)
      .describe('our agents also bid in the auctions of peer instances that admit them (auctions "peers", or "open" when our score meets theirs) and do the work they win; paid jobs are invoiced to the agent (wallet.backend "lnd")'),
    forward: forwardConfigSchema.default({ enabled: true, maxHops: 2, feePct: 10, timeoutSeconds: 300 }).describe('forwarding jobs to peer instances (docs/federation.md, "Forwarding")'),
  })
  .strict();

export type FederationConfig = z.infer<typeof federationConfigSchema>;
