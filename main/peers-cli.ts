// `timmy peers`: the Timmy instances announced (kind 31280) on the embedded relay's database, or on
// the relays given with --relay, with the agents that vouch for them and the kinds they serve.
import { join } from 'node:path';
import type { NostrClient } from '../nostr/client.js';
import { WsClient } from '../nostr/ws-client.js';
import { npubEncode } from '../nostr/nip19.js';
import { PeerDirectory, type Peer } from '../dvm/federation/directory.js';
import { Keystore } from '../agents/identity/keystore.js';
import { getPublicKey } from '../nostr/verify.js';
import { parseFlags } from './flags.js';
import { StoreQueryClient } from './store-client.js';
import type { Config } from './config.js';

export const PEERS_HELP = `Usage: timmy peers [options]

Lists the other Timmy instances this one knows: their announcements (kind 31280) that have not
expired or been withdrawn, with the agents that vouch for them (docs/federation.md).

Options:
  --relay <url>              read announcements from this relay (repeatable) instead of the
                             embedded relay's database
  --json                     machine-readable output
  --data-dir <dir>           where data lives (default ./data)   env TIMMY_DATA_DIR
  --config <file>            JSON config file`;

function selfPubkey(config: Config): string {
  try {
    const ks = Keystore.open({ dataDir: config.dataDir, ...(process.env.TIMMY_SECRET ? { masterSecret: process.env.TIMMY_SECRET } : {}), warn: () => undefined });
    return getPublicKey(ks.secret('instance'));
  } catch {
    return '';
  }
}

const ago = (s: number): string => (s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`);

export function formatPeer(p: Peer, now: number): string[] {
  const a = p.announcement;
  return [
    `${a.name}  ${npubEncode(p.pubkey)}  ${a.software} ${a.version}  announced ${ago(now - a.createdAt)} ago, expires in ${ago(a.expiresAt - now)}`,
    `  kinds ${p.agents.length ? [...new Set(p.agents.flatMap((x) => x.kinds))].join(', ') : '(no agent vouches for it)'}; auctions ${a.auctions}${a.auctions === 'open' ? ` (min score ${a.minScore ?? 0})` : ''}; forwarding ${a.forwarding ? 'yes' : 'no'}`,
    `  relays ${a.relays.join(' ') || '-'}${a.http ? `; ${a.http}` : ''}`,
    ...p.agents.map((x) => `  agent ${x.name} ${npubEncode(x.pubkey)} kinds ${x.kinds.join(',')}`),
  ];
}

export async function peersCommand(config: Config, argv: readonly string[]): Promise<string[]> {
  const f = parseFlags(argv, ['relay'], ['json']);
  const relays = f.values.get('relay') ?? [];
  const client: NostrClient = relays.length ? new WsClient(relays, { publishTimeoutMs: 5000 }) : new StoreQueryClient(join(config.dataDir, 'relay.sqlite'));
  try {
    const now = Math.floor(Date.now() / 1000);
    const peers = await new PeerDirectory({ client, self: selfPubkey(config) }).load();
    if (f.bools.has('json')) return [JSON.stringify(peers.map((p) => ({ ...p.announcement, event: undefined, vouchedAgents: p.agents })), null, 2)];
    if (peers.length === 0) return ['no peers known (no live instance announcements on these relays)'];
    return peers.flatMap((p) => formatPeer(p, now));
  } finally {
    await client.close();
  }
}
