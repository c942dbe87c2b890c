// Fault injection: a SQLite file of the data dir is locked by another process (docs/reliability.md,
// "Fault injection"). A child process (./lock-holder.ts) holds BEGIN EXCLUSIVE on relay.sqlite or
// wallet.sqlite: a lock shorter than busy_timeout (5 s) is waited for, a longer one makes the write
// fail cleanly (the relay answers error:), and everything works again once it is released.
// Starting an instance on a locked database is one line on stderr and exit 1, not a stack trace.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { Keys, RawClient, allEvents, sleep, startTestRelay, type TestRelay } from '../support/relay.js';
import { emptyDir, runCli } from '../support/cli.js';
import { BuiltinWallet } from '../../wallet/builtin.js';
import { JobStore } from '../../dvm/jobs/store.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import { holdLock } from './lock-holder.js';

const ids = (es: readonly NostrEvent[]) => new Set(es.map((e) => e.id));

describe('relay.sqlite locked by another process', () => {
  const k = new Keys();
  let t: TestRelay;
  const acked: NostrEvent[] = [];
  before(async () => {
    t = await startTestRelay();
    for (let i = 0; i < 5; i++) {
      const e = k.sign({ kind: 1, content: `before the lock ${i}` });
      assert.equal((await t.relay.publish(e)).ok, true);
      acked.push(e);
    }
  });
  after(async () => {
    await t?.stop();
  });

  it('waits out a short lock (busy_timeout): the event is stored once the lock is gone; reads go on meanwhile', async () => {
    const c = await RawClient.connect(t.url);
    const lock = await holdLock(join(t.dataDir, 'relay.sqlite'));
    try {
      const e = k.sign({ kind: 1, content: 'during a short lock' });
      const t0 = Date.now();
      const ok = c.publish(e);
      const read = await c.req('r', { authors: [k.pk], limit: 100 });
      assert.deepEqual(ids(read.events), ids(acked), 'WAL readers are not blocked by the writer lock');
      await sleep(1500);
      await lock.release();
      assert.deepEqual(await ok, { ok: true, message: '' });
      assert.ok(Date.now() - t0 >= 1400, 'the OK came after the lock was released');
      acked.push(e);
    } finally {
      await lock.release();
      c.close();
    }
  });

  it('refuses with error: when the lock outlasts busy_timeout, keeps serving reads, and accepts again once released', async () => {
    const c = await RawClient.connect(t.url);
    const lock = await holdLock(join(t.dataDir, 'relay.sqlite'));
    try {
      const e = k.sign({ kind: 1, content: 'during a long lock' });
      const t0 = Date.now();
      c.send(['EVENT', e]);
      // Reads are served while the writer waits for the lock.
      assert.deepEqual(ids((await c.req('r', { authors: [k.pk], limit: 100 })).events), ids(acked));
      const m = await c.next((x) => x[0] === 'OK' && x[1] === e.id, 15_000);
      assert.equal(m[2], false);
      assert.match(m[3] as string, /^error: could not store event \(database is locked\)$/);
      assert.ok(Date.now() - t0 >= 4500, 'refused only after busy_timeout (5 s) of waiting');
      await lock.release();
      assert.deepEqual(await c.publish(e), { ok: true, message: '' }, 'the same event, sent again, is stored');
      acked.push(e);
      assert.deepEqual(ids(await allEvents(t.url)), ids(acked), 'nothing acknowledged is lost');
      assert.equal(c.closed, false);
    } finally {
      await lock.release();
      c.close();
    }
  });
});

describe('wallet.sqlite locked by another process', () => {
  let dir: string;
  let w: BuiltinWallet;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'timmy-walletlock-'));
    w = BuiltinWallet.open({ path: join(dir, 'wallet.sqlite'), nodeKey: secp256k1.utils.randomSecretKey(), config: { network: 'regtest' }, onListenerError: () => undefined });
  });
  after(async () => {
    await w?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a short lock is waited for; a long one fails the payment cleanly (nothing half-written), and it works once released', async () => {
    await w.fund('user:alice', 100_000, 'test funds');
    // The wallet's SQLite calls are synchronous: the busy wait blocks this thread, so the holder
    // lets go by itself after 1.5 s.
    const short = await holdLock(join(dir, 'wallet.sqlite'), 'exclusive', 1500);
    const t0 = Date.now();
    await w.fund('user:alice', 1, 'during a short lock');
    assert.ok(Date.now() - t0 >= 1000, 'the write waited for the lock');
    await short.release();

    const long = await holdLock(join(dir, 'wallet.sqlite'));
    try {
      const inv = await w.createInvoice({ amountMsat: 5000, account: 'agent:bob' }).catch((e: Error) => e);
      assert.ok(inv instanceof Error, 'the write failed');
      assert.match(inv.message, /database is locked/);
    } finally {
      await long.release();
    }
    const a = w.ledger.audit();
    assert.deepEqual([a.totalMsat, a.unbalancedTxIds, a.driftedAccounts], [0, [], []]);
    assert.equal(await w.balance('user:alice'), 100_001);
    const inv = await w.createInvoice({ amountMsat: 5000, account: 'agent:bob' });
    await w.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' });
    assert.equal(await w.balance('agent:bob'), 5000);
    assert.equal(w.ledger.audit().totalMsat, 0);
  });
});

describe('dvm.sqlite locked by another process (e.g. `timmy job approve` writing it)', () => {
  it('a job transition waits out a short lock instead of failing at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'timmy-joblock-'));
    const jobs = new JobStore(join(dir, 'dvm.sqlite'));
    try {
      const id = 'a'.repeat(64);
      assert.ok(jobs.create({ id, kind: 5001, customer: 'c'.repeat(64), request: '{}' }, 'request received'));
      // Synchronous SQLite: the holder lets go by itself after 1.5 s.
      const lock = await holdLock(join(dir, 'dvm.sqlite'), 'exclusive', 1500);
      const t0 = Date.now();
      jobs.transition(id, 'awaiting-payment', 'invoice sent');
      assert.ok(Date.now() - t0 >= 1000, 'the transition waited for the lock');
      await lock.release();
      assert.deepEqual(jobs.transitions(id).map((x) => x.to), ['received', 'awaiting-payment']);
      const lock2 = await holdLock(join(dir, 'dvm.sqlite'), 'exclusive', 1500);
      assert.ok(jobs.create({ id: 'b'.repeat(64), kind: 5001, customer: 'c'.repeat(64), request: '{}' }, 'request received'));
      await lock2.release();
    } finally {
      jobs.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('starting on a locked database', () => {
  const oneLine = (stderr: string) => stderr.trim().split('\n').filter((l) => !l.startsWith('{'));

  it('timmy start with wallet.sqlite locked: one line naming the cause, exit 1, no stack trace', async () => {
    const dir = emptyDir();
    const lock = await holdLock(join(dir, 'wallet.sqlite'));
    try {
      const r = await runCli(['start', '--data-dir', dir, '--port', '0', '--http-port', '0'], { timeoutMs: 30_000 });
      assert.equal(r.code, 1);
      assert.deepEqual(oneLine(r.stderr), ['timmy: database is locked: another process holds a database of the data dir (is another timmy running on the same --data-dir?)']);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    } finally {
      await lock.release();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('timmy relay with relay.sqlite held in exclusive locking mode: one line naming the file, exit 1', async () => {
    const dir = emptyDir();
    const lock = await holdLock(join(dir, 'relay.sqlite'), 'exclusive-mode');
    try {
      const r = await runCli(['relay', '--data-dir', dir, '--port', '0', '--http-port', '0'], { timeoutMs: 30_000 });
      assert.equal(r.code, 1);
      const lines = oneLine(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^timmy: cannot open .*relay\.sqlite: database is locked \(SQLITE_BUSY\): another process holds a database/);
      assert.doesNotMatch(r.stderr, /\n\s+at |\[object Object\]/);
    } finally {
      await lock.release();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
