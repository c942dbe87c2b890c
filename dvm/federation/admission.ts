// Who takes part in whose auctions across instances (docs/federation.md, "Cross-instance auctions").
// As coordinator: `federation.auctions` says which outside agents may bid in ours. As a peer's
// bidder: `federation.bidOnPeers` lets our agents answer the auctions of peers that admit them.
import type { AuctionAccess } from '../../nostr/timmy-instance.js';
import type { Peer } from './directory.js';

export interface Admission {
  readonly auctions: AuctionAccess;
  readonly minScore: number;
  /** The vouched agents' instance (PeerDirectory.instanceOf). */
  readonly instanceOf: (agent: string) => Peer | undefined;
  /** The agent's reputation score here (ReputationPort.score). */
  readonly score: (agent: string) => number;
}

/**
 * Whether an agent that is not ours may bid in our auctions: never when `closed`; with `peers`,
 * the vouched agents of the peers in our directory; with `open`, any agent whose score here is at
 * least `minScore`.
 */
export function admitsOutsider(a: Admission, agent: string): boolean {
  if (a.auctions === 'peers') return a.instanceOf(agent) !== undefined;
  if (a.auctions === 'open') return a.score(agent) >= a.minScore;
  return false;
}

/**
 * The coordinators of the peers whose auctions our agent may bid in: those announcing `peers`, and
 * those announcing `open` with a minScore our agent's score (as we compute it: labels are
 * portable, docs/reputation.md) meets. An `open` announcement without a minScore is skipped.
 */
export function peerAuctionsFor(peers: readonly Peer[], agentScore: number): string[] {
  return peers
    .filter((p) => p.announcement.auctions === 'peers' || (p.announcement.auctions === 'open' && p.announcement.minScore !== undefined && agentScore >= p.announcement.minScore))
    .map((p) => p.pubkey);
}
