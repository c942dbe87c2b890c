// Opens the instance's semantic memory (memory/): the store in <dataDir>/memory.sqlite with the
// configured embedder. A configured embedder that cannot run (model files missing, Ollama down)
// falls back to the offline default, with the reason logged: memory is a help, never a reason not
// to start. Rows embedded by another embedder are migrated in the background (memory/reembed.ts).
import { join } from 'node:path';
import type { Embedder } from '../memory/embedder.js';
import { openEmbedder, type EmbedderConfig } from '../memory/embedders/select.js';
import { MemoryStore } from '../memory/store.js';
import { reembed } from '../memory/reembed.js';
import type { MemoryConfig } from '../memory/config.js';

export const memoryFile = (dataDir: string): string => join(dataDir, 'memory.sqlite');

export function embedderConfig(c: MemoryConfig, dataDir: string): EmbedderConfig {
  const e = c.embedder;
  return {
    kind: e.kind,
    ...(e.dimensions !== undefined ? { dimensions: e.dimensions } : {}),
    ...(e.kind === 'onnx' && e.model ? { modelDir: join(dataDir, 'models', e.model) } : {}),
    ...(e.kind === 'ollama' ? { ollamaUrl: e.ollamaUrl, ...(e.model ? { model: e.model } : {}) } : {}),
  };
}

export async function openConfiguredEmbedder(c: MemoryConfig, dataDir: string, log: (level: 'info' | 'warn', msg: string) => void): Promise<Embedder> {
  try {
    return await openEmbedder(embedderConfig(c, dataDir));
  } catch (err) {
    if (c.embedder.kind === 'default') throw err;
    log('warn', `memory: the ${c.embedder.kind} embedder cannot run (${(err as Error).message}); using the offline default embedder`);
    return openEmbedder({ kind: 'default' });
  }
}

export interface OpenedMemory {
  readonly store: MemoryStore;
  /** Resolves when rows made by an older embedder have been re-embedded (or the migration stopped). */
  readonly migrated: Promise<void>;
  close(): Promise<void>;
}

export async function openMemory(c: MemoryConfig, dataDir: string, log: (level: 'info' | 'warn', msg: string) => void): Promise<OpenedMemory> {
  const embedder = await openConfiguredEmbedder(c, dataDir, log);
  const store = MemoryStore.open(memoryFile(dataDir), embedder, { weights: c.weights });
  const stop = new AbortController();
  const stale = store.stale();
  const migrated =
    stale === 0
      ? Promise.resolve()
      : (async () => {
          log('info', `memory: re-embedding ${stale} memories with ${embedder.id}@${embedder.version}`);
          try {
            const r = await reembed(store, { signal: stop.signal });
            log('info', `memory: re-embedded ${r.migrated} memories${r.remaining ? `, ${r.remaining} left for the next start` : ''}`);
          } catch (err) {
            log('warn', `memory: re-embedding stopped: ${(err as Error).message}`);
          }
        })();
  return {
    store,
    migrated,
    async close() {
      stop.abort();
      await migrated;
      store.close();
      await embedder.close?.();
    },
  };
}
