// NIP-01 over real websockets against a relay on port 0.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Keys, RawClient, now, sleep, startTestRelay, type TestRelay } from './support/relay.js';
import type { NostrEvent } from '../nostr/nip01.js';

describe('NIP-01 relay', () => {
  let r: TestRelay;
  let c: RawClient;
  const alice = new Keys();
  const bob = new Keys();
  before(async () => {
    r = await startTestRelay();
    c = await RawClient.connect(r.url);
  });
  after(async () => {
    c.close();
    await r.stop();
  });

  it('sends no AUTH challenge on connect by default, and one with an auth-required answer', async () => {
    const a = await RawClient.connect(r.url);
    const res = await a.req('dms', { kinds: [4] });
    assert.match(res.closed ?? '', /^auth-required: /);
    const m = await a.next((x) => x[0] === 'AUTH');
    assert.equal(typeof m[1], 'string');
    assert.equal(a.messages.filter((x) => x[0] === 'AUTH').length, 0, 'exactly one challenge');
    a.close();
  });

  it('accepts a valid event with OK true, and says duplicate on a second copy', async () => {
    const e = alice.sign({ kind: 1, content: 'hello' });
    assert.deepEqual(await c.publish(e), { ok: true, message: '' });
    const again = await c.publish(e);
    assert.equal(again.ok, true);
    assert.match(again.message, /^duplicate:/);
  });

  it('rejects a bad signature and a bad id with invalid:', async () => {
    const e = alice.sign({ kind: 1, content: 'x' });
    const badSig = { ...e, sig: e.sig.slice(0, -2) + (e.sig.endsWith('00') ? '11' : '00') };
    const r1 = await c.publish(badSig);
    assert.equal(r1.ok, false);
    assert.match(r1.message, /^invalid: /);
    const badId = { ...e, content: 'changed' };
    const r2 = await c.publish(badId);
    assert.equal(r2.ok, false);
    assert.match(r2.message, /^invalid: /);
  });

  it('rejects non-integer created_at, wrong-length hex and bad tags with invalid:', async () => {
    const e = alice.sign({ kind: 1, content: 'y' });
    for (const bad of [{ ...e, created_at: 1.5 }, { ...e, created_at: '123' }, { ...e, pubkey: e.pubkey.slice(2) }, { ...e, tags: [[1]] }, { ...e, kind: -1 }]) {
      c.send(['EVENT', bad]);
      const m = await c.next((x) => x[0] === 'OK' && x[1] === (bad as { id: string }).id);
      assert.equal(m[2], false);
      assert.match(m[3] as string, /^invalid: /);
    }
  });

  it('answers malformed JSON and unknown messages with NOTICE and keeps the connection', async () => {
    c.send('this is not json');
    assert.match((await c.next((x) => x[0] === 'NOTICE'))[1] as string, /^invalid: /);
    c.send(['HELLO', 1]);
    assert.match((await c.next((x) => x[0] === 'NOTICE'))[1] as string, /^invalid: unknown message type/);
    c.send({ not: 'an array' });
    await c.next((x) => x[0] === 'NOTICE');
    const e = alice.sign({ kind: 1, content: 'still alive' });
    assert.equal((await c.publish(e)).ok, true);
  });

  it('stores escapes, unicode and non-characters in content byte for byte', async () => {
    const content = 'line\nbreak "quote" \\ back\ttab \u0000 nul \u0001 \uFFFF \uFDD0 émoji 🎉 \u2028';
    const e = alice.sign({ kind: 1, content, tags: [['t', 'escapes']] });
    assert.equal((await c.publish(e)).ok, true);
    const { events } = await c.req('esc', { '#t': ['escapes'] });
    assert.equal(events.length, 1);
    assert.deepEqual(events[0], e);
  });

  it('filters by ids, authors, kinds, tags, since/until (inclusive), and orders newest first with ties by lowest id', async () => {
    const base = now() - 1000;
    const evs: NostrEvent[] = [];
    for (let i = 0; i < 6; i++) evs.push(bob.sign({ kind: 7, content: `r${i}`, created_at: base + (i < 4 ? 10 : 20 + i), tags: [['e', 'a'.repeat(64)], ['p', alice.pk]] }));
    for (const e of evs) assert.equal((await c.publish(e)).ok, true);
    const { events } = await c.req('ord', { authors: [bob.pk], kinds: [7] });
    assert.equal(events.length, 6);
    const expected = [...evs].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1)).map((e) => e.id);
    assert.deepEqual(events.map((e) => e.id), expected);
    assert.equal((await c.req('ids', { ids: [evs[0]!.id] })).events.length, 1);
    assert.equal((await c.req('tag', { '#e': ['a'.repeat(64)], '#p': [alice.pk] })).events.length, 6);
    assert.equal((await c.req('tag2', { '#e': ['b'.repeat(64)] })).events.length, 0);
    const incl = await c.req('range', { authors: [bob.pk], since: base + 10, until: base + 10 });
    assert.equal(incl.events.length, 4);
    const lim = await c.req('lim', { authors: [bob.pk], limit: 2 });
    assert.deepEqual(lim.events.map((e) => e.id), expected.slice(0, 2));
    const two = await c.req('two', { ids: [evs[0]!.id] }, { ids: [evs[5]!.id] }, { ids: [evs[0]!.id] });
    assert.equal(two.events.length, 2);
  });

  it('limit:0 sends EOSE at once and then live events', async () => {
    const sub = await RawClient.connect(r.url);
    const { events } = await sub.req('live', { kinds: [1111], limit: 0 });
    assert.equal(events.length, 0);
    const e = alice.sign({ kind: 1111, content: 'live!' });
    assert.equal((await c.publish(e)).ok, true);
    const m = await sub.next((x) => x[0] === 'EVENT' && x[1] === 'live');
    assert.deepEqual(m[2], e);
    sub.send(['CLOSE', 'live']);
    await sleep(50);
    const e2 = alice.sign({ kind: 1111, content: 'after close' });
    await c.publish(e2);
    await sleep(100);
    assert.ok(!sub.messages.some((x) => x[0] === 'EVENT' && (x[2] as NostrEvent).id === e2.id));
    sub.close();
  });

  it('answers a REQ with bad filters by CLOSED invalid:', async () => {
    for (const f of [{ ids: ['abc'] }, { authors: ['A'.repeat(64)] }, { '#e': ['abc'] }, { '#p': ['f'.repeat(63)] }, { kinds: ['1'] }, { since: 1.5 }, { '#ab': ['x'] }, { limit: -1 }]) {
      const res = await c.req('bad', f);
      assert.match(res.closed ?? '', /^invalid: /, JSON.stringify(f));
    }
  });

  it('clamps a huge limit to max_limit', async () => {
    const res = await c.req('huge', { kinds: [7], limit: 1e15 });
    assert.ok(res.closed === undefined);
  });

  it('replaces replaceable events (newest wins; ties by lowest id) and keeps addressable ones per d tag', async () => {
    const t = now() - 100;
    const p1 = alice.sign({ kind: 0, content: '{"name":"a1"}', created_at: t });
    const p2 = alice.sign({ kind: 0, content: '{"name":"a2"}', created_at: t + 1 });
    assert.equal((await c.publish(p1)).ok, true);
    assert.equal((await c.publish(p2)).ok, true);
    const older = alice.sign({ kind: 0, content: '{"name":"old"}', created_at: t - 5 });
    assert.equal((await c.publish(older)).ok, false);
    assert.deepEqual((await c.req('meta', { kinds: [0], authors: [alice.pk] })).events.map((e) => e.id), [p2.id]);

    const a = alice.sign({ kind: 30023, content: 'v1', tags: [['d', 'post']], created_at: t });
    const b = alice.sign({ kind: 30023, content: 'other', tags: [['d', 'other']], created_at: t });
    const a2 = alice.sign({ kind: 30023, content: 'v2', tags: [['d', 'post']], created_at: t + 3 });
    for (const e of [a, b, a2]) assert.equal((await c.publish(e)).ok, true);
    const got = (await c.req('addr', { kinds: [30023], authors: [alice.pk] })).events.map((e) => e.content).sort();
    assert.deepEqual(got, ['other', 'v2']);

    // Same created_at: the lowest id is kept.
    const x1 = bob.sign({ kind: 10002, content: '1', created_at: t });
    const x2 = bob.sign({ kind: 10002, content: '2', created_at: t });
    const [lo, hi] = x1.id < x2.id ? [x1, x2] : [x2, x1];
    assert.equal((await c.publish(hi)).ok, true);
    assert.equal((await c.publish(lo)).ok, true);
    assert.equal((await c.publish(hi)).ok, false, 'the replaced version is not taken back');
    assert.deepEqual((await c.req('tie', { kinds: [10002], authors: [bob.pk] })).events.map((e) => e.id), [lo.id]);
  });

  it('never stores ephemeral events but delivers them live', async () => {
    const sub = await RawClient.connect(r.url);
    await sub.req('eph', { kinds: [20001] });
    const e = alice.sign({ kind: 20001, content: 'ping' });
    assert.equal((await c.publish(e)).ok, true);
    assert.deepEqual((await sub.next((x) => x[0] === 'EVENT' && x[1] === 'eph'))[2], e);
    assert.equal((await c.req('eph2', { kinds: [20001] })).events.length, 0);
    sub.close();
  });

  it('accepts websocket connections only at /', async () => {
    await assert.rejects(RawClient.connect(r.url + '/other'));
    const ok = await RawClient.connect(r.url + '/');
    ok.close();
  });

  it('survives a client that disconnects mid-subscription', async () => {
    const sub = await RawClient.connect(r.url);
    sub.send(['REQ', 'gone', { kinds: [1] }]);
    sub.ws.terminate();
    await sleep(50);
    const e = alice.sign({ kind: 1, content: 'after disconnect' });
    assert.equal((await c.publish(e)).ok, true);
  });
});
