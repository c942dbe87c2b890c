// Wires the agents, the wallet, the auction coordinator and the DVM together (composition root).
import { join } from 'node:path';
import type { NostrClient } from '../nostr/client.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { WsClient } from '../nostr/ws-client.js';
import { secretKeySigner } from '../nostr/signer.js';
import { getPublicKey } from '../nostr/verify.js';
import { Dvm, type Log } from '../dvm/service.js';
import { JobStore } from '../dvm/jobs/store.js';
import { AuctionCoordinator, type AuctionOutcome } from '../dvm/auction/coordinator.js';
import type { AgentPort, AuctionPort, PricePort, ReputationPort } from '../dvm/ports.js';
import type { BuiltinWallet } from '../wallet/builtin.js';
import type { WalletStatus } from '../web/deps.js';
import { openWallet } from '../wallet/select.js';
import { paymentPort } from '../wallet/payment-port.js';
import { readBolt11 } from '../wallet/bolt11.js';
import { startNwcService, type NwcService } from '../wallet/nwc/index.js';
import { NostrBolt12Payer, OfferService, type Bolt12Payer } from '../wallet/offers/index.js';
import { ReputationBook } from '../reputation/book.js';
import { ReputationService } from '../reputation/service.js';
import { minScoreFor, scoreParams } from '../reputation/config.js';
import { Keystore } from '../agents/identity/keystore.js';
import { defaultSwarm, loadPersonas } from '../agents/personas/loader.js';
import { builtinSkills } from '../agents/skills/index.js';
import { startAgentVoice, withoutMissingKinds, type AgentVoice } from './voice.js';
import { createLlmRouter } from '../agents/llm/config.js';
import type { LlmRequestInfo, LlmRouter } from '../agents/llm/router.js';
import { quoteJob, Swarm, type Agent } from '../agents/swarm.js';
import type { BidOutcome } from '../agents/bidding/bidder.js';
import type { Config } from './config.js';
import { openMemory, type OpenedMemory } from './memory.js';
import { startFederation, type Federation } from './federation.js';
import { memoryRecall } from '../agents/memory/search.js';
import { admitsOutsider, peerAuctionsFor } from '../dvm/federation/admission.js';
import { RemoteWork } from '../dvm/federation/remote-work.js';
import { Forwarder } from '../dvm/federation/forward.js';

/** Quotes leave room above the highest ask, so a learner that moved up a little still fits under the price. */
const QUOTE_HEADROOM = 1.25;

export interface Services {
  readonly keystore: Keystore;
  readonly wallet: BuiltinWallet;
  /** The wallet backend configured and the one serving (they differ after a fallback, with the reason). */
  readonly walletStatus: WalletStatus;
  readonly swarm: Swarm;
  readonly dvm: Dvm;
  /** The DVM's job store (this process's connection: its changes are announced live). */
  readonly jobs: JobStore;
  readonly reputation: ReputationService;
  readonly coordinatorPubkey: string;
  /** The LLM providers behind the skills (circuit states for metrics and the dashboard). */
  readonly llm: LlmRouter;
  /** The NWC wallet service (undefined with wallet.nwc.enabled false). */
  readonly nwc: NwcService | undefined;
  /** BOLT12 offers over Nostr: the agents' offers answered (service), and paying others' (payer). */
  readonly offers: { readonly service: OfferService; readonly payer: Bolt12Payer };
  /** The agents' voice (kinds 5000/5250) and the folder of generated audio that /voice/audio/ serves. */
  readonly voice: AgentVoice;
  /** The agents' semantic memory (undefined with memory.enabled false). */
  readonly memory: OpenedMemory | undefined;
  /** Announcement and peer directory (undefined with federation.enabled false). */
  readonly federation: Federation | undefined;
  close(): Promise<void>;
}

/** What main/obs/metrics.ts hears from inside the services; every method is optional. */
export interface ServiceObservers {
  onLlmRequest?(e: LlmRequestInfo): void;
  /** An auction ran for `ms`; no outcome when it failed. */
  onAuction?(ms: number, outcome?: AuctionOutcome): void;
}

export async function startServices(
  config: Config,
  client: NostrClient,
  o: {
    log: Log;
    relayUrl?: string;
    /** The embedded relay alone: where requests of kinds only peers serve are listened for. */
    ownClient?: NostrClient;
    keystoreLogN?: number;
    observers?: ServiceObservers;
  },
): Promise<Services> {
  const observe = o.observers ?? {};
  const keystore = Keystore.open({
    dataDir: config.dataDir,
    ...(process.env.TIMMY_SECRET ? { masterSecret: process.env.TIMMY_SECRET } : {}),
    ...(o.keystoreLogN !== undefined ? { logN: o.keystoreLogN } : {}),
    warn: (m) => o.log('warn', m),
  });
  const instanceKey = keystore.secret('instance');
  const coordinator = secretKeySigner(instanceKey);
  const coordinatorPubkey = getPublicKey(instanceKey);
  // wallet.backend: builtin, or LND (the built-in wallet when LND is down at start; wallet/select.ts).
  const opened = await openWallet({
    path: join(config.dataDir, 'wallet.sqlite'),
    nodeKey: keystore.secret('wallet-node'),
    config: config.wallet,
    log: (level, m) => o.log(level, m),
    // A job's escrow is held from payment to delivery: a chained input, then up to three agents' tries.
    escrowSeconds: config.dvm.chainTimeoutSeconds + 3 * config.dvm.jobTimeoutSeconds,
  });
  const wallet = opened.wallet;
  // Kinds 5000/5250 need a voice engine: without one they are skipped (logged), not fatal.
  const voice = await startAgentVoice(config, (level, m) => o.log(level, m));
  const personas = withoutMissingKinds(config.agents.personasDir ? loadPersonas(config.agents.personasDir) : defaultSwarm(), voice.missing, (m) => o.log('info', m));
  const llm = createLlmRouter(config.llm, process.env, observe.onLlmRequest ? { onRequest: (e) => observe.onLlmRequest?.(e) } : {});
  const memory = config.memory.enabled ? await openMemory(config.memory, config.dataDir, (level, m) => o.log(level, m)) : undefined;
  const skills = builtinSkills({
    llm,
    ...(o.relayUrl ? { relayHint: o.relayUrl } : {}),
    ...(voice.port ? { voice: voice.port } : {}),
    ...(memory ? { recall: memoryRecall(memory.store) } : {}),
  });
  // Cross-instance auctions (docs/federation.md): the directory comes with the federation, started
  // after the DVM; until then no outside agent is admitted and ours bid only here.
  let federation: Federation | undefined;
  const book = new ReputationBook({ params: scoreParams(config.reputation), readInvoice: readBolt11 });
  const publishElsewhere = async (relays: readonly string[], e: NostrEvent): Promise<void> => {
    const other = new WsClient(relays, { publishTimeoutMs: 5000 });
    try {
      await other.publish(e);
    } finally {
      await other.close();
    }
  };
  const remoteWork = config.federation.bidOnPeers
    ? new RemoteWork({
        client,
        jobTimeoutMs: config.dvm.jobTimeoutSeconds * 1000,
        chainTimeoutMs: config.dvm.chainTimeoutSeconds * 1000,
        publishElsewhere,
        log: o.log,
        // Paid jobs won in peers' auctions are invoiced to the agent's account (docs/federation.md).
        ...(wallet.capabilities.receiveExternal
          ? { invoice: async (agent: AgentPort, msat: number, description: string) => (await wallet.createInvoice({ amountMsat: msat, account: agent.account, description })).bolt11 }
          : {}),
      })
    : undefined;
  const swarm = new Swarm({
    client,
    keystore,
    personas,
    skills,
    coordinator: coordinatorPubkey,
    heartbeatSeconds: config.agents.heartbeatSeconds,
    network: wallet.network,
    ...(config.agents.nip05Domain ? { nip05Domain: config.agents.nip05Domain } : {}),
    ...(memory ? { memory: { store: memory.store, recallLimit: config.memory.recallLimit } } : {}),
    ...(remoteWork
      ? {
          peerCoordinators: (agent: string) => (federation ? peerAuctionsFor(federation.directory.peers(), book.score(agent)) : []),
          onPeerWin: (agent: Agent, won: BidOutcome) => {
            const jobId = won.result?.jobId;
            if (jobId && won.result) void remoteWork.run(agent, { coordinator: won.result.coordinator, jobId, ...(won.result.price !== undefined ? { price: won.result.price } : {}) });
          },
        }
      : {}),
    onError: (err, where) => o.log('warn', `${where}: ${(err as Error).message ?? String(err)}`),
  });
  // Reputation first: its book is filled from the relay's history before the DVM takes jobs.
  const reputation = new ReputationService({ client, book, onError: (err) => o.log('warn', `reputation: ${(err as Error).message}`) });
  await reputation.start();
  const reputationPort: ReputationPort = { score: (pk) => book.score(pk), minScore: (kind) => minScoreFor(config.reputation, kind) };
  const auctions = new AuctionCoordinator({ client, signer: coordinator, windows: config.dvm.auction });
  const local = new Set(swarm.agents.map((a) => a.pubkey));
  const outsider = (agent: string): boolean =>
    !local.has(agent) &&
    federation !== undefined &&
    admitsOutsider({ auctions: config.federation.auctions, minScore: config.federation.minScore, instanceOf: (pk) => federation?.directory.instanceOf(pk), score: (pk) => book.score(pk) }, agent);
  const auction: AuctionPort = {
    async run(job, { maxMsat, bidders, attempt = 0, scores, minScore }) {
      const units = Math.max(1, ...bidders.map((b) => b.skill(job.kind)?.units(quoteJob(job)) ?? 1));
      // Outside agents bid for jobs they can read (an encrypted request is addressed to one of ours):
      // free ones, and paid ones when our wallet can pay them over Lightning (the treasury fronts
      // the payment: docs/federation.md) and their instance announces it can be paid so.
      // Peers' agents get their score listed.
      const free = config.dvm.freeKinds.includes(job.kind);
      const payable = !free && config.federation.auctions !== 'closed' && (await payments.canPayPeer(maxMsat + config.dvm.feeMsat)) === null;
      const outsiders = config.federation.auctions !== 'closed' && !job.encryption && (free || payable);
      const lightning = (pk: string): boolean => federation?.directory.instanceOf(pk)?.announcement.lightning === true;
      const admit = (pk: string): boolean => local.has(pk) || (outsiders && outsider(pk) && (free || lightning(pk)));
      let listed = scores;
      if (outsiders && scores && federation) {
        const all = new Map(scores);
        for (const p of federation.directory.serving(job.kind)) for (const a of p.agents) if (a.kinds.includes(job.kind) && !all.has(a.pubkey)) all.set(a.pubkey, book.score(a.pubkey));
        listed = all;
      }
      // Each bidder records its own win or loss when it reads the result event.
      const scale = 4 ** attempt;
      const started = performance.now();
      const out = await auctions.open(
        { id: job.id, kind: job.kind, maxPrice: maxMsat, units: Math.ceil(units), ...(listed ? { scores: listed } : {}), ...(minScore !== undefined ? { minScore } : {}) },
        { commitMs: config.dvm.auction.commitMs * scale, revealMs: config.dvm.auction.revealMs * scale },
        admit,
      ).catch((err: unknown) => {
        observe.onAuction?.(performance.now() - started);
        throw err;
      });
      observe.onAuction?.(performance.now() - started, out);
      return { resultId: out.result.id, ranking: out.ranking.map((b) => ({ agent: b.agent, priceMsat: b.price })), pricePaidMsat: out.pricePaid ?? null };
    },
  };
  const payments = paymentPort(wallet, { treasuryFeePct: config.wallet.treasury.feePct });
  const pricing: PricePort = { quoteMsat: (req) => Math.ceil(swarm.quoteMsat(req) * QUOTE_HEADROOM) };
  const store = new JobStore(join(config.dataDir, 'dvm.sqlite'));
  // Forwarding (docs/federation.md): the peer directory starts after the DVM, so it is looked up lazily.
  const fwd = config.federation.forward;
  const forwarder =
    config.federation.enabled && fwd.enabled
      ? new Forwarder({
          directory: {
            peers: () => federation?.directory.peers() ?? [],
            serving: (k) => federation?.directory.serving(k) ?? [],
            get: (pk) => federation?.directory.get(pk),
          },
          signer: coordinator,
          connect: (relays) => new WsClient(relays, { publishTimeoutMs: 5000 }),
          config: fwd,
          freeKinds: config.dvm.freeKinds,
          payExternal: wallet.capabilities.payExternal,
          score: (pk) => book.score(pk),
          known: (id) => store.get(id) !== undefined,
          ...(o.relayUrl ? { relayHint: o.relayUrl } : {}),
        })
      : undefined;
  // Requests of kinds only peers serve are heard on our own relay only (docs/federation.md, "Forwarding").
  // Without an embedded relay, our own relay is the first of `relays`.
  const ownWs = forwarder && !o.ownClient && o.relayUrl ? new WsClient([o.relayUrl]) : undefined;
  const listen = forwarder ? (o.ownClient ?? ownWs ?? client) : undefined;
  const dvm = new Dvm({
    client,
    store,
    agents: swarm.agents,
    payments,
    auction,
    pricing,
    reputation: reputationPort,
    coordinator,
    config: config.dvm,
    log: o.log,
    // A request's `relays` tag: results and feedback go there too, over a short-lived connection.
    publishElsewhere,
    outside: outsider,
    ...(forwarder && listen ? { forward: { forwarder, listen } } : {}),
    mediaMaxBytes: config.voice.maxUploadBytes,
  });
  // The wallet served over NWC to the apps connected with `timmy wallet nwc add` (wallet/nwc/).
  const nwc = config.wallet.nwc.enabled
    ? await startNwcService({ client, wallet, dataDir: config.dataDir, serviceKey: keystore.secret('nwc-service'), log: (level, msg) => level !== 'debug' && o.log(level, `nwc: ${msg}`) })
    : undefined;
  // Invoice requests for the agents' BOLT12 offers (wallet/offers/), listened for before the offers are announced.
  const offerService = new OfferService({ client, wallet, owners: swarm.agents.map((a) => a.offerOwner()), log: (level, msg) => level !== 'debug' && o.log(level, `offers: ${msg}`) });
  await offerService.start().catch((err: unknown) => o.log('warn', `offers: not answering invoice requests: ${(err as Error).message}`));
  const offers = { service: offerService, payer: new NostrBolt12Payer({ client, wallet }) };
  await swarm.start();
  await dvm.start();
  // After the agents have announced their handlers (which vouch for this instance).
  federation = config.federation.enabled
    ? await startFederation({ config, client, signer: coordinator, swarm, lightning: wallet.capabilities.payExternal && wallet.capabilities.receiveExternal, ...(o.relayUrl ? { relayUrl: o.relayUrl } : {}), log: (level, m) => o.log(level, m) })
    : undefined;
  return {
    keystore,
    wallet,
    walletStatus: { configured: config.wallet.backend, serving: opened.backend, ...(opened.fallback !== null ? { reason: opened.fallback } : {}) },
    swarm,
    dvm,
    jobs: store,
    llm,
    reputation,
    coordinatorPubkey,
    nwc,
    offers,
    voice,
    memory,
    federation,
    async close() {
      remoteWork?.stop();
      await federation?.close();
      offerService.stop();
      await nwc?.stop();
      await dvm.stop();
      await ownWs?.close();
      reputation.stop();
      await swarm.stop();
      await voice.close();
      store.close();
      await memory?.close();
      await opened.close();
    },
  };
}
