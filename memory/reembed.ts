// Re-embeds the rows whose vector was made by another embedder (id or version) than the store's.
// Batches: embed outside any lock, then one transaction writes the batch's vectors into the
// store's own space (its own vec0 table, so a new dimension is no problem) and marks the rows.
// A kill loses at most the batch in flight; a rerun picks up whatever is still stale. The old
// spaces keep their vectors until no row refers to them, then they are dropped.
import type { MemoryStore } from './store.js';

export async function reembed(
  store: MemoryStore,
  o: { batch?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ migrated: number; remaining: number }> {
  const batch = Math.max(1, o.batch ?? 64);
  const total = store.stale();
  let migrated = 0;
  // Ids already tried this run: a row another writer keeps stale cannot make the loop spin.
  let after = 0;
  while (!o.signal?.aborted) {
    const rows = store.staleRows(batch, after);
    if (rows.length === 0) break;
    let vecs: Float32Array[];
    try {
      vecs = await store.embed(rows.map((r) => r.text), o.signal);
    } catch (err) {
      if (o.signal?.aborted) break; // aborted while embedding: the batch simply did not happen
      throw err;
    }
    migrated += store.writeReembedded(rows.map((r, i) => ({ id: r.id, vec: vecs[i]! })));
    after = rows[rows.length - 1]!.id;
    o.onProgress?.(migrated, total);
  }
  const remaining = store.stale();
  if (remaining === 0) store.dropUnusedSpaces();
  return { migrated, remaining };
}
