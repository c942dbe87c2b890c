// Running the Debian speech tools (ffmpeg, sox, pocketsphinx, espeak-ng, flite) as child
// processes: bounded output, a time limit, and an AbortSignal that kills the child.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { VoiceError } from './engine.js';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: Uint8Array | string;
  readonly signal?: AbortSignal;
  /** Killed after this long (default 5 minutes). */
  readonly timeoutMs?: number;
  /** Killed when stdout grows past this (default 200 MB). */
  readonly maxOutputBytes?: number;
  readonly cwd?: string;
}

/** Runs a command to completion. Rejects with the signal's reason when aborted. */
export function run(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(abortError(o.signal));
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(o.cwd ? { cwd: o.cwd } : {}) });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let failure: Error | undefined;
    const kill = (why: Error) => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    const onAbort = () => kill(abortError(o.signal!));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => kill(new VoiceError(`${cmd} took longer than ${Math.round((o.timeoutMs ?? 300_000) / 1000)} s`, 503)), o.timeoutMs ?? 300_000);
    const max = o.maxOutputBytes ?? 200 * 1024 * 1024;
    child.stdout.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > max) kill(new VoiceError(`${cmd} produced more than ${max} bytes`, 400));
      else out.push(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < 16_384) err += d;
    });
    // A child that exits before reading all its input closes the pipe: not our error.
    child.stdin.on('error', () => undefined);
    child.once('error', (e) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      reject(failure ?? e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    if (o.input !== undefined) child.stdin.end(o.input);
    else child.stdin.end();
  });
}

function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new DOMException(typeof r === 'string' ? r : 'the operation was aborted', 'AbortError');
}

/** The executable's full path when it is on PATH (or is an executable absolute path). */
export function onPath(cmd: string): string | undefined {
  const candidates = isAbsolute(cmd) ? [cmd] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

const found = new Map<string, Promise<string | undefined>>();

/**
 * The first line of `cmd <versionArg>` when the command exists, else undefined (cached per
 * process: tools do not come and go while the instance runs).
 */
export function which(cmd: string, versionArgs: readonly string[] = ['--version']): Promise<string | undefined> {
  const key = `${cmd} ${versionArgs.join(' ')}`;
  let p = found.get(key);
  if (!p) {
    p = run(cmd, versionArgs, { timeoutMs: 10_000 }).then(
      (r) => (r.stdout.toString('utf8') + r.stderr).split('\n').find((l) => l.trim() !== '')?.trim() ?? cmd,
      () => undefined,
    );
    found.set(key, p);
  }
  return p;
}

/** Runs `fn` over the items with at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    // After a failure no new item starts (the caller gets the first error).
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
