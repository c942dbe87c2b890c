import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { l2normalize, type Embedder } from './embedder.js';
import { MemoryError, MemoryStore } from './store.js';

/** Bag of hashed words, 64 dims: same words, same direction. Deterministic, no model. */
function wordsEmbedder(dimensions = 64, version = 1): Embedder {
  return {
    id: 'test-words',
    version,
    dimensions,
    async embed(texts) {
      return texts.map((t) => {
        const v = new Float32Array(dimensions);
        for (const w of t.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
          const h = createHash('sha256').update(w).digest();
          v[h.readUInt32LE(0) % dimensions]! += h[4]! & 1 ? 1 : -1;
        }
        return l2normalize(v);
      });
    },
  };
}

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-memory-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'memory.db');
}

const DAY = 86400;
const NOW = 1_800_000_000;

test('add, get, count, delete; rows record the embedder', async (t) => {
  const store = MemoryStore.open(tmp(t), wordsEmbedder());
  t.after(() => store.close());
  const [m] = await store.add({ text: 'Alice prefers invoices in euros', kind: 'semantic', owner: 'aa', tags: ['customer:alice', 'customer:alice'], sourceEvents: ['e1'] });
  assert.ok(m);
  assert.equal(m.embedder, 'test-words@1');
  assert.deepEqual(m.tags, ['customer:alice']);
  assert.equal(m.importance, 0.5);
  assert.equal(m.chunkOf, null);
  assert.equal(m.accessCount, 0);
  assert.deepEqual(store.get(m.id), m);
  await store.addMany([
    { text: 'ran the transcription job', kind: 'episodic', owner: 'aa' },
    { text: 'skill: transcribe audio to text', kind: 'procedural', owner: 'bb' },
  ]);
  assert.equal(store.count(), 3);
  assert.equal(store.count({ owner: 'aa' }), 2);
  assert.equal(store.count({ kind: 'procedural' }), 1);
  assert.equal(store.stale(), 0);
  assert.deepEqual(store.find({ owner: 'aa', tag: 'customer:alice' }).map((x) => x.id), [m.id]);
  assert.deepEqual(store.find({ kind: 'procedural' }).map((x) => x.owner), ['bb']);
  assert.equal(store.find({ limit: 2 }).length, 2);
  assert.equal(store.delete(m.id), true);
  assert.equal(store.delete(m.id), false);
  assert.equal(store.get(m.id), undefined);
  assert.equal((await store.search('invoices euros', { mode: 'bm25' })).length, 0);
});

test('bad input: empty text, wrong dimension, bad importance; huge text is chunked', async (t) => {
  const file = tmp(t);
  const store = MemoryStore.open(file, wordsEmbedder(), { maxChunkChars: 200 });
  t.after(() => store.close());
  await assert.rejects(store.add({ text: '   \n ', kind: 'semantic', owner: '' }), MemoryError);
  await assert.rejects(store.add({ text: 'x', kind: 'semantic', owner: '', importance: 2 }), MemoryError);
  await assert.rejects(store.add({ text: 'x', kind: 'nonsense' as 'semantic', owner: '' }), MemoryError);
  assert.throws(() => store.searchVector(new Float32Array(10)), /10 dimensions.*64/);
  const liar: Embedder = { ...wordsEmbedder(), async embed(ts) { return ts.map(() => new Float32Array(32)); } };
  const bad = MemoryStore.open(join(file, '..', 'liar.db'), liar);
  t.after(() => bad.close());
  await assert.rejects(bad.add({ text: 'hello', kind: 'semantic', owner: '' }), (e: unknown) => e instanceof MemoryError && /32 dimensions/.test(e.message));
  assert.equal(bad.count(), 0, 'nothing written when embedding fails');

  const sentences = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} talks about topic ${i % 7}.`);
  const huge = sentences.slice(0, 20).join(' ') + '\n\n' + sentences.slice(20).join(' ');
  const rows = await store.add({ text: huge, kind: 'semantic', owner: 'aa', tags: ['doc'] });
  assert.ok(rows.length > 1, 'chunked');
  for (const r of rows) {
    assert.ok(r.text.length <= 200);
    assert.equal(r.chunkOf, rows[0]!.id);
    assert.match(r.text, /^Sentence number \d+/, 'cut at sentence boundaries');
    assert.deepEqual(r.tags, ['doc']);
  }
  assert.equal(rows.map((r) => r.text).join(' ').replace(/\s+/g, ' '), huge.replace(/\s+/g, ' '));
  const hit = await store.search('number 33', { mode: 'bm25', limit: 1 });
  assert.match(hit[0]!.memory.text, /Sentence number 33/);
  assert.equal(store.delete(rows[0]!.id), true);
  assert.equal(store.count(), 0, 'deleting the first chunk deletes the text');
});

test('filters: owner, kinds, time range, tags; a rare owner is still found', async (t) => {
  const store = MemoryStore.open(tmp(t), wordsEmbedder(), { scanLimit: 10 });
  t.after(() => store.close());
  const ms = Array.from({ length: 300 }, (_, i) => ({
    text: `note ${i} about deploying the relay and invoices`,
    kind: (['episodic', 'semantic', 'procedural'] as const)[i % 3]!,
    owner: i === 299 ? 'rare' : `agent${i % 4}`,
    createdAt: NOW - i * DAY,
    tags: i % 10 === 0 ? ['tenth'] : [],
  }));
  await store.addMany(ms);
  for (const exact of [false, true]) {
    for (const mode of ['hybrid', 'vector', 'bm25'] as const) {
      const o = { exact, mode, touch: false, now: NOW, limit: 50 };
      const rare = await store.search('deploying relay', { ...o, owner: 'rare' });
      assert.deepEqual(rare.map((h) => h.memory.owner), ['rare'], `${mode} exact=${exact}`);
      const sem = await store.search('deploying relay', { ...o, owner: 'agent1', kinds: ['semantic'] });
      assert.ok(sem.length > 0 && sem.every((h) => h.memory.owner === 'agent1' && h.memory.kind === 'semantic'));
      const range = await store.search('deploying relay', { ...o, since: NOW - 10 * DAY, until: NOW - 5 * DAY });
      assert.deepEqual(range.map((h) => h.memory.createdAt).sort(), Array.from({ length: 6 }, (_, i) => NOW - (10 - i) * DAY));
      const tagged = await store.search('invoices', { ...o, tags: ['tenth'], kinds: ['episodic', 'semantic'] });
      assert.ok(tagged.length > 0 && tagged.every((h) => h.memory.tags.includes('tenth') && h.memory.kind !== 'procedural'));
      assert.equal((await store.search('invoices', { ...o, kinds: [] })).length, 0);
    }
  }
});

test('modes, hybrid ranking, recency decay with now, importance, touch', async (t) => {
  const store = MemoryStore.open(tmp(t), wordsEmbedder());
  t.after(() => store.close());
  const [kw] = await store.add({ text: 'order ZX-4411 shipped to Lisbon warehouse', kind: 'episodic', owner: 'a', createdAt: NOW - 5 * DAY });
  const [vec] = await store.add({ text: 'customer likes green tea mornings', kind: 'semantic', owner: 'a', createdAt: NOW - 5 * DAY });
  await store.addMany(Array.from({ length: 40 }, (_, i) => ({ text: `unrelated filler memory ${i} about weather and ${i}`, kind: 'semantic' as const, owner: 'a', createdAt: NOW - 5 * DAY })));
  // A keyword-only hit: BM25 finds the rare token.
  const k = await store.search('where is ZX-4411', { now: NOW, touch: false });
  assert.equal(k[0]!.memory.id, kw!.id);
  assert.ok(k[0]!.parts.bm25 === 1 && k[0]!.parts.vector > 0);
  // A vector hit with the same words in another order and case ("paraphrase-free").
  const v = await store.search('Mornings: green tea, the customer likes', { now: NOW, touch: false, mode: 'vector' });
  assert.equal(v[0]!.memory.id, vec!.id);
  assert.ok(v[0]!.score > 0.9);
  const b = await store.search('ZX 4411 Lisbon', { now: NOW, touch: false, mode: 'bm25' });
  assert.equal(b[0]!.memory.id, kw!.id);
  assert.equal(b[0]!.score, 1);
  // Hybrid: a query naming the order and describing the tea finds both above the filler.
  const both = await store.search('ZX-4411 green tea mornings', { now: NOW, touch: false, limit: 2 });
  assert.deepEqual(new Set(both.map((h) => h.memory.id)), new Set([kw!.id, vec!.id]));
  // Recency: two identical texts, the newer ranks first; the part halves every half-life.
  const [old] = await store.add({ text: 'backup rotated nightly', kind: 'semantic', owner: 'b', createdAt: NOW - 60 * DAY });
  const [fresh] = await store.add({ text: 'backup rotated nightly', kind: 'semantic', owner: 'b', createdAt: NOW });
  const r = await store.search('backup rotated nightly', { owner: 'b', now: NOW, touch: false });
  assert.deepEqual(r.map((h) => h.memory.id), [fresh!.id, old!.id]);
  assert.ok(Math.abs(r[1]!.parts.recency - 0.25) < 1e-9, 'two half-lives of 30 days');
  const r7 = await store.search('backup rotated nightly', { owner: 'b', now: NOW, touch: false, weights: { halfLifeDays: 60 } });
  assert.ok(Math.abs(r7[1]!.parts.recency - 0.5) < 1e-9);
  // Importance breaks a tie the other way when recency is switched off.
  const [imp] = await store.add({ text: 'backup rotated nightly', kind: 'semantic', owner: 'b', createdAt: NOW - 60 * DAY, importance: 1 });
  const ri = await store.search('backup rotated nightly', { owner: 'b', now: NOW, touch: false, weights: { recency: 0 } });
  assert.equal(ri[0]!.memory.id, imp!.id);
  // touch: default marks accessed.
  const touched = await store.search('ZX-4411', { now: NOW, limit: 1 });
  assert.equal(touched[0]!.memory.accessCount, 1);
  assert.equal(store.get(kw!.id)!.accessedAt, NOW);
});

function randomUnit(dim: number, rnd: () => number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = Math.sqrt(-2 * Math.log(rnd() || 1e-12)) * Math.cos(2 * Math.PI * rnd());
  return l2normalize(v);
}

test('quantised shortlist agrees with exact search on 5K random vectors (recall@10 >= 0.95)', { timeout: 300_000 }, async (t) => {
  let seed = 42;
  const rnd = (): number => {
    // mulberry32: a full-period generator (a plain LCG repeats vectors here)
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const dim = 384;
  const table = new Map<string, Float32Array>();
  const embedder: Embedder = { id: 'table', version: 1, dimensions: dim, async embed(ts) { return ts.map((x) => table.get(x)!); } };
  // scanLimit 10: filtered searches go through the shortlist (and its widening), not a scan.
  const store = MemoryStore.open(tmp(t), embedder, { scanLimit: 10 });
  t.after(() => store.close());
  const ms = Array.from({ length: 5000 }, (_, i) => {
    table.set(`doc ${i}`, randomUnit(dim, rnd));
    return { text: `doc ${i}`, kind: 'semantic' as const, owner: `o${i % 50}` };
  });
  await store.addMany(ms);
  let hit = 0;
  const Q = 40;
  for (let q = 0; q < Q; q++) {
    const v = randomUnit(dim, rnd);
    const exact = store.searchVector(v, { exact: true, touch: false });
    const fast = store.searchVector(v, { touch: false });
    assert.equal(exact.length, 10);
    assert.ok(exact.every((h, i) => i === 0 || h.score <= exact[i - 1]!.score));
    const truth = new Set(exact.map((h) => h.memory.id));
    hit += fast.filter((h) => truth.has(h.memory.id)).length;
    if (q % 10 === 0) {
      const owner = `o${q}`;
      const ex = store.searchVector(v, { exact: true, touch: false, owner });
      const fa = store.searchVector(v, { touch: false, owner });
      assert.equal(fa.length, 10);
      assert.ok(fa.every((h) => h.memory.owner === owner));
      assert.deepEqual(fa.map((h) => h.memory.id), ex.map((h) => h.memory.id));
    }
  }
  const recall = hit / (Q * 10);
  t.diagnostic(`recall@10 = ${recall}`);
  assert.ok(recall >= 0.95, `recall@10 ${recall}`);
});
