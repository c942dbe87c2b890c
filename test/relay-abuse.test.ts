// Abuse and load, the short version of bench/load.ts (well under a minute): the real relay in a
// child process, attackers from loopback aliases (no exempt address), a well-behaved client measured
// meanwhile. Limits must answer with the right prefixes, the good client must stay fast, and the
// relay's memory must stay bounded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import {
  connectFrom,
  growth,
  idleConnections,
  ipOf,
  LOAD_RELAY_CONFIG,
  MB,
  Probe,
  publishFlood,
  runPhase,
  sleep,
  slowReaders,
  soak,
  startRelayChild,
  Tally,
  type RelayChild,
} from '../bench/load-lib.js';

const LIMITS = { maxBufferedBytes: 1024 * 1024, maxSubscriptions: 20, maxMessageLength: 64 * 1024, maxFilterValues: 1000 };
/** Generous for 2 busy cores: the full bench records the real figures (docs/reliability.md). */
const P99_BOUND_MS = 1000;

/** The next message on `ws` that matches. */
function next(ws: WebSocket, pred: (m: unknown[]) => boolean, timeoutMs = 10_000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), timeoutMs);
    const on = (d: Buffer): void => {
      const m = JSON.parse(d.toString()) as unknown[];
      if (!pred(m)) return;
      clearTimeout(t);
      ws.off('message', on);
      resolve(m);
    };
    ws.on('message', on);
  });
}

describe('relay under abuse (child process, no exempt address)', () => {
  let relay: RelayChild;
  let probe: Probe;
  const idle: WebSocket[] = [];
  before(async () => {
    relay = await startRelayChild({ ...LOAD_RELAY_CONFIG, ...LIMITS, ingestWorkers: 2, readerThreads: 2 });
    await relay.seed(2000);
    probe = Probe.start(relay.url);
  });
  after(async () => {
    await probe?.stop();
    for (const ws of idle) ws.terminate();
    await relay?.stop();
  });

  it('holds 1,000 connections and refuses the one over maxConnectionsPerIp with HTTP 503', async () => {
    const a = idleConnections(relay.url, 1000, { perIp: 150, maxPerIp: 200, keep: idle });
    await a.start();
    await a.stop();
    assert.equal(idle.length, 1000);
    assert.equal(a.tally.get('HTTP 503 at connect'), 5);
    assert.ok((await relay.stats()).stats.connections >= 1000);
  });

  it('answers a one-IP publisher flood with OK false rate-limited: while a good client stays fast', async () => {
    const flood = publishFlood(relay.url, { ips: 1, connsPerIp: 2, keys: 20, pool: 1000, window: 50, block: 3, label: 'test' });
    const r = await runPhase(relay, probe, 'flood', 'eventsPerIp', flood, 4);
    assert.ok(flood.tally.get('OK false rate-limited:') > 100, flood.tally.summary());
    assert.ok(r.good.n >= 20, `good client made ${r.good.n} requests`);
    assert.deepEqual(r.good.refusals, []);
    assert.ok(r.good.p99 < P99_BOUND_MS, `good client p99 ${r.good.p99.toFixed(0)} ms`);
  });

  it('cuts off slow readers (maxBufferedBytes) and keeps its memory bounded', async () => {
    const slow = slowReaders(relay.url, { ips: 1, connsPerIp: 3, everyMs: 100, block: 6, limit: 2000, relay });
    const r = await runPhase(relay, probe, 'slow readers', 'maxBufferedBytes', slow, 5);
    const dropped = Number(/dropped (\d+)/.exec(slow.notes()[0] ?? '')?.[1]);
    assert.ok(dropped >= 3, slow.notes().join('; '));
    assert.ok(r.good.p99 < P99_BOUND_MS, `good client p99 ${r.good.p99.toFixed(0)} ms`);
    // 3 readers x (1 MB queue + kernel socket buffers) plus the answers in flight: far below this.
    assert.ok(r.rss.peak - r.rss.before < 300 * 2 ** 20, `RSS ${MB(r.rss.before)} -> ${MB(r.rss.peak)}`);
  });

  it('answers oversized messages: EVENT with OK false invalid:, others with NOTICE invalid:, absurd frames by closing 1009', async () => {
    const t = new Tally();
    const ws = (await connectFrom(relay.url, ipOf(7, 0), t))!;
    const pad = 'x'.repeat(LIMITS.maxMessageLength + 1);
    const id = 'ab'.repeat(32);
    ws.send(JSON.stringify(['EVENT', { id, pubkey: id, created_at: 1, kind: 1, tags: [], content: pad, sig: id + id }]));
    const ok = await next(ws, (m) => m[0] === 'OK');
    assert.equal(ok[1], id);
    assert.equal(ok[2], false);
    assert.match(String(ok[3]), /^invalid: message too large/);
    ws.send(JSON.stringify(['REQ', 'big', { search: pad }]));
    assert.match(String((await next(ws, (m) => m[0] === 'NOTICE'))[1]), /^invalid: message too large/);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('y'.repeat(5 * 2 ** 20));
    assert.equal(await closed, 1009);
  });

  it('refuses a subscription hoarder past maxSubscriptions with CLOSED blocked:, and too many filter values with CLOSED invalid:', async () => {
    const t = new Tally();
    const ws = (await connectFrom(relay.url, ipOf(8, 0), t))!;
    for (let k = 0; k < LIMITS.maxSubscriptions + 5; k++) ws.send(JSON.stringify(['REQ', `s${k}`, { kinds: [1], limit: 0 }]));
    for (let i = 0; i < 200 && t.get('CLOSED blocked:') + t.get('EOSE') < LIMITS.maxSubscriptions + 5; i++) await sleep(25);
    assert.equal(t.get('EOSE'), LIMITS.maxSubscriptions);
    assert.equal(t.get('CLOSED blocked:'), 5);
    ws.send(JSON.stringify(['REQ', 'wide', { kinds: Array.from({ length: LIMITS.maxFilterValues + 1 }, (_, i) => i) }]));
    assert.match(String((await next(ws, (m) => m[0] === 'CLOSED' && m[1] === 'wide'))[2]), /^invalid: filters too large/);
    ws.terminate();
  });

  it('mini soak: 20 s of a steady mix grows the relay by less than 60 MB', async () => {
    const { samples } = await soak(relay, { seconds: 20, sampleSeconds: 4, idle: 100, subscribers: 20, eventsPerSecond: 20, reqsPerSecond: 10 });
    // The first sample is after 4 s of warm-up; growth is measured from there.
    const g = growth(samples, 'rss');
    assert.ok(samples.length >= 4);
    assert.ok(g.delta < 60 * 2 ** 20, `RSS ${MB(g.first)} -> ${MB(g.last)}`);
  });
});
