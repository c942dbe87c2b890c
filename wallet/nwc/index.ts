// Nostr Wallet Connect (NIP-47) both ways: the wallet service that serves Timmy's wallet, the client
// that uses any NWC wallet, the connection store and the CLI. docs/wallet.md, "NWC (NIP-47)".
import { join } from 'node:path';
import type { NostrClient } from '../../nostr/client.js';
import type { BuiltinWallet } from '../builtin.js';
import { NwcService, type NwcLog } from './service.js';
import { NwcStore } from './store.js';

export { NwcClient, type NwcClientOptions } from './client.js';
export { NwcConnectionError, NwcError, NwcRequestError, NwcTimeoutError } from './errors.js';
export { NwcService, SERVICE_ENCRYPTIONS, SERVICE_NOTIFICATIONS, type NwcLog, type NwcServiceOptions } from './service.js';
export { NwcStore, type NewConnection, type NwcConnectionRecord } from './store.js';
export { createConnection, NWC_HELP, runNwcCommand, type CreateConnectionOptions, type NwcCliContext } from './cli.js';
export { periodStart, renewsAt } from './budget.js';

/** The connections database beside the wallet's. */
export const nwcStorePath = (dataDir: string): string => join(dataDir, 'nwc.sqlite');

/**
 * Serves the built-in wallet over NWC on `client`'s relays: opens `<dataDir>/nwc.sqlite`, publishes
 * the info event and listens. stop() stops it and closes the store.
 */
export async function startNwcService(o: {
  client: NostrClient;
  wallet: BuiltinWallet;
  dataDir: string;
  /** The keystore's `nwc-service` secret. */
  serviceKey: Uint8Array;
  log?: NwcLog;
}): Promise<NwcService> {
  const store = NwcStore.open(nwcStorePath(o.dataDir));
  const service = new NwcService({
    client: o.client,
    wallet: o.wallet,
    store,
    serviceKey: o.serviceKey,
    listInvoices: (account, q) => o.wallet.ledger.accountInvoices(account, q),
    ownsStore: true,
    ...(o.log ? { log: o.log } : {}),
  });
  try {
    await service.start();
  } catch (err) {
    await service.stop();
    throw err;
  }
  return service;
}
