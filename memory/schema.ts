// The memory tables, their versioned migrations, and the per-embedder vector spaces.
// The version lives in memory_meta, not PRAGMA user_version, so that the memory tables can
// share a database file with another module that owns user_version.
// Each migration runs once, in order, inside BEGIN IMMEDIATE (two processes opening a fresh file
// at once: the second waits, then sees the new version). Never edit a shipped migration.
import type Database from 'better-sqlite3';
import { MemoryError } from './types.js';

type Migration = { version: number; description: string; sql: string };

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'memories, tags, full-text index, vector spaces, float vectors with their int8 codes',
    sql: `
      CREATE TABLE memories (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        text TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('episodic', 'semantic', 'procedural')),
        owner TEXT NOT NULL,
        source_events TEXT NOT NULL DEFAULT '[]',
        tags TEXT NOT NULL DEFAULT '[]',
        importance REAL NOT NULL,
        created_at INTEGER NOT NULL,
        accessed_at INTEGER,
        access_count INTEGER NOT NULL DEFAULT 0,
        embedder TEXT NOT NULL,
        chunk_of INTEGER
      );
      CREATE INDEX memories_owner ON memories(owner, kind, created_at);
      CREATE INDEX memories_kind ON memories(kind, created_at);
      CREATE INDEX memories_created ON memories(created_at);
      CREATE INDEX memories_embedder ON memories(embedder);
      CREATE INDEX memories_chunk ON memories(chunk_of) WHERE chunk_of IS NOT NULL;

      -- Tags as rows so that a tag filter is an index probe, not a JSON scan.
      CREATE TABLE memory_tags (tag TEXT NOT NULL, memory_id INTEGER NOT NULL, PRIMARY KEY (tag, memory_id)) WITHOUT ROWID;
      CREATE INDEX memory_tags_memory ON memory_tags(memory_id);

      -- BM25 over the text; porter stemming so that "deploying" finds "deploy".
      CREATE VIRTUAL TABLE memories_fts USING fts5(text, content='', contentless_delete=1, tokenize='porter unicode61 remove_diacritics 2');

      -- One space per embedder id@version, each with its own vec0 table memory_vec_<id>
      -- (created at open, since its dimension is the embedder's). Old spaces are kept until every
      -- row has been re-embedded into the new one, then dropped (memory/reembed.ts).
      CREATE TABLE memory_spaces (id INTEGER PRIMARY KEY, embedder TEXT NOT NULL UNIQUE, dimensions INTEGER NOT NULL, created_at INTEGER NOT NULL);

      -- Float vectors for the shortlist re-rank (point reads, ~3 us a row) and int8 codes
      -- (float32 inverse scale + int8 components) for the in-memory scan (memory/quantize.ts).
      -- seq only grows (REPLACE gives a new one), so a cache catches up with "seq > last seen".
      CREATE TABLE memory_vectors (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        space INTEGER NOT NULL,
        memory_id INTEGER NOT NULL,
        code BLOB NOT NULL,
        vec BLOB NOT NULL,
        UNIQUE (space, memory_id)
      );
      CREATE INDEX memory_vectors_memory ON memory_vectors(memory_id);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export function applyPragmas(db: Database.Database): void {
  // Several agents (processes) write the same file; a generous wait beats SQLITE_BUSY on a slow box.
  // Set before the WAL switch, which needs a lock too (a briefly held lock is waited for).
  db.pragma('busy_timeout = 15000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
}

export function migrate(db: Database.Database): number {
  return db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS memory_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const row = db.prepare("SELECT value FROM memory_meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    const current = row ? Number(row.value) : 0;
    if (current > SCHEMA_VERSION) {
      throw new MemoryError(`memory schema version ${current} is newer than this software supports (${SCHEMA_VERSION})`);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      db.prepare("INSERT INTO memory_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(String(m.version));
    }
    return SCHEMA_VERSION;
  }).immediate();
}

export interface Space {
  id: number;
  /** `${embedder.id}@${embedder.version}` */
  key: string;
  dimensions: number;
  /** The vec0 table: float[dimensions] cosine KNN plus owner/created_at metadata for filtered exact search. */
  table: string;
}

const vecTable = (id: number): string => `memory_vec_${id}`;

/** The space for an embedder, created (with its vec0 table) on first use. */
export function ensureSpace(db: Database.Database, key: string, dimensions: number): Space {
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 8192) throw new MemoryError(`embedder ${key}: bad dimensions ${dimensions}`);
  return db.transaction((): Space => {
    const row = db.prepare('SELECT id, dimensions FROM memory_spaces WHERE embedder = ?').get(key) as { id: number; dimensions: number } | undefined;
    if (row) {
      if (row.dimensions !== dimensions) {
        throw new MemoryError(`embedder ${key} now reports ${dimensions} dimensions but its stored vectors have ${row.dimensions}; bump the embedder's version`);
      }
      return { id: row.id, key, dimensions, table: vecTable(row.id) };
    }
    const id = Number(db.prepare('INSERT INTO memory_spaces (embedder, dimensions, created_at) VALUES (?, ?, unixepoch())').run(key, dimensions).lastInsertRowid);
    db.exec(`CREATE VIRTUAL TABLE ${vecTable(id)} USING vec0(embedding float[${dimensions}] distance_metric=cosine, owner text, created_at integer)`);
    return { id, key, dimensions, table: vecTable(id) };
  }).immediate();
}

export function listSpaces(db: Database.Database): Space[] {
  const rows = db.prepare('SELECT id, embedder, dimensions FROM memory_spaces ORDER BY id').all() as { id: number; embedder: string; dimensions: number }[];
  return rows.map((r) => ({ id: r.id, key: r.embedder, dimensions: r.dimensions, table: vecTable(r.id) }));
}

/** Drops a space no row refers to any more: its vec0 table, its vectors, its entry. */
export function dropSpace(db: Database.Database, s: Space): void {
  db.exec(`DROP TABLE IF EXISTS ${s.table}`);
  db.prepare('DELETE FROM memory_vectors WHERE space = ?').run(s.id);
  db.prepare('DELETE FROM memory_spaces WHERE id = ?').run(s.id);
}
