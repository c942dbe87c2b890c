// Hybrid scoring and the SQL pieces of a search: pure functions the store composes.
//
// score = w.vector * v                         v = max(0, cosine) of unit vectors, negatives clipped
//       + w.bm25 * b * v                        b = FTS5 BM25 (sign flipped) / the best in the pool, 0..1:
//                                               keyword evidence boosts what is similar in meaning,
//                                               in proportion. Added on its own, the best keyword hit
//                                               got the full share whatever it meant, and lifted the
//                                               decoys that share a query's words but not its sense:
//                                               on bench/data/memory, nDCG@10 0.190 added vs 0.216
//                                               as a boost; on the queries anchored on a name 0.633
//                                               vs 0.653 (vector alone: 0.639).
//       + w.recency * 0.5^(ageDays/halfLife)    exponential decay from created_at (a memory's age,
//                                               not its last use: recall must not feed on itself)
//       + w.importance * importance             the writer's 0..1 judgement
// Modes 'vector' and 'bm25' rank by that part alone.
import type { MemoryKind, SearchOptions, Weights } from './types.js';
import { DEFAULT_WEIGHTS, MemoryError } from './types.js';

export interface Parts {
  vector: number;
  bm25: number;
  recency: number;
  importance: number;
}

export function resolveWeights(...ws: (Partial<Weights> | undefined)[]): Weights {
  const w: Weights = { ...DEFAULT_WEIGHTS };
  for (const o of ws) for (const [k, v] of Object.entries(o ?? {})) if (v !== undefined) (w as unknown as Record<string, number>)[k] = v;
  for (const [k, v] of Object.entries(w)) if (!Number.isFinite(v) || v < 0) throw new MemoryError(`weight ${k} must be a finite number >= 0`);
  if (w.halfLifeDays <= 0) throw new MemoryError('halfLifeDays must be > 0');
  return w;
}

export function recency(createdAt: number, now: number, halfLifeDays: number): number {
  const ageDays = Math.max(0, now - createdAt) / 86400;
  return Math.pow(0.5, ageDays / halfLifeDays);
}

export function combine(p: Parts, w: Weights, mode: NonNullable<SearchOptions['mode']>): number {
  if (mode === 'vector') return p.vector;
  if (mode === 'bm25') return p.bm25;
  return w.vector * p.vector + w.bm25 * p.bm25 * p.vector + w.recency * p.recency + w.importance * p.importance;
}

/** The distinct words of a free-text query, lower-cased, at most 32. */
export function queryWords(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, 32);
}

/**
 * Words as an FTS5 expression: every word quoted (so "AND", "NOT", "-" and ":" are plain words,
 * never syntax) and OR-ed, so that any shared word counts and BM25 ranks by how many and how
 * rare. Returns '' when there is no word at all.
 */
export function ftsQuery(words: readonly string[]): string {
  return words.map((w) => `"${w}"`).join(' OR ');
}

export interface Filter {
  sql: string;
  params: unknown[];
  active: boolean;
}

/** WHERE fragment over memories aliased `m` for owner, kinds, time range and tags (all of them). */
export function filterSql(o: SearchOptions): Filter {
  const where: string[] = [];
  const params: unknown[] = [];
  if (o.owner !== undefined) where.push('m.owner = ?'), params.push(o.owner);
  if (o.kinds !== undefined) {
    const kinds: readonly MemoryKind[] = o.kinds;
    if (kinds.length === 0) where.push('0');
    else where.push(`m.kind IN (${kinds.map(() => '?').join(', ')})`), params.push(...kinds);
  }
  if (o.since !== undefined) where.push('m.created_at >= ?'), params.push(Math.ceil(o.since));
  if (o.until !== undefined) where.push('m.created_at <= ?'), params.push(Math.floor(o.until));
  for (const tag of new Set(o.tags ?? [])) {
    where.push('EXISTS (SELECT 1 FROM memory_tags t WHERE t.tag = ? AND t.memory_id = m.id)');
    params.push(tag);
  }
  return { sql: where.length ? where.join(' AND ') : '1', params, active: where.length > 0 };
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** A float32 BLOB as a Float32Array without copying when aligned. */
export function blobToVector(b: Buffer): Float32Array {
  if (b.byteOffset % 4 === 0) return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  return new Float32Array(new Uint8Array(b).buffer);
}

export function vectorToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}
