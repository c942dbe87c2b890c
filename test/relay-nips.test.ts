// NIP-09, 11, 40, 42, 45, 50 and 70 over real websockets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Keys, RawClient, now, sleep, startTestRelay, type TestRelay } from './support/relay.js';
import { authTemplate } from '../nostr/nip42.js';
import { finalizeEvent } from '../nostr/verify.js';
import type { NostrEvent } from '../nostr/nip01.js';

const alice = new Keys();
const bob = new Keys();

function authEvent(k: Keys, url: string, challenge: string, created_at = now()): NostrEvent {
  return finalizeEvent(authTemplate(url, challenge, created_at), k.sk);
}

async function login(c: RawClient, k: Keys, url: string): Promise<void> {
  const challenge = (await c.next((m) => m[0] === 'AUTH'))[1] as string;
  const e = authEvent(k, url, challenge);
  c.send(['AUTH', e]);
  const ok = await c.ok(e.id);
  assert.equal(ok[2], true, String(ok[3]));
}

describe('relay NIPs', () => {
  let r: TestRelay;
  let c: RawClient;
  before(async () => {
    r = await startTestRelay({ auth: { writeKinds: [9999], readKinds: [9998], privateKinds: [4, 1059], required: false, challengeOnConnect: true } });
    c = await RawClient.connect(r.url);
  });
  after(async () => {
    c.close();
    await r.stop();
  });

  describe('NIP-09 deletion', () => {
    it('deletes by e tag only the author\'s own events, and refuses a re-post', async () => {
      const mine = alice.sign({ kind: 1, content: 'delete me' });
      const theirs = bob.sign({ kind: 1, content: 'not yours' });
      assert.equal((await c.publish(mine)).ok, true);
      assert.equal((await c.publish(theirs)).ok, true);
      const del = alice.sign({ kind: 5, content: 'oops', tags: [['e', mine.id], ['e', theirs.id], ['k', '1']] });
      assert.equal((await c.publish(del)).ok, true);
      assert.equal((await c.req('d1', { ids: [mine.id] })).events.length, 0);
      assert.equal((await c.req('d2', { ids: [theirs.id] })).events.length, 1);
      const again = await c.publish(mine);
      assert.equal(again.ok, false);
      assert.match(again.message, /^blocked: /);
      // the deletion request itself is stored and served
      assert.equal((await c.req('d3', { kinds: [5], authors: [alice.pk] })).events.length, 1);
    });

    it('deletes by a tag every version up to the request\'s created_at, and refuses older re-posts', async () => {
      const t = now() - 50;
      const v1 = alice.sign({ kind: 30078, content: 'v1', tags: [['d', 'app']], created_at: t });
      assert.equal((await c.publish(v1)).ok, true);
      const addr = `30078:${alice.pk}:app`;
      const del = alice.sign({ kind: 5, tags: [['a', addr]], created_at: t + 10 });
      assert.equal((await c.publish(del)).ok, true);
      assert.equal((await c.req('a1', { kinds: [30078], authors: [alice.pk], '#d': ['app'] })).events.length, 0);
      const old = alice.sign({ kind: 30078, content: 'v0', tags: [['d', 'app']], created_at: t + 5 });
      assert.equal((await c.publish(old)).ok, false);
      const newer = alice.sign({ kind: 30078, content: 'v2', tags: [['d', 'app']], created_at: t + 20 });
      assert.equal((await c.publish(newer)).ok, true);
      // someone else's a-tag deletion has no effect
      const bobDel = bob.sign({ kind: 5, tags: [['a', `30078:${alice.pk}:app`]] });
      assert.equal((await c.publish(bobDel)).ok, true);
      assert.equal((await c.req('a2', { kinds: [30078], authors: [alice.pk] })).events.length, 1);
    });
  });

  describe('NIP-11', () => {
    it('serves the information document with CORS and limitations', async () => {
      const res = await fetch(r.url.replace('ws://', 'http://'), { headers: { accept: 'application/nostr+json' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.match(res.headers.get('content-type') ?? '', /application\/nostr\+json/);
      const doc = (await res.json()) as { supported_nips: number[]; limitation: Record<string, unknown> };
      for (const n of [1, 9, 11, 40, 42, 45, 50, 70]) assert.ok(doc.supported_nips.includes(n), `supports ${n}`);
      for (const k of ['max_message_length', 'max_subscriptions', 'max_limit', 'max_event_tags', 'max_content_length', 'created_at_lower_limit', 'created_at_upper_limit', 'default_limit'])
        assert.equal(typeof doc.limitation[k], 'number', k);
      const pre = await fetch(r.url.replace('ws://', 'http://'), { method: 'OPTIONS' });
      assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    });
  });

  describe('NIP-40 expiration', () => {
    it('refuses expired events, never serves them, and purges them', async () => {
      const expired = alice.sign({ kind: 1, content: 'gone', tags: [['expiration', String(now() - 1)]] });
      const res = await c.publish(expired);
      assert.equal(res.ok, false);
      assert.match(res.message, /^invalid: /);
      const soon = alice.sign({ kind: 1, content: 'soon gone', tags: [['expiration', String(now() + 1)], ['t', 'expiring']] });
      assert.equal((await c.publish(soon)).ok, true);
      assert.equal((await c.req('x1', { '#t': ['expiring'] })).events.length, 1);
      await sleep(2100);
      assert.equal((await c.req('x2', { '#t': ['expiring'] })).events.length, 0);
      assert.ok((await r.relay.purgeExpired()) >= 1);
    });
  });

  describe('NIP-42 AUTH', () => {
    it('needs AUTH for configured write kinds, and accepts after a valid AUTH', async () => {
      const a = await RawClient.connect(r.url);
      const e = alice.sign({ kind: 9999, content: 'members only' });
      const res = await a.publish(e);
      assert.equal(res.ok, false);
      assert.match(res.message, /^auth-required: /);
      await login(a, alice, r.url);
      assert.equal((await a.publish(e)).ok, true);
      a.close();
    });

    it('refuses AUTH with a wrong challenge, wrong relay, stale time or wrong kind', async () => {
      const a = await RawClient.connect(r.url);
      const challenge = (await a.next((m) => m[0] === 'AUTH'))[1] as string;
      const bad = [
        authEvent(alice, r.url, 'wrong'),
        authEvent(alice, 'wss://elsewhere.example/', challenge),
        authEvent(alice, r.url, challenge, now() - 3600),
        alice.sign({ kind: 1, tags: [['relay', r.url], ['challenge', challenge]] }),
      ];
      for (const e of bad) {
        a.send(['AUTH', e]);
        const ok = await a.ok(e.id);
        assert.equal(ok[2], false);
        assert.match(ok[3] as string, /^invalid: /);
      }
      a.close();
    });

    it('serves DMs and gift wraps only to their parties', async () => {
      const dm = alice.sign({ kind: 4, content: 'secret?iv=x', tags: [['p', bob.pk]] });
      const wrap = alice.sign({ kind: 1059, content: 'sealed', tags: [['p', bob.pk]] });
      assert.equal((await c.publish(dm)).ok, true);
      assert.equal((await c.publish(wrap)).ok, true);
      const anon = await c.req('dm0', { kinds: [4] });
      assert.match(anon.closed ?? '', /^auth-required: /);
      assert.equal((await c.req('dm1', { authors: [alice.pk] })).events.filter((e) => e.kind === 4 || e.kind === 1059).length, 0);
      const eve = await RawClient.connect(r.url);
      await login(eve, new Keys(), r.url);
      assert.equal((await eve.req('dm2', { kinds: [4, 1059] })).events.length, 0);
      const b = await RawClient.connect(r.url);
      await login(b, bob, r.url);
      assert.equal((await b.req('dm3', { kinds: [4, 1059] })).events.length, 2);
      // live delivery respects the same rule
      const dm2 = alice.sign({ kind: 4, content: 'second?iv=y', tags: [['p', bob.pk]] });
      await c.publish(dm2);
      assert.equal(((await b.next((m) => m[0] === 'EVENT' && m[1] === 'dm3'))[2] as NostrEvent).id, dm2.id);
      await sleep(100);
      assert.ok(!eve.messages.some((m) => m[0] === 'EVENT' && m[1] === 'dm2'));
      eve.close();
      b.close();
    });

    it('needs AUTH to read configured read kinds', async () => {
      const e = alice.sign({ kind: 9998, content: 'hidden' });
      assert.equal((await c.publish(e)).ok, true);
      assert.match((await c.req('rk', { kinds: [9998] })).closed ?? '', /^auth-required: /);
      assert.equal((await c.req('rk2', { ids: [e.id] })).events.length, 0);
      const a = await RawClient.connect(r.url);
      await login(a, bob, r.url);
      assert.equal((await a.req('rk3', { kinds: [9998] })).events.length, 1);
      a.close();
    });

    it('never stores or relays kind 22242 sent as EVENT', async () => {
      const e = authEvent(alice, r.url, 'x');
      const res = await c.publish(e);
      assert.equal(res.ok, false);
    });
  });

  describe('NIP-45 COUNT', () => {
    it('counts matching events', async () => {
      const k = new Keys();
      for (let i = 0; i < 5; i++) assert.equal((await c.publish(k.sign({ kind: 1, content: `c${i}`, tags: [['t', 'counted']] }))).ok, true);
      c.send(['COUNT', 'n1', { authors: [k.pk] }]);
      assert.deepEqual((await c.next((m) => m[0] === 'COUNT' && m[1] === 'n1'))[2], { count: 5 });
      c.send(['COUNT', 'n2', { authors: [k.pk], limit: 1 }, { '#t': ['counted'] }]);
      assert.deepEqual((await c.next((m) => m[0] === 'COUNT' && m[1] === 'n2'))[2], { count: 5 });
      c.send(['COUNT', 'n3', { ids: ['zz'] }]);
      assert.match((await c.next((m) => m[0] === 'CLOSED' && m[1] === 'n3'))[2] as string, /^invalid: /);
    });
  });

  describe('NIP-50 search', () => {
    it('finds events by words, ranked by relevance, and ignores unsupported extensions', async () => {
      const k = new Keys();
      const a = k.sign({ kind: 1, content: 'Nostr relays store signed events' });
      const b = k.sign({ kind: 1, content: 'relays relays relays: a Nostr note about relays' });
      const x = k.sign({ kind: 1, content: 'nothing to see here' });
      for (const e of [a, b, x]) assert.equal((await c.publish(e)).ok, true);
      const res = await c.req('s1', { search: 'relays nostr language:en', authors: [k.pk] });
      assert.deepEqual(res.events.map((e) => e.id), [b.id, a.id]);
      assert.equal((await c.req('s2', { search: 'absent-word', authors: [k.pk] })).events.length, 0);
      // live matching of search subscriptions
      const sub = await RawClient.connect(r.url);
      await sub.req('s3', { search: 'zebra', limit: 0 });
      const z = k.sign({ kind: 1, content: 'a Zebra crossing' });
      await c.publish(z);
      assert.equal(((await sub.next((m) => m[0] === 'EVENT' && m[1] === 's3'))[2] as NostrEvent).id, z.id);
      sub.close();
    });
  });

  describe('NIP-70 protected events', () => {
    it('accepts a protected event only from its authenticated author', async () => {
      const e = alice.sign({ kind: 1, content: 'protected', tags: [['-']] });
      const a = await RawClient.connect(r.url);
      const res = await a.publish(e);
      assert.equal(res.ok, false);
      assert.match(res.message, /^auth-required: /);
      await login(a, bob, r.url);
      assert.match((await a.publish(e)).message, /^restricted: /);
      const b = await RawClient.connect(r.url);
      await login(b, alice, r.url);
      assert.equal((await b.publish(e)).ok, true);
      a.close();
      b.close();
    });
  });
});
