// What a client may cost the relay: the per-IP event limit is applied on arrival, before the
// message is parsed and its signature checked; reads are charged against a per-IP budget of
// events served (rateLimits.readCostPerIp).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Keys, RawClient, startTestRelay, type Msg } from './support/relay.js';

/** The four count limits generous, no exempt address unless named. */
const limits = (o: { eventsPerIp?: [number, number]; eventsPerPubkey?: [number, number]; exemptIps?: string[] }) => ({
  exemptIps: o.exemptIps ?? [],
  eventsPerIp: { perSecond: o.eventsPerIp?.[0] ?? 1000, burst: o.eventsPerIp?.[1] ?? 1000 },
  eventsPerPubkey: { perSecond: o.eventsPerPubkey?.[0] ?? 1000, burst: o.eventsPerPubkey?.[1] ?? 1000 },
  reqsPerIp: { perSecond: 1000, burst: 1000 },
});

describe('per-IP event limit before verification', () => {
  it('answers a flood over eventsPerIp with OK false rate-limited: without parsing or verifying it', async () => {
    const r = await startTestRelay({ rateLimits: limits({ eventsPerIp: [1, 3] }) });
    try {
      const c = await RawClient.connect(r.url);
      const stats = r.relay.core.stats;
      const before = stats.ingested;
      const evs = Array.from({ length: 60 }, (_, i) => new Keys().sign({ kind: 1, content: `flood ${i}` }));
      for (const e of evs) c.send(['EVENT', e]);
      const res = await Promise.all(evs.map((e) => c.ok(e.id)));
      const limited = res.filter((m) => m[2] === false);
      assert.ok(limited.length >= 55, `rate-limited: ${limited.length}`);
      for (const m of limited) assert.match(m[3] as string, /^rate-limited: .*address/);
      // Only the events within the bucket reached the ingest workers (JSON parse, signature check).
      assert.ok(stats.ingested - before <= 60 - limited.length, `ingested ${stats.ingested - before}, limited ${limited.length}`);
      assert.equal(stats.eventsRateLimitedEarly, limited.length);
      // An EVENT whose id cannot be read cheaply is answered with a NOTICE.
      c.send('["EVENT", {"kind": 1}]');
      const n = await c.next((m) => m[0] === 'NOTICE');
      assert.match(n[1] as string, /^rate-limited: /);
      // REQs are not events: still served.
      assert.equal((await c.req('reads', { kinds: [1] })).closed, undefined);
      c.close();
    } finally {
      await r.stop();
    }
  });

  it('charges the per-pubkey limit only after verification: forged events do not drain the real author', async () => {
    const r = await startTestRelay({ rateLimits: limits({ eventsPerPubkey: [0.1, 2] }) });
    try {
      const c = await RawClient.connect(r.url);
      const alice = new Keys();
      for (let i = 0; i < 10; i++) {
        const forged = { ...new Keys().sign({ kind: 1, content: `forged ${i}` }), pubkey: alice.sign({ kind: 1 }).pubkey };
        c.send(['EVENT', forged]);
        const m = await c.ok(forged.id);
        assert.equal(m[2], false);
        assert.match(m[3] as string, /^invalid: /);
      }
      assert.deepEqual(await c.publish(alice.sign({ kind: 1, content: 'the real alice' })), { ok: true, message: '' });
      c.close();
    } finally {
      await r.stop();
    }
  });

  it('does not limit an exempt address', async () => {
    const r = await startTestRelay({ rateLimits: limits({ eventsPerIp: [1, 2], exemptIps: ['127.0.0.1', '::ffff:127.0.0.1'] }) });
    try {
      const c = await RawClient.connect(r.url);
      const evs = Array.from({ length: 20 }, (_, i) => new Keys().sign({ kind: 1, content: `exempt ${i}` }));
      for (const e of evs) c.send(['EVENT', e]);
      const res: Msg[] = await Promise.all(evs.map((e) => c.ok(e.id)));
      assert.deepEqual(res.map((m) => m[2]), evs.map(() => true));
      assert.equal(r.relay.core.stats.eventsRateLimitedEarly, 0);
      c.close();
    } finally {
      await r.stop();
    }
  });
});

describe('per-IP read budget (readCostPerIp)', () => {
  /** A relay with 120 kind-1 events and a read budget of 50 events (readerMsCost 0: events only, for exact counts). */
  async function relayWith(exemptIps: string[]) {
    const r = await startTestRelay({ rateLimits: { ...limits({ exemptIps }), readCostPerIp: { perSecond: 0.1, burst: 50 }, readerMsCost: 0 } });
    const c = await RawClient.connect(r.url);
    const alice = new Keys();
    const evs = Array.from({ length: 120 }, (_, i) => alice.sign({ kind: 1, content: `read ${i}`, created_at: 1_700_000_000 + i }));
    for (const e of evs) c.send(['EVENT', e]);
    for (const e of evs) assert.equal((await c.ok(e.id))[2], true);
    return { r, c };
  }

  it('cuts an answer at the budget with CLOSED rate-limited:, then refuses REQ and COUNT unrun', async () => {
    const { r, c } = await relayWith([]);
    try {
      const first = await c.req('big', { kinds: [1], limit: 100 });
      assert.equal(first.events.length, 50);
      assert.match(first.closed ?? '', /^rate-limited: .*50 of 100/);
      // The newest 50, in order: a prefix of the full answer.
      assert.deepEqual(first.events.map((e) => e.created_at), Array.from({ length: 50 }, (_, i) => 1_700_000_119 - i));
      assert.equal(r.relay.core.stats.answersTruncated, 1);
      // The subscription is closed: no live events for it.
      assert.equal(r.relay.core.stats.subscriptions, 0);
      const again = await c.req('again', { kinds: [1], limit: 1 });
      assert.deepEqual(again.events, []);
      assert.match(again.closed ?? '', /^rate-limited: read budget/);
      c.send(['COUNT', 'n', { kinds: [1] }]);
      const cm = await c.next((x) => x[1] === 'n');
      assert.equal(cm[0], 'CLOSED');
      assert.match(cm[2] as string, /^rate-limited: read budget/);
      // Writes are not reads.
      assert.equal((await c.publish(new Keys().sign({ kind: 1, content: 'still writing' }))).ok, true);
      c.close();
    } finally {
      await r.stop();
    }
  });

  it('does not limit an exempt address', async () => {
    const { r, c } = await relayWith(['127.0.0.1', '::ffff:127.0.0.1']);
    try {
      for (let i = 0; i < 3; i++) {
        const got = await c.req(`big${i}`, { kinds: [1], limit: 100 });
        assert.equal(got.closed, undefined);
        assert.equal(got.events.length, 100);
      }
      assert.equal(r.relay.core.stats.answersTruncated, 0);
      c.close();
    } finally {
      await r.stop();
    }
  });
});
