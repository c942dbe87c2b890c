// The treasury on the LND backend (the test LND, or real regtest nodes: docs/wallet.md, "LND"):
// money paid in over Lightning, an approved on-chain withdrawal through sendToChainAddress, a
// refused one reverted on the ledger, and the audit against the node's balances.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Treasury } from '../wallet/treasury.js';
import { lndPair, tempLndWallet, REAL_LND, type LndPair, type TempLndWallet } from './support/test-lnd/pair.js';

const ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const standIn = { skip: REAL_LND ? 'needs the test LND (it sets the node\'s chain balance)' : false };

describe('treasury on LND', () => {
  let pair: LndPair;
  let A: TempLndWallet; // Timmy's
  let B: TempLndWallet; // a customer's
  before(async () => {
    pair = await lndPair();
    A = await tempLndWallet(pair.a);
    B = await tempLndWallet(pair.b);
    await B.wallet.fund('user:bob', 5_000_000, 'test funds');
    const inv = await A.wallet.createInvoice({ amountMsat: 2_000_000, account: 'treasury', description: 'into the treasury' });
    await B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' });
  });
  after(async () => {
    await A?.cleanup();
    await B?.cleanup();
    await pair?.close();
  });

  it('sends an approved on-chain withdrawal through LND and debits the ledger once', async () => {
    assert.equal(A.wallet.capabilities.onChain, true);
    const tr = new Treasury(A.wallet, { sweep: { address: ADDRESS, thresholdSats: 1000, keepSats: 500 } });
    const chainBefore = (await A.wallet.nodeBalances()).chainSat;
    const { request } = tr.sweep();
    assert.equal(request!.amountMsat, 1_500_000);
    assert.equal((await A.wallet.nodeBalances()).chainSat, chainBefore); // nothing sent before approval
    const sent = await tr.withdrawals.approve(request!.id, 'operator');
    assert.equal(sent.state, 'sent', sent.failure ?? '');
    assert.match(sent.txid!, /^[0-9a-f]{64}$/);
    await tr.withdrawals.approve(request!.id, 'operator');
    assert.equal((await A.wallet.nodeBalances()).chainSat, chainBefore - 1500);
    assert.equal(await A.wallet.balance('treasury'), 500_000);
    assert.equal(A.wallet.ledger.audit().totalMsat, 0);
  });

  it('a send LND refuses fails and is reverted on the ledger', standIn, async () => {
    const node = pair.a.testLnd!.node;
    const chain = node.chainSat;
    node.chainSat = 100;
    try {
      const tr = new Treasury(A.wallet);
      const r = tr.withdrawals.request({ account: 'treasury', amountMsat: 400_000, destination: ADDRESS });
      const f = await tr.withdrawals.approve(r.id, 'operator');
      assert.equal(f.state, 'failed');
      assert.match(f.failure!, /sendToChain: InsufficientBalance|insufficient funds/i);
      assert.equal(await A.wallet.balance('treasury'), 500_000);
    } finally {
      node.chainSat = chain;
    }
  });

  it('audit compares the node with what the ledger owes; test money the node does not hold fails it', standIn, async () => {
    const tr = new Treasury(A.wallet);
    const ok = await tr.audit();
    assert.equal(ok.backend, 'lnd');
    assert.equal(ok.ok, true, ok.problems.join('; '));
    assert.equal(ok.node!.ledgerOwedMsat, 500_000);
    assert.ok(ok.node!.surplusMsat > 0);
    const huge = ok.node!.channelLocalMsat + ok.node!.chainMsat;
    await A.wallet.fund('user:phantom', huge, 'not backed by the node');
    const bad = await tr.audit();
    assert.equal(bad.ok, false);
    assert.match(bad.problems[0]!, /the node holds \d+ msat less than the ledger owes/);
  });
});
