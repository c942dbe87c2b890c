// The double-entry ledger on a real SQLite file: balanced transactions only, idempotency keys,
// no overdrafts (in code and in the schema), the audit, and a reopen that keeps everything.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from './ledger.js';
import { SCHEMA_VERSION } from './schema.js';
import { IdempotencyConflictError, InsufficientFundsError, InvalidAccountError, InvalidAmountError, UnbalancedTransactionError } from './errors.js';
import { ManualClock } from './testing.js';
import { formatSats, parseSats } from './accounts.js';

describe('ledger', () => {
  let dir: string;
  let path: string;
  let ledger: Ledger;
  const clock = new ManualClock();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'timmy-ledger-'));
    path = join(dir, 'wallet.sqlite');
    ledger = Ledger.open(path, { clock });
  });
  afterEach(() => {
    ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fund = (account: string, msat: number, key: string) =>
    ledger.post({ key, kind: 'fund', entries: [{ account: 'external', amountMsat: -msat }, { account, amountMsat: msat }] });

  it('creates the schema at the current version, in WAL mode with full sync', () => {
    assert.equal(ledger.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(ledger.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(ledger.db.pragma('synchronous', { simple: true }), 2);
  });

  it('posts balanced transactions and keeps balances; external goes negative', () => {
    fund('user:alice', 5000, 'fund:1');
    const t = ledger.post({
      key: 'transfer:1',
      kind: 'transfer',
      entries: [
        { account: 'user:alice', amountMsat: -3000 },
        { account: 'agent:bob', amountMsat: 2900 },
        { account: 'fees', amountMsat: 100 },
      ],
    });
    assert.equal(t.replayed, false);
    assert.equal(ledger.balance('user:alice'), 2000);
    assert.equal(ledger.balance('agent:bob'), 2900);
    assert.equal(ledger.balance('fees'), 100);
    assert.equal(ledger.balance('external'), -5000);
    assert.equal(ledger.balance('user:nobody'), 0);
    assert.deepEqual(ledger.entries(t.txId), [
      { account: 'agent:bob', amountMsat: 2900 },
      { account: 'fees', amountMsat: 100 },
      { account: 'user:alice', amountMsat: -3000 },
    ]);
    assert.deepEqual(ledger.audit(), { totalMsat: 0, unbalancedTxIds: [], driftedAccounts: [], transactions: 2 });
  });

  it('refuses unbalanced, empty, fractional and unsafe entries, and bad account ids', () => {
    assert.throws(() => ledger.post({ key: 'a', kind: 'transfer', entries: [{ account: 'user:a', amountMsat: 1 }] }), UnbalancedTransactionError);
    assert.throws(() => ledger.post({ key: 'b', kind: 'transfer', entries: [] }), UnbalancedTransactionError);
    assert.throws(
      () => ledger.post({ key: 'c', kind: 'transfer', entries: [{ account: 'user:a', amountMsat: 1.5 }, { account: 'external', amountMsat: -1.5 }] }),
      InvalidAmountError,
    );
    assert.throws(
      () => ledger.post({ key: 'd', kind: 'transfer', entries: [{ account: 'user:a', amountMsat: 2 ** 53 }, { account: 'external', amountMsat: -(2 ** 53) }] }),
      InvalidAmountError,
    );
    for (const bad of ['alice', 'user:', 'user:has space', 'bank:x', 'escrow:' + 'x'.repeat(201)]) {
      assert.throws(() => fund(bad, 1, 'e' + bad), InvalidAccountError, bad);
    }
    assert.equal(ledger.audit().transactions, 0);
  });

  it('an idempotency key posts once: the same entries replay, other entries conflict', () => {
    const first = fund('user:alice', 1000, 'fund:x');
    const again = fund('user:alice', 1000, 'fund:x');
    assert.deepEqual(again, { txId: first.txId, replayed: true });
    assert.equal(ledger.balance('user:alice'), 1000);
    assert.throws(() => fund('user:alice', 2000, 'fund:x'), IdempotencyConflictError);
    assert.equal(ledger.balance('user:alice'), 1000);
  });

  it('refuses overdrafts in code, and the schema refuses them too', () => {
    fund('user:alice', 1000, 'f');
    assert.throws(
      () => ledger.post({ key: 'o', kind: 'transfer', entries: [{ account: 'user:alice', amountMsat: -1001 }, { account: 'user:bob', amountMsat: 1001 }] }),
      (e: unknown) => e instanceof InsufficientFundsError && e.balanceMsat === 1000 && e.neededMsat === 1001,
    );
    assert.equal(ledger.balance('user:alice'), 1000);
    assert.equal(ledger.balance('user:bob'), 0);
    assert.throws(() => ledger.db.prepare("UPDATE accounts SET balance_msat = -1 WHERE id = 'user:alice'").run(), /CHECK constraint/);
  });

  it('a failed step inside atomic() rolls back the whole operation', () => {
    fund('user:alice', 1000, 'f');
    assert.throws(() =>
      ledger.atomic(() => {
        ledger.post({ key: 't1', kind: 'transfer', entries: [{ account: 'user:alice', amountMsat: -600 }, { account: 'user:bob', amountMsat: 600 }] });
        ledger.post({ key: 't2', kind: 'transfer', entries: [{ account: 'user:alice', amountMsat: -600 }, { account: 'user:bob', amountMsat: 600 }] });
      }),
    InsufficientFundsError);
    assert.equal(ledger.balance('user:alice'), 1000);
    assert.equal(ledger.txIdForKey('t1'), undefined);
  });

  it('keeps everything across a reopen', () => {
    fund('user:alice', 1234, 'f1');
    fund('agent:bob', 99, 'f2');
    ledger.setMeta('network', 'regtest');
    ledger.close();
    ledger = Ledger.open(path, { clock });
    assert.equal(ledger.balance('user:alice'), 1234);
    assert.equal(ledger.balance('agent:bob'), 99);
    assert.equal(ledger.getMeta('network'), 'regtest');
    assert.deepEqual(fund('user:alice', 1234, 'f1').replayed, true);
    assert.equal(ledger.audit().totalMsat, 0);
  });

  it('lists the newest entries first, with their transaction, up to a limit', () => {
    assert.deepEqual(ledger.recentEntries(), []);
    fund('user:alice', 5000, 'fund:a');
    clock.advance(10);
    ledger.post({ key: 'transfer:1', kind: 'transfer', memo: 'for lunch', entries: [{ account: 'user:alice', amountMsat: -3000 }, { account: 'agent:bob', amountMsat: 3000 }] });
    const all = ledger.recentEntries(100);
    assert.equal(all.length, 4);
    assert.deepEqual(all.map((e) => [e.txId, e.account, e.amountMsat]), [
      [2, 'user:alice', -3000],
      [2, 'agent:bob', 3000],
      [1, 'user:alice', 5000],
      [1, 'external', -5000],
    ]);
    const [first] = all;
    assert.equal(first?.txKind, 'transfer');
    assert.equal(first?.memo, 'for lunch');
    assert.equal(first?.key, 'transfer:1');
    assert.equal(first?.at, clock.now());
    assert.equal(all[3]?.at, clock.now() - 10);
    assert.equal(ledger.recentEntries(1).length, 1);
    assert.equal(ledger.recentEntries(0).length, 1); // at least one
    assert.equal(ledger.recentEntries(5000).length, 4);
  });

  it('formats and parses sats with msat precision', () => {
    assert.equal(formatSats(1500), '1.5');
    assert.equal(formatSats(2000), '2');
    assert.equal(formatSats(-1), '-0.001');
    assert.equal(parseSats('21'), 21_000);
    assert.equal(parseSats('0.001'), 1);
    assert.throws(() => parseSats('0'), InvalidAmountError);
    assert.throws(() => parseSats('1.0001'), InvalidAmountError);
    assert.throws(() => parseSats('-5'), InvalidAmountError);
  });
});
