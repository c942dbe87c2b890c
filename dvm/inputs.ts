// Resolves NIP-90 `i` inputs into text a skill can read: text as is, an event's content, a prior
// job's result (job chaining: wait for it), or a URL's body (bounded in size and time). A URL whose
// body is media (audio for speech-to-text) reaches the skill as bytes with its content type, and a
// `data:` URL is decoded here without any network.
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
  /** The bound for media bodies (audio, video, octet-stream), which are larger than text; default 25 MB. */
  readonly mediaMaxBytes?: number;
  readonly signal: AbortSignal;
}

export const DEFAULT_MEDIA_MAX_BYTES = 25 * 1024 * 1024;

/** Bodies a skill gets as bytes instead of text. */
export const isMediaType = (contentType: string): boolean => /^(audio|video)\/|^application\/octet-stream\b/i.test(contentType.trim());

/** What a URL held: text, or media bytes with their content type. */
type UrlBody = { text: string } | { text: ''; bytes: Uint8Array; contentType: string };

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

/** A `data:` URL (RFC 2397): media types other than text/* come back as bytes. */
export function decodeDataUrl(url: string, maxBytes: number): UrlBody {
  const comma = url.indexOf(',');
  if (comma < 0) throw new SkillError('input data: URL has no comma');
  const meta = url.slice(5, comma).split(';').map((x) => x.trim());
  const base64 = meta.includes('base64');
  const contentType = (meta[0] || 'text/plain').toLowerCase();
  const payload = url.slice(comma + 1);
  // Checked before decoding: base64 is 4/3 of the bytes.
  if ((base64 ? Math.floor((payload.length * 3) / 4) : payload.length) > maxBytes) throw new SkillError(`input data: URL is larger than ${maxBytes} bytes`);
  let bytes: Uint8Array;
  try {
    bytes = base64 ? Buffer.from(payload.replace(/\s+/g, ''), 'base64') : Buffer.from(decodeURIComponent(payload), 'utf8');
  } catch {
    throw new SkillError('input data: URL is not validly encoded');
  }
  if (contentType.startsWith('text/') || contentType === 'application/json') return { text: Buffer.from(bytes).toString('utf8') };
  return { text: '', bytes: new Uint8Array(bytes), contentType };
}

async function fetchUrl(url: string, o: InputOptions): Promise<UrlBody> {
  const mediaMax = o.mediaMaxBytes ?? DEFAULT_MEDIA_MAX_BYTES;
  if (/^data:/i.test(url)) return decodeDataUrl(url, Math.max(o.urlMaxBytes, mediaMax));
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SkillError(`input url is not a valid URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SkillError(`input url must be http(s) or data: ${url}`);
  let res: Response;
  try {
    res = await fetch(u, { signal: AbortSignal.any([o.signal, AbortSignal.timeout(o.urlTimeoutMs)]), redirect: 'follow' });
  } catch (err) {
    if (o.signal.aborted) throw err;
    throw new SkillError(`could not fetch input url ${url}: ${fetchFailure(err, o.urlTimeoutMs)}`);
  }
  if (!res.ok) throw new SkillError(`input url ${url} answered HTTP ${res.status}`);
  const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const media = isMediaType(contentType);
  const max = media ? Math.max(o.urlMaxBytes, mediaMax) : o.urlMaxBytes;
  const reader = res.body?.getReader();
  if (!reader) return media ? { text: '', bytes: new Uint8Array(0), contentType } : { text: '' };
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new SkillError(`input url ${url} is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  const body = Buffer.concat(chunks);
  return media ? { text: '', bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), contentType } : { text: body.toString('utf8') };
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
        out.push({ ...i, ...(await fetchUrl(i.data, o)) });
        break;
    }
  }
  return out;
}
