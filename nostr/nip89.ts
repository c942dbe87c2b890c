// NIP-89 application handlers: kind 31990 handler information (how a DVM announces the job kinds it
// serves, with kind-0-like metadata in the content) and kind 31989 recommendations. Pure build/parse.
import { isHex64, type Checked, type Filter, type NostrEvent } from './nip01.js';
import type { EventTemplate } from './verify.js';

export const HANDLER_INFO_KIND = 31990;
export const RECOMMENDATION_KIND = 31989;

export class Nip89Error extends Error {
  override name = 'Nip89Error';
}

/** Platform tags a handler can carry (89.md shows `web` and `ios`); each is [platform, url, nip19-entity?]. */
export const PLATFORMS = ['web', 'ios', 'android', 'macos', 'windows', 'linux'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * kind-0-style metadata for the content. DVMs add `encryptionSupported` (dvm-kinds/nip89.md). Unknown
 * keys are kept as they are; the known ones are type-checked when parsing.
 */
export interface HandlerMetadata {
  readonly name?: string;
  readonly display_name?: string;
  readonly about?: string;
  readonly picture?: string;
  readonly image?: string;
  readonly banner?: string;
  readonly website?: string;
  readonly lud16?: string;
  readonly nip05?: string;
  readonly encryptionSupported?: boolean;
  readonly [key: string]: unknown;
}

const STRING_FIELDS = ['name', 'display_name', 'about', 'picture', 'image', 'banner', 'website', 'lud16', 'nip05'];

export interface PlatformHandler {
  readonly platform: Platform;
  /** URL with `<bech32>` where the client puts the NIP-19 entity. */
  readonly url: string;
  /** The NIP-19 entity type this URL takes (`nevent`, `nprofile`, ...); absent = any other entity. */
  readonly entity?: string;
}

/** `latest` / `next` site manifest references: an address and an optional relay hint. */
export interface AddressRef {
  readonly address: string;
  readonly relay?: string;
}

export interface HandlerInfoTemplate {
  /** The `d` identifier (89.md: a random id). */
  readonly d: string;
  /** Supported event kinds, one `k` tag each (for a DVM: the job request kinds it serves). */
  readonly kinds: readonly number[];
  /** Omit to let clients use the author's kind 0. */
  readonly metadata?: HandlerMetadata;
  readonly platforms?: readonly PlatformHandler[];
  /** `t` tags, e.g. what the DVM specializes in (90.md Appendix 2). */
  readonly topics?: readonly string[];
  readonly latest?: AddressRef;
  readonly next?: AddressRef;
  readonly created_at?: number;
  /**
   * Timmy: the pubkey of the instance this agent works for, as `["p", <instance>, "", "instance"]`;
   * peers believe an instance announcement's agent list only where the agents say so themselves.
   */
  readonly instance?: string;
}

export interface HandlerInfo {
  readonly event: NostrEvent;
  /** `31990:<pubkey>:<d>`, what recommendations point at. */
  readonly address: string;
  readonly d: string;
  readonly kinds: readonly number[];
  /** Absent when the content is empty. */
  readonly metadata?: HandlerMetadata;
  readonly platforms: readonly PlatformHandler[];
  readonly topics: readonly string[];
  readonly latest?: AddressRef;
  readonly next?: AddressRef;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
const isKind = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;
const isPlatform = (s: string | undefined): s is Platform => (PLATFORMS as readonly (string | undefined)[]).includes(s);

export const handlerAddress = (pubkey: string, d: string): string => `${HANDLER_INFO_KIND}:${pubkey}:${d}`;
const HANDLER_ADDRESS = /^31990:[0-9a-f]{64}:/;

const refTag = (name: string, r: AddressRef): string[] => (r.relay ? [name, r.address, r.relay] : [name, r.address]);

export function buildHandlerInfo(t: HandlerInfoTemplate): EventTemplate {
  if (typeof t.d !== 'string' || t.d === '') throw new Nip89Error('d must be a non-empty string');
  if (t.kinds.length === 0) throw new Nip89Error('a handler needs at least one kind');
  const tags: string[][] = [['d', t.d]];
  for (const k of new Set(t.kinds)) {
    if (!isKind(k)) throw new Nip89Error(`invalid kind ${k}`);
    tags.push(['k', String(k)]);
  }
  for (const topic of t.topics ?? []) tags.push(['t', topic]);
  if (t.latest) tags.push(refTag('latest', t.latest));
  if (t.next) tags.push(refTag('next', t.next));
  if (t.instance !== undefined) {
    if (!/^[0-9a-f]{64}$/.test(t.instance)) throw new Nip89Error('instance must be a hex pubkey');
    tags.push(['p', t.instance, '', 'instance']);
  }
  for (const p of t.platforms ?? []) {
    if (!isPlatform(p.platform)) throw new Nip89Error(`unknown platform ${p.platform}`);
    tags.push(p.entity ? [p.platform, p.url, p.entity] : [p.platform, p.url]);
  }
  const content = t.metadata === undefined ? '' : JSON.stringify(t.metadata);
  return { kind: HANDLER_INFO_KIND, created_at: t.created_at ?? nowSeconds(), tags, content };
}

function parseMetadata(content: string): Checked<HandlerMetadata | undefined> {
  if (content.trim() === '') return { ok: true, value: undefined };
  let m: unknown;
  try {
    m = JSON.parse(content);
  } catch {
    return fail('content is not JSON');
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return fail('content is not a JSON object');
  const o = m as Record<string, unknown>;
  for (const k of STRING_FIELDS) if (o[k] !== undefined && typeof o[k] !== 'string') return fail(`content: ${k} must be a string`);
  if (o.encryptionSupported !== undefined && typeof o.encryptionSupported !== 'boolean')
    return fail('content: encryptionSupported must be a boolean');
  return { ok: true, value: o as HandlerMetadata };
}

function parseRef(t: readonly string[] | undefined): AddressRef | undefined {
  if (!t?.[1]) return undefined;
  return t[2] ? { address: t[1], relay: t[2] } : { address: t[1] };
}

/** Validates a kind 31990 event (not its signature). */
export function parseHandlerInfo(e: NostrEvent): Checked<HandlerInfo> {
  if (e.kind !== HANDLER_INFO_KIND) return fail(`kind ${e.kind} is not handler information (${HANDLER_INFO_KIND})`);
  const d = e.tags.find((t) => t[0] === 'd')?.[1];
  if (d === undefined) return fail('missing d tag');
  const kinds: number[] = [];
  const topics: string[] = [];
  const platforms: PlatformHandler[] = [];
  for (const t of e.tags) {
    const [name, v, extra] = t;
    if (name === 'k') {
      const k = v !== undefined && /^\d{1,5}$/.test(v) ? Number(v) : NaN;
      if (!isKind(k)) return fail(`k tag must hold an event kind, not ${JSON.stringify(v ?? '')}`);
      if (!kinds.includes(k)) kinds.push(k);
    } else if (name === 't' && v) topics.push(v);
    else if (isPlatform(name) && v) platforms.push(extra ? { platform: name, url: v, entity: extra } : { platform: name, url: v });
  }
  if (kinds.length === 0) return fail('no k tag (supported kinds)');
  const metadata = parseMetadata(e.content);
  if (!metadata.ok) return metadata;
  const latest = parseRef(e.tags.find((t) => t[0] === 'latest'));
  const next = parseRef(e.tags.find((t) => t[0] === 'next'));
  const value: HandlerInfo = {
    event: e,
    address: handlerAddress(e.pubkey, d),
    d,
    kinds,
    ...(metadata.value ? { metadata: metadata.value } : {}),
    platforms,
    topics,
    ...(latest ? { latest } : {}),
    ...(next ? { next } : {}),
  };
  return { ok: true, value };
}

// ---- recommendations (31989) ----

export interface RecommendedHandler {
  /** `31990:<pubkey>:<d>`. */
  readonly address: string;
  readonly relay?: string;
  readonly platform?: string;
}

export interface RecommendationTemplate {
  /** The event kind the handlers are recommended for (the `d` tag). */
  readonly kind: number;
  readonly handlers: readonly RecommendedHandler[];
  readonly created_at?: number;
}

export interface Recommendation {
  readonly event: NostrEvent;
  readonly kind: number;
  readonly handlers: readonly RecommendedHandler[];
}

export function buildRecommendation(t: RecommendationTemplate): EventTemplate {
  if (!isKind(t.kind)) throw new Nip89Error(`invalid kind ${t.kind}`);
  const tags: string[][] = [['d', String(t.kind)]];
  for (const h of t.handlers) {
    if (!HANDLER_ADDRESS.test(h.address)) throw new Nip89Error('handler address must be 31990:<pubkey>:<d>');
    const tag = ['a', h.address];
    if (h.relay !== undefined || h.platform !== undefined) tag.push(h.relay ?? '');
    if (h.platform !== undefined) tag.push(h.platform);
    tags.push(tag);
  }
  return { kind: RECOMMENDATION_KIND, created_at: t.created_at ?? nowSeconds(), tags, content: '' };
}

export function parseRecommendation(e: NostrEvent): Checked<Recommendation> {
  if (e.kind !== RECOMMENDATION_KIND) return fail(`kind ${e.kind} is not a recommendation (${RECOMMENDATION_KIND})`);
  const d = e.tags.find((t) => t[0] === 'd')?.[1];
  const kind = d !== undefined && /^\d{1,5}$/.test(d) ? Number(d) : NaN;
  if (!isKind(kind)) return fail('d tag must hold the recommended event kind');
  const handlers: RecommendedHandler[] = [];
  for (const [name, address, relay, platform] of e.tags) {
    if (name !== 'a') continue;
    if (address === undefined || !HANDLER_ADDRESS.test(address)) return fail('a tag must reference a handler: 31990:<pubkey>:<d>');
    handlers.push({ address, ...(relay ? { relay } : {}), ...(platform ? { platform } : {}) });
  }
  return { ok: true, value: { event: e, kind, handlers } };
}

// ---- discovery filters (89.md "User flow") ----

/** Handlers announcing `kind` (for DVMs: providers serving that job kind). */
export function handlerInfoFilter(kind: number, authors?: readonly string[]): Filter {
  if (authors && !authors.every(isHex64)) throw new Nip89Error('authors must be 64-character lowercase hex pubkeys');
  return { kinds: [HANDLER_INFO_KIND], '#k': [String(kind)], ...(authors ? { authors: [...authors] } : {}) };
}

/** Recommendations for `kind` by `authors` (a user and their follows). */
export function recommendationFilter(kind: number, authors?: readonly string[]): Filter {
  if (authors && !authors.every(isHex64)) throw new Nip89Error('authors must be 64-character lowercase hex pubkeys');
  return { kinds: [RECOMMENDATION_KIND], '#d': [String(kind)], ...(authors ? { authors: [...authors] } : {}) };
}
