// Test support: another process that holds a SQLite database locked. It opens the file with
// better-sqlite3, takes the lock, prints "locked", and lets go when its stdin closes (release()).
//   'exclusive': BEGIN EXCLUSIVE and a write: writers wait (busy_timeout) then fail; WAL readers go on.
//   'exclusive-mode': PRAGMA locking_mode = EXCLUSIVE and a write: nobody else may even read.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const SCRIPT = `
const Database = require('better-sqlite3');
const [path, mode, forMs] = process.argv.slice(1);
const db = new Database(path);
if (mode === 'exclusive-mode') {
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('journal_mode = WAL');
  db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS fault_lock (x); INSERT INTO fault_lock VALUES (1); COMMIT;');
} else {
  db.pragma('journal_mode = WAL');
  db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS fault_lock (x); INSERT INTO fault_lock VALUES (1);');
}
process.stdout.write('locked\\n');
const release = () => {
  if (db.inTransaction) db.exec('ROLLBACK');
  db.close();
  process.exit(0);
};
process.stdin.resume();
process.stdin.on('end', release);
if (Number(forMs) > 0) setTimeout(release, Number(forMs));
`;

export interface LockHolder {
  readonly proc: ChildProcess;
  /** Lets go of the lock and waits for the process to exit. */
  release(): Promise<void>;
}

/**
 * Locks `path` from another process. With `forMs` the child lets go by itself after that long
 * (needed when the caller's own thread blocks in SQLite's busy wait and cannot call release()).
 */
export async function holdLock(path: string, mode: 'exclusive' | 'exclusive-mode' = 'exclusive', forMs = 0): Promise<LockHolder> {
  const proc = spawn(process.execPath, ['-e', SCRIPT, path, mode, String(forMs)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => d.includes('locked') && resolve());
    void exited.then(() => reject(new Error(`the lock holder exited: ${err}`)));
  });
  return {
    proc,
    async release() {
      proc.stdin?.end();
      await exited;
    },
  };
}
