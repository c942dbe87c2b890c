// Replication wiring (composition root): the embedded relay pulls the events federation needs from
// every relay a peer announces (relay/replicate.ts), so an agent's labels, profiles and auctions
// written on a peer's relay reach ours even when we do not share a relay with it.
import { WsClient } from '../nostr/ws-client.js';
import type { EmbeddedRelay } from '../relay/relay.js';
import { Replicator } from '../relay/replicate.js';
import { relayLocal } from '../relay/sync.js';
import type { Config } from './config.js';
import type { Federation } from './federation.js';
import type { ModuleLog } from './obs/logging.js';

export function startReplication(config: Config, relay: EmbeddedRelay, federation: Federation, log: ModuleLog): Replicator {
  const own = federation.info().relays.filter((u) => !config.relays.includes(u) && !config.federation.relays.includes(u));
  const r = new Replicator({
    local: relayLocal(relay),
    relays: () => [...new Set(federation.directory.peers().flatMap((p) => p.announcement.relays))],
    own,
    intervalMs: config.federation.replicate.intervalSeconds * 1000,
    connect: (url) => new WsClient([url], { publishTimeoutMs: 5000 }),
    onSync: (url, s) => (s.downloaded || s.rejected ? log.info('replication.synced', { relay: url, downloaded: s.downloaded, rejected: s.rejected, rounds: s.rounds, ms: Math.round(s.ms) }) : log.debug('replication.synced', { relay: url })),
    onError: (url, err) => log.warn('replication.failed', { relay: url, error: (err as Error).message }),
  });
  r.start();
  return r;
}
