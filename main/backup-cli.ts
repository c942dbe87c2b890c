// `timmy backup <file>` and `timmy restore <file>`: the command lines over main/backup.ts and
// main/backup-restore.ts. Progress goes to stderr, the one-line summary (or --json) to stdout.
import type { Config } from './config.js';
import { parseFlags } from './flags.js';
import { AdminError } from './admin-cli.js';
import { createBackup } from './backup.js';
import { restoreBackup, verifyBackup } from './backup-restore.js';
import { BackupError, mb } from './backup-files.js';

export const BACKUP_HELP = `Usage: timmy backup <file> [--data-dir <dir>] [--force] [--json]

Writes an online, consistent backup of the data dir to <file> (a .tar.gz with a manifest.json),
while the instance runs or not. Every SQLite database (relay, wallet, jobs, memory, NWC, …) is
copied with SQLite's online backup API from snapshots taken together when the backup starts, so
everything committed before then is in it; each copy passes PRAGMA integrity_check. The keystore
(agents/, secrets/, master.secret) and stored audio (voice-audio/) are included; model files
(models/) are not: 'timmy models install' fetches them again. The file is written as <file>.part,
fsynced and renamed; it holds the keys' master secret when master.secret is used: keep it safe.

Options:
  --data-dir <dir>  where data lives (default ./data)   env TIMMY_DATA_DIR
  --config <file>   JSON config file
  --force           replace <file> if it exists
  --json            print the manifest and figures as JSON
  -h, --help        show this help`;

export const RESTORE_HELP = `Usage: timmy restore <file> [--data-dir <dir>] [--force] [--check] [--json]

Restores a backup made by 'timmy backup' as the data dir. The whole file is checked first (the
manifest, each file's size and sha256); nothing is written if it is damaged. It is unpacked beside
the data dir, each database passes PRAGMA integrity_check and the wallet ledger's audit, and then
it is renamed into place. Refused while an instance runs on the data dir (its timmy.pid names a
live process), and when the data dir is not empty unless --force: the old one is then kept as
<dir>.before-restore-<time>.

Options:
  --data-dir <dir>  the data dir to restore into (default ./data)   env TIMMY_DATA_DIR
  --config <file>   JSON config file
  --force           replace a non-empty data dir (the old one is kept)
  --check           only check the file: touch nothing
  --json            print the result as JSON
  -h, --help        show this help`;

const fileArg = (positional: string[], cmd: string): string => {
  if (positional.length !== 1) throw new AdminError(`timmy ${cmd} needs one <file>; run 'timmy ${cmd} --help'`);
  return positional[0]!;
};

const progress = (line: string): void => void console.error(line);

export async function backupCommand(config: Config, argv: readonly string[]): Promise<string[]> {
  const f = parseFlags(argv, [], ['force', 'json']);
  const r = await createBackup({ dataDir: config.dataDir, file: fileArg(f.positional, 'backup'), force: f.bools.has('force'), progress });
  if (f.bools.has('json')) return [JSON.stringify({ file: r.file, bytes: r.bytes, compressedBytes: r.compressedBytes, ms: r.ms, manifest: r.manifest })];
  const dbs = r.manifest.files.filter((x) => x.integrity !== undefined).length;
  return [`backup ${r.file}: ${r.manifest.files.length} files (${dbs} databases, integrity ok), ${mb(r.bytes)} packed into ${mb(r.compressedBytes)} in ${(r.ms / 1000).toFixed(1)} s`];
}

export async function restoreCommand(config: Config, argv: readonly string[]): Promise<string[]> {
  const f = parseFlags(argv, [], ['force', 'json', 'check']);
  const file = fileArg(f.positional, 'restore');
  if (f.bools.has('check')) {
    const m = await verifyBackup(file, progress);
    if (f.bools.has('json')) return [JSON.stringify({ file, ok: true, manifest: m })];
    return [`backup ${file} is intact: ${m.files.length} files from ${m.createdAt} (timmy ${m.timmyVersion}), checksums verified`];
  }
  const r = await restoreBackup({ file, dataDir: config.dataDir, force: f.bools.has('force'), progress });
  if (f.bools.has('json')) return [JSON.stringify({ dataDir: r.dataDir, bytes: r.bytes, ms: r.ms, previous: r.previous, integrity: r.integrity, ledger: r.ledger, createdAt: r.manifest.createdAt, files: r.manifest.files.length })];
  const ledger = r.ledger ? `, ledger balances (${r.ledger.transactions} transactions)` : '';
  const prev = r.previous ? `; the previous data dir is kept as ${r.previous}` : '';
  return [`restored ${r.manifest.files.length} files (${mb(r.bytes)}) of the backup of ${r.manifest.createdAt} into ${r.dataDir}: checksums verified, integrity ok${ledger}${prev}`];
}

export { BackupError };
