import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NIP05_REGEX } from 'nostr-tools/nip05';
import {
  buildNostrJson,
  displayIdentifier,
  isValidName,
  lookupName,
  Nip05Error,
  normalizeName,
  nostrJsonUrl,
  parseIdentifier,
  parseNostrJson,
} from './nip05.js';

// 05.md's example.
const BOB = 'b0635d6a9851d3aed0cd6c495b282167acf761729078d975fc341b22650b07b9';
const ALICE = 'ab'.repeat(32);

test('names: a-z 0-9 - _ . only, compared case-insensitively', () => {
  for (const ok of ['bob', 'Bob', 'a.b-c_d', '_', '0', 'x'.repeat(100)]) assert.ok(isValidName(ok), ok);
  for (const bad of ['', 'bob smith', 'bob@x', 'bób', 'bob+tag', 'a/b', 'ß']) assert.ok(!isValidName(bad), bad);
  assert.equal(normalizeName('BoB'), 'bob');
  assert.throws(() => normalizeName('b o b'), (e: Error) => e instanceof Nip05Error && e.name === 'Nip05Error');
});

test('parseIdentifier: name@domain, _@domain, a bare domain', () => {
  assert.deepEqual(parseIdentifier('bob@example.com'), { ok: true, value: { name: 'bob', domain: 'example.com' } });
  assert.deepEqual(parseIdentifier('Bob@Example.COM'), { ok: true, value: { name: 'bob', domain: 'example.com' } });
  assert.deepEqual(parseIdentifier('_@bob.com'), { ok: true, value: { name: '_', domain: 'bob.com' } });
  assert.deepEqual(parseIdentifier('bob.com'), { ok: true, value: { name: '_', domain: 'bob.com' } });
  assert.deepEqual(parseIdentifier('a.b_c-d@sub.xn--bcher-kva.example'), { ok: true, value: { name: 'a.b_c-d', domain: 'sub.xn--bcher-kva.example' } });
  const bad: [string, RegExp][] = [
    ['bob+x@example.com', /invalid name/],
    ['@example.com', /invalid name/],
    ['bob@', /invalid domain/],
    ['bob@localhost', /invalid domain/],
    ['bob@exa mple.com', /invalid domain/],
    ['bob@-example.com', /invalid domain/],
    ['bob@example.com:8080', /invalid domain/],
    ['bob@example.com/path', /invalid domain/],
    ['a@b@example.com', /more than one @/],
  ];
  for (const [s, reason] of bad) {
    const r = parseIdentifier(s);
    assert.equal(r.ok, false, s);
    if (!r.ok) assert.match(r.reason, reason, s);
  }
  // Everything we accept, nostr-tools accepts too.
  for (const s of ['bob@example.com', '_@bob.com', 'bob.com', 'a.b_c-d@sub.example.org']) assert.ok(NIP05_REGEX.test(s), s);
});

test('display and fetch URL', () => {
  const root = parseIdentifier('_@bob.com');
  const bob = parseIdentifier('bob@example.com');
  assert.ok(root.ok && bob.ok);
  assert.equal(displayIdentifier(root.value), 'bob.com');
  assert.equal(displayIdentifier(bob.value), 'bob@example.com');
  assert.equal(nostrJsonUrl(bob.value), 'https://example.com/.well-known/nostr.json?name=bob');
  assert.equal(nostrJsonUrl(root.value), 'https://bob.com/.well-known/nostr.json?name=_');
});

test("buildNostrJson: 05.md's documents, relays only for served pubkeys, ?name= filtering", () => {
  assert.deepEqual(buildNostrJson({ bob: BOB }), { names: { bob: BOB } });
  const relays = { [BOB]: ['wss://relay.example.com', 'wss://relay2.example.com'] };
  assert.deepEqual(buildNostrJson({ bob: BOB }, relays), { names: { bob: BOB }, relays });
  const all = buildNostrJson({ Bob: BOB, _: ALICE, alice: ALICE.toUpperCase() }, { ...relays, [ALICE]: ['wss://a.example.com', 'wss://a.example.com'], ['cd'.repeat(32)]: ['wss://other.example.com'] });
  assert.deepEqual(all, {
    names: { bob: BOB, _: ALICE, alice: ALICE },
    relays: { [BOB]: relays[BOB], [ALICE]: ['wss://a.example.com'] },
  });
  assert.deepEqual(buildNostrJson({ bob: BOB, alice: ALICE }, relays, { only: 'BOB' }), { names: { bob: BOB }, relays });
  assert.deepEqual(buildNostrJson({ bob: BOB, alice: ALICE }, relays, { only: 'alice' }), { names: { alice: ALICE } });
  assert.deepEqual(buildNostrJson({ bob: BOB }, relays, { only: 'carol' }), { names: {} });
  assert.deepEqual(buildNostrJson({ bob: BOB }, relays, { only: 'not valid!' }), { names: {} });
  // A name that is valid per 05.md but special in JavaScript stays an ordinary key.
  const proto = buildNostrJson({ ['__proto__']: BOB });
  assert.equal(JSON.stringify(proto), `{"names":{"__proto__":"${BOB}"}}`);
});

test('buildNostrJson refuses bad names, duplicates, bad pubkeys and relay URLs', () => {
  const bad: [() => unknown, RegExp][] = [
    [() => buildNostrJson({ 'bob smith': BOB }), /invalid name/],
    [() => buildNostrJson({ bob: BOB, BOB: ALICE }), /duplicate name bob/],
    [() => buildNostrJson({ bob: 'npub1xyz' }), /invalid pubkey/],
    [() => buildNostrJson({ bob: BOB.slice(1) }), /invalid pubkey/],
    [() => buildNostrJson({ bob: BOB }, { [BOB]: ['https://relay.example.com'] }), /not a ws/],
    [() => buildNostrJson({ bob: BOB }, { nothex: ['wss://r.example.com'] }), /invalid pubkey/],
  ];
  for (const [fn, reason] of bad) assert.throws(fn, (e: Error) => e instanceof Nip05Error && reason.test(e.message));
});

test('parseNostrJson and lookupName: fetched documents, tolerant of junk entries', () => {
  const doc = { names: { bob: BOB, Carol: ALICE, 'bad name': ALICE, dave: 'NOTHEX', eve: 5 }, relays: { [BOB]: ['wss://r.example.com', 7, 'http://x'], junk: ['wss://y'] } };
  const r = parseNostrJson(doc);
  assert.ok(r.ok);
  assert.deepEqual(r.value, { names: { bob: BOB, carol: ALICE }, relays: { [BOB]: ['wss://r.example.com'] } });
  assert.deepEqual(lookupName(r.value, 'BOB'), { pubkey: BOB, relays: ['wss://r.example.com'] });
  assert.deepEqual(lookupName(r.value, 'carol'), { pubkey: ALICE, relays: [] });
  assert.equal(lookupName(r.value, 'dave'), undefined);
  assert.equal(lookupName(r.value, 'constructor'), undefined);
  assert.deepEqual(parseNostrJson({ names: {} }), { ok: true, value: { names: {} } });
  assert.deepEqual(parseNostrJson([]), { ok: false, reason: 'document is not a JSON object' });
  assert.deepEqual(parseNostrJson({ names: [] }), { ok: false, reason: 'names is not an object' });
  assert.deepEqual(parseNostrJson(null), { ok: false, reason: 'document is not a JSON object' });
});
