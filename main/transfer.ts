// `timmy relay export|import`: JSONL, one event per line, the format strfry and nostr-rs-relay use.
import { createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { openDatabase } from '../relay/store/open.js';
import { EventWriter, type WriteItem } from '../relay/store/event-writer.js';
import { IngestPool } from '../relay/pipeline/ingest-pool.js';

export async function exportJsonl(dataDir: string, outPath: string | undefined, progress: (n: number) => void): Promise<number> {
  const path = join(dataDir, 'relay.sqlite');
  if (!existsSync(path)) throw new Error(`no relay database in ${dataDir}`);
  // Opened for writing so that an older schema is migrated first, like at relay start.
  const db = openDatabase(path, { readonly: false, durability: 'normal' });
  const out: Writable = outPath ? createWriteStream(outPath) : process.stdout;
  let n = 0;
  for (const row of db.prepare('SELECT raw FROM events ORDER BY seq').iterate() as IterableIterator<{ raw: string }>) {
    if (!out.write(row.raw + '\n')) await once(out, 'drain');
    if (++n % 50_000 === 0) progress(n);
  }
  if (outPath) await new Promise<void>((r) => out.end(r));
  db.close();
  return n;
}

export interface ImportStats {
  read: number;
  stored: number;
  duplicate: number;
  rejected: number;
}

/** Verifies every line (on worker threads) and stores valid events through the relay's writer rules. */
export async function importJsonl(
  dataDir: string,
  inPath: string | undefined,
  o: { workers: number; progress: (s: ImportStats) => void; onReject?: (line: number, reason: string) => void; window?: number },
): Promise<ImportStats> {
  mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(join(dataDir, 'relay.sqlite'), { readonly: false, durability: 'normal' });
  const writer = new EventWriter(db);
  const stats: ImportStats = { read: 0, stored: 0, duplicate: 0, rejected: 0 };
  // Lines being verified at once: reading pauses above `window` and resumes below a quarter of it.
  const window = o.window ?? 20_000;
  let batch: WriteItem[] = [];
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const flush = () => {
    if (batch.length === 0) return;
    for (const r of writer.saveBatch(batch)) {
      if (r.stored) stats.stored++;
      else if (r.ok) stats.duplicate++;
      else stats.rejected++;
    }
    batch = [];
  };
  const pool = new IngestPool(o.workers, { maxFilters: 1, maxSubIdLength: 1 }, (line, m) => {
    inFlight--;
    if (m.type === 'EVENT') {
      batch.push({ event: m.event, json: m.json });
      if (batch.length >= 5000) flush();
    } else {
      stats.rejected++;
      o.onReject?.(line, 'reason' in m ? m.reason : 'not an event');
    }
    if (wake && inFlight < window / 4) {
      wake();
      wake = null;
    }
  });
  const input = inPath ? createReadStream(inPath) : process.stdin;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lastReport = 0;
  let lineNo = 0; // the file's line number (blank lines count), reported with rejections
  for await (const line of lines) {
    lineNo++;
    if (!line.trim()) continue;
    stats.read++;
    inFlight++;
    pool.submit(pool.assign(), lineNo, `["EVENT",${line}]`);
    if (inFlight >= window) await new Promise<void>((r) => (wake = r));
    if (stats.read - lastReport >= 50_000) {
      lastReport = stats.read;
      o.progress(stats);
    }
  }
  while (inFlight > 0) await new Promise<void>((r) => ((wake = r), setTimeout(r, 50)));
  flush();
  await pool.close();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return stats;
}
