// Prometheus metrics for /metrics (prom-client, one Registry per instance: several instances in
// one process do not clash). Domain code does not know prom-client: the relay core, the LLM
// router, the job store and the auction port have small observer seams that this file subscribes
// to; balances, escrow, agents, circuits and reputation counts are read when Prometheus scrapes.
// The metric list with meanings is in docs/operations.md ("Metrics").
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { VOID_REASONS } from '../../nostr/auction.js';
import { IN_PROCESS_IP, type RelayCore } from '../../relay/core.js';
import type { Connection } from '../../relay/connection.js';
import { TERMINAL } from '../../dvm/jobs/states.js';
import type { AuctionOutcome } from '../../dvm/auction/coordinator.js';
import type { LlmRequestInfo } from '../../agents/llm/router.js';
import type { ServiceObservers, Services } from '../dvm.js';
import { accountLabel, LabelCap, rejectionReason } from './metric-labels.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const AUCTION_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];
const LLM_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
const VOICE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
const VOIDS: ReadonlySet<string> = new Set(VOID_REASONS);
/** Wallet balances are read once per scrape even though two gauges use them. */
const WALLET_CACHE_MS = 1000;

type WalletSnapshot = { at: number; sats: Map<string, number>; escrowSats: number };

export class Metrics implements ServiceObservers {
  readonly registry = new Registry();
  private services: Services | undefined;
  private core: RelayCore | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private ws = 0;
  private readonly wsConns = new WeakSet<Connection>();
  private wallet: WalletSnapshot | undefined;
  private readonly models = new LabelCap(32);
  /** How many memories are stored (the memory module sets it when it lands). */
  memoryCount: () => number = () => 0;

  private readonly c = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  private readonly h = <L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
    new Histogram<L>({ name, help, buckets, labelNames, registers: [this.registry] });

  // ---- jobs and auctions ----
  private readonly tasks = this.c('timmy_tasks_total', 'Jobs that reached a terminal state, by state and the persona of the agent that had the job ("none": no agent)', ['status', 'persona']);
  private readonly auctionSeconds = this.h('timmy_auction_duration_seconds', 'Time from opening an auction to its published result', AUCTION_BUCKETS);
  private readonly auctions = this.c('timmy_auctions_total', 'Auctions run, by result: awarded, no-winner (no valid bid), error', ['result']);
  private readonly bids = this.c('timmy_auction_bids_total', 'Auction bids: won, lost, or the reason a bid event was void (late, mismatch, low-score, ...)', ['result']);

  // ---- LLM ----
  private readonly llmRequests = this.c('timmy_llm_requests_total', 'Requests to LLM providers, by outcome (ok, error)', ['provider', 'result']);
  private readonly llmSeconds = this.h('timmy_llm_request_duration_seconds', 'Time an LLM provider took to answer (successful requests)', LLM_BUCKETS, ['provider', 'model']);
  private readonly llmTokens = this.c('timmy_llm_tokens_total', 'Tokens the LLM providers reported: in (prompt) and out (completion)', ['provider', 'direction']);

  // ---- relay ----
  private readonly relayEvents = this.c('timmy_relay_events_total', 'EVENTs answered by the embedded relay, accepted (OK true) or rejected', ['result']);
  private readonly relayRejected = this.c('timmy_relay_events_rejected_total', 'Rejected EVENTs by the NIP-01 prefix of the OK message (invalid, blocked, rate-limited, ...)', ['reason']);
  private readonly ingestSeconds = this.h('timmy_relay_ingest_duration_seconds', 'Time from receiving an EVENT to sending its OK (includes the commit)', LATENCY_BUCKETS);
  private readonly queries = this.c('timmy_relay_queries_total', 'REQs whose stored events were sent (EOSE)');
  private readonly querySeconds = this.h('timmy_relay_query_duration_seconds', 'Time from receiving a REQ to its EOSE', LATENCY_BUCKETS);

  private readonly voiceSeconds = this.h('timmy_voice_duration_seconds', 'Voice engine latency by engine and direction (stt, tts)', VOICE_BUCKETS, ['engine', 'direction']);

  constructor(o: { processMetrics?: boolean } = {}) {
    if (o.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.relayEvents.inc({ result: 'accepted' }, 0);
    this.relayEvents.inc({ result: 'rejected' }, 0);
    for (const result of ['won', 'lost']) this.bids.inc({ result }, 0);
    this.gauges();
  }

  /**
   * A metric read when Prometheus scrapes: `read` gives its current values, label set by label
   * set (a counter's values are totals kept elsewhere). A source that is gone leaves it empty.
   */
  private scraped(type: 'gauge' | 'counter', name: string, help: string, labelNames: readonly string[], read: () => Iterable<readonly [Record<string, string>, number]>): void {
    const collect = function (this: Gauge | Counter): void {
      this.reset();
      try {
        for (const [labels, v] of read()) {
          if (this instanceof Gauge) this.set(labels, v);
          else this.inc(labels, v);
        }
      } catch {
        // e.g. the wallet's database closed at shutdown
      }
    };
    if (type === 'gauge') new Gauge({ name, help, labelNames, registers: [this.registry], collect });
    else new Counter({ name, help, labelNames, registers: [this.registry], collect });
  }

  private gauges(): void {
    const agents = () => this.services?.swarm.agents ?? [];
    const one = (v: number | undefined) => (v === undefined ? [] : [[{}, v] as const]);
    this.scraped('gauge', 'timmy_ws_connections', 'Open websocket connections to the embedded relay', [], () => one(this.ws));
    this.scraped('gauge', 'timmy_relay_subscriptions', 'Open subscriptions on the embedded relay (in-process ones included)', [], () => one(this.core?.stats.subscriptions));
    this.scraped('gauge', 'timmy_memory_count', 'Memories stored (0 until the memory module exists)', [], () => one(this.memoryCount()));
    this.scraped('gauge', 'timmy_agent_health', 'Whether each agent is serving and heartbeating (1) or not (0)', ['persona'], () =>
      agents().map((a) => [{ persona: a.name }, a.alive() ? 1 : 0] as const),
    );
    this.scraped('gauge', 'timmy_agent_active_jobs', 'Jobs each agent is working on now', ['persona'], () => agents().map((a) => [{ persona: a.name }, a.active] as const));
    this.scraped('gauge', 'timmy_llm_circuit_state', 'Circuit breaker of each LLM provider: 0 closed, 1 half-open, 2 open', ['provider'], () =>
      (this.services?.llm.status() ?? []).map((p) => [{ provider: p.provider }, p.stateValue] as const),
    );
    this.scraped('gauge', 'timmy_lightning_balance_sats', 'Ledger balances in sats: fees, treasury, external, each agent:<name>, customers and users summed', ['account'], () =>
      [...(this.walletSnapshot()?.sats ?? [])].map(([account, sats]) => [{ account }, sats] as const),
    );
    this.scraped('gauge', 'timmy_escrow_sats', 'Sats held in job escrows', [], () => one(this.walletSnapshot()?.escrowSats));
    const labels = () => this.services?.reputation.book.stats();
    this.scraped('counter', 'timmy_reputation_labels_total', 'Job labels (NIP-32) the reputation book counted or ignored', ['result'], () => {
      const st = labels();
      if (!st) return [];
      const ignored = Object.values(st.ignored).reduce((a, b) => a + b, 0);
      return [[{ result: 'counted' }, st.counted], [{ result: 'ignored' }, ignored]] as const;
    });
    this.scraped('counter', 'timmy_reputation_labels_ignored_total', 'Ignored job labels by reason (wrong-namespace, bad-rating, self-label, ...)', ['reason'], () =>
      Object.entries(labels()?.ignored ?? {}).map(([reason, n]) => [{ reason }, n] as const),
    );
  }

  private walletSnapshot(): WalletSnapshot | undefined {
    const s = this.services;
    if (!s) return undefined;
    const now = Date.now();
    if (this.wallet && now - this.wallet.at < WALLET_CACHE_MS) return this.wallet;
    const sats = new Map<string, number>();
    let escrowMsat = 0;
    for (const b of s.wallet.ledger.balances()) {
      if (b.kind === 'escrow') escrowMsat += b.balanceMsat;
      const label = accountLabel(b.account, b.kind);
      if (label !== undefined) sats.set(label, (sats.get(label) ?? 0) + b.balanceMsat / 1000);
    }
    this.wallet = { at: now, sats, escrowSats: escrowMsat / 1000 };
    return this.wallet;
  }

  /** Subscribes to the embedded relay's core; call before any connection opens (ws_connections counts from here). */
  observeRelay(core: RelayCore): void {
    const accepted = this.relayEvents.labels('accepted');
    const rejected = this.relayEvents.labels('rejected');
    const h = core.hooks;
    h.onEventDone.push((ms, ok, message) => {
      if (ok) accepted.inc();
      else {
        rejected.inc();
        this.relayRejected.inc({ reason: rejectionReason(message) });
      }
      this.ingestSeconds.observe(ms / 1000);
    });
    h.onQueryDone.push((ms) => {
      this.queries.inc();
      this.querySeconds.observe(ms / 1000);
    });
    h.onConnect.push((c) => {
      if (c.ip === IN_PROCESS_IP) return;
      this.wsConns.add(c);
      this.ws++;
    });
    h.onDisconnect.push((c) => {
      if (this.wsConns.delete(c)) this.ws--;
    });
    this.core = core;
  }

  /** Subscribes to the job store and reads the services' state at scrape time. */
  observeServices(s: Services): void {
    this.services = s;
    this.unsubscribe.push(
      s.jobs.onChange((c) => {
        if (!TERMINAL.has(c.state)) return;
        const agent = s.jobs.get(c.id)?.agent;
        const persona = (agent && s.swarm.agents.find((a) => a.pubkey === agent)?.name) || 'none';
        this.tasks.inc({ status: c.state, persona });
      }),
    );
  }

  onLlmRequest(e: LlmRequestInfo): void {
    this.llmRequests.inc({ provider: e.provider, result: e.ok ? 'ok' : 'error' });
    if (!e.ok) return;
    this.llmSeconds.observe({ provider: e.provider, model: this.models.of(e.model ?? '') }, e.ms / 1000);
    if (e.tokensIn !== undefined) this.llmTokens.inc({ provider: e.provider, direction: 'in' }, e.tokensIn);
    if (e.tokensOut !== undefined) this.llmTokens.inc({ provider: e.provider, direction: 'out' }, e.tokensOut);
  }

  onAuction(ms: number, outcome?: AuctionOutcome): void {
    this.auctionSeconds.observe(ms / 1000);
    if (!outcome) return void this.auctions.inc({ result: 'error' });
    this.auctions.inc({ result: outcome.winner !== undefined ? 'awarded' : 'no-winner' });
    if (outcome.ranking.length > 0) this.bids.inc({ result: 'won' });
    if (outcome.ranking.length > 1) this.bids.inc({ result: 'lost' }, outcome.ranking.length - 1);
    for (const v of outcome.void) this.bids.inc({ result: VOIDS.has(v.reason) ? v.reason : 'other' });
  }

  /** For the voice module: one synthesis (tts) or transcription (stt). */
  observeVoice(engine: string, direction: 'stt' | 'tts', ms: number): void {
    this.voiceSeconds.observe({ engine, direction }, ms / 1000);
  }

  /** The exposition for GET /metrics. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.services = undefined;
  }
}
