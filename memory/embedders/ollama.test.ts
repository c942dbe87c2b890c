import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmbedderError } from '../embedder.js';
import { ollamaEmbedder } from './ollama.js';

/** What a 4-dimensional embedding model would say about a text: deterministic, not normalised. */
function fakeVector(text: string): number[] {
  return [text.length, (text.match(/[aeiou]/g) ?? []).length, 1, text.charCodeAt(0) || 0];
}

interface Fake {
  url: string;
  requests: { path: string; body: { model: string; input?: string[]; prompt?: string } }[];
  close(): Promise<void>;
}

/** A real HTTP server speaking Ollama's embedding API: current (/api/embed) or legacy (/api/embeddings only). */
async function fakeOllama(mode: 'current' | 'legacy' | 'silent' = 'current'): Promise<Fake> {
  const requests: Fake['requests'] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c));
    req.on('end', () => {
      if (mode === 'silent') return; // never answers
      const body = JSON.parse(raw) as Fake['requests'][number]['body'];
      requests.push({ path: req.url!, body });
      const json = (status: number, o: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(o));
      };
      if (body.model !== 'nomic-embed-text') return json(404, { error: `model "${body.model}" not found, try pulling it first` });
      if (req.url === '/api/embed' && mode === 'current') return json(200, { model: body.model, embeddings: body.input!.map(fakeVector) });
      if (req.url === '/api/embeddings') return json(200, { embedding: fakeVector(body.prompt!) });
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function close(a: Float32Array, b: number[]): void {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-6, `[${i}] ${x} vs ${b[i]}`));
}

test('ollama: /api/embed in batches, in order, normalised, dimension learned', async () => {
  const o = await fakeOllama();
  try {
    const e = ollamaEmbedder({ url: o.url, model: 'nomic-embed-text' });
    assert.equal(e.id, 'ollama:nomic-embed-text');
    assert.equal(e.dimensions, 0, 'unknown before the first answer');
    const texts = Array.from({ length: 70 }, (_, i) => `memory number ${i} about audio`);
    const out = await e.embed(texts);
    assert.equal(e.dimensions, 4);
    assert.equal(out.length, 70);
    out.forEach((v, i) => close(v, unit(fakeVector(texts[i]!))));
    assert.deepEqual(o.requests.map((r) => [r.path, r.body.input!.length]), [['/api/embed', 64], ['/api/embed', 6]]);
    assert.equal(o.requests[0]!.body.model, 'nomic-embed-text');
    assert.equal(await e.probe(), 4);
    assert.deepEqual(await e.embed([]), []);
  } finally {
    await o.close();
  }
});

test('ollama: falls back to /api/embeddings when /api/embed is 404', async () => {
  const o = await fakeOllama('legacy');
  try {
    const e = ollamaEmbedder({ url: o.url, model: 'nomic-embed-text', dimensions: 4 });
    const [a, b] = await e.embed(['first text', 'second']);
    close(a!, unit(fakeVector('first text')));
    close(b!, unit(fakeVector('second')));
    await e.embed(['third']);
    assert.deepEqual(o.requests.map((r) => r.path), ['/api/embed', '/api/embeddings', '/api/embeddings', '/api/embeddings'], 'fallback remembered');
  } finally {
    await o.close();
  }
});

test('ollama: missing model, wrong dimension, unreachable and silent servers are EmbedderErrors', async () => {
  const o = await fakeOllama();
  try {
    await assert.rejects(ollamaEmbedder({ url: o.url, model: 'all-minilm' }).embed(['x']), (e: Error) => e instanceof EmbedderError && /ollama pull all-minilm/.test(e.message));
    await assert.rejects(ollamaEmbedder({ url: o.url, model: 'nomic-embed-text', dimensions: 768 }).embed(['x']), (e: Error) => e instanceof EmbedderError && /4 dimensions, expected 768/.test(e.message));
  } finally {
    await o.close();
  }
  // The closed server's port now refuses connections.
  await assert.rejects(ollamaEmbedder({ url: o.url, model: 'nomic-embed-text' }).embed(['x']), (e: Error) => e instanceof EmbedderError && /unreachable/.test(e.message));

  const silent = await fakeOllama('silent');
  try {
    await assert.rejects(ollamaEmbedder({ url: silent.url, model: 'nomic-embed-text', timeoutMs: 300 }).embed(['x']), (e: Error) => e instanceof EmbedderError && /within 300 ms/.test(e.message));
    const ac = new AbortController();
    const p = ollamaEmbedder({ url: silent.url, model: 'nomic-embed-text' }).embed(['x'], ac.signal);
    ac.abort(new Error('caller gave up'));
    await assert.rejects(p, /caller gave up/);
  } finally {
    await silent.close();
  }
});
