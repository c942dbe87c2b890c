// NIP-90 tag-level helpers for ./nip90.ts (which re-exports the public ones): `i` inputs, `amount`,
// millisat numbers, relay URLs, the `e` and `request` tags of replies, and encrypted request tags.
import { checkEventShape, isHex64, type Checked, type NostrEvent } from './nip01.js';

export type Tags = readonly (readonly string[])[];

export class Nip90Error extends Error {
  override name = 'Nip90Error';
}

/** Same shape as nip90.ts's JobInput (declared there); repeated so this module does not import it back (no cycles). */
export interface InputLike {
  readonly data: string;
  readonly type: 'url' | 'event' | 'job' | 'text';
  readonly relay?: string;
  readonly marker?: string;
}

const TYPES: readonly string[] = ['url', 'event', 'job', 'text'];

export const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A non-negative integer amount of millisats from a tag value. */
export function parseMsat(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,16}$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

export const isMsat = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function parsesAsUrl(s: string): boolean {
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

export function isRelayUrl(s: string): boolean {
  // The WHATWG parser repairs what it is given ("wss:q//r" is wss://q//r, leading spaces and backslashes
  // are dropped or turned into slashes), so the string itself must start ws:// or wss://. Found by the
  // fuzzer: test/fuzz/corpus/nip90/regress-relay-url-without-slashes.json.
  if (!/^wss?:\/\//i.test(s)) return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'wss:' || u.protocol === 'ws:') && u.hostname !== '';
  } catch {
    return false;
  }
}

export function isTagArray(x: unknown): x is string[][] {
  return Array.isArray(x) && x.every((t) => Array.isArray(t) && t.length > 0 && t.every((v) => typeof v === 'string'));
}

/** `["i", data, type, relay?, marker?]`: the type must be one NIP-90 names; event and job data are event ids. */
export function parseInputTag(t: readonly string[]): Checked<InputLike> {
  const [, data, type, relay, marker] = t;
  if (data === undefined) return fail('i tag needs data');
  if (type === undefined || type === '') return fail('i tag needs an input type (url, event, job or text)');
  // The 5050 kind spec's own example uses "prompt", which NIP-90 does not list: read it as text.
  if (type === 'prompt') return { ok: true, value: { data, type: 'text', ...(relay ? { relay } : {}), ...(marker ? { marker } : { marker: 'prompt' }) } };
  if (!TYPES.includes(type)) return fail(`unknown input type ${JSON.stringify(type)} (expected url, event, job or text)`);
  if ((type === 'event' || type === 'job') && !isHex64(data)) return fail(`${type} input must be a 64-character lowercase hex event id`);
  if (type === 'url' && !parsesAsUrl(data)) return fail('url input is not a URL');
  const input = { data, type: type as InputLike['type'], ...(relay ? { relay } : {}), ...(marker ? { marker } : {}) };
  return { ok: true, value: input };
}

export function inputTag(i: InputLike): string[] {
  const t = ['i', i.data, i.type];
  if (i.relay !== undefined || i.marker !== undefined) t.push(i.relay ?? '');
  if (i.marker !== undefined) t.push(i.marker);
  return t;
}

/** `["amount", msat, bolt11?]`, or none when no amount is asked. A bolt11 without an amount is a mistake. */
export function amountTag(amountMsat: number | undefined, bolt11: string | undefined): string[] | undefined {
  if (amountMsat === undefined) {
    if (bolt11 !== undefined) throw new Nip90Error('bolt11 needs amountMsat');
    return undefined;
  }
  if (!isMsat(amountMsat)) throw new Nip90Error('amountMsat must be a non-negative integer');
  return bolt11 === undefined ? ['amount', String(amountMsat)] : ['amount', String(amountMsat), bolt11];
}

export interface Amount {
  readonly amountMsat?: number;
  readonly bolt11?: string;
}

/** The first `amount` tag of a result or feedback event. */
export function parseAmount(tags: Tags): Checked<Amount> {
  const t = tags.find((x) => x[0] === 'amount');
  if (!t) return { ok: true, value: {} };
  const amountMsat = parseMsat(t[1]);
  if (amountMsat === undefined) return fail('amount must be a non-negative integer amount of msat');
  return { ok: true, value: t[2] ? { amountMsat, bolt11: t[2] } : { amountMsat } };
}

/** The `e` tag naming the job request, with its relay hint. */
export function parseRequestRef(tags: Tags): Checked<{ requestId: string; relayHint?: string }> {
  const t = tags.find((x) => x[0] === 'e');
  if (!t) return fail('missing e tag (the job request id)');
  if (!isHex64(t[1])) return fail('e tag must hold a 64-character lowercase hex event id');
  return { ok: true, value: t[2] ? { requestId: t[1], relayHint: t[2] } : { requestId: t[1] } };
}

/**
 * The customer a reply addresses: the first `p` that is not the reply's own author (NDK's feedback tags
 * the provider too, and first), else the first `p` (a customer running their own DVM). Every `p` must be hex.
 */
export function parseCustomer(e: Pick<NostrEvent, 'pubkey' | 'tags'>): Checked<string | undefined> {
  const ps = e.tags.filter((t) => t[0] === 'p').map((t) => t[1]);
  if (!ps.every(isHex64)) return fail('p tag must hold a 64-character lowercase hex pubkey');
  return { ok: true, value: ps.find((p) => p !== e.pubkey) ?? ps[0] };
}

/** Refuses extra tags that would shadow the ones a builder owns (our convention: setting a tag replaces it). */
export function checkExtraTags(extra: Tags | undefined, reserved: readonly string[]): Tags {
  for (const t of extra ?? []) {
    if (t.length === 0 || !t.every((v) => typeof v === 'string')) throw new Nip90Error('extra tags must be non-empty arrays of strings');
    if (reserved.includes(t[0]!)) throw new Nip90Error(`extraTags may not set ${t[0]} (the builder owns it)`);
  }
  return extra ?? [];
}

// ---- encrypted requests ----

export type EncryptionScheme = 'nip04' | 'nip44';
/** Decrypts a request's content; returns undefined (or throws) when it cannot. */
export type DecryptFn = (ciphertext: string, scheme: EncryptionScheme) => string | undefined;

/** NIP-04 content is `base64?iv=base64`; anything else is taken to be a NIP-44 (v2) payload. */
export const detectEncryption = (content: string): EncryptionScheme => (content.includes('?iv=') ? 'nip04' : 'nip44');

/** The tags hidden in an `["encrypted"]` request's content. */
export function decryptTags(e: NostrEvent, decrypt: DecryptFn | undefined): Checked<{ tags: Tags; scheme: EncryptionScheme }> {
  if (!e.tags.some((t) => t[0] === 'p')) return fail('encrypted request has no p tag (the provider it is encrypted to)');
  if (e.content === '') return fail('encrypted request has empty content');
  const scheme = detectEncryption(e.content);
  if (!decrypt) return fail(`encrypted request (${scheme}) but no decrypt function`);
  let plain: string | undefined;
  try {
    plain = decrypt(e.content, scheme);
  } catch (err) {
    return fail(`encrypted request: ${scheme} decryption failed${err instanceof Error ? `: ${err.message}` : ''}`);
  }
  if (plain === undefined) return fail(`encrypted request: ${scheme} decryption failed`);
  let tags: unknown;
  try {
    tags = JSON.parse(plain);
  } catch {
    return fail('encrypted request: decrypted content is not JSON');
  }
  if (!isTagArray(tags)) return fail('encrypted request: decrypted content is not an array of tags');
  return { ok: true, value: { tags, scheme } };
}

/** A result's `request` tag (the stringified request), shape-checked against its `e` tag and kind; absent is fine. */
export function parseRequestTag(tags: Tags, requestId: string, requestKind: number): Checked<NostrEvent | undefined> {
  const raw = tags.find((t) => t[0] === 'request')?.[1];
  if (raw === undefined) return { ok: true, value: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fail('request tag is not JSON');
  }
  const shape = checkEventShape(parsed);
  if (!shape.ok) return fail(`request tag is not an event: ${shape.reason}`);
  if (shape.value.id !== requestId) return fail('request tag and e tag name different events');
  if (shape.value.kind !== requestKind) return fail(`request tag has kind ${shape.value.kind}, not ${requestKind}`);
  return { ok: true, value: shape.value };
}
