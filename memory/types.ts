// The memory store's data types and its one error class (the public vocabulary of memory/).

export type MemoryKind = 'episodic' | 'semantic' | 'procedural';
export const MEMORY_KINDS = ['episodic', 'semantic', 'procedural'] as const satisfies readonly MemoryKind[];

export interface NewMemory {
  text: string;
  kind: MemoryKind;
  /** Agent pubkey hex, or '' for the instance itself. */
  owner: string;
  sourceEvents?: readonly string[];
  tags?: readonly string[];
  /** 0..1, default 0.5. */
  importance?: number;
  /** Unix seconds, default now. */
  createdAt?: number;
}

export interface Memory extends Required<NewMemory> {
  id: number;
  accessedAt: number | null;
  accessCount: number;
  /** `${embedder.id}@${embedder.version}` that made this row's current vector. */
  embedder: string;
  /** For a text split into chunks: the id of the first chunk (the first chunk points at itself); else null. */
  chunkOf: number | null;
}

export interface Weights {
  vector: number;
  bm25: number;
  recency: number;
  importance: number;
  halfLifeDays: number;
}

/**
 * Defaults: meaning first (cosine), exact words second (BM25 catches names, ids and rare terms
 * an embedder blurs), then a small nudge towards recent and important memories so that among
 * near-equal matches the fresher one wins, but an old exact match still beats a new vague one.
 */
export const DEFAULT_WEIGHTS: Readonly<Weights> = { vector: 0.6, bm25: 0.25, recency: 0.1, importance: 0.05, halfLifeDays: 30 };

export interface SearchOptions {
  limit?: number;
  owner?: string;
  kinds?: readonly MemoryKind[];
  /** created_at >= since (unix seconds). */
  since?: number;
  /** created_at <= until (unix seconds). */
  until?: number;
  /** The memory must carry every one of these tags. */
  tags?: readonly string[];
  mode?: 'hybrid' | 'vector' | 'bm25';
  /** Skip the quantised shortlist: full float KNN. */
  exact?: boolean;
  weights?: Partial<Weights>;
  /** Unix seconds used for the recency decay and access times (tests). */
  now?: number;
  /** Mark the returned memories as accessed (default true). */
  touch?: boolean;
}

export interface MemoryHit {
  memory: Memory;
  score: number;
  parts: { vector: number; bm25: number; recency: number; importance: number };
}

/** Bad input (empty text, wrong vector length, unknown id) or a store that cannot serve. */
export class MemoryError extends Error {
  override name = 'MemoryError';
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
