import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashingEmbedder } from './hashing.js';

const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

test('hashing: deterministic, unit length, dimensions as asked', async () => {
  const e = hashingEmbedder();
  assert.equal(e.id, 'hashing');
  assert.equal(e.dimensions, 384);
  const [a, b] = await e.embed(['The cat sat on the mat', 'The cat sat on the mat']);
  assert.equal(a!.length, 384);
  assert.deepEqual(a, b);
  assert.ok(Math.abs(norm(a!) - 1) < 1e-5);
  const [again] = await hashingEmbedder().embed(['The cat sat on the mat']);
  assert.deepEqual(again, a, 'same vector from a fresh embedder');
  const [small] = await hashingEmbedder({ dimensions: 64 }).embed(['x y z']);
  assert.equal(small!.length, 64);
});

test('hashing: words only, case-insensitive, no notion of synonyms', async () => {
  const e = hashingEmbedder();
  const [a, b, c, d] = await e.embed(['Red Apples', 'red apples!', 'automobile', 'car']);
  assert.ok(dot(a!, b!) > 0.999);
  assert.ok(Math.abs(dot(c!, d!)) < 0.5);
});

test('hashing: empty text is the zero vector; bad dimensions are refused', async () => {
  const [z] = await hashingEmbedder().embed(['  ...  ']);
  assert.equal(norm(z!), 0);
  assert.throws(() => hashingEmbedder({ dimensions: 0 }), RangeError);
  assert.throws(() => hashingEmbedder({ dimensions: 1.5 }), RangeError);
});
