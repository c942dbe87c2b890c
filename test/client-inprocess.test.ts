// InProcessClient (relay/inprocess-client.ts) against the embedded relay of a real test relay,
// side by side with websocket clients of the same relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessClient, IN_PROCESS } from '../relay/inprocess-client.js';
import { WsClient } from '../nostr/ws-client.js';
import { secretKeySigner } from '../nostr/signer.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { Keys, RawClient, now, sleep, startTestRelay, type TestRelay } from './support/relay.js';
import { Recorder } from './support/clients.js';

describe('InProcessClient', () => {
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

  it('publishes, queries, subscribes live and closes, without a socket', async () => {
    const errors: unknown[] = [];
    const before = a.relay.core.stats.connections;
    const c = await InProcessClient.open(a.relay, { onError: (err) => errors.push(err) });
    assert.equal(a.relay.core.stats.connections, before + 1, 'one virtual connection, opened at open()');
    try {
      const e = alice.sign({ kind: 1, content: 'hello in-process', tags: [['t', 'inproc']] });
      assert.deepEqual(await c.publish(e), { ok: true, relays: [{ relay: IN_PROCESS, ok: true, message: '' }] });
      assert.match((await c.publish(e)).relays[0]!.message, /^duplicate:/);
      const forged = { ...e, sig: e.sig.slice(0, -4) + '0000' };
      const bad = await c.publish(forged);
      assert.equal(bad.ok, false);
      assert.match(bad.relays[0]!.message, /^invalid: /, 'the same signature check as on the wire');

      assert.deepEqual(await c.query([{ '#t': ['inproc'] }]), [e]);
      const rec = new Recorder(c, [{ '#t': ['inproc'] }]);
      await rec.eose();
      assert.deepEqual(rec.events, [e]);

      // Live: from a websocket client, and from in-process publish; ephemeral events too.
      const ws = await RawClient.connect(a.url);
      const sockets = a.relay.core.stats.connections;
      const fromWs = alice.sign({ kind: 1, content: 'from a socket', tags: [['t', 'inproc']] });
      assert.equal((await ws.publish(fromWs)).ok, true);
      await rec.has(fromWs.id);
      const eph = alice.sign({ kind: 20001, content: 'ephemeral', tags: [['t', 'inproc']] });
      assert.equal((await c.publish(eph)).ok, true);
      await rec.has(eph.id);

      // A handler that throws is reported; one that subscribes from inside a callback works.
      let nested: Recorder | undefined;
      const thrower = c.subscribe([{ '#t': ['inproc'], limit: 0 }], {
        onEvent: () => {
          nested ??= new Recorder(c, [{ ids: [fromWs.id] }]);
          throw new Error('handler bug');
        },
      });
      rec.close();
      const afterClose = alice.sign({ kind: 1, content: 'after close', tags: [['t', 'inproc']] });
      assert.equal((await ws.publish(afterClose)).ok, true);
      await sleep(100);
      assert.ok(!rec.events.some((x) => x.id === afterClose.id), 'nothing after close()');
      assert.ok(errors.some((x) => (x as Error).message === 'handler bug'));
      assert.ok(nested);
      await nested.has(fromWs.id);
      nested.close();
      thrower.close();
      ws.close();
      for (let i = 0; i < 50 && a.relay.core.stats.connections !== sockets - 1; i++) await sleep(20);
      assert.equal(a.relay.core.stats.connections, sockets - 1, 'the virtual connection stays while the socket goes');
    } finally {
      await c.close();
    }
    assert.equal(a.relay.core.stats.connections, before, 'close() ends the virtual connection');
    assert.deepEqual((await c.publish(alice.sign({ kind: 1, content: 'x' }))).relays, [{ relay: IN_PROCESS, ok: false, message: 'error: client closed' }]);
    assert.throws(() => c.subscribe([{ kinds: [1] }], { onEvent: () => undefined }), /client closed/);
  });

  it('answers a bad filter with CLOSED, and a query with it by an error', async () => {
    const c = await InProcessClient.open(a.relay);
    try {
      const rec = new Recorder(c, [{ ids: ['not hex'] }]);
      await rec.until(() => rec.closed.length === 1, 'CLOSED');
      assert.match(rec.closed[0]!.reason, /^invalid: /);
      assert.equal(rec.closed[0]!.relay, IN_PROCESS);
      await assert.rejects(c.query([{ kinds: [70000] }]), /query failed: in-process: invalid: /);
    } finally {
      await c.close();
    }
  });

  it('is one more client of the store: websocket clients of two relays see its events once', async () => {
    const [ca, cb] = await Promise.all([InProcessClient.open(a.relay), InProcessClient.open(b.relay)]);
    const ws = new WsClient([a.url, b.url], { queryTimeoutMs: 5000 });
    try {
      const e = bob.sign({ kind: 1, content: 'in both stores', tags: [['t', 'interop']], created_at: now() - 10 });
      const onlyA = bob.sign({ kind: 1, content: 'only a', tags: [['t', 'interop']], created_at: e.created_at - 1 });
      assert.equal((await ca.publish(e)).ok, true);
      assert.equal((await cb.publish(e)).ok, true);
      assert.equal((await ca.publish(onlyA)).ok, true);
      assert.deepEqual((await ws.query([{ '#t': ['interop'] }])).map((x) => x.id), [e.id, onlyA.id]);
      const fromWs = bob.sign({ kind: 1, content: 'over the wire', tags: [['t', 'interop']] });
      assert.equal((await ws.publish(fromWs)).ok, true);
      assert.deepEqual((await cb.query([{ '#t': ['interop'] }])).map((x) => x.id), [fromWs.id, e.id]);
    } finally {
      await Promise.all([ca.close(), cb.close(), ws.close()]);
    }
  });

  it('is not rate-limited like a remote address', async () => {
    const r = await startTestRelay({ rateLimits: { reqsPerIp: { perSecond: 1, burst: 2 }, exemptIps: [] } });
    const c = await InProcessClient.open(r.relay);
    try {
      for (let i = 0; i < 20; i++) assert.ok(Array.isArray(await c.query([{ kinds: [1], limit: 1 }])));
    } finally {
      await c.close();
      await r.stop();
    }
  });

  it('ends subscriptions and queries when the relay shuts down; a client of the restarted relay sees the data', async () => {
    let r = await startTestRelay();
    const { dataDir } = r;
    const port = r.server.port;
    const c = await InProcessClient.open(r.relay);
    const e = alice.sign({ kind: 1, content: 'survives a restart' });
    assert.equal((await c.publish(e)).ok, true);
    const rec = new Recorder(c, [{ kinds: [1] }]);
    await rec.eose();
    await r.stop(true);
    await rec.until(() => rec.closed.length === 1, 'CLOSED on shutdown');
    assert.match(rec.closed[0]!.reason, /^error: /);
    assert.equal((await c.publish(alice.sign({ kind: 1, content: 'too late' }))).ok, false);
    await c.close();

    r = await startTestRelay({}, { dataDir, port });
    const c2 = await InProcessClient.open(r.relay);
    try {
      assert.deepEqual(await c2.query([{ ids: [e.id] }]), [e]);
    } finally {
      await c2.close();
      await r.stop();
    }
  });

  describe('NIP-42', () => {
    let closedRelay: TestRelay;
    before(async () => {
      closedRelay = await startTestRelay({ auth: { required: true } });
    });
    after(async () => {
      await closedRelay.stop();
    });

    it('counts as authenticated for its signer: reads on an auth-required relay, and its own DMs only', async () => {
      const anon = await InProcessClient.open(closedRelay.relay);
      const asBob = await InProcessClient.open(closedRelay.relay, { signer: secretKeySigner(bob.sk) });
      const asCarol = await InProcessClient.open(closedRelay.relay, { signer: secretKeySigner(new Keys().sk) });
      try {
        assert.deepEqual(asBob.authedPubkeys, [bob.pk]);
        const dm: NostrEvent = alice.sign({ kind: 4, content: 'for bob?iv=x', tags: [['p', bob.pk]] });
        // In-process publishing is the instance's own: no AUTH needed (as EmbeddedRelay.publish).
        assert.equal((await anon.publish(dm)).ok, true);
        await assert.rejects(anon.query([{ kinds: [1] }]), /auth-required:/);
        assert.deepEqual(await asBob.query([{ kinds: [4] }]), [dm]);
        assert.deepEqual(await asCarol.query([{ kinds: [4], '#p': [bob.pk] }]), []);
        const rec = new Recorder(asBob, [{ kinds: [4], limit: 0 }]);
        await rec.eose();
        const dm2 = alice.sign({ kind: 4, content: 'again?iv=y', tags: [['p', bob.pk]] });
        const ws = new WsClient(closedRelay.url, { signer: secretKeySigner(alice.sk) });
        try {
          assert.equal((await ws.publish(dm2)).ok, true);
        } finally {
          await ws.close();
        }
        await rec.has(dm2.id);
        rec.close();
      } finally {
        await Promise.all([anon.close(), asBob.close(), asCarol.close()]);
      }
    });
  });
});
