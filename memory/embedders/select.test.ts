import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, randomWeights } from '../../test/support/onnx-builder.js';
import { EmbedderError } from '../embedder.js';
import { type EmbedderConfig, openEmbedder } from './select.js';

test('openEmbedder: default and hashing, with dimensions', async () => {
  const d = await openEmbedder({ kind: 'default' });
  assert.equal(d.id, 'ngram-wordnet');
  assert.equal(d.dimensions, 384);
  const h = await openEmbedder({ kind: 'hashing', dimensions: 256 });
  assert.equal(h.id, 'hashing');
  assert.equal(h.dimensions, 256);
  const [v] = await h.embed(['hello']);
  assert.equal(v!.length, 256);
});

test('openEmbedder: onnx needs modelDir and checks a configured dimension', async () => {
  await assert.rejects(openEmbedder({ kind: 'onnx' }), (e: Error) => e instanceof EmbedderError && /modelDir/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), 'timmy-select-'));
  try {
    await assert.rejects(openEmbedder({ kind: 'onnx', modelDir: dir }), (e: Error) => e instanceof EmbedderError && /timmy models install/.test(e.message));
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hello'];
    writeFileSync(join(dir, 'vocab.txt'), vocab.join('\n'));
    writeFileSync(
      join(dir, 'model.onnx'),
      buildModel({
        inputs: [
          { name: 'input_ids', type: 'int64', shape: ['batch', 'sequence'] },
          { name: 'attention_mask', type: 'int64', shape: ['batch', 'sequence'] },
        ],
        outputs: [{ name: 'last_hidden_state', type: 'float', shape: ['batch', 'sequence', 6] }],
        initializers: [{ name: 'E', type: 'float', dims: [vocab.length, 6], data: randomWeights(vocab.length * 6, 2, 1) }],
        nodes: [{ op: 'Gather', inputs: ['E', 'input_ids'], outputs: ['last_hidden_state'] }],
      }),
    );
    const e = await openEmbedder({ kind: 'onnx', modelDir: dir });
    assert.equal(e.dimensions, 6);
    const [v] = await e.embed(['hello']);
    assert.equal(v!.length, 6);
    await e.close?.();
    await assert.rejects(openEmbedder({ kind: 'onnx', modelDir: dir, dimensions: 384 }), (e: Error) => e instanceof EmbedderError && /6 dimensions, configured 384/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openEmbedder: ollama learns its dimension before returning; errors are EmbedderErrors', async () => {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as { input: string[] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ embeddings: body.input.map(() => [3, 4, 0]) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await assert.rejects(openEmbedder({ kind: 'ollama', ollamaUrl: url }), (e: Error) => e instanceof EmbedderError && /needs model/.test(e.message));
    const e = await openEmbedder({ kind: 'ollama', ollamaUrl: url, model: 'nomic-embed-text' });
    assert.equal(e.id, 'ollama:nomic-embed-text');
    assert.equal(e.dimensions, 3);
    const [v] = await e.embed(['x']);
    assert.deepEqual(Array.from(v!), [0.6000000238418579, 0.800000011920929, 0]);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  await assert.rejects(openEmbedder({ kind: 'ollama', ollamaUrl: url, model: 'nomic-embed-text' }), EmbedderError);
  await assert.rejects(openEmbedder({ kind: 'bogus' } as unknown as EmbedderConfig), EmbedderError);
});
