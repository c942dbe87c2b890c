import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeWords, wer, wordErrors } from './wer.js';

describe('word error rate', () => {
  it('normalises case and punctuation', () => {
    assert.deepEqual(normalizeWords("Hello, World! Don't  stop—now. Well-known"), ['hello', 'world', "don't", 'stop', 'now', 'well', 'known']);
    assert.equal(wer('The cat sat.', 'the CAT sat'), 0);
  });

  for (const [ref, hyp, expected, s, d, i] of [
    ['the cat sat on the mat', 'the cat sat on the mat', 0, 0, 0, 0],
    ['the cat sat on the mat', 'the cat sit on the mat', 1 / 6, 1, 0, 0],
    ['the cat sat on the mat', 'the cat on the mat', 1 / 6, 0, 1, 0],
    ['the cat sat on the mat', 'the big cat sat on the mat', 1 / 6, 0, 0, 1],
    ['a b c d', 'x y', 1, 2, 2, 0],
    ['one two', '', 1, 0, 2, 0],
    ['one', 'one two three', 2, 0, 0, 2],
    ['', '', 0, 0, 0, 0],
  ] as const) {
    it(`"${ref}" vs "${hyp}" = ${expected.toFixed(3)}`, () => {
      const r = wordErrors(ref, hyp);
      assert.ok(Math.abs(r.wer - expected) < 1e-9, `wer ${r.wer}`);
      assert.deepEqual([r.substitutions, r.deletions, r.insertions], [s, d, i]);
      assert.equal(wer(ref, hyp), r.wer);
    });
  }
});
