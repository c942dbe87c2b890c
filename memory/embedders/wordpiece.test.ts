import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbedderError } from '../embedder.js';
import { WordPiece } from './wordpiece.js';

// The vocabulary of BERT's own tokenization tests, plus what the examples below need.
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'want', '##want', '##ed', 'wa', 'un', 'runn', '##ing', ',', 'un', '##aff', '##able',
  'hello', '!', 'how', 'are', 'you', '?', 'hallo', 'ah', '\u535A', '\u63A8', 'zz', '.', 'a'];

function withVocab(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-wordpiece-'));
  try {
    writeFileSync(join(dir, 'vocab.txt'), VOCAB.join('\n') + '\n');
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('WordPiece: greedy longest-match-first subwords and [UNK] words (BERT test cases)', () => {
  withVocab((dir) => {
    const wp = WordPiece.fromFile(join(dir, 'vocab.txt'));
    assert.deepEqual(wp.tokenize('unwanted running'), ['un', '##want', '##ed', 'runn', '##ing']);
    assert.deepEqual(wp.tokenize('unwantedX running'), ['[UNK]', 'runn', '##ing']);
    assert.deepEqual(wp.tokenize('unaffable'), ['un', '##aff', '##able']);
    assert.deepEqual(wp.tokenize(''), []);
  });
});

test('WordPiece: basic tokenization (case, accents, punctuation, CJK, control characters)', () => {
  withVocab((dir) => {
    const wp = WordPiece.fromFile(join(dir, 'vocab.txt'));
    assert.deepEqual(wp.basicTokens(' \tHeLLo!how  \n Are yoU?  '), ['hello', '!', 'how', 'are', 'you', '?']);
    assert.deepEqual(wp.basicTokens('H\u00e4LLo!how  \n Are yoU?  '), ['hallo', '!', 'how', 'are', 'you', '?']);
    assert.deepEqual(wp.basicTokens('ah\u535A\u63A8zz'), ['ah', '\u535A', '\u63A8', 'zz']);
    assert.deepEqual(wp.basicTokens('a\u0000b\u0007c'), ['abc']);
    assert.deepEqual(wp.basicTokens('$5 x^2'), ['$', '5', 'x', '^', '2']);
    const cased = WordPiece.fromFile(join(dir, 'vocab.txt'), { lowercase: false });
    assert.deepEqual(cased.basicTokens(' \tHeLLo!how  \n Are yoU?  '), ['HeLLo', '!', 'how', 'Are', 'yoU', '?']);
    assert.deepEqual(cased.tokenize('Hello'), ['[UNK]']);
  });
});

test('WordPiece: encode wraps in [CLS] ... [SEP] and truncates to maxLength', () => {
  withVocab((dir) => {
    const wp = WordPiece.fromFile(join(dir, 'vocab.txt'));
    const e = wp.encode('Hello, how are you?');
    assert.deepEqual(e.ids, [2, 15, 11, 17, 18, 19, 20, 3]);
    assert.deepEqual(e.attentionMask, [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(wp.padId, 0);
    const short = WordPiece.fromFile(join(dir, 'vocab.txt'), { maxLength: 4 }).encode('unwanted running');
    assert.deepEqual(short.ids, [2, 8, 5, 3], '[CLS] un ##want [SEP]');
    assert.deepEqual(WordPiece.fromFile(join(dir, 'vocab.txt'), { maxLength: 4 }).encode('').ids, [2, 3]);
  });
});

test('WordPiece: tokenizer.json (model.vocab, normalizer.lowercase) and clear errors', () => {
  withVocab((dir) => {
    const vocab = Object.fromEntries(VOCAB.map((t, i) => [t, i]).filter(([t], i) => VOCAB.indexOf(t as string) === i));
    const path = join(dir, 'tokenizer.json');
    writeFileSync(path, JSON.stringify({ normalizer: { type: 'BertNormalizer', lowercase: true }, model: { type: 'WordPiece', vocab } }));
    const wp = WordPiece.fromFile(path);
    assert.deepEqual(wp.tokenize('UNWANTED running!'), ['un', '##want', '##ed', 'runn', '##ing', '!']);
    assert.deepEqual(wp.encode('hello').ids, WordPiece.fromFile(join(dir, 'vocab.txt')).encode('hello').ids);

    writeFileSync(join(dir, 'bad.txt'), 'a\nb\n');
    assert.throws(() => WordPiece.fromFile(join(dir, 'bad.txt')), (e: Error) => e instanceof EmbedderError && /\[CLS\]/.test(e.message));
    assert.throws(() => WordPiece.fromFile(join(dir, 'missing.txt')), EmbedderError);
  });
});
