// The DVM front door: NIP-90 requests in, feedback and results out, every job driven through the
// persisted state machine (dvm/jobs). Agents, wallet and auctions come in through ports.
import type { NostrClient, Subscription } from '../nostr/client.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { buildFeedback, buildJobResult, parseJobRequest, type FeedbackStatus, type JobRequest } from '../nostr/nip90.js';
import type { Signer } from '../nostr/signer.js';
import type { DvmConfig } from './config.js';
import { resolveInputs } from './inputs.js';
import type { JobRow, JobStore } from './jobs/store.js';
import type { AgentPort, AuctionPort, PaymentPort, PricePort, RankedBid, ReputationPort } from './ports.js';
import { jobLabelTemplate, type Outcome } from '../reputation/labels.js';
import { SkillError, type SkillJob } from './skill.js';
import { isTerminal } from './jobs/states.js';
import { JobTraces } from './tracing.js';
import { awaitOutsideResult } from './federation/outside-result.js';
import type { Span } from '@opentelemetry/api';
import { ForwardError, FORWARDED_TAG, type Forwarded, type Forwarder, type ForwardRecord, type Quote } from './federation/forward.js';
import type { Peer } from './federation/directory.js';

export type Log = (level: 'info' | 'warn' | 'error', msg: string, ctx?: Record<string, unknown>) => void;

export interface DvmDeps {
  readonly client: NostrClient;
  readonly store: JobStore;
  readonly agents: readonly AgentPort[];
  readonly payments: PaymentPort;
  readonly auction: AuctionPort;
  readonly pricing: PricePort;
  /** Signs the coordinator's feedback (payment-required, errors). */
  readonly coordinator: Signer;
  readonly config: DvmConfig;
  /** Scores for eligibility and ties in auctions; without it every agent may bid. */
  readonly reputation?: ReputationPort;
  readonly log?: Log;
  /** Publishes to the relays a request's `relays` tag names (besides our own). */
  readonly publishElsewhere?: (relays: readonly string[], e: NostrEvent) => Promise<void>;
  /** Whether an agent that is not ours may have won our auction (a peer's, docs/federation.md): it then delivers itself. */
  readonly outside?: (agent: string) => boolean;
  /**
   * Forwarding to peer instances (docs/federation.md, "Forwarding"): jobs of kinds no agent here
   * serves go to the forwarder. Requests of kinds only peers serve are listened for on `listen`
   * (our own relay): one seen on a shared relay is seen by the peers that serve it too.
   */
  readonly forward?: { readonly forwarder: Forwarder; readonly listen: NostrClient };
  /** The largest audio/video/binary input a skill is handed (voice.maxUploadBytes; default 25 MB). */
  readonly mediaMaxBytes?: number;
}

class JobFailed extends Error {
  override name = 'JobFailed';
}

/** Auctions run for one job before it fails for want of a valid bid (each re-run has 4x the windows). */
const AUCTION_ATTEMPTS = 3;
const RERUN = 'no valid bid in time: the auction is run again';

/** How long stop() waits for aborted job steps to settle. */
const STOP_GRACE_MS = 5000;

/** Resolves like `p`, or with undefined as soon as `signal` aborts (`p` then runs on, its outcome ignored). */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => undefined);
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** A counting semaphore whose waiters give up when their signal aborts. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const go = () => {
        signal.removeEventListener('abort', stop);
        resolve(true);
      };
      const stop = () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(false);
      };
      this.waiting.push(go);
      signal.addEventListener('abort', stop, { once: true });
    });
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export class Dvm {
  private readonly running = new Map<string, AbortController>();
  private readonly auctionSlots: Slots;
  /** The step loops under way, so stop() can let them settle before the stores close. */
  private readonly steps = new Set<Promise<void>>();
  private subs: Subscription[] = [];
  /** The subscription to the kinds only peers serve, and which kinds it covers. */
  private peerSub: { sub: Subscription; key: string } | undefined;
  private localKinds: Set<number> | undefined;
  private approvalTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly log: Log;
  /** Each job in progress has a `timmy.job` span (a no-op unless tracing is on). */
  private readonly traces = new JobTraces();

  constructor(private readonly d: DvmDeps) {
    this.log = d.log ?? (() => undefined);
    this.auctionSlots = new Slots(d.config.maxConcurrentAuctions);
  }

  /** Request kinds served by at least one agent. */
  kinds(): number[] {
    const ks = new Set<number>();
    for (const a of this.d.agents) for (let k = 5000; k < 6000; k++) if (a.skill(k)) ks.add(k);
    return [...ks].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const kinds = this.kinds();
    const since = Math.floor(Date.now() / 1000) - this.d.config.lookbackSeconds;
    this.subs.push(this.d.client.subscribe([{ kinds, since }], { onEvent: (e) => void this.onRequest(e) }));
    this.subs.push(this.d.client.subscribe([{ kinds: [5], since }], { onEvent: (e) => this.onDeletion(e) }));
    for (const job of this.d.store.unfinished()) {
      // Record the resumption where the state machine allows it (bidding -> bidding: the auction is
      // run again; executing -> executing: the work is resumed unless its result is already out).
      if (job.state === 'bidding') this.d.store.transition(job.id, 'bidding', 'resumed after a restart: the auction is run again');
      if (job.state === 'executing') this.d.store.transition(job.id, 'executing', 'resumed after a restart');
      this.drive(job.id, 'resumed after restart');
    }
    // A job is recorded failed or cancelled before its money goes back (the job store and the wallet
    // are two databases), so a crash in between left a paid job's escrow held, or its invoice open,
    // with no step to come back to it (found by the chaos run, test/chaos). Finish those refunds now:
    // the wallet's refund is keyed by job and does nothing the second time.
    const ended = this.d.store.endedWithInvoice();
    if (ended.length > 0) {
      const p: Promise<void> = (async () => {
        for (const job of ended) {
          if (this.stopped) return;
          await this.refundIfPaid(job.id, `${job.state} before a restart`).catch((err: unknown) =>
            this.log('error', 'finishing a refund after a restart failed', { job: job.id, error: (err as Error).message }),
          );
          if (this.traces.open(job.id)) this.traces.end(job.id, this.d.store.get(job.id)?.state ?? job.state);
        }
      })().finally(() => this.steps.delete(p));
      this.steps.add(p);
    }
    // Approvals are written by the CLI (another process) straight into the job store.
    this.approvalTimer = setInterval(() => {
      this.pickUpApprovals();
      this.listenForPeerKinds();
    }, 500);
    this.approvalTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.approvalTimer) clearInterval(this.approvalTimer);
    for (const s of this.subs) s.close();
    this.peerSub?.sub.close();
    for (const c of this.running.values()) c.abort(new Error('the instance is stopping'));
    this.running.clear();
    // Aborted steps end at their next wait; give them a moment so none touches a closed store.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.steps]), new Promise((r) => (timer = setTimeout(r, STOP_GRACE_MS)))]);
    clearTimeout(timer);
    this.traces.endAll('the instance is stopping');
  }

  /** Keeps a subscription (on our own relay) to the request kinds peers serve and no agent here does. */
  private listenForPeerKinds(): void {
    const f = this.d.forward;
    if (!f || this.stopped) return;
    const local = (this.localKinds ??= new Set(this.kinds()));
    const kinds = f.forwarder.peerKinds().filter((k) => !local.has(k) && k >= 5000 && k < 6000);
    const key = kinds.join(',');
    if (this.peerSub?.key === key) return;
    this.peerSub?.sub.close();
    this.peerSub = undefined;
    if (kinds.length === 0) return;
    const since = Math.floor(Date.now() / 1000) - this.d.config.lookbackSeconds;
    this.peerSub = { key, sub: f.listen.subscribe([{ kinds, since }], { onEvent: (e) => void this.onRequest(e) }) };
  }

  private addressedAgent(req: NostrEvent): AgentPort | undefined {
    const ps = req.tags.filter((t) => t[0] === 'p').map((t) => t[1]);
    return this.d.agents.find((a) => ps.includes(a.pubkey));
  }

  private async onRequest(e: NostrEvent): Promise<void> {
    if (this.stopped || this.d.store.get(e.id)) return;
    const ps = e.tags.filter((t) => t[0] === 'p').map((t) => t[1]);
    const addressed = this.addressedAgent(e);
    if (ps.length > 0 && !addressed) return; // addressed to other service providers
    const decryptor = addressed ?? this.d.agents[0];
    const ingest = this.traces.ingest(e.id, e.kind);
    const parsed = parseJobRequest(e, (content, scheme) => {
      try {
        return decryptor?.decrypt(e.pubkey, content, scheme);
      } catch {
        return undefined;
      }
    });
    const created = this.d.store.create({ id: e.id, kind: e.kind, customer: e.pubkey, request: JSON.stringify(e) }, 'request received');
    ingest.end();
    if (!created) return this.traces.end(e.id, 'received'); // a duplicate that raced us
    if (!parsed.ok) {
      this.d.store.transition(e.id, 'failed', `invalid request: ${parsed.reason}`);
      this.traces.fail(e.id, new JobFailed(`invalid request: ${parsed.reason}`));
      await this.feedbackRaw(e, 'error', `invalid request: ${parsed.reason}`);
      this.traces.end(e.id, 'failed');
      return;
    }
    this.drive(e.id, 'new request');
  }

  private onDeletion(e: NostrEvent): void {
    for (const t of e.tags) {
      if (t[0] !== 'e' || !t[1]) continue;
      const job = this.d.store.get(t[1]);
      if (!job || job.customer !== e.pubkey) continue; // only the customer may cancel
      if (['delivered', 'failed', 'cancelled', 'refunded'].includes(job.state)) continue;
      this.running.get(job.id)?.abort(new Error('cancelled by the customer'));
      this.cancel(job.id, 'cancelled by the customer (NIP-09 deletion)').catch((err: unknown) =>
        this.log('error', 'cancelling a job failed', { job: job.id, error: (err as Error).message }),
      );
    }
  }

  private async cancel(id: string, reason: string): Promise<void> {
    const job = this.d.store.get(id);
    if (!job || ['delivered', 'failed', 'cancelled', 'refunded'].includes(job.state)) return;
    this.d.store.transition(id, 'cancelled', reason);
    await this.refundIfPaid(id, reason);
    await this.withdrawForward(id, reason);
    this.traces.end(id, this.d.store.get(id)?.state ?? 'cancelled');
  }

  /** Operator approval (CLI/API): moves a job waiting for approval on. */
  approve(id: string, by: string): void {
    const job = this.d.store.get(id);
    if (!job || job.state !== 'awaiting-approval') throw new Error(`job ${id} is not waiting for approval`);
    this.d.store.transition(id, job.priceMsat > 0 ? 'awaiting-payment' : 'bidding', `approved by ${by}`);
    this.drive(id, 'approved');
  }

  private pickUpApprovals(): void {
    for (const job of this.d.store.unfinished()) {
      if (!this.running.has(job.id) && job.state !== 'awaiting-approval') this.drive(job.id, 'picked up');
    }
  }

  private request(job: JobRow): JobRequest {
    const e = JSON.parse(job.request) as NostrEvent;
    const decryptor = this.addressedAgent(e) ?? this.d.agents[0];
    const r = parseJobRequest(e, (c, s) => decryptor?.decrypt(e.pubkey, c, s));
    if (!r.ok) throw new JobFailed(`invalid request: ${r.reason}`);
    return r.value;
  }

  /** Runs the job's state machine from its current state until it waits or ends. */
  private drive(id: string, why: string): void {
    if (this.running.has(id) || this.stopped) return;
    const ctl = new AbortController();
    this.running.set(id, ctl);
    this.log('info', 'job step', { job: id, why });
    const p: Promise<void> = this.step(id, ctl.signal)
      .catch(async (err: unknown) => {
        if (ctl.signal.aborted) return; // cancelled or stopping: cancel() or a restart takes over
        const job = this.d.store.get(id);
        if (!job || ['delivered', 'failed', 'cancelled', 'refunded'].includes(job.state)) return;
        const msg = err instanceof SkillError || err instanceof JobFailed ? err.message : `internal error: ${(err as Error).message}`;
        this.log('warn', 'job failed', { job: id, reason: msg });
        this.traces.fail(id, err);
        this.d.store.transition(id, 'failed', msg);
        await this.errorFeedback(job, msg).catch(() => undefined);
        await this.refundIfPaid(id, msg);
        await this.withdrawForward(id, msg);
      })
      .catch((err: unknown) => this.log('error', 'job step could not record its failure', { job: id, error: (err as Error).message }))
      .finally(() => {
        if (this.running.get(id) === ctl) this.running.delete(id);
        // Aborted: cancel() or stop() ends the job's span. Otherwise it ends when the job does.
        if (!ctl.signal.aborted && this.traces.open(id)) {
          const st = this.d.store.get(id)?.state;
          if (st && isTerminal(st)) this.traces.end(id, st);
        }
        this.steps.delete(p);
      });
    this.steps.add(p);
  }

  private async step(id: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      if (signal.aborted) return;
      const job = this.d.store.get(id);
      if (!job) return;
      switch (job.state) {
        case 'received':
          await this.traces.span(job, 'timmy.quote', {}, (s) => this.onReceived(job, signal, s));
          break;
        case 'awaiting-approval':
          return; // approve() or the CLI moves it on
        case 'awaiting-payment':
          if (!(await this.traces.span(job, 'timmy.payment', { 'timmy.price_msat': job.priceMsat }, () => this.awaitPayment(job, signal)))) return;
          break;
        case 'bidding':
          await this.traces.span(job, 'timmy.auction', {}, (s) => this.runAuction(job, signal, s));
          break;
        case 'assigned':
        case 'executing':
          if (job.forwardedTo) await this.runForwarded(job, signal);
          else await this.execute(job, signal);
          break;
        default:
          return;
      }
    }
  }

  private capable(kind: number): AgentPort[] {
    return this.d.agents.filter((a) => a.alive() && a.skill(kind));
  }

  private async onReceived(job: JobRow, signal: AbortSignal, span?: Span): Promise<void> {
    const req = this.request(job);
    const agents = this.capable(req.kind);
    if (agents.length === 0) return this.toForward(job, req, signal, `no agent here serves kind ${req.kind} right now`);
    // All busy: a peer instance that serves the kind may take it now (else it waits for ours).
    if (agents.every((a) => a.busy?.())) {
      const plan = this.d.forward?.forwarder.plan(req);
      if (plan?.ok) return this.toForward(job, req, signal, `every agent here serving kind ${req.kind} is busy`, plan);
    }
    // Before any payment: a job no agent here is reputable enough for is refused at once.
    this.eligible(req, agents);
    const free = this.d.config.freeKinds.includes(req.kind);
    const price = free ? 0 : this.d.pricing.quoteMsat(req, agents) + this.d.config.feeMsat;
    if (req.bidMsat !== undefined && price > req.bidMsat) {
      // Cheaper elsewhere: a peer instance may do it within the bid (docs/federation.md, "Forwarding").
      const plan = free ? undefined : this.d.forward?.forwarder.plan(req);
      if (plan?.ok) return this.toForward(job, req, signal, `our price of ${price} msat is above the bid of ${req.bidMsat} msat`, plan);
      throw new JobFailed(`the price is ${price} msat, above your bid of ${req.bidMsat} msat`);
    }
    const needsApproval =
      this.d.config.approvalKinds.includes(req.kind) || (this.d.config.approvalAboveMsat !== undefined && price > this.d.config.approvalAboveMsat);
    const next = needsApproval ? 'awaiting-approval' : price > 0 ? 'awaiting-payment' : 'bidding';
    span?.setAttributes({ 'timmy.price_msat': price, 'timmy.job.next': next });
    this.d.store.transition(job.id, next, needsApproval ? 'waits for operator approval' : price > 0 ? `priced at ${price} msat` : 'free job', {
      priceMsat: price,
    });
    if (needsApproval) await this.feedback(this.d.store.get(job.id)!, 'processing', 'waiting for the operator to approve this job');
  }

  private async awaitPayment(job: JobRow, signal: AbortSignal): Promise<boolean> {
    let hash = job.paymentHash;
    if (!hash) {
      const inv = await this.d.payments.invoiceForJob(job.id, job.priceMsat, `Timmy job ${job.id.slice(0, 12)} (kind ${job.kind})`);
      hash = inv.paymentHash;
      this.d.store.update(job.id, { invoice: inv.bolt11, paymentHash: inv.paymentHash });
      await this.feedback(this.d.store.get(job.id)!, 'payment-required', 'pay this invoice to start the job', {
        amountMsat: job.priceMsat,
        bolt11: inv.bolt11,
      });
    }
    // The deadline runs from when the job started waiting, not from this call: a restart resumes the
    // wait with what is left of it. (Re-armed in full at every start, an unpaid job outlived any
    // number of crashes that came more often than the timeout; found by the chaos run, test/chaos.)
    const since = this.d.store.transitions(job.id).findLast((t) => t.to === 'awaiting-payment')?.at ?? Date.now();
    const full = this.d.config.paymentTimeoutSeconds * 1000;
    const timeout = AbortSignal.timeout(Math.min(full, Math.max(0, full - (Date.now() - since))));
    let paid: boolean;
    try {
      paid = (await this.d.payments.isPaid(hash)) || (await this.d.payments.waitPaid(hash, AbortSignal.any([signal, timeout])));
    } catch (err) {
      if (signal.aborted) return false;
      // waitPaid rejects with the signal's reason: our timeout means the customer did not pay, not an internal error.
      if (!timeout.aborted) throw err;
      paid = false;
    }
    if (signal.aborted) return false;
    // Paid by a zap instead (agents/zaps.ts): that payment cancelled this invoice and recorded its own on the job.
    const now = this.d.store.get(job.id)?.paymentHash;
    if (!paid && now && now !== hash) paid = await this.d.payments.isPaid(now);
    if (!paid) throw new JobFailed('the invoice was not paid in time');
    this.d.store.transition(job.id, 'bidding', now !== hash ? 'paid by a zap' : 'paid');
    return true;
  }

  private async runAuction(job: JobRow, signal: AbortSignal, span?: Span): Promise<void> {
    const req = this.request(job);
    const capable = this.capable(req.kind);
    if (capable.length === 0 || job.forwardedTo) return this.forwardTo(job, req);
    const { bidders, scores, minScore } = this.eligible(req, capable);
    const max = job.priceMsat > 0 ? job.priceMsat - this.d.config.feeMsat : (req.bidMsat ?? Number.MAX_SAFE_INTEGER);
    // The auction port may not honour the signal: stop waiting for it when the job is cancelled or the instance stops.
    const attempt = this.d.store.transitions(job.id).filter((t) => t.from === 'bidding' && t.to === 'bidding' && t.reason.startsWith(RERUN)).length;
    // Backpressure: a saturated event loop makes bids miss their windows, so only so many auctions run at once.
    span?.setAttributes({ 'timmy.auction.attempt': attempt, 'timmy.auction.bidders': bidders.length, 'timmy.auction.max_msat': max });
    if (!(await this.auctionSlots.acquire(signal))) return;
    let out;
    try {
      out = await unlessAborted(this.d.auction.run(req, { maxMsat: max, bidders, signal, attempt, ...(scores ? { scores } : {}), ...(minScore > 0 ? { minScore } : {}) }), signal);
    } finally {
      this.auctionSlots.release();
    }
    if (!out || signal.aborted) return;
    const [winner, ...rest] = out.ranking;
    span?.setAttribute('timmy.auction.bids', out.ranking.length);
    if (!winner && attempt < AUCTION_ATTEMPTS - 1) {
      // Under load, bids can miss short windows: run the auction again with longer ones before giving up.
      this.d.store.transition(job.id, 'bidding', `${RERUN} (attempt ${attempt + 2} of ${AUCTION_ATTEMPTS}, 4x longer windows)`);
      return;
    }
    if (!winner) throw new JobFailed('no agent bid within the price for this job');
    const pay = Math.min(out.pricePaidMsat ?? winner.priceMsat, max);
    span?.setAttributes({ 'timmy.auction.winner': this.d.agents.find((a) => a.pubkey === winner.agent)?.name ?? winner.agent.slice(0, 12), 'timmy.auction.price_msat': pay });
    this.d.store.transition(job.id, 'assigned', `won by ${winner.agent.slice(0, 12)} at ${pay} msat (second price)`, {
      auctionId: out.resultId,
      agent: winner.agent,
      agentPriceMsat: pay,
      ranking: JSON.stringify(rest),
    }, { ranking: out.ranking });
  }

  /**
   * A job no agent here serves (or whose agents are all busy, or, paid, one a peer may do within
   * the bid): forwarded, if a peer can take it. A free one goes on to bidding (where it is sent); a
   * paid one is quoted by the peer first, and the customer is asked for its price plus our fee.
   */
  private async toForward(job: JobRow, req: JobRequest, signal: AbortSignal, none: string, plan = this.d.forward?.forwarder.plan(req)): Promise<void> {
    if (!plan) throw new JobFailed(none);
    if (!plan.ok) throw new JobFailed(`${none}, and the job is not forwarded: ${plan.reason}`);
    const needsApproval = this.d.config.approvalKinds.includes(req.kind);
    if (this.d.config.freeKinds.includes(req.kind)) {
      // forwardedTo marks it for forwarding (the peer is chosen again when it is sent).
      this.d.store.transition(job.id, needsApproval ? 'awaiting-approval' : 'bidding', `${needsApproval ? 'waits for operator approval' : 'free job'}; ${none}: to be forwarded to a peer instance`, {
        priceMsat: 0,
        forwardedTo: plan.peer.pubkey,
      });
    } else {
      const quoted = await this.quoteForward(job, req, plan.peer, signal, none);
      if (!quoted) return;
      const next = needsApproval ? 'awaiting-approval' : quoted.price > 0 ? 'awaiting-payment' : 'bidding';
      this.d.store.transition(job.id, next, quoted.reason, { priceMsat: quoted.price, forwardedTo: plan.peer.pubkey, forwardId: quoted.record.request }, { forward: quoted.record, quote: quoted.invoice });
    }
    if (needsApproval) await this.feedback(this.d.store.get(job.id)!, 'processing', 'waiting for the operator to approve this job');
  }

  /**
   * Paid forwarding, before the customer pays: our request goes to the peer with a bid that leaves
   * room for our fee, and the peer's invoice sets the price (its amount, plus
   * federation.forward.feePct of it, plus dvm.feeMsat). The treasury must be able to front it.
   */
  private async quoteForward(
    job: JobRow,
    req: JobRequest,
    peer: Peer,
    signal: AbortSignal,
    none: string,
  ): Promise<{ price: number; record: ForwardRecord; invoice: Quote['invoice']; reason: string } | undefined> {
    const f = this.d.forward!;
    const p = this.d.payments;
    const fee = (msat: number): number => Math.ceil((msat * f.forwarder.feePct) / 100) + this.d.config.feeMsat;
    let bid: number | undefined;
    if (req.bidMsat !== undefined) {
      bid = Math.floor((req.bidMsat - this.d.config.feeMsat) / (1 + f.forwarder.feePct / 100));
      while (bid > 0 && bid + fee(bid) > req.bidMsat) bid--;
      if (bid <= 0) throw new JobFailed(`${none}, and your bid of ${req.bidMsat} msat leaves nothing for a peer instance after our fee`);
    }
    let q: Quote;
    try {
      q = await f.forwarder.quote(req, peer, { ...(bid !== undefined ? { bidMsat: bid } : {}), signal });
    } catch (err) {
      if (signal.aborted) return undefined;
      if (err instanceof ForwardError) throw new JobFailed(`${none}, and forwarding it failed: ${err.message}`);
      throw err;
    }
    const name = `${q.record.name} (${peer.pubkey.slice(0, 12)})`;
    if (!q.invoice) return { price: 0, record: q.record, invoice: null, reason: `${none}: forwarded to the peer instance ${name}, which does it for free` };
    const asked = q.invoice.amountMsat;
    const price = asked + fee(asked);
    const problem =
      (p.checkPeerInvoice ? await p.checkPeerInvoice(q.invoice.bolt11, asked) : 'this wallet does not pay other instances') ??
      (bid !== undefined && asked > bid ? `it asks ${asked} msat, above the bid of ${bid} msat` : null) ??
      (p.canPayPeer ? await p.canPayPeer(price) : null);
    if (problem) {
      await f.forwarder.withdrawRecord(req.kind, q.record, problem).catch(() => undefined);
      throw new JobFailed(`${none}, and the peer instance ${name} cannot take it: ${problem}`);
    }
    return { price, record: q.record, invoice: q.invoice, reason: `${none}: forwarded to the peer instance ${name}; priced at ${price} msat (it asks ${asked} msat, our fee ${price - asked} msat)` };
  }

  /** Instead of an auction: the job goes to a peer instance (chosen now, the peer directory may have changed; already, when quoted). */
  private forwardTo(job: JobRow, req: JobRequest): void {
    if (job.forwardedTo && job.forwardId) {
      this.d.store.transition(job.id, 'assigned', `forwarded to the peer instance ${job.forwardedTo.slice(0, 12)} as request ${job.forwardId.slice(0, 12)}`);
      return;
    }
    const none = job.forwardedTo ? `to be forwarded` : `no agent here serves kind ${req.kind} right now`;
    const plan = this.d.forward?.forwarder.plan(req);
    if (!plan) throw new JobFailed(none);
    if (!plan.ok) throw new JobFailed(`${none}, and the job is not forwarded: ${plan.reason}`);
    const p = plan.peer;
    this.d.store.transition(job.id, 'assigned', `${none}: forwarded to the peer instance ${p.announcement.name} (${p.pubkey.slice(0, 12)})`, { forwardedTo: p.pubkey });
  }

  /** The forward on record for a job (with the peer's quote for a paid one), from its transitions. */
  private forwardOf(job: JobRow): { record: ForwardRecord; quote?: Quote['invoice'] } | undefined {
    const data = this.d.store.transitions(job.id).reverse().find((t) => t.data?.includes('"forward"'))?.data;
    if (!data) return undefined;
    const d = JSON.parse(data) as { forward?: ForwardRecord; quote?: Quote['invoice'] };
    return d.forward ? { record: d.forward, ...('quote' in d ? { quote: d.quote ?? null } : {}) } : undefined;
  }

  /**
   * A paid forward whose job ended before we waited for the peer's result (the customer did not
   * pay, cancelled, or the operator refused it): the peer's request is withdrawn, so its invoice is
   * cancelled there. Once we wait for the result, the wait itself withdraws when it gives up.
   */
  private async withdrawForward(id: string, reason: string): Promise<void> {
    const job = this.d.store.get(id);
    const f = this.d.forward;
    if (!job?.forwardId || !f || job.state === 'delivered') return;
    if (this.d.store.transitions(id).some((t) => t.to === 'executing')) return;
    const fwd = this.forwardOf(job);
    if (fwd && 'quote' in fwd) await f.forwarder.withdrawRecord(job.kind, fwd.record, reason).catch(() => undefined);
  }

  /** A forwarded job: our request to the peer goes out (or was out before a restart), its result comes back to the customer. */
  private async runForwarded(job: JobRow, signal: AbortSignal): Promise<void> {
    const f = this.d.forward;
    if (!f) throw new JobFailed('the job was forwarded, but forwarding is off now');
    const req = this.request(job);
    const fwd = this.forwardOf(job);
    if (fwd && 'quote' in fwd) return this.runQuoted(job, req, fwd.record, fwd.quote ?? null, signal);
    let out: Forwarded | undefined;
    try {
      if (job.state === 'assigned') {
        const target = f.forwarder.peer(job.forwardedTo!);
        if (!target) throw new JobFailed(`the peer instance ${job.forwardedTo!.slice(0, 12)} the job was forwarded to is gone`);
        out = await unlessAborted(
          f.forwarder.forward(req, target, {
            signal,
            keep: () => this.stopped,
            onSent: (sub, record) => {
              this.d.store.transition(job.id, 'executing', `sent to ${record.name} as request ${sub.id.slice(0, 12)}`, { forwardId: sub.id }, { forward: record });
              void this.feedback(job, 'processing', `forwarded to the instance ${record.name}: waiting for its result`).catch(() => undefined);
            },
          }),
          signal,
        );
      } else {
        // Resumed after a restart (start() recorded it): wait again for the result of the request on record.
        if (!fwd) throw new JobFailed('the forwarded request is not on record');
        out = await unlessAborted(f.forwarder.resume(req.kind, fwd.record, { signal, keep: () => this.stopped }), signal);
      }
    } catch (err) {
      if (err instanceof ForwardError) throw new JobFailed(err.message);
      throw err;
    }
    if (!out || signal.aborted) return;
    await this.deliverForwarded(job, req, out);
  }

  /**
   * A forward the peer priced (docs/federation.md, "Paid jobs between instances"): now that our
   * customer paid, we pay the peer's invoice (the treasury fronts it; the peer holds it until it
   * delivers) and wait for its result; then the escrow pays the treasury back and keeps our fee.
   * A payment that fails ends the wait at once (the request is withdrawn, the customer refunded).
   */
  private async runQuoted(job: JobRow, req: JobRequest, record: ForwardRecord, quote: Quote['invoice'], signal: AbortSignal): Promise<void> {
    const f = this.d.forward!;
    const p = this.d.payments;
    if (job.state === 'assigned') {
      this.d.store.transition(job.id, 'executing', quote ? `paying ${record.name} ${quote.amountMsat} msat; waiting for its result` : `waiting for ${record.name}'s result`);
      void this.feedback(job, 'processing', `forwarded to the instance ${record.name}: waiting for its result`).catch(() => undefined);
    }
    const failed = new AbortController();
    let paying: Promise<{ feeMsat: number }> | undefined;
    if (quote) {
      if (!p.payPeer || !p.reimburse) throw new JobFailed('the job was forwarded as a paid one, but this wallet does not pay other instances now');
      paying = this.traces.span(job, 'timmy.payment.peer', { 'timmy.agent_msat': quote.amountMsat }, () => p.payPeer!(quote.bolt11, Math.max(0, job.priceMsat - quote.amountMsat), signal));
      paying.catch((err: unknown) => failed.abort(new ForwardError(`paying the peer instance ${record.name} failed: ${(err as Error).message}`)));
    }
    let out: Forwarded | undefined;
    try {
      out = await unlessAborted(f.forwarder.resume(req.kind, record, { signal: AbortSignal.any([signal, failed.signal]), keep: () => this.stopped, paid: true }), signal);
    } catch (err) {
      if (err instanceof ForwardError) throw new JobFailed(err.message);
      throw err;
    }
    if (!out || signal.aborted) return;
    if (quote && paying) {
      let paid;
      try {
        paid = await paying;
      } catch (err) {
        if (signal.aborted) return;
        throw new JobFailed(`${record.name} delivered, but paying it failed (${(err as Error).message}); the customer is refunded`);
      }
      this.d.store.transition(job.id, 'executing', `paid ${record.name} ${quote.amountMsat} msat over Lightning (routing fee ${paid.feeMsat} msat)`);
      await p.reimburse!(job.id, quote.amountMsat + paid.feeMsat);
    }
    await this.deliverForwarded(job, req, out);
  }

  /** The peer's result, re-published to our customer, signed by the coordinator. */
  private async deliverForwarded(job: JobRow, req: JobRequest, out: Forwarded): Promise<void> {
    const peerResult = out.result;
    const kept = peerResult.tags.filter((t) => !['request', 'e', 'i', 'p', 'amount', 'encrypted', 'status', FORWARDED_TAG].includes(t[0] ?? ''));
    const r = await this.d.coordinator.signEvent(
      buildJobResult({ request: req, content: peerResult.content, extraTags: [...kept, [FORWARDED_TAG, out.record.peer, peerResult.id, peerResult.pubkey]] }),
    );
    await this.publish(r, req.relays);
    this.d.store.transition(job.id, 'delivered', `result ${r.id.slice(0, 12)} published: the work of ${out.record.name}'s agent ${peerResult.pubkey.slice(0, 12)} (result ${peerResult.id.slice(0, 12)})`, { resultId: r.id });
    await this.feedback(this.d.store.get(job.id)!, 'success', 'delivered');
  }

  /**
   * The agents reputable enough for the job: the configured minimum for its kind, or the
   * customer's `min-score` param if higher. Throws when none is.
   */
  private eligible(req: JobRequest, agents: readonly AgentPort[]): { bidders: AgentPort[]; scores?: ReadonlyMap<string, number>; minScore: number } {
    const rep = this.d.reputation;
    const asked = req.params.find(([k]) => k === 'min-score')?.[1];
    let wanted = 0;
    if (asked !== undefined) {
      wanted = Number(asked);
      if (asked.trim() === '' || !Number.isFinite(wanted) || wanted < 0 || wanted > 1) throw new JobFailed(`param min-score must be a number from 0 to 1, not ${JSON.stringify(asked)}`);
    }
    if (!rep) return { bidders: [...agents], minScore: 0 };
    const minScore = Math.max(rep.minScore(req.kind), wanted);
    const scores = new Map(agents.map((a) => [a.pubkey, rep.score(a.pubkey)]));
    const bidders = agents.filter((a) => scores.get(a.pubkey)! >= minScore);
    if (bidders.length === 0) {
      const best = Math.max(...scores.values());
      throw new JobFailed(`no agent here has the reputation this job asks for (score ${minScore.toFixed(4)}; the best is ${best.toFixed(4)})`);
    }
    return { bidders, scores, minScore };
  }

  /**
   * The coordinator's job label (docs/protocol.md, "Job labels"): what happened, with the proof of
   * payment when the job was paid. Best effort: a label that cannot be published fails no job.
   */
  private async labelJob(job: JobRow, agent: string, outcome: Outcome, resultId?: string): Promise<void> {
    if (!this.d.config.labels) return;
    try {
      const proof = job.priceMsat > 0 && job.paymentHash && this.d.payments.proof ? await this.d.payments.proof(job.paymentHash) : null;
      const t = jobLabelTemplate({ agent, request: job.id, ...(resultId ? { result: resultId } : {}), kind: job.kind, outcome, ...(proof ? { proof } : {}) });
      const r = await this.d.client.publish(await this.d.coordinator.signEvent(t));
      if (!r.ok) this.log('warn', 'job label not accepted', { job: job.id, answers: r.relays });
    } catch (err) {
      this.log('warn', 'job label failed', { job: job.id, error: (err as Error).message });
    }
  }

  /** Moves the job to the next bidder at that bidder's revealed price, or fails it. */
  private reassign(job: JobRow, why: string): void {
    const rest = JSON.parse(job.ranking ?? '[]') as RankedBid[];
    const next = rest.find((b) => this.d.agents.some((a) => a.pubkey === b.agent && a.alive()));
    if (!next) throw new JobFailed(`${why}; no other bidder is left`);
    this.d.store.transition(job.id, 'assigned', `${why}; reassigned to ${next.agent.slice(0, 12)} at its price ${next.priceMsat} msat`, {
      agent: next.agent,
      agentPriceMsat: next.priceMsat,
      ranking: JSON.stringify(rest.slice(rest.indexOf(next) + 1)),
    });
  }

  private async execute(job: JobRow, signal: AbortSignal): Promise<void> {
    const agent = this.d.agents.find((a) => a.pubkey === job.agent);
    const req = this.request(job);
    if (!agent && job.agent && (job.priceMsat === 0 || this.d.payments.payPeer) && this.d.outside?.(job.agent)) return this.awaitOutside(job, req, job.agent, signal);
    const skill = agent?.skill(req.kind);
    if (!agent || !skill || !agent.alive()) {
      if (job.agent) await this.labelJob(job, job.agent, 'failed');
      return this.reassign(job, 'the assigned agent is gone');
    }
    if (job.state === 'executing') {
      // Resumed after a restart: if the result went out before the crash, do not publish another.
      const [done] = await this.d.client.query([{ kinds: [req.kind + 1000], authors: [agent.pubkey], '#e': [job.id], limit: 1 }], { timeoutMs: 3000 });
      if (done) {
        if (job.priceMsat > 0) await this.release(job, agent);
        this.d.store.transition(job.id, 'delivered', `result ${done.id.slice(0, 12)} was already published`, { resultId: done.id });
        await this.labelJob(job, agent.pubkey, 'delivered', done.id);
        return;
      }
    } else {
      this.d.store.transition(job.id, 'executing', `${agent.name} starts`);
    }
    await this.feedback(job, 'processing', `${agent.name} is working on it`, undefined, agent.signer);

    const stop = new AbortController();
    let timeout: NodeJS.Timeout | undefined;
    const watch = setInterval(() => {
      if (!agent.alive()) stop.abort(new Error('the agent stopped sending heartbeats'));
    }, 250);
    const both = AbortSignal.any([signal, stop.signal]);
    agent.jobStarted?.();
    const started = Date.now();
    let ok = false;
    let content: string;
    let tags: readonly (readonly string[])[] = [];
    try {
      const inputs = await this.traces.span(job, 'timmy.inputs', { 'timmy.inputs': req.inputs.length }, () =>
        resolveInputs(req.inputs, {
          client: this.d.client,
          chainTimeoutMs: this.d.config.chainTimeoutSeconds * 1000,
          urlTimeoutMs: 15_000,
          urlMaxBytes: 2 * 1024 * 1024,
          ...(this.d.mediaMaxBytes !== undefined ? { mediaMaxBytes: this.d.mediaMaxBytes } : {}),
          signal: both,
        }),
      );
      // The job timeout is the skill's: waiting for a chained input has its own (dvm.chainTimeoutSeconds).
      timeout = setTimeout(() => stop.abort(new Error('timed out')), this.d.config.jobTimeoutSeconds * 1000);
      const sj: SkillJob = { request: req, inputs, param: (n) => req.params.find(([k]) => k === n)?.[1] };
      const abortable = new Promise<never>((_, reject) => {
        if (both.aborted) reject(both.reason);
        else both.addEventListener('abort', () => reject(both.reason), { once: true });
      });
      // A skill's progress (its message and partial content) comes from the inputs: for an encrypted
      // request it would tell in clear what the customer encrypted, so it is not published.
      const progress = (m: string, partial?: string): void => {
        if (!req.encryption) void this.feedback(job, 'partial', m, undefined, agent.signer, partial).catch(() => undefined);
      };
      // The skill runs in its span's context: the spans of what it calls nest under it (timmy.llm;
      // voice and memory, once they exist, the same way: see dvm/tracing.ts).
      const skillAttrs = { 'timmy.agent': agent.name, 'timmy.skill': skill.name, 'timmy.job.kind': req.kind };
      const out = await Promise.race([this.traces.span(job, 'timmy.skill', skillAttrs, () => skill.run(sj, { signal: both, client: this.d.client, progress })), abortable]);
      content = out.content;
      tags = out.tags ?? [];
      ok = true;
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof SkillError) throw err;
      // A crash, a timeout or a dead agent: the next bidder gets the job.
      await this.labelJob(job, agent.pubkey, 'failed');
      return this.reassign(this.d.store.get(job.id)!, `${agent.name} failed (${(err as Error).message})`);
    } finally {
      clearTimeout(timeout);
      clearInterval(watch);
      // A job the customer cancelled (or a stop) says nothing about the agent: it is not counted.
      agent.jobEnded?.(ok ? 'succeeded' : signal.aborted ? 'cancelled' : 'failed');
    }
    if (signal.aborted) return;
    const encrypted = req.encryption;
    const body = encrypted ? agent.encrypt(job.customer, content, encrypted) : content;
    const result = await this.traces.span(job, 'timmy.publish', { 'timmy.result.kind': req.kind + 1000 }, async () => {
      const r = await agent.signer.signEvent({ ...buildJobResult({ request: req, content: body, amountMsat: job.priceMsat || undefined, extraTags: tags }) });
      await this.publish(r, req.relays);
      return r;
    });
    if (job.priceMsat > 0) await this.release(job, agent);
    this.d.store.transition(job.id, 'delivered', `result ${result.id.slice(0, 12)} published`, { resultId: result.id });
    await this.feedback(this.d.store.get(job.id)!, 'success', 'delivered', undefined, agent.signer);
    const late = Date.now() - started > this.d.config.lateAfterSeconds * 1000;
    await this.labelJob(job, agent.pubkey, late ? 'late' : 'delivered', result.id);
  }

  /**
   * An outside agent won (docs/federation.md): it publishes the result itself. We wait for it,
   * check it, and record and label the job as for our own agents; a winner that does not deliver a
   * valid result in time is labelled failed and the job goes to the next bidder. For a paid job the
   * result must carry the agent's invoice for its price (`timmy-invoice`), which we pay before the
   * job counts as delivered.
   */
  private async awaitOutside(job: JobRow, req: JobRequest, agent: string, signal: AbortSignal): Promise<void> {
    const who = `outside agent ${agent.slice(0, 12)}`;
    if (job.state === 'assigned') this.d.store.transition(job.id, 'executing', `${who} starts; waiting for its result`);
    const started = Date.now();
    const price = job.priceMsat > 0 ? (job.agentPriceMsat ?? 0) : 0;
    const r = await awaitOutsideResult(this.d.client, {
      request: req,
      agent,
      timeoutMs: this.d.config.jobTimeoutSeconds * 1000,
      signal,
      ...(price > 0 && this.d.payments.checkPeerInvoice ? { invoice: (bolt11: string) => this.d.payments.checkPeerInvoice!(bolt11, price) } : {}),
    });
    if (signal.aborted) return;
    if (!r.ok) {
      await this.labelJob(job, agent, 'failed');
      return this.reassign(this.d.store.get(job.id)!, `${who} failed (${r.reason})`);
    }
    if (job.priceMsat > 0) await this.payOutside(job, who, price, r.invoice, signal);
    if (signal.aborted) return;
    this.d.store.transition(job.id, 'delivered', `result ${r.event.id.slice(0, 12)} published by ${who}`, { resultId: r.event.id });
    const late = Date.now() - started > this.d.config.lateAfterSeconds * 1000;
    await this.labelJob(job, agent, late ? 'late' : 'delivered', r.event.id);
  }

  /**
   * Pays an outside winner its price over Lightning (the treasury fronts it), then releases the
   * escrow to pay the treasury back. The routing fee comes out of what the customer paid above the
   * price (our fee and the auction's surplus). Not paid: the job fails and the customer is refunded.
   */
  private async payOutside(job: JobRow, who: string, price: number, bolt11: string | undefined, signal: AbortSignal): Promise<void> {
    const p = this.d.payments;
    if (!p.payPeer || !p.reimburse || !bolt11) throw new JobFailed(`${who} delivered, but cannot be paid: this wallet does not pay other instances`);
    let paid;
    try {
      paid = await this.traces.span(job, 'timmy.payment.peer', { 'timmy.agent_msat': price }, () => p.payPeer!(bolt11, Math.max(0, job.priceMsat - price), signal));
    } catch (err) {
      if (signal.aborted) return;
      throw new JobFailed(`${who} delivered, but paying its invoice failed (${(err as Error).message}); the customer is refunded`);
    }
    this.d.store.transition(job.id, 'executing', `paid ${who} ${price} msat over Lightning (routing fee ${paid.feeMsat} msat)`);
    await p.reimburse(job.id, price + paid.feeMsat);
  }

  /** Pays the agent its price from the job's escrow; the instance keeps the rest. */
  private release(job: JobRow, agent: AgentPort): Promise<void> {
    const msat = job.agentPriceMsat ?? 0;
    return this.traces.span(job, 'timmy.payment.release', { 'timmy.agent': agent.name, 'timmy.agent_msat': msat }, () => this.d.payments.release(job.id, agent.account, msat));
  }

  /**
   * A failed or cancelled job's money goes back. The wallet's refund is atomic: it returns a held
   * escrow, or, with nothing paid yet, cancels the job's open invoice, so that a payment arriving
   * after the job ended is refused instead of sitting in escrow for a job nobody will run.
   */
  private async refundIfPaid(id: string, reason: string): Promise<void> {
    const job = this.d.store.get(id);
    if (!job || (job.state !== 'failed' && job.state !== 'cancelled')) return;
    if (!job.paymentHash) return;
    await this.traces.span(job, 'timmy.payment.refund', {}, () => this.d.payments.refund(id, reason));
    if (!(await this.d.payments.isPaid(job.paymentHash))) return;
    this.d.store.transition(id, 'refunded', `refunded: ${reason}`);
  }

  private async publish(e: NostrEvent, relays: readonly string[]): Promise<void> {
    const r = await this.d.client.publish(e);
    if (!r.ok) this.log('warn', 'publish failed', { id: e.id, kind: e.kind, answers: r.relays });
    // Other relays the customer named: best effort, in the background, so a slow one delays nothing.
    if (relays.length > 0 && this.d.publishElsewhere)
      this.d.publishElsewhere(relays, e).catch((err: unknown) => this.log('warn', 'publishing to the request\'s relays failed', { id: e.id, error: (err as Error).message }));
  }

  private async feedback(
    job: JobRow,
    status: FeedbackStatus,
    extra: string,
    amount?: { amountMsat: number; bolt11: string },
    signer: Signer = this.d.coordinator,
    content?: string,
  ): Promise<void> {
    const req = this.request(job);
    const e = await signer.signEvent(buildFeedback({ request: req, status, extra, ...(amount ?? {}), ...(content !== undefined ? { content } : {}) }));
    await this.publish(e, req.relays);
  }

  /**
   * `error` feedback. For an encrypted request the reason may quote its hidden inputs (an input URL,
   * an event id), so it goes in the content, encrypted to the customer by the agent the request was
   * encrypted to, and the public status text says only that the job failed.
   */
  private async errorFeedback(job: JobRow, msg: string): Promise<void> {
    const req = this.request(job);
    const agent = req.encryption ? this.addressedAgent(req.event) : undefined;
    if (!req.encryption || !agent) return this.feedback(job, 'error', msg);
    const t = buildFeedback({ request: req, status: 'error', extra: 'the job failed; the reason is encrypted to you', content: agent.encrypt(job.customer, msg, req.encryption) });
    await this.publish(await agent.signer.signEvent({ ...t, tags: [...t.tags, ['encrypted']] }), req.relays);
  }

  /** Feedback for a request that did not even parse. */
  private async feedbackRaw(e: NostrEvent, status: FeedbackStatus, extra: string): Promise<void> {
    const fb = await this.d.coordinator.signEvent({
      kind: 7000,
      created_at: Math.floor(Date.now() / 1000),
      content: '',
      tags: [
        ['status', status, extra],
        ['e', e.id],
        ['p', e.pubkey],
      ],
    });
    await this.publish(fb, []);
  }
}
