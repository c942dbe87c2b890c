// NIP-57 Lightning Zaps: the zap request (kind 9734) as an LNURL-pay server checks it (57.md,
// Appendix D), the LNURL-pay (LUD-06) pieces a zap-enabled server serves (Appendix C), and the zap
// receipt (kind 9735, Appendix E). Pure: fetching, invoicing and publishing are the caller's.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { checkEventShape, isHex64, type Checked, type NostrEvent } from './nip01.js';
import { checkEvent, defaultVerifier, type EventTemplate, type SchnorrVerifier } from './verify.js';

export const ZAP_REQUEST_KIND = 9734;
export const ZAP_RECEIPT_KIND = 9735;

/** A zap request that passed Appendix D's checks. */
export interface ZapRequest {
  readonly event: NostrEvent;
  /** The JSON exactly as received: what the invoice's description hash commits to. */
  readonly json: string;
  /** `p`: the recipient. */
  readonly recipient: string;
  /** `P`: must be the receipt's signer when present (Appendix D, 8). */
  readonly receiptSigner?: string;
  /** `e`: the zapped event, if any. */
  readonly eventId?: string;
  /** `a`: the zapped addressable event's coordinate, if any. */
  readonly address?: string;
  /** `relays`: where the receipt goes. */
  readonly relays: readonly string[];
  /** `amount`, msat, when given. */
  readonly amountMsat?: number;
  readonly lnurl?: string;
}

export interface ZapRequestCheck {
  /** The callback's `amount` query parameter, msat. */
  readonly amountMsat: number;
  /** The key that will sign the receipt (the LNURL server's `nostrPubkey`). */
  readonly receiptPubkey?: string;
  readonly verifier?: SchnorrVerifier;
}

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
const COORDINATE = /^\d{1,5}:[0-9a-f]{64}:[^]*$/;

/** Appendix D: the `nostr` query parameter of an LNURL-pay callback, checked in the spec's order. */
export function parseZapRequest(json: string, o: ZapRequestCheck): Checked<ZapRequest> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return fail('zap request is not JSON');
  }
  const shape = checkEventShape(raw);
  if (!shape.ok) return fail(`zap request is not a nostr event: ${shape.reason}`);
  const e = shape.value;
  if (e.kind !== ZAP_REQUEST_KIND) return fail(`zap request must be kind ${ZAP_REQUEST_KIND}, not ${e.kind}`);
  // 1. a valid signature
  const sig = checkEvent(e, o.verifier ?? defaultVerifier);
  if (!sig.ok) return fail(`zap request: ${sig.reason}`);
  // 2. tags
  if (e.tags.length === 0) return fail('zap request has no tags');
  const all = (name: string) => e.tags.filter((t) => t[0] === name);
  // 3. exactly one p tag
  const ps = all('p');
  if (ps.length !== 1) return fail(`zap request must have exactly one p tag, not ${ps.length}`);
  const recipient = ps[0]![1];
  if (!isHex64(recipient)) return fail('zap request p tag is not a hex pubkey');
  // 4. 0 or 1 e tags
  const es = all('e');
  if (es.length > 1) return fail(`zap request must have 0 or 1 e tags, not ${es.length}`);
  const eventId = es[0]?.[1];
  if (es.length === 1 && !isHex64(eventId)) return fail('zap request e tag is not a hex event id');
  // 5. a relays tag
  const relaysTag = all('relays');
  if (relaysTag.length !== 1) return fail('zap request must have one relays tag');
  const relays = relaysTag[0]!.slice(1).filter((r) => r !== '');
  // 6. amount equal to the callback's amount
  const amounts = all('amount');
  if (amounts.length > 1) return fail('zap request has more than one amount tag');
  let amountMsat: number | undefined;
  if (amounts.length === 1) {
    const a = amounts[0]![1] ?? '';
    amountMsat = /^\d{1,16}$/.test(a) ? Number(a) : NaN;
    if (amountMsat !== o.amountMsat) return fail(`zap request amount ${a} does not match the amount ${o.amountMsat}`);
  }
  // 7. a valid event coordinate
  const as = all('a');
  if (as.length > 1) return fail('zap request has more than one a tag');
  const address = as[0]?.[1];
  if (as.length === 1 && !(address !== undefined && COORDINATE.test(address))) return fail('zap request a tag is not a valid event coordinate');
  // 8. 0 or 1 P tags, equal to the receipt's pubkey
  const bigPs = all('P');
  if (bigPs.length > 1) return fail(`zap request must have 0 or 1 P tags, not ${bigPs.length}`);
  const receiptSigner = bigPs[0]?.[1];
  if (bigPs.length === 1 && (receiptSigner === undefined || (o.receiptPubkey !== undefined && receiptSigner !== o.receiptPubkey)))
    return fail('zap request P tag is not the zap receipt\'s pubkey');
  const lnurl = all('lnurl')[0]?.[1];
  return {
    ok: true,
    value: {
      event: e,
      json,
      recipient,
      relays,
      ...(receiptSigner !== undefined ? { receiptSigner } : {}),
      ...(eventId !== undefined ? { eventId } : {}),
      ...(address !== undefined ? { address } : {}),
      ...(amountMsat !== undefined ? { amountMsat } : {}),
      ...(lnurl ? { lnurl } : {}),
    },
  };
}

/** sha256 of a description, hex: the BOLT11 `h` tag of a description-hash invoice. */
export const descriptionHash = (description: string): string => bytesToHex(sha256(new TextEncoder().encode(description)));

// ---- LNURL-pay (LUD-06, LUD-16) as a zap-enabled server serves it ----

/** LUD-06 metadata: a JSON array of [mime, content]; LUD-16 adds `text/identifier` for an address. */
export function lnurlMetadata(text: string, identifier?: string): string {
  const m: [string, string][] = [['text/plain', text]];
  if (identifier !== undefined) m.push(['text/identifier', identifier]);
  return JSON.stringify(m);
}

export interface PayRequest {
  readonly tag: 'payRequest';
  readonly callback: string;
  readonly minSendable: number;
  readonly maxSendable: number;
  readonly metadata: string;
  readonly allowsNostr: true;
  readonly nostrPubkey: string;
}

export function payRequest(p: Omit<PayRequest, 'tag' | 'allowsNostr'>): PayRequest {
  if (!isHex64(p.nostrPubkey)) throw new TypeError('nostrPubkey must be a hex pubkey');
  if (!(Number.isSafeInteger(p.minSendable) && p.minSendable >= 1 && p.maxSendable >= p.minSendable)) throw new RangeError('need 1 <= minSendable <= maxSendable');
  return { tag: 'payRequest', callback: p.callback, minSendable: p.minSendable, maxSendable: p.maxSendable, metadata: p.metadata, allowsNostr: true, nostrPubkey: p.nostrPubkey };
}

export interface CallbackParams {
  readonly amountMsat: number;
  /** The `nostr` parameter (a zap request's JSON), when given: a zap rather than a plain payment. */
  readonly nostr?: string;
}

/** The callback's query: `amount` (msat, within the pay request's bounds) and optional `nostr`. */
export function parseCallbackParams(q: URLSearchParams, bounds: { minSendable: number; maxSendable: number }): Checked<CallbackParams> {
  const a = q.get('amount');
  if (a === null || !/^\d{1,16}$/.test(a)) return fail('amount must be a whole number of millisatoshis');
  const amountMsat = Number(a);
  if (amountMsat < bounds.minSendable || amountMsat > bounds.maxSendable)
    return fail(`amount must be between ${bounds.minSendable} and ${bounds.maxSendable} msat, not ${amountMsat}`);
  const nostr = q.get('nostr');
  return { ok: true, value: { amountMsat, ...(nostr !== null ? { nostr } : {}) } };
}

// ---- the zap receipt (Appendix E) ----

export interface ZapReceiptParams {
  readonly request: ZapRequest;
  /** The description-hash invoice that was paid. */
  readonly bolt11: string;
  /** When the invoice was paid (unix seconds): the receipt's created_at, for idempotency. */
  readonly paidAt: number;
  readonly preimage?: string;
}

/** Kind 9735: p, P (the sender), e/a/k from the request, bolt11, description (the request's JSON), preimage. */
export function zapReceiptTemplate(p: ZapReceiptParams): EventTemplate {
  const r = p.request;
  const k = r.event.tags.find((t) => t[0] === 'k')?.[1];
  const tags: string[][] = [['p', r.recipient], ['P', r.event.pubkey]];
  if (r.eventId !== undefined) tags.push(['e', r.eventId]);
  if (r.address !== undefined) tags.push(['a', r.address]);
  if (k !== undefined) tags.push(['k', k]);
  tags.push(['bolt11', p.bolt11], ['description', r.json]);
  if (p.preimage !== undefined) tags.push(['preimage', p.preimage]);
  return { kind: ZAP_RECEIPT_KIND, created_at: p.paidAt, tags, content: '' };
}
