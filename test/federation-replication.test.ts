// Replication between instances' embedded relays: events federation needs, written on each side
// only (a partition: neither relay has the other's), meet after the pull syncs (NIP-77) that each
// instance runs against the relays its peer announces; new ones then arrive live.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Customer, startTestInstance, until } from './support/dvm.js';
import { startTestRelay, Keys, now } from './support/relay.js';
import type { NostrEvent } from '../nostr/nip01.js';

describe('replication between instances', { timeout: 180_000 }, () => {
  it('converges after a partition and streams new events', async () => {
    const shared = await startTestRelay();
    const a = await startTestInstance({ relays: [shared.url], federation: { name: 'alpha' } });
    const b = await startTestInstance({ relays: [shared.url], federation: { name: 'beta' } });
    try {
      const rater = new Keys();
      const label = (subject: string, i: number): NostrEvent =>
        rater.sign({ kind: 1985, created_at: now() - 100 + i, content: '', tags: [['L', 'ai.timmy.job'], ['l', 'delivered', 'ai.timmy.job'], ['p', subject]] });
      const agentA = a.inst.services!.swarm.agents[0]!.pubkey;
      const agentB = b.inst.services!.swarm.agents[0]!.pubkey;
      // Written on one side only, in-process: the other relay (and the shared one) never saw them.
      const onA = [label(agentA, 1), label(agentA, 2)];
      const onB = [label(agentB, 3), label(agentB, 4), label(agentB, 5)];
      for (const e of onA) assert.ok((await a.inst.relay!.publish(e)).ok);
      for (const e of onB) assert.ok((await b.inst.relay!.publish(e)).ok);
      const has = async (t: typeof a, ids: string[]) => (await t.inst.relay!.records({ ids })).records.length === ids.length;
      await until('A has B’s labels', async () => ((await has(a, onB.map((e) => e.id))) ? true : undefined), 60_000);
      await until('B has A’s labels', async () => ((await has(b, onA.map((e) => e.id))) ? true : undefined), 60_000);
      // Live: a new label on B reaches A without waiting for the next sync round.
      const fresh = label(agentB, 50);
      assert.ok((await b.inst.relay!.publish({ ...fresh })).ok);
      await until('A has the new label', async () => ((await has(a, [fresh.id])) ? true : undefined), 30_000);

      // Reputation across instances: a job on B leaves B's coordinator's label about B's agent;
      // A computes the same score for that agent as B does.
      const c = new Customer(b.inst.relayUrl!);
      try {
        const req = await c.request({ kind: 5400, tags: [['i', JSON.stringify({ kinds: [1] }), 'text']] });
        await until('result on B', () => c.results(req.id)[0], 30_000);
      } finally {
        await c.close();
      }
      const worker = await until('B labelled its agent', async () => (await b.inst.relay!.records({ kinds: [1985], authors: [b.inst.services!.coordinatorPubkey] })).records[0]);
      assert.ok(worker);
      const scored = b.inst.services!.swarm.agents.map((x) => x.pubkey).filter((pk) => b.inst.services!.reputation.book.report(pk).counts.labels > 0);
      assert.ok(scored.length > 0, 'B counted its own label');
      for (const pk of scored) {
        await until('A’s score equals B’s', () => (Math.abs(a.inst.services!.reputation.book.score(pk) - b.inst.services!.reputation.book.score(pk)) < 1e-9 ? true : undefined), 30_000);
      }
    } finally {
      await b.close();
      await a.close();
      await shared.stop();
    }
  });
});
