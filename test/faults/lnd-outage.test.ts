// Fault injection: the wallet backend (LND) disappears and returns (docs/reliability.md, "Fault
// injection"). test/lnd.test.ts and test/lnd-dvm.test.ts already cover LND down at start, a refund
// while LND is down, a payment whose outcome was lost, and a delivery that finds LND down (refund).
// The gap covered here: LND goes away while a job's escrow is held (the auction is running) and
// comes back before delivery: the job is delivered and the HTLC settled exactly once, the books
// balance, and a job paid after the outage goes through (the invoice subscription came back).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LndWallet } from '../../wallet/lnd/wallet.js';
import { checkBooks, Customer, path, SAMPLE_TEXT, sleep, startTestInstance, until, untilState } from '../support/dvm.js';
import { lndPair, tempLndWallet, REAL_LND, type LndPair, type TempLndWallet } from '../support/test-lnd/pair.js';

const FUNDS = 10_000_000;

describe('LND goes away mid-job and comes back', { skip: REAL_LND ? 'needs the test LND (it stops the node)' : false }, () => {
  let pair: LndPair;
  let B: TempLndWallet;

  before(async () => {
    pair = await lndPair();
    B = await tempLndWallet(pair.b);
    await B.wallet.fund('user:customer', FUNDS, 'test funds');
  });
  after(async () => {
    await B?.cleanup();
    await pair?.close();
  });

  async function payFromOutside(c: Customer, id: string) {
    const fb = await until('payment-required', () => c.feedback(id, 'payment-required')[0]);
    const tag = fb.tags.find((t) => t[0] === 'amount')!;
    const paying = B.wallet.pay({ bolt11: tag[2]!, fromAccount: 'user:customer' });
    paying.catch(() => undefined);
    return { amount: Number(tag[1]), paying };
  }

  it('escrow held while LND is down; LND returns before delivery: delivered, settled exactly once, books balance', async () => {
    const lnd = pair.a.testLnd!;
    const t = await startTestInstance({
      wallet: { backend: 'lnd', lnd: { ...pair.a.connection(), timeoutMs: 500 } },
      dvm: { auction: { commitMs: 3000, revealMs: 500 } },
    });
    const c = new Customer(t.inst.relayUrl!);
    try {
      assert.ok(t.wallet instanceof LndWallet);
      const before = B.wallet.ledger.balance('user:customer');
      const req = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text'], ['param', 'max_sentences', '1']] });
      const { amount, paying } = await payFromOutside(c, req.id);
      const job = await untilState(t.jobs, req.id, 'bidding', 20_000);
      assert.equal((await t.wallet.getEscrow(req.id))?.status, 'held');

      await lnd.stop(); // gone while the auction runs, the HTLC held on the node
      await sleep(1200);
      assert.equal(t.jobs.get(req.id)?.state, 'bidding', 'the job waits for its auction, it is not failed by the outage');
      assert.equal(lnd.node.invoices.get(job.paymentHash!)?.state, 'ACCEPTED');
      await lnd.start(); // back before the auction ends

      await untilState(t.jobs, req.id, 'delivered', 20_000);
      const paid = await paying;
      assert.deepEqual(path(t.jobs, req.id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'delivered']);
      assert.equal(lnd.node.invoices.get(job.paymentHash!)?.state, 'SETTLED');
      const escrow = await t.wallet.getEscrow(req.id);
      assert.equal(escrow?.status, 'released');
      assert.equal(escrow!.releasedMsat + escrow!.feeMsat, amount);
      // Exactly once: what came in over Lightning is the amount, not twice it; the customer paid once.
      assert.equal(t.wallet.ledger.balance('external'), -amount);
      assert.equal(B.wallet.ledger.balance('user:customer'), before - amount - paid.feeMsat);
      await until('one result', () => (c.results(req.id).length >= 1 ? true : undefined));
      await sleep(500);
      assert.equal(c.results(req.id).length, 1, 'one result');
      await checkBooks(t);

      // After the outage, a new job is paid and settled (the invoice subscription came back).
      const req2 = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text'], ['param', 'max_sentences', '1']] });
      const second = await payFromOutside(c, req2.id);
      await untilState(t.jobs, req2.id, 'delivered', 20_000);
      await second.paying;
      assert.equal(t.wallet.ledger.balance('external'), -amount - second.amount);
      await checkBooks(t);
    } finally {
      await pair.a.testLnd?.start();
      await c.close();
      await t.close();
    }
  });
});
