// Corpus replay: every file of test/fuzz/corpus/<target>/ (seeds from the specs' vectors and our
// encoders, and each input the fuzzer once broke a decoder with, as `regress-*`) through its target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { corpus, CORPUS_DIR } from './support.js';
import { TARGETS } from './targets.js';

test('every corpus directory has a target and every target a corpus', () => {
  const dirs = readdirSync(CORPUS_DIR).sort();
  assert.deepEqual(dirs, Object.keys(TARGETS).sort());
});

for (const [name, run] of Object.entries(TARGETS)) {
  test(`corpus replay: ${name}`, () => {
    const files = corpus(name);
    assert.ok(files.length > 0, `no seeds for ${name}`);
    for (const [file, text] of files) {
      try {
        run(text);
      } catch (err) {
        assert.fail(`${name}/${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  });
}
