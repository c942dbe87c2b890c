// NIP-98 HTTP auth: a kind 27235 event that names the request's absolute URL and method, sent
// base64-encoded in `Authorization: Nostr <b64>`. Pure build/parse/check; the HTTP side (401s,
// sessions) lives in web/.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { checkEventShape, tagValue, type Checked, type NostrEvent } from './nip01.js';
import { verifyEvent, type EventTemplate } from './verify.js';

export const HTTP_AUTH_KIND = 27235;
/** NIP-98 suggests 60 seconds. */
export const DEFAULT_WINDOW_SECONDS = 60;

export interface HttpAuthTemplateInput {
  readonly url: string;
  readonly method: string;
  /** The request body, hashed into a `payload` tag. */
  readonly body?: string | Uint8Array;
  readonly created_at?: number;
}

export const payloadHash = (body: string | Uint8Array): string => bytesToHex(sha256(typeof body === 'string' ? new TextEncoder().encode(body) : body));

export function httpAuthTemplate(i: HttpAuthTemplateInput): EventTemplate {
  return {
    kind: HTTP_AUTH_KIND,
    created_at: i.created_at ?? Math.floor(Date.now() / 1000),
    content: '',
    tags: [['u', i.url], ['method', i.method.toUpperCase()], ...(i.body !== undefined ? [['payload', payloadHash(i.body)]] : [])],
  };
}

/** `Authorization: Nostr <base64 of the event JSON>`. */
export const authorizationHeader = (e: NostrEvent): string => `Nostr ${Buffer.from(JSON.stringify(e)).toString('base64')}`;

export interface HttpAuthCheck {
  /** The absolute URL of the request, exactly as the client addressed it (query included). */
  readonly url: string;
  readonly method: string;
  /** Unix seconds. */
  readonly now: number;
  readonly windowSeconds?: number;
  /** When given and the event has a `payload` tag, it must match (NIP-98: servers MAY check). */
  readonly body?: string | Uint8Array;
  /** Require a `payload` tag for requests with a body. */
  readonly requirePayload?: boolean;
}

/** Decodes the header value; the event, or why not. */
export function parseAuthorization(header: string | undefined): Checked<NostrEvent> {
  if (!header) return { ok: false, reason: 'no Authorization header' };
  const m = /^Nostr\s+([A-Za-z0-9+/=_-]+)\s*$/.exec(header);
  if (!m) return { ok: false, reason: 'Authorization is not the Nostr scheme' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8'));
  } catch {
    return { ok: false, reason: 'Authorization is not base64 of a JSON event' };
  }
  return checkEventShape(json);
}

/** NIP-98's checks in its order (kind, time window, u, method), then payload and signature. Returns the signer's pubkey. */
export function checkHttpAuth(e: NostrEvent, c: HttpAuthCheck): Checked<string> {
  if (e.kind !== HTTP_AUTH_KIND) return { ok: false, reason: `kind must be ${HTTP_AUTH_KIND}` };
  const window = c.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  if (Math.abs(c.now - e.created_at) > window) return { ok: false, reason: `created_at is more than ${window} s from now` };
  if (tagValue(e, 'u') !== c.url) return { ok: false, reason: 'u tag is not this request\'s URL' };
  if ((tagValue(e, 'method') ?? '').toUpperCase() !== c.method.toUpperCase()) return { ok: false, reason: 'method tag is not this request\'s method' };
  const payload = tagValue(e, 'payload');
  if (c.body !== undefined && payload !== undefined && payload.toLowerCase() !== payloadHash(c.body)) return { ok: false, reason: 'payload tag does not match the body' };
  if (c.requirePayload && c.body !== undefined && payload === undefined) return { ok: false, reason: 'payload tag required for a request with a body' };
  if (!verifyEvent(e)) return { ok: false, reason: 'bad id or signature' };
  return { ok: true, value: e.pubkey };
}
