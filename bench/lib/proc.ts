// Child processes of the benchmark: spawning (optionally under a raised fd limit), the readiness line,
// /proc memory readings, and cleanup on every way out (normal exit, error, SIGINT/SIGTERM).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { log } from './util.js';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let cleanupInstalled = false;
let interrupted = false;

/** True once SIGINT/SIGTERM arrived: the run stops and writes no report. */
export const isInterrupted = (): boolean => interrupted;

/** A scratch directory to delete on the way out, whatever the way (the run deletes it itself when it can). */
export function registerTempDir(dir: string): void {
  tempDirs.add(dir);
}

export function removeTempDir(dir: string): void {
  tempDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of tempDirs) {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  });
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = true;
    process.stdout.write(`\n${sig}: stopping ${children.size} child process(es)\n`);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    setTimeout(() => process.exit(130), 1_500).unref();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** Soft and hard RLIMIT_NOFILE of a process, from /proc/<pid>/limits. */
export function fdLimits(pid: number | 'self' = 'self'): { soft: number; hard: number } | undefined {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    if (!m) return undefined;
    const num = (s: string | undefined): number => (s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
    return { soft: num(m[1]), hard: num(m[2]) };
  } catch {
    return undefined;
  }
}

/**
 * If this process's fd limit is below `needed`, re-run the benchmark under `ulimit -n` (possible when
 * root, or when the hard limit allows it). Returns true if it re-executed (caller must just exit).
 */
export function reexecWithFdLimit(needed: number): { reexeced: boolean; status?: number; note?: string } {
  const lim = fdLimits();
  if (!lim || lim.soft >= needed) return { reexeced: false };
  if (process.env.TIMMY_BENCH_REEXEC === '1') {
    return { reexeced: false, note: `ulimit -n is ${lim.soft} (hard ${lim.hard}) but ${needed} fds are wanted, even after re-exec under a raised ulimit` };
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot && lim.hard <= lim.soft) {
    return { reexeced: false, note: `ulimit -n is ${lim.soft} (hard ${lim.hard}) but ${needed} fds are wanted; run as root or raise the limit` };
  }
  const target = isRoot ? needed : Math.min(lim.hard, needed);
  log(`fd limit ${lim.soft} < ${needed}: re-running under 'ulimit -n ${target}'`);
  // a root without CAP_SYS_RESOURCE (containers) cannot pass the hard limit: then take the hard limit
  const r = spawnSync('bash', ['-c', `ulimit -n ${target} 2>/dev/null || ulimit -n ${lim.hard} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, TIMMY_BENCH_REEXEC: '1' },
  });
  return { reexeced: true, status: r.status ?? 1 };
}

export interface ProcMem {
  rssKb?: number;
  hwmKb?: number;
}

export function procMem(pid: number): ProcMem {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(s);
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(s);
    const out: ProcMem = {};
    if (rss) out.rssKb = Number(rss[1]);
    if (hwm) out.hwmKb = Number(hwm[1]);
    return out;
  } catch {
    return {};
  }
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or 128+signal) once the process has exited. */
  exited: Promise<number>;
  isRunning(): boolean;
  /** The last lines of output (both streams), for error messages. */
  tail(n?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves with the exit status. */
  stop(graceMs?: number): Promise<number>;
  /** Add a stdout line listener. */
  onLine(fn: (line: string) => void): void;
}

const SIGNUM: Record<string, number> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 };

/**
 * Spawn a long-lived child; both output streams are appended to `logFile`. `onLine` sees each stdout line.
 * `fdLimit` (if above our soft limit) runs it through `bash -c 'ulimit -n N; exec ...'` (same pid, via exec).
 */
export function spawnChild(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; logFile: string; label: string; fdLimit?: number; echo?: RegExp; echoStderr?: boolean; stdin?: 'pipe' | 'ignore' },
): Spawned {
  const lim = fdLimits();
  const raise = opts.fdLimit !== undefined && lim !== undefined && lim.soft < opts.fdLimit;
  // best effort: `ulimit -n` may be refused (no CAP_SYS_RESOURCE); the child then runs with the hard limit
  const [c, a] = raise
    ? ['bash', ['-c', `ulimit -n ${opts.fdLimit} 2>/dev/null || ulimit -n ${lim.hard} 2>/dev/null; exec "$0" "$@"`, cmd, ...args]]
    : [cmd, [...args]];
  const logStream: WriteStream = createWriteStream(opts.logFile, { flags: 'a' });
  logStream.write(`\n=== ${new Date().toISOString()} ${opts.label}: ${cmd} ${args.join(' ')}\n`);
  const child = spawn(c as string, a as string[], { cwd: opts.cwd, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
  children.add(child);
  const tailBuf: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const remember = (prefix: string, line: string): void => {
    logStream.write(`${prefix}${line}\n`);
    tailBuf.push(`${prefix}${line}`);
    if (tailBuf.length > 50) tailBuf.shift();
  };
  // lines matching opts.echo are shown on the console, at most one every 5 s (progress output)
  let lastEcho = 0;
  const echo = (line: string): void => {
    if (!opts.echo?.test(line)) return;
    const now = performance.now();
    if (now - lastEcho < 5_000) return;
    lastEcho = now;
    log(`  [${opts.label}] ${line}`);
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    remember('', line);
    echo(line);
    for (const fn of listeners) fn(line);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    remember('! ', line);
    if (opts.echoStderr) echo(line);
  });
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      const status = code ?? 128 + (signal ? (SIGNUM[signal] ?? 0) : 0);
      logStream.write(`=== exited with ${code ?? signal}\n`);
      // let the line readers drain before closing the log
      setTimeout(() => logStream.end(), 100);
      resolve(status);
    });
    child.once('error', (err) => {
      children.delete(child);
      remember('! ', `spawn error: ${err.message}`);
      resolve(127);
    });
  });
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null && children.has(child);
  return {
    child,
    pid: child.pid ?? -1,
    exited,
    isRunning,
    onLine: (fn) => {
      listeners.push(fn);
    },
    tail: (n = 15) => tailBuf.slice(-n).join('\n'),
    stop: async (graceMs = 10_000) => {
      if (isRunning()) child.kill('SIGTERM');
      const t = setTimeout(() => {
        if (isRunning()) child.kill('SIGKILL');
      }, graceMs);
      const s = await exited;
      clearTimeout(t);
      return s;
    },
  };
}

const READY = /^relay listening on (ws:\/\/127\.0\.0\.1:\d+)\s*$/;

/** Wait for the `relay listening on ws://127.0.0.1:<port>` line; rejects if the child exits first or on timeout. */
export function waitReady(p: Spawned, timeoutMs: number, label: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new Error(`${label}: no 'relay listening on ...' line within ${Math.round(timeoutMs / 1000)} s\n${p.tail()}`));
    }, timeoutMs);
    p.onLine((line) => {
      const m = READY.exec(line);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    void p.exited.then((status) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${label}: exited with status ${status} before it was ready\n${p.tail()}`));
    });
  });
}
