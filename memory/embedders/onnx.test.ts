import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, randomWeights } from '../../test/support/onnx-builder.js';
import { EmbedderError } from '../embedder.js';
import { onnxEmbedder } from './onnx.js';
import { WordPiece } from './wordpiece.js';

// A tiny model with all-MiniLM-L6-v2's signature: int64 input_ids / attention_mask / token_type_ids
// [batch, seq] -> float last_hidden_state [batch, seq, 8]. Per token: (E[id] + T[type]) x W, so the
// test can compute the expected pooled vector from the same weights.
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'the', 'cat', 'sat', 'on', 'mat', 'search', '_', 'query', ':', 'a', 'dog',
  'ran', 'far', 'away', 'from', 'home', 'un', '##want', '##ed', '.', 'document'];
const V = VOCAB.length;
const D = 8;
const E = randomWeights(V * D, 3, 1);
const T = randomWeights(2 * D, 5, 1);
const W = randomWeights(D * D, 9, 0.5);

function model(): Uint8Array {
  return buildModel({
    inputs: [
      { name: 'input_ids', type: 'int64', shape: ['batch', 'sequence'] },
      { name: 'attention_mask', type: 'int64', shape: ['batch', 'sequence'] },
      { name: 'token_type_ids', type: 'int64', shape: ['batch', 'sequence'] },
    ],
    outputs: [{ name: 'last_hidden_state', type: 'float', shape: ['batch', 'sequence', D] }],
    initializers: [
      { name: 'E', type: 'float', dims: [V, D], data: E },
      { name: 'T', type: 'float', dims: [2, D], data: T },
      { name: 'W', type: 'float', dims: [D, D], data: W },
    ],
    nodes: [
      { op: 'Gather', inputs: ['E', 'input_ids'], outputs: ['tok'] },
      { op: 'Gather', inputs: ['T', 'token_type_ids'], outputs: ['typ'] },
      { op: 'Add', inputs: ['tok', 'typ'], outputs: ['sum'] },
      { op: 'MatMul', inputs: ['sum', 'W'], outputs: ['last_hidden_state'] },
    ],
  });
}

function hidden(id: number): Float32Array {
  const h = new Float32Array(D);
  for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) h[j]! += (E[id * D + k]! + T[k]!) * W[k * D + j]!;
  return h;
}

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function expected(dir: string, text: string, pooling: 'mean' | 'cls' = 'mean'): Float32Array {
  const { ids } = WordPiece.fromFile(join(dir, 'vocab.txt')).encode(text);
  if (pooling === 'cls') return unit(hidden(ids[0]!));
  const sum = new Float32Array(D);
  for (const id of ids) hidden(id).forEach((x, j) => (sum[j]! += x / ids.length));
  return unit(sum);
}

function close(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `${what}: [${i}] ${a[i]} vs ${b[i]}`);
}

function modelDir(layout: 'flat' | 'nested' = 'flat', name = 'tiny-minilm'): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'timmy-onnx-'));
  const dir = join(root, name);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(layout === 'flat' ? join(dir, 'model.onnx') : join(dir, 'onnx', 'model.onnx'), model());
  writeFileSync(join(dir, 'vocab.txt'), VOCAB.join('\n') + '\n');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ hidden_size: D, max_position_embeddings: 512 }));
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

test('onnx: end to end, mean pooling over the attention mask, unit length', async () => {
  const { dir, cleanup } = modelDir();
  try {
    const e = await onnxEmbedder(dir);
    assert.equal(e.id, 'onnx:tiny-minilm');
    assert.equal(e.version, 1);
    assert.equal(e.dimensions, D);
    const [v] = await e.embed(['The cat sat on the mat.']);
    close(v!, expected(dir, 'The cat sat on the mat.'), 'mean pooled');
    assert.ok(Math.abs(Math.hypot(...v!) - 1) < 1e-5);
    await e.close?.();
  } finally {
    cleanup();
  }
});

test('onnx: padding in a batch does not change a sentence vector; order is kept', async () => {
  const { dir, cleanup } = modelDir();
  try {
    const e = await onnxEmbedder(dir, { batch: 3 });
    const texts = ['a dog', 'the cat sat on the mat far away from home', 'unwanted', 'dog ran', 'the dog ran far far far away from the cat . . .'];
    const batched = await e.embed(texts);
    for (let i = 0; i < texts.length; i++) {
      const [alone] = await e.embed([texts[i]!]);
      close(batched[i]!, alone!, `text ${i} batched vs alone`);
      close(batched[i]!, expected(dir, texts[i]!), `text ${i} vs expected`);
    }
    assert.deepEqual(await e.embed([]), []);
    await e.close?.();
  } finally {
    cleanup();
  }
});

test('onnx: CLS pooling, prefixes, onnx/model.onnx layout, truncation', async () => {
  const { dir, cleanup } = modelDir('nested', 'tiny-bge');
  try {
    const bge = await onnxEmbedder(dir, { maxLength: 4 });
    const [cls] = await bge.embed(['the cat sat on the mat']);
    close(cls!, unit(hidden(2)), 'bge directories default to [CLS] pooling');
    const mean = await onnxEmbedder(dir, { pooling: 'mean', maxLength: 4, id: 'custom' });
    assert.equal(mean.id, 'custom');
    const [m] = await mean.embed(['the cat sat on the mat']);
    close(m!, expected(dir, 'the cat', 'mean'), 'truncated to [CLS] the cat [SEP]');

    const docs = await onnxEmbedder(dir, { pooling: 'mean', prefix: 'search_document: ' });
    assert.equal(docs.prefix, 'search_document: ');
    const queries = docs.withPrefix('search_query: ');
    const [q] = await queries.embed(['the cat']);
    close(q!, expected(dir, 'search_query: the cat'), 'per-view prefix');
    const [d] = await docs.embed(['the cat']);
    close(d!, expected(dir, 'search_document: the cat'), 'embedder prefix');
    assert.equal(queries.close, undefined, 'a view does not own the session');
    for (const x of [bge, mean, docs]) await x.close?.();
  } finally {
    cleanup();
  }
});

test('onnx: missing files give an EmbedderError naming the file and `timmy models install`', async () => {
  const root = mkdtempSync(join(tmpdir(), 'timmy-onnx-'));
  try {
    await assert.rejects(onnxEmbedder(join(root, 'all-MiniLM-L6-v2')), (e: Error) => {
      assert.ok(e instanceof EmbedderError);
      assert.match(e.message, /model\.onnx/);
      assert.match(e.message, /timmy models install/);
      return true;
    });
    writeFileSync(join(root, 'model.onnx'), model());
    await assert.rejects(onnxEmbedder(root), (e: Error) => e instanceof EmbedderError && /vocab\.txt/.test(e.message) && /timmy models install/.test(e.message));
    writeFileSync(join(root, 'vocab.txt'), VOCAB.join('\n'));
    writeFileSync(join(root, 'model.onnx'), 'not a model');
    await assert.rejects(onnxEmbedder(root), (e: Error) => e instanceof EmbedderError && e.message.includes(join(root, 'model.onnx')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
