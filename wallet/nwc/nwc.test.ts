// The NWC pieces without a relay: budget periods, the connection store's reservations, and the
// methods against the built-in wallet (list_transactions over Ledger.accountInvoices) and a fake
// wallet with hold invoices. test/nwc.test.ts runs the whole service over a real relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { tempWallet, type TempWallet } from '../testing.js';
import type { InvoiceRecord, Wallet } from '../wallet.js';
import { periodStart, renewsAt } from './budget.js';
import { NwcRequestError } from './errors.js';
import { runMethod, supportedMethods, type MethodContext } from './methods.js';
import { NwcStore, type NwcConnectionRecord } from './store.js';

const T = Date.UTC(2026, 4, 14, 15, 30) / 1000; // Thursday 14 May 2026, 15:30 UTC

describe('budget periods (UTC calendar)', () => {
  it('start and renewal of each period', () => {
    assert.equal(periodStart('daily', T), Date.UTC(2026, 4, 14) / 1000);
    assert.equal(renewsAt('daily', T), Date.UTC(2026, 4, 15) / 1000);
    assert.equal(periodStart('weekly', T), Date.UTC(2026, 4, 11) / 1000, 'Monday');
    assert.equal(renewsAt('weekly', T), Date.UTC(2026, 4, 18) / 1000);
    assert.equal(periodStart('weekly', Date.UTC(2026, 4, 17, 23) / 1000), Date.UTC(2026, 4, 11) / 1000, 'Sunday belongs to the week before');
    assert.equal(periodStart('monthly', T), Date.UTC(2026, 4, 1) / 1000);
    assert.equal(renewsAt('monthly', Date.UTC(2026, 11, 31) / 1000), Date.UTC(2027, 0, 1) / 1000);
    assert.equal(periodStart('yearly', T), Date.UTC(2026, 0, 1) / 1000);
    assert.equal(periodStart('never', T), 0);
    assert.equal(renewsAt('never', T), undefined);
  });
});

describe('NwcStore', () => {
  let dir: string;
  let store: NwcStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'timmy-nwc-'));
    store = NwcStore.open(join(dir, 'nwc.sqlite'));
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reserves within the budget, per period; a repeated invoice reserves nothing; release gives back', () => {
    const c = store.add({ name: 'app', pubkey: 'aa'.repeat(32), account: 'user:a', budgetMsat: 10_000, renewal: 'daily', methods: null }, T);
    assert.deepEqual(store.reserve(c, 'h1', 6_000, T), { created: true });
    assert.deepEqual(store.reserve(c, 'h1', 6_000, T), { created: false });
    assert.throws(() => store.reserve(c, 'h2', 5_000, T), (e: Error) => e instanceof NwcRequestError && e.code === 'QUOTA_EXCEEDED');
    store.settle('app', 'h1', 100);
    assert.equal(store.spent(c, T), 6_100);
    store.release('app', 'h1');
    assert.equal(store.spent(c, T), 6_100, 'a paid payment is not released');
    assert.deepEqual(store.reserve(c, 'h3', 3_900, T), { created: true });
    store.release('app', 'h3');
    assert.equal(store.spent(c, T), 6_100);
    assert.equal(store.spent(c, T + 86_400), 0, 'the next day starts afresh');
    assert.deepEqual(store.reserve(c, 'h2', 9_000, T + 86_400), { created: true });
  });

  it('names are unique; removing drops the payments; an unlimited connection is limited by nothing here', () => {
    assert.throws(() => store.add({ name: 'app', pubkey: 'bb'.repeat(32), account: 'user:b', budgetMsat: null, renewal: 'never', methods: null }, T), /already exists/);
    assert.throws(() => store.add({ name: 'two words', pubkey: 'bb'.repeat(32), account: 'user:b', budgetMsat: null, renewal: 'never', methods: null }, T), /name/);
    const free = store.add({ name: 'free', pubkey: 'cc'.repeat(32), account: 'user:c', budgetMsat: null, renewal: 'never', methods: ['get_info'] }, T);
    assert.deepEqual(free.methods, ['get_info']);
    assert.deepEqual(store.reserve(free, 'x', 1e12, T), { created: true });
    assert.equal(store.byPubkey('cc'.repeat(32))?.name, 'free');
    assert.ok(store.remove('app'));
    assert.equal((store.db.prepare(`SELECT COUNT(*) AS n FROM payments WHERE connection = 'app'`).get() as { n: number }).n, 0);
    assert.equal(store.remove('app'), false);
  });
});

describe('methods', () => {
  let tw: TempWallet;
  let dir: string;
  let store: NwcStore;
  let conn: NwcConnectionRecord;
  const ctx = (wallet: Wallet, over: Partial<MethodContext> = {}): MethodContext => ({
    wallet,
    store,
    conn,
    now: tw.clock.now(),
    alias: 'Timmy',
    color: '#000000',
    methods: [...supportedMethods(wallet, true), 'notifications'],
    listInvoices: (a, q) => tw.wallet.ledger.accountInvoices(a, q),
    ...over,
  });
  before(() => {
    tw = tempWallet();
    dir = mkdtempSync(join(tmpdir(), 'timmy-nwc-'));
    store = NwcStore.open(join(dir, 'nwc.sqlite'));
    conn = store.add({ name: 'm', pubkey: 'dd'.repeat(32), account: 'user:m', budgetMsat: null, renewal: 'never', methods: null }, tw.clock.now());
  });
  after(async () => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
    await tw.cleanup();
  });

  it('list_transactions: newest first, paid only unless unpaid, by type, paged', async () => {
    const w = tw.wallet;
    await w.fund('user:m', 100_000);
    await w.fund('user:x', 100_000);
    const mine: InvoiceRecord[] = [];
    for (let i = 0; i < 3; i++) {
      tw.clock.advance(10);
      mine.push(await w.createInvoice({ amountMsat: 1_000 + i, account: 'user:m' }));
    }
    await w.pay({ bolt11: mine[0]!.bolt11, fromAccount: 'user:x' });
    await w.pay({ bolt11: mine[2]!.bolt11, fromAccount: 'user:x' });
    tw.clock.advance(10);
    const theirs = await w.createInvoice({ amountMsat: 500, account: 'user:x' });
    await w.pay({ bolt11: theirs.bolt11, fromAccount: 'user:m' });
    const list = async (p: Record<string, unknown>) =>
      ((await runMethod(ctx(w, { now: tw.clock.now() }), { method: 'list_transactions', params: p })) as { transactions: { payment_hash: string; type: string; state: string; preimage?: string }[] }).transactions;
    assert.deepEqual((await list({})).map((x) => [x.payment_hash, x.type]), [
      [theirs.paymentHash, 'outgoing'],
      [mine[2]!.paymentHash, 'incoming'],
      [mine[0]!.paymentHash, 'incoming'],
    ]);
    const all = await list({ unpaid: true });
    assert.equal(all.length, 4);
    assert.equal(all.find((x) => x.payment_hash === mine[1]!.paymentHash)?.state, 'pending');
    assert.equal(all.find((x) => x.payment_hash === mine[1]!.paymentHash)?.preimage, undefined, 'no preimage while unpaid');
    assert.deepEqual((await list({ type: 'incoming', limit: 1, offset: 1 })).map((x) => x.payment_hash), [mine[0]!.paymentHash]);
    assert.deepEqual((await list({ from: mine[2]!.createdAt })).length, 2);
    assert.deepEqual((await list({ until: mine[0]!.createdAt })).map((x) => x.payment_hash), [mine[0]!.paymentHash]);
    await assert.rejects(list({ type: 'sideways' }), (e: Error) => e instanceof NwcRequestError && e.code === 'OTHER');
  });

  it('hold invoices go to a wallet that has them, and only for the connection\'s own invoices', async () => {
    const calls: string[] = [];
    const preimage = 'ab'.repeat(32);
    const hash = bytesToHex(sha256(Buffer.from(preimage, 'hex')));
    const rec = (account: string): InvoiceRecord => ({
      paymentHash: hash, bolt11: 'lnbcrt1hold', amountMsat: 5000, description: 'held', account, jobId: null, status: 'open',
      createdAt: 1, expiresAt: 2, settledAt: null, paidBy: null,
    });
    let owner = 'user:m';
    const fake = {
      capabilities: { ...tw.wallet.capabilities, holdInvoices: true },
      createHoldInvoice: async (p: { paymentHash: string; account?: string }) => (calls.push(`create ${p.paymentHash} ${p.account}`), rec(p.account!)),
      lookupInvoice: async () => rec(owner),
      settleHold: async (pre: string) => (calls.push(`settle ${pre}`), rec(owner)),
      cancelHold: async (h: string) => (calls.push(`cancel ${h}`), rec(owner)),
    } as unknown as Wallet;
    assert.ok(supportedMethods(fake, false).includes('make_hold_invoice'));
    const made = (await runMethod(ctx(fake), { method: 'make_hold_invoice', params: { amount: 5000, payment_hash: hash } })) as { payment_hash: string; state: string };
    assert.equal(made.payment_hash, hash);
    assert.equal(made.state, 'pending');
    assert.deepEqual(await runMethod(ctx(fake), { method: 'settle_hold_invoice', params: { preimage } }), {});
    assert.deepEqual(await runMethod(ctx(fake), { method: 'cancel_hold_invoice', params: { payment_hash: hash } }), {});
    assert.deepEqual(calls, [`create ${hash} user:m`, `settle ${preimage}`, `cancel ${hash}`]);
    owner = 'user:other';
    await assert.rejects(runMethod(ctx(fake), { method: 'settle_hold_invoice', params: { preimage } }), (e: Error) => e instanceof NwcRequestError && e.code === 'NOT_FOUND');
    await assert.rejects(runMethod(ctx(fake), { method: 'make_hold_invoice', params: { amount: 5000, payment_hash: 'xyz' } }), /payment_hash/);
  });
});
