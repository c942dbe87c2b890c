// Test support: runs the real `timmy` command line (bin/timmy.js, built into dist/) as a child
// process, in an empty working directory and without the caller's TIMMY_* environment.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/support/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'timmy.js');

export const LISTENING = /^relay listening on (ws:\/\/127\.0\.0\.1:\d+)$/;

export interface CliOptions {
  /** Working directory; a fresh empty one by default (so no stray timmy.config.json is read). */
  cwd?: string;
  /** Added to the environment (TIMMY_* variables of the caller are dropped first). */
  env?: Record<string, string>;
  /** stdin: a file descriptor to read from, or 'ignore' (default). */
  stdin?: number | 'ignore';
  /** stdout: a file descriptor to write to; captured as a string by default. */
  stdout?: number;
  timeoutMs?: number;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TIMMY_')) env[k] = v;
  return { ...env, ...extra };
}

export const emptyDir = (prefix = 'timmy-cli-'): string => mkdtempSync(join(tmpdir(), prefix));

function spawnTimmy(args: string[], o: CliOptions): ChildProcess {
  const stdio: StdioOptions = [o.stdin ?? 'ignore', o.stdout ?? 'pipe', 'pipe'];
  const cwd = o.cwd ?? emptyDir();
  const p = spawn(process.execPath, [BIN, ...args], { cwd, env: childEnv(o.env), stdio });
  if (o.cwd === undefined) p.once('exit', () => rmSync(cwd, { recursive: true, force: true }));
  return p;
}

/** Runs `timmy ...args` to completion. */
export function runCli(args: string[], o: CliOptions = {}): Promise<CliResult> {
  const p = spawnTimmy(args, o);
  let stdout = '';
  let stderr = '';
  p.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  p.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`timmy ${args.join(' ')} did not finish in time; stderr: ${stderr}`));
    }, o.timeoutMs ?? 15_000);
    p.once('error', reject);
    p.once('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running `timmy relay|start` child, ready once it printed its listening line. */
export interface CliRelay {
  readonly proc: ChildProcess;
  readonly url: string;
  /** Everything printed so far. */
  readonly out: { stdout: string; stderr: string };
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startCli(args: string[], o: CliOptions = {}): Promise<CliRelay> {
  const proc = spawnTimmy(args, o);
  const out = { stdout: '', stderr: '' };
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`timmy ${args.join(' ')} printed no listening line; stdout: ${out.stdout} stderr: ${out.stderr}`));
    }, o.timeoutMs ?? 15_000);
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out.stdout += d;
      for (const line of out.stdout.split('\n')) {
        const m = LISTENING.exec(line);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(t);
      reject(new Error(`timmy ${args.join(' ')} exited (${code ?? signal}) before listening; stderr: ${out.stderr}`));
    });
  });
  return {
    proc,
    url,
    out,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
