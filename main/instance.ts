// The composition root: builds the instance from config. For now: the embedded relay (or the
// configured remote relays) and the NostrClient through which the rest of Timmy will talk to it.
import type { Config } from './config.js';
import type { NostrClient } from '../nostr/client.js';
import { WsClient } from '../nostr/ws-client.js';
import { EmbeddedRelay } from '../relay/relay.js';
import { InProcessClient } from '../relay/inprocess-client.js';
import { serveRelay, type RelayServer } from '../relay/server.js';
import { VERSION } from './version.js';

export interface Instance {
  /** One line per listener, e.g. `relay listening on ws://127.0.0.1:7777`. */
  readonly listeners: string[];
  /** Other facts worth one line at start (printed to stderr). */
  readonly notes: string[];
  readonly relay: EmbeddedRelay | undefined;
  /** How the instance's own code reaches Nostr: in-process to the embedded relay, or websockets. */
  readonly client: NostrClient;
  close(): Promise<void>;
}

export async function startInstance(config: Config): Promise<Instance> {
  if (!config.embeddedRelay) {
    if (config.relays.length === 0) throw new Error('embeddedRelay is false and no relays are configured: set "relays" in the config');
    const client = new WsClient(config.relays);
    return {
      listeners: [],
      notes: [`using remote relays: ${config.relays.join(', ')}`],
      relay: undefined,
      client,
      async close() {
        await client.close();
      },
    };
  }
  const relay = await EmbeddedRelay.open(config.relay, config.dataDir);
  let server: RelayServer;
  try {
    server = await serveRelay(relay, { host: config.host, port: config.port, version: VERSION });
  } catch (err) {
    await relay.close();
    throw err;
  }
  const client = await InProcessClient.open(relay);
  return {
    listeners: [`relay listening on ${server.url}`],
    notes: config.relays.length > 0 ? [`also configured: ${config.relays.join(', ')} (used from the federation issue on)`] : [],
    relay,
    client,
    async close() {
      await client.close();
      await server.close();
      await relay.close();
    },
  };
}
