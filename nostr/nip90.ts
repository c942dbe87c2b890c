// NIP-90 Data Vending Machines: job requests (5000-5999), results (request kind + 1000) and
// feedback (7000). Pure build/parse functions; the DVM front door lives in dvm/.
// Tag-level helpers are in ./nip90-tags.ts. Encryption is the caller's: parseJobRequest takes a
// decrypt callback and buildJobRequest an encrypt one, so no keys pass through here.
import { canonicalJson, isHex64, type Checked, type NostrEvent } from './nip01.js';
import {
  amountTag,
  checkExtraTags,
  decryptTags,
  fail,
  inputTag,
  isMsat,
  isRelayUrl,
  Nip90Error,
  nowSeconds,
  parseAmount,
  parseCustomer,
  parseInputTag,
  parseMsat,
  parseRequestRef,
  parseRequestTag,
  type DecryptFn,
  type EncryptionScheme,
  type Tags,
} from './nip90-tags.js';
import type { EventTemplate } from './verify.js';

export { detectEncryption, Nip90Error, type DecryptFn, type EncryptionScheme } from './nip90-tags.js';

export const JOB_REQUEST_MIN = 5000;
export const JOB_REQUEST_MAX = 5999;
export const JOB_FEEDBACK_KIND = 7000;

/** Result kind = request kind + 1000, in one place (NIP-90 "Kinds"). */
export const resultKind = (requestKind: number): number => requestKind + 1000;
export const isJobRequestKind = (k: number): boolean => k >= JOB_REQUEST_MIN && k <= JOB_REQUEST_MAX;
export const isJobResultKind = (k: number): boolean => k >= 6000 && k <= 6999;

export const INPUT_TYPES = ['url', 'event', 'job', 'text'] as const;
export type JobInputType = (typeof INPUT_TYPES)[number];

export interface JobInput {
  readonly data: string;
  readonly type: JobInputType;
  readonly relay?: string;
  readonly marker?: string;
}

export const FEEDBACK_STATUSES = ['payment-required', 'processing', 'error', 'success', 'partial'] as const;
export type FeedbackStatus = (typeof FEEDBACK_STATUSES)[number];

/** A parsed job request. For encrypted requests, inputs and params are the decrypted ones. */
export interface JobRequest {
  readonly event: NostrEvent;
  readonly id: string;
  readonly kind: number;
  /** The customer: the request's author. */
  readonly customer: string;
  readonly inputs: readonly JobInput[];
  /** `param` tags in order, as [name, value]. */
  readonly params: readonly (readonly [string, string])[];
  readonly output?: string;
  /** The most the customer will pay, in millisats (`bid` tag). */
  readonly bidMsat?: number;
  /** `relays` tag: where results should also go. */
  readonly relays: readonly string[];
  /** `p` tags: service providers the customer addressed. Empty = anyone. */
  readonly providers: readonly string[];
  /** How the request was encrypted, if it was: replies use the same scheme. */
  readonly encryption?: 'nip04' | 'nip44';
}

/** What parseJobRequest returns: a JobRequest plus every `param` tag in full (`params` keeps name and first value). */
export interface ParsedJobRequest extends JobRequest {
  /** e.g. 5000's `["param", "range", "300", "360"]`, whose end value `params` cannot hold. */
  readonly paramTags: readonly (readonly string[])[];
}

/**
 * Validates a job request (kind 5000-5999). Does not check the id or signature (see verify.ts). For an
 * `["encrypted"]` request the content is decrypted with `decrypt` and its tags (`i`, `param`, ...) are
 * read after the public ones; `p` and `encrypted` are only taken from the public tags.
 */
export function parseJobRequest(e: NostrEvent, decrypt?: DecryptFn): Checked<ParsedJobRequest> {
  if (!isJobRequestKind(e.kind)) return fail(`kind ${e.kind} is not a job request kind (${JOB_REQUEST_MIN}-${JOB_REQUEST_MAX})`);
  let tags: Tags = e.tags;
  let encryption: EncryptionScheme | undefined;
  if (e.tags.some((t) => t[0] === 'encrypted')) {
    const hidden = decryptTags(e, decrypt);
    if (!hidden.ok) return hidden;
    tags = [...e.tags, ...hidden.value.tags.filter((t) => t[0] !== 'p' && t[0] !== 'encrypted')];
    encryption = hidden.value.scheme;
  }
  const inputs: JobInput[] = [];
  const params: (readonly [string, string])[] = [];
  const paramTags: (readonly string[])[] = [];
  const relays: string[] = [];
  const providers: string[] = [];
  // Sets for the de-duplication: `includes` on the arrays was quadratic, and one 512 KB request with a
  // 40,000-value relays tag held the event loop for 1.3 s (found by the fuzz suite's large inputs:
  // test/fuzz/large.test.ts, "a job request of 512 KB").
  const seenRelays = new Set<string>();
  const seenProviders = new Set<string>();
  let output: string | undefined;
  let bidMsat: number | undefined;
  for (const t of tags) {
    switch (t[0]) {
      case 'i': {
        const input = parseInputTag(t);
        if (!input.ok) return input;
        inputs.push(input.value);
        break;
      }
      case 'param':
        if (!t[1] || t[2] === undefined) return fail('param tag needs a name and a value');
        params.push([t[1], t[2]]);
        paramTags.push(t);
        break;
      case 'output':
        if (output !== undefined) return fail('more than one output tag');
        if (!t[1]) return fail('output tag needs a MIME type');
        output = t[1];
        break;
      case 'bid':
        if (bidMsat !== undefined) return fail('more than one bid tag');
        bidMsat = parseMsat(t[1]);
        if (bidMsat === undefined) return fail('bid must be a non-negative integer amount of msat');
        break;
      case 'relays':
        for (const url of t.slice(1)) {
          if (url === '') continue;
          if (!isRelayUrl(url)) return fail(`relays tag holds a value that is not a ws:// or wss:// URL: ${url}`);
          if (!seenRelays.has(url)) {
            seenRelays.add(url);
            relays.push(url);
          }
        }
        break;
      case 'p':
        if (!isHex64(t[1])) return fail('p tag must hold a 64-character lowercase hex pubkey');
        if (!seenProviders.has(t[1])) {
          seenProviders.add(t[1]);
          providers.push(t[1]);
        }
        break;
    }
  }
  const value: ParsedJobRequest = {
    event: e,
    id: e.id,
    kind: e.kind,
    customer: e.pubkey,
    inputs,
    params,
    paramTags,
    relays,
    providers,
    ...(output !== undefined ? { output } : {}),
    ...(bidMsat !== undefined ? { bidMsat } : {}),
    ...(encryption ? { encryption } : {}),
  };
  return { ok: true, value };
}

export interface JobRequestTemplate {
  readonly kind: number;
  readonly inputs?: readonly JobInput[];
  /** [name, value, ...more values]. */
  readonly params?: readonly (readonly [string, string, ...string[]])[];
  readonly output?: string;
  readonly bidMsat?: number;
  readonly relays?: readonly string[];
  readonly providers?: readonly string[];
  /** Other public tags, e.g. `["t", "bitcoin"]`. */
  readonly extraTags?: Tags;
  /**
   * Makes an encrypted request: the JSON array of `i` and `param` tags is passed to this function
   * (e.g. NIP-44 to the provider) and the result becomes the content, with an `["encrypted"]` tag.
   */
  readonly encrypt?: (plaintext: string) => string;
  readonly created_at?: number;
}

const REQUEST_TAGS = ['i', 'param', 'output', 'bid', 'relays', 'p', 'encrypted'];

/** A job request template for clients and tests. Throws Nip90Error for anything parseJobRequest would reject. */
export function buildJobRequest(t: JobRequestTemplate): EventTemplate {
  if (!Number.isInteger(t.kind) || !isJobRequestKind(t.kind)) throw new Nip90Error(`kind ${t.kind} is not a job request kind`);
  const hidden: string[][] = [];
  for (const i of t.inputs ?? []) {
    const tag = inputTag(i);
    const checked = parseInputTag(tag);
    if (!checked.ok) throw new Nip90Error(checked.reason);
    hidden.push(tag);
  }
  for (const p of t.params ?? []) {
    if (!p[0]) throw new Nip90Error('param needs a name');
    hidden.push(['param', ...p]);
  }
  const tags: string[][] = [];
  if (t.output !== undefined) {
    if (!t.output) throw new Nip90Error('output needs a MIME type');
    tags.push(['output', t.output]);
  }
  if (t.bidMsat !== undefined) {
    if (!isMsat(t.bidMsat)) throw new Nip90Error('bidMsat must be a non-negative integer');
    tags.push(['bid', String(t.bidMsat)]);
  }
  if (t.relays?.length) {
    const bad = t.relays.find((r) => !isRelayUrl(r));
    if (bad !== undefined) throw new Nip90Error(`not a ws:// or wss:// URL: ${bad}`);
    tags.push(['relays', ...t.relays]);
  }
  for (const p of t.providers ?? []) {
    if (!isHex64(p)) throw new Nip90Error('provider must be a 64-character lowercase hex pubkey');
    tags.push(['p', p]);
  }
  const extra = checkExtraTags(t.extraTags, REQUEST_TAGS);
  const created_at = t.created_at ?? nowSeconds();
  if (!t.encrypt) return { kind: t.kind, created_at, tags: [...hidden, ...tags, ...extra], content: '' };
  if (!t.providers?.length) throw new Nip90Error('an encrypted request needs a provider (p tag) to encrypt to');
  const content = t.encrypt(JSON.stringify(hidden));
  return { kind: t.kind, created_at, tags: [...tags, ['encrypted'], ...extra], content };
}

// ---- results (6000-6999) ----

export interface JobResultTemplate {
  readonly request: JobRequest;
  /** The payload; for an encrypted request the caller encrypts it (same scheme, to the customer). */
  readonly content: string;
  readonly amountMsat?: number;
  readonly bolt11?: string;
  /** Where the request can be found; goes in the `e` tag. */
  readonly relayHint?: string;
  readonly extraTags?: Tags;
  readonly created_at?: number;
}

const REPLY_TAGS = ['request', 'e', 'i', 'p', 'amount', 'encrypted', 'status'];

const eTag = (id: string, relayHint: string | undefined): string[] => (relayHint ? ['e', id, relayHint] : ['e', id]);

/** A job result template: kind = request kind + 1000; inputs are echoed only when the request was not encrypted. */
export function buildJobResult(t: JobResultTemplate): EventTemplate {
  const r = t.request;
  const tags: (readonly string[])[] = [['request', canonicalJson(r.event)], eTag(r.id, t.relayHint)];
  if (!r.encryption) for (const i of r.inputs) tags.push(inputTag(i));
  tags.push(['p', r.customer]);
  const amount = amountTag(t.amountMsat, t.bolt11);
  if (amount) tags.push(amount);
  if (r.encryption) tags.push(['encrypted']);
  tags.push(...checkExtraTags(t.extraTags, REPLY_TAGS));
  return { kind: resultKind(r.kind), created_at: t.created_at ?? nowSeconds(), tags, content: t.content };
}

/** An `i` tag as a result echoes it: 90.md's example carries only the data, so the rest is optional and unchecked. */
export interface EchoedInput {
  readonly data: string;
  readonly type?: string;
  readonly relay?: string;
  readonly marker?: string;
}

export interface JobResult {
  readonly event: NostrEvent;
  readonly id: string;
  readonly kind: number;
  readonly requestKind: number;
  readonly requestId: string;
  readonly relayHint?: string;
  /** The `p` tag naming the customer (90.md: results "should" tag them); see parseCustomer in nip90-tags.ts. */
  readonly customer?: string;
  /** The `request` tag, parsed and shape-checked (its signature is not verified). */
  readonly request?: NostrEvent;
  readonly inputs: readonly EchoedInput[];
  readonly amountMsat?: number;
  readonly bolt11?: string;
  /** `["encrypted"]`: the content is encrypted to the customer. */
  readonly encrypted: boolean;
  readonly content: string;
}

export function parseJobResult(e: NostrEvent): Checked<JobResult> {
  if (!isJobResultKind(e.kind)) return fail(`kind ${e.kind} is not a job result kind (6000-6999)`);
  const ref = parseRequestRef(e.tags);
  if (!ref.ok) return ref;
  const amount = parseAmount(e.tags);
  if (!amount.ok) return amount;
  const customer = parseCustomer(e);
  if (!customer.ok) return customer;
  const request = parseRequestTag(e.tags, ref.value.requestId, e.kind - 1000);
  if (!request.ok) return request;
  const inputs: EchoedInput[] = [];
  for (const [name, data, type, relay, marker] of e.tags) {
    if (name !== 'i' || data === undefined) continue;
    inputs.push({ data, ...(type ? { type } : {}), ...(relay ? { relay } : {}), ...(marker ? { marker } : {}) });
  }
  const value: JobResult = {
    event: e,
    id: e.id,
    kind: e.kind,
    requestKind: e.kind - 1000,
    ...ref.value,
    ...(customer.value !== undefined ? { customer: customer.value } : {}),
    ...(request.value ? { request: request.value } : {}),
    inputs,
    ...amount.value,
    encrypted: e.tags.some((t) => t[0] === 'encrypted'),
    content: e.content,
  };
  return { ok: true, value };
}

// ---- feedback (7000) ----

/** A status from the wire: the spec's spellings, plus NDK's `payment_required` read as `payment-required`. */
export function normalizeFeedbackStatus(s: string | undefined): FeedbackStatus | undefined {
  if (s === 'payment_required') return 'payment-required';
  return (FEEDBACK_STATUSES as readonly (string | undefined)[]).includes(s) ? (s as FeedbackStatus) : undefined;
}

export interface FeedbackTemplate {
  readonly request: JobRequest;
  readonly status: FeedbackStatus;
  /** Human-readable detail, the status tag's third value. */
  readonly extra?: string;
  readonly amountMsat?: number;
  readonly bolt11?: string;
  /** Empty, or a (partial) result; for an encrypted request the caller encrypts it. */
  readonly content?: string;
  readonly relayHint?: string;
  readonly created_at?: number;
}

/** A kind 7000 template. Emits only the spec's status spellings. */
export function buildFeedback(t: FeedbackTemplate): EventTemplate {
  if (!(FEEDBACK_STATUSES as readonly string[]).includes(t.status)) throw new Nip90Error(`unknown feedback status ${t.status}`);
  const tags: string[][] = [t.extra !== undefined ? ['status', t.status, t.extra] : ['status', t.status]];
  const amount = amountTag(t.amountMsat, t.bolt11);
  if (amount) tags.push(amount);
  tags.push(eTag(t.request.id, t.relayHint), ['p', t.request.customer]);
  return { kind: JOB_FEEDBACK_KIND, created_at: t.created_at ?? nowSeconds(), tags, content: t.content ?? '' };
}

export interface JobFeedback {
  readonly event: NostrEvent;
  readonly id: string;
  readonly requestId: string;
  readonly relayHint?: string;
  readonly customer?: string;
  readonly status: FeedbackStatus;
  readonly extra?: string;
  readonly amountMsat?: number;
  readonly bolt11?: string;
  readonly encrypted: boolean;
  readonly content: string;
}

export function parseFeedback(e: NostrEvent): Checked<JobFeedback> {
  if (e.kind !== JOB_FEEDBACK_KIND) return fail(`kind ${e.kind} is not job feedback (${JOB_FEEDBACK_KIND})`);
  const st = e.tags.find((t) => t[0] === 'status');
  if (!st) return fail('missing status tag');
  const status = normalizeFeedbackStatus(st[1]);
  if (!status) return fail(`unknown feedback status ${JSON.stringify(st[1] ?? '')}`);
  const ref = parseRequestRef(e.tags);
  if (!ref.ok) return ref;
  const amount = parseAmount(e.tags);
  if (!amount.ok) return amount;
  const customer = parseCustomer(e);
  if (!customer.ok) return customer;
  const value: JobFeedback = {
    event: e,
    id: e.id,
    ...ref.value,
    ...(customer.value !== undefined ? { customer: customer.value } : {}),
    status,
    ...(st[2] ? { extra: st[2] } : {}),
    ...amount.value,
    encrypted: e.tags.some((t) => t[0] === 'encrypted'),
    content: e.content,
  };
  return { ok: true, value };
}
