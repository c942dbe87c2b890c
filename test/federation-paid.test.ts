// Paid jobs between instances (docs/federation.md, "Paid jobs between instances"): three
// instances, each on the LND backend with its own node of one test Lightning network (test LNDs
// speaking LND's gRPC protos: no LND binary exists here); the customer pays from a fourth node.
//   1. Forwarding: A serves no 5001; B's scribe does, at a price. The customer's request to A is
//      quoted by B, A asks its customer for B's price plus its fee, pays B's hold invoice from its
//      treasury once paid, and delivers B's result; the escrow pays the treasury back, keeps the fee.
//   2. A request B fails after payment is refunded on both sides (both HTLCs go back).
//   3. One the customer cancels before paying is withdrawn from B (its invoice cancelled).
//   4. An outside winner: C's cheaper agent wins A's auction for a paid 5400 job, delivers with its
//      invoice, and A pays it: C's agent's account holds the second price.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBooks, closedPort, Customer, path, SAMPLE_TEXT, sleep, startTestInstance, until, untilState, type TestInstance } from './support/dvm.js';
import { startTestRelay } from './support/relay.js';
import { ROOT } from './support/cli.js';
import { testNetwork, type TestNetwork } from './support/test-lnd/index.js';
import { tempLndWallet, type TempLndWallet } from './support/test-lnd/pair.js';
import { PaymentFailedError } from '../wallet/lnd/errors.js';
import { INVOICE_TAG } from '../dvm/federation/outside-result.js';

const COUNT = 5400;
const SUMMARY = 5001;
const TREASURY = 10_000_000;

function tally(baseMsat: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-personas-'));
  writeFileSync(join(dir, 'tally.json'), JSON.stringify({ name: 'tally', displayName: 'Tally', about: 'counts', kinds: [COUNT], pricing: { baseMsat, perUnitMsat: 0 }, bidding: { exploration: 0 } }));
  return dir;
}

function scribeOnly(): string {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-personas-'));
  copyFileSync(join(ROOT, 'agents/personas/default', 'scribe.json'), join(dir, 'scribe.json'));
  return dir;
}

const coordinator = (t: TestInstance): string => t.inst.services!.coordinatorPubkey;
const agentOf = (t: TestInstance): string => t.inst.services!.swarm.agents[0]!.pubkey;
const later = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => undefined);
  return p;
};

describe('paid jobs between instances (LND backends)', { timeout: 300_000 }, () => {
  let net: TestNetwork<'a' | 'b' | 'c' | 'cust'>;
  let payer: TempLndWallet;
  const lnd = (n: 'a' | 'b' | 'c') => ({ wallet: { backend: 'lnd', lnd: { ...net.nodes[n].connection(), timeoutMs: 3000 } } });

  before(async () => {
    net = await testNetwork(
      ['a', 'b', 'c', 'cust'],
      [
        ['cust', 'a', 5_000_000_000],
        ['a', 'b', 2_000_000_000],
        ['a', 'c', 2_000_000_000],
      ],
    );
    payer = await tempLndWallet({ name: 'b', connection: () => net.nodes.cust.connection(), testLnd: net.nodes.cust });
    await payer.wallet.fund('user:customer', 100_000_000, 'test funds');
  });
  after(async () => {
    await payer?.cleanup();
    await net?.close();
  });

  /** Waits for A's payment-required and pays it from the customer's node (resolves when A settles). */
  async function pay(c: Customer, id: string): Promise<{ amount: number; paying: ReturnType<typeof payer.wallet.pay> }> {
    const fb = await until('payment-required', () => c.feedback(id, 'payment-required')[0], 30_000);
    const amount = fb.tags.find((t) => t[0] === 'amount')!;
    return { amount: Number(amount[1]), paying: later(payer.wallet.pay({ bolt11: amount[2]!, fromAccount: 'user:customer' })) };
  }

  it('three instances: a paid job forwarded to B, an outside agent of C paid for winning on A', async () => {
    const shared = await startTestRelay();
    const windows = { commitMs: 500, revealMs: 500 };
    const paid = { freeKinds: [], auction: windows };
    const a = await startTestInstance({ ...lnd('a'), relays: [shared.url], agents: { personasDir: tally(1_000_000) }, dvm: { ...paid, jobTimeoutSeconds: 6 }, federation: { name: 'alpha', auctions: 'peers' } });
    const b = await startTestInstance({ ...lnd('b'), relays: [shared.url], agents: { personasDir: scribeOnly() }, dvm: paid, federation: { name: 'beta' } });
    const c = await startTestInstance({ ...lnd('c'), relays: [shared.url], agents: { personasDir: tally(300) }, dvm: paid, federation: { name: 'gamma', bidOnPeers: true } });
    // Kinds only peers serve are heard on A's own relay; auctions are seen by C on the shared one.
    const customer = new Customer(a.inst.relayUrl!);
    const onShared = new Customer(shared.url);
    try {
      await a.wallet.fund('treasury', TREASURY, 'float for paying peers');
      const dir = a.inst.services!.federation!.directory;
      await until('A knows B, announcing Lightning', () => (dir.get(coordinator(b))?.announcement.lightning ? true : undefined), 30_000);
      await until('A knows C', () => (dir.instanceOf(agentOf(c))?.announcement.lightning ? true : undefined), 30_000);
      await until('C sees A', () => (c.inst.services!.federation!.directory.get(coordinator(a))?.announcement.auctions === 'peers' ? true : undefined), 30_000);
      await sleep(1200); // A's DVM listens for the kinds only peers serve
      const before = payer.wallet.ledger.balance('user:customer');

      // 1. Forwarded and paid on both sides: a summary only B's scribe makes.
      const r1 = await customer.request({ kind: SUMMARY, tags: [['i', SAMPLE_TEXT, 'text'], ['param', 'max_sentences', '2']] });
      const { amount, paying } = await pay(customer, r1.id);
      const j1 = await untilState(a.jobs, r1.id, ['delivered', 'failed'], 40_000);
      assert.equal(j1.state, 'delivered', JSON.stringify(a.jobs.transitions(r1.id).map((t) => t.reason)));
      assert.deepEqual(path(a.jobs, r1.id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'executing', 'delivered']);
      assert.equal(j1.forwardedTo, coordinator(b));
      const sub = b.jobs.get(j1.forwardId!);
      assert.ok(sub, 'B has the forwarded request as a job');
      assert.equal(sub.customer, coordinator(a), "A's coordinator is B's customer");
      assert.equal(sub.state, 'delivered');
      // The price: what B asked, plus 10 % (federation.forward.feePct).
      assert.equal(amount, sub.priceMsat + Math.ceil(sub.priceMsat / 10));
      await paying;
      const result = await until('the customer has the result', () => customer.results(r1.id)[0], 10_000);
      assert.equal(result.pubkey, coordinator(a));
      assert.equal(result.tags.find((t) => t[0] === 'forwarded')?.[1], coordinator(b));
      // A's books: the treasury got its float back, A kept its fee; B's agent was paid from B's escrow.
      assert.equal(a.wallet.ledger.balance('treasury'), TREASURY);
      assert.equal(a.wallet.ledger.balance('fees'), amount - sub.priceMsat);
      assert.equal((await a.wallet.getEscrow(r1.id))?.status, 'released');
      assert.equal((await b.wallet.getEscrow(sub.id))?.status, 'released');
      assert.equal(b.wallet.ledger.balance('external'), -sub.priceMsat, 'B received the price over Lightning');
      assert.equal(payer.wallet.ledger.balance('user:customer'), before - amount);
      const fees = a.wallet.ledger.balance('fees');

      // 2. B fails the job after it was paid (its input cannot be fetched): nobody keeps money.
      const r2 = await customer.request({ kind: SUMMARY, tags: [['i', `http://127.0.0.1:${await closedPort()}/text`, 'url']] });
      const second = await pay(customer, r2.id);
      await assert.rejects(second.paying, PaymentFailedError);
      await untilState(a.jobs, r2.id, 'refunded', 30_000);
      assert.match(a.jobs.transitions(r2.id).find((t) => t.to === 'failed')!.reason, /the peer instance beta failed the job/);
      const sub2 = a.jobs.get(r2.id)!.forwardId!;
      await untilState(b.jobs, sub2, 'refunded', 20_000);
      const err = await until('the customer is told', () => customer.feedback(r2.id, 'error')[0], 10_000);
      assert.match(err.tags.find((t) => t[0] === 'status')?.[2] ?? '', /beta/);
      assert.equal(a.wallet.ledger.balance('treasury'), TREASURY, 'the float came back');
      assert.equal(payer.wallet.ledger.balance('user:customer'), before - amount, "the customer's second payment came back");

      // 3. The customer cancels while asked to pay: A withdraws its request and B cancels its invoice.
      const r3 = await customer.request({ kind: SUMMARY, tags: [['i', SAMPLE_TEXT.slice(0, 400), 'text']] });
      await until('payment-required', () => customer.feedback(r3.id, 'payment-required')[0], 30_000);
      const sub3 = a.jobs.get(r3.id)!.forwardId!;
      await customer.publish({ kind: 5, tags: [['e', r3.id], ['k', String(SUMMARY)]] });
      await untilState(a.jobs, r3.id, 'cancelled');
      await untilState(b.jobs, sub3, 'cancelled', 20_000);
      assert.equal((await b.wallet.lookupInvoice(b.jobs.get(sub3)!.paymentHash!))?.status, 'cancelled', "B's invoice can no longer be paid");

      // 4. C's cheaper agent wins A's auction for a paid count, delivers with its invoice, is paid.
      const r4 = await onShared.request({ kind: COUNT, tags: [['i', JSON.stringify([{ kinds: [1] }]), 'text'], ['p', agentOf(a)]] });
      const fourth = await pay(onShared, r4.id);
      const j4 = await untilState(a.jobs, r4.id, ['delivered', 'failed', 'refunded'], 40_000);
      assert.equal(j4.state, 'delivered', JSON.stringify(a.jobs.transitions(r4.id).map((t) => t.reason)));
      assert.equal(j4.agent, agentOf(c), "C's agent won");
      await fourth.paying;
      const res = await until('the result', () => onShared.results(r4.id)[0], 10_000);
      assert.equal(res.pubkey, agentOf(c));
      assert.ok(res.tags.find((t) => t[0] === INVOICE_TAG)?.[1], "the result carries the agent's invoice");
      assert.equal(res.tags.find((t) => t[0] === 'amount'), undefined, 'the customer is not asked to pay again');
      const price = j4.agentPriceMsat!;
      assert.ok(price > 0 && price <= fourth.amount);
      // C's books: its agent holds the second price, paid over Lightning.
      const cAgent = c.inst.services!.swarm.agents[0]!.account;
      await until("C's agent is paid", () => (c.wallet.ledger.balance(cAgent) === price ? true : undefined), 10_000);
      assert.equal(c.wallet.ledger.balance('external'), -price);
      // A's books: the treasury fronted and was paid back; A keeps the rest of what the customer paid.
      assert.equal(a.wallet.ledger.balance('treasury'), TREASURY);
      assert.equal(a.wallet.ledger.balance('fees'), fees + fourth.amount - price);
      assert.ok(a.jobs.transitions(r4.id).some((t) => /paid outside agent .* over Lightning/.test(t.reason)));
      await sleep(500);
      for (const t of [a, b, c]) await checkBooks(t);
    } finally {
      await customer.close();
      await onShared.close();
      for (const t of [a, b, c]) await t.close();
      await shared.stop();
    }
  });
});
