// 5302's semantic half: the agents' memories searched by meaning, answered as the ids of the
// events behind them (the job requests and results they remember). Memories of encrypted jobs are
// never offered: their content was private to that customer.
import type { MemoryStore } from '../../memory/store.js';
import { PRIVATE_TAG } from './episode.js';

export function memoryRecall(store: MemoryStore): (query: string, limit: number) => Promise<string[]> {
  return async (query, limit) => {
    const hits = await store.search(query, { limit: limit * 2, kinds: ['episodic', 'semantic'], touch: false });
    const ids: string[] = [];
    for (const h of hits) {
      if (h.memory.tags.includes(PRIVATE_TAG)) continue;
      for (const id of h.memory.sourceEvents) if (/^[0-9a-f]{64}$/.test(id) && !ids.includes(id)) ids.push(id);
      if (ids.length >= limit) break;
    }
    return ids;
  };
}
