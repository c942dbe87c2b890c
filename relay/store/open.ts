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
    throw err;
  }
  return db;
}
