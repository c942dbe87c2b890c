// Backups under load, end to end: a real instance takes events from publishers and paid DVM jobs
// while `timmy backup` (a separate process) copies its data dir; the backup is restored into a fresh
// dir and an instance started on it. Every event acknowledged (OK true) before the backup started
// is there, every payment made before then too, the ledger balances, escrow and job transitions
// are consistent. Damaged or missing files and a running instance's dir are refused in one line,
// with nothing written.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WsClient } from '../nostr/ws-client.js';
import { checkBooks, Customer, Keys, SAMPLE_TEXT, sleep, startTestInstance, until, type TestInstance } from './support/dvm.js';
import { runCli } from './support/cli.js';
import { isTerminal } from '../dvm/jobs/states.js';

const FAST = { dvm: { auction: { commitMs: 300, revealMs: 300 } } };

/** Publishes kind-1 notes until stopped; records each acknowledged id with the time of its OK. */
function publisher(url: string, acked: { id: string; at: number }[]): { stop(): Promise<void> } {
  const keys = new Keys();
  const client = new WsClient(url);
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const e = keys.sign({ kind: 1, content: `note ${i} under load`, tags: [] });
      const r = await client.publish(e);
      if (r.ok) acked.push({ id: e.id, at: Date.now() });
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.close();
    },
  };
}

/** Posts paid 5001 jobs and pays each; records the job ids with the time each payment returned. */
function jobLoad(t: TestInstance, c: Customer, account: string, paid: { id: string; at: number }[]): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const req = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text'], ['param', 'max_sentences', '1']] });
      await c.pay(t.wallet, req.id, account);
      paid.push({ id: req.id, at: Date.now() });
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

const oneLine = (s: string): void => assert.equal(s.trim().split('\n').length, 1, `one line: ${s}`);

describe('timmy backup and restore', () => {
  it('restores a backup taken under load: acknowledged events, payments, balanced books', async () => {
    const work = mkdtempSync(join(tmpdir(), 'timmy-backup-'));
    const file = join(work, 'instance.tgz');
    const restored = join(work, 'restored');
    const t = await startTestInstance(FAST);
    const c = new Customer(t.inst.relayUrl!);
    const account = `customer:${c.pk.slice(0, 16)}`;
    await t.wallet.fund(account, 50_000_000, 'test funds');
    const acked: { id: string; at: number }[] = [];
    const paid: { id: string; at: number }[] = [];
    const load = [publisher(t.inst.relayUrl!, acked), publisher(t.inst.relayUrl!, acked), jobLoad(t, c, account, paid)];
    let started = 0;
    try {
      await until('load running', () => (acked.length > 200 && paid.length >= 2 ? true : undefined), 20_000);
      started = Date.now();
      const b = await runCli(['backup', file, '--data-dir', t.dir], { timeoutMs: 30_000 });
      assert.equal(b.code, 0, b.stderr);
      oneLine(b.stdout);
      assert.match(b.stdout, /^backup .*instance\.tgz: \d+ files \(\d+ databases, integrity ok\)/);
      const during = acked.filter((a) => a.at > started).length;
      assert.ok(during > 0, 'events were acknowledged while the backup ran');
      console.log(`# backup: ${b.stdout.trim()} (${acked.filter((a) => a.at <= started).length} events acked before, ${during} during)`);

      // A second backup to the same file is refused without --force.
      const again = await runCli(['backup', file, '--data-dir', t.dir]);
      assert.equal(again.code, 1);
      oneLine(again.stderr);
      assert.match(again.stderr, /exists: pass --force/);

      // Restoring onto the running instance's data dir is refused, even with --force.
      const busy = await runCli(['restore', file, '--data-dir', t.dir, '--force']);
      assert.equal(busy.code, 1);
      oneLine(busy.stderr);
      assert.match(busy.stderr, /an instance \(pid \d+\) is running on/);
    } finally {
      await Promise.all(load.map((l) => l.stop()));
      await c.close();
      await t.close();
    }

    // The manifest: versions, sizes, sha256, integrity of each database.
    const check = await runCli(['restore', file, '--check', '--json']);
    assert.equal(check.code, 0, check.stderr);
    const m = (JSON.parse(check.stdout) as { manifest: { format: string; version: number; timmyVersion: string; files: { path: string; size: number; sha256: string; integrity?: string }[] } }).manifest;
    assert.equal(m.format, 'timmy-backup');
    assert.equal(m.version, 1);
    const paths = m.files.map((f) => f.path);
    for (const p of ['relay.sqlite', 'wallet.sqlite', 'dvm.sqlite', 'memory.sqlite', 'master.secret', 'secrets/wallet-node.ncryptsec']) assert.ok(paths.includes(p), `${p} is in the backup`);
    assert.ok(!paths.some((p) => /-(wal|shm)$|timmy\.pid$/.test(p)), 'no WAL sidecars or pidfile');
    for (const f of m.files.filter((x) => x.path.endsWith('.sqlite'))) assert.equal(f.integrity, 'ok');

    // Restore into a fresh dir and start an instance on it.
    const r = await runCli(['restore', file, '--data-dir', restored], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    oneLine(r.stdout);
    assert.match(r.stdout, /checksums verified, integrity ok, ledger balances \(\d+ transactions\)/);
    assert.equal(statSync(join(restored, 'secrets', 'wallet-node.ncryptsec')).mode & 0o777, 0o600);
    assert.ok(!existsSync(join(restored, 'timmy.pid')));

    const t2 = await startTestInstance(FAST, restored);
    try {
      // Every event acknowledged before the backup started is in the restored relay.
      const before = acked.filter((a) => a.at <= started).map((a) => a.id);
      const found = new Set<string>();
      for (let i = 0; i < before.length; i += 200) {
        const ids = before.slice(i, i + 200);
        for (const e of await t2.inst.client.query([{ ids, limit: ids.length }])) found.add(e.id);
      }
      const lost = before.filter((id) => !found.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${before.length} acknowledged events lost`);

      // Every job paid before the backup started is there, its invoice paid.
      for (const p of paid.filter((x) => x.at <= started)) {
        const job = t2.jobs.get(p.id);
        assert.ok(job, `job ${p.id.slice(0, 8)} paid before the backup is restored`);
        assert.ok(job.paymentHash);
        assert.equal((await t2.wallet.lookupInvoice(job.paymentHash))?.status, 'paid');
      }

      // The restored instance finishes what was in flight; then escrow and transitions are consistent.
      const active = new Set(['bidding', 'assigned', 'executing']);
      await until('paid jobs finished', () => (t2.jobs.list(1000).some((j) => active.has(j.state)) ? undefined : true), 30_000);
      for (const j of t2.jobs.list(1000)) {
        const escrow = await t2.wallet.getEscrow(j.id);
        if (j.state === 'delivered') assert.equal(escrow?.status, 'released', `delivered job ${j.id.slice(0, 8)}: escrow released`);
        if (j.state === 'refunded') assert.equal(escrow?.status ?? 'refunded', 'refunded', `refunded job ${j.id.slice(0, 8)}: escrow refunded`);
        if (!isTerminal(j.state) && escrow) assert.equal(escrow.status, 'held');
      }
      await checkBooks(t2);
    } finally {
      await t2.close();
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses damaged and missing files and non-empty dirs in one line, writing nothing', async () => {
    const work = mkdtempSync(join(tmpdir(), 'timmy-backup-'));
    const t = await startTestInstance();
    const file = join(work, 'b.tgz');
    try {
      await t.wallet.fund('customer:x', 1000, 'test funds');
    } finally {
      await t.close(true);
    }
    const b = await runCli(['backup', file, '--data-dir', t.dir]);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(!existsSync(`${file}.part`));

    // A flipped byte anywhere in the file.
    const bytes = readFileSync(file);
    for (const at of [Math.floor(bytes.length / 2), 20, bytes.length - 5]) {
      const bad = Buffer.from(bytes);
      bad[at] = bad[at]! ^ 0x01;
      const badFile = join(work, `bad-${at}.tgz`);
      writeFileSync(badFile, bad);
      const target = join(work, `from-bad-${at}`);
      const r = await runCli(['restore', badFile, '--data-dir', target]);
      assert.equal(r.code, 1, `flipped byte at ${at}: ${r.stdout}`);
      oneLine(r.stderr);
      assert.match(r.stderr, /^timmy: (corrupted|not a)/);
      assert.ok(!existsSync(target), 'nothing written');
    }
    assert.deepEqual(readdirSync(work).filter((f) => f.includes('restore')), []);

    const missing = await runCli(['restore', join(work, 'nope.tgz'), '--data-dir', join(work, 'x')]);
    assert.equal(missing.code, 1);
    oneLine(missing.stderr);
    assert.match(missing.stderr, /no such file/);
    assert.ok(!existsSync(join(work, 'x')));

    // A non-empty dir needs --force, and is then kept beside the restored one.
    const full = await runCli(['restore', file, '--data-dir', t.dir]);
    assert.equal(full.code, 1);
    assert.match(full.stderr, /is not empty: pass --force/);
    const forced = await runCli(['restore', file, '--data-dir', t.dir, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    const kept = /kept as (\S+)$/.exec(forced.stdout.trim())?.[1];
    assert.ok(kept && existsSync(join(kept, 'wallet.sqlite')));
    rmSync(kept, { recursive: true, force: true });
    rmSync(t.dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });

    const help = await runCli(['backup', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: timmy backup <file>/);
  });
});
