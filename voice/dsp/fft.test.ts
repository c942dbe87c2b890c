import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fftPlan, rfft } from './fft.js';
import { randomWeights } from '../../test/support/onnx-builder.js';

function naiveDft(re: ArrayLike<number>, im: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const or = new Float64Array(n), oi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let sr = 0, si = 0;
    for (let j = 0; j < n; j++) {
      const a = (-2 * Math.PI * ((j * k) % n)) / n;
      sr += re[j]! * Math.cos(a) - im[j]! * Math.sin(a);
      si += re[j]! * Math.sin(a) + im[j]! * Math.cos(a);
    }
    or[k] = sr; oi[k] = si;
  }
  return { re: or, im: oi };
}

// 400 and 1000 take the mixed-radix path, 512 radix-2, 97 and 194 (a prime over 31) Bluestein
for (const n of [400, 512, 97, 1, 2, 3, 6, 231, 194, 1000]) {
  test(`complex FFT of length ${n} matches a naive DFT`, () => {
    const re = Float64Array.from(randomWeights(n, n, 1));
    const im = Float64Array.from(randomWeights(n, n + 7, 1));
    const want = naiveDft(re, im);
    fftPlan(n).forward(re, im);
    for (let k = 0; k < n; k++) {
      assert.ok(Math.abs(re[k]! - want.re[k]!) < 1e-9 * n, `re[${k}]: ${re[k]} vs ${want.re[k]}`);
      assert.ok(Math.abs(im[k]! - want.im[k]!) < 1e-9 * n, `im[${k}]: ${im[k]} vs ${want.im[k]}`);
    }
  });
}

for (const n of [400, 512, 97, 194, 2, 1]) {
  test(`rfft of length ${n} returns the n/2+1 bins of a real signal`, () => {
    const x = randomWeights(n, 3, 1);
    const { re, im } = rfft(x);
    const bins = Math.floor(n / 2) + 1;
    assert.equal(re.length, bins);
    const want = naiveDft(x, new Float64Array(n));
    for (let k = 0; k < bins; k++) {
      assert.ok(Math.abs(re[k]! - want.re[k]!) < 1e-9 * n, `re[${k}]`);
      assert.ok(Math.abs(im[k]! - want.im[k]!) < 1e-9 * n, `im[${k}]`);
    }
  });
}

test('fftPlan rejects lengths that are not positive integers', () => {
  assert.throws(() => fftPlan(0), RangeError);
  assert.throws(() => fftPlan(2.5), RangeError);
});
