import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { NostrEvent } from './nip01.js';
import {
  buildHandlerInfo,
  buildRecommendation,
  handlerAddress,
  handlerInfoFilter,
  Nip89Error,
  parseHandlerInfo,
  parseRecommendation,
  recommendationFilter,
} from './nip89.js';
import { finalizeEvent, generateSecretKey, getPublicKey } from './verify.js';

const V = JSON.parse(readFileSync(new URL('../../nostr/vectors/dvm/nip89.json', import.meta.url), 'utf8'));
const sk = generateSecretKey();
const PK = getPublicKey(sk);
const fake = (e: Partial<NostrEvent> & Pick<NostrEvent, 'kind' | 'tags'>): NostrEvent => ({
  id: '11'.repeat(32),
  pubkey: PK,
  created_at: 1700000000,
  content: '',
  sig: '33'.repeat(64),
  ...e,
});

test('the dvm-kinds/nip89.md and 90.md handler examples parse', () => {
  assert.equal(V.cases.length, 3);
  for (const c of V.cases) {
    const r = parseHandlerInfo(fake(c.event));
    assert.ok(r.ok, `${c.name}: ${r.ok ? '' : r.reason}`);
    assert.deepEqual(r.value.kinds, c.expect.kinds, c.name);
    assert.equal(r.value.d, c.expect.d, c.name);
    assert.deepEqual(r.value.metadata, c.expect.metadata, c.name);
    assert.deepEqual(r.value.topics, c.expect.topics ?? [], c.name);
    assert.equal(r.value.address, `31990:${c.event.pubkey}:${c.expect.d}`, c.name);
  }
});

test('the examples as written (Python True, raw newlines, trailing comma) are not JSON: rejected', () => {
  const asWritten = '{\n        "name": "Dali Vending Machine",\n        "encryptionSupported": True,\n\n    }';
  const r = parseHandlerInfo(fake({ kind: 31990, tags: [['d', 'x'], ['k', '5100']], content: asWritten }));
  assert.deepEqual(r, { ok: false, reason: 'content is not JSON' });
  // 90.md Appendix 2 has no d tag.
  const noD = parseHandlerInfo(fake({ kind: 31990, tags: [['k', '5005'], ['t', 'bitcoin']] }));
  assert.deepEqual(noD, { ok: false, reason: 'missing d tag' });
});

test('buildHandlerInfo -> parseHandlerInfo round trip: k per kind, metadata, platforms, t, latest/next', () => {
  const metadata = { name: 'Timmy summarizer', about: 'Summaries by agents', picture: 'https://example.com/p.png', encryptionSupported: true, nip90Params: { length: { required: false, values: [] } } };
  const t = buildHandlerInfo({
    d: 'timmy-5001',
    kinds: [5001, 5050, 5001],
    metadata,
    platforms: [
      { platform: 'web', url: 'https://example.com/e/<bech32>', entity: 'nevent' },
      { platform: 'web', url: 'https://example.com/<bech32>' },
    ],
    topics: ['bitcoin'],
    latest: { address: `35128:${PK}:site`, relay: 'wss://relay.example.com' },
    next: { address: `35128:${PK}:next` },
    created_at: 1700000000,
  });
  assert.equal(t.kind, 31990);
  assert.deepEqual(t.tags, [
    ['d', 'timmy-5001'],
    ['k', '5001'],
    ['k', '5050'],
    ['t', 'bitcoin'],
    ['latest', `35128:${PK}:site`, 'wss://relay.example.com'],
    ['next', `35128:${PK}:next`],
    ['web', 'https://example.com/e/<bech32>', 'nevent'],
    ['web', 'https://example.com/<bech32>'],
  ]);
  const e = finalizeEvent(t, sk);
  const r = parseHandlerInfo(e);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.value, {
    event: e,
    address: handlerAddress(PK, 'timmy-5001'),
    d: 'timmy-5001',
    kinds: [5001, 5050],
    metadata,
    platforms: [
      { platform: 'web', url: 'https://example.com/e/<bech32>', entity: 'nevent' },
      { platform: 'web', url: 'https://example.com/<bech32>' },
    ],
    topics: ['bitcoin'],
    latest: { address: `35128:${PK}:site`, relay: 'wss://relay.example.com' },
    next: { address: `35128:${PK}:next` },
  });
  // No metadata: empty content, clients use the author's kind 0.
  const bare = parseHandlerInfo(finalizeEvent(buildHandlerInfo({ d: 'x', kinds: [5300] }), sk));
  assert.ok(bare.ok && bare.value.metadata === undefined && bare.value.event.content === '');
});

test('invalid handler information', () => {
  const cases: [Partial<NostrEvent> & Pick<NostrEvent, 'kind' | 'tags'>, RegExp][] = [
    [{ kind: 31989, tags: [['d', 'x'], ['k', '1']] }, /not handler information/],
    [{ kind: 31990, tags: [['d', 'x']] }, /no k tag/],
    [{ kind: 31990, tags: [['d', 'x'], ['k', 'five']] }, /k tag must hold an event kind/],
    [{ kind: 31990, tags: [['d', 'x'], ['k', '70000']] }, /k tag must hold an event kind/],
    [{ kind: 31990, tags: [['d', 'x'], ['k', '1']], content: '[1]' }, /content is not a JSON object/],
    [{ kind: 31990, tags: [['d', 'x'], ['k', '1']], content: '{"name":5}' }, /name must be a string/],
    [{ kind: 31990, tags: [['d', 'x'], ['k', '1']], content: '{"encryptionSupported":"True"}' }, /encryptionSupported must be a boolean/],
  ];
  for (const [e, reason] of cases) {
    const r = parseHandlerInfo(fake(e));
    assert.equal(r.ok, false, String(reason));
    if (!r.ok) assert.match(r.reason, reason);
  }
  assert.throws(() => buildHandlerInfo({ d: '', kinds: [1] }), Nip89Error);
  assert.throws(() => buildHandlerInfo({ d: 'x', kinds: [] }), /at least one kind/);
  assert.throws(() => buildHandlerInfo({ d: 'x', kinds: [-1] }), /invalid kind/);
  assert.throws(() => buildHandlerInfo({ d: 'x', kinds: [1], platforms: [{ platform: 'gopher' as 'web', url: 'x' }] }), /unknown platform/);
});

test('recommendations (31989): build, parse, and the 89.md example', () => {
  const addr = handlerAddress('1743058db7078661b94aaf4286429d97ee5257d14a86d6bfa54cb0482b876fb0', 'abcd');
  const t = buildRecommendation({
    kind: 31337,
    handlers: [{ address: addr, relay: 'wss://relay1', platform: 'web' }, { address: handlerAddress(PK, 'x'), platform: 'ios' }, { address: handlerAddress(PK, 'y') }],
    created_at: 1700000000,
  });
  assert.deepEqual(t.tags, [
    ['d', '31337'],
    ['a', addr, 'wss://relay1', 'web'],
    ['a', handlerAddress(PK, 'x'), '', 'ios'],
    ['a', handlerAddress(PK, 'y')],
  ]);
  const r = parseRecommendation(finalizeEvent(t, sk));
  assert.ok(r.ok);
  assert.equal(r.value.kind, 31337);
  assert.deepEqual(r.value.handlers, [
    { address: addr, relay: 'wss://relay1', platform: 'web' },
    { address: handlerAddress(PK, 'x'), platform: 'ios' },
    { address: handlerAddress(PK, 'y') },
  ]);
  assert.deepEqual(parseRecommendation(fake({ kind: 31989, tags: [['d', 'notakind']] })), { ok: false, reason: 'd tag must hold the recommended event kind' });
  const badA = parseRecommendation(fake({ kind: 31989, tags: [['d', '1'], ['a', `30023:${PK}:x`]] }));
  assert.equal(badA.ok, false);
  assert.throws(() => buildRecommendation({ kind: 1, handlers: [{ address: 'nope' }] }), /31990:<pubkey>:<d>/);
  assert.equal(parseRecommendation(fake({ kind: 31990, tags: [] })).ok, false);
});

test('discovery filters', () => {
  assert.deepEqual(handlerInfoFilter(5001), { kinds: [31990], '#k': ['5001'] });
  assert.deepEqual(recommendationFilter(5001, [PK]), { kinds: [31989], '#d': ['5001'], authors: [PK] });
  assert.throws(() => handlerInfoFilter(5001, ['npub1']), Nip89Error);
});
