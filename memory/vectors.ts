// The vector side of the store: writing a row's vectors (vec0 + float/int8 table) and finding
// the k nearest rows that pass the filters, by the cheapest exact-enough path:
//   few rows pass the filters      -> exact scan of exactly those rows' floats;
//   otherwise (default)            -> int8 scan of all rows in memory, shortlist, float re-rank;
//   `exact: true`                  -> sqlite-vec's float KNN (vec0), owner as its metadata column.
import type Database from 'better-sqlite3';
import { CodeCache, quantizeInt8 } from './quantize.js';
import type { Space } from './schema.js';
import { blobToVector, dot, filterSql, vectorToBlob, type Filter } from './search.js';
import type { SearchOptions } from './types.js';

const VEC0_MAX_K = 4096;

export class VectorIndex {
  private readonly cache: CodeCache;

  constructor(
    private readonly db: Database.Database,
    private readonly space: Space,
    private readonly oversample: number,
    private readonly scanLimit: number,
  ) {
    this.cache = new CodeCache(db, space.id, space.dimensions);
  }

  /** Forgets a deleted row's code (the caller deleted its rows). */
  forget(id: number): void {
    this.cache.drop(id);
  }

  write(id: number, v: Float32Array, owner: string, createdAt: number): void {
    const blob = vectorToBlob(v);
    this.db.prepare(`DELETE FROM ${this.space.table} WHERE rowid = ?`).run(BigInt(id));
    // vec0 wants INTEGER bindings, and better-sqlite3 binds a JS number as REAL: hence BigInt.
    this.db.prepare(`INSERT INTO ${this.space.table} (rowid, embedding, owner, created_at) VALUES (?, ?, ?, ?)`).run(BigInt(id), blob, owner, BigInt(createdAt));
    this.db
      // REPLACE gives the row a new seq, so that code caches pick the new code up.
      .prepare('INSERT OR REPLACE INTO memory_vectors (space, memory_id, code, vec) VALUES (?, ?, ?, ?)')
      .run(this.space.id, id, quantizeInt8(v), blob);
  }

  /** Current-space float vectors of the given memories. */
  floats(ids: readonly number[]): Map<number, Float32Array> {
    const rows = this.db
      .prepare('SELECT memory_id AS id, vec FROM memory_vectors WHERE space = ? AND memory_id IN (SELECT value FROM json_each(?))')
      .all(this.space.id, JSON.stringify(ids)) as { id: number; vec: Buffer }[];
    return new Map(rows.map((r) => [r.id, blobToVector(r.vec)]));
  }

  /** The k nearest (cosine) memories passing the filters, best first, as [id, similarity]. */
  candidates(v: Float32Array, o: SearchOptions, k: number): [number, number][] {
    const f = filterSql(o);
    if (f.active) {
      const capped = (this.db.prepare(`SELECT count(*) AS c FROM (SELECT 1 FROM memories m WHERE ${f.sql} LIMIT ?)`).get(...f.params, this.scanLimit + 1) as { c: number }).c;
      if (capped <= this.scanLimit) return this.scan(v, f, k);
    }
    if (!o.exact) {
      // Shortlist by int8 score, keep the ones passing the filters (in that order), re-rank the
      // best `k x oversample` with floats. A filter starts at 4x that and, when too few passed,
      // widens the shortlist 8x a round; the last round covers every row, so nothing that passes is ever missed.
      this.cache.refresh();
      const size = this.cache.size;
      const want = k * this.oversample;
      for (let s = f.active ? want * 4 : want; size > 0; s *= 8) {
        const exhausted = s >= size;
        const short = this.cache.shortlist(v, Math.min(s, size));
        const pass = f.active ? this.passing(short, f) : short;
        if (pass.length >= want || exhausted) {
          const got = this.rerank(v, pass.slice(0, want), k);
          if (got.length >= k || exhausted) return got;
        }
      }
      return [];
    }
    // Exact: vec0's float KNN; owner is a vec0 metadata column, the other filters are checked
    // after, so ask for more and fall back to scanning the filtered rows if that was not enough.
    // vec0 caps k at 4096; a larger request is served by the scan.
    const kk = Math.min(VEC0_MAX_K, k * (f.active ? 10 : 1));
    if (k > VEC0_MAX_K) return this.scan(v, f, k);
    const ownerSql = o.owner !== undefined ? 'AND owner = ?' : '';
    const rows = this.db
      .prepare(`SELECT rowid AS id, distance FROM ${this.space.table} WHERE embedding MATCH ? AND k = ? ${ownerSql}`)
      .all(vectorToBlob(v), kk, ...(o.owner !== undefined ? [o.owner] : [])) as { id: number; distance: number }[];
    let got = rows.map((r): [number, number] => [Number(r.id), 1 - r.distance]);
    if (f.active) {
      const ok = new Set(this.passing(got.map(([id]) => id), f));
      got = got.filter(([id]) => ok.has(id)).slice(0, k);
      if (got.length < k && rows.length === kk) return this.scan(v, f, k);
    }
    return got;
  }

  /** The ids passing the filters, in the given order. */
  private passing(ids: readonly number[], f: Filter): number[] {
    const ok = new Set(
      // CROSS JOIN keeps the given ids as the outer loop (primary-key probes); otherwise the
      // planner may walk a whole owner's index range and test each row against the list.
      (this.db.prepare(`SELECT m.id AS id FROM json_each(?) AS j CROSS JOIN memories m ON m.id = j.value WHERE ${f.sql}`).all(JSON.stringify(ids), ...f.params) as { id: number }[]).map((r) => r.id),
    );
    return ids.filter((id) => ok.has(id));
  }

  private rerank(v: Float32Array, ids: readonly number[], k: number): [number, number][] {
    return [...this.floats(ids)].map(([id, x]): [number, number] => [id, dot(v, x)]).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
  }

  /** Exact scan of the filtered rows' floats (the filter is selective, or vec0 fell short). */
  private scan(v: Float32Array, f: Filter, k: number): [number, number][] {
    const it = this.db
      .prepare(`SELECT mv.memory_id AS id, mv.vec AS vec FROM memories m JOIN memory_vectors mv ON mv.space = ? AND mv.memory_id = m.id WHERE ${f.sql}`)
      .raw()
      .iterate(this.space.id, ...f.params) as IterableIterator<[number, Buffer]>;
    const all: [number, number][] = [];
    for (const [id, vec] of it) all.push([id, dot(v, blobToVector(vec))]);
    return all.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
  }
}
