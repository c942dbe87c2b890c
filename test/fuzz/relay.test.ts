// Fuzzing the relay's client-message parser (relay/pipeline/parse.ts) and the filter matcher
// (nostr/nip01.ts matchFilter, relay/subscriptions.ts SubscriptionIndex): random text, near-valid
// messages, mutated signed events, and a differential against NIP-01's matching rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson, type NostrEvent } from '../../nostr/nip01.js';
import { defaultVerifier } from '../../nostr/verify.js';
import { parseClientMessage } from '../../relay/pipeline/parse.js';
import { anyText, fuzz, hex, mutatedString, seeds } from './support.js';
import { filterCase, LIMITS, relayMessage } from './targets.js';
import { sign, SK } from './make-corpus.js';

void SK;
const T = 'relay-message';

// A few signed events to mutate (signing in the loop would cost more than the parsing under test).
const SIGNED: NostrEvent[] = [
  sign({}),
  sign({ kind: 5050, tags: [['i', 'hi', 'text'], ['p', 'cd'.repeat(32)]], content: '' }),
  sign({ kind: 30023, tags: [['d', 'x'], ['t', 'a', 'b', 'c']], content: '\u0000\u2028"\\é🔥' }),
  sign({ kind: 0, created_at: 0, content: '{"name":"n"}' }),
  sign({ kind: 22242, tags: [['relay', 'wss://r'], ['challenge', 'c']], content: '' }),
];

const VERBS = ['EVENT', 'AUTH', 'REQ', 'COUNT', 'CLOSE', 'NEG-OPEN', 'NEG-MSG', 'NEG-CLOSE', 'OK', 'event', ''];

/** JSON values of every type, small. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: 'small' },
  fc.constantFrom(null, true, 0, -1, 1.5, 2 ** 53, 1e308, '', 'ab'.repeat(32), 'AB'.repeat(32), [], {}),
  fc.jsonValue({ maxDepth: 2 }),
);

const hexish = fc.oneof(hex(32), hex(31), hex(33), hex(32).map((h) => h.toUpperCase()), fc.constant('ab'.repeat(32)), anyText(70));

/** A filter that is mostly well-formed, sometimes with one bad or unknown member. */
const filterArb: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    ids: fc.array(hexish, { maxLength: 3 }),
    authors: fc.array(hexish, { maxLength: 3 }),
    kinds: fc.array(fc.oneof(fc.integer({ min: -2, max: 70000 }), fc.double(), junk), { maxLength: 3 }),
    since: fc.oneof(fc.nat(), fc.integer(), fc.double(), junk),
    until: fc.oneof(fc.nat(), fc.integer(), junk),
    limit: fc.oneof(fc.nat(500), junk),
    search: fc.oneof(anyText(40), junk),
    '#e': fc.array(hexish, { maxLength: 2 }),
    '#p': fc.array(hexish, { maxLength: 2 }),
    '#t': fc.array(anyText(10), { maxLength: 3 }),
    '#tt': fc.array(anyText(5), { maxLength: 2 }),
    '#': junk,
    __proto__x: junk,
    other: junk,
  },
  { requiredKeys: [] },
);

const eventish: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...SIGNED),
  fc.tuple(fc.constantFrom(...SIGNED), fc.constantFrom('id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig', 'extra'), junk).map(([e, k, v]) => ({ ...e, [k]: v })),
  junk,
);

const messageArb: fc.Arbitrary<unknown[]> = fc.oneof(
  fc.tuple(fc.constantFrom('EVENT', 'AUTH'), eventish),
  fc.tuple(fc.constantFrom('EVENT', 'AUTH'), eventish, eventish),
  fc.tuple(fc.constantFrom('REQ', 'COUNT'), fc.oneof(fc.string({ maxLength: 70 }), junk), fc.array(fc.oneof(filterArb, junk), { maxLength: 12 })).map(([v, s, fs]) => [v, s, ...fs]),
  fc.tuple(fc.constantFrom('CLOSE', 'NEG-CLOSE'), fc.oneof(fc.string({ maxLength: 70 }), junk)),
  fc.tuple(fc.constant('NEG-OPEN'), fc.string({ maxLength: 8 }), fc.oneof(filterArb, junk), fc.oneof(hex(3), anyText(8), junk)),
  fc.tuple(fc.constant('NEG-MSG'), fc.string({ maxLength: 8 }), fc.oneof(hex(3), fc.constant('6'), fc.constant('zz'), junk)),
  fc.tuple(fc.constantFrom(...VERBS), fc.array(junk, { maxLength: 4 })).map(([v, rest]) => [v, ...rest]),
);

test('relay parser: arbitrary text never crashes, hangs or accepts an invalid message', () => {
  fuzz(T, 'arbitrary text', fc.oneof(anyText(300), fc.json({ maxDepth: 4 })), (s) => void relayMessage(s), { runs: 3000, share: 0.2 });
});

test('relay parser: near-valid messages (structure-aware, then string-mutated)', () => {
  const text = messageArb.map((m) => JSON.stringify(m));
  fuzz(T, 'near-valid messages', fc.oneof(text, mutatedString(fc.oneof(text, fc.constantFrom(...seeds(T))))), (s) => void relayMessage(s), { runs: 3000, share: 0.5 });
});

test('relay parser: a signed event with any one field changed is never accepted', () => {
  const fields = ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig'] as const;
  const change = fc.record({
    e: fc.constantFrom(...SIGNED),
    field: fc.constantFrom(...fields),
    at: fc.nat(),
    str: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
    n: fc.integer({ min: 1, max: 70000 }),
  });
  fuzz(T, 'mutated signed events', change, ({ e, field, at, str, n }) => {
    const m: Record<string, unknown> = { ...e };
    const flipHex = (h: string) => {
      const i = at % h.length;
      const c = h[i] === 'f' ? '0' : (parseInt(h[i]!, 16) + 1).toString(16);
      return h.slice(0, i) + c + h.slice(i + 1);
    };
    if (field === 'id' || field === 'pubkey' || field === 'sig') m[field] = flipHex(e[field]);
    else if (field === 'created_at') m.created_at = e.created_at + n;
    else if (field === 'kind') m.kind = (e.kind + n) % 65536;
    else if (field === 'content') m.content = e.content.slice(0, at % (e.content.length + 1)) + str + e.content.slice(at % (e.content.length + 1));
    else m.tags = [...e.tags, ['t', str]];
    for (const verb of ['EVENT', 'AUTH']) {
      const r = relayMessage(JSON.stringify([verb, m]));
      assert.equal(r.type, 'BAD_EVENT', `${verb} accepted an event whose ${field} was changed`);
    }
  }, { runs: 400, share: 0.3 });
});

test('relay parser: every signed event round-trips, in any key order and with extra fields', () => {
  for (const e of SIGNED) {
    const reordered = Object.fromEntries(Object.entries(e).reverse());
    for (const ev of [e, reordered, { ...e, extra: [1] }]) {
      const m = parseClientMessage(JSON.stringify(['EVENT', ev]), defaultVerifier, LIMITS);
      assert.equal(m.type, 'EVENT');
      if (m.type === 'EVENT') assert.equal(m.json, canonicalJson(e));
    }
  }
});

// ---- filter matcher: NIP-01 differential ----

const IDS = ['aa', 'bb', 'cc', 'dd'].map((c) => c.repeat(32));
const KEYS = ['11', '22', '33'].map((c) => c.repeat(32));
const KINDS = [0, 1, 7, 5000, 30023];
const TIMES = [0, 1, 5, 1_700_000_000];
const VALUES = ['a', 'b', 'é', '', ...IDS.slice(0, 2), ...KEYS.slice(0, 2)];
const LETTERS = ['e', 'p', 't', 'E', 'd', 'x'];

const poolEvent: fc.Arbitrary<NostrEvent> = fc.record({
  id: fc.constantFrom(...IDS),
  pubkey: fc.constantFrom(...KEYS),
  created_at: fc.constantFrom(...TIMES),
  kind: fc.constantFrom(...KINDS),
  tags: fc.array(
    fc.oneof(
      fc.tuple(fc.constantFrom(...LETTERS), fc.constantFrom(...VALUES)).map((t): string[] => [...t]),
      fc.tuple(fc.constantFrom(...LETTERS), fc.constantFrom(...VALUES), fc.string({ maxLength: 3 })).map((t): string[] => [...t]),
      fc.constantFrom<string[]>([], ['e'], ['ee', 'a'], ['p']),
    ),
    { maxLength: 5 },
  ),
  content: fc.string({ maxLength: 10 }),
  sig: fc.constant('00'.repeat(64)),
});

const poolFilter: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    ids: fc.subarray(IDS),
    authors: fc.subarray(KEYS),
    kinds: fc.subarray(KINDS),
    since: fc.constantFrom(...TIMES),
    until: fc.constantFrom(...TIMES),
    limit: fc.nat(10),
    '#e': fc.subarray(IDS),
    '#p': fc.subarray(KEYS),
    '#t': fc.subarray(VALUES),
    '#E': fc.subarray(VALUES),
    '#d': fc.subarray(VALUES),
    '#x': fc.subarray(VALUES),
    search: fc.constantFrom('a', 'hello'),
  },
  { requiredKeys: [] },
);

test('filter matcher: matchFilter and the live index agree with NIP-01 on every event', () => {
  const caseArb = fc.record({
    filters: fc.array(fc.oneof({ weight: 8, arbitrary: poolFilter }, { weight: 1, arbitrary: filterArb }, { weight: 1, arbitrary: junk }), { minLength: 1, maxLength: 5 }),
    events: fc.array(fc.oneof({ weight: 9, arbitrary: poolEvent as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: eventish }), { minLength: 1, maxLength: 6 }),
  });
  fuzz('filter', 'NIP-01 differential', caseArb, filterCase, { runs: 3000, share: 0.8 });
});

test('filter matcher: arbitrary filter JSON is checked, never crashes', () => {
  fuzz('filter', 'arbitrary filters', fc.array(fc.oneof(filterArb, junk, fc.dictionary(fc.string({ maxLength: 3 }), junk)), { maxLength: 4 }), (filters) => filterCase({ filters, events: SIGNED }), {
    runs: 1500,
    share: 0.2,
  });
});
