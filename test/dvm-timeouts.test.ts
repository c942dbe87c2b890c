// End to end through the real relay: the DVM's clocks. A job whose winner runs past the job timeout
// goes to the next bidder, and fails and is refunded when no bidder is left; an invoice not paid in
// time fails the job with a clear message and can no longer be paid. The books and the job store
// are checked after each test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fakeOllama, FUNDS, path, statusText, until, untilState, withInstance } from './support/dvm.js';

describe('DVM timeouts, end to end', () => {
  it('reassigns a job whose winner times out, and fails and refunds it when no bidder is left', async () => {
    const llm = await fakeOllama(4000);
    try {
      const config = { dvm: { jobTimeoutSeconds: 1 }, llm: { providers: [{ type: 'ollama', baseUrl: llm.url, model: 'fake' }] } };
      await withInstance(config, async (t, c, account) => {
        const req = await c.request({ kind: 5050, tags: [['i', 'Take your time.', 'text']] });
        await c.pay(t.wallet, req.id, account);
        const err = await until('error feedback', () => c.feedback(req.id, 'error')[0], 10_000);
        assert.match(statusText(err), /^\w+ failed \(timed out\); no other bidder is left$/);
        await untilState(t.jobs, req.id, 'refunded');
        assert.deepEqual(path(t.jobs, req.id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'assigned', 'executing', 'failed', 'refunded']);
        const reassigned = t.jobs.transitions(req.id)[5]!;
        assert.match(reassigned.reason, /^\w+ failed \(timed out\); reassigned to [0-9a-f]{12} at its price \d+ msat$/);
        // Each agent's model call was given up when its time ran out.
        assert.equal(llm.requests.length, 2);
        await until('both calls abandoned', () => (llm.requests.every((r) => r.abandoned) ? true : undefined));
        assert.equal(t.wallet.ledger.balance(account), FUNDS);
        assert.equal((await t.wallet.getEscrow(req.id))?.status, 'refunded');
        assert.equal(c.results(req.id).length, 0);
      });
    } finally {
      await llm.close();
    }
  });

  it('fails a job whose invoice is not paid in time, and the invoice can no longer be paid', async () => {
    await withInstance({ dvm: { paymentTimeoutSeconds: 10 } }, async (t, c, account) => {
      const req = await c.request({ kind: 5001, tags: [['i', 'Nobody pays for this. It will not run.', 'text']] });
      const fb = await until('payment-required', () => c.feedback(req.id, 'payment-required')[0]);
      const bolt11 = fb.tags.find((x) => x[0] === 'amount')![2]!;
      const err = await until('error feedback', () => c.feedback(req.id, 'error')[0], 15_000);
      assert.equal(statusText(err), 'the invoice was not paid in time');
      await untilState(t.jobs, req.id, 'failed');
      assert.deepEqual(path(t.jobs, req.id), ['received', 'awaiting-payment', 'failed']);
      assert.equal(t.jobs.transitions(req.id).at(-1)!.reason, 'the invoice was not paid in time');
      await assert.rejects(t.wallet.pay({ bolt11, fromAccount: account }), /cancel/i);
      assert.equal(t.wallet.ledger.balance(account), FUNDS);
    });
  });
});
