// The wallet's configuration: every key with a description and a default (one zod schema). The
// composition root nests it under `wallet` in the instance config.
import { z } from 'zod';

/** Where LND is and how to authenticate (wallet.lnd). The macaroon is a secret: it is never logged. */
export const lndConfigSchema = z
  .object({
    socket: z.string().min(3).default('127.0.0.1:10009').describe("host:port of LND's gRPC interface (its rpclisten)"),
    cert: z.string().optional().describe("LND's TLS certificate (tls.cert) as PEM text, base64 or hex; or give certPath"),
    certPath: z.string().optional().describe("path to LND's tls.cert"),
    macaroon: z.string().optional().describe('a macaroon as hex or base64 (never logged); or give macaroonPath'),
    macaroonPath: z
      .string()
      .optional()
      .describe('path to a macaroon file, e.g. invoice.macaroon plus offchain (pay) rights, or admin.macaroon; needs info:read, invoices:read/write, offchain:read/write'),
    timeoutMs: z.number().int().min(100).max(120_000).default(5000).describe('how long a call to LND may take before it counts as down (payments wait for their outcome instead)'),
    probeTimeoutMs: z.number().int().min(100).max(60_000).default(3000).describe('how long the start waits for LND before it falls back to the built-in wallet'),
    reprobeMaxSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(300)
      .describe('after a fallback, LND is probed again with growing pauses up to this; when it answers, the log says to restart'),
    feeLimitPercent: z.number().min(0).max(100).default(1).describe('routing fee limit of a payment without maxFeeMsat, in percent of the amount (at least feeLimitMinMsat)'),
    feeLimitMinMsat: z.number().int().min(0).default(10_000).describe('the least routing fee limit of a payment without maxFeeMsat'),
  })
  .strict();

export type LndConfig = z.infer<typeof lndConfigSchema>;

/**
 * A remote NWC wallet as the backend (wallet.backend nwc; docs/wallet.md, "NWC as the backend"). The
 * URI holds a spending secret: it is never logged (or give it in the env var TIMMY_NWC_URI).
 */
export const nwcBackendConfigSchema = z
  .object({
    uri: z
      .string()
      .regex(/^nostr\+walletconnect:/i, 'must be a nostr+walletconnect:// URI')
      .optional()
      .describe('the wallet\'s nostr+walletconnect:// URI (a spending secret, never logged); or set TIMMY_NWC_URI'),
    timeoutMs: z.number().int().min(100).max(300_000).default(30_000).describe('how long a request to the remote wallet may take (a payment that gets no answer is looked up again later)'),
    probeTimeoutMs: z.number().int().min(100).max(60_000).default(5000).describe('how long the start waits for the remote wallet (get_info) before it falls back to the built-in wallet'),
    reprobeMaxSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(300)
      .describe('after a fallback, the remote wallet is probed again with growing pauses up to this; when it answers, the log says to restart'),
    feeLimitPercent: z.number().min(0).max(100).default(1).describe('reserved from the paying account for routing fees, in percent of the amount (at least feeLimitMinMsat); what the remote does not spend goes back'),
    feeLimitMinMsat: z.number().int().min(0).default(10_000).describe('the least fee reserve of a payment without maxFeeMsat'),
  })
  .strict();

export type NwcBackendConfig = z.infer<typeof nwcBackendConfigSchema>;

/** The NWC (NIP-47) wallet service (wallet.nwc; docs/wallet.md, "NWC (NIP-47)"). */
export const nwcConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('serve the wallet over Nostr Wallet Connect to the connections made with `timmy wallet nwc add`'),
    relays: z
      .array(z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL'))
      .default([])
      .describe("relays written into new connection URIs (default: the embedded relay's ws://host:port, else `relays`); the service listens where the instance does"),
  })
  .strict();

/** The instance treasury (wallet.treasury; docs/wallet.md, "Treasury"). */
export const treasuryConfigSchema = z
  .object({
    feePct: z
      .number()
      .min(0)
      .max(100)
      .default(0)
      .describe("percent of each released job's agent payment that goes to the `treasury` account instead of the agent (rounded down to the msat)"),
    sweep: z
      .object({
        address: z.string().min(1).optional().describe('on-chain address of cold storage that `timmy wallet sweep` sends to (after approval)'),
        thresholdSats: z.number().int().min(0).default(1_000_000).describe('a sweep is proposed once the treasury holds more than this'),
        keepSats: z.number().int().min(0).default(100_000).describe('what a sweep leaves in the treasury'),
      })
      .strict()
      .default({ thresholdSats: 1_000_000, keepSats: 100_000 })
      .describe('cold-storage sweep of the treasury'),
  })
  .strict();

export type TreasuryConfig = z.infer<typeof treasuryConfigSchema>;

export const walletConfigSchema = z
  .object({
    backend: z
      .enum(['builtin', 'lnd', 'nwc'])
      .default('builtin')
      .describe(
        'builtin: the local ledger only; lnd: the same ledger, with LND for invoices, payments and hold-invoice escrow; nwc: the same ledger, with a remote NWC wallet for invoices and payments (lnd and nwc fall back to builtin when unreachable at start)',
      ),
    lnd: lndConfigSchema.default(lndConfigSchema.parse({})).describe('the LND node (wallet.backend lnd)'),
    nwcBackend: nwcBackendConfigSchema.default(nwcBackendConfigSchema.parse({})).describe('the remote NWC wallet (wallet.backend nwc)'),
    network: z
      .enum(['mainnet', 'testnet', 'signet', 'regtest'])
      .default('regtest')
      .describe('invoice prefix: regtest lnbcrt, signet lntbs, testnet lntb, mainnet lnbc'),
    allowFunding: z
      .boolean()
      .default(false)
      .describe('allow `timmy wallet fund` (test money from nowhere) on testnet and mainnet too; always allowed on regtest and signet'),
    invoiceExpirySeconds: z.number().int().min(10).max(31_536_000).default(3600).describe('default lifetime of an invoice'),
    minFinalCltvExpiry: z
      .number()
      .int()
      .min(1)
      .max(2016)
      .default(80)
      .describe('the `c` field of minted invoices (blocks); with LND it bounds how long a hold invoice can keep a job\'s escrow (about 10 minutes a block)'),
    pollIntervalMs: z.number().int().min(10).max(60_000).default(1000).describe('how often invoice watchers look for payments made by other processes'),
    durability: z.enum(['full', 'normal']).default('full').describe('SQLite synchronous mode of wallet.sqlite: full = every commit survives power loss'),
    nwc: nwcConfigSchema.default(nwcConfigSchema.parse({})).describe('Nostr Wallet Connect (NIP-47) service'),
    treasury: treasuryConfigSchema.default(treasuryConfigSchema.parse({})).describe('the instance treasury: job fee, cold-storage sweep'),
  })
  .strict();

export type WalletConfig = z.infer<typeof walletConfigSchema>;
export const defaultWalletConfig = (): WalletConfig => walletConfigSchema.parse({});
