// `timmy restore <file>`: puts a backup back as a data dir. The whole archive is read and checked
// first (manifest, every file's size and sha256, gzip CRC, tar checksums) before anything is
// written; then it is unpacked into <dir>.restore-<ts> beside the target, each database is checked
// (PRAGMA integrity_check) and the ledger audited, and only then renamed into place. A target with
// a live instance (main/pidfile.ts) is refused; a non-empty one too, unless --force, which keeps it
// as <dir>.before-restore-<ts>.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, rmdirSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Ledger } from '../wallet/ledger.js';
import { ArchiveError, readArchive, type EntrySink } from './backup-archive.js';
import { BackupError, FORMAT, FORMAT_VERSION, integrityCheck, MANIFEST, type Manifest, type ManifestFile } from './backup-files.js';
import { fsyncPath } from './backup.js';
import { runningInstance } from './pidfile.js';

export interface RestoreOptions {
  readonly file: string;
  readonly dataDir: string;
  /** Replace a non-empty data dir (kept as <dir>.before-restore-<ts>). */
  readonly force?: boolean;
  readonly progress?: (line: string) => void;
}

export interface RestoreSummary {
  readonly dataDir: string;
  readonly manifest: Manifest;
  readonly bytes: number;
  /** Where the replaced data dir was kept (with --force). */
  readonly previous?: string;
  readonly integrity: string;
  readonly ledger?: { readonly transactions: number; readonly totalMsat: number };
  readonly ms: number;
}

function parseManifest(buf: Buffer): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(buf.toString('utf8')) as Manifest;
  } catch {
    throw new BackupError('corrupted backup: the manifest is not JSON');
  }
  if (m?.format !== FORMAT || !Array.isArray(m.files)) throw new BackupError('not a timmy backup (no timmy-backup manifest)');
  if (m.version !== FORMAT_VERSION) throw new BackupError(`backup format version ${m.version} is not supported (this timmy reads version ${FORMAT_VERSION})`);
  for (const f of m.files) {
    const parts = String(f.path).split('/');
    if (f.path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) throw new BackupError(`refusing a backup with the path ${JSON.stringify(f.path)}`);
    if (!Number.isSafeInteger(f.size) || !/^[0-9a-f]{64}$/.test(f.sha256)) throw new BackupError(`corrupted backup: the manifest entry of ${f.path} is malformed`);
  }
  return m;
}

/**
 * Reads the whole archive, checking it against its manifest; with `into`, writes each file there
 * (fsynced). Returns the manifest.
 */
async function pass(file: string, into?: string, progress?: (line: string) => void): Promise<Manifest> {
  let manifest: Manifest | undefined;
  const seen = new Set<string>();
  let bytes = 0;
  let last = Date.now();
  const t0 = last;
  await readArchive(file, (e): EntrySink => {
    if (!manifest) {
      if (e.name !== MANIFEST) throw new BackupError('not a timmy backup (the first entry is not manifest.json)');
      const chunks: Buffer[] = [];
      return { write: (c) => chunks.push(Buffer.from(c)), end: () => void (manifest = parseManifest(Buffer.concat(chunks))) };
    }
    const want: ManifestFile | undefined = manifest.files.find((f) => f.path === e.name);
    if (!want) throw new BackupError(`corrupted backup: ${e.name} is not in the manifest`);
    if (seen.has(e.name)) throw new BackupError(`corrupted backup: ${e.name} appears twice`);
    seen.add(e.name);
    if (e.size !== want.size) throw new BackupError(`corrupted backup: ${e.name} is ${e.size} bytes, the manifest says ${want.size}`);
    const hash = createHash('sha256');
    let fd: number | undefined;
    if (into) {
      const dest = join(into, e.name);
      mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
      fd = openSync(dest, 'wx', want.mode & 0o777 || 0o600);
    }
    return {
      write(c) {
        hash.update(c);
        if (fd !== undefined) writeSync(fd, c);
        bytes += c.length;
        if (progress && Date.now() - last > 1000) {
          last = Date.now();
          progress(`restore: ${into ? 'unpacked' : 'checked'} ${(bytes / 1048576).toFixed(1)} MB (${(bytes / 1048576 / ((last - t0) / 1000)).toFixed(1)} MB/s)`);
        }
      },
      end() {
        if (fd !== undefined) {
          fsyncSync(fd);
          closeSync(fd);
        }
        if (hash.digest('hex') !== want.sha256) throw new BackupError(`corrupted backup: the checksum of ${e.name} does not match the manifest`);
      },
    };
  });
  if (!manifest) throw new BackupError('not a timmy backup (empty archive)');
  const missing = manifest.files.filter((f) => !seen.has(f.path));
  if (missing.length) throw new BackupError(`corrupted backup: ${missing.length} file(s) of the manifest are missing, e.g. ${missing[0]!.path}`);
  return manifest;
}

const wrap = async <T>(f: () => Promise<T>): Promise<T> => {
  try {
    return await f();
  } catch (err) {
    if (err instanceof ArchiveError) throw new BackupError(err.message);
    throw err;
  }
};

/** Checks a backup file without writing anything. */
export function verifyBackup(file: string, progress?: (line: string) => void): Promise<Manifest> {
  if (!existsSync(file)) return Promise.reject(new BackupError(`no such file: ${file}`));
  return wrap(() => pass(file, undefined, progress));
}

function refuseTarget(dataDir: string, force: boolean): void {
  const pid = runningInstance(dataDir);
  if (pid !== undefined) throw new BackupError(`an instance (pid ${pid}) is running on ${dataDir}: stop it before restoring`);
  if (existsSync(dataDir)) {
    if (!statSync(dataDir).isDirectory()) throw new BackupError(`${dataDir} is not a directory`);
    if (readdirSync(dataDir).length > 0 && !force) throw new BackupError(`${dataDir} is not empty: pass --force to replace it (it is kept as ${dataDir}.before-restore-<time>)`);
  }
}

/** Checks the unpacked databases: integrity_check of each, the ledger's audit. */
function checkRestored(dir: string, m: Manifest): { integrity: string; ledger?: RestoreSummary['ledger'] } {
  for (const f of m.files.filter((x) => x.integrity !== undefined)) {
    const r = integrityCheck(join(dir, f.path));
    if (r !== 'ok') throw new BackupError(`restored ${f.path} fails PRAGMA integrity_check: ${r}`);
  }
  if (!m.files.some((f) => f.path === 'wallet.sqlite')) return { integrity: 'ok' };
  const ledger = Ledger.open(join(dir, 'wallet.sqlite'));
  try {
    const a = ledger.audit();
    if (a.totalMsat !== 0 || a.unbalancedTxIds.length > 0 || a.driftedAccounts.length > 0) {
      throw new BackupError(`the restored ledger does not balance: total ${a.totalMsat} msat, ${a.unbalancedTxIds.length} unbalanced transaction(s), ${a.driftedAccounts.length} drifted account(s)`);
    }
    return { integrity: 'ok', ledger: { transactions: a.transactions, totalMsat: a.totalMsat } };
  } finally {
    ledger.close();
  }
}

export async function restoreBackup(o: RestoreOptions): Promise<RestoreSummary> {
  const t0 = Date.now();
  const file = resolve(o.file);
  const dataDir = resolve(o.dataDir);
  const force = o.force ?? false;
  const manifest = await verifyBackup(file, o.progress);
  refuseTarget(dataDir, force);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const tmp = `${dataDir}.restore-${stamp}`;
  mkdirSync(dirname(dataDir), { recursive: true });
  mkdirSync(tmp, { mode: 0o700 });
  let previous: string | undefined;
  try {
    await wrap(() => pass(file, tmp, o.progress));
    for (const d of new Set(manifest.files.map((f) => dirname(join(tmp, f.path))))) fsyncPath(d);
    const checks = checkRestored(tmp, manifest);
    refuseTarget(dataDir, force); // again: an instance may have started meanwhile
    if (existsSync(dataDir)) {
      if (readdirSync(dataDir).length === 0) rmdirSync(dataDir);
      else {
        previous = `${dataDir}.before-restore-${stamp}`;
        renameSync(dataDir, previous);
      }
    }
    try {
      renameSync(tmp, dataDir);
    } catch (err) {
      if (previous) renameSync(previous, dataDir);
      previous = undefined;
      throw err;
    }
    fsyncPath(dirname(dataDir));
    const bytes = manifest.files.reduce((s, f) => s + f.size, 0);
    return { dataDir, manifest, bytes, ...(previous ? { previous } : {}), ...checks, ms: Date.now() - t0 };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
