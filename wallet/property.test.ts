// The books always balance: a seeded random sequence of wallet operations (some of them bound to
// fail, some retried) against a simple model; after every step the ledger sums to zero, stored
// balances match the entries, nothing non-external is negative, and the model agrees. Then a restart.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { WalletError } from './errors.js';
import { tempWallet } from './testing.js';
import type { BuiltinWallet } from './builtin.js';

/** mulberry32: a small seeded PRNG, so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const USERS = ['user:a', 'user:b', 'customer:c', 'agent:x', 'agent:y', 'treasury'];

async function checkBooks(w: BuiltinWallet, model: Map<string, number>, step: string): Promise<void> {
  const audit = w.ledger.audit();
  assert.equal(audit.totalMsat, 0, step);
  assert.deepEqual(audit.unbalancedTxIds, [], step);
  assert.deepEqual(audit.driftedAccounts, [], step);
  for (const a of await w.accounts()) {
    if (a.account !== 'external') assert.ok(a.balanceMsat >= 0, `${step}: ${a.account} is negative`);
    assert.equal(a.balanceMsat, model.get(a.account) ?? 0, `${step}: ${a.account}`);
  }
}

for (const seed of [1, 42, 2024]) {
  it(`random operations keep the books balanced (seed ${seed})`, async () => {
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const amount = () => 1 + Math.floor(rnd() * 20_000);
    const t = tempWallet();
    let w = t.wallet;
    const model = new Map<string, number>();
    const move = (from: string, to: string, msat: number) => {
      model.set(from, (model.get(from) ?? 0) - msat);
      model.set(to, (model.get(to) ?? 0) + msat);
    };
    const invoices: { bolt11: string; account: string; amountMsat: number; jobId?: string }[] = [];
    const jobs: { jobId: string; payer: string; amountMsat: number; open: boolean }[] = [];
    let okOps = 0;
    try {
      for (let i = 0; i < 300; i++) {
        const op = pick(['fund', 'invoice', 'jobInvoice', 'pay', 'pay', 'hold', 'release', 'refund', 'retry', 'time']);
        const step = `seed ${seed} step ${i} ${op}`;
        try {
          if (op === 'fund') {
            const to = pick(USERS);
            const msat = amount() * 3;
            await w.fund(to, msat);
            move('external', to, msat);
          } else if (op === 'invoice' || op === 'jobInvoice') {
            const amountMsat = amount();
            if (op === 'invoice') {
              const account = pick(USERS);
              const inv = await w.createInvoice({ amountMsat, account, expirySeconds: 1 + Math.floor(rnd() * 600) });
              invoices.push({ bolt11: inv.bolt11, account, amountMsat });
            } else {
              const jobId = `job${i}`;
              const inv = await w.createInvoice({ amountMsat, jobId, expirySeconds: 600 });
              invoices.push({ bolt11: inv.bolt11, account: inv.account, amountMsat, jobId });
            }
          } else if (op === 'pay' && invoices.length) {
            const inv = pick(invoices);
            const from = pick(USERS);
            const r = await w.pay({ bolt11: inv.bolt11, fromAccount: from });
            if (!r.replayed) {
              move(from, inv.account, inv.amountMsat);
              if (inv.jobId) jobs.push({ jobId: inv.jobId, payer: from, amountMsat: inv.amountMsat, open: true });
            }
          } else if (op === 'hold') {
            const jobId = `hold${i}`;
            const from = pick(USERS);
            const msat = amount();
            await w.hold({ jobId, fromAccount: from, amountMsat: msat });
            move(from, `escrow:${jobId}`, msat);
            jobs.push({ jobId, payer: from, amountMsat: msat, open: true });
          } else if (op === 'release' && jobs.length) {
            const j = pick(jobs);
            const to = pick(USERS);
            const pay = Math.floor(rnd() * j.amountMsat);
            const fee = Math.floor(rnd() * (j.amountMsat - pay));
            const r = await w.release({ jobId: j.jobId, toAccount: to, amountMsat: pay, feeMsat: fee });
            if (!j.open) {
              // Only a retry of the same release may succeed on a closed escrow, and it moves nothing.
              assert.ok(r.releasedTo === to && r.releasedMsat === pay && r.feeMsat === j.amountMsat - pay, step);
            } else {
              j.open = false;
              move(`escrow:${j.jobId}`, to, pay);
              move(`escrow:${j.jobId}`, 'fees', j.amountMsat - pay);
            }
          } else if (op === 'refund' && jobs.length) {
            const j = pick(jobs);
            const r = await w.refund(j.jobId, 'random');
            if (j.open) {
              j.open = false;
              move(`escrow:${j.jobId}`, j.payer, j.amountMsat);
            } else {
              assert.equal(r?.status, 'refunded', step); // a retry of a refund, never a refund after a release
            }
          } else if (op === 'retry' && jobs.length) {
            const j = pick(jobs);
            const e = await w.getEscrow(j.jobId);
            if (e?.status === 'released') await w.release({ jobId: j.jobId, toAccount: e.releasedTo!, amountMsat: e.releasedMsat, feeMsat: e.feeMsat });
            if (e?.status === 'refunded') await w.refund(j.jobId);
          } else if (op === 'time') {
            t.clock.advance(Math.floor(rnd() * 120));
          }
          okOps++;
        } catch (err) {
          if (!(err instanceof WalletError)) throw err; // only the wallet's refusals are expected
        }
        await checkBooks(w, model, step);
        if (i === 150) {
          await w.close();
          w = t.reopen();
          await checkBooks(w, model, `${step} after restart`);
        }
      }
      assert.ok(okOps > 150, `only ${okOps} operations succeeded`);
      assert.ok(jobs.length > 5);
    } finally {
      await t.cleanup();
    }
  });
}
