import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashString, stem, words, wordsWithCase } from './tokenize.js';

test('words: lowercase, accents stripped, apostrophes joined, possessives dropped', () => {
  assert.deepEqual(words("Don't touch Zoë's CAFÉ-menu, 42 times!"), ['dont', 'touch', 'zoe', 'cafe', 'menu', '42', 'times']);
  assert.deepEqual(words(''), []);
});

test('wordsWithCase: the same words, flagged when capitalised in the text', () => {
  const text = "Jenna's sedan: ask Zoë, not the GARAGE.";
  assert.deepEqual(wordsWithCase(text), {
    words: ['jenna', 'sedan', 'ask', 'zoe', 'not', 'the', 'garage'],
    capitalised: [true, false, false, true, false, false, true],
  });
  assert.deepEqual(wordsWithCase(text).words, words(text));
});

test('stem: the forms of one word meet', () => {
  const same = [
    ['running', 'run', 'runs'],
    ['shoes', 'shoe'],
    ['boxes', 'box'],
    ['ponies', 'pony'],
    ['hopping', 'hop', 'hopped'],
    ['agreed', 'agree'],
  ];
  for (const forms of same) {
    const stems = new Set(forms.map(stem));
    assert.equal(stems.size, 1, `${forms.join('/')} -> ${[...stems].join('/')}`);
  }
  assert.equal(stem('bus'), 'bus');
  assert.equal(stem('analysis'), 'analysis');
  assert.equal(stem('ok'), 'ok');
  assert.equal(stem('über'), 'über');
});

test('hashString: stable across runs and seeds differ', () => {
  assert.equal(hashString('car', 1), hashString('car', 1));
  assert.notEqual(hashString('car', 1), hashString('car', 2));
  assert.ok(hashString('car', 1) >= 0 && hashString('car', 1) < 2 ** 32);
});
