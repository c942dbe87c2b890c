// The shape of the memory retrieval collection (bench/data/memory/): enough documents and queries,
// unique ids, every judged id exists, and the queries' relevant documents are written in other words
// than the query (the lexical-overlap statistic below stays low), so that the benchmark measures
// matching of meaning and not of spelling. The figure is printed for bench/data/memory/README.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCollection, type Doc, type Query } from './lib/memory-data.js';



// Function words only: what is left of a query is what it is about.
const STOP = new Set(
  (
    'a about after again all am an and any anything are as at back be been before being but by can could did do does ' +
    'done for from get got had has have he her here him his how i if in into is it its just know like me more most much ' +
    'must my need no not of off on or our out over own really she should so some something than that the their them ' +
    'then there these they this those through to too up us very want was we were what when where which while who why ' +
    'will with without would you your'
  ).split(' '),
);

/** Light stemming so that "cars" meets "car" and "fixed" meets "fix": the statistic must not flatter the collection. */
function stem(w: string): string {
  for (const [suf, rep] of [
    ['ies', 'y'],
    ['ing', ''],
    ['ed', ''],
    ['es', ''],
    ['s', ''],
  ] as const)
    if (w.endsWith(suf) && w.length - suf.length >= 3 && !w.endsWith('ss')) return w.slice(0, -suf.length) + rep;
  return w;
}

function contentWords(text: string): Set<string> {
  const words = text.toLowerCase().replace(/'s\b/g, '').match(/[a-z0-9]+/g) ?? [];
  return new Set(words.filter((w) => !STOP.has(w)).map(stem));
}

/** Mean over queries of the fraction of the query's content words found in any of its relevant documents. */
function lexicalOverlap(docs: readonly Doc[], queries: readonly Query[]): { mean: number; perQuery: Map<string, number> } {
  const byId = new Map(docs.map((d) => [d.id, d]));
  const perQuery = new Map<string, number>();
  for (const q of queries) {
    const qw = contentWords(q.text);
    const dw = new Set<string>();
    for (const id of Object.keys(q.relevant)) for (const w of contentWords(byId.get(id)?.text ?? '')) dw.add(w);
    let hit = 0;
    for (const w of qw) if (dw.has(w)) hit++;
    perQuery.set(q.id, qw.size === 0 ? 0 : hit / qw.size);
  }
  let s = 0;
  for (const v of perQuery.values()) s += v;
  return { mean: s / Math.max(1, perQuery.size), perQuery };
}

const docs = readCollection<Doc>('docs.jsonl');
const queries = readCollection<Query>('queries.jsonl');

test('memory collection: at least 200 documents with unique ids, text and a topic', () => {
  assert.ok(docs.length >= 200, `${docs.length} docs`);
  assert.equal(new Set(docs.map((d) => d.id)).size, docs.length, 'doc ids are unique');
  for (const d of docs) {
    assert.match(d.id, /^d\d{3}$/);
    assert.equal(typeof d.text, 'string');
    assert.ok(d.text.trim().length > 10, d.id);
    assert.ok(typeof d.topic === 'string' && d.topic.length > 0, d.id);
  }
  assert.ok(new Set(docs.map((d) => d.topic)).size >= 15, 'many topics');
});

test('memory collection: at least 50 queries, each with 1-5 judged documents that exist, graded 1 or 2', () => {
  assert.ok(queries.length >= 50, `${queries.length} queries`);
  assert.equal(new Set(queries.map((q) => q.id)).size, queries.length, 'query ids are unique');
  const ids = new Set(docs.map((d) => d.id));
  for (const q of queries) {
    const judged = Object.entries(q.relevant);
    assert.ok(judged.length >= 1 && judged.length <= 5, `${q.id} has ${judged.length} judged docs`);
    assert.ok(judged.some(([, g]) => g === 2), `${q.id} has a highly relevant doc`);
    for (const [id, g] of judged) {
      assert.ok(ids.has(id), `${q.id} judges ${id}, which does not exist`);
      assert.ok(g === 1 || g === 2, `${q.id}: grade ${g}`);
    }
    assert.ok(contentWords(q.text).size > 0, `${q.id} has content words`);
    assert.ok(q.style === 'paraphrase' || q.style === 'anchored', `${q.id}: style ${q.style}`);
  }
  assert.ok(queries.filter((q) => q.style === 'paraphrase').length >= 50, 'at least 50 pure paraphrase queries');
});

test('memory collection: relevant documents use other words than their queries (lexical overlap < 0.2)', () => {
  const { mean, perQuery } = lexicalOverlap(docs, queries);
  const worst = [...perQuery].sort((a, b) => b[1] - a[1]).slice(0, 3);
  console.log(`lexical overlap: mean ${mean.toFixed(3)} over ${perQuery.size} queries; highest ${worst.map(([id, v]) => `${id} ${v.toFixed(2)}`).join(', ')}`);
  assert.ok(mean < 0.2, `mean lexical overlap ${mean.toFixed(3)}`);
  const para = queries.filter((q) => q.style === 'paraphrase').map((q) => perQuery.get(q.id)!);
  const anchored = queries.filter((q) => q.style === 'anchored').map((q) => perQuery.get(q.id)!);
  const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  console.log(`lexical overlap: paraphrase queries ${avg(para).toFixed(3)} (${para.length}), anchored queries ${avg(anchored).toFixed(3)} (${anchored.length})`);
  assert.ok(avg(para) < 0.05, `paraphrase queries' overlap ${avg(para).toFixed(3)}`);
  // An anchored query shares its name or rare term, and not much more.
  for (const q of queries.filter((x) => x.style === 'anchored')) {
    const v = perQuery.get(q.id)!;
    assert.ok(v > 0 && v <= 0.5, `${q.id} (anchored) overlap ${v.toFixed(2)}`);
  }
  // And the distractors exist: most queries share a content word with some document that is NOT relevant.
  let withDistractor = 0;
  for (const q of queries) {
    const qw = contentWords(q.text);
    if (docs.some((d) => !(d.id in q.relevant) && [...contentWords(d.text)].some((w) => qw.has(w)))) withDistractor++;
  }
  console.log(`queries with a lexical distractor: ${withDistractor} of ${queries.length}`);
  assert.ok(withDistractor >= queries.length * 0.6, `${withDistractor} of ${queries.length} queries have a distractor`);
});
