// The memory store: one SQLite file with the memories, an FTS5 index (BM25) and one sqlite-vec
// vec0 table per embedder (exact float KNN), plus float vectors and int8 codes in a plain
// table for the fast path: an in-memory SIMD scan of all int8 codes picks a shortlist
// (oversample x limit), re-ranked with the exact floats (memory/quantize.ts says why and how fast).
// Filters (owner, kinds, time, tags) are applied in SQL; a filter that leaves few rows is served
// by scanning exactly those rows' floats, so a rare owner's memories are always found.
// Writers: every write is one short transaction; embedding happens before it, outside any lock.
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import type { Embedder } from './embedder.js';
import { chunkText, DEFAULT_MAX_CHUNK_CHARS } from './chunk.js';
import { applyPragmas, dropSpace, ensureSpace, listSpaces, migrate, type Space } from './schema.js';
import { combine, dot, filterSql, ftsQuery, queryWords, recency, resolveWeights, type Parts } from './search.js';
import { VectorIndex } from './vectors.js';
import { MEMORY_KINDS, MemoryError, nowSeconds, type Memory, type MemoryHit, type MemoryKind, type NewMemory, type SearchOptions, type Weights } from './types.js';

export * from './types.js';

export interface OpenOptions {
  weights?: Partial<Weights>;
  maxChunkChars?: number;
  /** Shortlist size = limit x oversample for the quantised search (default 10). */
  oversample?: number;
  /** A filter matching at most this many rows is served by an exact scan of them (default 4000). */
  scanLimit?: number;
}

type Row = {
  id: number; text: string; kind: MemoryKind; owner: string; source_events: string; tags: string; importance: number;
  created_at: number; accessed_at: number | null; access_count: number; embedder: string; chunk_of: number | null;
};

const toMemory = (r: Row): Memory => ({
  id: r.id, text: r.text, kind: r.kind, owner: r.owner, sourceEvents: JSON.parse(r.source_events) as string[],
  tags: JSON.parse(r.tags) as string[], importance: r.importance, createdAt: r.created_at, accessedAt: r.accessed_at,
  accessCount: r.access_count, embedder: r.embedder, chunkOf: r.chunk_of,
});

type Prepared = { m: Required<NewMemory>; chunks: string[]; vecs: Float32Array[] };
const EMBED_BATCH = 64;
/** Matching rows BM25 may rank per query (see keywordQuery). */
const KEYWORD_BUDGET = 20_000;

export class MemoryStore {
  readonly embedder: Embedder;
  private readonly db: Database.Database;
  private readonly space: Space;
  private readonly weights: Weights;
  private readonly maxChunkChars: number;
  private readonly vectors: VectorIndex;

  private constructor(db: Database.Database, embedder: Embedder, o: OpenOptions) {
    this.db = db;
    this.embedder = embedder;
    this.weights = resolveWeights(o.weights);
    this.maxChunkChars = o.maxChunkChars ?? DEFAULT_MAX_CHUNK_CHARS;
    this.space = ensureSpace(db, `${embedder.id}@${embedder.version}`, embedder.dimensions);
    this.vectors = new VectorIndex(db, this.space, o.oversample ?? 10, o.scanLimit ?? 4000);
    // Per-connection helpers for keywordQuery(): a scratch FTS5 table with the same tokenizer
    // (to stem the query's words) and the main index's document frequencies.
    db.exec(`
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.memory_q USING fts5(text, tokenize='porter unicode61 remove_diacritics 2');
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.memory_q_terms USING fts5vocab(temp, memory_q, 'instance');
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.memory_df USING fts5vocab(main, memories_fts, 'row');
    `);
  }

  /** Opens (creating and migrating) the store in `file`. */
  static open(file: string, embedder: Embedder, o: OpenOptions = {}): MemoryStore {
    const db = new Database(file);
    try {
      sqliteVec.load(db);
      applyPragmas(db);
      migrate(db);
      return new MemoryStore(db, embedder, o);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** `${embedder.id}@${embedder.version}`, as recorded on every row it embedded. */
  get embedderKey(): string {
    return this.space.key;
  }

  async add(m: NewMemory): Promise<Memory[]> {
    return this.addMany([m]);
  }

  async addMany(ms: readonly NewMemory[]): Promise<Memory[]> {
    const prepared = await this.prepare(ms);
    return this.commit(prepared, []);
  }

  /** Adds `ms` and deletes `removeIds` in one transaction (pruning's compaction). */
  async replace(ms: readonly NewMemory[], removeIds: readonly number[]): Promise<Memory[]> {
    const prepared = await this.prepare(ms);
    return this.commit(prepared, removeIds);
  }

  async search(query: string, o: SearchOptions = {}): Promise<MemoryHit[]> {
    const limit = Math.floor(o.limit ?? 10);
    if (limit <= 0) return [];
    const mode = o.mode ?? 'hybrid';
    const w = resolveWeights(this.weights, o.weights);
    const now = o.now ?? nowSeconds();
    const pool = Math.max(limit * 3, 30);
    const f = filterSql(o);
    const sims = new Map<number, number>();
    const bm = new Map<number, number>();
    const q = mode === 'vector' ? '' : this.keywordQuery(query);
    let qv: Float32Array | undefined;
    if (mode !== 'bm25' && query.trim()) {
      qv = (await this.embed([query]))[0]!;
      for (const [id, s] of this.vectors.candidates(qv, o, pool)) sims.set(id, s);
    }
    if (mode !== 'vector' && q) {
      const rows = this.db
        .prepare(`SELECT m.id AS id, bm25(memories_fts) AS b FROM memories_fts JOIN memories m ON m.id = memories_fts.rowid WHERE memories_fts MATCH ? AND ${f.sql} ORDER BY b LIMIT ?`)
        .all(q, ...f.params, pool) as { id: number; b: number }[];
      for (const r of rows) bm.set(r.id, -r.b);
    }
    if (mode === 'hybrid') {
      // Score every candidate on both axes: a keyword hit's cosine and a vector hit's BM25.
      const noSim = [...bm.keys()].filter((id) => !sims.has(id));
      if (qv && noSim.length) for (const [id, v] of this.vectors.floats(noSim)) sims.set(id, dot(qv, v));
      const noBm = [...sims.keys()].filter((id) => !bm.has(id));
      if (q && noBm.length) {
        const rows = this.db
          .prepare('SELECT rowid AS id, bm25(memories_fts) AS b FROM memories_fts WHERE memories_fts MATCH ? AND rowid IN (SELECT value FROM json_each(?))')
          .all(q, JSON.stringify(noBm)) as { id: number; b: number }[];
        for (const r of rows) bm.set(r.id, -r.b);
      }
    }
    const ids = [...new Set([...sims.keys(), ...bm.keys()])];
    let maxB = 0;
    for (const b of bm.values()) maxB = Math.max(maxB, b);
    const hits: MemoryHit[] = this.memories(ids).map((memory) => {
      const parts: Parts = {
        vector: Math.max(0, sims.get(memory.id) ?? 0),
        bm25: maxB > 0 ? Math.max(0, bm.get(memory.id) ?? 0) / maxB : 0,
        recency: recency(memory.createdAt, now, w.halfLifeDays),
        importance: memory.importance,
      };
      return { memory, score: combine(parts, w, mode), parts };
    });
    hits.sort((a, b) => b.score - a.score || b.memory.createdAt - a.memory.createdAt || a.memory.id - b.memory.id);
    return this.touchHits(hits.slice(0, limit), o, now);
  }

  /** Vector-only search (cosine) for a ready vector; `exact` skips the quantised shortlist. */
  searchVector(v: Float32Array, o: SearchOptions = {}): MemoryHit[] {
    this.checkDimensions(v);
    const limit = Math.floor(o.limit ?? 10);
    if (limit <= 0) return [];
    const now = o.now ?? nowSeconds();
    const w = resolveWeights(this.weights, o.weights);
    const found = this.vectors.candidates(v, o, limit);
    const byId = new Map(this.memories(found.map(([id]) => id)).map((m) => [m.id, m]));
    const hits: MemoryHit[] = [];
    for (const [id, sim] of found) {
      const memory = byId.get(id);
      if (!memory) continue;
      const parts = { vector: sim, bm25: 0, recency: recency(memory.createdAt, now, w.halfLifeDays), importance: memory.importance };
      hits.push({ memory, score: sim, parts });
    }
    return this.touchHits(hits, o, now);
  }

  get(id: number): Memory | undefined {
    const r = this.db.prepare('SELECT * FROM memories WHERE id = ?').get(id) as Row | undefined;
    return r && toMemory(r);
  }

  /** Deletes a memory; deleting the first chunk of a chunked text deletes all its chunks. */
  delete(id: number): boolean {
    return this.db.transaction(() => this.deleteRows([id], true)).immediate() > 0;
  }

  count(o: { owner?: string; kind?: MemoryKind } = {}): number {
    const f = filterSql({ owner: o.owner, kinds: o.kind === undefined ? undefined : [o.kind] });
    return (this.db.prepare(`SELECT count(*) AS c FROM memories m WHERE ${f.sql}`).get(...f.params) as { c: number }).c;
  }

  /** Memories by owner, kind and tag (no ranking), newest first: listings and bookkeeping. */
  find(o: { owner?: string; kind?: MemoryKind; tag?: string; limit?: number } = {}): Memory[] {
    const f = filterSql({ owner: o.owner, kinds: o.kind === undefined ? undefined : [o.kind], tags: o.tag === undefined ? undefined : [o.tag] });
    const rows = this.db
      .prepare(`SELECT * FROM memories m WHERE ${f.sql} ORDER BY m.created_at DESC, m.id DESC LIMIT ?`)
      .all(...f.params, o.limit === undefined ? -1 : Math.floor(o.limit)) as Row[];
    return rows.map(toMemory);
  }

  /** Rows whose vector was made by another embedder id/version than this store's. */
  stale(): number {
    return (this.db.prepare('SELECT count(*) AS c FROM memories WHERE embedder != ?').get(this.space.key) as { c: number }).c;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- for memory/reembed.ts and memory/prune.ts (same module family, not for agents) ----

  /** Up to `limit` stale rows with id > afterId, oldest id first. */
  staleRows(limit: number, afterId = 0): { id: number; text: string }[] {
    return this.db
      .prepare('SELECT id, text FROM memories WHERE embedder != ? AND id > ? ORDER BY id LIMIT ?')
      .all(this.space.key, afterId, limit) as { id: number; text: string }[];
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += EMBED_BATCH) {
      const part = texts.slice(i, i + EMBED_BATCH);
      const vs = await this.embedder.embed(part, signal);
      if (vs.length !== part.length) throw new MemoryError(`embedder ${this.space.key} returned ${vs.length} vectors for ${part.length} texts`);
      for (const v of vs) out.push(this.checkDimensions(v));
    }
    return out;
  }

  /** Writes re-embedded vectors into this store's space and marks the rows current, in one transaction. */
  writeReembedded(rows: readonly { id: number; vec: Float32Array }[]): number {
    const get = this.db.prepare('SELECT owner, created_at AS createdAt FROM memories WHERE id = ? AND embedder != ?');
    const mark = this.db.prepare('UPDATE memories SET embedder = ? WHERE id = ?');
    return this.db.transaction(() => {
      let n = 0;
      for (const r of rows) {
        const m = get.get(r.id, this.space.key) as { owner: string; createdAt: number } | undefined;
        if (!m) continue; // deleted or already migrated by another process meanwhile
        this.vectors.write(r.id, r.vec, m.owner, m.createdAt);
        mark.run(this.space.key, r.id);
        n++;
      }
      return n;
    }).immediate();
  }

  /** Drops every other embedder's space once no row refers to it (the end of a migration). */
  dropUnusedSpaces(): number {
    return this.db.transaction(() => {
      let n = 0;
      for (const s of listSpaces(this.db)) {
        if (s.id === this.space.id) continue;
        if (this.db.prepare('SELECT 1 FROM memories WHERE embedder = ? LIMIT 1').get(s.key)) continue;
        dropSpace(this.db, s);
        n++;
      }
      return n;
    }).immediate();
  }

  /** Old, unimportant (and optionally never accessed) memories, by owner, kind and id. */
  pruneCandidates(before: number, maxImportance: number, neverAccessedOnly: boolean): Memory[] {
    const rows = this.db
      .prepare(`SELECT * FROM memories WHERE created_at < ? AND importance <= ? ${neverAccessedOnly ? 'AND access_count = 0' : ''} ORDER BY owner, kind, id`)
      .all(before, maxImportance) as Row[];
    return rows.map(toMemory);
  }

  // ---- internals ----

  /**
   * The FTS5 query for BM25, without the words so common that ranking their matches would cost
   * more than they tell: FTS5 scores every matching row (a word in all of 100K rows: ~100 ms)
   * while such a word's IDF is near zero. Words are kept rarest first while their rows add up to
   * at most KEYWORD_BUDGET; below that many memories nothing is ever dropped.
   */
  private keywordQuery(text: string): string {
    const words = queryWords(text);
    if (!words.length) return '';
    this.db.prepare('DELETE FROM temp.memory_q').run();
    const ins = this.db.prepare('INSERT INTO temp.memory_q (rowid, text) VALUES (?, ?)');
    words.forEach((w, i) => ins.run(i + 1, w));
    const df = this.db.prepare('SELECT doc FROM temp.memory_df WHERE term = ?').pluck();
    const rows = new Map<number, number>();
    for (const t of this.db.prepare('SELECT term, doc FROM temp.memory_q_terms').all() as { term: string; doc: number }[]) {
      rows.set(t.doc, Math.max(rows.get(t.doc) ?? 0, (df.get(t.term) as number | undefined) ?? 0));
    }
    const ranked = words.map((w, i) => ({ w, n: rows.get(i + 1) ?? 0 })).filter((x) => x.n > 0).sort((a, b) => a.n - b.n);
    const kept: string[] = [];
    let total = 0;
    for (const { w, n } of ranked) {
      if (total + n > KEYWORD_BUDGET) break;
      kept.push(w);
      total += n;
    }
    return ftsQuery(kept);
  }

  private checkDimensions(v: Float32Array): Float32Array {
    if (!(v instanceof Float32Array) || v.length !== this.space.dimensions) {
      throw new MemoryError(`vector has ${v?.length} dimensions, embedder ${this.space.key} promises ${this.space.dimensions}`);
    }
    return v;
  }

  private async prepare(ms: readonly NewMemory[]): Promise<Prepared[]> {
    const out: Prepared[] = ms.map((m) => {
      if (typeof m.text !== 'string' || !m.text.trim()) throw new MemoryError('memory text is empty');
      if (!(MEMORY_KINDS as readonly string[]).includes(m.kind)) throw new MemoryError(`unknown memory kind: ${String(m.kind)}`);
      if (typeof m.owner !== 'string') throw new MemoryError('owner must be a string (pubkey hex or "")');
      const importance = m.importance ?? 0.5;
      if (!(importance >= 0 && importance <= 1)) throw new MemoryError('importance must be within 0..1');
      const createdAt = Math.floor(m.createdAt ?? nowSeconds());
      if (!Number.isFinite(createdAt)) throw new MemoryError('createdAt must be unix seconds');
      const full: Required<NewMemory> = {
        text: m.text, kind: m.kind, owner: m.owner, importance, createdAt,
        sourceEvents: [...new Set(m.sourceEvents ?? [])], tags: [...new Set(m.tags ?? [])],
      };
      return { m: full, chunks: chunkText(m.text, this.maxChunkChars), vecs: [] };
    });
    const vecs = await this.embed(out.flatMap((p) => p.chunks));
    let i = 0;
    for (const p of out) p.vecs = vecs.slice(i, (i += p.chunks.length));
    return out;
  }

  private commit(prepared: readonly Prepared[], removeIds: readonly number[]): Memory[] {
    const ins = this.db.prepare(
      'INSERT INTO memories (text, kind, owner, source_events, tags, importance, created_at, embedder) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const setChunk = this.db.prepare('UPDATE memories SET chunk_of = ? WHERE id = ?');
    const insTag = this.db.prepare('INSERT OR IGNORE INTO memory_tags (tag, memory_id) VALUES (?, ?)');
    const insFts = this.db.prepare('INSERT INTO memories_fts (rowid, text) VALUES (?, ?)');
    const ids = this.db.transaction(() => {
      this.deleteRows(removeIds);
      const ids: number[] = [];
      for (const { m, chunks, vecs } of prepared) {
        const group: number[] = [];
        chunks.forEach((text, k) => {
          const id = Number(ins.run(text, m.kind, m.owner, JSON.stringify(m.sourceEvents), JSON.stringify(m.tags), m.importance, m.createdAt, this.space.key).lastInsertRowid);
          for (const t of m.tags) insTag.run(t, id);
          insFts.run(BigInt(id), text);
          this.vectors.write(id, vecs[k]!, m.owner, m.createdAt);
          group.push(id);
        });
        if (group.length > 1) for (const id of group) setChunk.run(group[0]!, id);
        ids.push(...group);
      }
      return ids;
    }).immediate();
    const byId = new Map(this.memories(ids).map((m) => [m.id, m]));
    return ids.map((id) => byId.get(id)!);
  }

  /** Deletes rows by id; with `chunks`, a first chunk takes its whole text with it. */
  private deleteRows(ids: readonly number[], chunks = false): number {
    if (!ids.length) return 0;
    const all = new Set<number>(ids);
    if (chunks) for (const id of ids) for (const r of this.db.prepare('SELECT id FROM memories WHERE chunk_of = ?').all(id) as { id: number }[]) all.add(r.id);
    const spaces = listSpaces(this.db);
    let n = 0;
    for (const id of all) {
      if (this.db.prepare('DELETE FROM memories WHERE id = ?').run(id).changes === 0) continue;
      n++;
      this.db.prepare('DELETE FROM memory_tags WHERE memory_id = ?').run(id);
      this.db.prepare('DELETE FROM memories_fts WHERE rowid = ?').run(BigInt(id));
      this.db.prepare('DELETE FROM memory_vectors WHERE memory_id = ?').run(id);
      for (const s of spaces) this.db.prepare(`DELETE FROM ${s.table} WHERE rowid = ?`).run(BigInt(id));
      this.vectors.forget(id);
    }
    return n;
  }

  private memories(ids: readonly number[]): Memory[] {
    if (!ids.length) return [];
    const rows = this.db.prepare('SELECT * FROM memories WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as Row[];
    return rows.map(toMemory);
  }

  private touchHits(hits: MemoryHit[], o: SearchOptions, now: number): MemoryHit[] {
    if (o.touch === false || hits.length === 0) return hits;
    const ids = hits.map((h) => h.memory.id);
    this.db.prepare('UPDATE memories SET accessed_at = ?, access_count = access_count + 1 WHERE id IN (SELECT value FROM json_each(?))').run(now, JSON.stringify(ids));
    for (const h of hits) (h.memory.accessedAt = now), h.memory.accessCount++;
    return hits;
  }
}
