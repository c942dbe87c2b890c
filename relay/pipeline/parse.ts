// Stage 1 of the pipeline (runs in the ingest workers): JSON parse, message shape, and for signed
// events the id hash and signature. Pure: bytes in, a tagged message out. Reasons carry no
// NIP-01 prefix; the core adds it at the edge.
import { canonicalJson, checkEventShape, checkFilter, type Filter, type NostrEvent } from '../../nostr/nip01.js';
import { checkEvent, type SchnorrVerifier } from '../../nostr/verify.js';

export type ClientMessage =
  | { readonly type: 'EVENT'; readonly event: NostrEvent; readonly json: string }
  | { readonly type: 'AUTH'; readonly event: NostrEvent }
  | { readonly type: 'REQ' | 'COUNT'; readonly subId: string; readonly filters: Filter[] }
  | { readonly type: 'CLOSE'; readonly subId: string }
  /** NIP-77 negentropy sync: messages are hex strings, checked here, decoded by the core. */
  | { readonly type: 'NEG-OPEN'; readonly subId: string; readonly filter: Filter; readonly message: string }
  | { readonly type: 'NEG-MSG'; readonly subId: string; readonly message: string }
  | { readonly type: 'NEG-CLOSE'; readonly subId: string }
  /** A NEG-OPEN/NEG-MSG with a usable id but a bad filter or message: answered with NEG-ERR. */
  | { readonly type: 'BAD_NEG'; readonly subId: string; readonly reason: string }
  /** A signed message that fails validation: answered with OK false. */
  | { readonly type: 'BAD_EVENT'; readonly id: string; readonly reason: string }
  /** A REQ/COUNT with a usable subscription id but bad filters: answered with CLOSED. */
  | { readonly type: 'BAD_SUB'; readonly subId: string; readonly reason: string }
  /** Anything else we cannot attribute: answered with NOTICE. */
  | { readonly type: 'BAD_MESSAGE'; readonly reason: string };

export interface ParseLimits {
  readonly maxFilters: number;
  readonly maxSubIdLength: number;
  /** Values (ids, authors, kinds, tag values) across the filters of one REQ (default 10,000). */
  readonly maxFilterValues?: number;
}

const idOf = (x: unknown): string => {
  const id = (x as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.length <= 64 ? id : '';
};

function parseSignedEvent(x: unknown, verifier: SchnorrVerifier): { event: NostrEvent } | { id: string; reason: string } {
  const shape = checkEventShape(x);
  if (!shape.ok) return { id: idOf(x), reason: shape.reason };
  const check = checkEvent(shape.value, verifier);
  if (!check.ok) return { id: shape.value.id, reason: check.reason };
  return { event: shape.value };
}

export function parseClientMessage(text: string, verifier: SchnorrVerifier, limits: ParseLimits): ClientMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { type: 'BAD_MESSAGE', reason: 'could not parse message as JSON' };
  }
  if (!Array.isArray(msg) || typeof msg[0] !== 'string') return { type: 'BAD_MESSAGE', reason: 'message must be a JSON array starting with a string' };
  const verb = msg[0];
  switch (verb) {
    case 'EVENT':
    case 'AUTH': {
      if (msg.length !== 2) return { type: 'BAD_EVENT', id: idOf(msg[1]), reason: `${verb} message must have exactly one event` };
      const r = parseSignedEvent(msg[1], verifier);
      if ('reason' in r) return { type: 'BAD_EVENT', id: r.id, reason: r.reason };
      return verb === 'EVENT' ? { type: 'EVENT', event: r.event, json: canonicalJson(r.event) } : { type: 'AUTH', event: r.event };
    }
    case 'REQ':
    case 'COUNT': {
      const subId = msg[1];
      if (typeof subId !== 'string' || subId.length === 0 || subId.length > limits.maxSubIdLength) {
        return { type: 'BAD_MESSAGE', reason: `${verb} needs a subscription id: a non-empty string of at most ${limits.maxSubIdLength} characters` };
      }
      const raw = msg.slice(2);
      if (raw.length === 0) return { type: 'BAD_SUB', subId, reason: `${verb} needs at least one filter` };
      if (raw.length > limits.maxFilters) return { type: 'BAD_SUB', subId, reason: `too many filters (max ${limits.maxFilters})` };
      const filters: Filter[] = [];
      let items = 0;
      for (const f of raw) {
        const c = checkFilter(f);
        if (!c.ok) return { type: 'BAD_SUB', subId, reason: c.reason };
        for (const v of Object.values(c.value)) if (Array.isArray(v)) items += v.length;
        filters.push(c.value);
      }
      // SQLite binds at most 32766 parameters per statement; the config keeps it below 30,000.
      const max = limits.maxFilterValues ?? 10_000;
      if (items > max) return { type: 'BAD_SUB', subId, reason: `filters too large (max ${max} values in all)` };
      return { type: verb, subId, filters };
    }
    case 'CLOSE': {
      const subId = msg[1];
      if (typeof subId !== 'string' || subId.length === 0) return { type: 'BAD_MESSAGE', reason: 'CLOSE needs a subscription id' };
      return { type: 'CLOSE', subId };
    }
    case 'NEG-OPEN':
    case 'NEG-MSG':
    case 'NEG-CLOSE': {
      const subId = msg[1];
      if (typeof subId !== 'string' || subId.length === 0 || subId.length > limits.maxSubIdLength) {
        return { type: 'BAD_MESSAGE', reason: `${verb} needs a subscription id: a non-empty string of at most ${limits.maxSubIdLength} characters` };
      }
      if (verb === 'NEG-CLOSE') return { type: 'NEG-CLOSE', subId };
      const hex = verb === 'NEG-OPEN' ? msg[3] : msg[2];
      if (msg.length !== (verb === 'NEG-OPEN' ? 4 : 3)) return { type: 'BAD_NEG', subId, reason: `${verb} has the wrong number of elements` };
      if (typeof hex !== 'string' || hex.length < 2 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) return { type: 'BAD_NEG', subId, reason: 'the negentropy message must be non-empty hex' };
      if (verb === 'NEG-MSG') return { type: 'NEG-MSG', subId, message: hex };
      const c = checkFilter(msg[2]);
      if (!c.ok) return { type: 'BAD_NEG', subId, reason: c.reason };
      return { type: 'NEG-OPEN', subId, filter: c.value, message: hex };
    }
    default:
      return { type: 'BAD_MESSAGE', reason: `unknown message type ${JSON.stringify(verb.slice(0, 32))}` };
  }
}
