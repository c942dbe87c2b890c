import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { nip47 as ntNip47 } from 'nostr-tools';
import * as ntNip44 from 'nostr-tools/nip44';
import * as ntNip04 from 'nostr-tools/nip04';
import {
  buildConnectionUri,
  buildInfo,
  buildNotification,
  buildRequest,
  buildResponse,
  checkMetadata,
  chooseEncryption,
  encryptPayload,
  errorResponse,
  ERROR_CODES,
  METHODS,
  Nip47Error,
  okResponse,
  parseConnectionUri,
  parseInfo,
  parseNotification,
  parseRequest,
  parseRequestPayload,
  parseResponse,
  parseResponsePayload,
  requestEncryption,
} from './nip47.js';
import type { NostrEvent } from './nip01.js';
import { finalizeEvent, getPublicKey, verifyEvent } from './verify.js';

const serviceSk = sha256(utf8ToBytes('nip47 service'));
const clientSk = sha256(utf8ToBytes('nip47 client'));
const service = getPublicKey(serviceSk);
const client = getPublicKey(clientSk);
const throwsNip47 = (fn: () => unknown, message: RegExp): void =>
  assert.throws(fn, (err: Error) => err instanceof Nip47Error && err.name === 'Nip47Error' && message.test(err.message));

// --- the spec's examples (47.md), copied as they are written -------------------------------

const SPEC_URI =
  'nostr+walletconnect://b889ff5b1513b641e2a139f661a661364979c5beee91842f8f0ef42ab558e9d4?relay=wss%3A%2F%2Frelay.damus.io&secret=71a8c14c1407c113601079c4302dab36460f0ccd0ad506f1f2dc73b5100e4f3c';

const SPEC_INFO_EVENT: NostrEvent = {
  id: 'df467db0a9f9ec77ffe6f561811714ccaa2e26051c20f58f33c3d66d6c2b4d1c',
  pubkey: 'c04ccd5c82fc1ea3499b9c6a5c0a7ab627fbe00a0116110d4c750faeaecba1e2',
  created_at: 1713883677,
  kind: 13194,
  tags: [
    ['encryption', 'nip44_v2 nip04'],
    ['notifications', 'payment_received payment_sent'],
  ],
  content:
    'pay_invoice pay_keysend get_balance get_info make_invoice lookup_invoice list_transactions multi_pay_invoice multi_pay_keysend sign_message notifications',
  sig: '31f57b369459b5306a5353aa9e03be7fbde169bc881c3233625605dd12f53548179def16b9fe1137e6465d7e4d5bb27ce81fd6e75908c46b06269f4233c845d8',
};

const SPEC_REQUESTS = [
  { method: 'pay_invoice', params: { invoice: 'lnbc50n1...', amount: 123, metadata: {} } },
  {
    method: 'pay_keysend',
    params: { amount: 123, pubkey: '03...', preimage: '0123456789abcdef...', tlv_records: [{ type: 5482373484, value: '0123456789abcdef' }] },
  },
  { method: 'make_invoice', params: { amount: 123, description: 'string', description_hash: 'string', expiry: 213, metadata: {} } },
  { method: 'lookup_invoice', params: { payment_hash: '31afdf1..', invoice: 'lnbc50n1...' } },
  { method: 'list_transactions', params: { from: 1693876973, until: 1703225078, limit: 10, offset: 0, unpaid: true, type: 'incoming' } },
  { method: 'get_balance', params: {} },
  { method: 'get_info', params: {} },
  { method: 'make_hold_invoice', params: { amount: 123, description: 'string', description_hash: 'string', expiry: 213, payment_hash: 'string', min_cltv_expiry_delta: 144 } },
  { method: 'cancel_hold_invoice', params: { payment_hash: 'string' } },
  { method: 'settle_hold_invoice', params: { preimage: 'string' } },
];

const SPEC_RESPONSE_WITH_ERROR = {
  result_type: 'pay_invoice',
  error: { code: 'UNAUTHORIZED', message: 'human readable error message' },
  result: { preimage: '0123456789abcdef...' },
};

const SPEC_RESPONSES = [
  { result_type: 'pay_invoice', result: { preimage: '0123456789abcdef...', fees_paid: 123 } },
  { result_type: 'get_balance', result: { balance: 10000 } },
  {
    result_type: 'get_info',
    result: {
      alias: 'string',
      color: 'hex string',
      pubkey: 'hex string',
      network: 'string',
      block_height: 1,
      block_hash: 'hex string',
      methods: ['pay_invoice', 'get_balance', 'make_invoice', 'lookup_invoice', 'list_transactions', 'get_info'],
      notifications: ['payment_received', 'payment_sent'],
    },
  },
  { result_type: 'cancel_hold_invoice', result: {} },
  { result_type: 'settle_hold_invoice', result: {} },
];

const SPEC_NOTIFICATION = { notification_type: 'payment_received', notification: { payment_hash: '0123456789abcdef...' } };

// --- connection URI --------------------------------------------------------------------------

test("the spec's connection string parses (percent-encoded relay)", () => {
  const c = parseConnectionUri(SPEC_URI);
  assert.deepEqual(c, {
    walletPubkey: 'b889ff5b1513b641e2a139f661a661364979c5beee91842f8f0ef42ab558e9d4',
    relays: ['wss://relay.damus.io'],
    secret: '71a8c14c1407c113601079c4302dab36460f0ccd0ad506f1f2dc73b5100e4f3c',
  });
  assert.equal(buildConnectionUri(c), SPEC_URI, 'we build it byte for byte');
});

test('URI round trip with several relays and a lud16; nostr-tools reads what we build', () => {
  const c = { walletPubkey: service, relays: ['wss://a.example/x?y=1', 'ws://127.0.0.1:7777'], secret: bytesToHex(clientSk), lud16: 'timmy@example.com' };
  const uri = buildConnectionUri(c);
  assert.deepEqual(parseConnectionUri(uri), c);
  const nt = ntNip47.parseConnectionString(uri);
  assert.equal(nt.pubkey, service);
  assert.deepEqual(nt.relays, c.relays);
  assert.equal(nt.secret, c.secret);
  // Without '//' (some wallets), and upper-case hex.
  assert.deepEqual(parseConnectionUri(uri.replace('://', ':').replace(service, service.toUpperCase())).walletPubkey, service);
});

test('bad URIs are refused with a reason', () => {
  const sec = bytesToHex(clientSk);
  throwsNip47(() => parseConnectionUri(`nostr+wc://${service}?relay=wss%3A%2F%2Fr&secret=${sec}`), /not a nostr\+walletconnect/);
  throwsNip47(() => parseConnectionUri(`nostr+walletconnect://abc?relay=wss%3A%2F%2Fr&secret=${sec}`), /wallet pubkey/);
  throwsNip47(() => parseConnectionUri(`nostr+walletconnect://${service}?secret=${sec}`), /no relay/);
  throwsNip47(() => parseConnectionUri(`nostr+walletconnect://${service}?relay=https%3A%2F%2Fr&secret=${sec}`), /invalid relay/);
  throwsNip47(() => parseConnectionUri(`nostr+walletconnect://${service}?relay=wss%3A%2F%2Fr`), /secret/);
  throwsNip47(() => parseConnectionUri(`nostr+walletconnect://${service}?relay=wss%3A%2F%2Fr&secret=123`), /secret/);
  throwsNip47(() => buildConnectionUri({ walletPubkey: service, relays: [], secret: sec }), /relay/);
});

// --- info event ------------------------------------------------------------------------------

test("the spec's info event parses (its id does not match its contents: the example was edited after signing)", () => {
  assert.equal(verifyEvent(SPEC_INFO_EVENT), false);
  const info = parseInfo(SPEC_INFO_EVENT);
  assert.deepEqual(info.encryptions, ['nip44_v2', 'nip04']);
  assert.deepEqual(info.notifications, ['payment_received', 'payment_sent']);
  assert.ok(info.capabilities.includes('pay_invoice') && info.capabilities.includes('notifications'));
  assert.equal(info.capabilities.length, 11);
  assert.equal(chooseEncryption(info), 'nip44_v2');
});

test('info: no encryption tag means nip04; comma-separated content is read too; build round trip', () => {
  const legacy = parseInfo({ kind: 13194, tags: [], content: 'pay_invoice,get_balance' });
  assert.deepEqual(legacy.encryptions, ['nip04']);
  assert.deepEqual(legacy.capabilities, ['pay_invoice', 'get_balance']);
  assert.equal(chooseEncryption(legacy), 'nip04');
  assert.equal(chooseEncryption({ encryptions: ['nip99'] }), undefined);
  const e = buildInfo({ capabilities: ['get_info', 'notifications'], encryptions: ['nip44_v2', 'nip04'], notifications: ['payment_received'] }, serviceSk);
  assert.equal(e.kind, 13194);
  assert.equal(e.pubkey, service);
  assert.ok(verifyEvent(e));
  assert.deepEqual(e.tags, [
    ['encryption', 'nip44_v2 nip04'],
    ['notifications', 'payment_received'],
  ]);
  assert.equal(e.content, 'get_info notifications');
  throwsNip47(() => parseInfo({ kind: 1, tags: [], content: '' }), /not a NIP-47 info/);
});

// --- requests --------------------------------------------------------------------------------

test("every request example of the spec survives build -> parse, with NIP-44 and NIP-04", () => {
  assert.deepEqual(SPEC_REQUESTS.map((r) => r.method), [...METHODS], 'the examples cover every method');
  for (const encryption of ['nip44_v2', 'nip04'] as const) {
    for (const request of SPEC_REQUESTS) {
      const e = buildRequest({ walletPubkey: service, request, encryption }, clientSk);
      assert.equal(e.kind, 23194);
      assert.ok(verifyEvent(e));
      assert.deepEqual(e.tags, [
        ['p', service],
        ['encryption', encryption],
      ]);
      const p = parseRequest(e, serviceSk);
      assert.equal(p.status, 'ok');
      if (p.status !== 'ok') continue;
      assert.deepEqual(p.request, request);
      assert.equal(p.client, client);
      assert.equal(p.encryption, encryption);
    }
  }
});

test('request content is NIP-44 v2 as nostr-tools reads it; a nostr-tools request parses', () => {
  const e = buildRequest({ walletPubkey: service, request: { method: 'get_balance', params: {} } }, clientSk);
  const text = ntNip44.decrypt(e.content, ntNip44.getConversationKey(serviceSk, client));
  assert.deepEqual(JSON.parse(text), { method: 'get_balance', params: {} });
  // nostr-tools' own (NIP-04, no encryption tag) pay_invoice request.
  return ntNip47.makeNwcRequestEvent(service, clientSk, 'lnbc50n1...').then((nt: NostrEvent) => {
    assert.equal(requestEncryption(nt), 'nip04');
    const p = parseRequest(nt as NostrEvent, serviceSk);
    assert.equal(p.status, 'ok');
    if (p.status === 'ok') assert.deepEqual(p.request, { method: 'pay_invoice', params: { invoice: 'lnbc50n1...' } });
  });
});

test('expiration: ignored once passed, kept before; a malformed one is ignored', () => {
  const e = buildRequest({ walletPubkey: service, request: { method: 'get_info', params: {} }, expiration: 1000 }, clientSk);
  assert.deepEqual(e.tags.at(-1), ['expiration', '1000']);
  assert.equal(parseRequest(e, serviceSk, 1000).status, 'ok');
  assert.deepEqual(parseRequest(e, serviceSk, 1001), { status: 'ignore', reason: 'expired' });
  const bad = finalizeEvent({ ...e, tags: [['p', service], ['encryption', 'nip44_v2'], ['expiration', 'soon']] }, clientSk);
  assert.equal(parseRequest(bad, serviceSk).status, 'ignore');
});

test('hostile requests: other kinds and addressees are ignored, bad payloads answered with OTHER, odd schemes with UNSUPPORTED_ENCRYPTION', () => {
  const sign = (tags: string[][], content: string, kind = 23194) => finalizeEvent({ kind, created_at: 1, tags, content }, clientSk);
  const conv = ntNip44.getConversationKey(clientSk, service);
  const enc = (s: string) => ntNip44.encrypt(s, conv);
  const tagsOk = [['p', service], ['encryption', 'nip44_v2']];
  assert.equal(parseRequest(sign(tagsOk, enc('{}'), 1), serviceSk).status, 'ignore');
  assert.equal(parseRequest(sign([['p', client], ['encryption', 'nip44_v2']], enc('{}')), serviceSk).status, 'ignore');
  assert.equal(parseRequest(sign([], enc('{}')), serviceSk).status, 'ignore');
  // Undecryptable: garbage, another peer's payload, NIP-44 content under a NIP-04 claim.
  assert.match((parseRequest(sign(tagsOk, 'garbage'), serviceSk) as { reason: string }).reason, /cannot decrypt/);
  assert.equal(parseRequest(sign(tagsOk, ntNip44.encrypt('{}', ntNip44.getConversationKey(clientSk, client))), serviceSk).status, 'ignore');
  assert.equal(parseRequest(sign([['p', service]], enc('{"method":"get_info"}')), serviceSk).status, 'ignore');
  const cases: [string, RegExp, string][] = [
    ['not json', /not JSON/, ''],
    ['[1,2]', /not a JSON object/, ''],
    ['{"params":{}}', /no method/, ''],
    ['{"method":"pay_invoice","params":[1]}', /params must be an object/, 'pay_invoice'],
  ];
  for (const [payload, msg, method] of cases) {
    const p = parseRequest(sign(tagsOk, enc(payload)), serviceSk);
    assert.equal(p.status, 'error', payload);
    if (p.status !== 'error') continue;
    assert.equal(p.code, 'OTHER');
    assert.match(p.message, msg);
    assert.equal(p.method, method);
    assert.equal(p.encryption, 'nip44_v2');
  }
  const odd = parseRequest(sign([['p', service], ['encryption', 'nip45_v9']], enc('{}')), serviceSk);
  assert.equal(odd.status, 'error');
  if (odd.status === 'error') assert.equal(odd.code, 'UNSUPPORTED_ENCRYPTION');
  // A legacy NIP-04 request without the tag decrypts as NIP-04.
  const legacy = sign([['p', service]], ntNip04.encrypt(clientSk, service, '{"method":"get_info","params":{}}'));
  assert.equal(parseRequest(legacy, serviceSk).status, 'ok');
  // Params absent or null mean {}.
  const noParams = parseRequest(sign(tagsOk, enc('{"method":"get_info","params":null}')), serviceSk);
  assert.ok(noParams.status === 'ok' && Object.keys(noParams.request.params).length === 0);
});

// --- responses -------------------------------------------------------------------------------

test("the spec's response examples parse; an error wins over a result", () => {
  for (const r of SPEC_RESPONSES) {
    const p = parseResponsePayload(JSON.stringify(r));
    assert.deepEqual(p, { result_type: r.result_type, error: null, result: r.result });
  }
  const withError = parseResponsePayload(JSON.stringify(SPEC_RESPONSE_WITH_ERROR));
  assert.deepEqual(withError, { result_type: 'pay_invoice', error: SPEC_RESPONSE_WITH_ERROR.error, result: null });
  throwsNip47(() => parseResponsePayload('{"result_type":"get_info"}'), /neither result nor error/);
  throwsNip47(() => parseResponsePayload('{"result":{}}'), /result_type/);
  throwsNip47(() => parseResponsePayload('{"result_type":"x","error":{"message":"m"}}'), /no code/);
});

test('responses: e and p tags, encrypted with the request scheme, read back by the client', () => {
  const req = buildRequest({ walletPubkey: service, request: { method: 'get_balance', params: {} } }, clientSk);
  for (const encryption of ['nip44_v2', 'nip04'] as const) {
    const e = buildResponse({ requestId: req.id, client, encryption, response: okResponse('get_balance', { balance: 10000 }) }, serviceSk);
    assert.equal(e.kind, 23195);
    assert.ok(verifyEvent(e));
    assert.deepEqual(e.tags, [
      ['p', client],
      ['e', req.id],
    ]);
    assert.equal(e.content.includes('?iv='), encryption === 'nip04');
    assert.deepEqual(parseResponse(e, clientSk, service), { result_type: 'get_balance', error: null, result: { balance: 10000 }, requestId: req.id });
  }
  const err = buildResponse({ requestId: req.id, client, encryption: 'nip44_v2', response: errorResponse('pay_invoice', 'QUOTA_EXCEEDED', 'over budget') }, serviceSk);
  const body = JSON.parse(ntNip44.decrypt(err.content, ntNip44.getConversationKey(clientSk, service))) as unknown;
  assert.deepEqual(body, { result_type: 'pay_invoice', error: { code: 'QUOTA_EXCEEDED', message: 'over budget' }, result: null });
  throwsNip47(() => parseResponse(err, clientSk, client), /not from the wallet service/);
  throwsNip47(() => parseResponse({ ...err, content: 'junk' }, clientSk, service), /cannot decrypt/);
});

test('error codes are the spec spellings', () => {
  for (const c of ['RATE_LIMITED', 'NOT_IMPLEMENTED', 'INSUFFICIENT_BALANCE', 'QUOTA_EXCEEDED', 'RESTRICTED', 'UNAUTHORIZED', 'INTERNAL', 'UNSUPPORTED_ENCRYPTION', 'OTHER', 'PAYMENT_FAILED', 'NOT_FOUND'])
    assert.ok((ERROR_CODES as readonly string[]).includes(c), c);
});

// --- notifications ---------------------------------------------------------------------------

test("notifications: 23197 with NIP-44, 23196 with NIP-04; the spec's example round-trips", () => {
  const notification = SPEC_NOTIFICATION as never;
  const n44 = buildNotification({ client, encryption: 'nip44_v2', notification }, serviceSk);
  const n04 = buildNotification({ client, encryption: 'nip04', notification }, serviceSk);
  assert.equal(n44.kind, 23197);
  assert.equal(n04.kind, 23196);
  for (const e of [n44, n04]) {
    assert.ok(verifyEvent(e));
    assert.deepEqual(e.tags, [['p', client]]);
    assert.deepEqual(parseNotification(e, clientSk, service), SPEC_NOTIFICATION);
  }
  assert.equal(ntNip04.decrypt(clientSk, service, n04.content), JSON.stringify(SPEC_NOTIFICATION));
  throwsNip47(() => parseNotification(n44, clientSk, client), /not from the wallet service/);
  const junk = finalizeEvent({ kind: 23197, created_at: 1, tags: [['p', client]], content: encryptPayload('nip44_v2', serviceSk, client, '{"x":1}') }, serviceSk);
  throwsNip47(() => parseNotification(junk, clientSk, service), /notification_type/);
});

test('metadata above 4096 characters is dropped', () => {
  assert.deepEqual(checkMetadata({ comment: 'hi' }), { comment: 'hi' });
  assert.equal(checkMetadata({ comment: 'x'.repeat(5000) }), undefined);
  assert.equal(checkMetadata('text'), undefined);
  assert.equal(checkMetadata([1]), undefined);
});

test('request payload checks', () => {
  assert.deepEqual(parseRequestPayload('{"method":"get_info"}'), { method: 'get_info', params: {} });
  throwsNip47(() => parseRequestPayload('{"method":""}'), /no method/);
});
