// NIP-05 DNS identifiers: `name@domain` parsing, local-part validation, and the
// `/.well-known/nostr.json` document (built for the names we serve, parsed when we check someone's).
// Pure: fetching is the caller's (and must not follow redirects, as 05.md requires).
import { isHex64, type Checked } from './nip01.js';

export class Nip05Error extends Error {
  override name = 'Nip05Error';
}

/** 05.md: the local-part "MUST only use characters a-z0-9-_."; we compare case-insensitively and emit lowercase. */
const NAME = /^[a-z0-9._-]+$/;
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})+$`);
/** The root identifier `_@domain`, which clients may show as just the domain. */
export const ROOT_NAME = '_';

export const isValidName = (name: string): boolean => typeof name === 'string' && NAME.test(name.toLowerCase());

/** Lowercases and validates a local-part. */
export function normalizeName(name: string): string {
  if (!isValidName(name)) throw new Nip05Error(`invalid name ${JSON.stringify(name)}: only a-z 0-9 - _ . are allowed`);
  return name.toLowerCase();
}

export interface Nip05Identifier {
  /** Lowercase local-part; `_` for the root identifier. */
  readonly name: string;
  /** Lowercase domain. */
  readonly domain: string;
}

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** Parses `name@domain`, `_@domain`, or a bare `domain` (read as `_@domain`, like nostr-tools). */
export function parseIdentifier(s: string): Checked<Nip05Identifier> {
  if (typeof s !== 'string') return fail('identifier must be a string');
  const lower = s.toLowerCase();
  const at = lower.indexOf('@');
  if (at !== lower.lastIndexOf('@')) return fail('identifier has more than one @');
  const name = at < 0 ? ROOT_NAME : lower.slice(0, at);
  const domain = at < 0 ? lower : lower.slice(at + 1);
  if (!NAME.test(name)) return fail('invalid name: only a-z 0-9 - _ . are allowed');
  if (!DOMAIN.test(domain)) return fail('invalid domain');
  return { ok: true, value: { name, domain } };
}

export const isRoot = (id: Nip05Identifier): boolean => id.name === ROOT_NAME;

/** How to show it: just the domain for `_@domain`, otherwise `name@domain`. */
export const displayIdentifier = (id: Nip05Identifier): string => (isRoot(id) ? id.domain : `${id.name}@${id.domain}`);

/** The URL a client fetches to check the identifier. */
export const nostrJsonUrl = (id: Nip05Identifier): string =>
  `https://${id.domain}/.well-known/nostr.json?name=${encodeURIComponent(id.name)}`;

// ---- the document ----

export interface NostrJson {
  /** name -> lowercase hex pubkey. */
  readonly names: Readonly<Record<string, string>>;
  /** pubkey -> relay URLs (05.md: recommended). */
  readonly relays?: Readonly<Record<string, readonly string[]>>;
}

function isRelayUrl(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'wss:' || u.protocol === 'ws:') && u.hostname !== '';
  } catch {
    return false;
  }
}

function normalizePubkey(pubkey: string): string {
  const lower = typeof pubkey === 'string' ? pubkey.toLowerCase() : '';
  if (!isHex64(lower)) throw new Nip05Error(`invalid pubkey ${JSON.stringify(pubkey)}: expected 64 hex characters`);
  return lower;
}

/**
 * The `/.well-known/nostr.json` document for `names` (name -> hex pubkey) with the relays of the
 * pubkeys it serves. With `only` (the `?name=` query), just that name, or none if we do not serve it.
 * Throws Nip05Error for an invalid name, a duplicate name (names are case-insensitive), a bad pubkey
 * or a relay URL that is not ws:// or wss://.
 */
export function buildNostrJson(
  names: Readonly<Record<string, string>>,
  relays: Readonly<Record<string, readonly string[]>> = {},
  opts: { only?: string } = {},
): NostrJson {
  // Maps, then Object.fromEntries: a name like `__proto__` (valid per 05.md) stays an own property.
  const out = new Map<string, string>();
  for (const [name, pubkey] of Object.entries(names)) {
    const n = normalizeName(name);
    if (out.has(n)) throw new Nip05Error(`duplicate name ${n}`);
    out.set(n, normalizePubkey(pubkey));
  }
  const relayMap = new Map<string, string[]>();
  for (const [pubkey, urls] of Object.entries(relays)) {
    const pk = normalizePubkey(pubkey);
    const bad = urls.find((u) => !isRelayUrl(u));
    if (bad !== undefined) throw new Nip05Error(`not a ws:// or wss:// URL: ${bad}`);
    relayMap.set(pk, [...new Set([...(relayMap.get(pk) ?? []), ...urls])]);
  }
  let served = [...out];
  if (opts.only !== undefined) {
    const n = opts.only.toLowerCase();
    served = served.filter(([name]) => name === n);
  }
  const servedRelays: [string, string[]][] = [];
  for (const pk of new Set(served.map(([, pk]) => pk))) {
    const urls = relayMap.get(pk);
    if (urls?.length) servedRelays.push([pk, urls]);
  }
  const doc = { names: Object.fromEntries(served) };
  return servedRelays.length ? { ...doc, relays: Object.fromEntries(servedRelays) } : doc;
}

/**
 * Validates a fetched document. Entries that break the spec (bad name, non-lowercase-hex pubkey,
 * non-string relay) are dropped rather than failing the whole document; `names` must be an object.
 */
export function parseNostrJson(x: unknown): Checked<NostrJson> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return fail('document is not a JSON object');
  const doc = x as Record<string, unknown>;
  const rawNames = doc.names;
  if (typeof rawNames !== 'object' || rawNames === null || Array.isArray(rawNames)) return fail('names is not an object');
  const names: [string, string][] = [];
  for (const [name, pk] of Object.entries(rawNames)) if (isValidName(name) && isHex64(pk)) names.push([name.toLowerCase(), pk]);
  const rawRelays = doc.relays;
  if (typeof rawRelays !== 'object' || rawRelays === null || Array.isArray(rawRelays)) return { ok: true, value: { names: Object.fromEntries(names) } };
  const relays: [string, string[]][] = [];
  for (const [pk, urls] of Object.entries(rawRelays)) {
    if (isHex64(pk) && Array.isArray(urls)) relays.push([pk, urls.filter((u): u is string => isRelayUrl(u))]);
  }
  return { ok: true, value: { names: Object.fromEntries(names), relays: Object.fromEntries(relays) } };
}

/** The pubkey (and relays) a document gives for `name`, if any. */
export function lookupName(doc: NostrJson, name: string): { pubkey: string; relays: readonly string[] } | undefined {
  const n = name.toLowerCase();
  const pubkey = Object.hasOwn(doc.names, n) ? doc.names[n] : undefined;
  if (pubkey === undefined) return undefined;
  return { pubkey, relays: doc.relays?.[pubkey] ?? [] };
}
