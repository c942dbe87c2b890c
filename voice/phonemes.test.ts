import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VoiceError } from './engine.js';
import { espeakVoice, espeakVoiceName, phonemizeSentence, phonemizeText, phonemizerTiming, splitClauses, splitSentences, warmUpPhonemizer } from './phonemes.js';

test('the first phonemizer call loads the WASM; it warms up, then sentences are timed too', { timeout: 120_000 }, async (t) => {
  assert.equal(await phonemizeSentence('hello world'), 'həlˈoʊ wˈɜːld');
  const first = phonemizerTiming();
  assert.ok(first.firstCallMs !== undefined && first.firstCallMs > 0);
  const warmUp = await warmUpPhonemizer();
  const text = Array.from({ length: 10 }, (_, i) => `This is sentence number ${i + 1} of the benchmark.`).join(' ');
  const before = phonemizerTiming();
  const t0 = performance.now();
  const s = await phonemizeText(text);
  const ms = performance.now() - t0;
  assert.equal(s.length, 10);
  const after = phonemizerTiming();
  assert.equal(after.calls - before.calls, 10, 'one espeak call per clause');
  assert.ok(after.warmMs > before.warmMs);
  t.diagnostic(
    `phonemizer: first call ${first.firstCallMs.toFixed(0)} ms (WASM load + init), warm-up of 8 sentences ${warmUp.toFixed(0)} ms, ` +
      `then ${(ms / 10).toFixed(1)} ms per 8-word sentence`,
  );
});

test('English words come out as stable IPA with stress marks', async () => {
  assert.equal(await phonemizeSentence('hello world', 'en-us'), 'həlˈoʊ wˈɜːld');
  assert.equal(await phonemizeSentence('Hello world', 'en-us'), 'həlˈoʊ wˈɜːld', 'case does not matter');
  assert.equal(await phonemizeSentence('hello world', espeakVoice('en-GB')), 'həlˈəʊ wˈɜːld');
  // The same text twice gives the same phonemes (voice switches do not leak between calls).
  assert.equal(await phonemizeSentence('the quick brown fox'), await phonemizeSentence('the quick brown fox'));
  assert.equal(await phonemizeSentence('the quick brown fox'), 'ðə kwˈɪk bɹˈaʊn fˈɑːks');
});

test('punctuation is put back between clauses, as piper-phonemize does', async () => {
  const s = await phonemizeText('Hello, world. How are you?');
  assert.deepEqual(s, [
    { text: 'Hello, world.', phonemes: 'həlˈoʊ, wˈɜːld.' },
    { text: 'How are you?', phonemes: 'hˈaʊ ɑːɹ juː?' },
  ]);
  assert.deepEqual(await phonemizeText('  ...  '), [], 'nothing to say');
});

test('sentences split at terminators, not at abbreviations or decimals', () => {
  assert.deepEqual(splitSentences('Dr. Smith is here. He left! Did he? Pi is 3.14 ok'), ['Dr. Smith is here.', 'He left!', 'Did he?', 'Pi is 3.14 ok']);
  assert.deepEqual(splitSentences('One line\n\nAnother "quoted." Done'), ['One line', 'Another "quoted."', 'Done']);
  assert.deepEqual(splitClauses('Hello, world; how are you: fine — thanks Dr. Who.'), [
    { words: 'Hello', punct: ',' },
    { words: 'world', punct: ';' },
    { words: 'how are you', punct: ':' },
    { words: 'fine', punct: '—' },
    { words: 'thanks Dr. Who', punct: '.' },
  ]);
});

test('language tags map to the espeak voices the WASM build has', () => {
  assert.equal(espeakVoice('en'), 'en-us');
  assert.equal(espeakVoice('en-US'), 'en-us');
  assert.equal(espeakVoice('en_GB'), 'en');
  assert.equal(espeakVoice('en-AU'), 'en-us');
  assert.equal(espeakVoiceName('en-gb-x-rp'), 'en-gb-x-rp');
  assert.equal(espeakVoiceName('en-gb'), 'en', 'en-gb does not switch voices in the WASM build');
  assert.throws(() => espeakVoice('de'), (e: unknown) => e instanceof VoiceError && e.status === 422 && /English only/.test(e.message));
  assert.throws(() => espeakVoiceName('de'), VoiceError);
});
