// The offer flow over Nostr (docs/protocol.md, "BOLT12 invoice requests"): what BOLT12 carries in
// onion messages, carried in two ephemeral kinds whose content is NIP-44 encrypted JSON. Pure:
// templates and parsers; encryption and signing are the caller's.
import type { NostrEvent } from '../../nostr/nip01.js';
import type { EventTemplate } from '../../nostr/verify.js';

export const INVOICE_REQUEST_KIND = 21282;
export const INVOICE_REPLY_KIND = 21283;

/** How long a request is worth answering (its NIP-40 `expiration`), seconds. */
export const REQUEST_TTL_SECONDS = 60;

/** The decrypted content of a 21282. */
export interface InvoiceRequestMessage {
  /** The signed `lnr1…` for an offer of the recipient. */
  readonly invoice_request: string;
}

/** The decrypted content of a 21283: a signed BOLT12 invoice and its payable twin, or an error. */
export type InvoiceReplyMessage =
  | { readonly invoice: string; readonly bolt11: string }
  | { readonly invoice_error: { readonly error: string } };

export class OfferProtocolError extends Error {
  override name = 'OfferProtocolError';
}

const tag = (e: NostrEvent, name: string): string | undefined => e.tags.find((t) => t[0] === name)?.[1];

export function requestTemplate(recipient: string, encrypted: string, createdAt: number): EventTemplate {
  return {
    kind: INVOICE_REQUEST_KIND,
    created_at: createdAt,
    content: encrypted,
    tags: [
      ['p', recipient],
      ['encryption', 'nip44_v2'],
      ['expiration', String(createdAt + REQUEST_TTL_SECONDS)],
      ['alt', 'BOLT12 invoice request (encrypted)'],
    ],
  };
}

export function replyTemplate(request: NostrEvent, encrypted: string, createdAt: number): EventTemplate {
  return {
    kind: INVOICE_REPLY_KIND,
    created_at: createdAt,
    content: encrypted,
    tags: [
      ['p', request.pubkey],
      ['e', request.id],
      ['encryption', 'nip44_v2'],
      ['alt', 'BOLT12 invoice (encrypted)'],
    ],
  };
}

/** The request's recipient (`p`), or undefined when it is not a well-formed 21282 or has expired. */
export function requestRecipient(e: NostrEvent, now: number): string | undefined {
  if (e.kind !== INVOICE_REQUEST_KIND) return undefined;
  const exp = tag(e, 'expiration');
  if (exp !== undefined && /^\d+$/.test(exp) && Number(exp) < now) return undefined;
  const enc = tag(e, 'encryption');
  if (enc !== undefined && enc !== 'nip44_v2') return undefined;
  return tag(e, 'p');
}

function object(json: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new OfferProtocolError('content is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new OfferProtocolError('content is not a JSON object');
  return v as Record<string, unknown>;
}

export function parseRequestMessage(json: string): InvoiceRequestMessage {
  const o = object(json);
  if (typeof o.invoice_request !== 'string' || !/^lnr1/i.test(o.invoice_request)) throw new OfferProtocolError('invoice_request: not an lnr1 string');
  return { invoice_request: o.invoice_request };
}

export function parseReplyMessage(json: string): InvoiceReplyMessage {
  const o = object(json);
  const err = o.invoice_error as { error?: unknown } | undefined;
  if (err !== undefined) {
    if (typeof err !== 'object' || err === null || typeof err.error !== 'string') throw new OfferProtocolError('invoice_error: needs an error string');
    return { invoice_error: { error: err.error } };
  }
  if (typeof o.invoice !== 'string' || !/^lni1/i.test(o.invoice)) throw new OfferProtocolError('invoice: not an lni1 string');
  if (typeof o.bolt11 !== 'string' || !/^ln/i.test(o.bolt11)) throw new OfferProtocolError('bolt11: not a BOLT11 invoice');
  return { invoice: o.invoice, bolt11: o.bolt11 };
}
