// Relay limits and hostile clients, over real websockets against relays on port 0. After every
// abuse the relay must still serve a fresh client: publish and read back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { Keys, RawClient, now, sleep, startTestRelay, type Msg, type TestRelay } from './support/relay.js';
import type { NostrEvent } from '../nostr/nip01.js';

/** A fresh client can publish an event and read it back. */
async function assertHealthy(r: TestRelay): Promise<void> {
  const c = await RawClient.connect(r.url);
  try {
    const e = new Keys().sign({ kind: 1, content: `health ${Math.random()}` });
    assert.deepEqual(await c.publish(e), { ok: true, message: '' });
    const { events, closed } = await c.req('health', { ids: [e.id] });
    assert.equal(closed, undefined);
    assert.deepEqual(events, [e]);
  } finally {
    c.close();
  }
}

/** Waits until the relay's own view of open connections reaches `n`. */
async function connectionsSettle(r: TestRelay, n: number): Promise<void> {
  for (let i = 0; i < 100 && r.relay.core.stats.connections !== n; i++) await sleep(20);
  assert.equal(r.relay.core.stats.connections, n);
}

function closedWith(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve(-1);
    ws.once('close', (code) => resolve(code));
  });
}

/** All four rateLimits keys, with no exempt address (loopback is exempt by default); unnamed limits are generous. */
const rates = (o: { eventsPerIp?: [number, number]; eventsPerPubkey?: [number, number]; reqsPerIp?: [number, number] }) => ({
  exemptIps: [],
  eventsPerIp: { perSecond: o.eventsPerIp?.[0] ?? 1000, burst: o.eventsPerIp?.[1] ?? 1000 },
  eventsPerPubkey: { perSecond: o.eventsPerPubkey?.[0] ?? 1000, burst: o.eventsPerPubkey?.[1] ?? 1000 },
  reqsPerIp: { perSecond: o.reqsPerIp?.[0] ?? 1000, burst: o.reqsPerIp?.[1] ?? 1000 },
});

describe('relay limits (small limits)', () => {
  let r: TestRelay;
  let c: RawClient;
  const alice = new Keys();
  before(async () => {
    r = await startTestRelay({
      maxMessageLength: 2048,
      maxFilters: 3,
      maxSubscriptions: 5,
      maxSubidLength: 16,
      maxEventTags: 10,
      maxContentLength: 100,
      createdAtUpperLimit: 60,
      createdAtLowerLimit: 3600,
    });
    c = await RawClient.connect(r.url);
  });
  after(async () => {
    c.close();
    await r.stop();
  });

  it('advertises the enforced limits in NIP-11', async () => {
    const res = await fetch(r.url.replace(/^ws/, 'http'), { headers: { accept: 'application/nostr+json' } });
    const info = (await res.json()) as { limitation: Record<string, unknown> };
    assert.equal(info.limitation.max_message_length, 2048);
    assert.equal(info.limitation.max_filters, 3);
    assert.equal(info.limitation.max_subscriptions, 5);
    assert.equal(info.limitation.max_subid_length, 16);
    assert.equal(info.limitation.max_event_tags, 10);
    assert.equal(info.limitation.max_content_length, 100);
    assert.equal(info.limitation.created_at_upper_limit, 60);
    assert.equal(info.limitation.created_at_lower_limit, 3600);
  });

  it('answers an oversized EVENT with OK false invalid: and keeps the connection usable', async () => {
    // Too long for the message limit (content alone is bigger than 2048 bytes).
    const big = alice.sign({ kind: 1, content: 'x'.repeat(3000) });
    const res = await c.publish(big);
    assert.equal(res.ok, false);
    assert.match(res.message, /^invalid: .*too large/);
    const small = alice.sign({ kind: 1, content: 'small' });
    assert.deepEqual(await c.publish(small), { ok: true, message: '' });
    assert.equal((await c.req('after-big', { ids: [small.id, big.id] })).events.length, 1);
    await assertHealthy(r);
  });

  it('answers an oversized non-EVENT message with NOTICE', async () => {
    const ids = Array.from({ length: 50 }, () => randomBytes(32).toString('hex'));
    c.send(['REQ', 'big', { ids }]);
    const m = await c.next((x) => x[0] === 'NOTICE');
    assert.match(m[1] as string, /^invalid: .*too large/);
    assert.ok(!c.messages.some((x) => x[1] === 'big'), 'the oversized REQ opened no subscription');
    // Oversized garbage, too.
    c.send('z'.repeat(5000));
    assert.match((await c.next((x) => x[0] === 'NOTICE'))[1] as string, /^invalid: .*too large/);
    assert.equal((await c.req('after-notice', { kinds: [1], limit: 1 })).closed, undefined);
    await assertHealthy(r);
  });

  it('drops a connection that sends an absurdly large frame, and stays up', async () => {
    const ws = new WebSocket(r.url);
    await new Promise((res, rej) => (ws.once('open', res), ws.once('error', rej)));
    ws.on('error', () => undefined);
    const closed = closedWith(ws);
    ws.send('["EVENT",' + ' '.repeat(5 * 1024 * 1024) + ']');
    assert.equal(await closed, 1009);
    await assertHealthy(r);
  });

  it('answers a REQ or COUNT with too many filters by CLOSED invalid:', async () => {
    const res = await c.req('many', { kinds: [1] }, { kinds: [2] }, { kinds: [3] }, { kinds: [4] });
    assert.match(res.closed ?? '', /^invalid: too many filters/);
    c.send(['COUNT', 'many-count', { kinds: [1] }, { kinds: [2] }, { kinds: [3] }, { kinds: [4] }]);
    const m = await c.next((x) => x[1] === 'many-count');
    assert.equal(m[0], 'CLOSED');
    assert.match(m[2] as string, /^invalid: /);
    assert.equal((await c.req('three', { kinds: [1] }, { kinds: [2] }, { kinds: [3] })).closed, undefined);
    c.send(['CLOSE', 'three']);
    await assertHealthy(r);
  });

  it('refuses more subscriptions than max_subscriptions with CLOSED blocked:', async () => {
    const s = await RawClient.connect(r.url);
    try {
      for (let i = 0; i < 5; i++) assert.equal((await s.req(`sub${i}`, { kinds: [1], limit: 1 })).closed, undefined);
      const sixth = await s.req('sub5', { kinds: [1], limit: 1 });
      assert.match(sixth.closed ?? '', /^blocked: /);
      // Replacing an open subscription is not a new one.
      assert.equal((await s.req('sub0', { kinds: [1], limit: 1 })).closed, undefined);
      // Closing one makes room.
      s.send(['CLOSE', 'sub1']);
      assert.equal((await s.req('sub5', { kinds: [1], limit: 1 })).closed, undefined);
      // The limit is per connection.
      assert.equal((await c.req('other-conn', { kinds: [1], limit: 1 })).closed, undefined);
      c.send(['CLOSE', 'other-conn']);
    } finally {
      s.close();
    }
    await assertHealthy(r);
  });

  it('refuses a subscription id longer than max_subid_length with invalid:', async () => {
    const longId = 'x'.repeat(17);
    c.send(['REQ', longId, { kinds: [1] }]);
    const m = await c.next((x) => x[0] === 'NOTICE' || (x[0] === 'CLOSED' && x[1] === longId) || (x[0] === 'EOSE' && x[1] === longId));
    assert.notEqual(m[0], 'EOSE');
    assert.match(m[m.length - 1] as string, /^invalid: .*subscription id/);
    c.send(['COUNT', longId, { kinds: [1] }]);
    const m2 = await c.next((x) => x[0] === 'NOTICE' || x[1] === longId);
    assert.notEqual(m2[0], 'COUNT');
    // Exactly at the limit is fine.
    const okId = 'y'.repeat(16);
    assert.equal((await c.req(okId, { kinds: [1], limit: 1 })).closed, undefined);
    c.send(['CLOSE', okId]);
    await assertHealthy(r);
  });

  it('refuses too many tags, too long content, and created_at too far ahead or behind with invalid:', async () => {
    const t = now();
    const cases: [string, NostrEvent, RegExp][] = [
      ['11 tags', alice.sign({ kind: 1, tags: Array.from({ length: 11 }, (_, i) => ['t', `t${i}`]) }), /^invalid: too many tags/],
      ['101 characters', alice.sign({ kind: 1, content: 'c'.repeat(101) }), /^invalid: content too long/],
      ['an hour ahead', alice.sign({ kind: 1, content: 'future', created_at: t + 3600 }), /^invalid: created_at is too far in the future/],
      ['two hours behind', alice.sign({ kind: 1, content: 'past', created_at: t - 7200 }), /^invalid: created_at is too far in the past/],
      ['1970', alice.sign({ kind: 1, content: 'epoch', created_at: 0 }), /^invalid: created_at is too far in the past/],
    ];
    for (const [name, e, re] of cases) {
      const res = await c.publish(e);
      assert.equal(res.ok, false, name);
      assert.match(res.message, re, name);
    }
    // At the limits is fine.
    const fine = [
      alice.sign({ kind: 1, tags: Array.from({ length: 10 }, (_, i) => ['t', `t${i}`]) }),
      alice.sign({ kind: 1, content: 'c'.repeat(100) }),
      alice.sign({ kind: 1, content: 'near future', created_at: t + 30 }),
      alice.sign({ kind: 1, content: 'near past', created_at: t - 1800 }),
    ];
    for (const e of fine) assert.deepEqual(await c.publish(e), { ok: true, message: '' }, e.content);
    const stored = await c.req('limits', { ids: cases.map(([, e]) => e.id) });
    assert.equal(stored.events.length, 0, 'no refused event was stored');
    await assertHealthy(r);
  });

  it('survives garbage text, binary frames, invalid UTF-8 and broken frames', async () => {
    // Garbage text and binary frames: NOTICE, connection kept.
    c.send('\u0000\u0001garbage{[');
    assert.match((await c.next((x) => x[0] === 'NOTICE'))[1] as string, /^invalid: /);
    c.ws.send(randomBytes(512), { binary: true });
    assert.match((await c.next((x) => x[0] === 'NOTICE'))[1] as string, /^invalid: /);
    c.send('['.repeat(1000) + ']'.repeat(1000));
    assert.match((await c.next((x) => x[0] === 'NOTICE'))[1] as string, /^invalid: /);
    c.send('');
    assert.match((await c.next((x) => x[0] === 'NOTICE'))[1] as string, /^invalid: /);
    c.send('null');
    assert.match((await c.next((x) => x[0] === 'NOTICE'))[1] as string, /^invalid: /);
    assert.equal(c.closed, false);
    // A binary frame holding a valid message is read like a text frame.
    c.ws.send(Buffer.from(JSON.stringify(['REQ', 'bin', { kinds: [1], limit: 1 }])), { binary: true });
    await c.next((x) => x[0] === 'EOSE' && x[1] === 'bin');
    c.send(['CLOSE', 'bin']);

    // A text frame that is not UTF-8: the websocket layer closes that connection (1007).
    const bad = new WebSocket(r.url);
    await new Promise((res, rej) => (bad.once('open', res), bad.once('error', rej)));
    bad.on('error', () => undefined);
    const badClosed = closedWith(bad);
    bad.send(Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x5d]), { binary: false });
    assert.equal(await badClosed, 1007);

    // Raw bytes after a valid handshake: an unmasked frame with a reserved opcode, then noise.
    const raw = await rawUpgrade(r.url);
    const rawClosed = new Promise<void>((res) => raw.once('close', () => res()));
    raw.on('error', () => undefined);
    raw.resume();
    raw.write(Buffer.concat([Buffer.from([0x83, 0x05]), Buffer.from('hello'), randomBytes(4096)]));
    await rawClosed;

    // Garbage instead of an HTTP request.
    const junk = net.connect(Number(new URL(r.url).port), '127.0.0.1');
    junk.on('error', () => undefined);
    junk.resume(); // read the 400 answer, so that the end of the stream is seen
    await new Promise<void>((res) => junk.once('connect', () => res()));
    const junkClosed = new Promise<void>((res) => junk.once('close', () => res()));
    junk.write(randomBytes(2048));
    await junkClosed;

    // A client that opens the TCP connection and half the handshake, then vanishes.
    const half = net.connect(Number(new URL(r.url).port), '127.0.0.1');
    half.on('error', () => undefined);
    await new Promise<void>((res) => half.once('connect', () => res()));
    half.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
    half.destroy();

    assert.equal(c.closed, false);
    assert.deepEqual(await c.publish(alice.sign({ kind: 1, content: 'after garbage' })), { ok: true, message: '' });
    await assertHealthy(r);
  });
});

/** Performs a websocket handshake by hand and returns the raw socket. */
async function rawUpgrade(url: string): Promise<net.Socket> {
  const u = new URL(url);
  const sock = net.connect(Number(u.port), u.hostname);
  await new Promise<void>((res, rej) => (sock.once('connect', () => res()), sock.once('error', rej)));
  sock.write(
    `GET / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((res, rej) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        sock.off('data', onData);
        if (got.startsWith('HTTP/1.1 101')) res();
        else rej(new Error(`handshake refused: ${got.split('\r\n')[0]}`));
      }
    };
    sock.on('data', onData);
  });
  return sock;
}

describe('relay limits (default limits)', () => {
  let r: TestRelay;
  const alice = new Keys();
  before(async () => {
    r = await startTestRelay();
  });
  after(async () => {
    await r.stop();
  });

  it('answers 1,000 REQs on one socket, each by EOSE or CLOSED, and keeps serving', async () => {
    const c = await RawClient.connect(r.url);
    try {
      const e = alice.sign({ kind: 1, content: 'thousand', tags: [['t', 'thousand']] });
      assert.equal((await c.publish(e)).ok, true);
      for (let i = 0; i < 1000; i++) c.send(['REQ', `s${i}`, { '#t': ['thousand'] }]);
      const answers = new Map<string, Msg>();
      while (answers.size < 1000) {
        const m = await c.next((x) => (x[0] === 'EOSE' || x[0] === 'CLOSED') && !answers.has(x[1] as string), 10_000);
        answers.set(m[1] as string, m);
      }
      const eose = [...answers.values()].filter((m) => m[0] === 'EOSE');
      const closed = [...answers.values()].filter((m) => m[0] === 'CLOSED');
      assert.equal(eose.length, 300, 'max_subscriptions (300 by default) are served');
      assert.equal(closed.length, 700);
      for (const m of closed) assert.match(m[2] as string, /^blocked: /);
      // Every served subscription got the stored event before its EOSE.
      const delivered = c.messages.filter((m) => m[0] === 'EVENT');
      assert.equal(delivered.length, 300);
      assert.equal(r.relay.core.stats.subscriptions, 300);
      c.messages.length = 0;
      for (let i = 0; i < 1000; i++) c.send(['CLOSE', `s${i}`]);
      const later = await c.req('later', { ids: [e.id] });
      assert.equal(later.closed, undefined);
      assert.deepEqual(later.events, [e]);
      assert.equal(c.closed, false);
      assert.equal(r.relay.core.stats.subscriptions, 1);
    } finally {
      c.close();
    }
    await assertHealthy(r);
  });

  it('survives clients that disconnect mid-subscription while events are flowing', async () => {
    const pub = await RawClient.connect(r.url);
    // History to stream, so that some subscribers vanish in the middle of it.
    const history: NostrEvent[] = [];
    for (let i = 0; i < 300; i++) history.push(alice.sign({ kind: 1, content: `flow history ${i} ${'h'.repeat(500)}`, tags: [['t', 'flow']] }));
    for (const e of history) pub.send(['EVENT', e]);
    for (const e of history) assert.equal((await pub.ok(e.id))[2], true);

    const subs = await Promise.all(Array.from({ length: 6 }, () => RawClient.connect(r.url)));
    for (const s of subs) s.send(['REQ', 'flow', { '#t': ['flow'], limit: 300 }]);
    // Live events keep coming while subscribers go away in different ways.
    let stop = false;
    let published = 0;
    const flowing = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 20 }, (_, i) => alice.sign({ kind: 1, content: `flow live ${published + i}`, tags: [['t', 'flow']] }));
        for (const e of batch) pub.send(['EVENT', e]);
        for (const e of batch) assert.equal((await pub.ok(e.id))[2], true);
        published += batch.length;
      }
    })();
    subs[0]!.ws.terminate(); // at once, before any answer
    await subs[1]!.next((x) => x[0] === 'EVENT');
    subs[1]!.ws.terminate(); // in the middle of the history
    await subs[2]!.next((x) => x[0] === 'EOSE');
    subs[2]!.close(); // politely, with live events flowing
    await subs[3]!.next((x) => x[0] === 'EOSE');
    (subs[3]!.ws as unknown as { _socket: net.Socket })._socket.destroy(); // TCP reset, no close frame
    await sleep(100);
    subs[4]!.ws.terminate();
    const survivor = subs[5]!;
    await survivor.next((x) => x[0] === 'EOSE');
    await sleep(200);
    stop = true;
    await flowing;
    assert.ok(published > 0);
    // The survivor got the whole history and the live events after it.
    const live = survivor.messages.filter((m) => m[0] === 'EVENT' && (m[2] as NostrEvent).content.startsWith('flow live'));
    assert.ok(live.length > 0);
    await connectionsSettle(r, 2);
    assert.equal(r.relay.core.stats.subscriptions, 1);
    survivor.close();
    pub.close();
    await connectionsSettle(r, 0);
    await assertHealthy(r);
  });
});

describe('relay rate limits', () => {
  it('limits events per IP with OK false rate-limited:', async () => {
    const r = await startTestRelay({ rateLimits: rates({ eventsPerIp: [2, 3] }) });
    try {
      const c = await RawClient.connect(r.url);
      const evs = Array.from({ length: 8 }, (_, i) => new Keys().sign({ kind: 1, content: `ip ${i}` }));
      for (const e of evs) c.send(['EVENT', e]);
      const res = await Promise.all(evs.map((e) => c.ok(e.id)));
      assert.deepEqual(res.slice(0, 3).map((m) => m[2]), [true, true, true]);
      const limited = res.filter((m) => m[2] === false);
      assert.ok(limited.length >= 3, `rate-limited: ${limited.length}`);
      for (const m of limited) assert.match(m[3] as string, /^rate-limited: /);
      // A second connection from the same address shares the bucket.
      const c2 = await RawClient.connect(r.url);
      const e2 = new Keys().sign({ kind: 1, content: 'second connection' });
      const again = await c2.publish(e2);
      assert.equal(again.ok, false);
      assert.match(again.message, /^rate-limited: /);
      // REQs are not events: still served.
      assert.equal((await c2.req('reads', { kinds: [1] })).closed, undefined);
      c.close();
      c2.close();
      await sleep(600); // refill
      await assertHealthy(r);
    } finally {
      await r.stop();
    }
  });

  it('limits events per pubkey with OK false rate-limited:', async () => {
    const r = await startTestRelay({ rateLimits: rates({ eventsPerPubkey: [2, 3] }) });
    try {
      const c = await RawClient.connect(r.url);
      const alice = new Keys();
      const evs = Array.from({ length: 8 }, (_, i) => alice.sign({ kind: 1, content: `pk ${i}` }));
      for (const e of evs) c.send(['EVENT', e]);
      const res = await Promise.all(evs.map((e) => c.ok(e.id)));
      assert.deepEqual(res.slice(0, 3).map((m) => m[2]), [true, true, true]);
      const limited = res.filter((m) => m[2] === false);
      assert.ok(limited.length >= 3, `rate-limited: ${limited.length}`);
      for (const m of limited) assert.match(m[3] as string, /^rate-limited: .*pubkey/);
      // Another pubkey on the same connection is not limited.
      assert.deepEqual(await c.publish(new Keys().sign({ kind: 1, content: 'bob' })), { ok: true, message: '' });
      // Nor is alice on another connection any less limited.
      const c2 = await RawClient.connect(r.url);
      const more = await c2.publish(alice.sign({ kind: 1, content: 'alice again' }));
      assert.equal(more.ok, false);
      assert.match(more.message, /^rate-limited: /);
      c.close();
      c2.close();
      await assertHealthy(r);
    } finally {
      await r.stop();
    }
  });

  it('limits REQs per IP with CLOSED rate-limited:', async () => {
    const r = await startTestRelay({ rateLimits: rates({ reqsPerIp: [2, 3] }) });
    try {
      const c = await RawClient.connect(r.url);
      for (let i = 0; i < 8; i++) c.send(['REQ', `q${i}`, { kinds: [1], limit: 1 }]);
      const answers: Msg[] = [];
      for (let i = 0; i < 8; i++) answers.push(await c.next((x) => (x[0] === 'EOSE' || x[0] === 'CLOSED') && x[1] === `q${i}`));
      assert.deepEqual(answers.slice(0, 3).map((m) => m[0]), ['EOSE', 'EOSE', 'EOSE']);
      const limited = answers.filter((m) => m[0] === 'CLOSED');
      assert.ok(limited.length >= 3, `rate-limited: ${limited.length}`);
      for (const m of limited) assert.match(m[2] as string, /^rate-limited: /);
      // COUNT draws from the same bucket.
      c.send(['COUNT', 'n', { kinds: [1] }]);
      const cm = await c.next((x) => x[1] === 'n');
      assert.equal(cm[0], 'CLOSED');
      assert.match(cm[2] as string, /^rate-limited: /);
      // Events are not REQs: still accepted.
      assert.equal((await c.publish(new Keys().sign({ kind: 1, content: 'writes' }))).ok, true);
      c.close();
      await sleep(600); // refill
      await assertHealthy(r);
    } finally {
      await r.stop();
    }
  });

  it('refuses a connection over max_connections and keeps the open ones working', async () => {
    const r = await startTestRelay({ maxConnections: 3 });
    try {
      // Six at once: exactly three get in.
      const tries = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(() => RawClient.connect(r.url)));
      const open = tries.flatMap((t) => (t.status === 'fulfilled' ? [t.value] : []));
      assert.equal(open.length, 3);
      for (const t of tries) if (t.status === 'rejected') assert.match(String(t.reason), /503/);
      await assert.rejects(RawClient.connect(r.url), /503/);
      const alice = new Keys();
      for (const [i, c] of open.entries()) {
        const e = alice.sign({ kind: 1, content: `conn ${i}` });
        assert.equal((await c.publish(e)).ok, true);
        assert.deepEqual((await c.req('mine', { ids: [e.id] })).events, [e]);
      }
      assert.equal(r.relay.core.stats.connections, 3);
      open[0]!.close();
      await connectionsSettle(r, 2);
      await assertHealthy(r);
      for (const c of open.slice(1)) c.close();
    } finally {
      await r.stop();
    }
  });

  it('refuses a connection over max_connections_per_ip for non-exempt addresses', async () => {
    const r = await startTestRelay({ maxConnectionsPerIp: 2, rateLimits: rates({}) });
    try {
      const open = await Promise.all([0, 1].map(() => RawClient.connect(r.url)));
      await assert.rejects(RawClient.connect(r.url), /503/);
      for (const c of open) assert.equal((await c.req('x', { kinds: [1], limit: 1 })).closed, undefined);
      open[0]!.close();
      await connectionsSettle(r, 1);
      await assertHealthy(r);
      open[1]!.close();
    } finally {
      await r.stop();
    }
  });
});
