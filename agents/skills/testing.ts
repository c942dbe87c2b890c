// Test helpers: a SkillJob and a SkillContext built by hand, without a DVM. Used by the skills'
// tests (agents/**/*.test.ts, test/skills.test.ts); handy for trying a skill from a script.
import type { ResolvedInput, SkillContext, SkillJob } from '../../dvm/skill.js';
import type { NostrClient } from '../../nostr/client.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import type { JobRequest } from '../../nostr/nip90.js';

export interface FakeJobOptions {
  kind: number;
  /** Strings become `text` inputs. */
  inputs?: readonly (string | ResolvedInput)[];
  params?: readonly (readonly [string, string])[];
  /** The request event's content. */
  content?: string;
  customer?: string;
}

export function fakeJob(o: FakeJobOptions): SkillJob {
  const inputs: ResolvedInput[] = (o.inputs ?? []).map((i) => (typeof i === 'string' ? { data: i, type: 'text', text: i } : i));
  const params = o.params ?? [];
  const customer = o.customer ?? 'c'.repeat(64);
  const event: NostrEvent = {
    id: '0'.repeat(64),
    pubkey: customer,
    created_at: Math.floor(Date.now() / 1000),
    kind: o.kind,
    tags: [...inputs.map((i) => ['i', i.data, i.type]), ...params.map(([k, v]) => ['param', k, v])],
    content: o.content ?? '',
    sig: '0'.repeat(128),
  };
  const request: JobRequest = { event, id: event.id, kind: o.kind, customer, inputs, params, relays: [], providers: [] };
  return { request, inputs, param: (name) => params.find(([k]) => k === name)?.[1] };
}

export interface FakeContext extends SkillContext {
  readonly progressLog: { message: string; partial?: string }[];
}

/** A context over `client` (default: one that fails every call), with a signal that never aborts unless given. */
export function fakeContext(client?: NostrClient, signal: AbortSignal = new AbortController().signal): FakeContext {
  const progressLog: { message: string; partial?: string }[] = [];
  const none = (): never => {
    throw new Error('this test gave the skill no NostrClient');
  };
  return {
    signal,
    client: client ?? { publish: none, subscribe: none, query: none, close: none },
    progressLog,
    progress: (message, partial) => void progressLog.push(partial === undefined ? { message } : { message, partial }),
  };
}
