// End to end through the real relay, each test on its own instance (temp data dir, ports 0): the
// paths of a job besides the happy one: a chained job, an agent stopped while it works (the job goes
// to the next bidder at its own price), 5050 with no language model reachable, and the job store's
// record of jobs that ended in different ways. Cancellations are in dvm-cancel.test.ts. After each
// test: the ledger audits clean, no finished job holds escrow or an open invoice, and every job's
// transitions are persisted with reasons.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { JobStore } from '../dvm/jobs/store.js';
import { checkBooks, closedPort, Customer, fakeOllama, FUNDS, path, sleep, startTestInstance, statusText, until, untilState, withInstance, SAMPLE_TEXT } from './support/dvm.js';

const TEXT = SAMPLE_TEXT;

/** A summary's sentences (it puts the sentences of one source paragraph on one line). */
const sentencesOf = (s: string): string[] => s.split(/(?<=[.!?])\s+/).map((x) => x.trim()).filter(Boolean);

describe('DVM failure paths, end to end', () => {
  it('runs a chained job: the second request waits for the first one\'s result and reads it as its input', async () => {
    await withInstance({}, async (t, c, account) => {
      const first = c.keys.sign({ kind: 5001, tags: [['i', TEXT, 'text'], ['param', 'max_sentences', '3']] });
      // The second request goes out first, so it must wait for the first job.
      const second = await c.request({ kind: 5001, tags: [['i', first.id, 'job'], ['param', 'max_sentences', '1']] });
      await c.pay(t.wallet, second.id, account);
      await untilState(t.jobs, second.id, 'executing');
      await sleep(300);
      assert.equal(t.jobs.get(second.id)?.state, 'executing', 'still waiting for its input');
      assert.equal(c.results(second.id).length, 0);

      await c.listen(first.id);
      assert.ok((await c.client.publish(first)).ok);
      await c.pay(t.wallet, first.id, account);
      const r1 = await until('first result', () => c.results(first.id)[0]);
      const r2 = await until('second result', () => c.results(second.id)[0]);
      const firstSentences = sentencesOf(r1.content);
      assert.ok(firstSentences.length >= 2, r1.content);
      assert.ok(r2.content.trim().length > 0);
      // The second summary summarizes the first one: its sentence is one of the first result's.
      assert.equal(sentencesOf(r2.content).length, 1, r2.content);
      for (const s of sentencesOf(r2.content)) assert.ok(firstSentences.includes(s), `"${s}" comes from the first result`);
      // Its result echoes the chained input.
      assert.deepEqual(r2.tags.find((x) => x[0] === 'i'), ['i', first.id, 'job']);
      assert.ok(r2.created_at >= r1.created_at);
      await untilState(t.jobs, second.id, 'delivered');
      await untilState(t.jobs, first.id, 'delivered');
      assert.deepEqual(path(t.jobs, second.id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'delivered']);
    });
  });

  it('does not count the wait for a chained input against the job timeout', async () => {
    await withInstance({ dvm: { jobTimeoutSeconds: 1 } }, async (t, c, account) => {
      const first = c.keys.sign({ kind: 5001, tags: [['i', TEXT, 'text'], ['param', 'max_sentences', '2']] });
      const second = await c.request({ kind: 5001, tags: [['i', first.id, 'job'], ['param', 'max_sentences', '1']] });
      await c.pay(t.wallet, second.id, account);
      await untilState(t.jobs, second.id, 'executing');
      // Longer than the job timeout (1 s), well within the chain timeout.
      await sleep(1800);
      assert.equal(t.jobs.get(second.id)?.state, 'executing', 'still waiting for its input');
      await c.listen(first.id);
      assert.ok((await c.client.publish(first)).ok);
      await c.pay(t.wallet, first.id, account);
      await untilState(t.jobs, second.id, 'delivered');
      assert.deepEqual(path(t.jobs, second.id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'delivered']);
      const r2 = await until('second result', () => c.results(second.id)[0]);
      const r1 = await until('first result', () => c.results(first.id)[0]);
      for (const s of sentencesOf(r2.content)) assert.ok(sentencesOf(r1.content).includes(s));
    });
  });

  it('reassigns the job to the next bidder at its revealed price when the winner is stopped mid-job', async () => {
    const llm = await fakeOllama(1500);
    try {
      await withInstance({ llm: { providers: [{ type: 'ollama', baseUrl: llm.url, model: 'fake' }] } }, async (t, c, account) => {
        const req = await c.request({ kind: 5050, tags: [['i', 'Write one line about relays.', 'text']] });
        await c.pay(t.wallet, req.id, account);
        const job = await untilState(t.jobs, req.id, 'executing');
        await until('the winner asked the model', () => (llm.requests.length > 0 ? true : undefined));
        const agents = t.inst.services!.swarm.agents;
        const winner = agents.find((a) => a.pubkey === job.agent)!;
        const ranking = JSON.parse(job.ranking!) as { agent: string; priceMsat: number }[];
        const second = ranking[0]!;
        const secondAgent = agents.find((a) => a.pubkey === second.agent)!;
        assert.ok(winner.persona.kinds.includes(5050) && secondAgent.persona.kinds.includes(5050));
        assert.notEqual(winner.name, secondAgent.name);

        await winner.stop();
        const result = await until('result', () => c.results(req.id)[0]);
        assert.equal(result.pubkey, secondAgent.pubkey, 'the next bidder delivered');
        assert.equal(result.content, 'echo: Write one line about relays.');
        assert.equal(llm.requests.length, 2);
        assert.equal(llm.requests[0]!.abandoned, true, "the stopped agent's model call was abandoned");

        const done = await untilState(t.jobs, req.id, 'delivered');
        assert.equal(done.agent, secondAgent.pubkey);
        assert.equal(done.agentPriceMsat, second.priceMsat, 'paid its own revealed price');
        assert.deepEqual(path(t.jobs, req.id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'assigned', 'executing', 'delivered']);
        const re = t.jobs.transitions(req.id).filter((x) => x.to === 'assigned')[1]!;
        assert.equal(re.from, 'executing');
        assert.match(re.reason, new RegExp(`${winner.name} failed \\(the agent stopped sending heartbeats\\); reassigned to ${second.agent.slice(0, 12)} at its price ${second.priceMsat} msat`));
        // Money: the second bidder got its price, the stopped winner nothing, the rest stayed with the instance.
        assert.equal(t.wallet.ledger.balance(secondAgent.account), second.priceMsat);
        assert.equal(t.wallet.ledger.balance(winner.account), 0);
        const escrow = await t.wallet.getEscrow(req.id);
        assert.equal(escrow?.status, 'released');
        assert.equal(escrow?.releasedTo, secondAgent.account);
        assert.equal(escrow?.releasedMsat, second.priceMsat);
        // Feedback: both agents said they were working on it, then success.
        const processing = c.feedback(req.id, 'processing').map((e) => e.pubkey);
        assert.ok(processing.includes(winner.pubkey) && processing.includes(secondAgent.pubkey));
        await until('success feedback', () => c.feedback(req.id, 'success')[0]);
      });
    } finally {
      await llm.close();
    }
  });

  it('fails a 5050 job with a clear error when no language model is reachable, and refunds it', async () => {
    const port = await closedPort();
    await withInstance({ llm: { providers: [{ type: 'ollama', baseUrl: `http://127.0.0.1:${port}`, model: 'llama3.2' }] } }, async (t, c, account) => {
      const started = Date.now();
      const req = await c.request({ kind: 5050, tags: [['i', 'Say hello.', 'text']] });
      const paid = await c.pay(t.wallet, req.id, account);
      const err = await until('error feedback', () => c.feedback(req.id, 'error')[0]);
      assert.match(statusText(err), new RegExp(`^no language model is reachable: tried ollama at http://127\\.0\\.0\\.1:${port} \\(connection refused\\)$`));
      const job = await untilState(t.jobs, req.id, 'refunded');
      assert.ok(Date.now() - started < 5000, 'nothing hangs');
      assert.deepEqual(path(t.jobs, req.id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'failed', 'refunded']);
      const ts = t.jobs.transitions(req.id);
      assert.match(ts.find((x) => x.to === 'failed')!.reason, /no language model is reachable/);
      assert.match(ts.at(-1)!.reason, /^refunded: no language model is reachable/);
      assert.equal(job.resultId, null);
      assert.equal(t.wallet.ledger.balance(account), FUNDS, `${paid} msat came back`);
      assert.equal((await t.wallet.getEscrow(req.id))?.status, 'refunded');
      assert.equal(c.results(req.id).length, 0);
      assert.equal(c.feedback(req.id, 'success').length, 0);
    });
  });

  it('persists every job\'s transitions with reasons, and they survive the instance', async () => {
    const t = await startTestInstance();
    const c = new Customer(t.inst.relayUrl!);
    const account = `customer:${c.pk.slice(0, 16)}`;
    let jobIds: string[] = [];
    let before: string[][] = [];
    try {
      await t.wallet.fund(account, FUNDS, 'test funds');
      const paid = await c.request({ kind: 5001, tags: [['i', TEXT, 'text']] });
      await c.pay(t.wallet, paid.id, account);
      const free = await c.request({ kind: 5400, tags: [['i', JSON.stringify({ kinds: [5001] }), 'text']] });
      const invalid = await c.request({ kind: 5001, tags: [['i', 'abc', 'event']] });
      const aboveBid = await c.request({ kind: 5001, tags: [['i', TEXT, 'text'], ['bid', '1']] });
      await untilState(t.jobs, paid.id, 'delivered');
      await untilState(t.jobs, free.id, 'delivered');
      await untilState(t.jobs, invalid.id, 'failed');
      await untilState(t.jobs, aboveBid.id, 'failed');
      assert.deepEqual(t.jobs.unfinished(), []);

      const reasons = (id: string) => t.jobs.transitions(id).map((x) => `${x.from ?? '-'} > ${x.to}: ${x.reason}`);
      const p = reasons(paid.id);
      assert.equal(p.length, 6);
      assert.match(p[0]!, /^- > received: request received$/);
      assert.match(p[1]!, /^received > awaiting-payment: priced at \d+ msat$/);
      assert.match(p[2]!, /^awaiting-payment > bidding: paid$/);
      assert.match(p[3]!, /^bidding > assigned: won by [0-9a-f]{12} at \d+ msat \(second price\)$/);
      assert.match(p[4]!, /^assigned > executing: (scribe|precis) starts$/);
      assert.match(p[5]!, /^executing > delivered: result [0-9a-f]{12} published$/);
      // The assignment keeps the auction's full ranking, best first.
      const assigned = t.jobs.transitions(paid.id)[3]!;
      const ranking = (JSON.parse(assigned.data!) as { ranking: { agent: string; priceMsat: number }[] }).ranking;
      assert.equal(ranking.length, 2, 'scribe and precis both bid');
      assert.ok(ranking[0]!.priceMsat <= ranking[1]!.priceMsat);
      const job = t.jobs.get(paid.id)!;
      assert.equal(job.agent, ranking[0]!.agent);
      assert.equal(job.agentPriceMsat, ranking[1]!.priceMsat, 'the winner is paid the second price');
      assert.equal(job.resultId!.slice(0, 12), /result ([0-9a-f]{12})/.exec(p[5]!)![1]);
      assert.equal(JSON.parse(job.request).id, paid.id);

      assert.deepEqual(reasons(free.id).map((x) => x.split(':')[0]), ['- > received', 'received > bidding', 'bidding > assigned', 'assigned > executing', 'executing > delivered']);
      assert.match(reasons(free.id)[1]!, /free job$/);
      assert.deepEqual(reasons(invalid.id), ['- > received: request received', 'received > failed: invalid request: event input must be a 64-character lowercase hex event id']);
      assert.match(reasons(aboveBid.id)[1]!, /^received > failed: the price is \d+ msat, above your bid of 1 msat$/);
      await checkBooks(t);
      jobIds = [paid.id, free.id, invalid.id, aboveBid.id];
      before = jobIds.map(reasons);
    } finally {
      await c.close();
      await t.close(true);
    }
    // The instance is gone; its job store on disk still tells each job's story.
    const store = new JobStore(join(t.dir, 'dvm.sqlite'));
    try {
      assert.deepEqual(store.list().map((j) => j.id).sort(), [...jobIds].sort());
      assert.deepEqual(store.unfinished(), []);
      const after = jobIds.map((id) => store.transitions(id).map((x) => `${x.from ?? '-'} > ${x.to}: ${x.reason}`));
      assert.deepEqual(after, before);
    } finally {
      store.close();
      rmSync(t.dir, { recursive: true, force: true });
    }
  });
});
