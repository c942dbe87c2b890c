// Federation wiring (composition root, docs/federation.md): this instance's announcement (kind
// 31280) refreshed on the federation relays, and the directory of peer instances read from them.
// The federation relays are `federation.relays`, else the top-level `relays`; the embedded relay
// always carries both (a peer on the same machine can use it as the shared relay).
import type { NostrClient } from '../nostr/client.js';
import { MultiClient } from '../nostr/multi-client.js';
import type { Signer } from '../nostr/signer.js';
import { WsClient } from '../nostr/ws-client.js';
import type { InstanceInfo } from '../nostr/timmy-instance.js';
import { InstanceAnnouncer } from '../dvm/federation/announce.js';
import { PeerDirectory } from '../dvm/federation/directory.js';
import type { Swarm } from '../agents/swarm.js';
import type { Config } from './config.js';
import { VERSION } from './version.js';

export interface Federation {
  readonly directory: PeerDirectory;
  readonly announcer: InstanceAnnouncer;
  /** What we announce now. */
  info(): InstanceInfo;
  close(): Promise<void>;
}

export function federationRelays(config: Config): string[] {
  return config.federation.relays.length ? config.federation.relays : config.relays;
}

export async function startFederation(o: {
  config: Config;
  client: NostrClient;
  signer: Signer;
  swarm: Swarm;
  /** The wallet pays and receives over Lightning (announced: paid jobs cross instances). */
  lightning?: boolean;
  /** The embedded relay's URL (announced when no public `relay.url` is configured). */
  relayUrl?: string;
  log: (level: 'info' | 'warn', msg: string) => void;
}): Promise<Federation> {
  const { config } = o;
  const remote = federationRelays(config).filter((r) => !config.relays.includes(r));
  // The instance client already reaches the embedded relay and `relays`; other federation relays get their own connection.
  const extra = remote.length ? new WsClient(remote, { publishTimeoutMs: 5000 }) : undefined;
  const client = extra ? new MultiClient([o.client, extra]) : o.client;
  const publicRelay = config.relay.url ?? o.relayUrl;
  const info = (): InstanceInfo => ({
    name: config.federation.name ?? config.relay.name,
    software: 'timmy',
    version: VERSION,
    relays: [...new Set([...(publicRelay ? [publicRelay] : []), ...federationRelays(config)])],
    ...(config.web.publicUrl ? { http: config.web.publicUrl } : {}),
    agents: o.swarm.agents.map((a) => ({
      pubkey: a.pubkey,
      name: a.name,
      kinds: [...a.persona.kinds],
      askMsat: Object.fromEntries(a.persona.kinds.map((k) => [String(k), a.bidder.priceFor(1)])),
    })),
    auctions: config.federation.auctions,
    ...(config.federation.auctions === 'open' ? { minScore: config.federation.minScore } : {}),
    // Free jobs of kinds no agent here serves go to peers (docs/federation.md, "Forwarding").
    forwarding: config.federation.forward.enabled,
    ...(o.lightning ? { lightning: true } : {}),
  });
  const directory = new PeerDirectory({
    client,
    self: await o.signer.getPublicKey(),
    onChange: (peers) => o.log('info', `federation: ${peers.length} peer instance(s) known`),
  });
  await directory.start();
  const announcer = new InstanceAnnouncer({
    client,
    signer: o.signer,
    info,
    intervalSeconds: config.federation.announceSeconds,
    onError: (err) => o.log('warn', `federation: announcement not published: ${(err as Error).message}`),
  });
  await announcer.start().catch((err: unknown) => o.log('warn', `federation: announcement not published: ${(err as Error).message}`));
  return {
    directory,
    announcer,
    info,
    async close() {
      await announcer.stop().catch(() => undefined);
      directory.stop();
      await extra?.close();
    },
  };
}
