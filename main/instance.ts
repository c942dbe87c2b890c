// The composition root: builds the instance from config. For now: the embedded relay.
import type { Config } from './config.js';
import { EmbeddedRelay } from '../relay/relay.js';
import { serveRelay } from '../relay/server.js';
import { VERSION } from './version.js';

export interface Instance {
  readonly listeners: string[];
  readonly relayUrl: string | undefined;
  readonly relay: EmbeddedRelay | undefined;
  close(): Promise<void>;
}

export async function startInstance(config: Config): Promise<Instance> {
  if (!config.embeddedRelay) {
    return { listeners: [], relayUrl: config.relays[0], relay: undefined, close: async () => undefined };
  }
  const relay = await EmbeddedRelay.open(config.relay, config.dataDir);
  let server;
  try {
    server = await serveRelay(relay, { host: config.host, port: config.port, version: VERSION });
  } catch (err) {
    await relay.close();
    throw err;
  }
  return {
    listeners: [`relay listening on ${server.url}`],
    relayUrl: server.url,
    relay,
    async close() {
      await server.close();
      await relay.close();
    },
  };
}
