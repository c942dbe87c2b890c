// Cached, append-only JSONL files of pre-signed events (bench/results/cache, gitignored).
// Generation runs in worker_threads (one per core) and can be extended later: a --quick run's file is
// the prefix of the full run's, since event i depends only on (stream, i).
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { DATASET_VERSION, type Stream } from './events.js';
import { CACHE_DIR } from './paths.js';
import type { SignJob, SignResult } from './sign-worker.js';
import { fmtInt, log } from './util.js';

export const MARK_EVERY = 10_000;
const BLOCK = 5_000;

interface Meta {
  version: number;
  stream: Stream;
  count: number;
  bytes: number;
  /** offsets[k] = byte offset of line k * MARK_EVERY */
  offsets: number[];
}

export function datasetPath(stream: Stream): string {
  return join(CACHE_DIR, `v${DATASET_VERSION}-${stream}.jsonl`);
}
const metaPath = (stream: Stream): string => `${datasetPath(stream)}.meta.json`;

function readMeta(stream: Stream): Meta {
  const fresh: Meta = { version: DATASET_VERSION, stream, count: 0, bytes: 0, offsets: [] };
  const file = datasetPath(stream);
  if (!existsSync(file) || !existsSync(metaPath(stream))) return fresh;
  try {
    const m = JSON.parse(readFileSync(metaPath(stream), 'utf8')) as Meta;
    if (m.version !== DATASET_VERSION || m.stream !== stream) return fresh;
    const size = statSync(file).size;
    if (size < m.bytes) return fresh; // truncated: start over
    return m; // a larger file means an interrupted append: the tail past m.bytes is cut below
  } catch {
    return fresh;
  }
}

function writeMeta(m: Meta): void {
  writeFileSync(metaPath(m.stream), JSON.stringify(m));
}

/** Make sure the cached file of `stream` holds at least `count` events; generate the missing ones. */
export async function ensureDataset(stream: Stream, count: number): Promise<void> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const meta = readMeta(stream);
  const file = datasetPath(stream);
  if (meta.count >= count) return;
  const fd = openSync(file, existsSync(file) ? 'r+' : 'w');
  try {
    ftruncateSync(fd, meta.bytes);
    let pos = meta.bytes;
    const from = meta.count;
    const threads = Math.max(1, availableParallelism());
    log(`generating ${fmtInt(count - from)} ${stream} events (${from ? `extending cache from ${fmtInt(from)}, ` : ''}${threads} signing threads) -> ${file}`);
    const workers: Worker[] = [];
    const workerUrl = new URL('./sign-worker.js', import.meta.url);
    for (let w = 0; w < threads; w++) workers.push(new Worker(workerUrl));
    const t0 = performance.now();
    let lastLog = t0;
    let nextJob = from;
    let nextWrite = from;
    const pending = new Map<number, SignResult>();
    await new Promise<void>((resolve, reject) => {
      let active = 0;
      const feed = (w: Worker): void => {
        if (nextJob >= count) return;
        const job: SignJob = { stream, start: nextJob, end: Math.min(count, nextJob + BLOCK), markEvery: MARK_EVERY };
        nextJob = job.end;
        active++;
        w.postMessage(job);
      };
      for (const w of workers) {
        w.on('error', reject);
        w.on('message', (res: SignResult) => {
          active--;
          pending.set(res.start, res);
          // flush in order
          for (let r = pending.get(nextWrite); r; r = pending.get(nextWrite)) {
            pending.delete(nextWrite);
            for (const [line, rel] of r.marks) meta.offsets[line / MARK_EVERY] = pos + rel;
            const buf = Buffer.from(r.text);
            writeSync(fd, buf, 0, buf.length, pos);
            pos += buf.length;
            nextWrite = r.end;
            meta.count = r.end;
            meta.bytes = pos;
            writeMeta(meta);
          }
          const now = performance.now();
          if (now - lastLog > 5_000) {
            lastLog = now;
            const done = nextWrite - from;
            const rate = done / ((now - t0) / 1000);
            log(`  ${stream}: ${fmtInt(nextWrite)}/${fmtInt(count)} signed (${fmtInt(rate)}/s, ETA ${Math.round((count - nextWrite) / rate)} s)`);
          }
          if (nextWrite >= count && active === 0) resolve();
          else feed(w);
        });
        feed(w);
      }
    });
    await Promise.all(workers.map((w) => w.terminate()));
    const secs = (performance.now() - t0) / 1000;
    log(`  ${stream}: ${fmtInt(count)} events cached (${fmtInt((count - from) / secs)}/s signed, ${secs.toFixed(1)} s)`);
  } finally {
    closeSync(fd);
  }
}

/** Lines [from, to) of the cached stream, in order. */
export async function* readLines(stream: Stream, from: number, to: number): AsyncGenerator<string> {
  const meta = readMeta(stream);
  if (to > meta.count) throw new Error(`dataset ${stream} has ${meta.count} events, need ${to}`);
  if (from >= to) return;
  const mark = Math.floor(from / MARK_EVERY);
  const start = meta.offsets[mark];
  if (start === undefined) throw new Error(`dataset ${stream}: missing offset for line ${mark * MARK_EVERY}`);
  const input = createReadStream(datasetPath(stream), { start, end: meta.bytes - 1, highWaterMark: 1 << 20 });
  const rl = createInterface({ input, crlfDelay: Infinity });
  let i = mark * MARK_EVERY;
  try {
    for await (const line of rl) {
      if (i >= to) break;
      if (i >= from) yield line;
      i++;
    }
  } finally {
    rl.close();
    input.destroy();
  }
}

export async function readLinesArray(stream: Stream, from: number, to: number): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readLines(stream, from, to)) out.push(l);
  return out;
}

/** `k` events spread evenly over [from, to), read from the cache (cheap: each read starts at an offset mark). */
export async function sampleLines(stream: Stream, from: number, to: number, k: number): Promise<string[]> {
  const out: string[] = [];
  const n = to - from;
  if (n <= 0) return out;
  const step = Math.max(1, Math.floor(n / k));
  for (let i = from; i < to && out.length < k; i += step) {
    for await (const l of readLines(stream, i, i + 1)) out.push(l);
  }
  return out;
}
