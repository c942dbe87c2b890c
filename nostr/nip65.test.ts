import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeURL } from 'nostr-tools/utils';
import type { NostrEvent } from './nip01.js';
import { buildRelayList, Nip65Error, normalizeRelayUrl, parseRelayList, RELAY_LIST_KIND } from './nip65.js';
import { finalizeEvent, generateSecretKey } from './verify.js';

const fake = (tags: string[][], kind = RELAY_LIST_KIND): NostrEvent => ({
  id: '11'.repeat(32),
  pubkey: '22'.repeat(32),
  created_at: 1700000000,
  kind,
  tags,
  content: '',
  sig: '33'.repeat(64),
});

test("65.md's example: no marker = read and write", () => {
  const r = parseRelayList(
    fake([
      ['r', 'wss://alicerelay.example.com'],
      ['r', 'wss://brando-relay.com'],
      ['r', 'wss://expensive-relay.example2.com', 'write'],
      ['r', 'wss://nostr-relay.example.com', 'read'],
    ]),
  );
  assert.ok(r.ok);
  assert.deepEqual(r.value.relays, [
    { url: 'wss://alicerelay.example.com', read: true, write: true },
    { url: 'wss://brando-relay.com', read: true, write: true },
    { url: 'wss://expensive-relay.example2.com', read: false, write: true },
    { url: 'wss://nostr-relay.example.com', read: true, write: false },
  ]);
  assert.deepEqual(r.value.write, ['wss://alicerelay.example.com', 'wss://brando-relay.com', 'wss://expensive-relay.example2.com']);
  assert.deepEqual(r.value.read, ['wss://alicerelay.example.com', 'wss://brando-relay.com', 'wss://nostr-relay.example.com']);
  assert.deepEqual(r.value.ignored, []);
});

test('normalizeRelayUrl agrees with nostr-tools on ws/wss URLs (but writes a bare host without the /) and refuses the rest', () => {
  for (const u of ['wss://Relay.Example.com/', 'wss://relay.example.com:443', 'ws://relay.example.com:80/', 'wss://relay.example.com/nostr/', 'wss://relay.example.com#x', 'wss://relay.example.com:4848']) {
    assert.equal(normalizeRelayUrl(u), normalizeURL(u).replace(/^(wss?:\/\/[^/]+)\/$/, '$1'), u);
  }
  assert.equal(normalizeRelayUrl('wss://relay.example.com/nostr/'), 'wss://relay.example.com/nostr');
  assert.equal(normalizeRelayUrl('wss://Relay.Example.com/'), 'wss://relay.example.com');
  for (const bad of ['https://relay.example.com', 'relay.example.com', '', 'wss://', 'wss://user:pw@relay.example.com']) {
    assert.equal(normalizeRelayUrl(bad), undefined, bad);
  }
});

test('parse merges duplicates, keeps unusable r tags in ignored, skips other tags', () => {
  const r = parseRelayList(
    fake([
      ['r', 'wss://a.example.com', 'read'],
      ['r', 'wss://A.example.com/', 'write'],
      ['r', 'https://web.example.com'],
      ['r', 'wss://b.example.com', 'both'],
      ['r'],
      ['p', '44'.repeat(32)],
    ]),
  );
  assert.ok(r.ok);
  assert.deepEqual(r.value.relays, [{ url: 'wss://a.example.com', read: true, write: true }]);
  assert.deepEqual(r.value.ignored, [['r', 'https://web.example.com'], ['r', 'wss://b.example.com', 'both'], ['r']]);
  assert.deepEqual(parseRelayList(fake([], 3)), { ok: false, reason: 'kind 3 is not a relay list (10002)' });
});

test('buildRelayList -> parseRelayList round trip', () => {
  const t = buildRelayList(
    [
      { url: 'wss://both.example.com/', read: true, write: true },
      { url: 'wss://in.example.com', read: true, write: false },
      { url: 'wss://out.example.com', read: false, write: true },
      { url: 'wss://IN.example.com', read: false, write: true },
    ],
    1700000000,
  );
  assert.deepEqual(t, {
    kind: 10002,
    created_at: 1700000000,
    tags: [
      ['r', 'wss://both.example.com'],
      ['r', 'wss://in.example.com'],
      ['r', 'wss://out.example.com', 'write'],
    ],
    content: '',
  });
  const r = parseRelayList(finalizeEvent(t, generateSecretKey()));
  assert.ok(r.ok);
  assert.deepEqual(r.value.read, ['wss://both.example.com', 'wss://in.example.com']);
  assert.deepEqual(r.value.write, ['wss://both.example.com', 'wss://in.example.com', 'wss://out.example.com']);
  assert.throws(() => buildRelayList([{ url: 'http://x.example.com', read: true, write: true }]), Nip65Error);
  assert.throws(() => buildRelayList([{ url: 'wss://x.example.com', read: false, write: false }]), /neither read nor write/);
  assert.ok(Math.abs(buildRelayList([]).created_at - Date.now() / 1000) <= 2);
});
