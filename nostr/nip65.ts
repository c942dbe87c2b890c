// NIP-65 relay list metadata: the replaceable kind 10002 with `r` tags, each optionally marked
// `read` or `write` (no marker = both). Pure build/parse; choosing relays from it is the caller's.
import type { Checked, NostrEvent } from './nip01.js';
import type { EventTemplate } from './verify.js';

export const RELAY_LIST_KIND = 10002;

export class Nip65Error extends Error {
  override name = 'Nip65Error';
}

export interface RelayListEntry {
  readonly url: string;
  readonly read: boolean;
  readonly write: boolean;
}

export interface RelayList {
  readonly event: NostrEvent;
  /** One entry per normalized URL, in first-seen order; duplicates are merged. */
  readonly relays: readonly RelayListEntry[];
  /** Where the author reads mentions (send events that tag them here). */
  readonly read: readonly string[];
  /** Where the author writes (fetch their events from here). */
  readonly write: readonly string[];
  /** `r` tags that were not understood (not a ws:// or wss:// URL, or an unknown marker), kept for the caller to see. */
  readonly ignored: readonly (readonly string[])[];
}

/**
 * Lowercases scheme and host, drops a default port, the fragment and a trailing slash, so the same relay
 * compares equal however it was written. Like nostr-tools' normalizeURL, except that a bare host is
 * written without the `/` (as relay lists and 65.md write it) and query parameters are not sorted. Undefined for anything that is not a ws:// or wss:// URL.
 */
export function normalizeRelayUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'wss:' && u.protocol !== 'ws:') || u.hostname === '' || u.username || u.password) return undefined;
  u.hash = '';
  if (u.pathname.length > 1 && u.pathname.endsWith('/')) u.pathname = u.pathname.slice(0, -1);
  const s = u.toString(); // WHATWG URL already lowercases the host and drops default ports
  return u.pathname === '/' && !u.search ? s.slice(0, -1) : s;
}

/** Merges entries for the same relay; throws for a bad URL or an entry that is neither read nor write. */
function merge(entries: readonly RelayListEntry[]): RelayListEntry[] {
  const byUrl = new Map<string, { read: boolean; write: boolean }>();
  for (const e of entries) {
    const url = normalizeRelayUrl(e.url);
    if (url === undefined) throw new Nip65Error(`not a ws:// or wss:// URL: ${e.url}`);
    if (!e.read && !e.write) throw new Nip65Error(`relay ${url} is neither read nor write`);
    const prev = byUrl.get(url);
    byUrl.set(url, { read: e.read || (prev?.read ?? false), write: e.write || (prev?.write ?? false) });
  }
  return [...byUrl].map(([url, m]) => ({ url, ...m }));
}

export function buildRelayList(entries: readonly RelayListEntry[], created_at: number = Math.floor(Date.now() / 1000)): EventTemplate {
  const tags = merge(entries).map((e) => (e.read && e.write ? ['r', e.url] : ['r', e.url, e.read ? 'read' : 'write']));
  return { kind: RELAY_LIST_KIND, created_at, tags, content: '' };
}

/** Reads a kind 10002 event (not its signature). Unusable `r` tags are collected in `ignored`, not fatal. */
export function parseRelayList(e: NostrEvent): Checked<RelayList> {
  if (e.kind !== RELAY_LIST_KIND) return { ok: false, reason: `kind ${e.kind} is not a relay list (${RELAY_LIST_KIND})` };
  const entries: RelayListEntry[] = [];
  const ignored: (readonly string[])[] = [];
  for (const t of e.tags) {
    if (t[0] !== 'r') continue;
    const url = t[1] === undefined ? undefined : normalizeRelayUrl(t[1]);
    const marker = t[2] ?? '';
    if (url === undefined || (marker !== '' && marker !== 'read' && marker !== 'write')) {
      ignored.push(t);
      continue;
    }
    entries.push({ url, read: marker !== 'write', write: marker !== 'read' });
  }
  const relays = merge(entries);
  return {
    ok: true,
    value: {
      event: e,
      relays,
      read: relays.filter((r) => r.read).map((r) => r.url),
      write: relays.filter((r) => r.write).map((r) => r.url),
      ignored,
    },
  };
}
