// One file over HTTP(S), resumable. Bytes go to <dest>.part; a later run that finds a .part asks
// for the rest with `Range: bytes=<n>-`. Servers answer three ways and all are handled: 206 (append),
// 200 (the server ignores ranges: start over), 416 (the .part is already whole, or longer than the
// file: check or start over). Network errors, 5xx, 408 and 429 are retried with exponential backoff;
// other 4xx fail at once. The sha256 is computed while writing (a resumed .part is hashed once
// first), checked when known, and only then is the .part renamed into place: an installed file is
// always a whole, checked one. An abort (Ctrl-C) keeps the .part for the next run.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelError, PART } from './store.js';
import type { ProgressSink } from './progress.js';

export class DownloadError extends ModelError {
  override name = 'DownloadError';
  constructor(
    message: string,
    /** The HTTP status when the server answered with an error. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export class ChecksumError extends ModelError {
  override name = 'ChecksumError';
}

/** Stopped by the caller (AbortSignal, Ctrl-C); the .part stays for a resume. */
export class InterruptedError extends ModelError {
  override name = 'InterruptedError';
}

export interface DownloadOptions {
  /** Expected sha256 (hex); a mismatch deletes the .part and throws ChecksumError. */
  readonly sha256?: string;
  readonly signal?: AbortSignal;
  /** Retries after the first attempt (default 5); an attempt that made progress does not count. */
  readonly retries?: number;
  /** First backoff (default 500 ms), doubled each time, at most 30 s. */
  readonly backoffMs?: number;
  readonly progress?: ProgressSink;
  /** Told about resumes, restarts and retries. */
  readonly log?: (line: string) => void;
}

export interface DownloadResult {
  readonly size: number;
  readonly sha256: string;
  /** Bytes the .part already had when this run started its last successful request. */
  readonly resumedFrom: number;
  /** HTTP requests made. */
  readonly requests: number;
}

/** Not worth retrying: the server said no. */
class Fatal extends Error {}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function feed(hash: Hash, path: string, signal?: AbortSignal): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) hash.update(chunk as Buffer);
}

// "bytes 100-199/200" -> { start: 100, total: 200 }; "bytes */200" (a 416 answer) -> { total: 200 }.
export function parseContentRange(v: string | null): { start?: number; total?: number } {
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(v?.trim() ?? '');
  if (!m) return {};
  return { ...(m[1] !== undefined ? { start: Number(m[1]) } : {}), ...(m[2] !== '*' ? { total: Number(m[2]) } : {}) };
}

const retryable = (status: number): boolean => status >= 500 || status === 408 || status === 429;

export async function downloadFile(url: string, dest: string, o: DownloadOptions = {}): Promise<DownloadResult> {
  const part = dest + PART;
  // The first response's validator, kept beside the .part: a resume sends it as If-Range, so a file
  // that changed upstream in between comes back whole (200) instead of spliced onto the old bytes.
  const meta = `${part}.validator`;
  const validator = async (): Promise<string | undefined> => {
    try {
      return (await readFile(meta, 'utf8')).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const dropPart = async (): Promise<void> => {
    await rm(part, { force: true });
    await rm(meta, { force: true });
  };
  const log = o.log ?? (() => {});
  await mkdir(dirname(dest), { recursive: true });
  const retries = o.retries ?? 5;
  let failures = 0;
  let requests = 0;
  let restarted416 = false;
  let done: { size: number; sha256: string; resumedFrom: number } | undefined;
  while (!done) {
    if (o.signal?.aborted) throw new InterruptedError(`interrupted: ${part} kept; run the same install again to resume`);
    const have = await sizeOf(part);
    const ifRange = have > 0 ? await validator() : undefined;
    let progressed = false;
    try {
      requests++;
      const res = await fetch(url, {
        headers: { 'accept-encoding': 'identity', ...(have > 0 ? { range: `bytes=${have}-` } : {}), ...(ifRange ? { 'if-range': ifRange } : {}) },
        redirect: 'follow',
        ...(o.signal ? { signal: o.signal } : {}),
      });
      if (res.status === 416) {
        await res.body?.cancel();
        const { total } = parseContentRange(res.headers.get('content-range'));
        if (have > 0 && total === have) {
          const hash = createHash('sha256');
          await feed(hash, part, o.signal);
          done = { size: have, sha256: hash.digest('hex'), resumedFrom: have };
          break;
        }
        if (restarted416) throw new Fatal(`${url}: 416 Range Not Satisfiable even without a partial file`);
        restarted416 = true;
        log(`${part}: the server has no bytes after ${have} (416): starting over`);
        await dropPart();
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel();
        const msg = `${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
        if (retryable(res.status)) throw new DownloadError(msg, res.status);
        throw Object.assign(new Fatal(msg), { status: res.status });
      }
      let start = 0;
      let total: number | undefined;
      const length = res.headers.get('content-length');
      if (res.status === 206) {
        const cr = parseContentRange(res.headers.get('content-range'));
        if (cr.start !== have) {
          // A range we did not ask for: trust nothing, start over.
          await res.body?.cancel();
          log(`${part}: the server answered a different range (${res.headers.get('content-range')}): starting over`);
          await dropPart();
          continue;
        }
        start = have;
        total = cr.total ?? (length !== null ? have + Number(length) : undefined);
        log(`${part}: resuming at byte ${have}`);
      } else {
        if (have > 0) log(`${part}: the server sent the whole file (200: it ignores ranges, or the file changed): starting over`);
        total = length !== null ? Number(length) : undefined;
        // Only strong ETags may be used with If-Range (RFC 9110 13.1.5).
        const etag = res.headers.get('etag');
        const v = etag && !etag.startsWith('W/') ? etag : (res.headers.get('last-modified') ?? undefined);
        if (v) await writeFile(meta, v);
        else await rm(meta, { force: true });
      }
      // Say so before writing 500 MB into a disk that holds 300 (a Raspberry Pi's SD card).
      if (total !== undefined) {
        const fs = await statfs(dirname(dest));
        const free = fs.bavail * fs.bsize;
        if (free < total - start) throw new Fatal(`not enough disk space for ${dest}: needs ${total - start} bytes, ${free} free`);
      }
      const hash = createHash('sha256');
      if (start > 0) await feed(hash, part, o.signal);
      const fh = await open(part, start > 0 ? 'a' : 'w');
      let bytes = start;
      try {
        o.progress?.update(bytes, total);
        if (res.body) {
          for await (const chunk of res.body) {
            await fh.write(chunk);
            hash.update(chunk);
            bytes += chunk.length;
            progressed = true;
            o.progress?.update(bytes, total);
          }
        }
      } finally {
        await fh.close();
      }
      if (total !== undefined && bytes !== total) throw new DownloadError(`${url}: the body ended at byte ${bytes} of ${total}`);
      done = { size: bytes, sha256: hash.digest('hex'), resumedFrom: start };
    } catch (err) {
      if (o.signal?.aborted) throw new InterruptedError(`interrupted: ${part} kept (${await sizeOf(part)} bytes); run the same install again to resume`);
      if (err instanceof Fatal) throw new DownloadError(err.message, (err as Fatal & { status?: number }).status);
      if (progressed) failures = 0;
      failures++;
      const why = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      if (failures > retries) {
        throw new DownloadError(`${url}: ${why} (gave up after ${requests} request${requests === 1 ? '' : 's'}; ${part} kept: run again to resume)`);
      }
      const wait = Math.min(30_000, (o.backoffMs ?? 500) * 2 ** (failures - 1));
      log(`${url}: ${why}; retrying in ${wait} ms`);
      try {
        await sleep(wait, undefined, o.signal ? { signal: o.signal } : {});
      } catch {
        throw new InterruptedError(`interrupted: ${part} kept; run the same install again to resume`);
      }
    }
  }
  if (o.sha256 && o.sha256.toLowerCase() !== done.sha256) {
    await dropPart();
    throw new ChecksumError(`sha256 mismatch for ${dest}: expected ${o.sha256.toLowerCase()}, got ${done.sha256} (download from ${url} deleted)`);
  }
  await rename(part, dest);
  await rm(meta, { force: true });
  return { ...done, requests };
}
