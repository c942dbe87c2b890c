import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { finalizeEvent, generateSecretKey } from '../nostr/verify.js';
import { HEARTBEAT_KIND, heartbeatTemplate, identitiesTemplate, parseHeartbeat, profileTemplate, relayListTemplate } from './events.js';
import { parsePersona } from './personas/loader.js';

const persona = parsePersona({
  name: 'muse',
  displayName: 'Muse',
  about: 'writes',
  picture: 'https://example.com/muse.png',
  kinds: [5050],
  pricing: { baseMsat: 1, perUnitMsat: 1 },
});

describe('agent events', () => {
  it('kind 0 carries the bot flag, nip05, lud16 and the offer when given', () => {
    const t = profileTemplate(persona, { nip05: 'Muse@Example.com', lud16: 'muse@example.com', offer: 'lno1xyz' }, 100);
    assert.equal(t.kind, 0);
    assert.deepEqual(JSON.parse(t.content), {
      name: 'muse',
      display_name: 'Muse',
      about: 'writes',
      picture: 'https://example.com/muse.png',
      nip05: 'muse@example.com',
      lud16: 'muse@example.com',
      bolt12: 'lno1xyz',
      bot: true,
    });
    assert.deepEqual(JSON.parse(profileTemplate(persona, {}, 100).content).bot, true);
    assert.throws(() => profileTemplate(persona, { nip05: 'not an identifier' }, 100), /NIP-05/);
  });

  it('kind 10002 lists each relay once with its marker; kind 10011 lowercases identities', () => {
    const r = relayListTemplate([{ url: 'wss://a.example' }, { url: 'wss://b.example', marker: 'write' }, { url: 'wss://a.example', marker: 'read' }], 5);
    assert.deepEqual(r.tags, [['r', 'wss://a.example'], ['r', 'wss://b.example', 'write']]);
    assert.equal(r.kind, 10002);
    const i = identitiesTemplate([{ platform: 'mastodon', identity: 'Bitcoinhackers.org/@Muse', proof: '1097' }], 5);
    assert.deepEqual(i.tags, [['i', 'mastodon:bitcoinhackers.org/@muse', '1097']]);
    assert.throws(() => identitiesTemplate([{ platform: 'git:hub', identity: 'x', proof: 'y' }], 5), /platform/);
  });

  it('heartbeats round-trip and malformed ones are ignored', () => {
    const sk = generateSecretKey();
    const e = finalizeEvent(heartbeatTemplate({ status: 'idle', kinds: [5001, 5302], active: 0, capacity: 4, intervalSec: 30 }, 1000), sk);
    assert.equal(e.kind, HEARTBEAT_KIND);
    assert.deepEqual(e.tags, [
      ['status', 'idle'],
      ['k', '5001'],
      ['k', '5302'],
      ['load', '0', '4'],
      ['expiration', '1090'],
      ['alt', 'Timmy agent heartbeat: idle'],
    ]);
    assert.deepEqual(parseHeartbeat(e), { pubkey: e.pubkey, createdAt: 1000, status: 'idle', kinds: [5001, 5302], active: 0, capacity: 4, expiresAt: 1090 });
    const bad = finalizeEvent({ ...heartbeatTemplate({ status: 'idle', kinds: [], active: 0, capacity: 1, intervalSec: 30 }, 1000), tags: [['status', 'asleep']] }, sk);
    assert.equal(parseHeartbeat(bad), undefined);
    assert.equal(parseHeartbeat({ ...e, kind: 1 }), undefined);
  });
});
