// Agents remember: after a job an episodic memory is written (customer, kind, entities), a repeat
// customer's next 5050 job carries what was remembered into the model's system prompt, the agents'
// skills are procedural memories that a question in plain words finds, 5302 finds by meaning a job
// the relay's word search cannot, and the CLI and the admin API search the same store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Customer, fakeOllama, FUNDS, startTestInstance, until, type TestInstance } from './support/dvm.js';
import { runCli } from './support/cli.js';
import type { MemoryStore } from '../memory/store.js';

const store = (t: TestInstance): MemoryStore => t.inst.services!.memory!.store;

async function paidJob(t: TestInstance, c: Customer, account: string, kind: number, tags: string[][]): Promise<string> {
  const req = await c.request({ kind, tags });
  await c.pay(t.wallet, req.id, account);
  const result = await until(`result of ${kind}`, () => c.results(req.id)[0], 30_000);
  return result.content;
}

describe('agents and memory', { timeout: 180_000 }, () => {
  it('writes an episode after a job and recalls it for the same customer’s next job', async () => {
    const llm = await fakeOllama(10);
    const t = await startTestInstance({ llm: { providers: [{ type: 'ollama', baseUrl: llm.url, model: 'fake' }] } });
    const c = new Customer(t.inst.relayUrl!);
    const account = `customer:${c.pk.slice(0, 16)}`;
    try {
      await t.wallet.fund(account, FUNDS, 'test funds');
      await paidJob(t, c, account, 5050, [['i', 'Please always answer me in French. What grows well in a shady vegetable garden?', 'text']]);
      const episodes = await until('episode written', () => {
        const m = store(t).find({ kind: 'episodic', tag: `customer:${c.pk}` });
        return m.length ? m : undefined;
      });
      assert.match(episodes[0]!.text, /French/);
      assert.ok(episodes[0]!.tags.includes('kind:5050'));
      assert.ok(episodes[0]!.sourceEvents.length >= 1);

      await paidJob(t, c, account, 5050, [['i', 'Which vegetables tolerate shade in a garden?', 'text']]);
      const last = llm.requests.at(-1)!;
      const system = last.body.messages.find((m) => m.role === 'system')?.content ?? '';
      assert.match(system, /remember/i, 'the second request carries memories in the system prompt');
      assert.match(system, /French/);

      // Another customer's job does not see this customer's memories.
      const other = new Customer(t.inst.relayUrl!);
      const otherAccount = `customer:${other.pk.slice(0, 16)}`;
      await t.wallet.fund(otherAccount, FUNDS, 'test funds');
      await paidJob(t, other, otherAccount, 5050, [['i', 'Which vegetables tolerate shade in a garden?', 'text']]);
      const sys2 = llm.requests.at(-1)!.body.messages.find((m) => m.role === 'system')?.content ?? '';
      assert.doesNotMatch(sys2, /French/);
      await other.close();
    } finally {
      await c.close();
      await t.close();
      await llm.close();
    }
  });

  it('knows its skills as procedural memories and finds a job by meaning through 5302', async () => {
    const t = await startTestInstance();
    const c = new Customer(t.inst.relayUrl!);
    const account = `customer:${c.pk.slice(0, 16)}`;
    try {
      await t.wallet.fund(account, FUNDS, 'test funds');
      const procedural = await until('procedural memories', () => {
        const m = store(t).find({ kind: 'procedural' });
        return m.length >= 4 ? m : undefined;
      });
      assert.ok(procedural.some((m) => m.tags.includes('skill:5001')));
      const hits = await store(t).search('who can make a long article shorter?', { kinds: ['procedural'], limit: 3, touch: false });
      assert.ok(hits[0]?.memory.tags.includes('skill:5001'), `summarization first, got ${hits.map((h) => h.memory.tags.join(' ')).join(' | ')}`);

      const text = 'The mechanic repaired the automobile motor and replaced the worn tyres before the long trip to the mountains.';
      const summarized = await c.request({ kind: 5001, tags: [['i', text, 'text']] });
      await c.pay(t.wallet, summarized.id, account);
      await until('summary', () => c.results(summarized.id)[0], 30_000);
      await until('episode', () => (store(t).find({ kind: 'episodic' }).length ? true : undefined));

      // No word of the query is in the request's text: the relay's FTS finds nothing, memory does.
      const content = await paidJob(t, c, account, 5302, [['i', 'car engine fixed', 'text']]);
      const ids = (JSON.parse(content) as string[][]).map((x) => x[1]);
      assert.ok(ids.includes(summarized.id), `5302 found the job by meaning: ${content}`);

      // The CLI reads the same store (the instance is running: WAL).
      const r = await runCli(['memory', 'search', 'repairing a car', '--data-dir', t.dir, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const found = JSON.parse(r.stdout) as { text: string }[];
      assert.ok(found.some((m) => m.text.includes('automobile')), r.stdout);
      const add = await runCli(['memory', 'add', 'The operator prefers short answers.', '--data-dir', t.dir]);
      assert.equal(add.code, 0, add.stderr);
      const stats = await runCli(['memory', 'stats', '--data-dir', t.dir, '--json']);
      assert.ok((JSON.parse(stats.stdout) as { total: number }).total >= 6, stats.stdout);
      const bad = await runCli(['memory', 'search', '', '--data-dir', t.dir]);
      assert.notEqual(bad.code, 0);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    } finally {
      await c.close();
      await t.close();
    }
  });
});
