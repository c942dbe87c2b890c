// The single writer thread: owns the only write connection. Requests that queue up while a
// commit is running are drained together into the next transaction (group commit).
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../store/open.js';
import { EventWriter, type WriteItem } from '../store/event-writer.js';

type Req =
  | { t: 'save'; n: number; items: WriteItem[] }
  | { t: 'purge'; n: number; now: number }
  | { t: 'close'; n: number }
  | { t: 'fault'; n: number; fault: WriteFault | null };

/** Fault injection (tests only, docs/reliability.md): 'full' makes every commit fail as SQLITE_FULL does. */
export type WriteFault = 'full';

const { path, durability } = workerData as { path: string; durability: 'full' | 'normal' };
const db = openDatabase(path, { readonly: false, durability });
const writer = new EventWriter(db);
const port = parentPort!;
let inbox: Req[] = [];
let scheduled = false;
let fault: WriteFault | null = null;

/** Throws what better-sqlite3 throws when the disk is full, while the 'full' fault is injected. */
function injected(): void {
  if (fault === 'full') throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
}

function drain(): void {
  scheduled = false;
  const reqs = inbox;
  inbox = [];
  const saves = reqs.filter((r): r is Extract<Req, { t: 'save' }> => r.t === 'save');
  if (saves.length > 0) {
    const all = saves.flatMap((r) => r.items);
    let outcomes;
    try {
      outcomes = writer.saveBatch(all, fault ? injected : undefined);
    } catch (err) {
      // The transaction rolled back: nothing of this batch is stored; every item is told so.
      const message = `error: could not store event (${(err as Error).message})`;
      outcomes = all.map(() => ({ ok: false, stored: false, message }));
    }
    let i = 0;
    for (const r of saves) {
      port.postMessage({ n: r.n, outcomes: outcomes.slice(i, i + r.items.length) });
      i += r.items.length;
    }
  }
  for (const r of reqs) {
    if (r.t === 'purge') {
      let purged = 0;
      try {
        injected();
        purged = writer.purgeExpired(r.now);
      } catch {
        /* retried on the next purge tick */
      }
      port.postMessage({ n: r.n, purged });
    } else if (r.t === 'fault') {
      fault = r.fault;
      port.postMessage({ n: r.n });
    } else if (r.t === 'close') {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      port.postMessage({ n: r.n, closed: true });
    }
  }
}

port.on('message', (r: Req) => {
  inbox.push(r);
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
});
