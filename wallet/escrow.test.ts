// Escrow per job: a job's invoice pays into escrow; release to the winner (+ fee) or refund to
// the payer, each exactly once however often it is retried. Also the DVM's PaymentPort adapter.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from './errors.js';
import { paymentPort } from './payment-port.js';
import { tempWallet, type TempWallet } from './testing.js';

describe('escrow', () => {
  let t: TempWallet;
  beforeEach(async () => {
    t = tempWallet();
    await t.wallet.fund('customer:c1', 100_000);
  });
  afterEach(() => t.cleanup());

  async function paidJob(jobId: string, amountMsat: number) {
    const inv = await t.wallet.createInvoice({ amountMsat, description: `job ${jobId}`, jobId });
    assert.equal(inv.account, `escrow:${jobId}`);
    await t.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'customer:c1' });
    return inv;
  }

  it('a paid job invoice is held; release pays the winner and the fee, the rest goes to fees', async () => {
    const w = t.wallet;
    await paidJob('job1', 10_000);
    const held = await w.getEscrow('job1');
    assert.equal(held?.status, 'held');
    assert.equal(held?.payer, 'customer:c1');
    assert.equal(await w.balance('escrow:job1'), 10_000);
    assert.equal(await w.balance('customer:c1'), 90_000);

    const r = await w.release({ jobId: 'job1', toAccount: 'agent:winner', amountMsat: 7000, feeMsat: 500 });
    assert.equal(r.status, 'released');
    assert.equal(r.releasedTo, 'agent:winner');
    assert.equal(r.releasedMsat, 7000);
    assert.equal(r.feeMsat, 3000); // 500 fee + 2500 surplus
    assert.equal(await w.balance('agent:winner'), 7000);
    assert.equal(await w.balance('fees'), 3000);
    assert.equal(await w.balance('escrow:job1'), 0);

    // Retries count once; a different winner or a refund is refused.
    const txs = w.ledger.audit().transactions;
    assert.deepEqual(await w.release({ jobId: 'job1', toAccount: 'agent:winner', amountMsat: 7000, feeMsat: 500 }), r);
    await assert.rejects(w.release({ jobId: 'job1', toAccount: 'agent:other', amountMsat: 7000, feeMsat: 500 }), E.EscrowStateError);
    await assert.rejects(w.refund('job1', 'too late'), E.EscrowStateError);
    assert.equal(w.ledger.audit().transactions, txs);
    assert.equal(await w.balance('agent:winner'), 7000);
  });

  it('release with the remainder back to the payer, and by default everything minus the fee to the winner', async () => {
    const w = t.wallet;
    await paidJob('job2', 10_000);
    await w.release({ jobId: 'job2', toAccount: 'agent:a', amountMsat: 6000, feeMsat: 1000, remainderTo: 'payer' });
    assert.equal(await w.balance('agent:a'), 6000);
    assert.equal(await w.balance('fees'), 1000);
    assert.equal(await w.balance('customer:c1'), 93_000);
    await paidJob('job3', 5000);
    const r = await w.release({ jobId: 'job3', toAccount: 'agent:b', feeMsat: 100 });
    assert.equal(r.releasedMsat, 4900);
    await paidJob('job4', 5000);
    await assert.rejects(w.release({ jobId: 'job4', toAccount: 'agent:b', amountMsat: 5000, feeMsat: 1 }), E.InvalidAmountError);
    await assert.rejects(w.release({ jobId: 'job4', toAccount: 'escrow:job3', amountMsat: 1 }), E.InvalidAccountError);
    await assert.rejects(w.release({ jobId: 'nope', toAccount: 'agent:b', amountMsat: 1 }), E.EscrowNotFoundError);
  });

  it('refund returns everything to the payer, once; release after refund is refused', async () => {
    const w = t.wallet;
    await paidJob('job5', 10_000);
    const r = await w.refund('job5', 'no agent could do it');
    assert.equal(r?.status, 'refunded');
    assert.equal(r?.refundedMsat, 10_000);
    assert.equal(r?.reason, 'no agent could do it');
    assert.equal(await w.balance('customer:c1'), 100_000);
    assert.deepEqual(await w.refund('job5', 'retry'), r);
    assert.equal(await w.balance('customer:c1'), 100_000);
    await assert.rejects(w.release({ jobId: 'job5', toAccount: 'agent:a', amountMsat: 1 }), E.EscrowStateError);
  });

  it('refunds go to refundAccount when the invoice names one', async () => {
    const w = t.wallet;
    const inv = await w.createInvoice({ amountMsat: 3000, jobId: 'job6', refundAccount: 'customer:npub-of-requester' });
    await w.pay({ bolt11: inv.bolt11, fromAccount: 'customer:c1' });
    await w.refund('job6');
    assert.equal(await w.balance('customer:npub-of-requester'), 3000);
  });

  it('refund before payment cancels the job\'s invoices: a late payment is refused', async () => {
    const w = t.wallet;
    const inv = await w.createInvoice({ amountMsat: 3000, jobId: 'job7' });
    assert.equal(await w.refund('job7', 'timed out'), null);
    assert.equal((await w.lookupInvoice(inv.paymentHash))?.status, 'cancelled');
    await assert.rejects(w.pay({ bolt11: inv.bolt11, fromAccount: 'customer:c1' }), E.InvoiceCancelledError);
    assert.equal(await w.balance('customer:c1'), 100_000);
  });

  it('the first paid invoice of a job cancels its other invoices; no invoice for a job already held', async () => {
    const w = t.wallet;
    const a = await w.createInvoice({ amountMsat: 3000, jobId: 'job8' });
    const b = await w.createInvoice({ amountMsat: 3000, jobId: 'job8' });
    await w.pay({ bolt11: a.bolt11, fromAccount: 'customer:c1' });
    assert.equal((await w.lookupInvoice(b.paymentHash))?.status, 'cancelled');
    await assert.rejects(w.pay({ bolt11: b.bolt11, fromAccount: 'customer:c1' }), E.InvoiceCancelledError);
    await assert.rejects(w.createInvoice({ amountMsat: 3000, jobId: 'job8' }), E.EscrowStateError);
  });

  it('hold from an account directly, idempotent per job', async () => {
    const w = t.wallet;
    const h = await w.hold({ jobId: 'job9', fromAccount: 'customer:c1', amountMsat: 4000 });
    assert.deepEqual(await w.hold({ jobId: 'job9', fromAccount: 'customer:c1', amountMsat: 4000 }), h);
    await assert.rejects(w.hold({ jobId: 'job9', fromAccount: 'customer:c1', amountMsat: 5000 }), E.EscrowStateError);
    assert.equal(await w.balance('customer:c1'), 96_000);
    await assert.rejects(w.hold({ jobId: 'job10', fromAccount: 'customer:c1', amountMsat: 1_000_000 }), E.InsufficientFundsError);
    assert.equal(await w.getEscrow('job10'), null);
    await w.release({ jobId: 'job9', toAccount: 'agent:a', amountMsat: 4000 });
    assert.equal(await w.balance('agent:a'), 4000);
    assert.equal(w.ledger.audit().totalMsat, 0);
  });

  it('lists escrows newest first, whatever their status, up to a limit', async () => {
    const w = t.wallet;
    assert.deepEqual(await w.escrows(), []);
    await paidJob('jobA', 1000);
    await w.hold({ jobId: 'jobB', fromAccount: 'customer:c1', amountMsat: 2000 });
    await paidJob('jobC', 3000);
    await w.release({ jobId: 'jobA', toAccount: 'agent:a', amountMsat: 900, feeMsat: 100 });
    await w.refund('jobB', 'nobody bid');
    const all = await w.escrows();
    assert.deepEqual(all.map((e) => [e.jobId, e.status]), [['jobC', 'held'], ['jobB', 'refunded'], ['jobA', 'released']]);
    assert.deepEqual(all[2], await w.getEscrow('jobA'));
    assert.equal(all[1]?.reason, 'nobody bid');
    assert.deepEqual((await w.escrows(2)).map((e) => e.jobId), ['jobC', 'jobB']);
  });

  it('survives a restart mid-escrow', async () => {
    await paidJob('job11', 8000);
    await t.wallet.close();
    const w = t.reopen();
    assert.equal((await w.getEscrow('job11'))?.status, 'held');
    await w.release({ jobId: 'job11', toAccount: 'agent:a', amountMsat: 8000 });
    assert.equal(await w.balance('agent:a'), 8000);
  });
});

describe('payment port (the DVM side)', () => {
  let t: TempWallet;
  beforeEach(async () => {
    t = tempWallet();
    await t.wallet.fund('user:customer', 50_000);
  });
  afterEach(() => t.cleanup());

  it('invoice for a job, wait until paid, release to the agent with the rest to fees', async () => {
    const port = paymentPort(t.wallet);
    const inv = await port.invoiceForJob('j1', 10_000, 'summarize');
    assert.equal(await port.isPaid(inv.paymentHash), false);
    const waiting = port.waitPaid(inv.paymentHash, new AbortController().signal);
    await t.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:customer' });
    assert.equal(await waiting, true);
    assert.equal(await port.isPaid(inv.paymentHash), true);
    await port.release('j1', 'agent:alice', 8000);
    await port.release('j1', 'agent:alice', 8000);
    assert.equal(await t.wallet.balance('agent:alice'), 8000);
    assert.equal(await t.wallet.balance('fees'), 2000);
  });

  it('waitPaid resolves false on cancel and expiry, and rejects on abort', async () => {
    const port = paymentPort(t.wallet, { expirySeconds: 30 });
    const a = await port.invoiceForJob('j2', 1000, 'x');
    const wa = port.waitPaid(a.paymentHash, new AbortController().signal);
    await port.refund('j2', 'cancelled by customer');
    assert.equal(await wa, false);

    const b = await port.invoiceForJob('j3', 1000, 'x');
    const wb = port.waitPaid(b.paymentHash, new AbortController().signal);
    t.clock.advance(30);
    assert.equal(await wb, false); // the poller notices the expiry

    const c = await port.invoiceForJob('j4', 1000, 'x');
    const ac = new AbortController();
    const wc = port.waitPaid(c.paymentHash, ac.signal);
    ac.abort(new Error('job cancelled'));
    await assert.rejects(wc, /job cancelled/);
  });
});
