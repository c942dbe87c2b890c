// The backup file: a gzip-compressed ustar archive (readable by `tar xzf`), written and read as a
// stream. The writer stores regular files only; the reader accepts regular files only, checks every
// header's checksum and that padding and the end of the archive are zeros, and gzip's CRC covers
// the rest: a flipped byte anywhere is an error.
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';

export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

const BLOCK = 512;
const RECORD = 10240;

export interface EntryHeader {
  readonly name: string;
  readonly size: number;
  readonly mode: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
}

export interface ArchiveEntry extends EntryHeader {
  /** The content, or the path of a file of exactly `size` bytes to read it from. */
  readonly data: Buffer | string;
}

function octal(h: Buffer, off: number, len: number, v: number): void {
  h.write(v.toString(8).padStart(len - 1, '0') + '\0', off, len, 'ascii');
}

function header(e: EntryHeader): Buffer {
  const h = Buffer.alloc(BLOCK);
  let name = e.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new ArchiveError(`path too long for the archive: ${name}`);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, e.mode & 0o7777);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  if (e.size < 0o77777777777) octal(h, 124, 12, e.size);
  else {
    // GNU base-256 for sizes of 8 GiB and more.
    h[124] = 0x80;
    let v = BigInt(e.size);
    for (let i = 135; i > 124; i--, v >>= 8n) h[i] = Number(v & 0xffn);
  }
  octal(h, 136, 12, Math.floor(e.mtime));
  h.write('        ', 148, 8, 'ascii');
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

const text = (h: Buffer, off: number, len: number): string => {
  const s = h.subarray(off, off + len);
  const end = s.indexOf(0);
  return s.subarray(0, end < 0 ? len : end).toString('utf8');
};

function number(h: Buffer, off: number, len: number): number {
  if ((h[off]! & 0x80) !== 0) {
    let v = 0n;
    for (let i = off + 1; i < off + len; i++) v = (v << 8n) | BigInt(h[i]!);
    return Number(v);
  }
  const s = text(h, off, len).trim();
  if (!/^[0-7]*$/.test(s)) throw new ArchiveError('corrupted archive: a header field is not a number');
  return s === '' ? 0 : parseInt(s, 8);
}

function parseHeader(h: Buffer): EntryHeader {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  if (number(h, 148, 8) !== sum) throw new ArchiveError('corrupted archive: a header checksum does not match');
  if (text(h, 257, 6) !== 'ustar') throw new ArchiveError('not a backup archive (no ustar header)');
  const type = text(h, 156, 1);
  const prefix = text(h, 345, 155);
  const name = (prefix ? `${prefix}/` : '') + text(h, 0, 100);
  if (type !== '0' && type !== '') throw new ArchiveError(`unexpected entry in the archive: ${name} is not a regular file`);
  return { name, size: number(h, 124, 12), mode: number(h, 100, 8), mtime: number(h, 136, 12) };
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/**
 * Writes `entries` to `out` (created with mode 0600, replaced if present) as a .tar.gz; `progress`
 * hears the count of uncompressed bytes so far. Returns the uncompressed size.
 */
export async function writeArchive(out: string, entries: readonly ArchiveEntry[], progress?: (bytes: number) => void): Promise<number> {
  let total = 0;
  async function* blocks(): AsyncGenerator<Buffer> {
    for (const e of entries) {
      yield header(e);
      total += BLOCK;
      let n = 0;
      if (typeof e.data !== 'string') {
        n = e.data.length;
        yield e.data;
      } else {
        for await (const chunk of createReadStream(e.data, { highWaterMark: 1 << 20 })) {
          n += (chunk as Buffer).length;
          if (n > e.size) break;
          yield chunk as Buffer;
          progress?.(total + n);
        }
      }
      if (n !== e.size) throw new ArchiveError(`${e.name} changed size while it was packed`);
      total += n;
      const pad = padding(n);
      if (pad) yield Buffer.alloc(pad);
      total += pad;
    }
    total += 2 * BLOCK;
    const tail = (RECORD - (total % RECORD)) % RECORD;
    total += tail;
    yield Buffer.alloc(2 * BLOCK + tail);
    progress?.(total);
  }
  await pipeline(Readable.from(blocks()), createGzip({ level: 6 }), createWriteStream(out, { mode: 0o600 }));
  return total;
}

/** Where an entry's bytes go while the archive is read. */
export interface EntrySink {
  write(chunk: Buffer): void;
  end(): void | Promise<void>;
}

const isZero = (b: Buffer): boolean => {
  for (const x of b) if (x !== 0) return false;
  return true;
};

/** Reads the .tar.gz at `file`, giving each entry's bytes to the sink `onEntry` returns for it. */
export async function readArchive(file: string, onEntry: (e: EntryHeader) => EntrySink | Promise<EntrySink>): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let cur: { sink: EntrySink; remaining: number; pad: number } | undefined;
  let zeros = 0;
  const gunzip = createGunzip();
  let zerr: Error | undefined;
  let own: Error | undefined;
  gunzip.on('error', (e) => (zerr ??= e));
  try {
    await pipeline(createReadStream(file), gunzip, async (source: AsyncIterable<Buffer>) => {
      try {
        for await (const chunk of source) {
          const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
          let off = 0;
          for (;;) {
            if (cur) {
              if (cur.remaining > 0) {
                const n = Math.min(cur.remaining, buf.length - off);
                if (n > 0) cur.sink.write(buf.subarray(off, off + n));
                off += n;
                cur.remaining -= n;
                if (cur.remaining > 0) break;
              }
              if (cur.pad > 0) {
                const n = Math.min(cur.pad, buf.length - off);
                if (!isZero(buf.subarray(off, off + n))) throw new ArchiveError('corrupted archive: padding is not zeros');
                off += n;
                cur.pad -= n;
                if (cur.pad > 0) break;
              }
              await cur.sink.end();
              cur = undefined;
              continue;
            }
            if (buf.length - off < BLOCK) break;
            const h = buf.subarray(off, off + BLOCK);
            off += BLOCK;
            if (isZero(h)) {
              zeros++;
              continue;
            }
            if (zeros > 0) throw new ArchiveError('corrupted archive: data after the end of the archive');
            const e = parseHeader(h);
            cur = { sink: await onEntry(e), remaining: e.size, pad: padding(e.size) };
          }
          pending = buf.subarray(off);
        }
      } catch (err) {
        own ??= err as Error;
        throw err;
      }
    });
  } catch (caught) {
    const err = (caught as Error).name === 'AbortError' ? (own ?? zerr ?? caught) : caught;
    if (err instanceof ArchiveError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new ArchiveError(`no such file: ${file}`);
    if (e.code?.startsWith('Z_') || /unexpected end of file|incorrect header check|invalid/.test(e.message)) {
      throw new ArchiveError(`corrupted archive: ${e.message}`);
    }
    throw err;
  }
  if (cur || zeros < 2 || pending.length > 0) throw new ArchiveError('corrupted archive: it ends early');
}
