// The `federation` section of the instance config (docs/federation.md): how this instance
// announces itself, finds peers, and whom it lets bid in its auctions.
import { z } from 'zod';

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
      .describe('our agents also bid in the auctions of peer instances that admit them (auctions "peers", or "open" when our score meets theirs), for free jobs, and do the work they win'),
  })
  .strict();

export type FederationConfig = z.infer<typeof federationConfigSchema>;
