// The wallet's configuration: every key with a description and a default (one zod schema). The
// composition root nests it under `wallet` in the instance config.
import { z } from 'zod';

export const walletConfigSchema = z
  .object({
    backend: z.enum(['builtin']).default('builtin').describe('builtin: the local ledger only (LND comes with a later issue)'),
    network: z
      .enum(['mainnet', 'testnet', 'signet', 'regtest'])
      .default('regtest')
      .describe('invoice prefix: regtest lnbcrt, signet lntbs, testnet lntb, mainnet lnbc'),
    allowFunding: z
      .boolean()
      .default(false)
      .describe('allow `timmy wallet fund` (test money from nowhere) on testnet and mainnet too; always allowed on regtest and signet'),
    invoiceExpirySeconds: z.number().int().min(10).max(31_536_000).default(3600).describe('default lifetime of an invoice'),
    minFinalCltvExpiry: z.number().int().min(1).max(2016).default(80).describe('the `c` field of minted invoices (blocks)'),
    pollIntervalMs: z.number().int().min(10).max(60_000).default(1000).describe('how often invoice watchers look for payments made by other processes'),
    durability: z.enum(['full', 'normal']).default('full').describe('SQLite synchronous mode of wallet.sqlite: full = every commit survives power loss'),
  })
  .strict();

export type WalletConfig = z.infer<typeof walletConfigSchema>;
export const defaultWalletConfig = (): WalletConfig => walletConfigSchema.parse({});
