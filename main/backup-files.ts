// What a backup holds and how it is described: which files of the data dir are state (every SQLite
// database, the keystore, stored audio, anything else) and which are not (the SQLite -wal/-shm
// sidecars, the pidfile, temporary files, model files that `timmy models install` fetches again),
// the manifest, and the checks shared by backup and restore (sha256, PRAGMA integrity_check).
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { PID_FILE } from './pidfile.js';

export class BackupError extends Error {
  override name = 'BackupError';
}

export const MANIFEST = 'manifest.json';
export const FORMAT = 'timmy-backup';
export const FORMAT_VERSION = 1;

export interface ManifestFile {
  /** Relative to the data dir, with `/`. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly mode: number;
  /** For a SQLite database: what PRAGMA integrity_check said of the copy ("ok"). */
  readonly integrity?: string;
}

export interface Manifest {
  readonly format: typeof FORMAT;
  readonly version: number;
  readonly createdAt: string;
  readonly timmyVersion: string;
  readonly files: readonly ManifestFile[];
  /** What was left out, e.g. "models/ (timmy models install fetches it again)". */
  readonly excluded: readonly string[];
}

/** Not state: rebuilt, fetched again or meaningless in a copy. */
const SKIP_TOP = new Set([PID_FILE, 'models']);
const SKIP_NAME = /(-wal|-shm|-journal|\.tmp|\.part)$/;

export interface DataFile {
  readonly path: string;
  readonly abs: string;
  readonly sqlite: boolean;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export function isSqlite(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(16);
    return readSync(fd, b, 0, 16, 0) === 16 && b.equals(SQLITE_MAGIC);
  } finally {
    closeSync(fd);
  }
}

/** The data dir's state files, sorted; `excluded` hears what was left out. */
export function dataFiles(dataDir: string, excluded: string[]): DataFile[] {
  const out: DataFile[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const path = rel ? `${rel}/${d.name}` : d.name;
      if (!rel && SKIP_TOP.has(d.name)) {
        if (d.name === 'models') excluded.push('models/ (model files: timmy models install fetches them again)');
        continue;
      }
      if (SKIP_NAME.test(d.name)) continue;
      const abs = join(dir, d.name);
      if (d.isDirectory()) walk(abs, path);
      else if (d.isFile()) out.push({ path, abs, sqlite: isSqlite(abs) });
      else excluded.push(`${path} (not a regular file)`);
    }
  };
  walk(dataDir, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** PRAGMA integrity_check of a database file ("ok", or the first problems joined). sqlite-vec is loaded for the memory's vec0 tables. */
export function integrityCheck(file: string): string {
  const db = new Database(file, { fileMustExist: true });
  try {
    sqliteVec.load(db);
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).slice(0, 5).join('; ');
  } finally {
    db.close();
  }
}

export const mb = (bytes: number): string => (bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`);
export const rate = (bytes: number, ms: number): string => `${(bytes / 1048576 / Math.max(ms / 1000, 0.001)).toFixed(1)} MB/s`;
