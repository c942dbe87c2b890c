// Opens the embedder the configuration names. Only the default and hashing embedders are always
// available; ONNX needs model files, Ollama a server. Failures are EmbedderErrors that say what to do.
import { type Embedder, EmbedderError } from '../embedder.js';
import { hashingEmbedder } from './hashing.js';
import { defaultEmbedder } from './ngram.js';
import { ollamaEmbedder } from './ollama.js';

export type EmbedderConfig = {
  kind: 'default' | 'hashing' | 'onnx' | 'ollama';
  /** Vector length: chosen for default/hashing (384), checked for onnx/ollama when given. */
  dimensions?: number;
  /** onnx: the directory `timmy models install` filled. */
  modelDir?: string;
  /** ollama: default http://127.0.0.1:11434. */
  ollamaUrl?: string;
  /** ollama: model name, e.g. nomic-embed-text. */
  model?: string;
};

export const DEFAULT_OLLAMA_URL = 'http://127.0.0.1:11434';

export async function openEmbedder(c: EmbedderConfig): Promise<Embedder> {
  switch (c.kind) {
    case 'default':
      return defaultEmbedder(c.dimensions === undefined ? {} : { dimensions: c.dimensions });
    case 'hashing':
      return hashingEmbedder(c.dimensions === undefined ? {} : { dimensions: c.dimensions });
    case 'onnx': {
      if (!c.modelDir) throw new EmbedderError('embedder kind onnx needs modelDir (the directory `timmy models install` filled)');
      // Loaded on demand: onnxruntime-node's native library is not worth loading for the other kinds.
      const { onnxEmbedder } = await import('./onnx.js');
      const e = await onnxEmbedder(c.modelDir);
      if (c.dimensions !== undefined && c.dimensions !== e.dimensions) {
        await e.close?.();
        throw new EmbedderError(`ONNX model in ${c.modelDir} gives ${e.dimensions} dimensions, configured ${c.dimensions}`);
      }
      return e;
    }
    case 'ollama': {
      if (!c.model) throw new EmbedderError('embedder kind ollama needs model (e.g. nomic-embed-text)');
      const e = ollamaEmbedder({ url: c.ollamaUrl ?? DEFAULT_OLLAMA_URL, model: c.model, ...(c.dimensions === undefined ? {} : { dimensions: c.dimensions }) });
      // The store needs the vector length before the first write: ask once (this also checks a configured one).
      await e.probe();
      return e;
    }
    default:
      throw new EmbedderError(`unknown embedder kind ${String((c as { kind: unknown }).kind)}`);
  }
}
