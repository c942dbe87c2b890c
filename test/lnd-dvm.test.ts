// Whole DVM jobs paid "from outside" over Lightning: an instance whose wallet is the LND backend on
// node A, a customer who pays the job's hold invoice from an LndWallet on node B. The payment is
// the job's escrow (an HTLC that A's LND holds): settled on delivery, cancelled when the job
// fails, and still held across a restart of the instance. Test LNDs by default; real regtest
// nodes with TIMMY_TEST_LND_* set (test/support/test-lnd/pair.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { LndWallet } from '../wallet/lnd/wallet.js';
import { PaymentFailedError } from '../wallet/lnd/errors.js';
import { checkBooks, closedPort, Customer, path, SAMPLE_TEXT, sleep, startTestInstance, until, untilState, type TestInstance } from './support/dvm.js';
import { lndPair, tempLndWallet, REAL_LND, type LndPair, type TempLndWallet } from './support/test-lnd/pair.js';

const sha = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
const FUNDS = 10_000_000;

function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

describe('DVM jobs paid over Lightning (LND backend)', () => {
  let pair: LndPair;
  let B: TempLndWallet;
  const lndConfig = (extra: Record<string, unknown> = {}) => ({ wallet: { backend: 'lnd', lnd: { ...pair.a.connection(), timeoutMs: 2000 } }, ...extra });

  before(async () => {
    pair = await lndPair();
    B = await tempLndWallet(pair.b);
    await B.wallet.fund('user:customer', FUNDS, 'test funds');
  });
  after(async () => {
    await B?.cleanup();
    await pair?.close();
  });

  /** Waits for payment-required and starts paying the invoice from node B (it resolves when A settles). */
  async function payFromOutside(c: Customer, id: string): Promise<{ bolt11: string; amount: number; paying: Promise<Awaited<ReturnType<LndWallet['pay']>>> }> {
    const fb = await until('payment-required', () => c.feedback(id, 'payment-required')[0]);
    const tag = fb.tags.find((t) => t[0] === 'amount')!;
    const bolt11 = tag[2]!;
    return { bolt11, amount: Number(tag[1]), paying: later(B.wallet.pay({ bolt11, fromAccount: 'user:customer' })) };
  }

  it('delivers a job paid from another node: the hold invoice is the escrow, settled on delivery', async () => {
    const t = await startTestInstance(lndConfig());
    const c = new Customer(t.inst.relayUrl!);
    try {
      assert.ok(t.wallet instanceof LndWallet, 'the instance runs the LND backend');
      assert.equal((await t.wallet.info()).backend, 'lnd');
      const before = B.wallet.ledger.balance('user:customer');
      const req = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text'], ['param', 'max_sentences', '2']] });
      const { bolt11, amount, paying } = await payFromOutside(c, req.id);
      const decoded = await t.wallet.decode(bolt11);
      assert.equal(decoded.payee, (t.wallet as LndWallet).lndPubkey, "the invoice is A's LND's");

      const job = await untilState(t.jobs, req.id, 'delivered', 20_000);
      const paid = await paying;
      assert.equal(sha(paid.preimage), job.paymentHash);
      assert.ok(c.results(req.id).length === 1 || (await until('result', () => c.results(req.id)[0])));
      assert.deepEqual(path(t.jobs, req.id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'delivered']);

      const inv = await t.wallet.lookupInvoice(job.paymentHash!);
      assert.equal(inv?.status, 'paid');
      assert.equal(inv?.paidBy, 'external');
      const escrow = await t.wallet.getEscrow(req.id);
      assert.equal(escrow?.status, 'released');
      assert.equal(escrow?.payer, 'external');
      assert.equal(escrow!.releasedMsat + escrow!.feeMsat, amount);
      assert.equal(t.wallet.ledger.balance('external'), -amount, 'what came in over Lightning');
      if (pair.a.testLnd) assert.equal(pair.a.testLnd.node.invoices.get(job.paymentHash!)?.state, 'SETTLED');
      // The job label carries the proof of payment: the preimage, now that the HTLC is settled.
      assert.deepEqual(await t.wallet.paymentProof(job.paymentHash!), { bolt11, preimage: paid.preimage });
      assert.equal(B.wallet.ledger.balance('user:customer'), before - amount - paid.feeMsat);
      await checkBooks(t);
    } finally {
      await c.close();
      await t.close();
    }
  });

  it('refunds a job that fails: the HTLC is cancelled and the customer node gets the money back', async () => {
    const port = await closedPort();
    const t = await startTestInstance(lndConfig({ llm: { providers: [{ type: 'ollama', baseUrl: `http://127.0.0.1:${port}`, model: 'llama3.2' }] } }));
    const c = new Customer(t.inst.relayUrl!);
    try {
      const before = B.wallet.ledger.balance('user:customer');
      const req = await c.request({ kind: 5050, tags: [['i', 'Say hello.', 'text']] });
      const { paying } = await payFromOutside(c, req.id);
      const job = await untilState(t.jobs, req.id, 'refunded', 20_000);
      await assert.rejects(paying, PaymentFailedError);
      assert.deepEqual(path(t.jobs, req.id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'failed', 'refunded']);
      assert.equal((await t.wallet.getEscrow(req.id))?.status, 'refunded');
      assert.equal((await t.wallet.lookupInvoice(job.paymentHash!))?.status, 'cancelled');
      assert.equal(await t.wallet.paymentProof(job.paymentHash!), null, 'no proof of payment for money that went back');
      if (pair.a.testLnd) assert.equal(pair.a.testLnd.node.invoices.get(job.paymentHash!)?.state, 'CANCELED');
      assert.equal(B.wallet.ledger.balance('user:customer'), before, "the customer's debit came back");
      assert.equal(t.wallet.ledger.balance('external'), 0);
      await checkBooks(t);
    } finally {
      await c.close();
      await t.close();
    }
  });

  it('refunds a job whose delivery finds LND down: nothing is settled or lost, the HTLC goes back once LND returns', { skip: REAL_LND ? 'needs the test LND (it stops the node)' : false }, async () => {
    if (!pair.a.testLnd) return;
    const slow = { dvm: { auction: { commitMs: 1500, revealMs: 500 } } };
    const t = await startTestInstance({ ...lndConfig(slow), wallet: { backend: 'lnd', lnd: { ...pair.a.connection(), timeoutMs: 500 } } });
    const c = new Customer(t.inst.relayUrl!);
    try {
      const before = B.wallet.ledger.balance('user:customer');
      const req = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text'], ['param', 'max_sentences', '1']] });
      const { paying } = await payFromOutside(c, req.id);
      const job = await untilState(t.jobs, req.id, 'bidding');
      await pair.a.testLnd.stop(); // LND goes away while the auction runs
      await untilState(t.jobs, req.id, 'refunded', 20_000);
      const ts = t.jobs.transitions(req.id);
      assert.match(ts.find((x) => x.to === 'failed')!.reason, /cannot reach LND|did not answer/);
      assert.equal((await t.wallet.getEscrow(req.id))?.status, 'refunded');
      assert.equal(pair.a.testLnd.node.invoices.get(job.paymentHash!)?.state, 'ACCEPTED', 'never settled');
      await pair.a.testLnd.start();
      await assert.rejects(paying, PaymentFailedError);
      assert.equal(pair.a.testLnd.node.invoices.get(job.paymentHash!)?.state, 'CANCELED');
      assert.equal(B.wallet.ledger.balance('user:customer'), before);
      assert.equal(t.wallet.ledger.balance('external'), 0);
      await checkBooks(t);
    } finally {
      await pair.a.testLnd.start();
      await c.close();
      await t.close();
    }
  });

  it('starts on the built-in wallet when LND is down at start (and logs a warning saying so)', async () => {
    const port = await closedPort();
    const t = await startTestInstance({ wallet: { backend: 'lnd', lnd: { ...pair.a.connection(), socket: `localhost:${port}`, probeTimeoutMs: 1000 } } });
    try {
      assert.ok(!(t.wallet instanceof LndWallet));
      assert.equal((await t.wallet.info()).backend, 'builtin');
      const inv = await t.wallet.createInvoice({ amountMsat: 1_000, account: 'agent:x' });
      assert.match(inv.bolt11, /^lnbcrt/);
    } finally {
      await t.close();
    }
  });

  it('keeps a held payment across a restart of the instance: still ACCEPTED on the node, and the job goes on', async () => {
    const slow = { dvm: { auction: { commitMs: 3000, revealMs: 1000 } } };
    let t: TestInstance = await startTestInstance(lndConfig(slow));
    const dir = t.dir;
    let c = new Customer(t.inst.relayUrl!);
    let id = '';
    let paying: Promise<unknown> | undefined;
    let hash = '';
    try {
      const req = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text'], ['param', 'max_sentences', '1']] });
      id = req.id;
      ({ paying } = await payFromOutside(c, req.id));
      const job = await untilState(t.jobs, req.id, 'bidding');
      hash = job.paymentHash!;
      assert.equal((await t.wallet.getEscrow(id))?.status, 'held');
      await sleep(200);
    } finally {
      await c.close();
      await t.close(true);
    }
    if (pair.a.testLnd) assert.equal(pair.a.testLnd.node.invoices.get(hash)?.state, 'ACCEPTED', 'the node still holds the payment');
    await sleep(300);

    t = await startTestInstance(lndConfig({ dvm: { auction: { commitMs: 300, revealMs: 300 } } }), dir);
    c = new Customer(t.inst.relayUrl!);
    try {
      await c.listen(id);
      await untilState(t.jobs, id, 'delivered', 20_000);
      await paying;
      assert.equal((await t.wallet.getEscrow(id))?.status, 'released');
      assert.equal((await t.wallet.lookupInvoice(hash))?.status, 'paid');
      if (pair.a.testLnd) assert.equal(pair.a.testLnd.node.invoices.get(hash)?.state, 'SETTLED');
      await checkBooks(t);
    } finally {
      await c.close();
      await t.close();
    }
  });
});
