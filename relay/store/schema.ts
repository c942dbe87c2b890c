// Versioned schema migrations for the relay's SQLite database (PRAGMA user_version).
// Each migration runs once, in a transaction, in order; never edit a shipped migration, add one.
import type Database from 'better-sqlite3';

type Migration = { version: number; description: string; sql: string };

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'events, tag index, full-text index, deletion records',
    sql: `
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        pubkey TEXT NOT NULL,
        kind INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        expiration INTEGER,
        address TEXT,
        raw TEXT NOT NULL
      );
      CREATE INDEX events_created ON events(created_at DESC, id);
      CREATE INDEX events_pubkey_kind ON events(pubkey, kind, created_at DESC, id);
      CREATE INDEX events_kind ON events(kind, created_at DESC, id);
      CREATE INDEX events_address ON events(address) WHERE address IS NOT NULL;
      CREATE INDEX events_expiration ON events(expiration) WHERE expiration IS NOT NULL;

      -- One row per single-letter tag value; created_at and id are copied so that a tag query
      -- can walk the index already in NIP-01 order (newest first, ties by lowest id).
      CREATE TABLE tags (
        seq INTEGER NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        id TEXT NOT NULL,
        PRIMARY KEY (name, value, created_at DESC, id)
      ) WITHOUT ROWID;
      CREATE INDEX tags_seq ON tags(seq);

      CREATE VIRTUAL TABLE events_fts USING fts5(content, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');

      -- NIP-09: what was deleted, so that a re-post of it is refused.
      CREATE TABLE deleted_ids (id TEXT PRIMARY KEY, pubkey TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE deleted_addresses (address TEXT PRIMARY KEY, until INTEGER NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'slimmer indexes: ties on created_at are ordered by id at query time, not stored in every index',
    // Every secondary index used to carry the 64-character id only to break created_at ties.
    // At a million events that tripled the pages each insert dirtied (and wrote to the WAL);
    // SQLite sorts the few rows that share a created_at cheaply ("temp b-tree for right part").
    sql: `
      DROP INDEX events_created;
      DROP INDEX events_pubkey_kind;
      DROP INDEX events_kind;
      CREATE INDEX events_created ON events(created_at DESC);
      CREATE INDEX events_pubkey_kind ON events(pubkey, kind, created_at DESC);
      CREATE INDEX events_kind ON events(kind, created_at DESC);

      CREATE TABLE tags_v2 (
        seq INTEGER NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (name, value, created_at DESC, seq)
      ) WITHOUT ROWID;
      INSERT INTO tags_v2 (seq, name, value, created_at) SELECT seq, name, value, created_at FROM tags;
      DROP TABLE tags;
      ALTER TABLE tags_v2 RENAME TO tags;
      CREATE INDEX tags_seq ON tags(seq);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema version ${current} is newer than this software supports (${SCHEMA_VERSION})`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return SCHEMA_VERSION;
}

export type Durability = 'full' | 'normal';

export function applyPragmas(db: Database.Database, opts: { readonly: boolean; durability: Durability }): void {
  // busy_timeout first: switching to WAL needs a lock too, and without the timeout a lock held
  // briefly by another process failed the open at once instead of being waited for.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('cache_size = -65536'); // 64 MiB page cache per connection
  db.pragma('temp_store = MEMORY');
  if (!opts.readonly) db.pragma('wal_autocheckpoint = 4000');
}
