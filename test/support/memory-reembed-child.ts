// A child process for the kill test of re-embedding: opens the store with the new embedder and
// re-embeds slowly, printing progress, until the parent kills it with SIGKILL.
import { MemoryStore } from '../../memory/store.js';
import { reembed } from '../../memory/reembed.js';
import { hashingEmbedder } from '../../memory/embedders/hashing.js';
import type { Embedder } from '../../memory/embedder.js';

export function slowNewEmbedder(delayMs: number): Embedder {
  const inner = hashingEmbedder({ dimensions: 96 });
  return {
    id: 'hashing-v2-test',
    version: 2,
    dimensions: 96,
    async embed(texts, signal) {
      await new Promise((r) => setTimeout(r, delayMs));
      return inner.embed(texts, signal);
    },
  };
}

if (process.argv[2] === 'run') {
  const store = MemoryStore.open(process.argv[3]!, slowNewEmbedder(Number(process.argv[4] ?? 20)));
  await reembed(store, { batch: 25, onProgress: (done, total) => console.log(`progress ${done} ${total}`) });
  console.log('done');
  store.close();
}
