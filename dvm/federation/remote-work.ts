// The outside agent's side of a cross-instance auction (docs/federation.md): one of our agents won
// an auction opened by a peer instance's coordinator (federation.bidOnPeers), so we do the work.
// We fetch the request from the relays, resolve its inputs, run the agent's skill and publish the
// NIP-90 result signed by the agent, built as the DVM builds its own (nostr/nip90.ts buildJobResult).
// The peer's coordinator checks the result and labels the agent; it pays nothing (free jobs only).
import type { NostrClient } from '../../nostr/client.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import { buildFeedback, buildJobResult, parseJobRequest, type FeedbackStatus, type JobRequest } from '../../nostr/nip90.js';
import { resolveInputs } from '../inputs.js';
import type { AgentPort } from '../ports.js';
import { SkillError, type SkillJob } from '../skill.js';

export interface RemoteWorkOptions {
  readonly client: NostrClient;
  /** How long the skill may run (dvm.jobTimeoutSeconds). */
  readonly jobTimeoutMs: number;
  /** How long to wait for a chained input (dvm.chainTimeoutSeconds). */
  readonly chainTimeoutMs: number;
  /** Publishes to the relays a request's `relays` tag names (besides ours). */
  readonly publishElsewhere?: (relays: readonly string[], e: NostrEvent) => Promise<void>;
  readonly log?: (level: 'info' | 'warn', msg: string) => void;
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
  async run(agent: AgentPort, won: { readonly coordinator: string; readonly jobId: string }): Promise<NostrEvent | undefined> {
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
        const result = await agent.signer.signEvent(buildJobResult({ request: req, content: out.content, extraTags: out.tags ?? [] }));
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
