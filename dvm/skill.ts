// The interface between the DVM (which runs jobs) and the agents (which have skills). dvm/ sits
// below agents/ in the dependency order, so it defines the contract and agents implement it; the
// composition root (main/) hands the agents' skills to the DVM.
import type { NostrEvent } from '../nostr/nip01.js';
import type { NostrClient } from '../nostr/client.js';
import type { JobInput, JobRequest } from '../nostr/nip90.js';

/** An input after the DVM resolved it: `text` is what the skill reads (an event's content, a prior job's result, a fetched URL's body). */
export interface ResolvedInput extends JobInput {
  readonly text: string;
  /** For `event` and `job` inputs, the event that was fetched. */
  readonly source?: NostrEvent;
  /**
   * For `url` inputs whose body is media (audio/*, video/*, application/octet-stream) or a `data:`
   * URL that is not text: the raw bytes and their content type (`text` is then empty).
   */
  readonly bytes?: Uint8Array;
  readonly contentType?: string;
}

export interface SkillJob {
  readonly request: JobRequest;
  readonly inputs: readonly ResolvedInput[];
  /** First value of a `param`, if present. */
  param(name: string): string | undefined;
}

export interface SkillContext {
  /** Aborted when the job is cancelled, times out, or the agent is stopped. */
  readonly signal: AbortSignal;
  /** How skills reach Nostr (e.g. search and count over the relay's events). */
  readonly client: NostrClient;
  /** Reports progress; the DVM may publish it as `processing` or `partial` feedback. */
  progress(message: string, partialContent?: string): void;
  /**
   * What the agent recalled before working (agents/memory/): earlier jobs for the same customer and
   * facts it was told, best first. Skills may use them (5050 puts them in the system prompt).
   */
  readonly memories?: readonly RecalledMemory[];
}

export interface RecalledMemory {
  readonly text: string;
  readonly kind: 'episodic' | 'semantic' | 'procedural';
  /** Unix seconds. */
  readonly createdAt: number;
  readonly score: number;
}

export interface SkillOutput {
  /** The result event's content. */
  readonly content: string;
  /** Extra tags for the result event (e.g. ["alt", ...]); `request`, `e`, `i`, `p`, `amount` are added by the DVM. */
  readonly tags?: readonly (readonly string[])[];
}

/** Thrown by a skill for a problem the customer should read about (bad input, no model reachable). */
export class SkillError extends Error {
  override name = 'SkillError';
}

export interface Skill {
  /** The NIP-90 request kind this skill serves (5001, 5050, 5300, ...). */
  readonly kind: number;
  /** A short name for logs and the dashboard. */
  readonly name: string;
  /** Work units for pricing (e.g. input characters / 1000); the agent's price model multiplies them. */
  units(job: SkillJob): number;
  run(job: SkillJob, ctx: SkillContext): Promise<SkillOutput>;
}
