// NIP-90 results (6000-6999) and feedback (7000): build, parse, and the examples' responses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson, type NostrEvent } from './nip01.js';
import {
  buildFeedback,
  buildJobRequest,
  buildJobResult,
  FEEDBACK_STATUSES,
  Nip90Error,
  normalizeFeedbackStatus,
  parseFeedback,
  parseJobRequest,
  parseJobResult,
  type FeedbackStatus,
  type JobRequest,
} from './nip90.js';
import { finalizeEvent, getPublicKey } from './verify.js';

const vector = (name: string) => JSON.parse(readFileSync(new URL(`../../nostr/vectors/dvm/${name}`, import.meta.url), 'utf8'));
const customerSk = sha256(utf8ToBytes('nip90 replies customer'));
const providerSk = sha256(utf8ToBytes('nip90 replies provider'));
const CUSTOMER = getPublicKey(customerSk);
const PROVIDER = getPublicKey(providerSk);
const HEX = 'ab'.repeat(32);
const T = 1700000000;

function request(t: Parameters<typeof buildJobRequest>[0]): JobRequest {
  const r = parseJobRequest(finalizeEvent(buildJobRequest(t), customerSk));
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.value;
}
const sign = (t: Parameters<typeof finalizeEvent>[0]): NostrEvent => finalizeEvent(t, providerSk);
const fakeReply = (kind: number, tags: string[][], content = ''): NostrEvent => ({
  id: '11'.repeat(32),
  pubkey: PROVIDER,
  created_at: T,
  kind,
  tags,
  content,
  sig: '33'.repeat(64),
});

const summarize = request({
  kind: 5001,
  inputs: [
    { data: HEX, type: 'event', relay: 'wss://r.example.com' },
    { data: 'and this', type: 'text' },
  ],
  params: [['length', '3 paragraphs']],
  created_at: T,
});

test('buildJobResult: kind + 1000, request, e (+hint), i, p, amount; parseJobResult reads it back', () => {
  const t = buildJobResult({
    request: summarize,
    content: 'short summary',
    amountMsat: 21000,
    bolt11: 'lnbc210n1...',
    relayHint: 'wss://relay.example.com',
    extraTags: [['alt', 'a summary']],
    created_at: T + 1,
  });
  assert.equal(t.kind, 6001);
  assert.equal(t.created_at, T + 1);
  assert.deepEqual(t.tags, [
    ['request', canonicalJson(summarize.event)],
    ['e', summarize.id, 'wss://relay.example.com'],
    ['i', HEX, 'event', 'wss://r.example.com'],
    ['i', 'and this', 'text'],
    ['p', CUSTOMER],
    ['amount', '21000', 'lnbc210n1...'],
    ['alt', 'a summary'],
  ]);
  const e = sign(t);
  const r = parseJobResult(e);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.value, {
    event: e,
    id: e.id,
    kind: 6001,
    requestKind: 5001,
    requestId: summarize.id,
    relayHint: 'wss://relay.example.com',
    customer: CUSTOMER,
    request: summarize.event,
    inputs: [
      { data: HEX, type: 'event', relay: 'wss://r.example.com' },
      { data: 'and this', type: 'text' },
    ],
    amountMsat: 21000,
    bolt11: 'lnbc210n1...',
    encrypted: false,
    content: 'short summary',
  });
  const plain = buildJobResult({ request: summarize, content: '' });
  assert.deepEqual(plain.tags[1], ['e', summarize.id]);
  assert.ok(!plain.tags.some((x) => x[0] === 'amount'));
  assert.ok(Math.abs(plain.created_at - Date.now() / 1000) <= 2);
});

test('buildJobResult for an encrypted request: no i tags, an encrypted tag', () => {
  // A stand-in cipher: buildJobRequest and parseJobRequest only see the callbacks.
  const seal = (s: string): string => `${s}-sealed`;
  const e = finalizeEvent(buildJobRequest({ kind: 5050, inputs: [{ data: 'secret prompt', type: 'text' }], providers: [PROVIDER], encrypt: seal, created_at: T }), customerSk);
  const r = parseJobRequest(e, (ct) => ct.slice(0, -'-sealed'.length));
  assert.ok(r.ok && r.value.encryption === 'nip44');
  const t = buildJobResult({ request: r.value, content: 'ciphertext-of-answer', amountMsat: 1 });
  assert.deepEqual(
    t.tags.map((x) => x[0]),
    ['request', 'e', 'p', 'amount', 'encrypted'],
  );
  assert.ok(!JSON.stringify(t.tags.slice(1)).includes('secret prompt'));
  const parsed = parseJobResult(sign(t));
  assert.ok(parsed.ok && parsed.value.encrypted && parsed.value.inputs.length === 0);
});

test('buildJobResult refuses reserved extra tags and a bolt11 without an amount', () => {
  for (const name of ['request', 'e', 'i', 'p', 'amount', 'encrypted']) {
    assert.throws(() => buildJobResult({ request: summarize, content: '', extraTags: [[name, 'x']] }), Nip90Error);
  }
  assert.throws(() => buildJobResult({ request: summarize, content: '', bolt11: 'lnbc1' }), /bolt11 needs amountMsat/);
  assert.throws(() => buildJobResult({ request: summarize, content: '', amountMsat: -5 }), /amountMsat must be a non-negative integer/);
});

test('parseJobResult rejects malformed results', () => {
  const good = buildJobResult({ request: summarize, content: 'x', created_at: T }).tags as string[][];
  const without = (name: string) => good.filter((t) => t[0] !== name);
  const cases: [number, string[][], RegExp][] = [
    [7000, good, /kind 7000 is not a job result kind/],
    [5001, good, /not a job result kind/],
    [6001, without('e'), /missing e tag/],
    [6001, [['e', 'nothex'], ...without('e')], /e tag must hold a 64-character/],
    [6001, [...good, ['amount', '-1']], /amount must be/],
    [6001, [['request', '{not json'], ...without('request')], /request tag is not JSON/],
    [6001, [['request', '{"kind":5001}'], ...without('request')], /request tag is not an event/],
    [6002, good, /request tag has kind 5001, not 5002/],
    [6001, [['p', 'bob'], ...without('p')], /p tag must hold/],
  ];
  for (const [kind, tags, reason] of cases) {
    const r = parseJobResult(fakeReply(kind, tags));
    assert.equal(r.ok, false, String(reason));
    if (!r.ok) assert.match(r.reason, reason);
  }
  const other = request({ kind: 5001, inputs: [{ data: 'other', type: 'text' }], created_at: T });
  const mismatched = [['request', canonicalJson(other.event)], ...without('request')];
  const r = parseJobResult(fakeReply(6001, mismatched));
  assert.deepEqual(r, { ok: false, reason: 'request tag and e tag name different events' });
  // The spec's own result example echoes inputs as ["i", "<input-data>"]: data only, accepted as such.
  const bare = parseJobResult(fakeReply(6001, [['e', summarize.id], ['i', 'just data']]));
  assert.ok(bare.ok);
  assert.deepEqual(bare.value.inputs, [{ data: 'just data' }]);
  assert.equal(bare.value.request, undefined);
  assert.equal(bare.value.customer, undefined);
});

test('5300 and 5302 responses: content lacks the outer [ ], no tags; a result built from it parses', () => {
  for (const file of ['5300.json', '5302.json']) {
    const v = vector(file);
    const verbatim = parseJobResult(fakeReply(v.response.kind, [], v.response.content));
    assert.deepEqual(verbatim, { ok: false, reason: 'missing e tag (the job request id)' }, file);
    assert.throws(() => JSON.parse(v.response.content), SyntaxError, file);
    const content = `[${v.response.content}]`;
    assert.deepEqual(JSON.parse(content), v.responseTags, file);
    const req = parseJobRequest({ ...fakeReply(v.cases[0].request.kind, v.cases[0].request.tags), pubkey: CUSTOMER });
    assert.ok(req.ok, file);
    const r = parseJobResult(sign(buildJobResult({ request: req.value, content, created_at: T })));
    assert.ok(r.ok, file);
    assert.equal(r.value.kind, v.response.kind, file);
    assert.deepEqual(JSON.parse(r.value.content), v.responseTags, file);
  }
});

// ---- feedback ----

test('buildFeedback: status (+extra), amount, e (+hint), p; every spec status round-trips', () => {
  const t = buildFeedback({
    request: summarize,
    status: 'payment-required',
    extra: 'pay first',
    amountMsat: 5000,
    bolt11: 'lnbc50n1...',
    relayHint: 'wss://relay.example.com',
    created_at: T,
  });
  assert.deepEqual(t, {
    kind: 7000,
    created_at: T,
    tags: [
      ['status', 'payment-required', 'pay first'],
      ['amount', '5000', 'lnbc50n1...'],
      ['e', summarize.id, 'wss://relay.example.com'],
      ['p', CUSTOMER],
    ],
    content: '',
  });
  const e = sign(t);
  assert.deepEqual(parseFeedback(e), {
    ok: true,
    value: {
      event: e,
      id: e.id,
      requestId: summarize.id,
      relayHint: 'wss://relay.example.com',
      customer: CUSTOMER,
      status: 'payment-required',
      extra: 'pay first',
      amountMsat: 5000,
      bolt11: 'lnbc50n1...',
      encrypted: false,
      content: '',
    },
  });
  for (const status of FEEDBACK_STATUSES) {
    const f = buildFeedback({ request: summarize, status, content: status === 'partial' ? 'sample' : undefined });
    assert.deepEqual(f.tags[0], ['status', status]);
    const r = parseFeedback(sign(f));
    assert.ok(r.ok && r.value.status === status && r.value.content === (status === 'partial' ? 'sample' : ''));
  }
});

test("NDK's payment_required is read as payment-required and never emitted", () => {
  assert.equal(normalizeFeedbackStatus('payment_required'), 'payment-required');
  assert.equal(normalizeFeedbackStatus('payment-required'), 'payment-required');
  assert.equal(normalizeFeedbackStatus('scheduled'), undefined);
  assert.equal(normalizeFeedbackStatus(undefined), undefined);
  // The tag layout NDK 2.14 produces: the provider's own p first, a NIP-10 style e, then the customer.
  const ndkTags = [['p', PROVIDER], ['e', summarize.id, '', 'job', CUSTOMER], ['p', CUSTOMER], ['status', 'payment_required']];
  const ndk = parseFeedback(fakeReply(7000, ndkTags));
  assert.ok(ndk.ok);
  assert.equal(ndk.value.status, 'payment-required');
  assert.equal(ndk.value.relayHint, undefined);
  assert.equal(ndk.value.customer, CUSTOMER, 'the p that is not the author');
  const self = parseFeedback({ ...fakeReply(7000, [['status', 'success'], ['e', summarize.id], ['p', PROVIDER]]) });
  assert.ok(self.ok && self.value.customer === PROVIDER, 'a customer using their own DVM');
  assert.throws(() => buildFeedback({ request: summarize, status: 'payment_required' as FeedbackStatus }), /unknown feedback status/);
});

test('parseFeedback rejects malformed feedback', () => {
  const e = ['e', summarize.id];
  const cases: [number, string[][], RegExp][] = [
    [6001, [['status', 'success'], e], /not job feedback/],
    [7000, [e], /missing status tag/],
    [7000, [['status', 'scheduled'], e], /unknown feedback status "scheduled"/],
    [7000, [['status'], e], /unknown feedback status ""/],
    [7000, [['status', 'success']], /missing e tag/],
    [7000, [['status', 'success'], e, ['amount', 'ten']], /amount must be/],
    [7000, [['status', 'success'], e, ['p', HEX.toUpperCase()]], /p tag must hold/],
  ];
  for (const [kind, tags, reason] of cases) {
    const r = parseFeedback(fakeReply(kind, tags));
    assert.equal(r.ok, false, String(reason));
    if (!r.ok) assert.match(r.reason, reason);
  }
  const enc = parseFeedback(fakeReply(7000, [['status', 'partial'], e, ['encrypted']], 'sealed'));
  assert.ok(enc.ok && enc.value.encrypted && enc.value.customer === undefined);
});
