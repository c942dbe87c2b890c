// Where installed models live and what state they are in. Each model is a directory
// <dataDir>/models/<id>/ holding the upstream files plus manifest.json, which records for every
// file its size, sha256, where it came from and when: `list` compares sizes (cheap), `verify`
// re-hashes (streamed, so a 500 MB model never sits in memory).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { CATALOG, findModel, localPath, type CatalogModel, type ModelEngine, type ModelTask } from './catalog.js';

export const MANIFEST = 'manifest.json';
export const PART = '.part';

export class ModelError extends Error {
  override name = 'ModelError';
}

export interface ManifestFile {
  /** Path inside the model directory. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** The URL or local file it was installed from. */
  readonly from: string;
  /** ISO time of installation. */
  readonly at: string;
}

export interface Manifest {
  readonly id: string;
  readonly engine?: ModelEngine;
  readonly files: readonly ManifestFile[];
  readonly updatedAt: string;
}

export type ModelState = 'missing' | 'installed' | 'corrupt' | 'partial';

export interface ModelStatus {
  readonly id: string;
  readonly engine?: ModelEngine;
  readonly task?: ModelTask;
  readonly description: string;
  readonly sizeMB?: number;
  /** In the catalog (false: installed by hand with --file). */
  readonly known: boolean;
  readonly dir: string;
  readonly state: ModelState;
  /** Bytes of the files present. */
  readonly installedBytes: number;
  /** Why the state is not "installed" (or "" when it is). */
  readonly detail: string;
}

export type FileCheck = 'ok' | 'missing' | 'size-mismatch' | 'hash-mismatch' | 'unrecorded';

export interface VerifyResult {
  readonly id: string;
  readonly dir: string;
  readonly ok: boolean;
  readonly state: ModelState;
  readonly files: readonly { path: string; required: boolean; check: FileCheck; sha256?: string; expected?: string; detail: string }[];
}

export const modelsDir = (dataDir: string): string => join(dataDir, 'models');

/** Ids become directory names: no separators, no dot-dot. */
export function checkId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(id)) throw new ModelError(`bad model id "${id}": letters, digits, ".", "_" and "-" only`);
  return id;
}

export const modelDir = (dataDir: string, id: string): string => join(modelsDir(dataDir), checkId(id));

/** A relative path that stays inside the model directory. */
export function checkLocalPath(p: string): string {
  const n = normalize(p).split(sep).join('/');
  if (!n || isAbsolute(p) || n === '..' || n.startsWith('../') || n === '.' || n === MANIFEST || n.endsWith(PART) || n.endsWith(`${PART}.validator`)) {
    throw new ModelError(`bad file name "${p}": must be a relative path inside the model directory`);
  }
  return n;
}

export function readManifest(dir: string): Manifest | undefined {
  const p = join(dir, MANIFEST);
  if (!existsSync(p)) return undefined;
  try {
    const m = JSON.parse(readFileSync(p, 'utf8')) as Manifest;
    if (!Array.isArray(m.files)) throw new Error('no files');
    return m;
  } catch (err) {
    throw new ModelError(`unreadable ${p}: ${(err as Error).message}`);
  }
}

/** Written to a temporary file and renamed, so a crash never leaves half a manifest. */
export function writeManifest(dir: string, m: Manifest): void {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `${MANIFEST}.tmp`);
  writeFileSync(tmp, JSON.stringify(m, null, 2) + '\n');
  renameSync(tmp, join(dir, MANIFEST));
}

/** Records (or replaces) one file's entry. */
export function recordFile(dir: string, id: string, engine: ModelEngine | undefined, f: ManifestFile): void {
  const old = readManifest(dir);
  const files = [...(old?.files ?? []).filter((x) => x.path !== f.path), f].sort((a, b) => a.path.localeCompare(b.path));
  writeManifest(dir, { id, ...(engine ?? old?.engine ? { engine: engine ?? old?.engine } : {}), files, updatedAt: f.at });
}

export async function hashFile(path: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

function fileSize(path: string): number | undefined {
  try {
    const s = statSync(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

function hasPartFiles(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith(PART));
}

interface Expected {
  path: string;
  required: boolean;
  sha256?: string;
}

/** The files a model should have: the catalog's, or for a hand-installed model its manifest's. */
function expectedFiles(model: CatalogModel | undefined, manifest: Manifest | undefined): Expected[] {
  if (model) return model.files.map((f) => ({ path: localPath(f), required: f.required, ...(f.sha256 ? { sha256: f.sha256 } : {}) }));
  return (manifest?.files ?? []).map((f) => ({ path: f.path, required: true }));
}

function status(dataDir: string, id: string): ModelStatus {
  const model = findModel(id);
  const dir = modelDir(dataDir, id);
  const manifest = readManifest(dir);
  const recorded = new Map((manifest?.files ?? []).map((f) => [f.path, f]));
  let bytes = 0;
  const missing: string[] = [];
  const requiredMissing: string[] = [];
  const wrongSize: string[] = [];
  let present = 0;
  for (const f of expectedFiles(model, manifest)) {
    const size = fileSize(join(dir, f.path));
    const rec = recorded.get(f.path);
    if (size === undefined) {
      if (f.required || rec) missing.push(f.path);
      if (f.required) requiredMissing.push(f.path);
      continue;
    }
    bytes += size;
    if (f.required) present++;
    if (rec && rec.size !== size) wrongSize.push(f.path);
  }
  const parts = hasPartFiles(dir);
  let state: ModelState;
  let detail = '';
  if (!model && !manifest) {
    state = parts ? 'partial' : 'missing';
    if (parts) detail = 'an interrupted download (.part) is waiting: install again to resume';
  } else if (wrongSize.length > 0) {
    state = 'corrupt';
    detail = `size differs from the manifest: ${wrongSize.join(', ')}`;
  } else if (requiredMissing.length > 0 || parts) {
    state = present === 0 && !parts ? 'missing' : 'partial';
    if (state === 'partial') detail = parts ? 'an interrupted download (.part) is waiting: install again to resume' : `missing ${requiredMissing.join(', ')}`;
  } else if (missing.length > 0) {
    state = 'corrupt';
    detail = `recorded but gone: ${missing.join(', ')}`;
  } else {
    state = 'installed';
  }
  return {
    id,
    ...(model ? { engine: model.engine, task: model.task, sizeMB: model.sizeMB } : manifest?.engine ? { engine: manifest.engine } : {}),
    description: model?.description ?? 'installed by hand (not in the catalog)',
    known: model !== undefined,
    dir,
    state,
    installedBytes: bytes,
    detail,
  };
}

/** The catalog with each model's state, then any model installed by hand (a directory with a manifest or a .part). */
export function listModels(dataDir: string): ModelStatus[] {
  const out = CATALOG.map((m) => status(dataDir, m.id));
  const root = modelsDir(dataDir);
  if (existsSync(root)) {
    for (const d of readdirSync(root, { withFileTypes: true })) {
      const dir = join(root, d.name);
      if (d.isDirectory() && !findModel(d.name) && (existsSync(join(dir, MANIFEST)) || hasPartFiles(dir))) out.push(status(dataDir, d.name));
    }
  }
  return out;
}

export function modelStatus(dataDir: string, id: string): ModelStatus {
  return status(dataDir, id);
}

/** Re-hashes every file and compares with the manifest and with the catalog's hash when it has one. */
export async function verifyModel(dataDir: string, id: string, signal?: AbortSignal): Promise<VerifyResult> {
  const model = findModel(id);
  const dir = modelDir(dataDir, id);
  const manifest = readManifest(dir);
  if (!model && !manifest) throw new ModelError(`unknown model "${id}" (not in the catalog, nothing installed); see 'timmy models list'`);
  const recorded = new Map((manifest?.files ?? []).map((f) => [f.path, f]));
  const files: VerifyResult['files'][number][] = [];
  for (const f of expectedFiles(model, manifest)) {
    const path = join(dir, f.path);
    const rec = recorded.get(f.path);
    if (fileSize(path) === undefined) {
      if (f.required || rec) files.push({ path: f.path, required: f.required, check: 'missing', detail: 'missing' });
      continue;
    }
    const { sha256, size } = await hashFile(path, signal);
    const expected = f.sha256 ?? rec?.sha256;
    if (rec && rec.size !== size) {
      files.push({ path: f.path, required: f.required, check: 'size-mismatch', sha256, detail: `${size} bytes, the manifest says ${rec.size}` });
    } else if (expected && expected !== sha256) {
      const whose = f.sha256 ? 'the catalog' : 'the manifest';
      files.push({ path: f.path, required: f.required, check: 'hash-mismatch', sha256, expected, detail: `sha256 ${sha256}, ${whose} says ${expected}` });
    } else if (!expected) {
      files.push({ path: f.path, required: f.required, check: 'unrecorded', sha256, detail: 'no recorded hash (copied by hand?): reinstall to record one' });
    } else {
      files.push({ path: f.path, required: f.required, check: 'ok', sha256, detail: 'ok' });
    }
  }
  const bad = files.some((f) => f.check === 'size-mismatch' || f.check === 'hash-mismatch' || (f.check === 'missing' && !f.required));
  const reqMissing = files.filter((f) => f.check === 'missing' && f.required).length;
  const reqTotal = expectedFiles(model, manifest).filter((f) => f.required).length;
  const state: ModelState = bad ? 'corrupt' : reqMissing === reqTotal ? 'missing' : reqMissing > 0 || hasPartFiles(dir) ? 'partial' : 'installed';
  return { id, dir, ok: state === 'installed', state, files };
}

export function removeModel(dataDir: string, id: string): boolean {
  const dir = modelDir(dataDir, id);
  if (!existsSync(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}
