import Database from 'better-sqlite3';
import { applyPragmas, migrate, type Durability } from './schema.js';

/** Opens the relay database; the writer migrates, readers open read-only after it did. */
export function openDatabase(path: string, opts: { readonly: boolean; durability: Durability }): Database.Database {
  const db = new Database(path, { readonly: opts.readonly, fileMustExist: opts.readonly });
  try {
    applyPragmas(db, opts);
    if (!opts.readonly) migrate(db);
  } catch (err) {
    db.close();
    // Named and plain: this runs in worker threads, and a better-sqlite3 SqliteError thrown there
    // reaches the main thread as `{ code }` without its message (the CLI printed "[object Object]"
    // for a relay.sqlite locked by another process; docs/reliability.md, "Fault injection").
    const e = err as Error & { code?: string };
    throw Object.assign(new Error(`cannot open ${path}: ${e.message}${e.code ? ` (${e.code})` : ''}`), { code: e.code });
  }
  return db;
}
