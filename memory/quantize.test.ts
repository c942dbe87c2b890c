import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernel, makeKernel, quantizeInt8, topIndices } from './quantize.js';

test('the WASM SIMD scan computes the same int32 dot products as the JS scan', () => {
  const blocks = 5; // 80 dims
  const n = 37;
  const kernels = [makeKernel(), jsKernel()];
  const outs = kernels.map((k) => {
    const q = new Int16Array(k.memory.buffer, 0, blocks * 16);
    const codes = new Int8Array(k.memory.buffer, 1024, n * blocks * 16);
    for (let i = 0; i < q.length; i++) q[i] = ((i * 7919) % 65535) - 32767;
    for (let i = 0; i < codes.length; i++) codes[i] = ((i * 104729) % 255) - 127;
    k.scan(0, 1024, n, blocks, 512);
    return [...new Int32Array(k.memory.buffer, 512, n)];
  });
  assert.deepEqual(outs[0], outs[1]);
  let ref = 0;
  const q0 = (i: number) => ((i * 7919) % 65535) - 32767;
  for (let j = 0; j < blocks * 16; j++) ref += q0(j) * (((j * 104729) % 255) - 127);
  assert.equal(outs[1]![0], ref);
});

test('quantizeInt8: inverse scale then components, largest magnitude maps to 127', () => {
  const b = quantizeInt8(new Float32Array([0.5, -0.25, 0, 0.125]));
  assert.equal(b.length, 8);
  assert.ok(Math.abs(b.readFloatLE(0) - 0.5 / 127) < 1e-9);
  assert.deepEqual([...new Int8Array(b.buffer, b.byteOffset + 4, 4)], [127, -63, 0, 32]);
  assert.equal(quantizeInt8(new Float32Array(3)).readFloatLE(0), 0);
});

test('topIndices: the s best, best first, skipping dead slots', () => {
  const n = 10_000;
  const scores = new Float32Array(n).map((_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
  const want = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]!);
  assert.deepEqual(topIndices(scores, n, 25), want.slice(0, 25));
  assert.deepEqual(topIndices(scores, n, 25, (i) => i !== want[0]), want.slice(1, 26));
  assert.deepEqual(topIndices(scores, 3, 10), [...[0, 1, 2]].sort((a, b) => scores[b]! - scores[a]!));
});
