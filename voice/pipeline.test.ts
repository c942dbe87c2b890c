import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeSpans, offsetSegments } from './pipeline.js';

describe('pipeline', () => {
  it('merges speech spans across short pauses, never beyond the length cap', () => {
    const spans = [
      { start: 1, end: 3 },
      { start: 3.5, end: 5 }, // 0.5 s pause: joined
      { start: 8, end: 9 }, // 3 s of silence: cut
      { start: 9.2, end: 30 }, // joined would be 29 s: fine
      { start: 30.5, end: 40 }, // would make 32 s: a new span
    ];
    assert.deepEqual(mergeSpans(spans), [
      { start: 1, end: 5 },
      { start: 8, end: 30 },
      { start: 30.5, end: 40 },
    ]);
    assert.deepEqual(mergeSpans([]), []);
  });

  it('moves segments to their place in the whole audio', () => {
    assert.deepEqual(offsetSegments({ text: 'a b', segments: [{ start: 0.1, end: 0.5, text: 'a b' }], engine: 'x' }, { start: 2, end: 3 }), [{ start: 2.1, end: 2.5, text: 'a b' }]);
    assert.deepEqual(offsetSegments({ text: ' hello ', segments: [], engine: 'x' }, { start: 2, end: 3 }), [{ start: 2, end: 3, text: 'hello' }]);
    assert.deepEqual(offsetSegments({ text: '', segments: [], engine: 'x' }, { start: 2, end: 3 }), []);
  });
});
