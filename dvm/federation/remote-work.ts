// The outside agent's side of a cross-instance auction (docs/federation.md): one of our agents won
// an auction opened by a peer instance's coordinator (federation.bidOnPeers), so we do the work.
// We fetch the request from the relays, resolve its inputs, run the agent's skill and publish the
// NIP-90 result signed by the agent, built as the DVM builds its own (nostr/nip90.ts buildJobResult).
// The peer's coordinator checks the result and labels the agent. For a paid job (the coordinator
// asked its customer for payment) the result carries our invoice for the auction's price
// (`timmy-invoice`, dvm/federation/outside-result.ts), which the coordinator pays.
import type { NostrClient } from '../../nostr/client.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import { buildFeedback, buildJobResult, normalizeFeedbackStatus, parseJobRequest, type FeedbackStatus, type JobRequest } from '../../nostr/nip90.js';
import { resolveInputs } from '../inputs.js';
import type { AgentPort } from '../ports.js';
import { SkillError, type SkillJob } from '../skill.js';
import { INVOICE_TAG } from './outside-result.js';

export interface RemoteWorkOptions {
  readonly client: NostrClient;
  /** How long the skill may run (dvm.jobTimeoutSeconds). */
  readonly jobTimeoutMs: number;
  /** How long to wait for a chained input (dvm.chainTimeoutSeconds). */
  readonly chainTimeoutMs: number;
  /** Publishes to the relays a request's `relays` tag names (besides ours). */
  readonly publishElsewhere?: (relays: readonly string[], e: NostrEvent) => Promise<void>;
  readonly log?: (level: 'info' | 'warn', msg: string) => void;
  /**
   * An invoice of our wallet for `msat`, credited to the agent's account, that other Lightning
   * nodes can pay. Absent (a wallet that cannot receive from outside): paid jobs are not done.
   */
  readonly invoice?: (agent: AgentPort, msat: number, description: string) => Promise<string>;
}

export class RemoteWork {
  private readonly stopping = new AbortController();
  private readonly jobs = new Set<string>();
  private readonly log: (level: 'info' | 'warn', msg: string) => void;

  constructor(private readonly o: RemoteWorkOptions) {
    this.log = o.log ?? (() => undefined);
  }

  /** Jobs under way. */
  get active(): number {
    return this.jobs.size;
  }

  /**
   * Does the job `jobId` that `agent` won in `coordinator`'s auction; resolves with the published
   * result, or undefined when there is none (the reason is logged; the coordinator's timeout then
   * fails the agent and moves the job on).
   */
  async run(agent: AgentPort, won: { readonly coordinator: string; readonly jobId: string; readonly price?: number }): Promise<NostrEvent | undefined> {
    if (this.jobs.has(won.jobId) || this.stopping.signal.aborted) return undefined;
    this.jobs.add(won.jobId);
    const who = `${agent.name} (job ${won.jobId.slice(0, 12)} from ${won.coordinator.slice(0, 12)})`;
    try {
      const [e] = await this.o.client.query([{ ids: [won.jobId], limit: 1 }], { timeoutMs: 5000 });
      if (!e) return this.skip(`${who}: the request is not on our relays`);
      // Encrypted requests are addressed to the peer's agents: we could not read them (peers do not auction them out).
      const parsed = parseJobRequest(e);
      if (!parsed.ok) return this.skip(`${who}: invalid request: ${parsed.reason}`);
      const req = parsed.value;
      if (req.encryption) return this.skip(`${who}: the request is encrypted to another agent`);
      const skill = agent.skill(req.kind);
      if (!skill) return this.skip(`${who}: the agent no longer serves kind ${req.kind}`);
      // A paid job: the coordinator asked its customer for payment. We are paid the auction's price.
      const paid = (won.price ?? 0) > 0 && (await this.paidJob(won.coordinator, won.jobId));
      if (paid && !this.o.invoice) return this.skip(`${who}: a paid job, and our wallet cannot be paid by other nodes`);
      await this.feedback(agent, req, 'processing', `${agent.name} is working on it`);
      const stop = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.o.jobTimeoutMs + this.o.chainTimeoutMs)]);
      agent.jobStarted?.();
      let ok = false;
      try {
        const inputs = await resolveInputs(req.inputs, { client: this.o.client, chainTimeoutMs: this.o.chainTimeoutMs, urlTimeoutMs: 15_000, urlMaxBytes: 2 * 1024 * 1024, signal: stop });
        const sj: SkillJob = { request: req, inputs, param: (n) => req.params.find(([k]) => k === n)?.[1] };
        const aborted = new Promise<never>((_, reject) => {
          if (stop.aborted) reject(stop.reason);
          else stop.addEventListener('abort', () => reject(stop.reason), { once: true });
        });
        aborted.catch(() => undefined);
        const out = await Promise.race([skill.run(sj, { signal: stop, client: this.o.client, progress: () => undefined }), aborted]);
        const invoice = paid ? [[INVOICE_TAG, await this.o.invoice!(agent, won.price!, `Timmy job ${won.jobId.slice(0, 12)} for ${won.coordinator.slice(0, 12)}`)]] : [];
        const result = await agent.signer.signEvent(buildJobResult({ request: req, content: out.content, extraTags: [...(out.tags ?? []), ...invoice] }));
        await this.publish(result, req.relays);
        ok = true;
        await this.feedback(agent, req, 'success', 'delivered');
        this.log('info', `federation: ${who}: result ${result.id.slice(0, 12)} published`);
        return result;
      } catch (err) {
        // The customer's own mistake (bad input) is told to them; anything else is left to the coordinator's timeout.
        if (err instanceof SkillError) await this.feedback(agent, req, 'error', err.message).catch(() => undefined);
        return this.skip(`${who}: ${(err as Error).message}`);
      } finally {
        agent.jobEnded?.(ok ? 'succeeded' : this.stopping.signal.aborted ? 'cancelled' : 'failed');
      }
    } catch (err) {
      return this.skip(`${who}: ${(err as Error).message}`);
    } finally {
      this.jobs.delete(won.jobId);
    }
  }

  /** Whether the coordinator asked its customer to pay for the job (NIP-90 payment-required feedback). */
  private async paidJob(coordinator: string, jobId: string): Promise<boolean> {
    const fb = await this.o.client.query([{ kinds: [7000], authors: [coordinator], '#e': [jobId] }], { timeoutMs: 5000 });
    return fb.some((e) => normalizeFeedbackStatus(e.tags.find((t) => t[0] === 'status')?.[1]) === 'payment-required');
  }

  /** Stops the jobs under way at their next wait. */
  stop(): void {
    this.stopping.abort(new Error('the instance is stopping'));
  }

  private skip(msg: string): undefined {
    this.log('warn', `federation: no result for ${msg}`);
    return undefined;
  }

  private async feedback(agent: AgentPort, req: JobRequest, status: FeedbackStatus, extra: string): Promise<void> {
    await this.publish(await agent.signer.signEvent(buildFeedback({ request: req, status, extra })), req.relays);
  }

  private async publish(e: NostrEvent, relays: readonly string[]): Promise<void> {
    const r = await this.o.client.publish(e);
    if (!r.ok) throw new Error(`no relay took event ${e.id.slice(0, 12)}: ${r.relays.map((x) => x.message).join('; ')}`);
    if (relays.length > 0 && this.o.publishElsewhere) this.o.publishElsewhere(relays, e).catch(() => undefined);
  }
}
