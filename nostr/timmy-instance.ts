// Timmy's instance announcement (kind 31280, docs/protocol.md "Instance announcements"): who an
// instance is and what its agents serve, so that other instances find it through relays alone.
// Addressable (d = "timmy-instance"), signed by the instance key (the auction coordinator), with a
// NIP-40 expiration: an instance that stops announcing drops out of everyone's peer directory.
// Pure build/parse; the announcer and the directory live in dvm/federation/.
import type { Checked, NostrEvent } from './nip01.js';
import type { EventTemplate } from './verify.js';

export const INSTANCE_KIND = 31280;
export const INSTANCE_D = 'timmy-instance';

export type AuctionAccess = 'closed' | 'peers' | 'open';

export interface AnnouncedAgent {
  readonly pubkey: string;
  readonly name: string;
  readonly kinds: readonly number[];
  /** The agent's current ask per kind for one unit of work, msat (a hint for forwarding). */
  readonly askMsat?: Readonly<Record<string, number>>;
}

export interface InstanceInfo {
  readonly name: string;
  readonly software: string;
  readonly version: string;
  /** Relays where the instance's DVM listens for requests and publishes results. */
  readonly relays: readonly string[];
  /** The dashboard/API base URL, if public. */
  readonly http?: string;
  readonly agents: readonly AnnouncedAgent[];
  /** Who may bid in this instance's auctions (docs/federation.md). */
  readonly auctions: AuctionAccess;
  /** With auctions "open": the least reputation score an outside agent needs. */
  readonly minScore?: number;
  /** Whether this instance takes jobs it cannot serve and forwards them to peers. */
  readonly forwarding: boolean;
  /**
   * Whether its wallet pays and receives over Lightning (BOLT11): then its agents may win peers'
   * paid auctions and be paid, and it forwards and takes forwarded paid jobs. Absent = false.
   */
  readonly lightning?: boolean;
}

export interface InstanceAnnouncement extends InstanceInfo {
  readonly pubkey: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly kinds: readonly number[];
  readonly event: NostrEvent;
}

const HEX64 = /^[0-9a-f]{64}$/;
const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

export function buildInstanceAnnouncement(info: InstanceInfo, o: { createdAt: number; ttlSeconds: number }): EventTemplate {
  const kinds = [...new Set(info.agents.flatMap((a) => a.kinds))].sort((a, b) => a - b);
  const tags: string[][] = [
    ['d', INSTANCE_D],
    ...kinds.map((k) => ['k', String(k)]),
    ...info.agents.map((a) => ['p', a.pubkey]),
    ...info.relays.map((r) => ['r', r]),
    ['expiration', String(o.createdAt + o.ttlSeconds)],
    ['alt', `Timmy instance ${info.name}: NIP-90 DVM for kinds ${kinds.join(', ') || 'none'}`],
  ];
  return { kind: INSTANCE_KIND, created_at: o.createdAt, tags, content: JSON.stringify(info) };
}

const isKind = (k: unknown): k is number => Number.isInteger(k) && (k as number) >= 0 && (k as number) <= 65535;

/** Checks an announcement; expired ones (at `now`) and malformed ones are refused with the reason. */
export function parseInstanceAnnouncement(e: NostrEvent, now: number): Checked<InstanceAnnouncement> {
  if (e.kind !== INSTANCE_KIND) return fail(`kind ${e.kind} is not ${INSTANCE_KIND}`);
  if (e.tags.find((t) => t[0] === 'd')?.[1] !== INSTANCE_D) return fail(`d tag must be "${INSTANCE_D}"`);
  const exp = Number(e.tags.find((t) => t[0] === 'expiration')?.[1]);
  if (!Number.isSafeInteger(exp)) return fail('an announcement needs an expiration tag');
  if (exp <= now) return fail('expired');
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(e.content) as Record<string, unknown>;
  } catch {
    return fail('content is not JSON');
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return fail('content is not a JSON object');
  if (typeof c.name !== 'string' || c.name.length > 200) return fail('name must be a string');
  if (typeof c.version !== 'string' || typeof c.software !== 'string') return fail('software and version must be strings');
  if (!Array.isArray(c.relays) || c.relays.length > 50 || !c.relays.every((r) => typeof r === 'string' && /^wss?:\/\//.test(r))) return fail('relays must be ws(s) URLs');
  if (c.http !== undefined && (typeof c.http !== 'string' || !/^https?:\/\//.test(c.http))) return fail('http must be an http(s) URL');
  if (c.auctions !== 'closed' && c.auctions !== 'peers' && c.auctions !== 'open') return fail('auctions must be closed, peers or open');
  if (c.minScore !== undefined && (typeof c.minScore !== 'number' || c.minScore < 0 || c.minScore > 1)) return fail('minScore must be a number from 0 to 1');
  if (typeof c.forwarding !== 'boolean') return fail('forwarding must be true or false');
  if (c.lightning !== undefined && typeof c.lightning !== 'boolean') return fail('lightning must be true or false');
  if (!Array.isArray(c.agents) || c.agents.length > 500) return fail('agents must be a list');
  const agents: AnnouncedAgent[] = [];
  for (const a of c.agents as Record<string, unknown>[]) {
    if (typeof a !== 'object' || a === null || typeof a.pubkey !== 'string' || !HEX64.test(a.pubkey)) return fail('each agent needs a hex pubkey');
    if (typeof a.name !== 'string' || !Array.isArray(a.kinds) || !a.kinds.every(isKind)) return fail('each agent needs a name and kinds');
    let askMsat: Record<string, number> | undefined;
    if (a.askMsat !== undefined) {
      if (typeof a.askMsat !== 'object' || a.askMsat === null) return fail('askMsat must be an object');
      askMsat = {};
      for (const [k, v] of Object.entries(a.askMsat)) {
        if (!isKind(Number(k)) || typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return fail('askMsat maps kinds to msat');
        askMsat[k] = v;
      }
    }
    agents.push({ pubkey: a.pubkey, name: a.name, kinds: a.kinds as number[], ...(askMsat ? { askMsat } : {}) });
  }
  const kinds = [...new Set(agents.flatMap((a) => a.kinds))].sort((x, y) => x - y);
  return {
    ok: true,
    value: {
      pubkey: e.pubkey,
      createdAt: e.created_at,
      expiresAt: exp,
      kinds,
      event: e,
      name: c.name,
      software: c.software,
      version: c.version,
      relays: c.relays as string[],
      ...(typeof c.http === 'string' ? { http: c.http } : {}),
      agents,
      auctions: c.auctions,
      ...(typeof c.minScore === 'number' ? { minScore: c.minScore } : {}),
      forwarding: c.forwarding,
      ...(c.lightning === true ? { lightning: true } : {}),
    },
  };
}
