// The LLM router against small HTTP servers started here that speak Ollama's and OpenAI's JSON.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SkillError } from '../../dvm/skill.js';
import { generateSkill } from '../skills/generate.js';
import { fakeContext, fakeJob } from '../skills/testing.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { createLlmRouter, llmConfigSchema } from './config.js';
import { OllamaProvider, OpenAiCompatibleProvider, type ChatMessage } from './provider.js';
import { LlmRouter, type LlmRequestInfo } from './router.js';

interface Fake {
  url: string;
  requests: { path: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }[];
  mode: 'ok' | 'fail' | 'hang';
  /** Report token counts (Ollama's eval counts, OpenAI's usage) in answers. */
  tokens: boolean;
  close(): Promise<void>;
}

const lastUser = (body: Record<string, unknown>): string => ((body.messages as ChatMessage[]).filter((m) => m.role === 'user').pop()?.content ?? '');

async function fakeServer(dialect: 'ollama' | 'openai', mode: Fake['mode'] = 'ok'): Promise<Fake> {
  const fake: Fake = { url: '', requests: [], mode, tokens: false, close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      fake.requests.push({ path: req.url ?? '', headers: req.headers, body });
      if (fake.mode === 'hang') return; // never answers
      res.setHeader('content-type', 'application/json');
      if (fake.mode === 'fail') {
        res.statusCode = 500;
        res.end(JSON.stringify(dialect === 'ollama' ? { error: 'model crashed' } : { error: { message: 'model crashed' } }));
        return;
      }
      const expected = dialect === 'ollama' ? '/api/chat' : '/v1/chat/completions';
      if (req.method !== 'POST' || req.url !== expected) {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: `no route ${req.url}` }));
        return;
      }
      const text = `${dialect} says: ${lastUser(body)}`;
      const usage = !fake.tokens ? {} : dialect === 'ollama' ? { prompt_eval_count: 11, eval_count: 5 } : { usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } };
      res.end(
        JSON.stringify(
          dialect === 'ollama'
            ? { model: body.model, created_at: new Date().toISOString(), message: { role: 'assistant', content: text }, done: true, ...usage }
            : { id: 'chatcmpl-1', object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], ...usage },
        ),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  fake.url = dialect === 'ollama' ? `http://127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1`;
  fake.close = () => {
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r()));
  };
  return fake;
}

/** A port nobody listens on. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

const ask = (text: string) => ({ messages: [{ role: 'user' as const, content: text }] });

describe('LLM router', () => {
  const servers: Fake[] = [];
  const start = async (d: 'ollama' | 'openai', mode: Fake['mode'] = 'ok') => {
    const f = await fakeServer(d, mode);
    servers.push(f);
    return f;
  };
  let ollama: Fake;
  let openai: Fake;
  before(async () => {
    ollama = await start('ollama');
    openai = await start('openai');
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it("speaks Ollama's /api/chat and maps the params", async () => {
    const router = new LlmRouter([new OllamaProvider({ baseUrl: ollama.url, model: 'llama3.2', models: ['qwen2.5'] })]);
    const out = await router.generate({ ...ask('hello'), model: 'qwen2.5', maxTokens: 64, temperature: 0.5, topK: 40, topP: 0.9, frequencyPenalty: 1 });
    assert.deepEqual(out, { text: 'ollama says: hello', provider: 'ollama', model: 'qwen2.5' });
    const body = ollama.requests.at(-1)!.body;
    assert.equal(body.stream, false);
    assert.deepEqual(body.options, { num_predict: 64, temperature: 0.5, top_p: 0.9, top_k: 40, frequency_penalty: 1 });
    // A model the provider does not list falls back to its own.
    assert.equal((await router.generate({ ...ask('x'), model: 'gpt-9' })).model, 'llama3.2');
  });

  it('speaks OpenAI-compatible /v1/chat/completions with a bearer key it never shows', async () => {
    const p = new OpenAiCompatibleProvider({ baseUrl: openai.url, model: 'local', apiKey: 'sk-test-secret' });
    const router = new LlmRouter([p]);
    const out = await router.generate({ ...ask('hi'), maxTokens: 10, temperature: 0 });
    assert.deepEqual(out, { text: 'openai says: hi', provider: 'openai', model: 'local' });
    const r = openai.requests.at(-1)!;
    assert.equal(r.headers.authorization, 'Bearer sk-test-secret');
    assert.equal(r.body.max_tokens, 10);
    assert.equal(r.body.temperature, 0);
    assert.ok(!JSON.stringify(p).includes('sk-test-secret'));
    assert.ok(!JSON.stringify(router.status()).includes('sk-test-secret'));
  });

  it('fails over from a failing provider to the next, and from one that times out', async () => {
    const broken = await start('ollama', 'fail');
    const hanging = await start('ollama', 'hang');
    const errors: string[] = [];
    const router = new LlmRouter(
      [
        new OllamaProvider({ name: 'broken', baseUrl: broken.url, model: 'm' }),
        new OllamaProvider({ name: 'slow', baseUrl: hanging.url, model: 'm', timeoutMs: 150 }),
        new OpenAiCompatibleProvider({ baseUrl: openai.url, model: 'local' }),
      ],
      { onProviderError: (p, why) => errors.push(`${p}: ${why}`) },
    );
    const t0 = Date.now();
    const out = await router.generate(ask('failover'));
    assert.equal(out.provider, 'openai');
    assert.ok(Date.now() - t0 < 3000);
    assert.deepEqual(errors, ['broken: HTTP 500: model crashed', 'slow: timed out after 150 ms']);
    const [b, s, o] = router.status();
    assert.equal(b!.consecutiveFailures, 1);
    assert.equal(b!.state, 'closed', 'one failure is below the threshold');
    assert.equal(s!.lastError, 'timed out after 150 ms');
    assert.equal(o!.state, 'closed');
  });

  it('tells onRequest about each request: provider, model, time, outcome and the tokens the server reported', async () => {
    const broken = await start('ollama', 'fail');
    const counting = await start('openai');
    counting.tokens = true;
    const seen: LlmRequestInfo[] = [];
    const router = new LlmRouter(
      [new OllamaProvider({ name: 'broken', baseUrl: broken.url, model: 'm' }), new OpenAiCompatibleProvider({ baseUrl: counting.url, model: 'local' })],
      { onRequest: (e) => seen.push(e) },
    );
    const out = await router.generate(ask('count'));
    assert.equal(out.tokensIn, 7);
    assert.equal(out.tokensOut, 3);
    assert.deepEqual(seen.map(({ ms: _, ...rest }) => rest), [
      { provider: 'broken', ok: false },
      { provider: 'openai', model: 'local', ok: true, tokensIn: 7, tokensOut: 3 },
    ]);
    assert.ok(seen.every((e) => e.ms >= 0 && e.ms < 5000));
    const ollamaCounting = await start('ollama');
    ollamaCounting.tokens = true;
    const o = await new OllamaProvider({ baseUrl: ollamaCounting.url, model: 'llama3.2' }).generate(ask('x'), new AbortController().signal);
    assert.deepEqual([o.tokensIn, o.tokensOut], [11, 5]);
  });

  it('opens a circuit after N failures, skips it, tries it again half-open after the cooldown, and closes it on success', async () => {
    const flaky = await start('ollama', 'fail');
    let now = 1_000_000;
    const router = new LlmRouter(
      [new OllamaProvider({ name: 'flaky', baseUrl: flaky.url, model: 'm' }), new OpenAiCompatibleProvider({ baseUrl: openai.url, model: 'local' })],
      { failureThreshold: 2, cooldownMs: 10_000, now: () => now },
    );
    await router.generate(ask('1'));
    await router.generate(ask('2'));
    assert.equal(flaky.requests.length, 2);
    assert.equal(router.status()[0]!.state, 'open');
    assert.equal(router.status()[0]!.stateValue, 2);

    await router.generate(ask('3'));
    assert.equal(flaky.requests.length, 2, 'an open circuit is skipped');

    now += 10_000;
    assert.equal(router.status()[0]!.state, 'half-open');
    await router.generate(ask('4'));
    assert.equal(flaky.requests.length, 3, 'one trial request');
    assert.equal(router.status()[0]!.state, 'open', 'a failed trial opens it again');
    assert.equal(router.status()[0]!.retryInMs, 10_000);

    flaky.mode = 'ok';
    now += 10_000;
    const out = await router.generate(ask('5'));
    assert.equal(out.provider, 'flaky');
    assert.equal(router.status()[0]!.state, 'closed');
    assert.equal(router.status()[0]!.consecutiveFailures, 0);
  });

  it('with no provider reachable, fails fast with a SkillError that says what was tried', async () => {
    const dead = await deadUrl();
    const broken = await start('openai', 'fail');
    const router = new LlmRouter([new OllamaProvider({ baseUrl: dead, model: 'm' }), new OpenAiCompatibleProvider({ baseUrl: broken.url, model: 'm' })]);
    await assert.rejects(router.generate(ask('anyone?')), (e: unknown) => {
      assert.ok(e instanceof SkillError);
      assert.match(e.message, /^no language model is reachable: tried ollama at http:\/\/127\.0\.0\.1:\d+ \(connection refused\); openai at .* \(HTTP 500: model crashed\)$/);
      return true;
    });
    await assert.rejects(new LlmRouter([]).generate(ask('x')), (e: unknown) => e instanceof SkillError && /no language model is configured/.test(e.message));

    // Through the 5050 skill: the same SkillError reaches the DVM, which sends it as error feedback.
    const skill = generateSkill(router);
    await assert.rejects(skill.run(fakeJob({ kind: 5050, inputs: ['write a poem'] }), fakeContext()), (e: unknown) => e instanceof SkillError && /no language model is reachable/.test(e.message));
  });

  it('a cancelled job aborts the request without blaming the provider', async () => {
    const hanging = await start('ollama', 'hang');
    const router = new LlmRouter([new OllamaProvider({ baseUrl: hanging.url, model: 'm', timeoutMs: 10_000 })], { failureThreshold: 1 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('job cancelled')), 50);
    await assert.rejects(router.generate(ask('x'), ac.signal), /job cancelled/);
    assert.equal(router.status()[0]!.state, 'closed');
    assert.equal(router.status()[0]!.consecutiveFailures, 0);
  });

  it('the 5050 skill sends the system prompt, prompt and params', async () => {
    const router = new LlmRouter([new OllamaProvider({ baseUrl: ollama.url, model: 'llama3.2' })]);
    const skill = generateSkill(router, { system: 'You are Muse.' });
    const job = fakeJob({ kind: 5050, inputs: ['what is the capital of France?'], params: [['max_tokens', '100'], ['temperature', '0.5'], ['top-k', '50'], ['top-p', '0.7']] });
    const out = await skill.run(job, fakeContext());
    assert.equal(out.content, 'ollama says: what is the capital of France?');
    const body = ollama.requests.at(-1)!.body;
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'You are Muse.' },
      { role: 'user', content: 'what is the capital of France?' },
    ]);
    assert.deepEqual(body.options, { num_predict: 100, temperature: 0.5, top_p: 0.7, top_k: 50 });
    assert.equal(skill.units(job), 1);
    await assert.rejects(skill.run(fakeJob({ kind: 5050, inputs: ['x'], params: [['temperature', 'hot']] }), fakeContext()), (e: unknown) => e instanceof SkillError && /param temperature/.test(e.message));
    await assert.rejects(skill.run(fakeJob({ kind: 5050 }), fakeContext()), (e: unknown) => e instanceof SkillError && /nothing to generate from/.test(e.message));
  });

  it('builds from config, reading API keys from the environment', () => {
    const cfg = llmConfigSchema.parse({ providers: [{ type: 'ollama', model: 'llama3.2' }, { type: 'openai', baseUrl: openai.url, model: 'gpt', apiKeyEnv: 'TEST_LLM_KEY' }] });
    assert.equal(cfg.failureThreshold, 3);
    assert.throws(() => createLlmRouter(cfg, {}), /TEST_LLM_KEY is not set/);
    const router = createLlmRouter(cfg, { TEST_LLM_KEY: 'k' });
    assert.deepEqual(router.status().map((s) => [s.provider, s.endpoint, s.state]), [
      ['ollama', 'http://127.0.0.1:11434', 'closed'],
      ['openai', openai.url, 'closed'],
    ]);
    assert.equal(llmConfigSchema.safeParse({ providers: [{ type: 'openai', model: 'x' }] }).success, false, 'openai needs a baseUrl');
  });
});

describe('CircuitBreaker', () => {
  it('lets exactly one trial through while half-open', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100, now: () => now });
    assert.equal(b.tryAcquire(), true);
    b.onFailure();
    assert.equal(b.state, 'open');
    assert.equal(b.tryAcquire(), false);
    now = 100;
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false, 'a second caller waits for the trial');
    b.release();
    assert.equal(b.state, 'half-open');
    assert.equal(b.tryAcquire(), true);
    b.onSuccess();
    assert.equal(b.state, 'closed');
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), true);
  });
});
