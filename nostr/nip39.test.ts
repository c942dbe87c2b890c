import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NostrEvent } from './nip01.js';
import { npubEncode } from './nip19.js';
import { buildExternalIdentities, EXTERNAL_IDENTITIES_KIND, Nip39Error, parseExternalIdentities, proofText, proofUrl } from './nip39.js';
import { finalizeEvent, generateSecretKey, getPublicKey } from './verify.js';

const fake = (tags: string[][], kind = EXTERNAL_IDENTITIES_KIND): NostrEvent => ({
  id: '11'.repeat(32),
  pubkey: '22'.repeat(32),
  created_at: 1700000000,
  kind,
  tags,
  content: '',
  sig: '33'.repeat(64),
});

// 39.md's example, with the comma it is missing after the mastodon tag.
const EXAMPLE = [
  ['i', 'github:semisol', '9721ce4ee4fceb91c9711ca2a6c9a5ab'],
  ['i', 'twitter:semisol_public', '1619358434134196225'],
  ['i', 'mastodon:bitcoinhackers.org/@semisol', '109775066355589974'],
  ['i', 'telegram:1087295469', 'nostrdirectory/770'],
];

test("39.md's example parses, and each claim type has its proof URL", () => {
  const r = parseExternalIdentities(fake(EXAMPLE));
  assert.ok(r.ok);
  assert.deepEqual(r.value.identities, [
    { platform: 'github', identity: 'semisol', proof: '9721ce4ee4fceb91c9711ca2a6c9a5ab' },
    { platform: 'twitter', identity: 'semisol_public', proof: '1619358434134196225' },
    { platform: 'mastodon', identity: 'bitcoinhackers.org/@semisol', proof: '109775066355589974' },
    { platform: 'telegram', identity: '1087295469', proof: 'nostrdirectory/770' },
  ]);
  assert.deepEqual(r.value.identities.map(proofUrl), [
    'https://gist.github.com/semisol/9721ce4ee4fceb91c9711ca2a6c9a5ab',
    'https://twitter.com/semisol_public/status/1619358434134196225',
    'https://bitcoinhackers.org/@semisol/109775066355589974',
    'https://t.me/nostrdirectory/770',
  ]);
  assert.equal(proofUrl({ platform: 'keybase', identity: 'x', proof: 'y' }), undefined);
});

test('proof texts per 39.md (GitHub unquoted, Twitter its own sentence, the others quoted)', () => {
  const npub = npubEncode('7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e');
  assert.equal(proofText('github', npub), `Verifying that I control the following Nostr public key: ${npub}`);
  assert.equal(proofText('twitter', npub), `Verifying my account on nostr My Public Key: "${npub}"`);
  assert.equal(proofText('mastodon', npub), `Verifying that I control the following Nostr public key: "${npub}"`);
  assert.equal(proofText('telegram', npub), proofText('mastodon', npub));
  assert.equal(proofText('other', npub), undefined);
});

test('extra values are kept; malformed i tags go to ignored; other tags are skipped', () => {
  const r = parseExternalIdentities(
    fake([
      ['i', 'github:alice', 'gist1', 'future', 'values'],
      ['i', 'github:', 'p'],
      ['i', ':alice', 'p'],
      ['i', 'noplatform', 'p'],
      ['i', 'github:bob'],
      ['i', 'Git Hub:bob', 'p'],
      ['i', 'GitHub:Carol', 'p'],
      ['i', 'matrix:@bob:example.org', 'proof'],
      ['p', '33'.repeat(32)],
    ]),
  );
  assert.ok(r.ok);
  assert.deepEqual(r.value.identities, [
    { platform: 'github', identity: 'alice', proof: 'gist1', extra: ['future', 'values'] },
    { platform: 'github', identity: 'Carol', proof: 'p' },
    { platform: 'matrix', identity: '@bob:example.org', proof: 'proof' },
  ]);
  assert.equal(r.value.ignored.length, 5);
  assert.deepEqual(parseExternalIdentities(fake([], 0)), { ok: false, reason: 'kind 0 is not external identities (10011)' });
});

test('buildExternalIdentities -> parse round trip, normalizing known platforms to lowercase', () => {
  const sk = generateSecretKey();
  const t = buildExternalIdentities(
    [
      { platform: 'GitHub', identity: 'SemiSol', proof: '9721ce4e' },
      { platform: 'telegram', identity: '1087295469', proof: 'nostrdirectory/770' },
      { platform: 'example.org/forum', identity: 'CaseKept', proof: 'p1', extra: ['x'] },
    ],
    1700000000,
  );
  assert.deepEqual(t.tags, [
    ['i', 'github:semisol', '9721ce4e'],
    ['i', 'telegram:1087295469', 'nostrdirectory/770'],
    ['i', 'example.org/forum:CaseKept', 'p1', 'x'],
  ]);
  assert.equal(t.kind, 10011);
  const e = finalizeEvent(t, sk);
  assert.equal(e.pubkey, getPublicKey(sk));
  const r = parseExternalIdentities(e);
  assert.ok(r.ok && r.value.identities.length === 3 && r.value.ignored.length === 0);
  const bad: [Parameters<typeof buildExternalIdentities>[0], RegExp][] = [
    [[{ platform: 'git:hub', identity: 'a', proof: 'p' }], /invalid platform name/],
    [[{ platform: '', identity: 'a', proof: 'p' }], /invalid platform name/],
    [[{ platform: 'github', identity: '', proof: 'p' }], /identity must not be empty/],
    [[{ platform: 'github', identity: 'a', proof: '' }], /proof must not be empty/],
    [[{ platform: 'github', identity: 'A', proof: 'p' }, { platform: 'github', identity: 'a', proof: 'q' }], /duplicate identity github:a/],
  ];
  for (const [ids, reason] of bad) assert.throws(() => buildExternalIdentities(ids), (err: Error) => err instanceof Nip39Error && reason.test(err.message));
});
