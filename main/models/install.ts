// `timmy models install`: puts a model's files into <dataDir>/models/<id>/ from
//   - a local directory: a copy of the upstream repository (nested, e.g. onnx/model.onnx) or the
//     same files side by side (flat, e.g. model.onnx), as people copy them from a USB stick;
//   - a base URL: <base>/<upstream path>, e.g. https://huggingface.co/<repo>/resolve/main/ ("hf"
//     stands for that), a mirror, or a local server;
//   - single files: --file <name>=<url or path>, also for models that are not in the catalog.
// Every file lands as <file>.part first, is hashed on the way, checked against a known sha256 and
// renamed; the manifest records it at once, so an install that stops half way keeps what it has
// and the next run skips the files already there.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findModel, huggingFaceBase, localPath, type ModelEngine } from './catalog.js';
import { ChecksumError, DownloadError, InterruptedError, downloadFile } from './download.js';
import { silentProgress, type ProgressFactory, type ProgressSink } from './progress.js';
import { checkLocalPath, modelDir, modelStatus, ModelError, PART, readManifest, recordFile, type ManifestFile, type ModelState } from './store.js';

export interface InstallOptions {
  /** A directory, a file:// URL, an http(s) base URL, or "hf" for the model's Hugging Face repository. */
  readonly from?: string;
  /** Single files: local name -> URL or path. With `from`, they replace those files' sources. */
  readonly files?: Readonly<Record<string, string>>;
  /** Expected sha256 per local name, beside (and over) the catalog's. */
  readonly sha256?: Readonly<Record<string, string>>;
  /** Reinstall files that are already there. */
  readonly force?: boolean;
  /** For a model outside the catalog: the engine it is for, recorded in the manifest. */
  readonly engine?: ModelEngine;
  readonly signal?: AbortSignal;
  readonly retries?: number;
  readonly backoffMs?: number;
  readonly progress?: ProgressFactory;
  /** Notes: skipped files, resumes, retries. */
  readonly log?: (line: string) => void;
}

export interface InstallResult {
  readonly id: string;
  readonly dir: string;
  readonly installed: readonly ManifestFile[];
  readonly skipped: readonly { path: string; reason: string }[];
  readonly state: ModelState;
}

interface Job {
  local: string;
  upstream: string;
  required: boolean;
  sha256?: string;
  /** An http(s) URL, or a local file; undefined when a directory lacks an optional file. */
  source?: string;
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);
const HEX = /^[0-9a-f]{64}$/;

function localSource(s: string): string {
  return /^file:\/\//i.test(s) ? fileURLToPath(s) : resolve(s);
}

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

/**
 * Where a file sits in a copied directory: nested like upstream, under its local name, or flat,
 * the last only when no other file of the model has the same base name (1_Pooling/config.json
 * must not be taken for config.json).
 */
function findInDir(dir: string, j: Job, all: readonly Job[]): string | undefined {
  const base = basename(j.upstream);
  const unique = all.filter((x) => basename(x.upstream) === base).length === 1;
  return [j.upstream, j.local, ...(unique ? [base] : [])].map((p) => join(dir, p)).find(isFile);
}

function urlFor(base: string, path: string): string {
  return (base.endsWith('/') ? base : `${base}/`) + path.split('/').map(encodeURIComponent).join('/');
}

function plan(id: string, o: InstallOptions): Job[] {
  const model = findModel(id);
  const files = Object.entries(o.files ?? {}).map(([name, src]) => [checkLocalPath(name), src] as const);
  if (!model && files.length === 0) throw new ModelError(`unknown model "${id}"; see 'timmy models list' (or give its files with --file <name>=<url>)`);
  if (!model && o.from) throw new ModelError(`"${id}" is not in the catalog: give its files with --file <name>=<url>, not --from`);
  if (!o.from && files.length === 0) throw new ModelError('say where the files are: --from <dir|url|hf> or --file <name>=<url>');
  let jobs: Job[] = model
    ? model.files.map((f) => ({ local: localPath(f), upstream: f.path, required: f.required, ...(f.sha256 ? { sha256: f.sha256 } : {}) }))
    : files.map(([local]) => ({ local, upstream: local, required: true }));
  // --file alone installs just those files; each names a catalog file by local or upstream path.
  const named = new Map(files);
  if (model) {
    for (const [name] of files) {
      if (!jobs.some((j) => j.local === name || j.upstream === name)) throw new ModelError(`${id} has no file "${name}"; its files: ${jobs.map((j) => j.local).join(', ')}`);
    }
    if (!o.from) jobs = jobs.filter((j) => named.has(j.local) || named.has(j.upstream));
  }
  for (const [name, hex] of Object.entries(o.sha256 ?? {})) {
    const j = jobs.find((x) => x.local === name || x.upstream === name);
    if (!j) throw new ModelError(`--sha256 names "${name}", which is not a file of ${id}`);
    if (!HEX.test(hex.toLowerCase())) throw new ModelError(`--sha256 ${name}: not a sha256 (64 hex digits)`);
    j.sha256 = hex.toLowerCase();
  }
  const from = o.from === 'hf' || o.from === 'huggingface' ? (model ? huggingFaceBase(model) : undefined) : o.from;
  const dir = from && !isUrl(from) ? localSource(from) : undefined;
  if (dir && !(existsSync(dir) && statSync(dir).isDirectory())) throw new ModelError(`--from ${o.from}: no such directory`);
  for (const j of jobs) {
    const own = named.get(j.local) ?? named.get(j.upstream);
    if (own !== undefined) j.source = isUrl(own) ? own : localSource(own);
    else if (dir) {
      const found = findInDir(dir, j, jobs);
      if (found) j.source = found;
    } else if (from) j.source = urlFor(from, j.upstream);
  }
  const lacking = jobs.filter((j) => j.required && j.source === undefined).map((j) => j.upstream);
  if (lacking.length > 0) throw new ModelError(`${o.from} lacks ${lacking.join(', ')} (looked for nested and flat names)`);
  for (const j of jobs) if (j.source && !isUrl(j.source) && !isFile(j.source)) throw new ModelError(`no such file: ${j.source}`);
  return jobs;
}

/** Copies through a .part with the same hash-then-rename rule as a download. */
async function copyFile(src: string, dest: string, sha256: string | undefined, progress: ProgressSink, signal?: AbortSignal): Promise<{ size: number; sha256: string }> {
  await mkdir(dirname(dest), { recursive: true });
  const part = dest + PART;
  const total = statSync(src).size;
  const hash = createHash('sha256');
  const fh = await open(part, 'w');
  let bytes = 0;
  try {
    progress.update(0, total);
    for await (const chunk of createReadStream(src, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) {
      await fh.write(chunk as Buffer);
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      progress.update(bytes, total);
    }
  } catch (err) {
    await fh.close();
    await rm(part, { force: true });
    if (signal?.aborted) throw new InterruptedError('interrupted');
    throw err;
  }
  await fh.close();
  const got = hash.digest('hex');
  if (sha256 && sha256 !== got) {
    await rm(part, { force: true });
    throw new ChecksumError(`sha256 mismatch for ${dest}: expected ${sha256}, got ${got} (copy from ${src} deleted)`);
  }
  await rename(part, dest);
  return { size: bytes, sha256: got };
}

/** Already there and as recorded (and as the expected hash says, when there is one)? */
function alreadyInstalled(dir: string, j: Job): boolean {
  const rec = readManifest(dir)?.files.find((f) => f.path === j.local);
  const p = join(dir, j.local);
  if (!rec || !isFile(p) || statSync(p).size !== rec.size) return false;
  return !j.sha256 || j.sha256 === rec.sha256;
}

/** A failed first file must not leave empty folders that look like an install. */
function pruneEmpty(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return;
  for (const e of readdirSync(dir)) pruneEmpty(join(dir, e));
  if (readdirSync(dir).length === 0) rmdirSync(dir);
}

export const LOCK = '.install.lock';

/**
 * One install per model at a time: two would write the same .part files. The lock holds the
 * owner's pid; a lock whose process is gone (killed, crashed) is taken over.
 */
function lock(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      held.add(path);
      return () => {
        held.delete(path);
        rmSync(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const text = readFileSync(path, 'utf8');
      const pid = Number(text);
      // Empty: its owner is between creating and writing it. Our own pid: held by another call
      // here, or left by an earlier process that had the same pid (containers), which is stale.
      const busy = text === '' || (pid === process.pid ? held.has(path) : Number.isInteger(pid) && pid > 0 && alive(pid));
      if (busy) throw new ModelError(`another install of this model is running${text ? ` (pid ${text})` : ''}; wait for it, or remove ${path} if it is not`);
      rmSync(path, { force: true });
    }
  }
}

const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function installModel(dataDir: string, id: string, o: InstallOptions = {}): Promise<InstallResult> {
  const dir = modelDir(dataDir, id);
  const jobs = plan(id, o);
  const unlock = lock(dir);
  try {
    return await installJobs(dataDir, id, dir, jobs, o);
  } finally {
    unlock();
    pruneEmpty(dir);
  }
}

async function installJobs(dataDir: string, id: string, dir: string, jobs: readonly Job[], o: InstallOptions): Promise<InstallResult> {
  const log = o.log ?? (() => {});
  const progress = o.progress ?? silentProgress;
  const engine = findModel(id)?.engine ?? o.engine;
  const installed: ManifestFile[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const j of jobs) {
    if (j.source === undefined) {
      skipped.push({ path: j.local, reason: 'optional, not in the source' });
      continue;
    }
    if (!o.force && alreadyInstalled(dir, j)) {
      skipped.push({ path: j.local, reason: 'already installed' });
      continue;
    }
    const dest = join(dir, j.local);
    const sink = progress(`${id} ${j.local}`);
    let got: { size: number; sha256: string };
    try {
      if (isUrl(j.source)) {
        got = await downloadFile(j.source, dest, {
          ...(j.sha256 ? { sha256: j.sha256 } : {}),
          ...(o.signal ? { signal: o.signal } : {}),
          ...(o.retries !== undefined ? { retries: o.retries } : {}),
          ...(o.backoffMs !== undefined ? { backoffMs: o.backoffMs } : {}),
          progress: sink,
          log,
        });
      } else {
        got = await copyFile(j.source, dest, j.sha256, sink, o.signal);
      }
    } catch (err) {
      sink.end(err instanceof InterruptedError ? 'interrupted' : 'failed');
      // Optional files a server does not have (404) are skipped, as from a directory.
      if (!j.required && err instanceof DownloadError && err.status === 404) {
        skipped.push({ path: j.local, reason: 'optional, not on the server (404)' });
        continue;
      }
      throw err;
    }
    sink.end('done');
    const entry: ManifestFile = { path: j.local, size: got.size, sha256: got.sha256, from: j.source, at: new Date().toISOString() };
    recordFile(dir, id, engine, entry);
    installed.push(entry);
  }
  for (const s of skipped) log(`${id} ${s.path}: skipped (${s.reason})`);
  return { id, dir, installed, skipped, state: modelStatus(dataDir, id).state };
}
