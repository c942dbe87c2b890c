import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashingEmbedder } from './hashing.js';
import { defaultEmbedder } from './ngram.js';

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (v: Float32Array): number => Math.sqrt(dot(v, v));

async function sim(e: ReturnType<typeof defaultEmbedder>, a: string, b: string): Promise<number> {
  const [x, y] = await e.embed([a, b]);
  return dot(x!, y!);
}

test('default: deterministic, unit length, dimensions and id', async () => {
  const e = defaultEmbedder();
  assert.equal(e.id, 'ngram-wordnet');
  assert.equal(e.dimensions, 384);
  assert.equal(defaultEmbedder({ wordnet: false }).id, 'ngram');
  const text = 'Agents remember what a repeat customer asked for last week.';
  const [a, b] = await e.embed([text, text]);
  const [c] = await defaultEmbedder().embed([text]);
  assert.equal(a!.length, 384);
  assert.deepEqual(a, b);
  assert.deepEqual(a, c, 'same vector from a fresh embedder');
  assert.ok(Math.abs(norm(a!) - 1) < 1e-5);
  const [d] = await defaultEmbedder({ dimensions: 128 }).embed([text]);
  assert.equal(d!.length, 128);
  assert.ok(Math.abs(norm(d!) - 1) < 1e-5);
  const [empty] = await e.embed(['']);
  assert.equal(norm(empty!), 0);
  assert.deepEqual(await e.embed([]), []);
});

test('default: WordNet synsets make synonyms meet ("automobile" ~ "car", not "banana")', async () => {
  const e = defaultEmbedder();
  const car = await sim(e, 'automobile', 'car');
  const banana = await sim(e, 'automobile', 'banana');
  assert.ok(car > banana + 0.1, `automobile~car ${car.toFixed(3)} vs automobile~banana ${banana.toFixed(3)}`);
  assert.ok(
    (await sim(e, 'my car needs repair', 'the automobile is broken and needs fixing')) >
      (await sim(e, 'my car needs repair', 'a ripe banana on the table')),
  );
  // Without WordNet the two words share nothing but hash collisions.
  const plain = defaultEmbedder({ wordnet: false });
  assert.ok((await sim(plain, 'automobile', 'car')) < car);
});

test('default: plural and verb forms match ("running shoes" ~ "run shoe")', async () => {
  const e = defaultEmbedder();
  const forms = await sim(e, 'running shoes', 'run shoe');
  const other = await sim(e, 'running shoes', 'baking bread');
  assert.ok(forms > 0.5, `running shoes~run shoe ${forms.toFixed(3)}`);
  assert.ok(forms > other + 0.3);
  assert.ok((await sim(e, 'she stopped the boxes', 'stop box')) > 0.4);
});

test('default: typos match, through character n-grams and the WordNet lemma one edit away', async () => {
  const e = defaultEmbedder();
  const typo = await sim(e, 'transcripton of podcats', 'transcription of podcasts');
  const unrelated = await sim(e, 'transcripton of podcats', 'invoice payment failed');
  assert.ok(typo > 0.3 && typo > unrelated + 0.3, `typo ${typo.toFixed(3)} vs unrelated ${unrelated.toFixed(3)}`);
  assert.ok((await sim(e, 'recieve', 'receive')) > (await sim(e, 'recieve', 'banana')) + 0.3);
  // A capitalised word may be a name: no typo correction ("Jenna" is not the town of Jena).
  assert.ok((await sim(e, 'jenna', 'jena')) > (await sim(e, 'Jenna', 'jena')) + 0.2);
  // Without WordNet only the character n-grams are left: a partial match, still above unrelated text.
  const plain = defaultEmbedder({ wordnet: false });
  const partial = await sim(plain, 'transcripton of podcats', 'transcription of podcasts');
  assert.ok(partial > (await sim(plain, 'transcripton of podcats', 'invoice payment failed')) + 0.05, `partial ${partial.toFixed(3)}`);
  // The baseline sees two different words.
  const [x, y] = await hashingEmbedder().embed(['transcripton', 'transcription']);
  assert.ok(Math.abs(dot(x!, y!)) < partial);
});

test('default: stop words are weighted down, not dropped', async () => {
  const e = defaultEmbedder();
  const [a, b] = await e.embed(['to be or not to be', 'the cat']);
  assert.ok(norm(a!) > 0.99);
  assert.ok((await sim(e, 'the cat', 'a cat')) > (await sim(e, 'the cat', 'the dog')));
});

test('default: an aborted signal stops a batch', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(defaultEmbedder().embed(['x'], ac.signal));
});

test('throughput of hashing and default on 100-word texts (printed)', async (t) => {
  const vocab = (
    'agent memory relay customer audio transcript podcast invoice lightning payment model speech voice search ' +
    'summary skill request result job market auction bid price reputation label event key signature note reply ' +
    'the a of to and in for with on at by from about'
  ).split(' ');
  let seed = 7;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const texts = Array.from({ length: 500 }, (_, i) =>
    Array.from({ length: 100 }, (_, j) => (j % 17 === 0 ? `w${i}x${j}` : vocab[Math.floor(rnd() * vocab.length)]!)).join(' '),
  );
  for (const e of [hashingEmbedder(), defaultEmbedder()]) {
    await e.embed(['warm-up (and the WordNet load)']);
    // First pass: every word is new to the embedder's caches; second pass: all cached.
    for (const pass of ['cold', 'warm']) {
      const t0 = performance.now();
      const out = await e.embed(texts);
      const perSec = texts.length / ((performance.now() - t0) / 1000);
      assert.equal(out.length, texts.length);
      t.diagnostic(`${e.id}: ${perSec.toFixed(0)} texts/s (100 words each, ${pass})`);
      console.log(`${e.id}: ${perSec.toFixed(0)} texts/s (100 words each, ${pass})`);
    }
  }
});
