import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { finalizeEvent as ntFinalize, getEventHash as ntHash } from 'nostr-tools/pure';
import {
  canonicalJson,
  checkEventShape,
  checkFilter,
  compareNewestFirst,
  dTag,
  eventAddress,
  filterTags,
  getEventHash,
  kindClass,
  matchFilter,
  matchFilters,
  msgClosed,
  msgEvent,
  msgOk,
  reason,
  replaces,
  serializeEvent,
  type Filter,
  type NostrEvent,
} from './nip01.js';

const PK = 'a'.repeat(64);
const SK = hexToBytes('7f7ff03d123792d6ac594bfa67bf6d0c0ab55b6b1fdb6249303fe861f1ccba9a');

const ev = (over: Partial<NostrEvent> = {}): NostrEvent => ({
  id: '1'.repeat(64),
  pubkey: PK,
  created_at: 1000,
  kind: 1,
  tags: [],
  content: '',
  sig: '2'.repeat(128),
  ...over,
});

test('serialization: the NIP-01 escapes, everything else verbatim', () => {
  const content = 'a\nb"c\\d\re\tf\bg\fh';
  assert.equal(serializeEvent(ev({ content })), `[0,"${PK}",1000,1,[],"a\\nb\\"c\\\\d\\re\\tf\\bg\\fh"]`);
  // Non-ASCII goes out as raw UTF-8, not \u escapes: accents, CJK, astral-plane emoji, U+2028, DEL, '/'.
  const uni = 'é中🦄\u2028\u007f/';
  assert.equal(serializeEvent(ev({ content: uni })), `[0,"${PK}",1000,1,[],"${uni}"]`);
  // Other C0 controls have no short escape; JSON.stringify writes \u00XX, as nostr-tools and others do.
  assert.equal(serializeEvent(ev({ content: '\u0000\u0001\u001f' })), `[0,"${PK}",1000,1,[],"\\u0000\\u0001\\u001f"]`);
  // Tags get the same escaping, and the layout has no whitespace.
  const tags = [['e', 'x\ny'], ['t', '🦄', '']];
  assert.equal(serializeEvent(ev({ tags })), `[0,"${PK}",1000,1,[["e","x\\ny"],["t","🦄",""]],""]`);
});

test('id: sha256 of the UTF-8 serialization, equal to nostr-tools on signed events', () => {
  const e = ev({ content: 'hi 🦄' });
  const expected = bytesToHex(sha256(utf8ToBytes(`[0,"${PK}",1000,1,[],"hi 🦄"]`)));
  assert.equal(getEventHash(e), expected);
  const nasty = 'line\nquote" back\\ tab\t cr\r bs\b ff\f nul\u0000 é 中 🦄 \u2028';
  const signed = ntFinalize({ kind: 1, created_at: 1700000000, tags: [['p', PK], ['t', nasty]], content: nasty }, SK);
  assert.equal(getEventHash(signed), signed.id);
  assert.equal(getEventHash(signed), ntHash(signed));
  // Field order and extra fields on the input do not matter, only the six serialized ones.
  const shuffled = { sig: signed.sig, content: signed.content, tags: signed.tags, kind: signed.kind, created_at: signed.created_at, pubkey: signed.pubkey, id: 'x', extra: 1 };
  assert.equal(getEventHash(shuffled as unknown as NostrEvent), signed.id);
  assert.deepEqual(Object.keys(JSON.parse(canonicalJson({ ...signed, extra: 1 } as NostrEvent))), ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig']);
});

test('checkEventShape accepts a valid event and drops unknown fields', () => {
  const r = checkEventShape({ ...ev({ tags: [['e', 'x'], ['t']] }), extra: true });
  assert.ok(r.ok);
  assert.deepEqual(Object.keys(r.value), ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig']);
  assert.ok(checkEventShape(ev({ kind: 0, created_at: 0 })).ok);
  assert.ok(checkEventShape(ev({ kind: 65535 })).ok);
});

test('checkEventShape rejections, one per reason', () => {
  const base = ev() as unknown as Record<string, unknown>;
  const cases: [unknown, RegExp][] = [
    [null, /not an object/],
    [[], /not an object/],
    ['{}', /not an object/],
    [{ ...base, id: 'A'.repeat(64) }, /^id /],
    [{ ...base, id: '1'.repeat(63) }, /^id /],
    [{ ...base, id: undefined }, /^id /],
    [{ ...base, pubkey: 'g'.repeat(64) }, /^pubkey /],
    [{ ...base, sig: '2'.repeat(126) }, /^sig /],
    [{ ...base, sig: 'F'.repeat(128) }, /^sig /],
    [{ ...base, created_at: 1.5 }, /^created_at /],
    [{ ...base, created_at: -1 }, /^created_at /],
    [{ ...base, created_at: '1000' }, /^created_at /],
    [{ ...base, created_at: 2 ** 53 }, /^created_at /],
    [{ ...base, kind: -1 }, /^kind /],
    [{ ...base, kind: 65536 }, /^kind /],
    [{ ...base, kind: 1.5 }, /^kind /],
    [{ ...base, kind: '1' }, /^kind /],
    [{ ...base, content: null }, /^content /],
    [{ ...base, tags: {} }, /^tags must be an array/],
    [{ ...base, tags: ['e'] }, /each tag must be an array/],
    [{ ...base, tags: [['e', 1]] }, /tag items must be strings/],
    [{ ...base, tags: [['e', null]] }, /tag items must be strings/],
  ];
  for (const [x, re] of cases) {
    const r = checkEventShape(x);
    assert.equal(r.ok, false, JSON.stringify(x));
    if (!r.ok) assert.match(r.reason, re);
  }
});

test('kindClass boundaries', () => {
  const want: [number, string][] = [
    [0, 'replaceable'], [1, 'regular'], [2, 'regular'], [3, 'replaceable'], [4, 'regular'],
    [9999, 'regular'], [10000, 'replaceable'], [19999, 'replaceable'], [20000, 'ephemeral'],
    [29999, 'ephemeral'], [30000, 'addressable'], [39999, 'addressable'], [40000, 'regular'], [65535, 'regular'],
  ];
  for (const [k, c] of want) assert.equal(kindClass(k), c, `kind ${k}`);
});

test('compareNewestFirst: newer first, ties broken by the lowest id', () => {
  const a = { created_at: 10, id: 'b'.repeat(64) };
  const b = { created_at: 10, id: 'a'.repeat(64) };
  const c = { created_at: 11, id: 'f'.repeat(64) };
  const d = { created_at: 9, id: '0'.repeat(64) };
  assert.deepEqual([a, b, c, d].sort(compareNewestFirst), [c, b, a, d]);
  assert.equal(compareNewestFirst(a, a), 0);
  assert.ok(compareNewestFirst(b, a) < 0);
  assert.ok(replaces(ev({ created_at: 10, id: 'a'.repeat(64) }), a)); // same time, lower id wins
  assert.ok(!replaces(ev({ created_at: 10, id: 'c'.repeat(64) }), a));
  assert.ok(!replaces(ev({ created_at: 10, id: a.id }), a)); // an event never replaces itself
  assert.ok(replaces(ev({ created_at: 11, id: 'f'.repeat(64) }), a));
});

test('d tag and addresses', () => {
  assert.equal(dTag(ev({ tags: [['d', 'x'], ['d', 'y']] })), 'x');
  assert.equal(dTag(ev({ tags: [['d']] })), '');
  assert.equal(dTag(ev()), '');
  assert.equal(eventAddress(ev({ kind: 30023, tags: [['d', 'post']] })), `30023:${PK}:post`);
  assert.equal(eventAddress(ev({ kind: 10002, tags: [['d', 'ignored']] })), `10002:${PK}:`);
});

test('checkFilter accepts a full filter and ignores unknown keys', () => {
  const f = { ids: ['1'.repeat(64)], authors: [PK], kinds: [0, 65535], since: 0, until: 5, limit: 0, search: 'x', '#e': ['2'.repeat(64)], '#T': [], foo: 1 };
  const r = checkFilter(f);
  assert.ok(r.ok);
  assert.equal('foo' in r.value, false);
  assert.deepEqual(filterTags(r.value), [['e', ['2'.repeat(64)]], ['T', []]]);
});

test('checkFilter rejections', () => {
  const cases: [unknown, RegExp][] = [
    [null, /not an object/],
    [[{}], /not an object/],
    [{ ids: ['1'.repeat(63)] }, /^ids /],
    [{ ids: ['1'.repeat(65)] }, /^ids /],
    [{ ids: 'x' }, /^ids /],
    [{ authors: [PK.toUpperCase()] }, /^authors /],
    [{ kinds: [1.5] }, /^kinds /],
    [{ kinds: [65536] }, /^kinds /],
    [{ since: 1.5 }, /^since must be a non-negative integer/],
    [{ since: '1' }, /^since /],
    [{ until: -1 }, /^until /],
    [{ limit: Infinity }, /^limit /],
    [{ search: 1 }, /^search /],
    [{ '#ab': ['x'] }, /unsupported tag filter #ab/],
    [{ '#': ['x'] }, /unsupported tag filter/],
    [{ '#1': ['x'] }, /unsupported tag filter/],
    [{ '#e': 'x' }, /#e must be an array of strings/],
    [{ '#e': [1] }, /#e must be an array of strings/],
  ];
  for (const [x, re] of cases) {
    const r = checkFilter(x);
    assert.equal(r.ok, false, JSON.stringify(x));
    if (!r.ok) assert.match(r.reason, re);
  }
});

test('matchFilter: each field', () => {
  const e = ev({ id: 'c'.repeat(64), kind: 7, created_at: 100, tags: [['e', 'E1'], ['p', 'P1'], ['p', 'P2'], ['t'], ['e']] });
  const yes = (f: Filter): void => assert.equal(matchFilter(f, e), true, JSON.stringify(f));
  const no = (f: Filter): void => assert.equal(matchFilter(f, e), false, JSON.stringify(f));
  yes({});
  yes({ ids: ['d'.repeat(64), e.id] });
  no({ ids: ['d'.repeat(64)] });
  no({ ids: [] });
  yes({ authors: [PK] });
  no({ authors: ['b'.repeat(64)] });
  yes({ kinds: [1, 7] });
  no({ kinds: [1] });
  yes({ since: 100 }); // inclusive
  no({ since: 101 });
  yes({ until: 100 }); // inclusive
  no({ until: 99 });
  yes({ since: 100, until: 100 });
  yes({ '#e': ['E1'] });
  yes({ '#p': ['X', 'P2'] }); // any value of any matching tag
  no({ '#p': ['E1'] }); // value under another tag name
  no({ '#t': [''] }); // a tag without a value matches nothing
  no({ '#x': ['E1'] });
  yes({ '#e': ['E1'], '#p': ['P1'] }); // tag conditions AND together
  no({ '#e': ['E1'], '#p': ['nope'] });
  no({ '#e': [] });
  yes({ search: 'anything' }); // not evaluated here
  yes({ ids: [e.id], authors: [PK], kinds: [7], since: 1, until: 1000, '#e': ['E1'] });
  no({ ids: [e.id], authors: [PK], kinds: [8] });
  assert.equal(matchFilters([{ kinds: [1] }, { '#p': ['P1'] }], e), true);
  assert.equal(matchFilters([{ kinds: [1] }], e), false);
  assert.equal(matchFilters([], e), false);
});

test('wire messages', () => {
  assert.equal(msgEvent('s"1', '{"a":1}'), '["EVENT","s\\"1",{"a":1}]');
  assert.equal(msgOk('ab', false, reason('invalid', 'bad signature')), '["OK","ab",false,"invalid: bad signature"]');
  assert.equal(msgClosed('s', reason('auth-required', 'x')), '["CLOSED","s","auth-required: x"]');
});
