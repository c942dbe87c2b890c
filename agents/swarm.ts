// The swarm: the running agents of an instance. Each agent has its key (Keystore), its persona
// (data), its skills, a Bidder that takes part in auctions through the relay, and a heartbeat.
// The DVM sees each agent through the AgentPort interface (dvm/ports.ts).
import type { NostrClient, Subscription } from '../nostr/client.js';
import type { NostrEvent } from '../nostr/nip01.js';
import type { Signer } from '../nostr/signer.js';
import type { AgentPort } from '../dvm/ports.js';
import type { Skill, SkillJob } from '../dvm/skill.js';
import type { JobRequest } from '../nostr/nip90.js';
import { Bidder, type BidOutcome } from './bidding/bidder.js';
import { PriceLearner } from './bidding/learner.js';
import { HEARTBEAT_KIND, isAlive, parseHeartbeat, type Heartbeat } from './events.js';
import { startHeartbeat, type HeartbeatHandle } from './heartbeat.js';
import { announceAgent } from './identity/announce.js';
import { agentOffer, offerKeyName } from './identity/offer.js';
import { buildHandlerInfo } from '../nostr/nip89.js';
import type { AgentCipher, Keystore } from './identity/keystore.js';
import type { Persona } from './personas/schema.js';
import { skillsFor, type SkillRegistry } from './skills/index.js';
import type { Network } from '../wallet/bolt11.js';
import type { OfferOwner } from '../wallet/offers/issuer.js';
import type { MemoryStore } from '../memory/store.js';
import { withMemory } from './memory/skill.js';
import { rememberSkills } from './memory/procedural.js';

/** Jobs an agent works on at once before it counts as busy (announced in its heartbeats). */
export const AGENT_CAPACITY = 4;

export interface SwarmOptions {
  readonly client: NostrClient;
  readonly keystore: Keystore;
  readonly personas: readonly Persona[];
  readonly skills: SkillRegistry;
  /** Only auctions opened by this pubkey are answered (the instance's coordinator). */
  readonly coordinator: string;
  readonly heartbeatSeconds?: number;
  readonly nip05Domain?: string;
  /** The wallet's network, for the agents' BOLT12 offers (default regtest). */
  readonly network?: Network;
  readonly onError?: (err: unknown, where: string) => void;
  /** Semantic memory: agents recall before and remember after each job, and know their skills. */
  readonly memory?: { readonly store: MemoryStore; readonly recallLimit: number };
  /** Peer instances' coordinators whose auctions this agent may bid in too (federation.bidOnPeers); asked at each auction. */
  readonly peerCoordinators?: (agent: string) => readonly string[];
  /** An agent won an auction opened by another coordinator than ours: the work is ours to do (dvm/federation/remote-work.ts). */
  readonly onPeerWin?: (agent: Agent, won: BidOutcome) => void;
}

/** Units of work a job represents for pricing, from the request as it arrived (inputs unresolved). */
export function quoteJob(req: JobRequest): SkillJob {
  return {
    request: req,
    inputs: req.inputs.map((i) => ({ ...i, text: i.data })),
    param: (n) => req.params.find(([k]) => k === n)?.[1],
  };
}

export class Agent implements AgentPort {
  readonly name: string;
  readonly pubkey: string;
  readonly signer: Signer;
  readonly account: string;
  readonly bidder: Bidder;
  /** The agent's BOLT12 offer (`lno1…`), in its profile and handler announcement. */
  readonly offer: string;
  private readonly offerKey: Uint8Array;
  private readonly skills = new Map<number, Skill>();
  private readonly cipher: AgentCipher;
  private heartbeat: HeartbeatHandle | undefined;
  private running = false;
  active = 0;

  constructor(
    readonly persona: Persona,
    private readonly swarm: Swarm,
    o: SwarmOptions,
  ) {
    this.name = persona.name;
    this.pubkey = o.keystore.publicKey(persona.name);
    this.signer = o.keystore.signerFor(persona.name);
    this.cipher = o.keystore.cipherFor(persona.name);
    this.account = `agent:${persona.name}`;
    this.offerKey = o.keystore.secret(offerKeyName(persona.name));
    this.offer = agentOffer(persona, this.offerKey, { network: o.network ?? 'regtest', nip05Domain: o.nip05Domain });
    for (const s of skillsFor(persona, o.skills)) {
      const m = o.memory;
      this.skills.set(s.kind, m ? withMemory(s, { store: m.store, agentPubkey: this.pubkey, recallLimit: m.recallLimit, onError: (err, where) => o.onError?.(err, `${where} (${persona.name})`) }) : s);
    }
    this.bidder = new Bidder({
      client: o.client,
      signer: this.signer,
      kinds: persona.kinds,
      cost: persona.pricing,
      learner: new PriceLearner(persona.bidding),
      coordinators: o.peerCoordinators ? () => [o.coordinator, ...o.peerCoordinators!(this.pubkey)] : [o.coordinator],
      units: (open) => open.units ?? 1,
      onBid: (b) => {
        if (b.won && b.result && b.result.coordinator !== o.coordinator) o.onPeerWin?.(this, b);
      },
      onError: (err) => o.onError?.(err, `bidder ${persona.name}`),
    });
  }

  skill(kind: number): Skill | undefined {
    return this.running ? this.skills.get(kind) : undefined;
  }

  /** Serving and heartbeating, and (when heartbeats are watched) not reported gone. */
  alive(): boolean {
    return this.running && this.swarm.heartbeatAlive(this.pubkey);
  }

  decrypt(peer: string, content: string, scheme: 'nip04' | 'nip44'): string {
    return this.cipher.decrypt(peer, content, scheme);
  }

  encrypt(peer: string, content: string, scheme: 'nip04' | 'nip44'): string {
    return this.cipher.encrypt(peer, content, scheme);
  }

  /** What the instance's offer service needs to answer invoice requests for this agent's offer. */
  offerOwner(): OfferOwner {
    return {
      pubkey: this.pubkey,
      signer: this.signer,
      encrypt: (peer, text) => this.cipher.encrypt(peer, text, 'nip44'),
      decrypt: (peer, text) => this.cipher.decrypt(peer, text, 'nip44'),
      offer: this.offer,
      offerKey: this.offerKey,
      account: this.account,
    };
  }

  jobStarted(): void {
    this.active++;
  }

  /** At capacity (the `capacity` its heartbeats announce): new jobs of its kinds may go to a peer instance. */
  busy(): boolean {
    return this.active >= AGENT_CAPACITY;
  }

  jobEnded(outcome: 'succeeded' | 'failed' | 'cancelled'): void {
    this.active = Math.max(0, this.active - 1);
    if (outcome !== 'cancelled') this.bidder.recordJob(outcome === 'succeeded');
  }

  /** The agent's current ask for a job, msat (what the DVM uses to quote). */
  ask(req: JobRequest): number | undefined {
    const s = this.skills.get(req.kind);
    if (!s) return undefined;
    return this.bidder.priceFor(Math.max(1, s.units(quoteJob(req))));
  }

  async start(o: SwarmOptions): Promise<void> {
    this.running = true;
    await this.bidder.start();
    this.heartbeat = startHeartbeat({
      signer: this.signer,
      client: o.client,
      kinds: this.persona.kinds,
      intervalSec: o.heartbeatSeconds ?? 30,
      load: () => ({ active: this.active, capacity: AGENT_CAPACITY }),
      onError: (err) => o.onError?.(err, `heartbeat ${this.name}`),
    });
    await announceAgent(this.persona, this.signer, o.client, { offer: this.offer, ...(o.nip05Domain ? { nip05Domain: o.nip05Domain, lud16: `${this.name}@${o.nip05Domain}` } : {}) }).catch((err: unknown) =>
      o.onError?.(err, `announce ${this.name}`),
    );
    await this.announceHandler(o).catch((err: unknown) => o.onError?.(err, `NIP-89 ${this.name}`));
    if (o.memory) await rememberSkills(o.memory.store, this.pubkey, [...this.skills.values()]).catch((err: unknown) => o.onError?.(err, `procedural memory ${this.name}`));
  }

  /**
   * NIP-89: each agent announces itself as the handler of the kinds it serves (kind 31990, d = its
   * name), so DVM clients find it; a new announcement replaces the old one when the persona changes.
   */
  private async announceHandler(o: SwarmOptions): Promise<void> {
    const p = this.persona;
    const e = await this.signer.signEvent(
      buildHandlerInfo({
        d: p.name,
        kinds: p.kinds,
        instance: o.coordinator,
        metadata: {
          name: p.displayName,
          about: p.about,
          ...(p.picture ? { picture: p.picture } : {}),
          ...(o.nip05Domain ? { nip05: `${p.name}@${o.nip05Domain}` } : {}),
          encryptionSupported: true,
          bolt12: this.offer,
        },
      }),
    );
    const r = await o.client.publish(e);
    if (!r.ok) throw new Error(`no relay took the handler announcement: ${r.relays.map((x) => x.message).join('; ')}`);
  }

  /** Stops bidding and heartbeats (an `offline` beat tells others at once). */
  async stop(): Promise<void> {
    this.running = false;
    this.bidder.stop();
    await this.heartbeat?.stop();
  }
}

export class Swarm {
  readonly agents: Agent[];
  private readonly beats = new Map<string, Heartbeat>();
  private sub: Subscription | undefined;
  private watching = false;

  /** The domain of the agents' NIP-05 names, if configured. */
  get nip05Domain(): string | undefined {
    return this.o.nip05Domain;
  }

  constructor(private readonly o: SwarmOptions) {
    this.agents = o.personas.filter((p) => p.enabled).map((p) => new Agent(p, this, o));
  }

  /** Heartbeat liveness as seen on the relay; true until heartbeats are being watched. */
  heartbeatAlive(pubkey: string): boolean {
    if (!this.watching) return true;
    const h = this.beats.get(pubkey);
    return h !== undefined && isAlive(h, Math.floor(Date.now() / 1000));
  }

  async start(): Promise<void> {
    // Watch heartbeats first, so each agent's first beat is seen.
    this.sub = this.o.client.subscribe([{ kinds: [HEARTBEAT_KIND], authors: this.agents.map((a) => a.pubkey), limit: 0 }], {
      onEvent: (e: NostrEvent) => {
        const h = parseHeartbeat(e);
        const prev = this.beats.get(e.pubkey);
        if (h && (!prev || prev.createdAt <= h.createdAt)) this.beats.set(e.pubkey, h);
      },
    });
    for (const a of this.agents) await a.start(this.o);
    this.watching = true;
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.stop()));
    this.sub?.close();
  }

  /** The reserve price of a job: the highest ask among the agents that serve it. */
  quoteMsat(req: JobRequest): number {
    const asks = this.agents.filter((a) => a.skill(req.kind)).map((a) => a.ask(req) ?? 0);
    return asks.length ? Math.max(...asks) : 0;
  }
}
