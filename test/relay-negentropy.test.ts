// NIP-77 against the embedded relay over a real websocket: a client with an overlapping set learns
// exactly what it has and needs; bad messages get NEG-ERR with a NIP-01 prefix and never hurt the
// connection; a filter over more events than allowed is refused with blocked:.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, Negentropy, NegentropyStorage, toHex } from '../nostr/nip77.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { Keys, now, RawClient, startTestRelay, type TestRelay } from './support/relay.js';

async function syncOver(c: RawClient, subId: string, filter: object, mine: readonly NostrEvent[]): Promise<{ have: Set<string>; need: Set<string>; rounds: number }> {
  const storage = new NegentropyStorage();
  for (const e of mine) storage.insert(e.created_at, e.id);
  const neg = new Negentropy(storage.seal(), 4096);
  c.send(['NEG-OPEN', subId, filter, toHex(neg.initiate())]);
  const have = new Set<string>();
  const need = new Set<string>();
  for (let rounds = 1; ; rounds++) {
    const m = await c.next((x) => x[1] === subId && (x[0] === 'NEG-MSG' || x[0] === 'NEG-ERR'));
    assert.equal(m[0], 'NEG-MSG', JSON.stringify(m));
    const r = neg.reconcile(fromHex(m[2] as string));
    r.have.forEach((x) => have.add(x));
    r.need.forEach((x) => need.add(x));
    if (!r.output) {
      c.send(['NEG-CLOSE', subId]);
      return { have, need, rounds };
    }
    c.send(['NEG-MSG', subId, toHex(r.output)]);
  }
}

describe('NIP-77 negentropy sync against the embedded relay', () => {
  let relay: TestRelay;
  const alice = new Keys();
  const bob = new Keys();
  const stored: NostrEvent[] = [];

  before(async () => {
    relay = await startTestRelay({ negentropy: { maxRecords: 500 } });
    const c = await RawClient.connect(relay.url);
    const t0 = now() - 10_000;
    for (let i = 0; i < 300; i++) {
      const e = (i % 3 === 0 ? bob : alice).sign({ kind: 1, content: `note ${i}`, created_at: t0 + i });
      stored.push(e);
      assert.equal((await c.publish(e)).ok, true);
    }
    c.close();
  });
  after(() => relay.stop());

  it('says it supports NIP-77 in its NIP-11 document', async () => {
    const res = await fetch(relay.url.replace('ws://', 'http://'), { headers: { accept: 'application/nostr+json' } });
    assert.ok(((await res.json()) as { supported_nips: number[] }).supported_nips.includes(77));
  });

  it('a client holding part of the set plus its own events learns have and need exactly', async () => {
    const c = await RawClient.connect(relay.url);
    const mineOnly = Array.from({ length: 7 }, (_, i) => alice.sign({ kind: 1, content: `unsent ${i}`, created_at: now() - 5 - i }));
    const mine = [...stored.filter((_, i) => i % 10 !== 0), ...mineOnly];
    const r = await syncOver(c, 'n1', { kinds: [1] }, mine);
    assert.deepEqual(r.have, new Set(mineOnly.map((e) => e.id)));
    assert.deepEqual(r.need, new Set(stored.filter((_, i) => i % 10 === 0).map((e) => e.id)));
    // The filter applies: only bob's events.
    const b = await syncOver(c, 'n2', { kinds: [1], authors: [bob.pk] }, []);
    assert.equal(b.need.size, 100);
    c.close();
  });

  it('answers bad input with NEG-ERR and a NIP-01 prefix, and the connection lives on', async () => {
    const c = await RawClient.connect(relay.url);
    c.send(['NEG-OPEN', 'x', { kinds: [1] }, 'zz']);
    assert.match((await c.next((m) => m[0] === 'NEG-ERR' && m[1] === 'x'))[2] as string, /^invalid: /);
    c.send(['NEG-OPEN', 'y', { kinds: [1] }, '6100000205']); // an id list that claims 5 ids and has none
    assert.match((await c.next((m) => m[0] === 'NEG-ERR' && m[1] === 'y'))[2] as string, /^invalid: /);
    c.send(['NEG-MSG', 'nope', '61']);
    assert.match((await c.next((m) => m[0] === 'NEG-ERR' && m[1] === 'nope'))[2] as string, /^closed: /);
    c.send(['NEG-OPEN', 'z', { kinds: 'one' }, '61']);
    assert.match((await c.next((m) => m[0] === 'NEG-ERR' && m[1] === 'z'))[2] as string, /^invalid: /);
    // A newer protocol version is answered with ours (the client may downgrade).
    c.send(['NEG-OPEN', 'v', { kinds: [1] }, '62']);
    assert.deepEqual(await c.next((m) => m[0] === 'NEG-MSG' && m[1] === 'v'), ['NEG-MSG', 'v', '61']);
    // Still a working connection.
    const r = await c.req('after', { kinds: [1], limit: 1 });
    assert.equal(r.events.length, 1);
    c.close();
  });

  it('refuses a sync over more events than allowed with blocked:', async () => {
    const c = await RawClient.connect(relay.url);
    const writer = await RawClient.connect(relay.url);
    for (let i = 0; i < 250; i++) await writer.publish(alice.sign({ kind: 7, content: '+', created_at: now() - 2000 + i }));
    writer.close();
    const neg = new Negentropy(new NegentropyStorage().seal());
    c.send(['NEG-OPEN', 'big', {}, toHex(neg.initiate())]);
    const m = await c.next((x) => x[1] === 'big');
    assert.equal(m[0], 'NEG-ERR');
    assert.match(m[2] as string, /^blocked: /);
    c.close();
  });
});

describe('negentropySync between two embedded relays', () => {
  it('converges after a partition: events written on both sides meet in one sync', async () => {
    const { negentropySync, relayLocal } = await import('../relay/sync.js');
    const a = await startTestRelay();
    const b = await startTestRelay();
    try {
      const k = new Keys();
      const ca = await RawClient.connect(a.url);
      const cb = await RawClient.connect(b.url);
      const t0 = now() - 5000;
      for (let i = 0; i < 400; i++) {
        const e = k.sign({ kind: 1, content: `shared ${i}`, created_at: t0 + i });
        await ca.publish(e);
        await cb.publish(e);
      }
      // The partition: each side gets events the other never saw, and one side has a deletion.
      for (let i = 0; i < 30; i++) await ca.publish(k.sign({ kind: 1, content: `only a ${i}`, created_at: t0 + 1000 + i }));
      for (let i = 0; i < 20; i++) await cb.publish(k.sign({ kind: 1, content: `only b ${i}`, created_at: t0 + 2000 + i }));
      const r = await negentropySync(b.url, { kinds: [1] }, relayLocal(a.relay), { direction: 'both' });
      assert.equal(r.have, 30);
      assert.equal(r.need, 20);
      assert.equal(r.downloaded, 20);
      assert.equal(r.uploaded, 30);
      assert.equal(r.rejected, 0);
      const ids = async (t: TestRelay) => new Set((await t.relay.records({ kinds: [1] })).records.map(([, id]) => id));
      assert.deepEqual(await ids(a), await ids(b));
      assert.equal((await ids(a)).size, 450);
      // A second sync finds nothing to do, in one round trip.
      const again = await negentropySync(b.url, { kinds: [1] }, relayLocal(a.relay), { direction: 'both' });
      assert.deepEqual([again.have, again.need, again.rounds], [0, 0, 1]);
      ca.close();
      cb.close();
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('negentropySync against a lying relay', () => {
  it('stores nothing it did not ask for and nothing with a bad signature', async () => {
    const { WebSocketServer } = await import('ws');
    const { negentropySync, relayLocal } = await import('../relay/sync.js');
    const k = new Keys();
    const real = k.sign({ kind: 1, content: 'real', created_at: now() - 10 });
    const forged = { ...k.sign({ kind: 1, content: 'forged', created_at: now() - 9 }) };
    forged.content = 'changed after signing';
    const stray = k.sign({ kind: 1, content: 'not asked for', created_at: now() - 8 });
    // The liar claims to hold `real` and `forged` (by their ids) and answers the REQ with the
    // forged event, a stray one and then the real one.
    const storage = new NegentropyStorage();
    storage.insert(real.created_at, real.id);
    storage.insert(forged.created_at, forged.id);
    const neg = new Negentropy(storage.seal());
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (ws) => {
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as unknown[];
        if (m[0] === 'NEG-OPEN') ws.send(JSON.stringify(['NEG-MSG', m[1], toHex(neg.respond(fromHex(m[3] as string)))]));
        if (m[0] === 'REQ') {
          for (const e of [forged, stray, real]) ws.send(JSON.stringify(['EVENT', m[1], e]));
          ws.send(JSON.stringify(['EOSE', m[1]]));
        }
      });
    });
    await new Promise((r) => wss.once('listening', r));
    const mine = await startTestRelay();
    try {
      const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
      const r = await negentropySync(url, { kinds: [1] }, relayLocal(mine.relay), { direction: 'down' });
      assert.equal(r.need, 2);
      assert.equal(r.downloaded, 1);
      assert.equal(r.rejected, 2);
      const stored = (await mine.relay.records({})).records.map(([, id]) => id);
      assert.deepEqual(stored, [real.id]);
    } finally {
      wss.close();
      await mine.stop();
    }
  });
});
