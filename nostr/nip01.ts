// NIP-01: the event, its canonical serialization and id, the filter, and the wire messages.
// Pure functions over plain data; no I/O. Signature checks live in ./verify.ts.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

export interface NostrEvent {
  readonly id: string;
  readonly pubkey: string;
  readonly created_at: number;
  readonly kind: number;
  readonly tags: readonly (readonly string[])[];
  readonly content: string;
  readonly sig: string;
}

export type UnsignedEvent = Omit<NostrEvent, 'id' | 'sig'>;

/** A subscription filter. Tag conditions use keys like `#e`, `#p`, `#t` (single letter). */
export interface Filter {
  ids?: string[];
  authors?: string[];
  kinds?: number[];
  since?: number;
  until?: number;
  limit?: number;
  search?: string;
  [tag: `#${string}`]: string[] | undefined;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

export const isHex64 = (s: unknown): s is string => typeof s === 'string' && HEX64.test(s);

/** The exact byte string whose sha256 is the event id. JSON.stringify applies NIP-01's escaping rules. */
export function serializeEvent(e: UnsignedEvent): string {
  return JSON.stringify([0, e.pubkey, e.created_at, e.kind, e.tags, e.content]);
}

export function getEventHash(e: UnsignedEvent): string {
  return bytesToHex(sha256(utf8ToBytes(serializeEvent(e))));
}

/** The canonical JSON form we store and send: the seven NIP-01 fields, in a fixed order, nothing else. */
export function canonicalJson(e: NostrEvent): string {
  return JSON.stringify({
    id: e.id,
    pubkey: e.pubkey,
    created_at: e.created_at,
    kind: e.kind,
    tags: e.tags,
    content: e.content,
    sig: e.sig,
  });
}

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Structural validation: types, hex lengths, integer ranges. Does not check the id hash or signature. */
export function checkEventShape(x: unknown): Checked<NostrEvent> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return { ok: false, reason: 'event is not an object' };
  const o = x as Record<string, unknown>;
  if (!isHex64(o.id)) return { ok: false, reason: 'id must be 64 lowercase hex characters' };
  if (!isHex64(o.pubkey)) return { ok: false, reason: 'pubkey must be 64 lowercase hex characters' };
  if (typeof o.sig !== 'string' || !HEX128.test(o.sig)) return { ok: false, reason: 'sig must be 128 lowercase hex characters' };
  if (typeof o.created_at !== 'number' || !Number.isSafeInteger(o.created_at) || o.created_at < 0)
    return { ok: false, reason: 'created_at must be a non-negative integer' };
  if (typeof o.kind !== 'number' || !Number.isInteger(o.kind) || o.kind < 0 || o.kind > 65535)
    return { ok: false, reason: 'kind must be an integer between 0 and 65535' };
  if (typeof o.content !== 'string') return { ok: false, reason: 'content must be a string' };
  if (!Array.isArray(o.tags)) return { ok: false, reason: 'tags must be an array' };
  for (const t of o.tags) {
    if (!Array.isArray(t)) return { ok: false, reason: 'each tag must be an array' };
    for (const v of t) if (typeof v !== 'string') return { ok: false, reason: 'tag items must be strings' };
  }
  const e: NostrEvent = {
    id: o.id,
    pubkey: o.pubkey,
    created_at: o.created_at,
    kind: o.kind,
    tags: o.tags as string[][],
    content: o.content,
    sig: o.sig,
  };
  return { ok: true, value: e };
}

// ---- kind classes (NIP-01 "Kinds") ----
export type KindClass = 'regular' | 'replaceable' | 'ephemeral' | 'addressable';

export function kindClass(kind: number): KindClass {
  if (kind === 0 || kind === 3 || (kind >= 10000 && kind < 20000)) return 'replaceable';
  if (kind >= 20000 && kind < 30000) return 'ephemeral';
  if (kind >= 30000 && kind < 40000) return 'addressable';
  return 'regular';
}

export const isReplaceable = (k: number): boolean => kindClass(k) === 'replaceable';
export const isEphemeral = (k: number): boolean => kindClass(k) === 'ephemeral';
export const isAddressable = (k: number): boolean => kindClass(k) === 'addressable';

/** First value of the first tag with this name, if any. */
export function tagValue(e: Pick<NostrEvent, 'tags'>, name: string): string | undefined {
  for (const t of e.tags) if (t[0] === name) return t[1];
  return undefined;
}

/** The `d` tag of an addressable event ("" when absent, as NIP-01 says). */
export const dTag = (e: Pick<NostrEvent, 'tags'>): string => tagValue(e, 'd') ?? '';

/** `<kind>:<pubkey>:<d>` address of a replaceable or addressable event. */
export function eventAddress(e: Pick<NostrEvent, 'kind' | 'pubkey' | 'tags'>): string {
  return `${e.kind}:${e.pubkey}:${isAddressable(e.kind) ? dTag(e) : ''}`;
}

/** NIP-01 tie-break: newer first; on equal created_at the lowest id first. Negative = `a` sorts first. */
export function compareNewestFirst(a: Pick<NostrEvent, 'created_at' | 'id'>, b: Pick<NostrEvent, 'created_at' | 'id'>): number {
  if (a.created_at !== b.created_at) return b.created_at - a.created_at;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Does `candidate` win over `current` for the same replaceable/addressable slot? */
export function replaces(candidate: NostrEvent, current: Pick<NostrEvent, 'created_at' | 'id'>): boolean {
  return compareNewestFirst(candidate, current) < 0;
}

// ---- filters ----
const TAG_KEY = /^#[a-zA-Z]$/;

/** Validates a filter from the wire. Unknown non-tag keys are ignored (forward compatible). */
export function checkFilter(x: unknown): Checked<Filter> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return { ok: false, reason: 'filter is not an object' };
  const f: Filter = {};
  for (const [k, v] of Object.entries(x as Record<string, unknown>)) {
    switch (k) {
      case 'ids':
      case 'authors':
        if (!Array.isArray(v) || !v.every(isHex64)) return { ok: false, reason: `${k} must be an array of 64-character lowercase hex strings` };
        f[k] = v as string[];
        break;
      case 'kinds':
        if (!Array.isArray(v) || !v.every((n) => Number.isInteger(n) && n >= 0 && n <= 65535))
          return { ok: false, reason: 'kinds must be an array of integers between 0 and 65535' };
        f.kinds = v as number[];
        break;
      case 'since':
      case 'until':
      case 'limit':
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return { ok: false, reason: `${k} must be a non-negative integer` };
        f[k] = v;
        break;
      case 'search':
        if (typeof v !== 'string') return { ok: false, reason: 'search must be a string' };
        f.search = v;
        break;
      default:
        if (k.startsWith('#')) {
          if (!TAG_KEY.test(k)) return { ok: false, reason: `unsupported tag filter ${k}: only single-letter tags are indexed` };
          if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return { ok: false, reason: `${k} must be an array of strings` };
          // NIP-01: "The ids, authors, #e and #p filter lists MUST contain exact 64-character lowercase hex values."
          if ((k === '#e' || k === '#p') && !v.every(isHex64)) return { ok: false, reason: `${k} must be an array of 64-character lowercase hex strings` };
          f[k as `#${string}`] = v as string[];
        }
    }
  }
  return { ok: true, value: f };
}

/** Tag conditions of a filter as [letter, values] pairs. */
export function filterTags(f: Filter): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const k of Object.keys(f)) {
    if (k.length === 2 && k[0] === '#') {
      const v = f[k as `#${string}`];
      if (v) out.push([k.slice(1), v]);
    }
  }
  return out;
}

/** NIP-01 matching. `search` is not evaluated here (see nip50.ts). */
export function matchFilter(f: Filter, e: NostrEvent): boolean {
  if (f.ids && !f.ids.includes(e.id)) return false;
  if (f.authors && !f.authors.includes(e.pubkey)) return false;
  if (f.kinds && !f.kinds.includes(e.kind)) return false;
  if (f.since !== undefined && e.created_at < f.since) return false;
  if (f.until !== undefined && e.created_at > f.until) return false;
  for (const [name, values] of filterTags(f)) {
    let hit = false;
    for (const t of e.tags) {
      if (t[0] === name && t[1] !== undefined && values.includes(t[1])) {
        hit = true;
        break;
      }
    }
    if (!hit) return false;
  }
  return true;
}

export const matchFilters = (fs: readonly Filter[], e: NostrEvent): boolean => fs.some((f) => matchFilter(f, e));

// ---- wire messages (relay -> client), built in one place ----
export const msgEvent = (subId: string, eventJson: string): string => `["EVENT",${JSON.stringify(subId)},${eventJson}]`;
export const msgOk = (id: string, ok: boolean, message: string): string => JSON.stringify(['OK', id, ok, message]);
export const msgEose = (subId: string): string => JSON.stringify(['EOSE', subId]);
export const msgClosed = (subId: string, message: string): string => JSON.stringify(['CLOSED', subId, message]);
export const msgNotice = (message: string): string => JSON.stringify(['NOTICE', message]);
export const msgAuth = (challenge: string): string => JSON.stringify(['AUTH', challenge]);
export const msgCount = (subId: string, count: number): string => JSON.stringify(['COUNT', subId, { count }]);

/** Machine-readable prefixes for OK and CLOSED messages (NIP-01, NIP-42). */
export type ReasonPrefix = 'duplicate' | 'pow' | 'blocked' | 'rate-limited' | 'invalid' | 'restricted' | 'mute' | 'error' | 'auth-required';
export const reason = (prefix: ReasonPrefix, text: string): string => `${prefix}: ${text}`;
