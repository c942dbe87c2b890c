import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WhisperTokenizer, bytesToUnicode } from './tokenizer.js';

// GPT-2 byte-level tokens written out by hand: "Ġ" is a space, "Ã"+"©" are the two bytes of "é",
// "ðŁĺĢ" the four bytes of "😀" (F0 9F 98 80), deliberately split across two tokens.
const VOCAB: Record<string, number> = { Hello: 0, 'Ġw': 1, orld: 2, 'Ġcaf': 3, 'Ã': 4, '©': 5, 'ĠðŁ': 6, 'ĺĢ': 7, 'Ċ': 8, 'Ġ': 9 };
const SPECIAL = ['<|endoftext|>', '<|startoftranscript|>', '<|en|>', '<|de|>', '<|translate|>', '<|transcribe|>', '<|startoflm|>', '<|startofprev|>', '<|nospeech|>', '<|notimestamps|>'];
const stamps = Array.from({ length: 1501 }, (_, i) => `<|${(i * 0.02).toFixed(2)}|>`);

function tokenizerJson() {
  return {
    model: { type: 'BPE', vocab: VOCAB },
    added_tokens: [...SPECIAL, ...stamps].map((content, i) => ({ id: 10 + i, content, special: true })),
  };
}

test('bytes_to_unicode is GPT-2 table: printable bytes map to themselves, the rest shift past 255', () => {
  const t = bytesToUnicode();
  assert.equal(t.size, 256);
  assert.equal(t.get(0x41), 'A');
  assert.equal(t.get(0x20), 'Ġ');
  assert.equal(t.get(0x0a), 'Ċ');
  assert.equal(t.get(0x9f), 'Ł');
  assert.equal(new Set(t.values()).size, 256);
});

test('decoding joins bytes before UTF-8, so characters split across tokens survive', () => {
  const tok = new WhisperTokenizer(VOCAB, tokenizerJson().added_tokens);
  assert.equal(tok.decode([0, 1, 2]), 'Hello world');
  assert.equal(tok.decode([3, 4, 5]), ' café');
  assert.equal(tok.decode([6, 7, 8]), ' 😀\n');
  assert.equal(tok.decode([6]), ' \uFFFD'); // half an emoji alone is not text
});

test('special tokens: ids, skipping, and timestamps as seconds', () => {
  const tok = new WhisperTokenizer(VOCAB, tokenizerJson().added_tokens);
  assert.equal(tok.eot, 10);
  assert.equal(tok.sot, 11);
  assert.equal(tok.transcribe, 15);
  assert.equal(tok.translate, 14);
  assert.equal(tok.noTimestamps, 19);
  assert.equal(tok.timestampBegin, 20);
  assert.equal(tok.languageToken('en'), 12);
  assert.equal(tok.languageToken('de-DE'), 13);
  assert.deepEqual([...tok.languages.keys()], ['en', 'de']);
  assert.equal(tok.timestampSeconds(20), 0);
  assert.equal(tok.timestampSeconds(20 + 1500), 30);
  assert.equal(tok.timestampSeconds(20 + 77), 1.54);
  assert.equal(tok.id('<|1.54|>'), 97);
  assert.ok(tok.isTimestamp(97) && !tok.isTimestamp(19));
  const ids = [11, 12, 15, 20, 0, 1, 2, 70, 10];
  assert.equal(tok.decode(ids), 'Hello world');
  assert.equal(tok.decode(ids, { skipSpecial: false }), '<|startoftranscript|><|en|><|transcribe|><|0.00|>Hello world<|1.00|><|endoftext|>');
  assert.deepEqual(tok.blankIds(), [9]);
});

test('fromDir: tokenizer.json with generation_config.json, and the vocab.json + added_tokens.json layout', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'whisper-tok-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ lang_to_id: { '<|en|>': 12 }, is_multilingual: true }));
  const a = await WhisperTokenizer.fromDir(dir);
  assert.deepEqual([...a.languages.keys()], ['en']);
  assert.equal(a.decode([3, 4, 5]), ' café');

  const old = join(dir, 'old');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(old);
  await writeFile(join(old, 'vocab.json'), JSON.stringify(VOCAB));
  // old exports list no timestamp tokens: they start right after <|notimestamps|>
  await writeFile(join(old, 'added_tokens.json'), JSON.stringify(Object.fromEntries(SPECIAL.map((s, i) => [s, 10 + i]))));
  const b = await WhisperTokenizer.fromDir(old);
  assert.equal(b.timestampBegin, 20);
  assert.equal(b.token(70), '<|1.00|>');
  assert.equal(b.decode([0, 70, 1, 2]), 'Hello world');
});

test('English-only models (is_multilingual false) have no language tokens in the prompt', () => {
  const tok = new WhisperTokenizer(VOCAB, tokenizerJson().added_tokens, { is_multilingual: false });
  assert.equal(tok.languages.size, 0);
});
