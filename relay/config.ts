// The relay's configuration: every key with a description and a default (one zod schema).
// The composition root (main/config.ts) nests it under `relay` in the instance config.
import os from 'node:os';
import { z } from 'zod';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);

export const rateSchema = z
  .object({
    perSecond: z.number().positive().describe('tokens refilled per second'),
    burst: int(1).describe('bucket size: how many may arrive at once'),
  })
  .strict();

export const relayConfigSchema = z
  .object({
    name: z.string().default('Timmy relay').describe('NIP-11 name'),
    description: z.string().default('The embedded relay of a Timmy instance.').describe('NIP-11 description'),
    pubkey: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe('NIP-11 admin pubkey (hex)'),
    contact: z.string().optional().describe('NIP-11 contact'),
    url: z.string().optional().describe('public ws(s) URL of this relay; AUTH events may name it in their relay tag'),
    maxMessageLength: int(1024).default(512 * 1024).describe('largest accepted client message, in bytes'),
    maxSubscriptions: int(1).default(300).describe('open subscriptions per connection'),
    maxFilters: int(1).default(20).describe('filters per REQ or COUNT'),
    maxLimit: int(1).default(5000).describe('a filter limit above this is clamped to it'),
    defaultLimit: int(1).default(500).describe('events returned for a filter without limit'),
    maxSubidLength: int(1, 1024).default(64).describe('longest subscription id'),
    maxEventTags: int(1).default(2500).describe('tags per event'),
    maxContentLength: int(1).default(256 * 1024).describe('characters of content per event'),
    createdAtLowerLimit: int(0).default(20 * 365 * 86400).describe('seconds in the past an event created_at may be'),
    createdAtUpperLimit: int(0).default(15 * 60).describe('seconds in the future an event created_at may be'),
    maxConnections: int(1).default(20000).describe('open websocket connections in all'),
    maxConnectionsPerIp: int(1).default(200).describe('open websocket connections per client IP'),
    maxBufferedBytes: int(64 * 1024)
      .default(8 * 1024 * 1024)
      .describe('bytes queued for one connection that it has not read yet; above this the client is not reading and is disconnected (close code 1008)'),
    maxFilterValues: int(1, 30_000)
      .default(10_000)
      .describe('values (ids, authors, kinds, tag values) across the filters of one REQ or COUNT; more is refused with CLOSED invalid:'),
    rateLimits: z
      .object({
        eventsPerIp: rateSchema.default({ perSecond: 50, burst: 500 }),
        eventsPerPubkey: rateSchema.default({ perSecond: 20, burst: 200 }),
        reqsPerIp: rateSchema.default({ perSecond: 50, burst: 500 }),
        readCostPerIp: rateSchema
          .default({ perSecond: 20_000, burst: 50_000 })
          .describe(
            'read budget per client IP, in events served (plus readerMsCost per reader-thread millisecond): a REQ or COUNT while it is used up is refused with CLOSED rate-limited:, and a history answer is cut where it runs out (CLOSED rate-limited: instead of EOSE)',
          ),
        readerMsCost: z
          .number()
          .min(0)
          .default(20)
          .describe('events of readCostPerIp one millisecond of reader-thread time counts as (a REQ or COUNT that scans much and returns little still costs)'),
        exemptIps: z
          .array(z.string())
          .default(['127.0.0.1', '::1', '::ffff:127.0.0.1'])
          .describe('client IPs with no rate and per-IP connection limits (the operator\'s own machine by default)'),
      })
      .strict()
      .default({
        eventsPerIp: { perSecond: 50, burst: 500 },
        eventsPerPubkey: { perSecond: 20, burst: 200 },
        reqsPerIp: { perSecond: 50, burst: 500 },
        readCostPerIp: { perSecond: 20_000, burst: 50_000 },
        readerMsCost: 20,
        exemptIps: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
      }),
    auth: z
      .object({
        required: z.boolean().default(false).describe('every EVENT, REQ and COUNT needs NIP-42 AUTH first'),
        challengeOnConnect: z
          .boolean()
          .default(false)
          .describe('send the AUTH challenge as soon as a client connects (always when `required`); otherwise it comes with the first auth-required answer'),
        writeKinds: z.array(int(0, 65535)).default([]).describe('kinds that need AUTH to publish'),
        readKinds: z.array(int(0, 65535)).default([]).describe('kinds that need AUTH to read'),
        privateKinds: z
          .array(int(0, 65535))
          .default([4, 1059])
          .describe('kinds readable only by their author or a p-tagged party, after AUTH (NIP-04 DMs, NIP-17 gift wraps)'),
      })
      .strict()
      .default({ required: false, challengeOnConnect: false, writeKinds: [], readKinds: [], privateKinds: [4, 1059] }),
    queryBudgetMs: int(10).default(1500).describe('time one REQ may spend reading history before EOSE'),
    durability: z.enum(['full', 'normal']).default('full').describe('SQLite synchronous mode: full = fsync each group commit'),
    ingestWorkers: int(0, 64).default(Math.max(1, os.availableParallelism())).describe('threads that parse and verify (0 = inline)'),
    readerThreads: int(1, 64).default(2).describe('threads that run history queries'),
    purgeIntervalSeconds: int(1).default(60).describe('how often expired (NIP-40) events are deleted'),
    negentropy: z
      .object({
        enabled: z.boolean().default(true).describe('answer NIP-77 NEG-OPEN / NEG-MSG / NEG-CLOSE (set reconciliation, e.g. strfry sync)'),
        maxRecords: int(1).default(1_000_000).describe('events one sync may cover; a larger filter is refused with NEG-ERR blocked:'),
        frameSizeLimit: int(0).default(60_000).describe('bytes per negentropy message we send (0 = no limit; else at least 4096)'),
        maxSyncsPerConnection: int(1).default(8).describe('open negentropy syncs per connection'),
        idleSeconds: int(1).default(120).describe('a sync with no message for this long is closed (NEG-ERR closed:)'),
      })
      .strict()
      .default({ enabled: true, maxRecords: 1_000_000, frameSizeLimit: 60_000, maxSyncsPerConnection: 8, idleSeconds: 120 }),
  })
  .strict();

export type RelayConfig = z.infer<typeof relayConfigSchema>;

export const defaultRelayConfig = (): RelayConfig => relayConfigSchema.parse({});
