// Paid jobs between instances (docs/federation.md, "Paid jobs between instances"): every instance
// runs the LND backend on its own node of one test Lightning network (test LNDs speaking LND's gRPC
// protos: no LND binary exists here), the customer pays from a fifth node.
//   1. Forwarding: A serves no 5400; B does, at a price. The customer's request to A is quoted by
//      B, A asks its customer for B's price plus its fee, pays B's hold invoice from its treasury
//      once paid, and delivers B's result; the escrow pays the treasury back and keeps the fee.
//      A request B fails is refunded on both sides (B's HTLC back to A, the customer's back to it);
//      one the customer cancels before paying is withdrawn from B (its invoice cancelled).
//   2. An outside winner: C's cheaper agent wins A's auction for a paid job, delivers with its
//      invoice, and A pays it: C's agent's account holds the second price.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBooks, Customer, path, sleep, startTestInstance, until, untilState, type TestInstance } from './support/dvm.js';
import { startTestRelay } from './support/relay.js';
import { ROOT } from './support/cli.js';
import { testNetwork, type TestNetwork } from './support/test-lnd/index.js';
import { tempLndWallet, type TempLndWallet } from './support/test-lnd/pair.js';
import { PaymentFailedError } from '../wallet/lnd/errors.js';
import { INVOICE_TAG } from '../dvm/federation/outside-result.js';

const COUNT = 5400;
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

  it('forwards a paid job: the peer quotes, the customer pays us, we pay the peer, the escrow pays us back', async () => {
    const shared = await startTestRelay();
    const windows = { commitMs: 400, revealMs: 400 };
    const paid = { freeKinds: [], auction: windows };
    const a = await startTestInstance({ ...lnd('a'), relays: [shared.url], agents: { personasDir: scribeOnly() }, dvm: paid, federation: { name: 'alpha' } });
    const b = await startTestInstance({ ...lnd('b'), relays: [shared.url], agents: { personasDir: tally(2000) }, dvm: paid, federation: { name: 'beta' } });
    const customer = new Customer(a.inst.relayUrl!);
    try {
      await a.wallet.fund('treasury', TREASURY, 'float for paying peers');
      const dir = a.inst.services!.federation!.directory;
      await until('A knows B, announcing Lightning', () => (dir.get(coordinator(b))?.announcement.lightning ? true : undefined), 30_000);
      await sleep(1200); // A's DVM listens for the kinds only peers serve
      const before = payer.wallet.ledger.balance('user:customer');

      // 1. Forwarded and paid on both sides.
      const r1 = await customer.request({ kind: COUNT, tags: [['i', JSON.stringify([{ kinds: [1] }]), 'text']] });
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

      // 2. B fails the job (its input is not a filter list): nobody keeps money.
      const r2 = await customer.request({ kind: COUNT, tags: [['i', 'not json', 'text']] });
      const second = await Promise.race([pay(customer, r2.id), untilState(a.jobs, r2.id, 'failed', 40_000).then(() => null)]);
      const j2 = await untilState(a.jobs, r2.id, ['failed', 'refunded', 'delivered'], 40_000);
      assert.notEqual(j2.state, 'delivered');
      assert.ok(second, 'B quoted it: the customer was asked to pay');
      await assert.rejects(second.paying, PaymentFailedError);
      await untilState(a.jobs, r2.id, 'refunded', 20_000);
      assert.match(a.jobs.transitions(r2.id).find((t) => t.to === 'failed')!.reason, /the peer instance beta failed the job/);
      const sub2 = b.jobs.get(a.jobs.get(r2.id)!.forwardId!)!;
      assert.equal((await untilState(b.jobs, sub2.id, 'refunded', 20_000)).state, 'refunded', 'B gave the HTLC back');
      const err = await until('the customer is told', () => customer.feedback(r2.id, 'error')[0], 10_000);
      assert.match(err.tags.find((t) => t[0] === 'status')?.[2] ?? '', /beta/);
      assert.equal(a.wallet.ledger.balance('treasury'), TREASURY, 'the float came back');
      assert.equal(payer.wallet.ledger.balance('user:customer'), before - amount, "the customer's second payment came back");

      // 3. The customer cancels while asked to pay: A withdraws its request and B cancels its invoice.
      const r3 = await customer.request({ kind: COUNT, tags: [['i', JSON.stringify([{ kinds: [2] }]), 'text']] });
      await until('payment-required', () => customer.feedback(r3.id, 'payment-required')[0], 30_000);
      const sub3 = a.jobs.get(r3.id)!.forwardId!;
      await customer.publish({ kind: 5, tags: [['e', r3.id], ['k', String(COUNT)]] });
      await untilState(a.jobs, r3.id, 'cancelled');
      await untilState(b.jobs, sub3, 'cancelled', 20_000);
      const inv3 = await b.wallet.lookupInvoice(b.jobs.get(sub3)!.paymentHash!);
      assert.equal(inv3?.status, 'cancelled', "B's invoice can no longer be paid");
      await sleep(500);
      await checkBooks(a);
      await checkBooks(b);
    } finally {
      await customer.close();
      await a.close();
      await b.close();
      await shared.stop();
    }
  });

  it("an outside agent wins a paid auction, delivers with its invoice, and is paid the second price", async () => {
    const shared = await startTestRelay();
    const windows = { commitMs: 500, revealMs: 500 };
    const a = await startTestInstance({ ...lnd('a'), relays: [shared.url], agents: { personasDir: tally(1_000_000) }, dvm: { freeKinds: [], auction: windows, jobTimeoutSeconds: 6 }, federation: { name: 'alpha', auctions: 'peers' } });
    const c = await startTestInstance({ ...lnd('c'), relays: [shared.url], agents: { personasDir: tally(300) }, dvm: { freeKinds: [], auction: windows }, federation: { name: 'gamma', bidOnPeers: true } });
    // On the shared relay, where C's agent reads the request it wins.
    const customer = new Customer(shared.url);
    try {
      await a.wallet.fund('treasury', TREASURY, 'float for paying peers');
      const treasury = a.wallet.ledger.balance('treasury');
      await until('A sees C', () => (a.inst.services!.federation!.directory.instanceOf(agentOf(c))?.announcement.lightning ? true : undefined), 30_000);
      await until('C sees A', () => (c.inst.services!.federation!.directory.get(coordinator(a))?.announcement.auctions === 'peers' ? true : undefined), 30_000);
      const r = await customer.request({ kind: COUNT, tags: [['i', JSON.stringify([{ kinds: [1] }]), 'text'], ['p', agentOf(a)]] });
      const { amount, paying } = await pay(customer, r.id);
      const job = await untilState(a.jobs, r.id, ['delivered', 'failed', 'refunded'], 40_000);
      assert.equal(job.state, 'delivered', JSON.stringify(a.jobs.transitions(r.id).map((t) => t.reason)));
      assert.equal(job.agent, agentOf(c), "C's agent won");
      await paying;
      const res = await until('the result', () => customer.results(r.id)[0], 10_000);
      assert.equal(res.pubkey, agentOf(c));
      const bolt11 = res.tags.find((t) => t[0] === INVOICE_TAG)?.[1];
      assert.ok(bolt11, 'the result carries the agent\'s invoice');
      assert.equal(res.tags.find((t) => t[0] === 'amount'), undefined, 'the customer is not asked to pay again');
      const price = job.agentPriceMsat!;
      assert.ok(price > 0 && price <= amount);
      // C's books: its agent holds the second price, paid over Lightning.
      const cAgent = c.inst.services!.swarm.agents[0]!.account;
      await until("C's agent is paid", () => (c.wallet.ledger.balance(cAgent) === price ? true : undefined), 10_000);
      assert.equal(c.wallet.ledger.balance('external'), -price);
      // A's books: the treasury fronted and was paid back; A keeps the rest of what the customer paid.
      assert.equal(a.wallet.ledger.balance('treasury'), treasury);
      assert.equal(a.wallet.ledger.balance('fees'), amount - price);
      assert.ok(a.jobs.transitions(r.id).some((t) => /paid outside agent .* over Lightning/.test(t.reason)));
      await checkBooks(a);
      await checkBooks(c);
    } finally {
      await customer.close();
      await a.close();
      await c.close();
      await shared.stop();
    }
  });
});
