// WsClient (nostr/ws-client.ts) against real relays on port 0, and a fake relay for what no
// honest relay sends.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WsClient } from '../nostr/ws-client.js';
import { secretKeySigner } from '../nostr/signer.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { Keys, RawClient, now, sleep, startTestRelay, type TestRelay } from './support/relay.js';
import { Recorder, startFakeRelay } from './support/clients.js';

const fast = { reconnect: { initialMs: 50, maxMs: 200 }, publishTimeoutMs: 5000, queryTimeoutMs: 5000 };

describe('WsClient', () => {
  let a: TestRelay;
  let b: TestRelay;
  const alice = new Keys();
  const bob = new Keys();
  before(async () => {
    [a, b] = await Promise.all([startTestRelay(), startTestRelay()]);
  });
  after(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  it('publishes, queries, subscribes live and closes', async () => {
    const errors: unknown[] = [];
    const c = new WsClient(a.url, { ...fast, onError: (err) => errors.push(err) });
    try {
      const e = alice.sign({ kind: 1, content: 'hello from WsClient', tags: [['t', 'ws-basic']] });
      assert.deepEqual(await c.publish(e), { ok: true, relays: [{ relay: a.url, ok: true, message: '' }] });
      const again = await c.publish(e);
      assert.equal(again.ok, true);
      assert.match(again.relays[0]!.message, /^duplicate:/);
      const bad = { ...e, content: 'tampered' };
      const r = await c.publish(bad);
      assert.equal(r.ok, false);
      assert.match(r.relays[0]!.message, /^invalid: /);

      assert.deepEqual(await c.query([{ '#t': ['ws-basic'] }]), [e]);

      const rec = new Recorder(c, [{ kinds: [1], '#t': ['ws-basic'] }]);
      await rec.eose();
      assert.deepEqual(rec.events, [e], 'stored events come before EOSE');
      const live = alice.sign({ kind: 1, content: 'live', tags: [['t', 'ws-basic']] });
      const other = await RawClient.connect(a.url);
      assert.equal((await other.publish(live)).ok, true);
      await rec.has(live.id);
      assert.equal(rec.eoseCount, 1);

      // A throwing handler is reported and does not break the client.
      const thrower = c.subscribe([{ kinds: [1], '#t': ['ws-basic'] }], {
        onEvent: () => {
          throw new Error('handler bug');
        },
      });
      rec.close();
      await sleep(50);
      const afterClose = alice.sign({ kind: 1, content: 'after close', tags: [['t', 'ws-basic']] });
      assert.equal((await other.publish(afterClose)).ok, true);
      await sleep(150);
      assert.ok(!rec.events.some((x) => x.id === afterClose.id), 'no events after close()');
      assert.ok(errors.some((x) => (x as Error).message === 'handler bug'));
      thrower.close();
      other.close();
      assert.equal((await c.query([{ ids: [afterClose.id] }])).length, 1, 'the client still works');
    } finally {
      await c.close();
    }
    const closed = await c.publish(alice.sign({ kind: 1, content: 'x' }));
    assert.deepEqual(closed.relays, [{ relay: a.url, ok: false, message: 'error: client closed' }]);
    assert.throws(() => c.subscribe([{ kinds: [1] }], { onEvent: () => undefined }), /client closed/);
  });

  it('publishes to two relays and dedupes across them in query and subscribe', async () => {
    const c = new WsClient([a.url, b.url], fast);
    const onlyB = new WsClient(b.url, fast);
    try {
      const t = now() - 10;
      const both = bob.sign({ kind: 1, content: 'on both', tags: [['t', 'dedupe']], created_at: t });
      const res = await c.publish(both);
      assert.equal(res.ok, true);
      assert.deepEqual(res.relays.map((r) => [r.relay, r.ok]), [[a.url, true], [b.url, true]]);
      const justB = bob.sign({ kind: 1, content: 'only on b', tags: [['t', 'dedupe']], created_at: t + 1 });
      assert.equal((await onlyB.publish(justB)).ok, true);

      const got = await c.query([{ '#t': ['dedupe'] }]);
      assert.deepEqual(got.map((e) => e.id), [justB.id, both.id], 'each event once, newest first');

      const rec = new Recorder(c, [{ '#t': ['dedupe'] }]);
      await rec.eose();
      assert.equal(rec.eoseCount, 1);
      assert.deepEqual(rec.events.map((e) => e.id).sort(), [both.id, justB.id].sort());
      const live = bob.sign({ kind: 1, content: 'live on both', tags: [['t', 'dedupe']] });
      assert.equal((await c.publish(live)).relays.filter((r) => r.ok).length, 2);
      await rec.has(live.id);
      await sleep(150);
      assert.equal(rec.events.filter((e) => e.id === live.id).length, 1, 'delivered once though both relays sent it');
      rec.close();
    } finally {
      await Promise.all([c.close(), onlyB.close()]);
    }
  });

  it('drops events with a bad signature, a bad id, junk, or not matching the filter', async () => {
    const good = alice.sign({ kind: 1, content: 'genuine' });
    const forgedSig = { ...alice.sign({ kind: 1, content: 'forged' }) };
    (forgedSig as { sig: string }).sig = good.sig; // a valid-looking signature of another event
    const forgedCopy = { ...good, sig: forgedSig.sig.slice(0, -4) + '0000' }; // the genuine id, a broken signature
    const badId = { ...good, content: 'edited after signing' };
    const offFilter = alice.sign({ kind: 7, content: 'wrong kind' });
    const fake = await startFakeRelay((m, send) => {
      if (m[0] === 'REQ') {
        const id = m[1];
        send(['NOTICE', 'these are not all genuine']);
        for (const e of [forgedSig, forgedCopy, badId, offFilter, { junk: true }, good]) send(['EVENT', id, e]);
        send(['EOSE', id]);
      }
    });
    const invalid: string[] = [];
    const notices: [string, string][] = [];
    const c = new WsClient([fake.url, a.url], {
      ...fast,
      onInvalidEvent: (reason) => invalid.push(reason),
      onNotice: (message, relay) => notices.push([message, relay]),
    });
    try {
      const got = await c.query([{ kinds: [1], authors: [alice.pk] }]);
      assert.ok(got.some((e) => e.id === good.id), 'the genuine event is kept even though a forged copy came first');
      for (const bad of [forgedSig, badId, offFilter]) assert.ok(!got.some((e) => e.id === bad.id && e.content === bad.content && e.sig === bad.sig));
      assert.ok(!got.some((e) => e.sig === forgedCopy.sig));
      assert.equal(new Set(got.map((e) => e.id)).size, got.length);
      assert.equal(invalid.length, 5, invalid.join('\n'));
      assert.deepEqual(notices, [['these are not all genuine', fake.url]]);
    } finally {
      await c.close();
      await fake.close();
    }
  });

  it('reconnects after a relay restart on the same port, resumes subscriptions and re-sends pending publishes', async () => {
    let r = await startTestRelay();
    const port = r.server.port;
    const dataDir = r.dataDir;
    const c = new WsClient(r.url, { ...fast, reconnect: { initialMs: 100, maxMs: 300 } });
    try {
      assert.equal(await c.waitForConnections(), true);
      const rec = new Recorder(c, [{ kinds: [4242], limit: 0 }]);
      await rec.eose();
      const before = alice.sign({ kind: 4242, content: 'before restart' });
      assert.equal((await c.publish(before)).ok, true);
      await rec.has(before.id);

      await r.stop(true);
      await sleep(100);
      assert.deepEqual(c.connectedRelays(), []);
      // Stored while our client could not connect (same data, another port): the resumed REQ finds it.
      const side = await startTestRelay({}, { dataDir });
      const missed = alice.sign({ kind: 4242, content: 'while you were away' });
      const w = await RawClient.connect(side.url);
      assert.equal((await w.publish(missed)).ok, true);
      w.close();
      await side.stop(true);
      // Published while the relay is down: answered once the client is back.
      const pending = alice.sign({ kind: 4242, content: 'sent while down' });
      const published = c.publish(pending);

      r = await startTestRelay({}, { dataDir, port });
      assert.equal(await c.waitForConnections(), true);
      const res = await published;
      assert.deepEqual(res.relays, [{ relay: c.relays[0], ok: true, message: '' }]);
      await rec.has(missed.id);
      await rec.has(pending.id);
      const after = alice.sign({ kind: 4242, content: 'after restart' });
      const other = await RawClient.connect(r.url);
      assert.equal((await other.publish(after)).ok, true);
      other.close();
      await rec.has(after.id);
      assert.equal(rec.events.filter((e) => e.id === before.id).length, 1, 'the resumed REQ does not repeat delivered events');
      assert.equal(rec.eoseCount, 1);
      rec.close();
    } finally {
      await c.close();
      await r.stop();
    }
  });

  it('answers a query against an unreachable relay with an error, and one reachable relay is enough', async () => {
    const dead = await startTestRelay();
    const deadUrl = dead.url;
    await dead.stop();
    const c = new WsClient([deadUrl], { ...fast, publishTimeoutMs: 300 });
    const mixed = new WsClient([deadUrl, a.url], fast);
    try {
      await sleep(100);
      await assert.rejects(c.query([{ kinds: [1] }]), /could not reach the relay/);
      const res = await c.publish(alice.sign({ kind: 1, content: 'nowhere' }));
      assert.deepEqual(res.relays, [{ relay: deadUrl, ok: false, message: 'error: could not reach the relay' }]);
      assert.ok(Array.isArray(await mixed.query([{ kinds: [1], limit: 1 }])));
    } finally {
      await Promise.all([c.close(), mixed.close()]);
    }
  });

  describe('NIP-42', () => {
    let dm: TestRelay; // kind 4 needs AUTH to publish and, as a private kind, to read
    let closedRelay: TestRelay; // everything needs AUTH
    before(async () => {
      [dm, closedRelay] = await Promise.all([startTestRelay({ auth: { writeKinds: [4] } }), startTestRelay({ auth: { required: true } })]);
    });
    after(async () => {
      await Promise.all([dm.stop(), closedRelay.stop()]);
    });

    const dmTo = (to: Keys): NostrEvent => alice.sign({ kind: 4, content: 'ciphertext?iv=x', tags: [['p', to.pk]] });

    it('without a signer, auth-required answers come back as they are', async () => {
      const c = new WsClient(dm.url, fast);
      try {
        const r = await c.publish(dmTo(bob));
        assert.equal(r.ok, false);
        assert.match(r.relays[0]!.message, /^auth-required:/);
        await assert.rejects(c.query([{ kinds: [4] }]), /auth-required:/);
      } finally {
        await c.close();
      }
    });

    it('on demand: authenticates after auth-required and retries the EVENT and the REQ once', async () => {
      const e = dmTo(bob);
      const sender = new WsClient(dm.url, { ...fast, signer: secretKeySigner(alice.sk), auth: 'on-demand' });
      const reader = new WsClient(dm.url, { ...fast, signer: secretKeySigner(bob.sk), auth: 'on-demand' });
      try {
        assert.deepEqual((await sender.publish(e)).relays, [{ relay: dm.url, ok: true, message: '' }]);
        assert.deepEqual(await reader.query([{ kinds: [4], '#p': [bob.pk] }]), [e]);
      } finally {
        await Promise.all([sender.close(), reader.close()]);
      }
      // A third party authenticates, but the DM is not theirs.
      const carol = new Keys();
      const nosy = new WsClient(dm.url, { ...fast, signer: secretKeySigner(carol.sk) });
      try {
        assert.deepEqual(await nosy.query([{ kinds: [4], '#p': [bob.pk] }]), []);
      } finally {
        await nosy.close();
      }
    });

    it('retries an EVENT and a REQ only once when the relay keeps saying auth-required', async () => {
      const fake = await startFakeRelay(
        (m, send) => {
          if (m[0] === 'EVENT') send(['OK', (m[1] as NostrEvent).id, false, 'auth-required: no']);
          if (m[0] === 'AUTH') send(['OK', (m[1] as NostrEvent).id, true, '']);
          if (m[0] === 'REQ') send(['CLOSED', m[1], 'auth-required: still no']);
        },
        (send) => send(['AUTH', 'challenge-1']),
      );
      const c = new WsClient(fake.url, { ...fast, signer: secretKeySigner(bob.sk), auth: 'on-demand' });
      try {
        const r = await c.publish(bob.sign({ kind: 1, content: 'x' }));
        assert.deepEqual(r.relays.map((x) => x.message), ['auth-required: no']);
        await assert.rejects(c.query([{ kinds: [1] }]), /auth-required: still no/);
        const kinds = fake.received.map((m) => m[0]);
        assert.deepEqual(kinds.filter((k) => k === 'EVENT').length, 2);
        assert.deepEqual(kinds.filter((k) => k === 'REQ').length, 2);
        assert.deepEqual(kinds.filter((k) => k === 'AUTH').length, 1, 'one AUTH per challenge');
        const auth = fake.received.find((m) => m[0] === 'AUTH')![1] as NostrEvent;
        assert.equal(auth.kind, 22242);
        assert.equal(auth.pubkey, bob.pk);
        assert.deepEqual(auth.tags, [['relay', fake.url], ['challenge', 'challenge-1']]);
      } finally {
        await c.close();
        await fake.close();
      }
    });

    it('eagerly: answers the challenge, then publishes, queries and subscribes on an auth-required relay', async () => {
      const c = new WsClient(closedRelay.url, { ...fast, signer: secretKeySigner(bob.sk) });
      const anon = new WsClient(closedRelay.url, fast);
      try {
        const e = bob.sign({ kind: 1, content: 'members only' });
        assert.equal((await c.publish(e)).ok, true);
        assert.deepEqual(await c.query([{ ids: [e.id] }]), [e]);
        const rec = new Recorder(c, [{ authors: [bob.pk], kinds: [1] }]);
        await rec.eose();
        const live = bob.sign({ kind: 1, content: 'members only, live' });
        assert.equal((await c.publish(live)).ok, true);
        await rec.has(live.id);
        rec.close();

        const anonRec = new Recorder(anon, [{ kinds: [1] }]);
        await anonRec.until(() => anonRec.closed.length === 1 && anonRec.eoseCount === 1, 'CLOSED then EOSE');
        assert.match(anonRec.closed[0]!.reason, /^auth-required:/);
        assert.equal(anonRec.closed[0]!.relay, closedRelay.url);
        const r = await anon.publish(bob.sign({ kind: 1, content: 'anon' }));
        assert.match(r.relays[0]!.message, /^auth-required:/);
      } finally {
        await Promise.all([c.close(), anon.close()]);
      }
    });
  });
});
