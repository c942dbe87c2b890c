// Durability: every event that got OK true is served again after a restart on the same data
// dir (replaced and deleted ones are not), after a clean stop, SIGTERM, and SIGKILL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Keys, RawClient, now, startTestRelay, allEvents } from './support/relay.js';
import { emptyDir, startCli, type CliRelay } from './support/cli.js';
import { eventAddress, isEphemeral, kindClass, type NostrEvent } from '../nostr/nip01.js';

/** What a relay should hold after the accepted events, by NIP-01 and NIP-09 rules. */
class Model {
  readonly stored = new Map<string, NostrEvent>();
  accepted(e: NostrEvent): void {
    if (isEphemeral(e.kind)) return;
    const cls = kindClass(e.kind);
    if (cls === 'replaceable' || cls === 'addressable') {
      const a = eventAddress(e);
      for (const [id, x] of this.stored) if ((kindClass(x.kind) === 'replaceable' || kindClass(x.kind) === 'addressable') && eventAddress(x) === a) this.stored.delete(id);
    }
    if (e.kind === 5) {
      for (const t of e.tags) {
        const target = t[0] === 'e' ? this.stored.get(t[1] ?? '') : undefined;
        if (target && target.pubkey === e.pubkey && target.kind !== 5) this.stored.delete(target.id);
        if (t[0] === 'a' && t[1]?.split(':')[1] === e.pubkey) {
          for (const [id, x] of this.stored) if (x.kind !== 5 && eventAddress(x) === t[1] && x.created_at <= e.created_at) this.stored.delete(id);
        }
      }
    }
    this.stored.set(e.id, e);
  }
}

/** Sends every event, then waits for every OK; returns the OKs in order. */
async function publishAll(c: RawClient, events: NostrEvent[]): Promise<{ ok: boolean; message: string }[]> {
  for (const e of events) c.send(['EVENT', e]);
  const out = [];
  for (const e of events) {
    const m = await c.ok(e.id);
    out.push({ ok: m[2] as boolean, message: m[3] as string });
  }
  return out;
}


const ids = (events: Iterable<NostrEvent>): string[] => [...events].map((e) => e.id).sort();

describe('relay restart on the same data dir', () => {
  it('serves every accepted event after stop(true) and a new start, and none of the replaced or deleted ones', async () => {
    const alice = new Keys();
    const bob = new Keys();
    const carol = new Keys();
    const t = now() - 10_000;
    const model = new Model();
    const r = await startTestRelay();
    const dataDir = r.dataDir;
    let r2;
    try {
      const c = await RawClient.connect(r.url);
      const first: NostrEvent[] = [];
      const people = [alice, bob, carol];
      for (let i = 0; i < 180; i++) first.push(people[i % 3]!.sign({ kind: 1, content: `note ${i}`, created_at: t + i, tags: [['t', `n${i % 7}`]] }));
      for (let v = 0; v < 5; v++) for (const p of people) first.push(p.sign({ kind: 0, content: JSON.stringify({ name: `v${v}` }), created_at: t + 200 + v }));
      for (let v = 0; v < 3; v++) first.push(alice.sign({ kind: 10002, content: '', tags: [['r', `wss://relay${v}.example`]], created_at: t + 210 + v }));
      for (const d of ['a', 'b', 'c', 'd', 'e']) {
        for (let v = 0; v < 4; v++) first.push(alice.sign({ kind: 30023, content: `${d} v${v}`, tags: [['d', d]], created_at: t + 220 + v }));
      }
      for (let i = 0; i < 40; i++) first.push(bob.sign({ kind: 7, content: '+', created_at: t + 300 + i, tags: [['e', first[i * 3]!.id], ['p', alice.pk]] }));
      for (let i = 0; i < 5; i++) first.push(carol.sign({ kind: 20001, content: `ephemeral ${i}`, created_at: t + 400 }));
      const oks = await publishAll(c, first);
      first.forEach((e, i) => {
        assert.equal(oks[i]!.ok, true, `${e.kind} ${e.content}: ${oks[i]!.message}`);
        model.accepted(e);
      });

      // Deletions: alice deletes ten of her notes and the address "b"; bob tries to delete one of alice's.
      const aliceNotes = first.filter((e) => e.kind === 1 && e.pubkey === alice.pk);
      const deletedNotes = aliceNotes.slice(0, 10);
      const second = [
        alice.sign({ kind: 5, content: 'oops', created_at: t + 500, tags: deletedNotes.map((e) => ['e', e.id]) }),
        alice.sign({ kind: 5, content: '', created_at: t + 501, tags: [['a', `30023:${alice.pk}:b`]] }),
        bob.sign({ kind: 5, content: 'not mine', created_at: t + 502, tags: [['e', aliceNotes[20]!.id]] }),
        // A newer version of "c" and a version of "b" older than its deletion (refused).
        alice.sign({ kind: 30023, content: 'c v9', tags: [['d', 'c']], created_at: t + 503 }),
      ];
      const oks2 = await publishAll(c, second);
      second.forEach((e, i) => {
        assert.equal(oks2[i]!.ok, true, `${e.kind} ${e.content}: ${oks2[i]!.message}`);
        model.accepted(e);
      });
      const staleB = alice.sign({ kind: 30023, content: 'b stale', tags: [['d', 'b']], created_at: t + 400 });
      assert.equal((await c.publish(staleB)).ok, false);
      c.close();

      const expected = ids(model.stored.values());
      assert.ok(expected.length >= 200 && expected.length < first.length + second.length);
      const before = await allEvents(r.url);
      assert.deepEqual(ids(before), expected, 'served before the restart');

      await r.stop(true);
      r2 = await startTestRelay({}, { dataDir });
      const after = await allEvents(r2.url);
      assert.deepEqual(ids(after), expected, 'served after the restart');
      // Byte for byte the same events.
      const byId = new Map(after.map((e) => [e.id, e]));
      for (const e of model.stored.values()) assert.deepEqual(byId.get(e.id), e);
      for (const e of deletedNotes) assert.ok(!byId.has(e.id));
      assert.equal(after.filter((e) => e.kind === 0).length, 3, 'one profile per author');
      assert.deepEqual(after.filter((e) => e.kind === 30023).map((e) => e.content).sort(), ['a v3', 'c v9', 'd v3', 'e v3']);
      assert.equal(after.filter((e) => e.kind === 20001).length, 0, 'ephemeral events are never stored');

      // Deletion records and replacements survive the restart too.
      const c2 = await RawClient.connect(r2.url);
      const again = await c2.publish(deletedNotes[0]!);
      assert.equal(again.ok, false);
      assert.match(again.message, /^blocked: /);
      const oldProfile = first.find((e) => e.kind === 0 && e.pubkey === alice.pk)!;
      assert.equal((await c2.publish(oldProfile)).ok, false);
      const oldB = first.find((e) => e.kind === 30023 && e.content === 'b v1')!;
      assert.equal((await c2.publish(oldB)).ok, false);
      // Queries by index still work.
      const n0 = [...model.stored.values()].filter((e) => e.tags.some((x) => x[0] === 't' && x[1] === 'n0'));
      assert.deepEqual(ids((await c2.req('tags', { '#t': ['n0'] })).events), ids(n0));
      assert.equal((await c2.req('reactions', { kinds: [7], '#p': [alice.pk] })).events.length, 40);
      c2.close();
    } finally {
      if (r2) await r2.stop();
      else await r.stop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('CLI relay durability', () => {
  const sign = (k: Keys, n: number, from: number): NostrEvent[] =>
    Array.from({ length: n }, (_, i) => k.sign({ kind: 1, content: `durable ${from + i}`, tags: [['t', 'durable']] }));

  async function publishAndCheck(relay: CliRelay, events: NostrEvent[]): Promise<void> {
    const c = await RawClient.connect(relay.url);
    const oks = await publishAll(c, events);
    for (const [i, o] of oks.entries()) assert.deepEqual(o, { ok: true, message: '' }, events[i]!.content);
    c.close();
  }

  it('keeps every acknowledged event across SIGTERM (exit 0) and across SIGKILL right after the last OK', async () => {
    const dataDir = emptyDir('timmy-durable-');
    const args = ['relay', '--port', '0', '--data-dir', dataDir];
    const alice = new Keys();
    let relay: CliRelay | undefined;
    try {
      relay = await startCli(args);
      const batch1 = sign(alice, 150, 0);
      await publishAndCheck(relay, batch1);
      const term = await relay.stop('SIGTERM');
      assert.deepEqual(term, { code: 0, signal: null }, relay.out.stderr);
      assert.match(relay.out.stderr, /stopped cleanly/);

      relay = await startCli(args);
      assert.deepEqual(ids(await allEvents(relay.url)), ids(batch1), 'after SIGTERM');

      // Now a kill: the process gets no chance to flush or checkpoint anything.
      const batch2 = sign(alice, 150, 150);
      const c = await RawClient.connect(relay.url);
      for (const e of batch2) c.send(['EVENT', e]);
      const last = batch2[batch2.length - 1]!;
      const lastOk = await c.ok(last.id);
      relay.proc.kill('SIGKILL');
      assert.equal(lastOk[2], true);
      for (const e of batch2.slice(0, -1)) assert.equal((await c.ok(e.id))[2], true, e.content);
      assert.deepEqual(await relay.exited, { code: null, signal: 'SIGKILL' });

      relay = await startCli(args);
      const got = await allEvents(relay.url);
      assert.deepEqual(ids(got), ids([...batch1, ...batch2]), 'after SIGKILL');
      const term2 = await relay.stop('SIGTERM');
      assert.equal(term2.code, 0);
      relay = undefined;
    } finally {
      if (relay) await relay.stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('keeps every acknowledged event when killed with SIGKILL in the middle of a stream of writes', async () => {
    const dataDir = emptyDir('timmy-durable-');
    const args = ['relay', '--port', '0', '--data-dir', dataDir];
    const alice = new Keys();
    let relay: CliRelay | undefined;
    try {
      relay = await startCli(args);
      const c = await RawClient.connect(relay.url);
      const events = sign(alice, 600, 0);
      const acked = new Set<string>();
      let killed = false;
      const killedAfter = new Promise<void>((resolve) => {
        c.ws.on('message', (d) => {
          const m = JSON.parse(d.toString()) as unknown[];
          if (killed || m[0] !== 'OK') return;
          assert.equal(m[2], true, String(m[3]));
          acked.add(m[1] as string);
          if (acked.size === 200) {
            killed = true;
            relay!.proc.kill('SIGKILL');
            resolve();
          }
        });
      });
      // Paced, so that writes are still in flight when the kill lands.
      for (let i = 0; i < events.length && !killed; i += 20) {
        for (const e of events.slice(i, i + 20)) c.send(['EVENT', e]);
        await new Promise((r) => setTimeout(r, 5));
      }
      await killedAfter;
      await relay.exited;
      c.close();

      relay = await startCli(args);
      const got = new Set(ids(await allEvents(relay.url)));
      for (const id of acked) assert.ok(got.has(id), `acknowledged event ${id} is lost`);
      const sent = new Set(ids(events));
      for (const id of got) assert.ok(sent.has(id));
      assert.equal((await relay.stop('SIGTERM')).code, 0);
      relay = undefined;
    } finally {
      if (relay) await relay.stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
