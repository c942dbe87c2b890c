// Traces: off without OTEL_EXPORTER_OTLP_ENDPOINT; with an exporter, each job is one `timmy.job`
// span from the request event to its end, its phases as children (ingest, quote, payment, auction,
// inputs, skill, publish, release or refund), the LLM call nested under the skill, and a failed
// job's error on its root. Runs a whole instance with an in-memory exporter.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing, tracesUrl, type Tracing } from '../main/obs/tracing.js';
import { Customer, FUNDS, SAMPLE_TEXT, checkBooks, startTestInstance, until, untilState, type TestInstance } from './support/dvm.js';

/** An Ollama /api/chat that echoes the prompt, or answers 500 when the prompt says FAIL. */
async function flakyOllama(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(raw) as { model: string; messages: { role: string; content: string }[] };
      const prompt = body.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
      if (prompt.includes('FAIL')) return void res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'model crashed' }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ model: body.model, message: { role: 'assistant', content: `echo: ${prompt}` }, done: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('traces', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let t: TestInstance;
  let c: Customer;
  let account: string;
  let llm: { url: string; server: Server };

  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const id = (s: ReadableSpan): string => s.spanContext().spanId;
  /** The job's root span, once it ended. */
  const rootOf = (job: string): Promise<ReadableSpan> => until(`the timmy.job span of ${job.slice(0, 8)}`, () => spans().find((s) => s.name === 'timmy.job' && s.attributes['timmy.job.id'] === job));
  /** Spans whose parent chain reaches `root`. */
  const treeOf = (root: ReadableSpan): ReadableSpan[] => {
    const out: ReadableSpan[] = [];
    const ids = new Set([id(root)]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const s of spans()) {
        const parent = s.parentSpanContext?.spanId;
        if (parent && ids.has(parent) && !ids.has(id(s))) {
          ids.add(id(s));
          out.push(s);
          grew = true;
        }
      }
    }
    return out;
  };
  const named = (tree: ReadableSpan[], name: string): ReadableSpan => {
    const s = tree.find((x) => x.name === name);
    assert.ok(s, `${name} is in the tree (${tree.map((x) => x.name).join(', ')})`);
    return s;
  };

  before(async () => {
    const started = await startTracing({}, { exporter });
    assert.ok(started);
    tracing = started;
    llm = await flakyOllama();
    t = await startTestInstance({ llm: { providers: [{ type: 'ollama', baseUrl: llm.url, model: 'fake' }] } });
    c = new Customer(t.inst.relayUrl!);
    account = `customer:${c.pk.slice(0, 16)}`;
    await t.wallet.fund(account, FUNDS, 'test funds');
  });
  after(async () => {
    await c.close();
    await t.close();
    await tracing.shutdown();
    await new Promise<void>((r) => llm.server.close(() => r()));
    // The global tracer is gone: spans are no-ops again for whatever else runs in this process.
    assert.equal(trace.getTracer('timmy').startSpan('after').isRecording(), false);
  });

  it('is off without OTEL_EXPORTER_OTLP_ENDPOINT, or with OTEL_SDK_DISABLED', async () => {
    assert.equal(await startTracing({}), undefined);
    assert.equal(await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }), undefined);
    assert.equal(await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), 'http://collector:4318/v1/traces');
    assert.equal(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), 'http://collector:4318/v1/traces');
    assert.equal(tracesUrl({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/otlp/v1/traces' }), 'http://tempo:4318/otlp/v1/traces');
  });

  it('a paid job is one trace: ingest, quote, payment, auction, inputs, skill, publish, release', async () => {
    const req = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text']] });
    const paid = await c.pay(t.wallet, req.id, account);
    const job = await untilState(t.jobs, req.id, 'delivered');
    const root = await rootOf(req.id);
    assert.equal(root.parentSpanContext, undefined, 'timmy.job is a root');
    assert.equal(root.status.code, SpanStatusCode.OK);
    assert.equal(root.attributes['timmy.job.kind'], 5001);
    assert.equal(root.attributes['timmy.job.state'], 'delivered');
    assert.equal(root.attributes['timmy.job.resumed'], undefined);
    assert.equal(root.resource.attributes['service.name'], 'timmy');
    assert.ok(root.resource.attributes['service.version']);

    const tree = treeOf(root);
    const names = tree.map((s) => s.name);
    for (const n of ['timmy.ingest', 'timmy.quote', 'timmy.payment', 'timmy.auction', 'timmy.inputs', 'timmy.skill', 'timmy.publish', 'timmy.payment.release']) {
      assert.equal(names.filter((x) => x === n).length, 1, `one ${n} span (${names.join(', ')})`);
    }
    for (const s of tree) {
      assert.equal(s.spanContext().traceId, root.spanContext().traceId);
      assert.equal(s.parentSpanContext?.spanId, id(root), `${s.name} is a child of timmy.job`);
      assert.equal(s.status.code, SpanStatusCode.OK, `${s.name} ended well`);
      assert.ok(s.endTime[0] * 1e9 + s.endTime[1] <= root.endTime[0] * 1e9 + root.endTime[1], `${s.name} ended before the job`);
    }
    // In order: the phases follow one another.
    const start = (n: string) => named(tree, n).startTime[0] * 1e9 + named(tree, n).startTime[1];
    assert.ok(start('timmy.ingest') <= start('timmy.quote') && start('timmy.quote') <= start('timmy.payment') && start('timmy.payment') <= start('timmy.auction'));
    assert.ok(start('timmy.auction') <= start('timmy.skill') && start('timmy.skill') <= start('timmy.publish') && start('timmy.publish') <= start('timmy.payment.release'));

    assert.equal(named(tree, 'timmy.quote').attributes['timmy.price_msat'], paid);
    assert.equal(named(tree, 'timmy.payment').attributes['timmy.price_msat'], paid);
    const auction = named(tree, 'timmy.auction').attributes;
    assert.ok(Number(auction['timmy.auction.bids']) >= 1);
    assert.ok(Number(auction['timmy.auction.bidders']) >= Number(auction['timmy.auction.bids']));
    assert.equal(auction['timmy.auction.price_msat'], job.agentPriceMsat);
    const skill = named(tree, 'timmy.skill').attributes;
    assert.equal(skill['timmy.agent'], auction['timmy.auction.winner']);
    assert.equal(skill['timmy.job.kind'], 5001);
    assert.equal(typeof skill['timmy.skill'], 'string');
    assert.equal(named(tree, 'timmy.payment.release').attributes['timmy.agent_msat'], job.agentPriceMsat);
    await checkBooks(t);
  });

  it('the LLM call is a timmy.llm span under the skill', async () => {
    const req = await c.request({ kind: 5050, tags: [['i', 'Say hello.', 'text']] });
    await c.pay(t.wallet, req.id, account);
    await untilState(t.jobs, req.id, 'delivered');
    const root = await rootOf(req.id);
    assert.equal(root.status.code, SpanStatusCode.OK);
    const tree = treeOf(root);
    const skill = named(tree, 'timmy.skill');
    const call = named(tree, 'timmy.llm');
    assert.equal(call.parentSpanContext?.spanId, id(skill));
    assert.equal(call.status.code, SpanStatusCode.OK);
    assert.equal(call.attributes['timmy.llm.provider'], 'ollama');
    assert.equal(call.attributes['timmy.llm.endpoint'], llm.url);
    assert.equal(call.attributes['gen_ai.response.model'], 'fake');
    assert.equal(call.attributes['gen_ai.operation.name'], 'chat');
  });

  it('a failed job records the error on the LLM call, the skill and the job, and traces the refund', async () => {
    const req = await c.request({ kind: 5050, tags: [['i', 'FAIL please.', 'text']] });
    await c.pay(t.wallet, req.id, account);
    await untilState(t.jobs, req.id, 'refunded');
    const root = await rootOf(req.id);
    assert.equal(root.status.code, SpanStatusCode.ERROR);
    assert.match(root.status.message ?? '', /^no language model is reachable: tried ollama .*HTTP 500/);
    assert.equal(root.attributes['timmy.job.state'], 'refunded');
    assert.ok(root.events.some((e) => e.name === 'exception' && e.attributes?.['exception.type'] === 'SkillError'));
    const tree = treeOf(root);
    for (const n of ['timmy.skill', 'timmy.llm']) assert.equal(named(tree, n).status.code, SpanStatusCode.ERROR, `${n} failed`);
    assert.match(named(tree, 'timmy.llm').status.message ?? '', /HTTP 500/);
    assert.equal(named(tree, 'timmy.payment.refund').status.code, SpanStatusCode.OK);
    assert.equal(tree.some((s) => s.name === 'timmy.publish' || s.name === 'timmy.payment.release'), false);
    await checkBooks(t);
  });

  it('an invalid request ends at ingest with an error', async () => {
    const req = await c.request({ kind: 5001, tags: [['i', 'x', 'text'], ['bid', 'lots']] });
    await untilState(t.jobs, req.id, 'failed');
    const root = await rootOf(req.id);
    assert.equal(root.status.code, SpanStatusCode.ERROR);
    assert.match(root.status.message ?? '', /^invalid request/);
    assert.deepEqual(treeOf(root).map((s) => s.name), ['timmy.ingest']);
  });
});
