// /metrics through a whole instance: after a paid summarization job, a paid LLM job (fake Ollama),
// a rejected event and a REQ, the counters, histograms and gauges have moved; the exposition
// parses line by line; no label value is an id or a key; every metric the Grafana dashboard
// (deploy/grafana/timmy.json) queries is exposed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Customer, FUNDS, SAMPLE_TEXT, checkBooks, fakeOllama, startTestInstance, until, untilState, type FakeOllama, type TestInstance } from './support/dvm.js';
import { RawClient } from './support/relay.js';
import { familyOf, has, parseExposition, valueOf, type Exposition } from './support/prometheus.js';

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/timmy.json', import.meta.url), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };

/** Every series name a dashboard panel queries. */
function dashboardMetrics(): string[] {
  const names = new Set<string>();
  for (const p of dashboard.panels) for (const t of p.targets ?? []) for (const m of t.expr.matchAll(/\b((?:timmy|process|nodejs)_[a-z0-9_]+)\b/g)) names.add(m[1]!);
  return [...names].sort();
}

describe('/metrics', () => {
  let t: TestInstance;
  let c: Customer;
  let raw: RawClient;
  let llm: FakeOllama;
  let account: string;
  let webUrl: string;
  let m: Exposition;
  let personas: Map<string, string>;

  const scrape = async (): Promise<Exposition> => {
    const res = await fetch(`${webUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };

  before(async () => {
    llm = await fakeOllama(0);
    t = await startTestInstance({ llm: { providers: [{ type: 'ollama', baseUrl: llm.url, model: 'fake' }] } });
    webUrl = /dashboard on (\S+)/.exec(t.inst.listeners.join('\n'))![1]!;
    personas = new Map(t.inst.services!.swarm.agents.map((a) => [a.pubkey, a.name]));
    c = new Customer(t.inst.relayUrl!);
    raw = await RawClient.connect(t.inst.relayUrl!);
    account = `customer:${c.pk.slice(0, 16)}`;
    await t.wallet.fund(account, FUNDS, 'test funds');

    const summary = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text']] });
    await c.pay(t.wallet, summary.id, account);
    await untilState(t.jobs, summary.id, 'delivered');
    const gen = await c.request({ kind: 5050, tags: [['i', 'Write one line about relays.', 'text']] });
    await c.pay(t.wallet, gen.id, account);
    await untilState(t.jobs, gen.id, 'delivered');
    // The coordinator's labels reach the reputation book.
    await until('labels counted', () => (t.inst.services!.reputation.book.stats().counted >= 2 ? true : undefined));

    const forged = { ...c.keys.sign({ kind: 1, content: 'hello' }), content: 'tampered' };
    const r = await raw.publish(forged);
    assert.equal(r.ok, false);
    assert.match(r.message, /^invalid:/);
    await raw.req('q', { kinds: [1], limit: 5 });
    m = await scrape();
  });
  after(async () => {
    raw?.close();
    await c?.close();
    await t?.close();
    await llm?.close();
  });

  it('parses: every line is a comment or `name{labels} value`', () => {
    assert.deepEqual(m.bad, []);
    assert.ok(m.samples.length > 50);
    for (const s of m.samples) assert.ok(familyOf(s.name, m.types), `${s.name} has a # TYPE`);
  });

  it('counts the jobs by terminal state and persona, and the auctions with their bids', async () => {
    for (const job of t.jobs.list(10)) {
      const persona = personas.get(job.agent!);
      assert.ok(persona, 'the job had one of our agents');
      assert.ok(valueOf(m, 'timmy_tasks_total', { status: 'delivered', persona }) >= 1, `delivered by ${persona}`);
    }
    assert.equal(valueOf(m, 'timmy_tasks_total', { status: 'delivered' }), 2);
    assert.equal(valueOf(m, 'timmy_auction_duration_seconds_count'), 2);
    assert.ok(valueOf(m, 'timmy_auction_duration_seconds_sum') > 0.2, 'two auctions of 150 + 150 ms windows');
    assert.equal(valueOf(m, 'timmy_auctions_total', { result: 'awarded' }), 2);
    assert.equal(valueOf(m, 'timmy_auction_bids_total', { result: 'won' }), 2);
    assert.ok(has(m, 'timmy_auction_bids_total', { result: 'lost' }));
    await checkBooks(t);
  });

  it('times the LLM requests and counts their tokens; circuits are closed', () => {
    assert.ok(valueOf(m, 'timmy_llm_request_duration_seconds_count', { provider: 'ollama', model: 'fake' }) >= 1);
    assert.ok(valueOf(m, 'timmy_llm_requests_total', { provider: 'ollama', result: 'ok' }) >= 1);
    assert.ok(valueOf(m, 'timmy_llm_tokens_total', { provider: 'ollama', direction: 'in' }) > 0);
    assert.ok(valueOf(m, 'timmy_llm_tokens_total', { provider: 'ollama', direction: 'out' }) > 0);
    assert.ok(has(m, 'timmy_llm_circuit_state', { provider: 'ollama' }));
    assert.equal(valueOf(m, 'timmy_llm_circuit_state', { provider: 'ollama' }), 0);
  });

  it('counts relay ingest and queries with latencies, and the open websockets', () => {
    const accepted = valueOf(m, 'timmy_relay_events_total', { result: 'accepted' });
    const rejected = valueOf(m, 'timmy_relay_events_total', { result: 'rejected' });
    assert.ok(accepted >= 10, `accepted ${accepted}`);
    assert.ok(rejected >= 1);
    assert.ok(valueOf(m, 'timmy_relay_events_rejected_total', { reason: 'invalid' }) >= 1);
    const reasons = m.samples.filter((s) => s.name === 'timmy_relay_events_rejected_total').map((s) => s.labels.reason!);
    for (const r of reasons) assert.match(r, /^(duplicate|pow|blocked|rate-limited|invalid|restricted|mute|error|auth-required|other)$/);
    assert.ok(valueOf(m, 'timmy_relay_ingest_duration_seconds_count') >= accepted);
    assert.ok(valueOf(m, 'timmy_relay_ingest_duration_seconds_bucket', { le: '+Inf' }) >= accepted);
    assert.ok(valueOf(m, 'timmy_relay_queries_total') >= 2);
    assert.ok(valueOf(m, 'timmy_relay_query_duration_seconds_count') >= 2);
    assert.ok(valueOf(m, 'timmy_ws_connections') >= 2, 'the customer and the raw client; in-process connections do not count');
    assert.ok(valueOf(m, 'timmy_relay_subscriptions') >= 1);
  });

  it('reports agent health, balances, escrow, reputation labels; memory and voice are registered', () => {
    for (const name of personas.values()) assert.equal(valueOf(m, 'timmy_agent_health', { persona: name }), 1, name);
    const paid = FUNDS / 1000 - valueOf(m, 'timmy_lightning_balance_sats', { account: 'customers' });
    assert.ok(paid > 0, 'the customer paid for two jobs');
    const agents = m.samples.filter((s) => s.name === 'timmy_lightning_balance_sats' && s.labels.account!.startsWith('agent:'));
    assert.ok(agents.some((s) => s.value > 0), 'a winner was paid');
    for (const s of m.samples.filter((x) => x.name === 'timmy_lightning_balance_sats')) assert.match(s.labels.account!, /^(fees|treasury|external|customers|users|agent:[a-z0-9_-]+)$/i);
    assert.ok(has(m, 'timmy_escrow_sats'));
    assert.equal(valueOf(m, 'timmy_escrow_sats'), 0, 'both jobs delivered: escrows released');
    assert.ok(valueOf(m, 'timmy_reputation_labels_total', { result: 'counted' }) >= 2);
    assert.ok(has(m, 'timmy_reputation_labels_total', { result: 'ignored' }));
    assert.equal(valueOf(m, 'timmy_memory_count'), 0);
    assert.equal(m.types.get('timmy_voice_duration_seconds'), 'histogram');
    assert.ok(has(m, 'process_cpu_user_seconds_total'));
    assert.ok(m.types.has('nodejs_eventloop_lag_seconds'));
  });

  it('no label value is an event id, a pubkey, an npub or another long string', () => {
    const jobIds = new Set(t.jobs.list(100).map((j) => j.id));
    for (const s of m.samples) {
      for (const [k, v] of Object.entries(s.labels)) {
        assert.doesNotMatch(v, /[0-9a-f]{64}/i, `${s.name} ${k}`);
        assert.doesNotMatch(v, /\b(npub|nsec|note|nevent|nprofile)1/, `${s.name} ${k}`);
        assert.ok(!jobIds.has(v) && !personas.has(v));
        assert.ok(v.length <= 64, `${s.name} ${k}="${v}" is long`);
      }
    }
  });

  it('exposes every metric the Grafana dashboard queries', () => {
    const names = dashboardMetrics();
    assert.ok(names.length >= 15, names.join(' '));
    const missing = names.filter((n) => familyOf(n, m.types) === undefined);
    assert.deepEqual(missing, []);
  });
});
