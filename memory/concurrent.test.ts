import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { l2normalize, type Embedder } from './embedder.js';
import { MemoryStore } from './store.js';

// Each worker is a separate SQLite connection in its own thread, like an agent process:
// it opens the same file (racing on the first migration), writes in many small transactions
// and searches in between.
const WORKER = `
import { workerData, parentPort } from 'node:worker_threads';
const { MemoryStore } = await import(workerData.store);
const { l2normalize } = await import(workerData.embedderModule);
const embedder = { id: 'letters', version: 1, dimensions: 32, async embed(ts) {
  await new Promise((r) => setTimeout(r, 1));
  return ts.map((t) => { const v = new Float32Array(32); for (const c of t) v[c.charCodeAt(0) % 32] += 1; return l2normalize(v); });
} };
const store = MemoryStore.open(workerData.file, embedder);
for (let b = 0; b < workerData.batches; b++) {
  const ms = Array.from({ length: 10 }, (_, i) => ({ text: 'agent ' + workerData.who + ' memory ' + workerData.who + b + 'x' + i, kind: 'episodic', owner: workerData.who }));
  if (b % 2) for (const m of ms) await store.add(m); else await store.addMany(ms);
  await store.search('memory ' + b, { owner: workerData.who, limit: 3 });
}
store.close();
parentPort.postMessage('done');
`;

test('concurrent writers: 4 threads with their own connections, every row lands', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-memory-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'memory.db');
  const batches = 12;
  const who = ['a', 'b', 'c', 'd'];
  await Promise.all(
    who.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(WORKER)}`), {
            workerData: { file, who: w, batches, store: new URL('./store.js', import.meta.url).href, embedderModule: new URL('./embedder.js', import.meta.url).href },
          });
          worker.once('message', () => resolve());
          worker.once('error', reject);
          worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${w} exited ${code}`))));
        }),
    ),
  );
  const embedder: Embedder = { id: 'letters', version: 1, dimensions: 32, async embed(ts) { return ts.map(() => l2normalize(new Float32Array(32).fill(1))); } };
  const store = MemoryStore.open(file, embedder);
  t.after(() => store.close());
  assert.equal(store.count(), who.length * batches * 10);
  for (const w of who) assert.equal(store.count({ owner: w }), batches * 10);
  const hits = await store.search('c7x3', { mode: 'bm25', limit: 5, touch: false });
  assert.deepEqual(hits.map((h) => h.memory.text), ['agent c memory c7x3']);
});
