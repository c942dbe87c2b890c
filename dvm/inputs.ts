// Resolves NIP-90 `i` inputs into text a skill can read: text as is, an event's content, a prior
// job's result (job chaining: wait for it), or a URL's body (bounded in size and time).
import type { NostrClient } from '../nostr/client.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { isJobResultKind, type JobInput } from '../nostr/nip90.js';
import { SkillError, type ResolvedInput } from './skill.js';

export interface InputOptions {
  readonly client: NostrClient;
  /** How long to wait for a chained job's result. */
  readonly chainTimeoutMs: number;
  readonly urlTimeoutMs: number;
  readonly urlMaxBytes: number;
  readonly signal: AbortSignal;
}

async function fetchEvent(client: NostrClient, id: string): Promise<NostrEvent | undefined> {
  const found = await client.query([{ ids: [id] }], { timeoutMs: 3000 });
  return found[0];
}

/** Waits for the first result (kind 6000-6999) that references the job request `id`. */
function waitForJobResult(client: NostrClient, id: string, timeoutMs: number, signal: AbortSignal): Promise<NostrEvent> {
  // Stopped (cancelled, the instance stopping, the agent gone): rejects with the signal's reason, like
  // the skill would, so the DVM tells a dead agent from a bad input. An abort listener added to a
  // signal that has already fired is never called: check first.
  if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('the job was stopped'));
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, e?: NostrEvent) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sub.close();
      if (err) reject(err);
      else resolve(e!);
    };
    const onAbort = () => done(signal.reason instanceof Error ? signal.reason : new Error('the job was stopped while waiting for its input job'));
    const timer = setTimeout(() => done(new SkillError(`input job ${id} produced no result within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    const sub = client.subscribe([{ '#e': [id] }], {
      onEvent: (e) => {
        if (isJobResultKind(e.kind) && e.tags.some((t) => t[0] === 'e' && t[1] === id)) done(null, e);
      },
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** fetch() rejects with TypeError('fetch failed') and the real reason (ECONNREFUSED, ...) in `cause`. */
function fetchFailure(err: unknown, timeoutMs: number): string {
  if ((err as { name?: unknown } | undefined)?.name === 'TimeoutError') return `timed out after ${Math.round(timeoutMs / 1000)} s`;
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

async function fetchUrl(url: string, o: InputOptions): Promise<string> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SkillError(`input url is not a valid URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SkillError(`input url must be http(s): ${url}`);
  let res: Response;
  try {
    res = await fetch(u, { signal: AbortSignal.any([o.signal, AbortSignal.timeout(o.urlTimeoutMs)]), redirect: 'follow' });
  } catch (err) {
    if (o.signal.aborted) throw err;
    throw new SkillError(`could not fetch input url ${url}: ${fetchFailure(err, o.urlTimeoutMs)}`);
  }
  if (!res.ok) throw new SkillError(`input url ${url} answered HTTP ${res.status}`);
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > o.urlMaxBytes) {
      await reader.cancel();
      throw new SkillError(`input url ${url} is larger than ${o.urlMaxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function resolveInputs(inputs: readonly JobInput[], o: InputOptions): Promise<ResolvedInput[]> {
  const out: ResolvedInput[] = [];
  for (const i of inputs) {
    switch (i.type) {
      case 'text':
        out.push({ ...i, text: i.data });
        break;
      case 'event': {
        const e = await fetchEvent(o.client, i.data);
        if (!e) throw new SkillError(`input event ${i.data} was not found`);
        out.push({ ...i, text: e.content, source: e });
        break;
      }
      case 'job': {
        const e = await waitForJobResult(o.client, i.data, o.chainTimeoutMs, o.signal);
        out.push({ ...i, text: e.content, source: e });
        break;
      }
      case 'url':
        out.push({ ...i, text: await fetchUrl(i.data, o) });
        break;
    }
  }
  return out;
}
