// GET /api/peers: the peer directory as JSON (public: it is what the federation relays carry).
import { npubEncode } from '../../nostr/nip19.js';
import type { Peer } from '../../dvm/federation/directory.js';
import type { WebContext } from '../context.js';
import { sendJson, type Router } from '../http.js';

export const livePeers = (ctx: WebContext): Peer[] => [...(ctx.deps.app?.peers?.() ?? [])];

export function peerView(p: Peer) {
  const a = p.announcement;
  return {
    pubkey: p.pubkey,
    npub: npubEncode(p.pubkey),
    name: a.name,
    software: a.software,
    version: a.version,
    relays: a.relays,
    http: a.http ?? null,
    auctions: a.auctions,
    minScore: a.minScore ?? null,
    forwarding: a.forwarding,
    createdAt: a.createdAt,
    expiresAt: a.expiresAt,
    announcedAgents: a.agents.length,
    agents: p.agents,
    kinds: [...new Set(p.agents.flatMap((x) => x.kinds))].sort((x, y) => x - y),
  };
}

export function registerPeersApi(r: Router, ctx: WebContext): void {
  r.get('/api/peers', (c) => {
    sendJson(c.res, 200, { enabled: ctx.deps.app?.peers !== undefined, peers: livePeers(ctx).map(peerView) });
  });
}
