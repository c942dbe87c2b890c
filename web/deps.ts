// What the web layer is given by the composition root (main/instance.ts). Everything below web/
// may be used directly (the layering allows it); grouping it here keeps the wiring in one place.
import type { NostrClient } from '../nostr/client.js';
import type { NostrEvent } from '../nostr/nip01.js';
import type { Swarm } from '../agents/swarm.js';
import type { Dvm } from '../dvm/service.js';
import type { JobStore } from '../dvm/jobs/store.js';
import type { BuiltinWallet } from '../wallet/builtin.js';
import type { ReputationBook } from '../reputation/book.js';
import type { ReadOptions } from '../reputation/labels.js';
import type { WebConfig } from './config.js';
import type { AudioFiles } from './voice-audio.js';
import type { IntentRouter } from '../voice/nlu.js';
import type { Zaps } from '../agents/zaps.js';
import type { VoiceService } from '../voice/service.js';
import type { MemoryStore } from '../memory/store.js';
import type { Peer } from '../dvm/federation/directory.js';

export interface RelayStats {
  readonly connections: number;
  readonly subscriptions: number;
  readonly eventsAccepted: number;
  readonly eventsRejected: number;
  /** Bytes of the database files (main + WAL). */
  readonly storageBytes: number;
  /** Stored events by kind, most first (cached, recomputed at most every few seconds). */
  readonly topKinds: readonly { kind: number; count: number }[];
  readonly storedEvents: number;
}

/** Which wallet backend was configured (wallet.backend) and which one serves; a reason when it fell back (wallet/select.ts). */
export interface WalletStatus {
  readonly configured: string;
  readonly serving: string;
  readonly reason?: string;
}

/** The running instance's parts, present when the agents run (`agents.enabled`). */
export interface AppDeps {
  readonly client: NostrClient;
  readonly swarm: Swarm;
  readonly dvm: Dvm;
  readonly jobs: JobStore;
  readonly wallet: BuiltinWallet;
  /** Configured and serving wallet backend; without it the wallet's own info().backend counts as both. */
  readonly walletStatus?: WalletStatus;
  readonly book: ReputationBook;
  readonly coordinatorPubkey: string;
  readonly readInvoice: ReadOptions['readInvoice'];
  /** The agents' LNURL-pay and zap receipts (web/lnurl.ts); without it those paths answer 404. */
  readonly zaps?: Zaps;
  /** Peer instances from the federation directory (dvm/federation/); absent with federation off. */
  readonly peers?: () => readonly Peer[];
  /** The agents' semantic memory (memory/store.ts); absent with memory.enabled false. */
  readonly memory?: MemoryStore;
  /** Voice commands to intents (agents/voice-intents.ts: the LLM, the rules behind it); default the rules. */
  readonly intents?: IntentRouter;
  /** Publishes through the instance's client (embedded relay first); ok and the relays' messages. */
  publish(e: NostrEvent): Promise<{ ok: boolean; message: string }>;
}

/** One check of /readyz: what it looked at and whether it is fine. */
export interface HealthCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface HealthReport {
  readonly ok: boolean;
  readonly checks: readonly HealthCheck[];
}

/** Observability the composition root provides (main/obs/). */
export interface ObsDeps {
  /** Prometheus text exposition of every metric. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** /readyz: relay writable, wallet reachable (or fallen back), agents heartbeating. */
  ready(): Promise<HealthReport>;
}

/** A module logger (main/obs/logging.ts): event name and context. */
export type WebLog = (level: 'debug' | 'info' | 'warn' | 'error', event: string, context?: Record<string, unknown>) => void;

export interface WebDeps {
  readonly host: string;
  readonly port: number;
  readonly config: WebConfig;
  /** name -> hex pubkey, read on every request so that a changed swarm shows at once. */
  readonly names: () => Readonly<Record<string, string>>;
  readonly relays: () => readonly string[];
  /** The domain of the agents' lightning addresses (agents.nip05Domain); default: the request's host. */
  readonly zapDomain?: () => string | undefined;
  /** The embedded relay's websocket URL as printed at start. */
  readonly relayUrl?: string;
  readonly relayStats?: () => Promise<RelayStats>;
  readonly app?: AppDeps;
  readonly obs?: ObsDeps;
  readonly log?: WebLog;
  /** The root key of L402 macaroons (keystore.secret('l402')); without it the paid endpoints answer 503. */
  readonly l402RootKey?: Uint8Array;
  /** Generated speech (5250 results) served at /voice/audio/<sha256>.wav (web/voice-audio.ts). */
  readonly voiceAudio?: AudioFiles;
  /** Speech in and out (voice/service.ts, web/voice.ts); without it /voice/* answer 503 with `voiceOff` as the reason. */
  readonly voice?: WebVoice;
  readonly voiceOff?: string;
}

/** What the web layer uses of the voice service. */
export type WebVoice = Pick<VoiceService, 'info' | 'transcribe' | 'speak' | 'stream'>;
