// The events an agent publishes about itself, as templates for its Signer: its kind 0 profile,
// its NIP-65 relay list (kind 10002), its NIP-39 identities (kind 10011), and its heartbeat
// (kind 21281, Timmy's; see docs/agents.md). Pure builders and a heartbeat parser; no I/O.
import { tagValue, type NostrEvent } from '../nostr/nip01.js';
import { parseIdentifier } from '../nostr/nip05.js';
import { buildExternalIdentities, type ExternalIdentity } from '../nostr/nip39.js';
import { buildRelayList } from '../nostr/nip65.js';
import type { EventTemplate } from '../nostr/verify.js';
import type { Persona } from './personas/schema.js';

export { RELAY_LIST_KIND } from '../nostr/nip65.js';
export { EXTERNAL_IDENTITIES_KIND, type ExternalIdentity } from '../nostr/nip39.js';
export const PROFILE_KIND = 0;
/** Agent heartbeat: ephemeral (NIP-01 20000-29999), so relays pass it on without storing it. */
export const HEARTBEAT_KIND = 21281;

export interface ProfileOptions {
  /** NIP-05 identifier, e.g. `scribe@example.com` (local part a-z 0-9 - _ .). */
  nip05?: string;
  /** Lightning address for zaps/payments, when the wallet has one. */
  lud16?: string;
  /** BOLT12 offer (lno1...), when the wallet has one. Not a standard kind 0 field: written as `bolt12`. */
  offer?: string;
  website?: string;
}

/** Kind 0: name, display_name, about, picture, nip05, lud16 and `bot: true` (an automated account). */
export function profileTemplate(p: Persona, o: ProfileOptions, createdAt: number): EventTemplate {
  const nip05 = o.nip05 === undefined ? undefined : parseIdentifier(o.nip05);
  if (nip05 && !nip05.ok) throw new TypeError(`not a NIP-05 identifier: ${o.nip05} (${nip05.reason})`);
  if (o.lud16 !== undefined && !/^[^@\s]+@[^@\s]+$/.test(o.lud16)) throw new TypeError(`not a lightning address: ${o.lud16}`);
  const meta: Record<string, unknown> = { name: p.name, display_name: p.displayName, about: p.about };
  if (p.picture) meta.picture = p.picture;
  if (o.website) meta.website = o.website;
  if (nip05?.ok) meta.nip05 = `${nip05.value.name}@${nip05.value.domain}`;
  if (o.lud16) meta.lud16 = o.lud16;
  if (o.offer) meta.bolt12 = o.offer;
  meta.bot = true;
  return { kind: PROFILE_KIND, created_at: createdAt, tags: [], content: JSON.stringify(meta) };
}

export interface RelayEntry {
  readonly url: string;
  readonly marker?: 'read' | 'write';
}

/** Kind 10002 (NIP-65, nostr/nip65.ts): one `r` tag per relay, with a `read`/`write` marker when not both. */
export function relayListTemplate(relays: readonly RelayEntry[], createdAt: number): EventTemplate {
  return buildRelayList(
    relays.map((r) => ({ url: r.url, read: r.marker !== 'write', write: r.marker !== 'read' })),
    createdAt,
  );
}

/** Kind 10011 (NIP-39, nostr/nip39.ts): `["i", "<platform>:<identity>", "<proof>"]`. */
export const identitiesTemplate = (ids: readonly ExternalIdentity[], createdAt: number): EventTemplate => buildExternalIdentities(ids, createdAt);

// ---- heartbeats ----

export const AGENT_STATUSES = ['idle', 'busy', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export interface HeartbeatInfo {
  readonly status: AgentStatus;
  /** The NIP-90 request kinds the agent serves. */
  readonly kinds: readonly number[];
  /** Jobs running now. */
  readonly active: number;
  /** Jobs it will run at once. */
  readonly capacity: number;
  /** Seconds between beats; the beat expires after three of them. */
  readonly intervalSec: number;
}

export function heartbeatTemplate(h: HeartbeatInfo, createdAt: number): EventTemplate {
  const tags: string[][] = [
    ['status', h.status],
    ...h.kinds.map((k) => ['k', String(k)]),
    ['load', String(h.active), String(h.capacity)],
    ['expiration', String(createdAt + 3 * h.intervalSec)],
    ['alt', `Timmy agent heartbeat: ${h.status}`],
  ];
  return { kind: HEARTBEAT_KIND, created_at: createdAt, tags, content: '' };
}

export interface Heartbeat {
  readonly pubkey: string;
  readonly createdAt: number;
  readonly status: AgentStatus;
  readonly kinds: readonly number[];
  readonly active: number;
  readonly capacity: number;
  /** After this (unix seconds) without a newer beat, the agent counts as gone. */
  readonly expiresAt: number;
}

/** Reads a heartbeat; undefined for anything that is not a well-formed one. Does not check the signature. */
export function parseHeartbeat(e: NostrEvent): Heartbeat | undefined {
  if (e.kind !== HEARTBEAT_KIND) return undefined;
  const status = tagValue(e, 'status');
  if (!AGENT_STATUSES.includes(status as AgentStatus)) return undefined;
  const load = e.tags.find((t) => t[0] === 'load');
  const active = Number(load?.[1]);
  const capacity = Number(load?.[2]);
  const expiresAt = Number(tagValue(e, 'expiration'));
  if (!Number.isInteger(active) || !Number.isInteger(capacity) || !Number.isInteger(expiresAt)) return undefined;
  const kinds = e.tags.filter((t) => t[0] === 'k').map((t) => Number(t[1])).filter((k) => Number.isInteger(k));
  return { pubkey: e.pubkey, createdAt: e.created_at, status: status as AgentStatus, kinds, active, capacity, expiresAt };
}

/** Is the agent alive at `now` by this heartbeat? (`offline` is a clean goodbye.) */
export const isAlive = (h: Heartbeat, now: number): boolean => h.status !== 'offline' && now < h.expiresAt;
