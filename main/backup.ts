// `timmy backup <file>`: an online, consistent copy of a data dir in one file. Every SQLite database
// is copied with SQLite's online backup API from a read transaction opened on all of them back to
// back before the first page is copied, so each copy is one committed state (a WAL snapshot: the
// running instance goes on writing, and nothing committed before the backup started is missing).
// The copies and the other state files are staged beside the output, checked (integrity_check,
// sha256), then packed with a manifest into <file>.part, fsynced and renamed to <file>.
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import Database from 'better-sqlite3';
import { VERSION } from './version.js';
import { writeArchive, type ArchiveEntry } from './backup-archive.js';
import { BackupError, dataFiles, FORMAT, FORMAT_VERSION, integrityCheck, MANIFEST, mb, rate, sha256File, type Manifest, type ManifestFile } from './backup-files.js';

export interface BackupOptions {
  readonly dataDir: string;
  readonly file: string;
  /** Replace an existing `file`. */
  readonly force?: boolean;
  /** Progress lines (stderr). */
  readonly progress?: (line: string) => void;
}

export interface BackupSummary {
  readonly file: string;
  readonly manifest: Manifest;
  /** Bytes of state (uncompressed) and of the file written. */
  readonly bytes: number;
  readonly compressedBytes: number;
  readonly ms: number;
}

/** Syncs a file, or a directory's entries (a rename in it), to disk. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Copies the databases from snapshots taken together; returns when all copies are done. */
async function copyDatabases(files: readonly { abs: string; path: string }[], staging: string, progress: (line: string) => void): Promise<void> {
  const open = files.map((f) => ({ f, db: new Database(f.abs, { fileMustExist: true, timeout: 10_000 }) }));
  try {
    // Pin a snapshot of each (WAL) database, back to back, before copying any of them.
    for (const { db } of open) {
      if ((db.pragma('journal_mode', { simple: true }) as string) !== 'wal') continue;
      db.exec('BEGIN');
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    }
    for (const { f, db } of open) {
      const dest = join(staging, f.path);
      mkdirSync(dirname(dest), { recursive: true });
      const t0 = Date.now();
      let last = t0;
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      const r = await db.backup(dest, {
        progress: ({ totalPages, remainingPages }) => {
          if (Date.now() - last > 1000) {
            last = Date.now();
            progress(`backup: ${f.path} ${Math.round((100 * (totalPages - remainingPages)) / Math.max(totalPages, 1))}% (${rate((totalPages - remainingPages) * pageSize, last - t0)})`);
          }
          return 4096;
        },
      });
      const bytes = statSync(dest).size;
      progress(`backup: ${f.path} ${mb(bytes)} (${r.totalPages} pages) copied in ${Date.now() - t0} ms, ${rate(bytes, Date.now() - t0)}`);
    }
  } finally {
    for (const { db } of open) {
      if (db.inTransaction) db.exec('COMMIT');
      db.close();
    }
  }
}

export async function createBackup(o: BackupOptions): Promise<BackupSummary> {
  const t0 = Date.now();
  const progress = o.progress ?? (() => {});
  const dataDir = resolve(o.dataDir);
  const file = resolve(o.file);
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) throw new BackupError(`no data dir at ${dataDir}`);
  if (file === dataDir || file.startsWith(dataDir + sep)) throw new BackupError(`the backup file must be outside the data dir (${dataDir})`);
  if (!existsSync(dirname(file))) throw new BackupError(`no directory ${dirname(file)} for the backup file`);
  if (existsSync(file) && !o.force) throw new BackupError(`${file} exists: pass --force to replace it`);
  const excluded: string[] = [];
  const files = dataFiles(dataDir, excluded);
  if (files.length === 0) throw new BackupError(`${dataDir} holds nothing to back up`);
  const part = `${file}.part`;
  const staging = mkdtempSync(join(dirname(file), '.timmy-backup-'));
  try {
    await copyDatabases(files.filter((f) => f.sqlite), staging, progress);
    for (const f of files.filter((x) => !x.sqlite)) {
      const dest = join(staging, f.path);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(f.abs, dest);
    }
    const described: ManifestFile[] = [];
    for (const f of files) {
      const staged = join(staging, f.path);
      const integrity = f.sqlite ? integrityCheck(staged) : undefined;
      if (integrity !== undefined && integrity !== 'ok') throw new BackupError(`${f.path} fails PRAGMA integrity_check: ${integrity}`);
      const st = statSync(staged);
      described.push({ path: f.path, size: st.size, sha256: await sha256File(staged), mode: statSync(f.abs).mode & 0o777, ...(integrity ? { integrity } : {}) });
    }
    const manifest: Manifest = { format: FORMAT, version: FORMAT_VERSION, createdAt: new Date(t0).toISOString(), timmyVersion: VERSION, files: described, excluded };
    const json = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
    const now = Math.floor(t0 / 1000);
    const entries: ArchiveEntry[] = [
      { name: MANIFEST, size: json.length, mode: 0o600, mtime: now, data: json },
      ...described.map((d) => ({ name: d.path, size: d.size, mode: d.mode, mtime: now, data: join(staging, d.path) })),
    ];
    const tp = Date.now();
    let last = tp;
    const bytes = await writeArchive(part, entries, (n) => {
      if (Date.now() - last > 1000) {
        last = Date.now();
        progress(`backup: packed ${mb(n)} (${rate(n, last - tp)})`);
      }
    });
    fsyncPath(part);
    renameSync(part, file);
    fsyncPath(dirname(file));
    return { file, manifest, bytes, compressedBytes: statSync(file).size, ms: Date.now() - t0 };
  } catch (err) {
    rmSync(part, { force: true });
    throw err;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
