import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkText, firstSentence } from './chunk.js';

test('chunkText: short text is one chunk, blank is none', () => {
  assert.deepEqual(chunkText('  hello world  ', 100), ['hello world']);
  assert.deepEqual(chunkText(' \n\t ', 100), []);
});

test('chunkText: paragraphs, then sentences, then words, then characters; never over max', () => {
  const para = (n: number, w: string) => Array.from({ length: n }, (_, i) => `${w} sentence ${i} is here.`).join(' ');
  const text = [para(3, 'A'), para(30, 'B'), 'x'.repeat(250), para(2, 'C')].join('\n\n');
  const chunks = chunkText(text, 100);
  for (const c of chunks) assert.ok(c.length <= 100, c);
  assert.ok(chunks[0]!.startsWith('A sentence 0'));
  assert.ok(chunks.some((c) => /^B sentence \d+ is here\.( B sentence \d+ is here\.)*$/.test(c)), 'sentences packed whole');
  assert.equal(chunks.filter((c) => /^x+$/.test(c)).map((c) => c.length).join(','), '100,100,50');
  assert.equal(chunks.join('').replace(/\s+/g, ''), text.replace(/\s+/g, ''), 'nothing lost');
});

test('firstSentence', () => {
  assert.equal(firstSentence('One. Two.'), 'One.');
  assert.equal(firstSentence('no stop at all'), 'no stop at all');
  assert.equal(firstSentence('v1.2 shipped today! More later.'), 'v1.2 shipped today!');
  assert.equal(firstSentence('abcdef', 4), 'abc…');
});
