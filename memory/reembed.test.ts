import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { l2normalize, type Embedder } from './embedder.js';
import { MemoryStore } from './store.js';
import { reembed } from './reembed.js';

/** Bag of hashed words; `calls` counts embed() calls so a test can abort after the first batch. */
function wordsEmbedder(dimensions: number, version: number, calls = { n: 0 }): Embedder {
  return {
    id: 'test-words',
    version,
    dimensions,
    async embed(texts) {
      calls.n++;
      return texts.map((t) => {
        const v = new Float32Array(dimensions);
        for (const w of t.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
          const h = createHash('sha256').update(`${version}:${w}`).digest();
          v[h.readUInt32LE(0) % dimensions]! += h[4]! & 1 ? 1 : -1;
        }
        return l2normalize(v);
      });
    },
  };
}

test('re-embed across an embedder change (new version, new dimension): no row lost, resumable after abort', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-memory-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'memory.db');
  const v1 = MemoryStore.open(file, wordsEmbedder(64, 1));
  const texts = Array.from({ length: 250 }, (_, i) => `memory ${i} word${i} about topic${i % 9}`);
  await v1.addMany(texts.map((text, i) => ({ text, kind: 'semantic' as const, owner: `o${i % 3}`, tags: [`t${i % 5}`] })));
  const before = (await v1.search(texts[17]!, { mode: 'vector', limit: 1, touch: false }))[0]!.memory;
  assert.equal(before.text, texts[17]);
  v1.close();

  // The new embedder: another version and 96 dimensions, so a new vec0 table is needed.
  const calls = { n: 0 };
  const ac = new AbortController();
  let v2 = MemoryStore.open(file, wordsEmbedder(96, 2, calls));
  assert.equal(v2.stale(), 250);
  assert.equal(v2.count(), 250);
  // Unmigrated rows are still found by keyword meanwhile.
  assert.equal((await v2.search('word17', { mode: 'bm25', limit: 1, touch: false }))[0]!.memory.id, before.id);
  const progress: number[] = [];
  const first = await reembed(v2, {
    batch: 40,
    signal: ac.signal,
    onProgress: (done) => {
      progress.push(done);
      ac.abort(); // "killed" after the first batch
    },
  });
  assert.deepEqual(first, { migrated: 40, remaining: 210 });
  assert.deepEqual(progress, [40]);
  v2.close();

  // A process that still runs the old embedder can still search its old vectors meanwhile.
  const old = MemoryStore.open(file, wordsEmbedder(64, 1));
  assert.equal((await old.search(texts[200]!, { mode: 'vector', limit: 1, touch: false }))[0]!.memory.text, texts[200]);
  old.close();

  v2 = MemoryStore.open(file, wordsEmbedder(96, 2, calls));
  t.after(() => v2.close());
  assert.equal(v2.stale(), 210);
  const rest = await reembed(v2, { batch: 40 });
  assert.deepEqual(rest, { migrated: 210, remaining: 0 });
  assert.equal(v2.stale(), 0);
  assert.equal(v2.count(), 250);
  for (let i = 0; i < 250; i += 7) {
    const hits = await v2.search(texts[i]!, { mode: 'vector', limit: 1, touch: false, exact: i % 2 === 0 });
    assert.equal(hits[0]!.memory.text, texts[i]);
    assert.equal(hits[0]!.memory.embedder, 'test-words@2');
    assert.deepEqual(hits[0]!.memory.tags, [`t${i % 5}`]);
  }
  // The old space was dropped once nothing referred to it; a rerun has nothing to do.
  assert.deepEqual(await reembed(v2), { migrated: 0, remaining: 0 });
  assert.equal(v2.get(before.id)!.text, before.text);
});
