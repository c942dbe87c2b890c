// What the DVM needs from the rest of the instance, as small interfaces ("ports"). The composition
// root (main/) adapts the wallet, the auction coordinator and the agents to them, so dvm/ depends
// on no implementation and tests can wire real parts together freely.
import type { NostrEvent } from '../nostr/nip01.js';
import type { JobRequest } from '../nostr/nip90.js';
import type { Signer } from '../nostr/signer.js';
import type { Skill } from './skill.js';

/** One agent as the DVM sees it. */
export interface AgentPort {
  readonly name: string;
  readonly pubkey: string;
  readonly signer: Signer;
  /** The skill for a request kind, if the agent serves it. */
  skill(kind: number): Skill | undefined;
  /** False once the agent missed its heartbeats or was stopped: its jobs are reassigned. */
  alive(): boolean;
  /** Decrypts content addressed to this agent (NIP-44 v2 or NIP-04), or throws. */
  decrypt(peer: string, content: string, scheme: 'nip04' | 'nip44'): string;
  /** Encrypts content for a peer with the given scheme. */
  encrypt(peer: string, content: string, scheme: 'nip04' | 'nip44'): string;
  /** The agent's wallet account, credited when it delivers. */
  readonly account: string;
  /** True while the agent is at capacity: with every capable agent busy, a job may be forwarded to a peer. */
  busy?(): boolean;
  /** Told when the agent starts and ends a job (load for heartbeats; success rate for its price learner). */
  jobStarted?(): void;
  jobEnded?(outcome: 'succeeded' | 'failed' | 'cancelled'): void;
}

export interface Invoice {
  readonly bolt11: string;
  readonly paymentHash: string;
}

/** The wallet as the DVM uses it: invoices into escrow, then release or refund. */
export interface PaymentPort {
  /** An invoice whose payment is held in escrow for `jobId`. */
  invoiceForJob(jobId: string, amountMsat: number, description: string): Promise<Invoice>;
  /** Resolves true once the invoice is paid (false if it expired or was cancelled). */
  waitPaid(paymentHash: string, signal: AbortSignal): Promise<boolean>;
  isPaid(paymentHash: string): Promise<boolean>;
  /** A paid invoice and its preimage (the proof of payment a job label carries), or null. */
  proof?(paymentHash: string): Promise<{ bolt11: string; preimage: string } | null>;
  /** Pays `agentMsat` of the job's escrow to the agent's account and the rest to the instance's fees. Idempotent per job. */
  release(jobId: string, agentAccount: string, agentMsat: number): Promise<void>;
  /** Returns the job's escrow to whoever paid it. Idempotent per job. */
  refund(jobId: string, reason: string): Promise<void>;

  // Paying other instances (docs/federation.md, "Paid jobs between instances"); absent: only free
  // jobs cross instances.
  /** Null when `amountMsat` (routing fee limit included) can be paid to another node now; the reason when not. */
  canPayPeer?(amountMsat: number): Promise<string | null>;
  /** Null when a peer's `bolt11` asks exactly `amountMsat`, on our network, unexpired; the reason when not. */
  checkPeerInvoice?(bolt11: string, amountMsat: number): Promise<string | null>;
  /** Pays a peer's invoice (fronted by the treasury), at most once per invoice; resolves once it settled. */
  payPeer?(bolt11: string, maxFeeMsat: number, signal: AbortSignal): Promise<{ feeMsat: number; preimage: string }>;
  /** Releases the job's escrow: `msat` to pay back what the peer got, the rest to the instance's fees. Idempotent. */
  reimburse?(jobId: string, msat: number): Promise<void>;
}

export interface RankedBid {
  readonly agent: string;
  readonly priceMsat: number;
}

export interface AuctionOutcome {
  /** The auction result event's id (for the record). */
  readonly resultId: string | null;
  /** Valid bids, best first. */
  readonly ranking: readonly RankedBid[];
  /** What the winner is paid: the second-lowest valid price, or its own when alone. */
  readonly pricePaidMsat: number | null;
}

export interface AuctionPort {
  /** Runs a sealed-bid second-price auction among `bidders` (agent pubkeys) for the job. */
  /** `attempt` counts from 0; a re-run after an auction without valid bids should give bidders longer windows. */
  /** `scores` and `minScore` go into the auction open event, so anyone re-checking it reaches the same winner. */
  run(
    job: JobRequest,
    o: { maxMsat: number; bidders: readonly AgentPort[]; signal: AbortSignal; attempt?: number; scores?: ReadonlyMap<string, number>; minScore?: number },
  ): Promise<AuctionOutcome>;
}

/** Agents' reputation as the DVM uses it: scores from the instance's reputation book. */
export interface ReputationPort {
  /** The agent's score, 0..1 (docs/reputation.md). */
  score(pubkey: string): number;
  /** The least score an agent needs to take part in an auction for this request kind. */
  minScore(kind: number): number;
}

/** Pricing: what the customer is asked to pay for a job, before the auction (the reserve price). */
export interface PricePort {
  quoteMsat(job: JobRequest, agents: readonly AgentPort[]): number;
}

export type { NostrEvent };
