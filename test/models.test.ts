// `timmy models`: the catalog, installs from a directory (nested and flat) and over HTTP from a
// real local server (Range requests, a connection cut mid-body, a server that ignores Range, 416),
// sha256 checks, verify, and the CLI end to end. Nothing is downloaded from the internet: the
// "weights" are random bytes served from 127.0.0.1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CATALOG, findModel, localPath } from '../main/models/catalog.js';
import { ChecksumError, DownloadError, InterruptedError, downloadFile } from '../main/models/download.js';
import { installModel } from '../main/models/install.js';
import { stderrProgress } from '../main/models/progress.js';
import { listModels, modelDir, readManifest, verifyModel } from '../main/models/store.js';
import { BIN, runCli } from './support/cli.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

const temps: string[] = [];
function temp(prefix = 'timmy-models-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
after(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** Random "weights" for every required file of a catalog model, keyed by upstream path. */
function fakeModel(id: string, bigBytes = 64 * 1024): Map<string, Buffer> {
  const m = findModel(id)!;
  return new Map(m.files.filter((f) => f.required).map((f) => [f.path, randomBytes(f.path.endsWith('.onnx') ? bigBytes : 300)]));
}

function writeTree(dir: string, files: Map<string, Buffer>, flat = false): void {
  for (const [p, b] of files) {
    const dest = join(dir, flat ? p.split('/').pop()! : p);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, b);
  }
}

interface Served {
  readonly base: string;
  readonly requests: { path: string; range?: string; ifRange?: string; status: number }[];
  close(): Promise<void>;
}

interface ServeOptions {
  /** Answer every request with 200 and the whole body. */
  ignoreRange?: boolean;
  /** The first request for this path sends half the body, waits until `until()` (or 10 s), then drops the connection. */
  cut?: { path: string; until: () => boolean };
  /** Send the body in 16 kB pieces this many ms apart (progress and abort tests). */
  chunkDelayMs?: number;
  /** Send a strong ETag (the body's sha256) and honour If-Range. */
  etag?: boolean;
}

/** A real HTTP server on 127.0.0.1:0 serving `files` under /<path>, with byte ranges. */
async function serve(files: Map<string, Buffer>, o: ServeOptions = {}): Promise<Served> {
  const requests: Served['requests'] = [];
  let cutDone = false;
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    const body = files.get(path);
    const etag = body && o.etag ? `"${sha(body)}"` : undefined;
    const ifRange = req.headers['if-range'];
    // If-Range: the range applies only while the validator still matches (RFC 9110 13.1.5).
    const range = ifRange !== undefined && ifRange !== etag ? undefined : req.headers.range;
    const log = (status: number): void =>
      void requests.push({ path, ...(req.headers.range ? { range: req.headers.range } : {}), ...(typeof ifRange === 'string' ? { ifRange } : {}), status });
    if (!body) return (log(404), res.writeHead(404).end('not found'));
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    let start = 0;
    if (m && !o.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) return (log(416), res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end());
      log(206);
      res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start, 'accept-ranges': 'bytes' });
    } else {
      log(200);
      res.writeHead(200, { 'content-length': body.length, ...(o.ignoreRange ? {} : { 'accept-ranges': 'bytes' }), ...(etag ? { etag } : {}) });
    }
    const rest = body.subarray(start);
    if (o.cut && o.cut.path === path && !cutDone) {
      cutDone = true;
      const cut = o.cut;
      res.write(rest.subarray(0, rest.length >> 1), async () => {
        // Cut only once the client has written some bytes, so the test always has a .part to resume.
        for (let i = 0; i < 1000 && !cut.until(); i++) await sleep(10);
        res.socket?.destroy();
      });
      return;
    }
    if (!o.chunkDelayMs) return void res.end(rest);
    void (async () => {
      for (let i = 0; i < rest.length && !res.destroyed; i += 16 * 1024) {
        res.write(rest.subarray(i, i + 16 * 1024));
        await sleep(o.chunkDelayMs);
      }
      res.end();
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The files a server holds for a model in the Hugging Face layout: <repo>/resolve/main/<path>. */
function hfLayout(id: string, files: Map<string, Buffer>): Map<string, Buffer> {
  const repo = findModel(id)!.source.repo;
  return new Map([...files].map(([p, b]) => [`${repo}/resolve/main/${p}`, b]));
}

const sizeOf = (p: string): number => (existsSync(p) ? statSync(p).size : 0);

describe('the catalog and list', () => {
  it('lists every catalog model as missing in an empty data dir', () => {
    const dataDir = temp();
    const all = listModels(dataDir);
    assert.deepEqual(
      all.map((m) => m.id),
      CATALOG.map((m) => m.id),
    );
    for (const m of all) assert.equal(m.state, 'missing', m.id);
    const engines = new Set(all.map((m) => m.engine));
    for (const e of ['whisper', 'moonshine', 'piper', 'kokoro', 'sentence-embedder'] as const) assert.ok(engines.has(e), e);
  });

  it('has the upstream file layout the engines open', () => {
    const files = (id: string): string[] => findModel(id)!.files.filter((f) => f.required).map(localPath);
    assert.deepEqual(files('whisper-tiny').slice(0, 2), ['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx']);
    assert.deepEqual(files('all-MiniLM-L6-v2'), ['onnx/model.onnx', 'vocab.txt', 'tokenizer.json', 'config.json']);
    assert.deepEqual(files('piper-en_US-lessac-medium'), ['en_US-lessac-medium.onnx', 'en_US-lessac-medium.onnx.json']);
    assert.ok(files('kokoro-82m').includes('voices/af_heart.bin'));
    // No invented hashes: every hash given is a real sha256 shape.
    for (const m of CATALOG) for (const f of m.files) if (f.sha256) assert.match(f.sha256, /^[0-9a-f]{64}$/);
  });
});

describe('install from a local directory', () => {
  it('copies a nested (upstream layout) directory and records a manifest', async () => {
    const dataDir = temp();
    const src = temp('timmy-models-src-');
    const files = fakeModel('all-MiniLM-L6-v2');
    writeTree(src, files);
    const r = await installModel(dataDir, 'all-MiniLM-L6-v2', { from: src });
    assert.equal(r.state, 'installed');
    assert.equal(r.installed.length, 4);
    assert.deepEqual(r.skipped.map((s) => s.path).sort(), ['1_Pooling/config.json', 'sentence_bert_config.json', 'special_tokens_map.json', 'tokenizer_config.json']);
    const dir = modelDir(dataDir, 'all-MiniLM-L6-v2');
    const manifest = readManifest(dir)!;
    for (const [p, b] of files) {
      assert.deepEqual(readFileSync(join(dir, p)), b);
      const rec = manifest.files.find((f) => f.path === p)!;
      assert.equal(rec.sha256, sha(b));
      assert.equal(rec.size, b.length);
      assert.equal(rec.from, join(src, p));
      assert.ok(!Number.isNaN(Date.parse(rec.at)));
    }
    assert.equal(listModels(dataDir).find((m) => m.id === 'all-MiniLM-L6-v2')!.state, 'installed');
    assert.equal((await verifyModel(dataDir, 'all-MiniLM-L6-v2')).ok, true);
    // A second run finds everything in place.
    const again = await installModel(dataDir, 'all-MiniLM-L6-v2', { from: src });
    assert.equal(again.installed.length, 0);
    assert.equal(again.skipped.filter((s) => s.reason === 'already installed').length, 4);
  });

  it('accepts a flat directory (files side by side, without the upstream folders)', async () => {
    const dataDir = temp();
    const src = temp('timmy-models-src-');
    const files = fakeModel('whisper-tiny');
    writeTree(src, files, true);
    assert.ok(existsSync(join(src, 'encoder_model.onnx')));
    const r = await installModel(dataDir, 'whisper-tiny', { from: src });
    assert.equal(r.state, 'installed');
    const dir = modelDir(dataDir, 'whisper-tiny');
    assert.deepEqual(readFileSync(join(dir, 'onnx/encoder_model.onnx')), files.get('onnx/encoder_model.onnx'));
    assert.deepEqual(readFileSync(join(dir, 'onnx/decoder_model_merged.onnx')), files.get('onnx/decoder_model_merged.onnx'));

    // Piper: the voices repository nests four folders deep; the model dir holds the two files flat.
    const piper = fakeModel('piper-en_US-lessac-medium');
    const src2 = temp('timmy-models-src-');
    writeTree(src2, piper, true);
    const r2 = await installModel(dataDir, 'piper-en_US-lessac-medium', { from: `file://${src2}` });
    assert.equal(r2.state, 'installed');
    assert.ok(existsSync(join(modelDir(dataDir, 'piper-en_US-lessac-medium'), 'en_US-lessac-medium.onnx.json')));
  });

  it('names the missing required files and installs nothing', async () => {
    const dataDir = temp();
    const src = temp('timmy-models-src-');
    const files = fakeModel('all-MiniLM-L6-v2');
    files.delete('vocab.txt');
    writeTree(src, files);
    await assert.rejects(installModel(dataDir, 'all-MiniLM-L6-v2', { from: src }), /lacks vocab\.txt/);
    assert.equal(existsSync(modelDir(dataDir, 'all-MiniLM-L6-v2')), false);
  });
});

describe('install over HTTP', () => {
  it('downloads <base>/<path>, skips optional files the server lacks (404), reports progress', async () => {
    const dataDir = temp();
    const files = fakeModel('all-MiniLM-L6-v2', 256 * 1024);
    const srv = await serve(hfLayout('all-MiniLM-L6-v2', files), { chunkDelayMs: 2 });
    try {
      let out = '';
      const progress = stderrProgress({ out: { write: (s: string) => (out += s) }, tty: false, intervalMs: 0 });
      const r = await installModel(dataDir, 'all-MiniLM-L6-v2', { from: `${srv.base}sentence-transformers/all-MiniLM-L6-v2/resolve/main`, progress });
      assert.equal(r.state, 'installed');
      assert.deepEqual(r.skipped.map((s) => s.reason), Array(4).fill('optional, not on the server (404)'));
      const dir = modelDir(dataDir, 'all-MiniLM-L6-v2');
      for (const [p, b] of files) assert.equal(sha(readFileSync(join(dir, p))), sha(b));
      assert.equal(readManifest(dir)!.files.find((f) => f.path === 'onnx/model.onnx')!.from, `${srv.base}sentence-transformers/all-MiniLM-L6-v2/resolve/main/onnx/model.onnx`);
      const modelLines = lines(out).filter((l) => l.startsWith('all-MiniLM-L6-v2 onnx/model.onnx'));
      assert.ok(modelLines.length >= 3, out);
      assert.ok(modelLines.some((l) => /\b([1-9]\d?)%/.test(l)), `an intermediate percentage in:\n${out}`);
      assert.match(modelLines.at(-1)!, /256 kB \/ 256 kB {2}100% .*done$/);
      // On a TTY the same line is rewritten with \r.
      let tty = '';
      const sink = stderrProgress({ out: { write: (s: string) => (tty += s) }, tty: true })('x');
      sink.update(10, 100);
      sink.end('done');
      assert.match(tty, /^\rx {2}10 B \/ 100 B {2}10%/);
      assert.ok(tty.endsWith('done\n'));
    } finally {
      await srv.close();
    }
  });

  it('resumes after the connection is cut mid-body: the next run sends Range and the hash matches', async () => {
    const dataDir = temp();
    const files = fakeModel('all-MiniLM-L6-v2', 2 * 1024 * 1024);
    const big = 'onnx/model.onnx';
    const dir = modelDir(dataDir, 'all-MiniLM-L6-v2');
    const part = join(dir, `${big}.part`);
    const path = `sentence-transformers/all-MiniLM-L6-v2/resolve/main/${big}`;
    const srv = await serve(hfLayout('all-MiniLM-L6-v2', files), { cut: { path, until: () => sizeOf(part) > 0 } });
    try {
      const from = `${srv.base}sentence-transformers/all-MiniLM-L6-v2/resolve/main/`;
      await assert.rejects(installModel(dataDir, 'all-MiniLM-L6-v2', { from, retries: 0 }), (err: Error) => {
        assert.ok(err instanceof DownloadError, String(err));
        assert.match(err.message, /run again to resume/);
        return true;
      });
      const have = sizeOf(part);
      assert.ok(have > 0 && have < files.get(big)!.length, `a .part of ${have} bytes`);
      assert.equal(existsSync(join(dir, big)), false);
      assert.equal(listModels(dataDir).find((m) => m.id === 'all-MiniLM-L6-v2')!.state, 'partial');

      const r = await installModel(dataDir, 'all-MiniLM-L6-v2', { from, retries: 0 });
      assert.equal(r.state, 'installed');
      const resumed = srv.requests.filter((q) => q.path === path);
      assert.deepEqual(resumed.map((q) => q.status), [200, 206]);
      assert.equal(resumed[1]!.range, `bytes=${have}-`);
      assert.equal(sha(readFileSync(join(dir, big))), sha(files.get(big)!));
      assert.equal(existsSync(part), false);
      assert.equal((await verifyModel(dataDir, 'all-MiniLM-L6-v2')).ok, true);
    } finally {
      await srv.close();
    }
  });

  it('retries within one run (backoff) and resumes from the cut', async () => {
    const dest = join(temp(), 'model.onnx');
    const body = randomBytes(1024 * 1024);
    const srv = await serve(new Map([['f', body]]), { cut: { path: 'f', until: () => sizeOf(`${dest}.part`) > 0 } });
    try {
      const notes: string[] = [];
      const r = await downloadFile(`${srv.base}f`, dest, { sha256: sha(body), retries: 3, backoffMs: 20, log: (l) => notes.push(l) });
      assert.equal(r.sha256, sha(body));
      assert.equal(r.requests, 2);
      assert.ok(r.resumedFrom > 0);
      assert.ok(notes.some((n) => /retrying in 20 ms/.test(n)), notes.join('\n'));
      assert.deepEqual(readFileSync(dest), body);
    } finally {
      await srv.close();
    }
  });

  it('a file that changed upstream between runs comes back whole (If-Range with the ETag)', async () => {
    const dest = join(temp(), 'model.onnx');
    const old = randomBytes(1024 * 1024);
    const files = new Map([['f', old]]);
    const srv = await serve(files, { etag: true, cut: { path: 'f', until: () => sizeOf(`${dest}.part`) > 0 } });
    try {
      await assert.rejects(downloadFile(`${srv.base}f`, dest, { retries: 0 }), DownloadError);
      assert.ok(sizeOf(`${dest}.part`) > 0);
      const fresh = randomBytes(1024 * 1024);
      files.set('f', fresh);
      const r = await downloadFile(`${srv.base}f`, dest, { retries: 0 });
      assert.equal(srv.requests[1]!.ifRange, `"${sha(old)}"`);
      assert.equal(srv.requests[1]!.status, 200);
      assert.equal(r.sha256, sha(fresh));
      assert.deepEqual(readFileSync(dest), fresh);
      assert.equal(existsSync(`${dest}.part.validator`), false);
    } finally {
      await srv.close();
    }
  });

  it('starts over when the server ignores Range (200), and finishes a whole .part on 416', async () => {
    const dir = temp();
    const body = randomBytes(300 * 1024);
    const srv = await serve(new Map([['f', body]]), { ignoreRange: true });
    try {
      const dest = join(dir, 'a.bin');
      writeFileSync(`${dest}.part`, randomBytes(1000)); // garbage a restart must drop
      const r = await downloadFile(`${srv.base}f`, dest, { sha256: sha(body) });
      assert.equal(srv.requests[0]!.range, 'bytes=1000-');
      assert.equal(srv.requests[0]!.status, 200);
      assert.equal(r.resumedFrom, 0);
      assert.deepEqual(readFileSync(dest), body);
    } finally {
      await srv.close();
    }
    const srv2 = await serve(new Map([['f', body]]));
    try {
      const dest = join(dir, 'b.bin');
      writeFileSync(`${dest}.part`, body);
      const r = await downloadFile(`${srv2.base}f`, dest, { sha256: sha(body) });
      assert.deepEqual(srv2.requests.map((q) => q.status), [416]);
      assert.equal(r.size, body.length);
      assert.deepEqual(readFileSync(dest), body);
    } finally {
      await srv2.close();
    }
  });

  it('rejects a sha256 mismatch with a clear error and leaves no file', async () => {
    const dataDir = temp();
    const files = fakeModel('all-MiniLM-L6-v2');
    const srv = await serve(hfLayout('all-MiniLM-L6-v2', files));
    try {
      const wrong = 'ab'.repeat(32);
      await assert.rejects(
        installModel(dataDir, 'all-MiniLM-L6-v2', { from: `${srv.base}sentence-transformers/all-MiniLM-L6-v2/resolve/main/`, sha256: { 'onnx/model.onnx': wrong } }),
        (err: Error) => {
          assert.ok(err instanceof ChecksumError);
          assert.match(err.message, new RegExp(`sha256 mismatch for .*onnx/model\\.onnx: expected ${wrong}, got ${sha(files.get('onnx/model.onnx')!)}`));
          return true;
        },
      );
      const dir = modelDir(dataDir, 'all-MiniLM-L6-v2');
      assert.equal(existsSync(join(dir, 'onnx/model.onnx')), false);
      assert.equal(existsSync(join(dir, 'onnx/model.onnx.part')), false);
      assert.equal(readManifest(dir)?.files.some((f) => f.path === 'onnx/model.onnx') ?? false, false);
      // The same rule for a copy from a directory.
      const src = temp('timmy-models-src-');
      writeTree(src, files);
      await assert.rejects(installModel(dataDir, 'all-MiniLM-L6-v2', { from: src, sha256: { 'vocab.txt': wrong } }), /sha256 mismatch for .*vocab\.txt/);
      assert.equal(existsSync(join(dir, 'vocab.txt')), false);
    } finally {
      await srv.close();
    }
  });

  it('one install per model at a time; a lock left by a dead process is taken over', async () => {
    const dataDir = temp();
    const files = fakeModel('all-MiniLM-L6-v2', 1024 * 1024);
    const srv = await serve(hfLayout('all-MiniLM-L6-v2', files), { chunkDelayMs: 5 });
    try {
      const from = `${srv.base}sentence-transformers/all-MiniLM-L6-v2/resolve/main/`;
      const first = installModel(dataDir, 'all-MiniLM-L6-v2', { from });
      await assert.rejects(installModel(dataDir, 'all-MiniLM-L6-v2', { from }), /another install of this model is running/);
      assert.equal((await first).state, 'installed');
      const lockPath = join(modelDir(dataDir, 'all-MiniLM-L6-v2'), '.install.lock');
      assert.equal(existsSync(lockPath), false);
      writeFileSync(lockPath, '4194303'); // above Linux's default pid_max: no such process
      assert.equal((await installModel(dataDir, 'all-MiniLM-L6-v2', { from, force: true })).state, 'installed');
      assert.equal(existsSync(lockPath), false);
    } finally {
      await srv.close();
    }
  });

  it('an abort keeps the .part for the next run', async () => {
    const dest = join(temp(), 'slow.bin');
    const body = randomBytes(2 * 1024 * 1024);
    const srv = await serve(new Map([['f', body]]), { chunkDelayMs: 20 });
    try {
      const ac = new AbortController();
      const t = setInterval(() => sizeOf(`${dest}.part`) > 0 && ac.abort(), 10);
      await assert.rejects(downloadFile(`${srv.base}f`, dest, { signal: ac.signal }), InterruptedError);
      clearInterval(t);
      assert.ok(sizeOf(`${dest}.part`) > 0);
      assert.equal(existsSync(dest), false);
    } finally {
      await srv.close();
    }
  });
});

describe('verify', () => {
  it('detects a corrupted file (same size, different bytes) and a truncated one', async () => {
    const dataDir = temp();
    const src = temp('timmy-models-src-');
    writeTree(src, fakeModel('all-MiniLM-L6-v2'));
    await installModel(dataDir, 'all-MiniLM-L6-v2', { from: src });
    const dir = modelDir(dataDir, 'all-MiniLM-L6-v2');
    const p = join(dir, 'onnx/model.onnx');
    const b = readFileSync(p);
    b[100] = b[100]! ^ 0xff;
    writeFileSync(p, b);
    assert.equal(listModels(dataDir).find((m) => m.id === 'all-MiniLM-L6-v2')!.state, 'installed', 'list compares sizes only');
    const v = await verifyModel(dataDir, 'all-MiniLM-L6-v2');
    assert.equal(v.ok, false);
    assert.equal(v.state, 'corrupt');
    assert.deepEqual(v.files.filter((f) => f.check !== 'ok').map((f) => [f.path, f.check]), [['onnx/model.onnx', 'hash-mismatch']]);
    writeFileSync(join(dir, 'vocab.txt'), 'short');
    assert.equal(listModels(dataDir).find((m) => m.id === 'all-MiniLM-L6-v2')!.state, 'corrupt');
    assert.ok((await verifyModel(dataDir, 'all-MiniLM-L6-v2')).files.some((f) => f.path === 'vocab.txt' && f.check === 'size-mismatch'));
  });
});

describe('timmy models (CLI)', () => {
  let srv: Served;
  const files = fakeModel('all-MiniLM-L6-v2', 512 * 1024);
  before(async () => {
    srv = await serve(new Map([...hfLayout('all-MiniLM-L6-v2', files), ['custom/voice.onnx', randomBytes(5000)]]));
  });
  after(() => srv.close());
  const T = { timeoutMs: 60_000 };

  it('answers --help for every command', async () => {
    for (const [args, re] of [
      [['models', '--help'], /^Usage: timmy models <command>/m],
      [['models'], /^Usage: timmy models <command>/m],
      [['models', 'list', '--help'], /^Usage: timmy models list/m],
      [['models', 'verify', '-h'], /^Usage: timmy models verify/m],
      [['models', 'install', '--help'], /^Usage: timmy models install/m],
      [['models', 'remove', '--help'], /^Usage: timmy models remove/m],
      [['models', 'path', '--help'], /^Usage: timmy models path/m],
      [['--help'], /^\s+models \.\.\.\s/m],
      [['help', 'models', 'install'], /^Usage: timmy models install/m],
    ] as [string[], RegExp][]) {
      const r = await runCli(args, T);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, re);
    }
  });

  it('list, install over HTTP with progress, verify, path, remove', async () => {
    const dataDir = temp();
    const list0 = await runCli(['models', 'list', '--json', '--data-dir', dataDir], T);
    assert.equal(list0.code, 0, list0.stderr);
    const parsed = JSON.parse(list0.stdout) as { id: string; state: string }[];
    assert.ok(parsed.every((m) => m.state === 'missing'));

    const from = `${srv.base}sentence-transformers/all-MiniLM-L6-v2/resolve/main/`;
    const inst = await runCli(['models', 'install', 'all-MiniLM-L6-v2', '--from', from], { ...T, env: { TIMMY_DATA_DIR: dataDir } });
    assert.equal(inst.code, 0, inst.stderr);
    assert.match(inst.stdout, /^all-MiniLM-L6-v2: installed, 4 files installed \(\d+ kB\), 4 skipped/m);
    assert.match(inst.stderr, /^all-MiniLM-L6-v2 onnx\/model\.onnx {2}512 kB \/ 512 kB {2}100%.*done$/m);

    const list = await runCli(['models', 'list', '--data-dir', dataDir], T);
    assert.match(list.stdout, /^all-MiniLM-L6-v2\s+sentence-embedder\s+embed\s+installed\s/m);
    assert.match(list.stdout, /^whisper-tiny\s+whisper\s+stt\s+missing\s/m);

    const ok = await runCli(['models', 'verify', '--data-dir', dataDir], T);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^all-MiniLM-L6-v2: ok \(4 files checked\)$/m);

    const p = await runCli(['models', 'path', 'all-MiniLM-L6-v2', '--data-dir', dataDir], T);
    assert.equal(p.stdout.trim(), join(dataDir, 'models', 'all-MiniLM-L6-v2'));

    writeFileSync(join(p.stdout.trim(), 'tokenizer.json'), randomBytes(300));
    const bad = await runCli(['models', 'verify', 'all-MiniLM-L6-v2', '--data-dir', dataDir], T);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^ {2}tokenizer\.json: hash-mismatch: sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}$/m);

    const rm = await runCli(['models', 'remove', 'all-MiniLM-L6-v2', '--data-dir', dataDir], T);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(existsSync(p.stdout.trim()), false);
  });

  it('Ctrl-C (SIGINT) keeps the .part and exits 130; the same command resumes', async () => {
    const dataDir = temp();
    const body = randomBytes(4 * 1024 * 1024); // ~5 s at the server's pace: time to interrupt it on a loaded machine
    const part = join(dataDir, 'models', 'slow-model', 'weights.bin.part');
    const slow = await serve(new Map([['w', body]]), { chunkDelayMs: 20 });
    try {
      const args = [BIN, 'models', 'install', 'slow-model', '--file', `weights.bin=${slow.base}w`, '--data-dir', dataDir];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      for (let i = 0; i < 3000 && sizeOf(part) === 0; i++) await sleep(10);
      assert.ok(sizeOf(part) > 0, `no .part appeared; stderr: ${stderr}`);
      child.kill('SIGINT');
      assert.equal(await exited, 130, stderr);
      assert.match(stderr, /^timmy: interrupted: .*weights\.bin\.part kept/m);
      const have = sizeOf(part);
      assert.ok(have > 0 && have < body.length, `${have} bytes kept; stderr: ${stderr}`);
      const listed = JSON.parse((await runCli(['models', 'list', '--json', '--data-dir', dataDir], T)).stdout) as { id: string; state: string }[];
      assert.equal(listed.find((m) => m.id === 'slow-model')?.state, 'partial');
      const again = await runCli(args.slice(1), T);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /resuming at byte \d+/);
      assert.equal(slow.requests.at(-1)!.range, `bytes=${have}-`);
      assert.deepEqual(readFileSync(join(dataDir, 'models', 'slow-model', 'weights.bin')), body);
    } finally {
      await slow.close();
    }
  });

  it('a file outside the catalog with --file, and one-line errors', async () => {
    const dataDir = temp();
    const custom = await runCli(['models', 'install', 'my-voice', '--file', `voice.onnx=${srv.base}custom/voice.onnx`, '--engine', 'piper', '--data-dir', dataDir], T);
    assert.equal(custom.code, 0, custom.stderr);
    const list = JSON.parse((await runCli(['models', 'list', '--json', '--data-dir', dataDir], T)).stdout) as { id: string; state: string; engine?: string; known: boolean }[];
    assert.deepEqual(list.find((m) => m.id === 'my-voice'), { ...list.find((m) => m.id === 'my-voice'), state: 'installed', engine: 'piper', known: false });

    const cases: [string[], RegExp, number?][] = [
      [['models', 'install', 'no-such-model', '--from', srv.base], /^timmy: unknown model "no-such-model"/],
      [['models', 'install', 'all-MiniLM-L6-v2'], /^timmy: say where the files are/],
      [['models', 'install', 'all-MiniLM-L6-v2', '--from', join(dataDir, 'nope')], /no such directory/],
      [['models', 'install', 'all-MiniLM-L6-v2', '--from', `${srv.base}sentence-transformers/all-MiniLM-L6-v2/resolve/main/`, '--sha256', `vocab.txt=${'0'.repeat(64)}`], /^timmy: sha256 mismatch for .*vocab\.txt: expected 0{64}, got [0-9a-f]{64}/],
      [['models', 'install', 'whisper-tiny', '--from', `${srv.base}nothing/`, '--retries', '0'], /^timmy: .*encoder_model\.onnx: HTTP 404/],
      [['models', 'frobnicate'], /^timmy: unknown models command "frobnicate"/, 2],
      [['models', 'install', 'whisper-tiny', '--from', srv.base, '--retries', 'many'], /^timmy: --retries must be a whole number/, 2],
      [['models', 'install', 'whisper-tiny', '--sha256', 'nohex'], /^timmy: --sha256 wants <name>=<value>/, 2],
      [['models', 'remove', 'whisper-tiny'], /^timmy: whisper-tiny is not installed/],
      [['models', 'install', '../evil', '--file', `a=${srv.base}custom/voice.onnx`], /^timmy: bad model id/],
    ];
    for (const [args, re, code] of cases) {
      const r = await runCli([...args, '--data-dir', dataDir], T);
      assert.equal(r.code, code ?? 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      const errLines = lines(r.stderr).filter((l) => l.startsWith('timmy:'));
      assert.equal(errLines.length, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(errLines[0]!, re);
    }
    assert.equal(existsSync(join(dataDir, 'models', 'all-MiniLM-L6-v2', 'vocab.txt')), false);
  });
});
