// The composition root: builds the instance from config. For now: the embedded relay (or the
// configured remote relays) and the NostrClient through which the rest of Timmy will talk to it.
import type { Config } from './config.js';
import type { NostrClient } from '../nostr/client.js';
import { WsClient } from '../nostr/ws-client.js';
import { MultiClient } from '../nostr/multi-client.js';
import { EmbeddedRelay } from '../relay/relay.js';
import { InProcessClient } from '../relay/inprocess-client.js';
import { serveRelay, type RelayServer } from '../relay/server.js';
import { VERSION } from './version.js';
import { startServices, type Services } from './dvm.js';
import { startWebServer, type WebServer } from '../web/server.js';
import { readBolt11 } from '../wallet/bolt11.js';
import { COORDINATOR_NAME, coordinatorProfileTemplate, Zaps } from '../agents/zaps.js';
import { llmIntentRouter } from '../agents/voice-intents.js';
import { startReplication } from './replication.js';
import { secretKeySigner } from '../nostr/signer.js';
import { FEES } from '../wallet/accounts.js';
import type { RelayStats } from '../web/deps.js';
import { relayStatsOf } from './relay-stats.js';
import { readiness } from './obs/health.js';
import { Metrics } from './obs/metrics.js';
import type { Logger } from 'pino';
import { createLogger, moduleLog, type ModuleLog } from './obs/logging.js';
import { claimPidfile } from './pidfile.js';

export interface Instance {
  /** One line per listener, e.g. `relay listening on ws://127.0.0.1:7777`. */
  readonly listeners: string[];
  /** Other facts worth one line at start (printed to stderr). */
  readonly notes: string[];
  readonly relay: EmbeddedRelay | undefined;
  /** The embedded relay's URL, or the first remote relay. */
  readonly relayUrl: string | undefined;
  /** How the instance's own code reaches Nostr: in-process to the embedded relay, or websockets. */
  readonly client: NostrClient;
  /** Agents, wallet and DVM (absent with `agents.enabled: false`). */
  readonly services: Services | undefined;
  close(): Promise<void>;
}

/** The DVM's `Log` on a module logger: event name plus context (job ids and the like). */
const dvmLog =
  (l: ModuleLog) =>
  (level: 'info' | 'warn' | 'error', msg: string, ctx?: Record<string, unknown>): void =>
    l[level](msg, ctx);

/** What the upper layers get from the lower ones (the relay, when embedded). */
interface UpperOptions {
  readonly relayUrl: string | undefined;
  readonly relayStats: (() => Promise<RelayStats>) | undefined;
  readonly relay: EmbeddedRelay | undefined;
  /** The embedded relay alone (no remote relays), when embedded. */
  readonly own?: NostrClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Agents + DVM + the HTTP server on top of a NostrClient; listeners and a close function. */
async function startUpper(config: Config, client: NostrClient, up: UpperOptions): Promise<{ services?: Services; web?: WebServer; listeners: string[]; close(): Promise<void> }> {
  const { relayUrl, relayStats, relay } = up;
  if (!config.agents.enabled) return { listeners: [], close: async () => undefined };
  const services = await startServices(config, client, {
    log: dvmLog(moduleLog(up.logger, 'dvm')),
    observers: up.metrics,
    ...(relayUrl ? { relayUrl } : {}),
    ...(up.own ? { ownClient: up.own } : {}),
  });
  up.metrics.observeServices(services);
  // A job's path, one line per state change, with its id carried in the context.
  const jobLog = moduleLog(up.logger, 'job');
  const webLog = moduleLog(up.logger, 'web');
  services.jobs.onChange((c) => jobLog.info(`job.${c.state}`, { job: c.id, kind: c.kind, reason: c.reason }));
  let web: WebServer;
  const names = () => Object.fromEntries(services.swarm.agents.map((a) => [a.name, a.pubkey]));
  // Zaps (NIP-57) to the agents: LNURL-pay on the HTTP server, receipts when the invoices are paid.
  const zapLog = moduleLog(up.logger, 'zaps');
  const coordinator = { name: COORDINATOR_NAME, pubkey: services.coordinatorPubkey, signer: secretKeySigner(services.keystore.secret('instance')), account: FEES };
  const zaps = new Zaps({
    wallet: services.wallet,
    recipients: () => [...services.swarm.agents, coordinator],
    jobs: services.jobs,
    client,
    ownRelays: () => (relayUrl ? [relayUrl] : config.relays),
    publishElsewhere: async (relays, e) => {
      const other = new WsClient(relays, { publishTimeoutMs: 5000 });
      try {
        await other.publish(e);
      } finally {
        await other.close();
      }
    },
    log: (level, msg, ctx) => zapLog[level](msg, ctx),
  });
  zaps.start();
  // The coordinator's lightning address, for clients that zap its payment-required feedback (best effort).
  if (config.agents.nip05Domain) {
    coordinator.signer
      .signEvent(coordinatorProfileTemplate(config.agents.nip05Domain, Math.floor(Date.now() / 1000)))
      .then((e) => client.publish(e))
      .catch((err: unknown) => zapLog.warn('coordinator profile not published', { error: (err as Error).message }));
  }
  try {
    web = await startWebServer({
      host: config.host,
      port: config.httpPort,
      config: config.web,
      names,
      relays: () => (relayUrl ? [relayUrl] : config.relays),
      zapDomain: () => config.agents.nip05Domain,
      l402RootKey: services.keystore.secret('l402'),
      voiceAudio: services.voice.store,
      // /voice/* on the dashboard's port: the same engines and VAD as the agents' 5000/5250 (main/voice.ts).
      ...(services.voice.service ? { voice: services.voice.service } : { voiceOff: config.voice.enabled ? 'no engine could be chosen' : 'voice.enabled is false in the config' }),
      log: (level, event, context) => webLog[level](event, context),
      ...(relayUrl ? { relayUrl } : {}),
      ...(relayStats ? { relayStats } : {}),
      obs: {
        metrics: () => up.metrics.expose(),
        ready: readiness({ relay, dataDir: config.dataDir, services }),
      },
      app: {
        client,
        swarm: services.swarm,
        dvm: services.dvm,
        jobs: services.jobs,
        wallet: services.wallet,
        walletStatus: services.walletStatus,
        book: services.reputation.book,
        coordinatorPubkey: services.coordinatorPubkey,
        readInvoice: readBolt11,
        zaps,
        ...(services.memory ? { memory: services.memory.store } : {}),
        ...(services.federation ? { peers: () => services.federation!.directory.peers() } : {}),
        // Voice commands: the language model when it answers, the rules otherwise (agents/voice-intents.ts).
        intents: llmIntentRouter(services.llm),
        publish: async (e) => {
          const r = await client.publish(e);
          return { ok: r.ok, message: r.relays.map((a) => a.message).join('; ') };
        },
      },
    });
  } catch (err) {
    zaps.stop();
    await services.close();
    throw err;
  }
  // 5250 results link to audio on this server: now its URL is known (port 0 picks one at start).
  services.voice.setBaseUrl(config.web.publicUrl ?? web.url);
  const replicator = relay && services.federation && config.federation.replicate.enabled ? startReplication(config, relay, services.federation, moduleLog(up.logger, 'federation')) : undefined;
  return {
    services,
    web,
    listeners: [`dashboard on ${web.url}`, `agents: ${services.swarm.agents.map((a) => a.name).join(', ')}`],
    async close() {
      await replicator?.stop();
      await web.close();
      zaps.stop();
      up.metrics.close();
      await services.close();
    },
  };
}

/** A listener line (printed on stdout), as opposed to a note (stderr). */
const isListener = (l: string): boolean => l.includes('listening on') || l.startsWith('dashboard on');

/** Starts the instance; `<dataDir>/timmy.pid` names this process while it runs (main/pidfile.ts). */
export async function startInstance(config: Config, o: { logger?: Logger } = {}): Promise<Instance> {
  const release = claimPidfile(config.dataDir);
  let inst: Instance;
  try {
    inst = await startParts(config, o);
  } catch (err) {
    release();
    throw err;
  }
  const close = inst.close.bind(inst);
  return {
    ...inst,
    async close() {
      try {
        await close();
      } finally {
        release();
      }
    },
  };
}

async function startParts(config: Config, o: { logger?: Logger }): Promise<Instance> {
  const logger = o.logger ?? createLogger(config.log);
  const metrics = new Metrics();
  if (!config.embeddedRelay) {
    if (config.relays.length === 0) throw new Error('embeddedRelay is false and no relays are configured: set "relays" in the config');
    const client = new WsClient(config.relays);
    const upper = await startUpper(config, client, { relayUrl: undefined, relayStats: undefined, relay: undefined, logger, metrics });
    return {
      listeners: upper.listeners.filter(isListener),
      notes: [`using remote relays: ${config.relays.join(', ')}`, ...upper.listeners.filter((l) => !isListener(l))],
      relay: undefined,
      relayUrl: config.relays[0],
      client,
      services: upper.services,
      async close() {
        await upper.close();
        await client.close();
      },
    };
  }
  const relay = await EmbeddedRelay.open(config.relay, config.dataDir);
  metrics.observeRelay(relay.core); // before any connection opens
  const relayLog = moduleLog(logger, 'relay');
  relay.core.hooks.onError.push((where, err) => relayLog.error('relay.internal-error', { where, error: err instanceof Error ? err.message : String(err) }));
  relay.core.hooks.onDrop.push((c, buffered) => relayLog.warn('relay.client-dropped', { ip: c.ip, buffered, reason: 'not reading fast enough' }));
  let server: RelayServer;
  try {
    server = await serveRelay(relay, { host: config.host, port: config.port, version: VERSION });
  } catch (err) {
    await relay.close();
    throw err;
  }
  const inProcess = await InProcessClient.open(relay);
  // With remote relays configured too, the instance hears and publishes on both.
  const client: NostrClient = config.relays.length > 0 ? new MultiClient([inProcess, new WsClient(config.relays)]) : inProcess;
  let upper;
  try {
    upper = await startUpper(config, client, { relayUrl: server.url, relayStats: relayStatsOf(relay), relay, own: inProcess, logger, metrics });
  } catch (err) {
    await client.close();
    await server.close();
    await relay.close();
    throw err;
  }
  return {
    listeners: [`relay listening on ${server.url}`, ...upper.listeners.filter(isListener)],
    notes: [
      ...upper.listeners.filter((l) => !isListener(l)),
      ...(config.relays.length > 0 ? [`also using remote relays: ${config.relays.join(', ')}`] : []),
    ],
    relay,
    relayUrl: server.url,
    client,
    services: upper.services,
    async close() {
      await upper.close();
      await client.close();
      await server.close();
      await relay.close();
    },
  };
}
