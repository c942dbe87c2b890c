import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { buildModel, randomWeights } from './support/onnx-builder.js';

test('a generated ONNX model runs in onnxruntime-node (MatMul + Add, symbolic batch)', async () => {
  const w = randomWeights(6, 7);
  const bytes = buildModel({
    inputs: [{ name: 'x', type: 'float', shape: ['batch', 3] }],
    outputs: [{ name: 'y', type: 'float', shape: ['batch', 2] }],
    initializers: [
      { name: 'W', type: 'float', dims: [3, 2], data: w },
      { name: 'b', type: 'float', dims: [2], data: [1, -1] },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'b'], outputs: ['y'] },
    ],
  });
  const s = await ort.InferenceSession.create(bytes);
  assert.deepEqual(s.inputNames, ['x']);
  const x = new Float32Array([1, 2, 3]);
  const out = await s.run({ x: new ort.Tensor('float32', x, [1, 3]) });
  const y = out['y']!.data as Float32Array;
  for (let j = 0; j < 2; j++) {
    const want = x[0]! * w[j]! + x[1]! * w[2 + j]! + x[2]! * w[4 + j]! + (j === 0 ? 1 : -1);
    assert.ok(Math.abs(y[j]! - want) < 1e-5);
  }
});
