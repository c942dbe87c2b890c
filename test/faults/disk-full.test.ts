// Fault injection: the disk fills up (docs/reliability.md, "Fault injection").
// 1. A real full disk: the relay's data dir on a small tmpfs, filled by a filler file.
//    Skipped, with the reason, where a tmpfs cannot be mounted (not root, no CAP_SYS_ADMIN).
// 2. The writer's fault hook (EmbeddedRelay.injectWriteFault): every commit fails as SQLITE_FULL
//    does, after the rows were written, so the rollback is exercised. Always runs.
// 3. The wallet ledger and the job store on a full tmpfs: an operation fails cleanly, the books
//    stay balanced, nothing is half-written, and writes work again once space returns.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { Keys, RawClient, allEvents, startTestRelay, type TestRelay } from '../support/relay.js';
import { BuiltinWallet } from '../../wallet/builtin.js';
import { JobStore } from '../../dvm/jobs/store.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import { mountTmpfs, type Tmpfs } from './tmpfs.js';

const mounted = mountTmpfs('16m');
const noTmpfs = typeof mounted === 'string' ? mounted : false;
const fs = typeof mounted === 'string' ? null : mounted;
after(() => fs?.unmount());

const ids = (es: readonly NostrEvent[]) => new Set(es.map((e) => e.id));

describe('disk full: the relay on a real, full tmpfs', { skip: noTmpfs }, () => {
  const k = new Keys();
  let t: TestRelay;
  let dir: string;
  const acked: NostrEvent[] = [];
  const refused: NostrEvent[] = [];

  before(async () => {
    dir = join(fs!.dir, 'relay');
    t = await startTestRelay({ durability: 'full' }, { dataDir: dir });
  });
  after(async () => {
    await t?.stop(true);
  });

  it('refuses new events with error: while the disk is full, keeps serving reads, loses nothing acknowledged', async () => {
    const c = await RawClient.connect(t.url);
    try {
      for (let i = 0; i < 20; i++) {
        const e = k.sign({ kind: 1, content: `before the disk filled ${i}` });
        assert.deepEqual(await c.publish(e), { ok: true, message: '' });
        acked.push(e);
      }
      fs!.fill(256 * 1024); // a little room: some events still fit, then the disk is full
      assert.ok(fs!.freeBytes() < 512 * 1024, `the filesystem is nearly full (${fs!.freeBytes()} bytes free)`);
      // The WAL grows with every commit: the first one that needs a new page fails.
      let firstRefusal = '';
      for (let i = 0; i < 200 && !firstRefusal; i++) {
        const e = k.sign({ kind: 1, content: `while full ${i} ${'x'.repeat(20_000)}` });
        const r = await c.publish(e);
        if (r.ok) acked.push(e);
        else {
          refused.push(e);
          firstRefusal = r.message;
        }
      }
      assert.match(firstRefusal, /^error: /, 'NIP-01: a failure of the relay itself is prefixed error:');
      assert.match(firstRefusal, /full/i);
      // More attempts while still full: each is answered (never left without an OK) with error:.
      for (let i = 0; i < 5; i++) {
        const e = k.sign({ kind: 1, content: `still full ${i} ${'y'.repeat(20_000)}` });
        const r = await c.publish(e);
        if (r.ok) acked.push(e);
        else {
          assert.match(r.message, /^error: /);
          refused.push(e);
        }
      }
      // Reads go on, on the same connection and on a new one.
      const { events } = await c.req('r1', { kinds: [1], authors: [k.pk], limit: 5000 });
      assert.deepEqual(ids(events), ids(acked), 'every acknowledged event is served, no refused one');
      assert.deepEqual(ids(await allEvents(t.url)), ids(acked));
      assert.equal(c.closed, false, 'the connection stays open');

      // Space returns: the same relay (no restart) accepts again.
      fs!.free();
      for (let i = 0; i < 5; i++) {
        const e = k.sign({ kind: 1, content: `space is back ${i} ${'z'.repeat(20_000)}` });
        assert.deepEqual(await c.publish(e), { ok: true, message: '' });
        acked.push(e);
      }
      assert.deepEqual(ids(await allEvents(t.url)), ids(acked));
    } finally {
      c.close();
    }
  });

  it('after a restart every acknowledged event is there and no refused one', async () => {
    await t.stop(true);
    t = await startTestRelay({ durability: 'full' }, { dataDir: dir });
    const got = ids(await allEvents(t.url));
    assert.deepEqual(got, ids(acked));
    for (const e of refused) assert.ok(!got.has(e.id));
  });

  it('starts on a full disk and serves reads, refuses writes with error:, recovers when space returns', async () => {
    await t.stop(true);
    fs!.fill();
    try {
      t = await startTestRelay({ durability: 'full' }, { dataDir: dir });
    } catch (err) {
      // Acceptable only as a clear error (the CLI prints it on one line), never a hang.
      assert.match((err as Error).message, /full|space/i);
      fs!.free();
      t = await startTestRelay({ durability: 'full' }, { dataDir: dir });
    }
    const c = await RawClient.connect(t.url);
    try {
      assert.deepEqual(ids((await c.req('r', { limit: 5000 })).events), ids(acked));
      fs!.free();
      const e = k.sign({ kind: 1, content: 'after a start on a full disk' });
      assert.deepEqual(await c.publish(e), { ok: true, message: '' });
    } finally {
      c.close();
    }
  });
});

describe('disk full: the relay writer fault hook (SQLITE_FULL on every commit)', () => {
  const k = new Keys();
  let t: TestRelay;
  before(async () => {
    t = await startTestRelay();
  });
  after(async () => {
    await t?.stop();
  });

  it('answers error:, rolls back whole batches (deletions and replacements too), serves reads, recovers when cleared', async () => {
    const c = await RawClient.connect(t.url);
    try {
      const acked: NostrEvent[] = [];
      for (let i = 0; i < 10; i++) {
        const e = k.sign({ kind: 1, content: `note ${i}` });
        assert.equal((await c.publish(e)).ok, true);
        acked.push(e);
      }
      const meta1 = k.sign({ kind: 0, content: '{"name":"one"}', created_at: Math.floor(Date.now() / 1000) - 10 });
      assert.equal((await c.publish(meta1)).ok, true);
      acked.push(meta1);

      await t.relay.injectWriteFault('full');
      // Several at once: they go into one group commit, which fails as a whole.
      const burst = Array.from({ length: 20 }, (_, i) => k.sign({ kind: 1, content: `burst ${i}` }));
      const deletion = k.sign({ kind: 5, tags: [['e', acked[0]!.id]] });
      const meta2 = k.sign({ kind: 0, content: '{"name":"two"}' });
      for (const e of [...burst, deletion, meta2]) c.send(['EVENT', e]);
      for (const e of [...burst, deletion, meta2]) {
        const m = await c.ok(e.id);
        assert.equal(m[2], false);
        assert.match(m[3] as string, /^error: could not store event \(database or disk is full\)$/);
      }
      const got = ids((await c.req('r', { authors: [k.pk], limit: 5000 })).events);
      assert.deepEqual(got, ids(acked), 'the deletion did not delete, the replacement did not replace, nothing of the burst');
      assert.equal(await t.relay.purgeExpired().catch(() => -1), 0, 'a purge while full fails quietly');

      await t.relay.injectWriteFault(null);
      for (const e of [...burst, deletion, meta2]) assert.deepEqual(await c.publish(e), { ok: true, message: '' });
      const after = (await c.req('r2', { authors: [k.pk], limit: 5000 })).events;
      assert.ok(!ids(after).has(acked[0]!.id), 'the deletion applies now');
      assert.deepEqual(after.filter((e) => e.kind === 0).map((e) => e.id), [meta2.id]);
      assert.equal(after.length, acked.length - 1 - 1 + burst.length + 1 + 1);
    } finally {
      c.close();
    }
  });
});

describe('disk full: the wallet ledger and the job store on a full tmpfs', { skip: noTmpfs }, () => {
  it('an operation fails cleanly, the books balance, nothing is half-written; writes work again when space returns', async () => {
    const dir = join(fs!.dir, 'instance');
    mkdirSync(dir, { recursive: true });
    const w = BuiltinWallet.open({ path: join(dir, 'wallet.sqlite'), nodeKey: secp256k1.utils.randomSecretKey(), config: { network: 'regtest', durability: 'full' }, onListenerError: () => undefined });
    const jobs = new JobStore(join(dir, 'dvm.sqlite'));
    try {
      await w.fund('user:alice', 1_000_000_000, 'test funds');
      let funded = 1_000_000_000;
      let paid = 0;
      fs!.fill(256 * 1024);
      let walletError: Error | undefined;
      for (let i = 0; i < 2000 && !walletError; i++) {
        try {
          const inv = await w.createInvoice({ amountMsat: 1000, account: 'agent:bob', description: `job ${i} ${'d'.repeat(500)}` });
          await w.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' });
          paid += 1000;
          await w.fund('user:carol', 7, `more ${i}`);
          funded += 7;
        } catch (err) {
          walletError = err as Error;
        }
      }
      assert.ok(walletError, "a write failed on the full disk");
      assert.match(walletError.message, /full/i);
      const a = w.ledger.audit();
      assert.deepEqual({ total: a.totalMsat, unbalanced: a.unbalancedTxIds, drifted: a.driftedAccounts }, { total: 0, unbalanced: [], drifted: [] });
      const alice = await w.balance('user:alice');
      const bob = await w.balance('agent:bob');
      assert.equal(alice + bob, 1_000_000_000, 'a payment either happened on both sides or on neither');
      assert.equal(bob, paid);

      fs!.free();
      fs!.fill(256 * 1024);
      let jobError: Error | undefined;
      let created = 0;
      for (let i = 0; i < 5000 && !jobError; i++) {
        try {
          jobs.create({ id: `job-${i}`.padEnd(64, '0'), kind: 5001, customer: 'c'.repeat(64), request: 'r'.repeat(1000) }, 'request received');
          created++;
        } catch (err) {
          jobError = err as Error;
        }
      }
      assert.ok(jobError, "a job write failed on the full disk");
      for (const j of jobs.list(10_000)) assert.equal(jobs.transitions(j.id)[0]?.to, 'received', `${j.id} has its first transition`);
      assert.equal(jobs.list(10_000).length, created, 'no row of the failed create');

      fs!.free();
      await w.fund('user:carol', 7, 'space is back');
      funded += 7;
      const inv = await w.createInvoice({ amountMsat: 1000, account: 'agent:bob' });
      await w.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' });
      assert.equal(w.ledger.audit().totalMsat, 0);
      assert.equal(await w.balance('agent:bob'), paid + 1000);
      assert.ok(funded > 0);
      assert.ok(jobs.create({ id: 'after'.padEnd(64, '0'), kind: 5001, customer: 'c'.repeat(64), request: '{}' }, 'request received'));
    } finally {
      fs!.free();
      jobs.close();
      await w.close();
    }
  });
});
