// The treasury: its cut of released jobs, agents' earnings, withdrawals through the approval
// queue (bolt11 and on chain), the cold-storage sweep and the audit, with the ledger balanced after each.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BuiltinWallet, type BuiltinWalletOptions } from './builtin.js';
import { runWalletCommand } from './cli-commands.js';
import { InsufficientFundsError, WalletError } from './errors.js';
import { paymentPort, treasuryCut } from './payment-port.js';
import { tempWallet, TEST_NODE_KEY, type TempWallet } from './testing.js';
import { Treasury } from './treasury.js';
import { WalletAuditError } from './treasury-cli.js';
import { WithdrawalStateError, destinationKind } from './withdrawals.js';
import type * as W from './wallet.js';

const ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

/** A built-in wallet that pretends to reach a chain: what LndWallet.sendToChain does, without LND. */
class ChainWallet extends BuiltinWallet {
  sent: { address: string; sat: number }[] = [];
  fail: string | null = null;
  private constructor(o: BuiltinWalletOptions) {
    super(BuiltinWallet.openLedger(o), Uint8Array.from(o.nodeKey));
    (this as { capabilities: W.WalletCapabilities }).capabilities = { ...this.capabilities, onChain: true };
  }
  static openChain(path: string): ChainWallet {
    return new ChainWallet({ path, nodeKey: TEST_NODE_KEY, config: { network: 'regtest' } });
  }
  override async sendToChain(address: string, sat: number): Promise<string> {
    if (this.fail) throw new WalletError(this.fail);
    this.sent.push({ address, sat });
    return 'ab'.repeat(32);
  }
}

function assertBalanced(w: BuiltinWallet): void {
  const a = w.ledger.audit();
  assert.equal(a.totalMsat, 0);
  assert.deepEqual(a.unbalancedTxIds, []);
  assert.deepEqual(a.driftedAccounts, []);
}

/** A job of `price` msat paid by user:customer and released to `agent` for `agentMsat`. */
async function paidJob(w: BuiltinWallet, id: string, price: number, agent: string, agentMsat: number, feePct: number): Promise<void> {
  const port = paymentPort(w, { treasuryFeePct: feePct });
  const inv = await port.invoiceForJob(id, price, 'job');
  await w.pay({ bolt11: inv.bolt11, fromAccount: 'user:customer' });
  await port.release(id, agent, agentMsat);
}

describe('treasury', () => {
  let t: TempWallet;
  beforeEach(async () => {
    t = tempWallet();
    await t.wallet.fund('user:customer', 1_000_000);
  });
  afterEach(() => t.cleanup());

  it('takes feePct of the agent payment into treasury, the rest of the escrow to fees, balanced and idempotent', async () => {
    assert.equal(treasuryCut(8001, 10), 800);
    assert.equal(treasuryCut(8000, 0), 0);
    await paidJob(t.wallet, 'j1', 10_000, 'agent:alice', 8_001, 10);
    await paymentPort(t.wallet, { treasuryFeePct: 10 }).release('j1', 'agent:alice', 8_001); // a retry moves nothing
    assert.equal(await t.wallet.balance('agent:alice'), 7_201);
    assert.equal(await t.wallet.balance('treasury'), 800);
    assert.equal(await t.wallet.balance('fees'), 1_999);
    assert.equal(await t.wallet.balance('escrow:j1'), 0);
    const e = await t.wallet.getEscrow('j1');
    assert.equal(e!.releasedMsat + e!.feeMsat + e!.refundedMsat + 800, e!.amountMsat);
    assertBalanced(t.wallet);
  });

  it('earnings: per agent balance, total earned and jobs paid; the treasury summary', async () => {
    await paidJob(t.wallet, 'j1', 10_000, 'agent:alice', 8_000, 5);
    await paidJob(t.wallet, 'j2', 5_000, 'agent:alice', 4_000, 5);
    await paidJob(t.wallet, 'j3', 3_000, 'agent:bob', 3_000, 5);
    const tr = new Treasury(t.wallet, { feePct: 5 });
    assert.deepEqual(tr.earnings(), [
      { account: 'agent:alice', balanceMsat: 11_400, earnedMsat: 11_400, jobsPaid: 2 },
      { account: 'agent:bob', balanceMsat: 2_850, earnedMsat: 2_850, jobsPaid: 1 },
    ]);
    assert.deepEqual(tr.summary(), { balanceMsat: 750, takenMsat: 750, jobs: 3 });
    const lines = await runWalletCommand(t.wallet, ['earnings'], { treasury: { feePct: 5 } });
    assert.match(lines[1]!, /^agent:alice\s+11\.4 sat\s+11\.4 sat\s+2$/);
    assert.match(lines.at(-1)!, /treasury: balance 0\.75 sat, taken from 3 jobs 0\.75 sat \(wallet\.treasury\.feePct 5%\)/);
  });

  it('bolt11 withdrawal: requested, nothing moves; approve pays it once (idempotent); reject after send is refused', async () => {
    await paidJob(t.wallet, 'j1', 10_000, 'agent:alice', 10_000, 0);
    const inv = await t.wallet.createInvoice({ amountMsat: 6_000, account: 'user:alice-cold', description: 'payout' });
    const tr = new Treasury(t.wallet);
    const r = tr.withdrawals.request({ account: 'agent:alice', amountMsat: 6_000, destination: inv.bolt11, reason: 'weekly payout', requestedBy: 'alice' });
    assert.equal(r.state, 'requested');
    assert.equal(r.kind, 'bolt11');
    assert.equal(await t.wallet.balance('agent:alice'), 10_000);
    const a = await tr.withdrawals.approve(r.id, 'operator');
    assert.equal(a.state, 'sent');
    assert.equal(a.paymentHash, inv.paymentHash);
    const again = await tr.withdrawals.approve(r.id, 'operator');
    assert.deepEqual(again, a);
    assert.equal(await t.wallet.balance('agent:alice'), 4_000);
    assert.equal(await t.wallet.balance('user:alice-cold'), 6_000);
    assert.throws(() => tr.withdrawals.reject(r.id, 'operator'), WithdrawalStateError);
    assertBalanced(t.wallet);
  });

  it('refuses a request beyond the balance or with a bad destination; a rejected one cannot be approved', async () => {
    const tr = new Treasury(t.wallet);
    assert.throws(() => tr.withdrawals.request({ account: 'agent:nobody', amountMsat: 1000, destination: ADDRESS }), InsufficientFundsError);
    assert.throws(() => tr.withdrawals.request({ account: 'user:customer', amountMsat: 1000, destination: 'hello' }), /not a bolt11 invoice or an on-chain address/);
    assert.throws(() => tr.withdrawals.request({ account: 'user:customer', amountMsat: 1500, destination: ADDRESS }), /whole sats/);
    assert.equal(destinationKind(ADDRESS), 'onchain');
    const r = tr.withdrawals.request({ account: 'user:customer', amountMsat: 1000, destination: ADDRESS });
    assert.equal(tr.withdrawals.reject(r.id, 'operator', 'no').state, 'rejected');
    assert.equal(tr.withdrawals.reject(r.id, 'operator', 'no').state, 'rejected');
    await assert.rejects(tr.withdrawals.approve(r.id, 'operator'), WithdrawalStateError);
    assert.equal(await t.wallet.balance('user:customer'), 1_000_000);
  });

  it('on-chain withdrawal on the built-in wallet fails with a clear reason and moves nothing', async () => {
    const tr = new Treasury(t.wallet);
    const r = tr.withdrawals.request({ account: 'user:customer', amountMsat: 5_000, destination: ADDRESS });
    const a = await tr.withdrawals.approve(r.id, 'operator');
    assert.equal(a.state, 'failed');
    assert.match(a.failure!, /^WalletError: the built-in wallet cannot send on chain \(on-chain withdrawals need the LND backend\); nothing moved$/);
    assert.equal(await t.wallet.balance('user:customer'), 1_000_000);
    assertBalanced(t.wallet);
  });

  it('on-chain withdrawal on a backend that can: account -> external, reverted when the node refuses', async () => {
    await t.wallet.close();
    const w = ChainWallet.openChain(t.path);
    try {
      const tr = new Treasury(w);
      const r = tr.withdrawals.request({ account: 'user:customer', amountMsat: 5_000, destination: ADDRESS, reason: 'cold' });
      const a = await tr.withdrawals.approve(r.id, 'operator');
      assert.equal(a.state, 'sent');
      assert.equal(a.txid, 'ab'.repeat(32));
      assert.deepEqual(w.sent, [{ address: ADDRESS, sat: 5 }]);
      assert.equal(await w.balance('user:customer'), 995_000);
      w.fail = 'insufficient funds available to construct transaction';
      const f = await tr.withdrawals.approve(tr.withdrawals.request({ account: 'user:customer', amountMsat: 7_000, destination: ADDRESS }).id, 'operator');
      assert.equal(f.state, 'failed');
      assert.match(f.failure!, /insufficient funds available/);
      assert.equal(await w.balance('user:customer'), 995_000);
      const memos = w.ledger.recentEntries(10).map((e) => e.memo);
      assert.ok(memos.some((m) => m.startsWith('revert withdrawal #2')));
      assertBalanced(w);
    } finally {
      await w.close();
    }
  });

  it('sweep: dry run writes nothing; above the threshold it requests (once) the balance minus keep, in whole sats', async () => {
    for (let i = 0; i < 3; i++) await paidJob(t.wallet, `s${i}`, 200_500, 'agent:a', 200_500, 50);
    // treasury: 3 x 100,250 msat = 300.75 sat
    const cfg = { sweep: { address: ADDRESS, thresholdSats: 300, keepSats: 50 } };
    assert.throws(() => new Treasury(t.wallet).sweepPlan(), /sweep\.address is not set/);
    const tr = new Treasury(t.wallet, cfg);
    const dry = tr.sweep({ dryRun: true });
    assert.equal(dry.plan.amountMsat, 250_000);
    assert.equal(dry.request, null);
    assert.deepEqual(tr.withdrawals.list(), []);
    const lines = await runWalletCommand(t.wallet, ['sweep', '--dry-run'], { treasury: cfg });
    assert.match(lines[1]!, /would request a sweep of 250 sat \(dry run/);
    const real = tr.sweep();
    assert.equal(real.request!.state, 'requested');
    assert.equal(real.request!.account, 'treasury');
    assert.equal(real.request!.amountMsat, 250_000);
    assert.equal(tr.sweep().request!.id, real.request!.id); // no second request while one waits
    assert.equal(await t.wallet.balance('treasury'), 300_750); // never sent without approval
    const below = new Treasury(t.wallet, { sweep: { address: ADDRESS, thresholdSats: 1000, keepSats: 0 } });
    assert.equal(below.sweepPlan().amountMsat, 0);
  });

  it('audit: ok on good books; a tampered balance fails it (and the command throws)', async () => {
    await paidJob(t.wallet, 'j1', 10_000, 'agent:alice', 8_000, 10);
    const tr = new Treasury(t.wallet);
    const ok = await tr.audit();
    assert.equal(ok.ok, true);
    assert.equal(ok.backend, 'builtin');
    assert.equal(ok.node, null);
    assert.equal((await runWalletCommand(t.wallet, ['audit'])).at(-1), 'audit ok');
    t.wallet.ledger.db.prepare("UPDATE accounts SET balance_msat = balance_msat + 1 WHERE id = 'agent:alice'").run();
    const bad = await tr.audit();
    assert.equal(bad.ok, false);
    assert.match(bad.problems.join('\n'), /agent:alice/);
    await assert.rejects(runWalletCommand(t.wallet, ['audit']), (e: Error) => e instanceof WalletAuditError && /audit FAILED/.test(e.message));
  });

  it('withdraw commands: request, list, approve, reject', async () => {
    const run = (...argv: string[]) => runWalletCommand(t.wallet, argv);
    const inv = await t.wallet.createInvoice({ amountMsat: 2_000, account: 'user:x' });
    const req = await run('withdraw', 'request', 'user:customer', '2', inv.bolt11, '--reason', 'test');
    assert.match(req[0]!, /^requested #1  requested  user:customer  2 sat -> bolt11 /);
    await run('withdraw', 'request', 'user:customer', '3', ADDRESS);
    assert.equal((await run('withdraw', 'list')).length, 2);
    assert.match((await run('withdraw', 'approve', '1'))[0]!, /^#1  sent /);
    assert.match((await run('withdraw', 'reject', '2', '--reason', 'not now'))[0]!, /^#2  rejected .*\(not now\)$/);
    assert.deepEqual((await run('withdraw', 'list', '--state', 'sent')).length, 1);
    await assert.rejects(run('withdraw', 'approve', 'x'), /withdrawal id is a number/);
    await assert.rejects(run('withdraw', 'frob'), /withdraw needs request, list, approve or reject/);
  });
});
