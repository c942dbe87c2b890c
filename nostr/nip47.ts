// NIP-47 Nostr Wallet Connect: the connection URI, requests (23194), responses (23195), the info
// event (13194) and notifications (23197, and 23196 for NIP-04 clients). Pure functions over plain
// events; the payloads are encrypted here with NIP-44 v2 (or NIP-04 for legacy peers, as the
// `encryption` tag says), so the builders take the sender's secret key and return signed events.
// The wallet service lives in wallet/nwc/.
import { hexToBytes } from '@noble/hashes/utils.js';
import { isHex64, tagValue, type NostrEvent } from './nip01.js';
import * as nip04 from './nip04.js';
import * as nip44 from './nip44.js';
import { finalizeEvent, getPublicKey } from './verify.js';

export class Nip47Error extends Error {
  override name = 'Nip47Error';
}

export const NWC_INFO_KIND = 13194;
export const NWC_REQUEST_KIND = 23194;
export const NWC_RESPONSE_KIND = 23195;
export const NWC_NOTIFICATION_KIND = 23197;
/** Notifications encrypted with NIP-04, for clients that have not moved to NIP-44. */
export const NWC_LEGACY_NOTIFICATION_KIND = 23196;

export const URI_SCHEME = 'nostr+walletconnect:';

/** The commands of 47.md, spelled as it spells them. */
export const METHODS = [
  'pay_invoice',
  'pay_keysend',
  'make_invoice',
  'lookup_invoice',
  'list_transactions',
  'get_balance',
  'get_info',
  'make_hold_invoice',
  'cancel_hold_invoice',
  'settle_hold_invoice',
] as const;
export type Nip47Method = (typeof METHODS)[number];
/**
 * `get_budget` is not in the 47.md we follow; it comes from the NIP's later revision (and Alby's
 * SDK): `{ used_budget, total_budget, renews_at?, renewal_period }` in msat, `{}` without a budget.
 */
export type Nip47ExtensionMethod = 'get_budget';
/** What an info event's content lists: methods, and `notifications` when the service sends them. */
export type Nip47Capability = Nip47Method | Nip47ExtensionMethod | 'notifications';

export const ERROR_CODES = [
  'RATE_LIMITED',
  'NOT_IMPLEMENTED',
  'INSUFFICIENT_BALANCE',
  'QUOTA_EXCEEDED',
  'RESTRICTED',
  'UNAUTHORIZED',
  'INTERNAL',
  'UNSUPPORTED_ENCRYPTION',
  'OTHER',
  // Listed under the commands rather than in "Error codes": pay_invoice / pay_keysend, lookup_invoice.
  'PAYMENT_FAILED',
  'NOT_FOUND',
] as const;
export type Nip47ErrorCode = (typeof ERROR_CODES)[number];

export const NOTIFICATION_TYPES = ['payment_received', 'payment_sent', 'hold_invoice_accepted'] as const;
export type Nip47NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const ENCRYPTIONS = ['nip44_v2', 'nip04'] as const;
export type Nip47Encryption = (typeof ENCRYPTIONS)[number];

export const BUDGET_RENEWALS = ['daily', 'weekly', 'monthly', 'yearly', 'never'] as const;
export type BudgetRenewal = (typeof BUDGET_RENEWALS)[number];

/** Metadata longer than this (as JSON) MUST be dropped (47.md, "Metadata"). */
export const MAX_METADATA_CHARS = 4096;

const isMethod = (s: string): s is Nip47Method => (METHODS as readonly string[]).includes(s);
export const isNip47Method = isMethod;
export const isEncryption = (s: string): s is Nip47Encryption => (ENCRYPTIONS as readonly string[]).includes(s);

// ---------------------------------------------------------------------------------------------
// Connection URI: nostr+walletconnect://<wallet pubkey>?relay=<url>&relay=<url>&secret=<hex>&lud16=<address>

export interface NwcConnection {
  /** The wallet service's pubkey (hex): requests are p-tagged to it and encrypted for it. */
  readonly walletPubkey: string;
  /** At least one. */
  readonly relays: readonly string[];
  /** The client's secret key (64 hex): it signs the requests and decrypts the answers. */
  readonly secret: string;
  readonly lud16?: string;
}

const RELAY_URL = /^wss?:\/\/[^\s]+$/i;

export function buildConnectionUri(c: NwcConnection): string {
  if (!isHex64(c.walletPubkey)) throw new Nip47Error('invalid wallet pubkey');
  if (!isHex64(c.secret)) throw new Nip47Error('invalid secret');
  if (c.relays.length === 0) throw new Nip47Error('at least one relay is required');
  for (const r of c.relays) if (!RELAY_URL.test(r)) throw new Nip47Error(`invalid relay URL ${JSON.stringify(r)}`);
  // "All URI parameters MUST be URI-encoded."
  const q = [...c.relays.map((r) => `relay=${encodeURIComponent(r)}`), `secret=${c.secret}`];
  if (c.lud16 !== undefined) q.push(`lud16=${encodeURIComponent(c.lud16)}`);
  return `${URI_SCHEME}//${c.walletPubkey}?${q.join('&')}`;
}

/** Parses a connection URI (also the `nostr+walletconnect:<pubkey>?...` form without `//`). */
export function parseConnectionUri(uri: string): NwcConnection {
  if (typeof uri !== 'string') throw new Nip47Error('the connection URI must be a string');
  const s = uri.trim();
  if (s.slice(0, URI_SCHEME.length).toLowerCase() !== URI_SCHEME) throw new Nip47Error(`not a ${URI_SCHEME}// URI`);
  let rest = s.slice(URI_SCHEME.length);
  if (rest.startsWith('//')) rest = rest.slice(2);
  const qAt = rest.indexOf('?');
  const walletPubkey = (qAt < 0 ? rest : rest.slice(0, qAt)).replace(/\/$/, '').toLowerCase();
  if (!isHex64(walletPubkey)) throw new Nip47Error('the URI does not start with a 32-byte hex wallet pubkey');
  const params = new URLSearchParams(qAt < 0 ? '' : rest.slice(qAt + 1));
  const relays = params.getAll('relay');
  if (relays.length === 0) throw new Nip47Error('the URI has no relay');
  for (const r of relays) if (!RELAY_URL.test(r)) throw new Nip47Error(`invalid relay URL ${JSON.stringify(r)}`);
  const secret = params.get('secret')?.toLowerCase();
  if (!isHex64(secret)) throw new Nip47Error('the URI has no 32-byte hex secret');
  const lud16 = params.get('lud16');
  return { walletPubkey, relays, secret, ...(lud16 ? { lud16 } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Encryption

export function encryptPayload(scheme: Nip47Encryption, sk: Uint8Array, peer: string, plaintext: string): string {
  return scheme === 'nip04' ? nip04.encrypt(sk, peer, plaintext) : nip44.encrypt(plaintext, nip44.getConversationKey(sk, peer));
}

/** Throws (Nip44Error / Nip04Error) when the payload does not decrypt. */
export function decryptPayload(scheme: Nip47Encryption, sk: Uint8Array, peer: string, payload: string): string {
  return scheme === 'nip04' ? nip04.decrypt(sk, peer, payload) : nip44.decrypt(payload, nip44.getConversationKey(sk, peer), { maxPayloadLength: 1 << 20 });
}

/** The scheme of a payload we did not choose (a response or notification): NIP-04 has its `?iv=`. */
export const detectEncryption = (payload: string): Nip47Encryption => (payload.includes('?iv=') ? 'nip04' : 'nip44_v2');

/** A request's `encryption` tag: absent means NIP-04 (47.md, "Encryption"); anything unknown is returned as is. */
export function requestEncryption(e: Pick<NostrEvent, 'tags'>): Nip47Encryption | { unsupported: string } {
  const v = tagValue(e, 'encryption');
  if (v === undefined) return 'nip04';
  const s = v.trim();
  return isEncryption(s) ? s : { unsupported: s };
}

// ---------------------------------------------------------------------------------------------
// Payloads

export interface Nip47Request {
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>>;
}

export interface Nip47ErrorBody {
  readonly code: Nip47ErrorCode | (string & {});
  readonly message: string;
}

export interface Nip47Response<R = Record<string, unknown>> {
  /** The method this answers. */
  readonly result_type: string;
  /** Null on success. */
  readonly error: Nip47ErrorBody | null;
  /** Null on error. */
  readonly result: R | null;
}

/** An invoice (`incoming`) or a payment (`outgoing`), as make_invoice, lookup_invoice, list_transactions and notifications carry it. */
export interface Nip47Transaction {
  readonly type: 'incoming' | 'outgoing';
  readonly state?: 'pending' | 'settled' | 'accepted' | 'expired' | 'failed';
  readonly invoice?: string;
  readonly description?: string;
  readonly description_hash?: string;
  readonly preimage?: string;
  readonly payment_hash: string;
  /** msat */
  readonly amount: number;
  /** msat */
  readonly fees_paid: number;
  readonly created_at: number;
  readonly expires_at?: number;
  readonly settled_at?: number;
  readonly metadata?: Record<string, unknown>;
}

export interface PayResult {
  readonly preimage: string;
  readonly fees_paid?: number;
}
export interface BalanceResult {
  readonly balance: number;
}
export interface InfoResult {
  readonly alias: string;
  readonly color: string;
  readonly pubkey: string;
  readonly network: string;
  readonly block_height: number;
  readonly block_hash: string;
  readonly methods: readonly string[];
  readonly notifications?: readonly string[];
}
export interface ListTransactionsResult {
  readonly transactions: readonly Nip47Transaction[];
}
export type BudgetResult = { readonly used_budget: number; readonly total_budget: number; readonly renews_at?: number; readonly renewal_period: BudgetRenewal } | Record<string, never>;

export interface Nip47Notification {
  readonly notification_type: Nip47NotificationType | (string & {});
  readonly notification: Nip47Transaction;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function parseJson(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Nip47Error(`${what} is not JSON`);
  }
  if (!isObject(v)) throw new Nip47Error(`${what} is not a JSON object`);
  return v;
}

/** Checks a decrypted request payload: `method` a string, `params` an object (absent = `{}`). */
export function parseRequestPayload(text: string): Nip47Request {
  const v = parseJson(text, 'the request');
  if (typeof v.method !== 'string' || v.method.length === 0) throw new Nip47Error('the request has no method');
  if (v.params !== undefined && v.params !== null && !isObject(v.params)) throw new Nip47Error('params must be an object');
  return { method: v.method, params: isObject(v.params) ? v.params : {} };
}

/** Checks a decrypted response payload: `result_type`, and either an `error` with code and message or a `result` object. */
export function parseResponsePayload(text: string): Nip47Response {
  const v = parseJson(text, 'the response');
  if (typeof v.result_type !== 'string') throw new Nip47Error('the response has no result_type');
  let error: Nip47ErrorBody | null = null;
  if (v.error !== undefined && v.error !== null) {
    if (!isObject(v.error) || typeof v.error.code !== 'string') throw new Nip47Error('the response error has no code');
    error = { code: v.error.code, message: typeof v.error.message === 'string' ? v.error.message : '' };
  }
  const result = isObject(v.result) ? v.result : null;
  if (!error && !result) throw new Nip47Error('the response has neither result nor error');
  return { result_type: v.result_type, error, result: error ? null : result };
}

/** Drops metadata that is not an object or longer than 4096 characters as JSON. */
export function checkMetadata(m: unknown): Record<string, unknown> | undefined {
  if (!isObject(m)) return undefined;
  return JSON.stringify(m).length <= MAX_METADATA_CHARS ? m : undefined;
}

// ---------------------------------------------------------------------------------------------
// Events

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export interface RequestOptions {
  readonly walletPubkey: string;
  readonly request: Nip47Request;
  /** Default nip44_v2. */
  readonly encryption?: Nip47Encryption;
  /** Unix seconds after which the service must ignore the request (`expiration` tag). */
  readonly expiration?: number;
  readonly createdAt?: number;
}

/** A signed request (23194) from the client key `clientSk`, p-tagged to the wallet service. */
export function buildRequest(o: RequestOptions, clientSk: Uint8Array): NostrEvent {
  if (!isHex64(o.walletPubkey)) throw new Nip47Error('invalid wallet pubkey');
  const scheme = o.encryption ?? 'nip44_v2';
  const tags = [
    ['p', o.walletPubkey],
    ['encryption', scheme],
  ];
  if (o.expiration !== undefined) tags.push(['expiration', String(o.expiration)]);
  const content = encryptPayload(scheme, clientSk, o.walletPubkey, JSON.stringify({ method: o.request.method, params: o.request.params }));
  return finalizeEvent({ kind: NWC_REQUEST_KIND, created_at: o.createdAt ?? nowSeconds(), tags, content }, clientSk);
}

/** What a wallet service makes of a 23194 event. */
export type ParsedRequest =
  /** Answer it. */
  | { readonly status: 'ok'; readonly id: string; readonly client: string; readonly encryption: Nip47Encryption; readonly request: Nip47Request }
  /** Answer with this error (the method is '' when the payload did not say). */
  | {
      readonly status: 'error';
      readonly id: string;
      readonly client: string;
      readonly encryption: Nip47Encryption;
      readonly method: string;
      readonly code: Nip47ErrorCode;
      readonly message: string;
    }
  /** Do not answer: not a request to us, expired, or unreadable (an answer could not be read either). */
  | { readonly status: 'ignore'; readonly reason: string };

/**
 * Reads a request addressed to the service key `serviceSk`. Checks kind, `p` tag, `expiration`
 * (a request received after it is ignored) and `encryption`; decrypts; checks the payload shape.
 * Does not check the event's id and signature (the NostrClient does), nor who sent it.
 */
export function parseRequest(e: NostrEvent, serviceSk: Uint8Array, now: number = nowSeconds()): ParsedRequest {
  if (e.kind !== NWC_REQUEST_KIND) return { status: 'ignore', reason: `kind ${e.kind} is not a request` };
  const service = getPublicKey(serviceSk);
  if (!e.tags.some((t) => t[0] === 'p' && t[1] === service)) return { status: 'ignore', reason: 'not addressed to this wallet service' };
  const exp = tagValue(e, 'expiration');
  if (exp !== undefined) {
    if (!/^\d{1,15}$/.test(exp)) return { status: 'ignore', reason: 'malformed expiration tag' };
    if (now > Number(exp)) return { status: 'ignore', reason: 'expired' };
  }
  const base = { id: e.id, client: e.pubkey };
  const enc = requestEncryption(e);
  if (typeof enc !== 'string') {
    // The client asked for a scheme we do not speak: answer in the one every service must support.
    return { status: 'error', ...base, encryption: 'nip44_v2', method: '', code: 'UNSUPPORTED_ENCRYPTION', message: `unsupported encryption ${JSON.stringify(enc.unsupported)}` };
  }
  let text: string;
  try {
    text = decryptPayload(enc, serviceSk, e.pubkey, e.content);
  } catch (err) {
    return { status: 'ignore', reason: `cannot decrypt (${enc}): ${(err as Error).message}` };
  }
  try {
    return { status: 'ok', ...base, encryption: enc, request: parseRequestPayload(text) };
  } catch (err) {
    let method = '';
    try {
      const v: unknown = JSON.parse(text);
      if (isObject(v) && typeof v.method === 'string') method = v.method;
    } catch {
      // not JSON: no method to name
    }
    return { status: 'error', ...base, encryption: enc, method, code: 'OTHER', message: `bad request: ${(err as Error).message}` };
  }
}

export interface ResponseOptions {
  /** The request answered: its id (e tag) and author (p tag, and the peer of the encryption). */
  readonly requestId: string;
  readonly client: string;
  readonly encryption: Nip47Encryption;
  readonly response: Nip47Response<unknown>;
  readonly createdAt?: number;
}

/** A signed response (23195) from the wallet service key. */
export function buildResponse(o: ResponseOptions, serviceSk: Uint8Array): NostrEvent {
  if (!isHex64(o.client) || !isHex64(o.requestId)) throw new Nip47Error('invalid request id or client pubkey');
  const body = { result_type: o.response.result_type, error: o.response.error, result: o.response.error ? null : o.response.result };
  return finalizeEvent(
    {
      kind: NWC_RESPONSE_KIND,
      created_at: o.createdAt ?? nowSeconds(),
      tags: [
        ['p', o.client],
        ['e', o.requestId],
      ],
      content: encryptPayload(o.encryption, serviceSk, o.client, JSON.stringify(body)),
    },
    serviceSk,
  );
}

/** Success and error responses, as the spec shapes them. */
export const okResponse = <R>(method: string, result: R): Nip47Response<R> => ({ result_type: method, error: null, result });
export const errorResponse = (method: string, code: Nip47ErrorCode, message: string): Nip47Response<never> => ({ result_type: method, error: { code, message }, result: null });

/** Reads a response (23195) with the client key; checks the author is the wallet service. Throws Nip47Error. */
export function parseResponse(e: NostrEvent, clientSk: Uint8Array, walletPubkey: string): Nip47Response & { readonly requestId: string | undefined } {
  if (e.kind !== NWC_RESPONSE_KIND) throw new Nip47Error(`kind ${e.kind} is not a response`);
  if (e.pubkey !== walletPubkey) throw new Nip47Error('the response is not from the wallet service');
  let text: string;
  try {
    text = decryptPayload(detectEncryption(e.content), clientSk, walletPubkey, e.content);
  } catch (err) {
    throw new Nip47Error(`cannot decrypt the response: ${(err as Error).message}`);
  }
  return { ...parseResponsePayload(text), requestId: tagValue(e, 'e') };
}

export interface Nip47Info {
  /** Methods, and `notifications` when the service sends them. */
  readonly capabilities: readonly string[];
  /** Without an `encryption` tag: `['nip04']` (47.md). */
  readonly encryptions: readonly string[];
  readonly notifications: readonly string[];
}

/** The info event (13194, replaceable) of a wallet service. */
export function buildInfo(o: Nip47Info & { readonly createdAt?: number }, serviceSk: Uint8Array): NostrEvent {
  const tags = [['encryption', o.encryptions.join(' ')]];
  if (o.notifications.length > 0) tags.push(['notifications', o.notifications.join(' ')]);
  return finalizeEvent({ kind: NWC_INFO_KIND, created_at: o.createdAt ?? nowSeconds(), tags, content: o.capabilities.join(' ') }, serviceSk);
}

export function parseInfo(e: Pick<NostrEvent, 'kind' | 'tags' | 'content'>): Nip47Info {
  if (e.kind !== NWC_INFO_KIND) throw new Nip47Error(`kind ${e.kind} is not a NIP-47 info event`);
  const words = (s: string | undefined) => (s ?? '').split(/[\s,]+/).filter(Boolean); // some services used ","
  const enc = tagValue(e, 'encryption');
  return {
    capabilities: words(e.content),
    encryptions: enc === undefined ? ['nip04'] : words(enc),
    notifications: words(tagValue(e, 'notifications')),
  };
}

/** The scheme a client should use with a service: NIP-44 whenever the service lists it. */
export function chooseEncryption(info: Pick<Nip47Info, 'encryptions'>): Nip47Encryption | undefined {
  return ENCRYPTIONS.find((s) => info.encryptions.includes(s));
}

export interface NotificationOptions {
  readonly client: string;
  readonly encryption: Nip47Encryption;
  readonly notification: Nip47Notification;
  readonly createdAt?: number;
}

/** A signed notification: kind 23197 with NIP-44, 23196 with NIP-04. */
export function buildNotification(o: NotificationOptions, serviceSk: Uint8Array): NostrEvent {
  if (!isHex64(o.client)) throw new Nip47Error('invalid client pubkey');
  return finalizeEvent(
    {
      kind: o.encryption === 'nip04' ? NWC_LEGACY_NOTIFICATION_KIND : NWC_NOTIFICATION_KIND,
      created_at: o.createdAt ?? nowSeconds(),
      tags: [['p', o.client]],
      content: encryptPayload(o.encryption, serviceSk, o.client, JSON.stringify(o.notification)),
    },
    serviceSk,
  );
}

export function parseNotification(e: NostrEvent, clientSk: Uint8Array, walletPubkey: string): Nip47Notification {
  if (e.kind !== NWC_NOTIFICATION_KIND && e.kind !== NWC_LEGACY_NOTIFICATION_KIND) throw new Nip47Error(`kind ${e.kind} is not a notification`);
  if (e.pubkey !== walletPubkey) throw new Nip47Error('the notification is not from the wallet service');
  let text: string;
  try {
    text = decryptPayload(e.kind === NWC_LEGACY_NOTIFICATION_KIND ? 'nip04' : 'nip44_v2', clientSk, walletPubkey, e.content);
  } catch (err) {
    throw new Nip47Error(`cannot decrypt the notification: ${(err as Error).message}`);
  }
  const v = parseJson(text, 'the notification');
  if (typeof v.notification_type !== 'string' || !isObject(v.notification)) throw new Nip47Error('the notification has no notification_type or notification');
  return { notification_type: v.notification_type, notification: v.notification as unknown as Nip47Transaction };
}

/** The client pubkey of a connection secret (hex). */
export const clientPubkey = (secretHex: string): string => getPublicKey(hexToBytes(secretHex));
