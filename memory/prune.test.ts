import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { l2normalize, type Embedder } from './embedder.js';
import { MemoryStore } from './store.js';
import { prune } from './prune.js';

const words: Embedder = {
  id: 'test-words',
  version: 1,
  dimensions: 64,
  async embed(texts) {
    return texts.map((t) => {
      const v = new Float32Array(64);
      for (const w of t.toLowerCase().match(/[a-z0-9]+/g) ?? []) v[createHash('sha256').update(w).digest().readUInt32LE(0) % 64]! += 1;
      return l2normalize(v);
    });
  },
};

const DAY = 86400;
const NOW = 1_800_000_000;

test('prune: dry run reports, real run compacts each owner+kind group into one summary', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-memory-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = MemoryStore.open(join(dir, 'memory.db'), words);
  t.after(() => store.close());
  const old = NOW - 200 * DAY;
  const mk = (text: string, owner: string, o: { kind?: 'episodic' | 'semantic'; importance?: number; createdAt?: number } = {}) => ({
    text, owner, kind: o.kind ?? 'episodic', importance: o.importance ?? 0.2, createdAt: o.createdAt ?? old, sourceEvents: [`ev-${text.length}-${owner}`], tags: ['job'],
  });
  const [a1, a2, a3] = await store.addMany([
    mk('Transcribed a podcast for bob. It took long.', 'alice'),
    mk('Translated a menu. Customer was happy.', 'alice', { importance: 0.3, createdAt: old + DAY }),
    mk('Summarised a paper. Nothing special.', 'alice'),
  ]);
  const keep = await store.addMany([
    mk('Important lesson: always check the sample rate.', 'alice', { importance: 0.9 }),
    mk('Recent job about invoices.', 'alice', { createdAt: NOW - DAY }),
    mk('Only one old semantic fact.', 'alice', { kind: 'semantic' }),
    mk('Accessed memory about sox.', 'alice'),
  ]);
  const [b1, b2] = await store.addMany([mk('Bob job one.', 'bob'), mk('Bob job two.', 'bob')]);
  await store.search('sox', { mode: 'bm25', limit: 1, now: NOW }); // accessed: kept
  const before = store.count();

  const dry = await prune(store, { now: NOW, dryRun: true });
  assert.equal(dry.candidates, 6);
  assert.equal(dry.removed, 0);
  assert.equal(dry.summariesWritten, 0);
  assert.deepEqual(dry.groups.map((g) => [g.owner, g.kind, g.ids]), [
    ['alice', 'episodic', [a1!.id, a2!.id, a3!.id]],
    ['bob', 'episodic', [b1!.id, b2!.id]],
  ]);
  assert.equal(dry.groups[0]!.summary, 'Transcribed a podcast for bob. Translated a menu. Summarised a paper.');
  assert.equal(store.count(), before, 'dry run changes nothing');

  const real = await prune(store, { now: NOW, summarize: (ts) => `summary of ${ts.length}` });
  assert.equal(real.removed, 5);
  assert.equal(real.summariesWritten, 2);
  assert.equal(store.count(), before - 5 + 2);
  for (const m of keep) assert.ok(store.get(m.id), `kept: ${m.text}`);
  const [s] = await store.search('summary of 3', { mode: 'bm25', owner: 'alice', limit: 1, touch: false });
  assert.equal(s!.memory.text, 'summary of 3');
  assert.equal(s!.memory.importance, 0.3, 'highest importance of the group');
  assert.equal(s!.memory.createdAt, old + DAY);
  assert.equal(s!.memory.kind, 'episodic');
  assert.deepEqual([...s!.memory.sourceEvents].sort(), [a1!, a2!, a3!].map((m) => m.sourceEvents[0]!).sort());
  assert.deepEqual([...s!.memory.tags].sort(), ['job', 'summary']);
  const vs = await store.search('summary', { mode: 'vector', owner: 'bob', limit: 1, touch: false });
  assert.equal(vs[0]!.memory.text, 'summary of 2');
});
