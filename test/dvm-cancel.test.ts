// End to end through the real relay: a customer cancels its job by deleting the request (NIP-09
// kind 5 with the request's `e`). Paid jobs are refunded from wherever they stood (executing,
// bidding), unpaid ones lose their invoice, deletions by anyone else are ignored, and a deletion
// published while the instance was down cancels the job when it comes back. After each test the
// ledger audits clean, no finished job holds escrow or an open invoice, and every job's
// transitions are persisted with reasons.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { relayConfigSchema } from '../relay/config.js';
import { InProcessClient } from '../relay/inprocess-client.js';
import { EmbeddedRelay } from '../relay/relay.js';
import { checkBooks, Customer, FUNDS, path, sleep, startTestInstance, until, untilState, withInstance } from './support/dvm.js';

const TEXT = 'A job to cancel. It has two sentences.';

describe('DVM cancellations, end to end', () => {
  it('cancels a paid job when the customer deletes its request (NIP-09): refunded, balance restored, no result', async () => {
    await withInstance({}, async (t, c, account) => {
      // A chained input that never arrives keeps the job executing.
      const never = randomBytes(32).toString('hex');
      const req = await c.request({ kind: 5001, tags: [['i', never, 'job']] });
      const paid = await c.pay(t.wallet, req.id, account);
      assert.ok(paid > 0);
      await untilState(t.jobs, req.id, 'executing');
      assert.equal(t.wallet.ledger.balance(account), FUNDS - paid);
      assert.equal((await t.wallet.getEscrow(req.id))?.status, 'held');

      // Someone else's deletion of the request is not a cancellation.
      const stranger = new Customer(t.inst.relayUrl!);
      try {
        await stranger.publish({ kind: 5, tags: [['e', req.id], ['k', '5001']] });
      } finally {
        await stranger.close();
      }
      await sleep(300);
      assert.equal(t.jobs.get(req.id)?.state, 'executing');

      await c.publish({ kind: 5, content: 'never mind', tags: [['e', req.id], ['k', '5001']] });
      const job = await untilState(t.jobs, req.id, 'refunded');
      assert.deepEqual(path(t.jobs, req.id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'cancelled', 'refunded']);
      const ts = t.jobs.transitions(req.id);
      assert.match(ts.find((x) => x.to === 'cancelled')!.reason, /cancelled by the customer/);
      assert.equal(t.wallet.ledger.balance(account), FUNDS, 'the customer has all its money back');
      const escrow = await t.wallet.getEscrow(req.id);
      assert.equal(escrow?.status, 'refunded');
      assert.equal(escrow?.refundedMsat, paid);
      assert.equal(t.wallet.ledger.balance(`agent:${t.inst.services!.swarm.agents.find((a) => a.pubkey === job.agent)!.name}`), 0);
      await sleep(300);
      assert.equal(c.results(req.id).length, 0, 'no result for a cancelled job');
      assert.equal(t.jobs.get(req.id)?.state, 'refunded');
    });
  });

  it('cancels a job deleted before it was paid: the invoice can no longer be paid', async () => {
    await withInstance({}, async (t, c, account) => {
      const req = await c.request({ kind: 5001, tags: [['i', TEXT, 'text']] });
      const fb = await until('payment-required', () => c.feedback(req.id, 'payment-required')[0]);
      const bolt11 = fb.tags.find((x) => x[0] === 'amount')![2]!;
      await c.publish({ kind: 5, tags: [['e', req.id], ['k', '5001']] });
      await untilState(t.jobs, req.id, 'cancelled');
      await sleep(200);
      await assert.rejects(t.wallet.pay({ bolt11, fromAccount: account }), /cancel/i);
      assert.equal(t.wallet.ledger.balance(account), FUNDS);
      assert.deepEqual(path(t.jobs, req.id), ['received', 'awaiting-payment', 'cancelled']);
    });
  });

  it('cancels a paid job during its auction: refunded at once, the auction\'s outcome is ignored', async () => {
    await withInstance({ dvm: { auction: { commitMs: 2500, revealMs: 500 } } }, async (t, c, account) => {
      const req = await c.request({ kind: 5001, tags: [['i', TEXT, 'text']] });
      await c.pay(t.wallet, req.id, account);
      await untilState(t.jobs, req.id, 'bidding');
      const started = Date.now();
      await c.publish({ kind: 5, tags: [['e', req.id], ['k', '5001']] });
      await untilState(t.jobs, req.id, 'refunded');
      assert.ok(Date.now() - started < 2000, 'the cancellation did not wait for the auction');
      assert.equal(t.wallet.ledger.balance(account), FUNDS);
      // The auction still ends on the relay, but the job stays refunded: nobody is assigned, nothing runs.
      await until('auction result', async () => ((await t.inst.client.query([{ kinds: [7283], '#e': [req.id] }])).length > 0 ? true : undefined), 5000);
      await sleep(300);
      assert.deepEqual(path(t.jobs, req.id), ['received', 'awaiting-payment', 'bidding', 'cancelled', 'refunded']);
      assert.equal(t.jobs.get(req.id)?.agent, null);
      assert.equal(c.results(req.id).length, 0);
      assert.equal(c.feedback(req.id, 'processing').length, 0);
    });
  });

  it('cancels a job whose deletion was published while the instance was down', async () => {
    let t = await startTestInstance();
    const dir = t.dir;
    let c = new Customer(t.inst.relayUrl!);
    const account = `customer:${c.pk.slice(0, 16)}`;
    let id = '';
    let paid = 0;
    try {
      await t.wallet.fund(account, FUNDS, 'test funds');
      // Waits for a chained input that never comes.
      id = (await c.request({ kind: 5001, tags: [['i', randomBytes(32).toString('hex'), 'job']] })).id;
      paid = await c.pay(t.wallet, id, account);
      await untilState(t.jobs, id, 'executing');
    } finally {
      await c.close();
      await t.close(true);
    }
    // While the DVM is down, the relay alone (on the same data dir) takes the customer's deletion.
    const relay = await EmbeddedRelay.open(relayConfigSchema.parse({ ingestWorkers: 1, readerThreads: 1 }), dir);
    const client = await InProcessClient.open(relay);
    assert.ok((await client.publish(c.keys.sign({ kind: 5, tags: [['e', id], ['k', '5001']] }))).ok);
    await client.close();
    await relay.close();

    t = await startTestInstance({}, dir);
    try {
      await untilState(t.jobs, id, 'refunded');
      assert.deepEqual(path(t.jobs, id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'executing', 'cancelled', 'refunded']);
      assert.equal(t.wallet.ledger.balance(account), FUNDS, `${paid} msat came back`);
      await checkBooks(t);
      // The resumed job's step ended with the cancellation (it was aborted before it started waiting
      // for its input): the instance stops at once instead of waiting for it.
      const closing = Date.now();
      await t.close();
      assert.ok(Date.now() - closing < 2000, `closed in ${Date.now() - closing} ms`);
    } finally {
      await t.close();
    }
  });
});
