// Fault injection: the wall clock jumps (docs/reliability.md, "Fault injection").
// 1. The relay on an injected Clock: created_at bounds, NIP-40 expiry at query time and by the
//    purge, forward and backward jumps.
// 2. A whole instance while Date.now() jumps (patched in this process: the wall clock steps, as
//    after an NTP correction or a VM resume; timers, like the kernel's monotonic clock, do not):
//    an auction whose windows are crossed by a jump forward or backward completes or is re-run,
//    the job is delivered once, paid once, and the books balance.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Keys, RawClient, startTestRelay, type TestRelay } from '../support/relay.js';
import { checkBooks, Customer, path, SAMPLE_TEXT, sleep, startTestInstance, until, untilState } from '../support/dvm.js';
import type { NostrEvent } from '../../nostr/nip01.js';

class JumpClock {
  offset = 0;
  now = (): number => Math.floor(Date.now() / 1000) + this.offset;
}

describe('clock jumps: the relay (injected clock)', () => {
  const clock = new JumpClock();
  const k = new Keys();
  let t: TestRelay;
  after(async () => {
    await t?.stop();
  });

  it('refuses created_at beyond createdAtUpperLimit with invalid:, expires by the jumped clock, survives a backward jump', async () => {
    t = await startTestRelay({ createdAtUpperLimit: 900 }, { clock });
    const c = await RawClient.connect(t.url);
    try {
      const now = clock.now();
      const future = k.sign({ kind: 1, content: 'from the future', created_at: now + 1000 });
      const r = await c.publish(future);
      assert.equal(r.ok, false);
      assert.match(r.message, /^invalid: created_at is too far in the future/);
      assert.equal((await c.publish(k.sign({ kind: 1, content: 'just inside', created_at: now + 890 }))).ok, true);

      const keep: NostrEvent[] = [];
      const expiring: NostrEvent[] = [];
      for (let i = 0; i < 5; i++) {
        const e = k.sign({ kind: 1, content: `keep ${i}`, created_at: now - i });
        assert.equal((await c.publish(e)).ok, true);
        keep.push(e);
        const x = k.sign({ kind: 1, content: `expires ${i}`, created_at: now - i, tags: [['expiration', String(now + 60)]] });
        assert.equal((await c.publish(x)).ok, true);
        expiring.push(x);
      }
      assert.equal((await c.req('a', { authors: [k.pk], limit: 100 })).events.length, 11);

      clock.offset = 3600; // a jump forward of an hour
      const seen = (await c.req('b', { authors: [k.pk], limit: 100 })).events;
      assert.ok(!seen.some((e) => expiring.some((x) => x.id === e.id)), 'expired events are no longer served');
      assert.equal(await t.relay.purgeExpired(), 5, 'and the purge deletes them');
      const again = await c.publish(expiring[0]!);
      assert.deepEqual(again, { ok: false, message: 'invalid: event has expired' });
      // The clock is an hour ahead of the client's: its new events are an hour "in the past", fine.
      assert.equal((await c.publish(k.sign({ kind: 1, content: 'after the jump' }))).ok, true);

      clock.offset = -3600; // and back, two hours: now the client's clock is an hour ahead
      const ahead = await c.publish(k.sign({ kind: 1, content: 'client ahead by an hour' }));
      assert.equal(ahead.ok, false);
      assert.match(ahead.message, /^invalid: created_at is too far in the future/);
      assert.equal(await t.relay.purgeExpired(), 0, 'a backward jump purges nothing');
      const left = (await c.req('c', { authors: [k.pk], limit: 100 })).events;
      assert.equal(left.length, 7, 'keep ×5, "just inside", "after the jump"');
      // Ordering is by created_at, not by the relay's clock: newest first, whatever the clock did.
      for (let i = 1; i < left.length; i++) assert.ok(left[i - 1]!.created_at >= left[i]!.created_at);
      assert.equal(c.closed, false);
    } finally {
      c.close();
    }
  });
});

describe('clock jumps: a whole instance while Date.now() jumps', () => {
  const realNow = Date.now;
  let offsetMs = 0;
  const jump = (ms: number) => {
    offsetMs += ms;
  };
  Date.now = () => realNow.call(Date) + offsetMs;
  after(() => {
    Date.now = realNow;
  });

  async function jobAcrossAJump(jumpMs: number): Promise<void> {
    offsetMs = 0;
    const t = await startTestInstance({ dvm: { auction: { commitMs: 2000, revealMs: 500 } } });
    const c = new Customer(t.inst.relayUrl!);
    const account = `customer:${c.pk.slice(0, 16)}`;
    try {
      await t.wallet.fund(account, 5_000_000, 'test funds');
      const req = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text'], ['param', 'max_sentences', '1']] });
      const paid = await c.pay(t.wallet, req.id, account);
      await untilState(t.jobs, req.id, 'bidding');
      await until('auction open', async () => ((await t.inst.client.query([{ kinds: [7280], '#e': [req.id] }])).length > 0 ? true : undefined));
      await sleep(300);
      jump(jumpMs); // inside the commit window
      const job = await untilState(t.jobs, req.id, ['delivered', 'refunded', 'failed', 'cancelled'], 40_000);
      assert.equal(job.state, 'delivered', `the job finished ${job.state}: ${path(t.jobs, req.id).join(' > ')}`);
      await sleep(500);
      assert.equal(c.results(req.id).length, 1, 'one result');
      assert.equal(t.wallet.ledger.balance(account), 5_000_000 - paid, 'paid once');
      const escrow = await t.wallet.getEscrow(req.id);
      assert.equal(escrow?.status, 'released');
      // No transition is stamped before the one it follows... unless the clock went back, and then
      // the store keeps the order it happened in (seq), which is what path() reads.
      const ts = t.jobs.transitions(req.id);
      for (let i = 1; i < ts.length; i++) assert.ok(ts[i]!.seq > ts[i - 1]!.seq);
      await checkBooks(t);
    } finally {
      await c.close();
      await t.close();
      offsetMs = 0;
    }
  }

  it('a jump forward of an hour inside the auction window: the job is delivered once, paid once', async () => {
    await jobAcrossAJump(3600_000);
  });

  it('a jump backward of an hour inside the auction window: the job is delivered once, paid once (no hour-long wait)', async () => {
    await jobAcrossAJump(-3600_000);
  });
});
