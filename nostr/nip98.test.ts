import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finalizeEvent, generateSecretKey, getPublicKey } from './verify.js';
import { authorizationHeader, checkHttpAuth, httpAuthTemplate, parseAuthorization } from './nip98.js';

// The example from NIP-98, with its header.
const SPEC_EVENT = {
  id: 'fe964e758903360f28d8424d092da8494ed207cba823110be3a57dfe4b578734',
  pubkey: '63fe6318dc58583cfe16810f86dd09e18bfd76aabc24a0081ce2856f330504ed',
  content: '',
  kind: 27235,
  created_at: 1682327852,
  tags: [
    ['u', 'https://api.snort.social/api/v1/n5sp/list'],
    ['method', 'GET'],
  ],
  sig: '5ed9d8ec958bc854f997bdc24ac337d005af372324747efe4a00e24f4c30437ff4dd8308684bed467d9d6be3e5a517bb43b1732cc7d33949a3aaf86705c22184',
};
const SPEC_HEADER =
  'Nostr eyJpZCI6ImZlOTY0ZTc1ODkwMzM2MGYyOGQ4NDI0ZDA5MmRhODQ5NGVkMjA3Y2JhODIzMTEwYmUzYTU3ZGZlNGI1Nzg3MzQiLCJwdWJrZXkiOiI2M2ZlNjMxOGRjNTg1ODNjZmUxNjgxMGY4NmRkMDllMThiZmQ3NmFhYmMyNGEwMDgxY2UyODU2ZjMzMDUwNGVkIiwiY29udGVudCI6IiIsImtpbmQiOjI3MjM1LCJjcmVhdGVkX2F0IjoxNjgyMzI3ODUyLCJ0YWdzIjpbWyJ1IiwiaHR0cHM6Ly9hcGkuc25vcnQuc29jaWFsL2FwaS92MS9uNXNwL2xpc3QiXSxbIm1ldGhvZCIsIkdFVCJdXSwic2lnIjoiNWVkOWQ4ZWM5NThiYzg1NGY5OTdiZGMyNGFjMzM3ZDAwNWFmMzcyMzI0NzQ3ZWZlNGEwMGUyNGY0YzMwNDM3ZmY0ZGQ4MzA4Njg0YmVkNDY3ZDlkNmJlM2U1YTUxN2JiNDNiMTczMmNjN2QzMzk0OWEzYWFmODY3MDVjMjIxODQifQ';

test('the NIP-98 example header decodes to the example event; its checks pass up to the signature', () => {
  const p = parseAuthorization(SPEC_HEADER);
  assert.ok(p.ok);
  assert.deepEqual(p.value, SPEC_EVENT);
  // kind, time, u and method pass; the example's id is not the NIP-01 hash of its fields
  // (sha256 of the serialization is 2dd2dfec...), so a server that verifies refuses it.
  const c = checkHttpAuth(p.value, { url: 'https://api.snort.social/api/v1/n5sp/list', method: 'GET', now: SPEC_EVENT.created_at + 30 });
  assert.deepEqual(c, { ok: false, reason: 'bad id or signature' });
  const late = checkHttpAuth(p.value, { url: 'https://api.snort.social/api/v1/n5sp/list', method: 'GET', now: SPEC_EVENT.created_at + 61 });
  assert.match(late.ok ? '' : late.reason, /60 s/);
});

test('each check in order: kind, time window, u (query included), method, payload, signature', () => {
  const sk = generateSecretKey();
  const now = 1_800_000_000;
  const url = 'http://127.0.0.1:8080/api/login?next=%2Fjobs';
  const ok = finalizeEvent(httpAuthTemplate({ url, method: 'post', body: '{"a":1}', created_at: now }), sk);
  const check = (e: typeof ok, over: Partial<Parameters<typeof checkHttpAuth>[1]> = {}) => checkHttpAuth(e, { url, method: 'POST', now, body: '{"a":1}', ...over });
  assert.deepEqual(check(ok), { ok: true, value: getPublicKey(sk) });
  assert.deepEqual(parseAuthorization(authorizationHeader(ok)), { ok: true, value: ok });
  const reason = (r: ReturnType<typeof checkHttpAuth>) => (r.ok ? 'ok' : r.reason);
  assert.match(reason(check({ ...ok, kind: 1 })), /kind must be 27235/);
  assert.match(reason(check(ok, { now: now + 61 })), /more than 60 s/);
  assert.match(reason(check(ok, { now: now - 61 })), /more than 60 s/);
  assert.equal(reason(check(ok, { now: now + 60 })), 'ok');
  assert.match(reason(check(ok, { url: 'http://127.0.0.1:8080/api/login' })), /u tag/);
  assert.match(reason(check(ok, { method: 'GET' })), /method tag/);
  assert.match(reason(check(ok, { body: '{"a":2}' })), /payload/);
  assert.match(reason(check({ ...ok, content: 'x' })), /signature/);
  const noPayload = finalizeEvent(httpAuthTemplate({ url, method: 'POST', created_at: now }), sk);
  assert.equal(reason(check(noPayload)), 'ok');
  assert.match(reason(check(noPayload, { requirePayload: true })), /payload tag required/);
});

test('bad headers are refused with a reason, never thrown', () => {
  for (const h of [undefined, '', 'Bearer x', 'Nostr', 'Nostr !!!', 'Nostr ' + Buffer.from('not json').toString('base64'), 'Nostr ' + Buffer.from('{"kind":27235}').toString('base64')])
    assert.equal(parseAuthorization(h).ok, false, String(h));
});
