// The `memory` section of the instance config (the composition root nests it).
import { z } from 'zod';

const weight = z.number().min(0).max(10);

export const memoryConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('agents recall before and remember after each job; 5302 searches memories too'),
    embedder: z
      .object({
        kind: z.enum(['default', 'hashing', 'onnx', 'ollama']).default('default').describe('default: offline hashed n-grams + WordNet; onnx: a sentence model installed with `timmy models`; ollama: its embeddings endpoint'),
        model: z.string().optional().describe('onnx: the model id in <dataDir>/models (e.g. all-MiniLM-L6-v2); ollama: the model name (e.g. nomic-embed-text)'),
        ollamaUrl: z.url().default('http://127.0.0.1:11434').describe('ollama: the HTTP API root'),
        dimensions: z.number().int().min(8).max(4096).optional().describe('vector length (default 384 for the offline embedders; onnx/ollama: the model\'s own)'),
      })
      .strict()
      .default({ kind: 'default', ollamaUrl: 'http://127.0.0.1:11434' }),
    weights: z
      .object({
        vector: weight.default(0.6).describe('hybrid score: weight of cosine similarity'),
        bm25: weight.default(0.25).describe('hybrid score: weight of the normalised FTS5 BM25 score'),
        recency: weight.default(0.1).describe('hybrid score: weight of the recency decay'),
        importance: weight.default(0.05).describe('hybrid score: weight of the memory\'s importance'),
        halfLifeDays: z.number().positive().default(30).describe('recency decay half-life, days'),
      })
      .strict()
      .default({ vector: 0.6, bm25: 0.25, recency: 0.1, importance: 0.05, halfLifeDays: 30 }),
    recallLimit: z.number().int().min(0).max(50).default(3).describe('memories recalled for an agent before a job (0 = none)'),
  })
  .strict();

export type MemoryConfig = z.infer<typeof memoryConfigSchema>;
