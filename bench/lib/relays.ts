// The two relays under test, behind one interface: check availability, fill a data dir, start, stop.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { RelayKind } from './args.js';
import { publish } from './client.js';
import { datasetPath, readLines } from './dataset.js';
import { ROOT, LOG_DIR } from './paths.js';
import { procMem, spawnChild, waitReady, type ProcMem, type Spawned } from './proc.js';
import { fmtInt, log } from './util.js';

export interface Running {
  url: string;
  pid: number;
  mem(): ProcMem;
  isRunning(): boolean;
  stop(): Promise<number>;
  tail(): string;
}

export interface LoadResult {
  method: string;
  events: number;
  seconds: number;
  perSec: number;
  note?: string;
}

export interface RelayTarget {
  kind: RelayKind;
  label: string;
  available(): { ok: true; detail: string } | { ok: false; why: string };
  /** Put stored events [from, to) into the relay's data dir. The relay is not running before or after. */
  load(dataDir: string, from: number, to: number): Promise<LoadResult>;
  start(dataDir: string): Promise<Running>;
}

export interface TargetOpts {
  runId: string;
  fdLimit: number;
  peerPreload: 'bulk' | 'upsert';
}

function running(p: Spawned, url: string): Running {
  return { url, pid: p.pid, mem: () => procMem(p.pid), isRunning: p.isRunning, stop: () => p.stop(), tail: () => p.tail() };
}

const logFile = (opts: TargetOpts, kind: RelayKind): string => join(LOG_DIR, `${kind}-${opts.runId}.log`);

/** Load [from, to) through websockets into a running relay: 8 connections x 200 in flight, 20K-event chunks. */
async function loadOverWebsocket(url: string, from: number, to: number, label: string): Promise<{ ok: number; dup: number; rejected: number; firstRejection?: string }> {
  let ok = 0;
  let dup = 0;
  let rejected = 0;
  let firstRejection: string | undefined;
  let chunk: string[] = [];
  let done = from;
  const t0 = performance.now();
  let lastLog = t0;
  const flush = async (): Promise<void> => {
    if (!chunk.length) return;
    const r = await publish(url, chunk, 8, 200, 600_000);
    if (r.timedOut) throw new Error(`${label}: websocket load timed out`);
    ok += r.okTrue;
    dup += r.duplicates;
    rejected += r.okFalse;
    firstRejection ??= r.firstRejection;
    done += chunk.length;
    chunk = [];
    if (performance.now() - lastLog > 5_000) {
      lastLog = performance.now();
      log(`  [${label}] websocket load ${fmtInt(done - from)}/${fmtInt(to - from)} (${fmtInt((done - from) / ((lastLog - t0) / 1000))}/s)`);
    }
  };
  for await (const line of readLines('stored', from, to)) {
    chunk.push(`["EVENT",${line}]`);
    if (chunk.length >= 20_000) await flush();
  }
  await flush();
  const r: { ok: number; dup: number; rejected: number; firstRejection?: string } = { ok, dup, rejected };
  if (firstRejection !== undefined) r.firstRejection = firstRejection;
  return r;
}

export function timmyTarget(opts: TargetOpts): RelayTarget {
  const cli = join(ROOT, 'bin', 'timmy.js');
  const startRelay = async (dataDir: string): Promise<Running> => {
    const p = spawnChild(process.execPath, [cli, 'relay', '--port', '0', '--data-dir', dataDir], {
      cwd: ROOT,
      logFile: logFile(opts, 'timmy'),
      label: 'timmy',
      fdLimit: opts.fdLimit,
    });
    try {
      return running(p, await waitReady(p, 120_000, 'timmy relay'));
    } catch (err) {
      await p.stop();
      throw err;
    }
  };
  return {
    kind: 'timmy',
    label: 'Timmy',
    available() {
      const r = spawnSync(process.execPath, [cli, 'relay', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
      if (r.status !== 0 || /not built yet/.test(out)) {
        return { ok: false, why: `\`node bin/timmy.js relay --help\` ${r.status === 0 ? 'says' : `failed (status ${r.status ?? r.signal})`}: ${out.split('\n').slice(0, 3).join(' / ') || '(no output)'}` };
      }
      return { ok: true, detail: out.split('\n')[0] ?? '' };
    },
    async load(dataDir, from, to) {
      const n = to - from;
      const t0 = performance.now();
      let importNote: string | undefined;
      {
        // node bin/timmy.js relay import --data-dir <dir> < events.jsonl
        const p = spawnChild(process.execPath, [cli, 'relay', 'import', '--data-dir', dataDir], {
          cwd: ROOT,
          logFile: logFile(opts, 'timmy'),
          label: 'timmy import',
          stdin: 'pipe',
          echo: /read \d+|import|progress/i,
          echoStderr: true,
        });
        const stdin = p.child.stdin!;
        let pipeBroken = false;
        stdin.on('error', () => {
          pipeBroken = true;
        });
        const deadline = setTimeout(() => void p.stop(2_000), Math.max(120_000, n * 5));
        try {
          for await (const line of readLines('stored', from, to)) {
            if (pipeBroken || !p.isRunning()) break;
            if (!stdin.write(`${line}\n`)) {
              await new Promise<void>((resolve) => {
                const t = setInterval(() => {
                  if (pipeBroken || !p.isRunning()) {
                    clearInterval(t);
                    resolve();
                  }
                }, 500);
                stdin.once('drain', () => {
                  clearInterval(t);
                  resolve();
                });
              });
            }
          }
        } finally {
          stdin.end();
        }
        const status = await p.exited;
        clearTimeout(deadline);
        if (status === 0 && !pipeBroken) {
          const seconds = (performance.now() - t0) / 1000;
          return { method: '`relay import`', events: n, seconds, perSec: n / seconds };
        }
        const why = status === 0 ? 'exited with status 0 before reading all its input' : `failed with status ${status}`;
        importNote = `\`relay import\` ${why} at stored ${from}..${to}: ${p.tail(3).replace(/\n/g, ' / ') || '(no output)'}`;
        log(`  [timmy] ${importNote}; falling back to loading over websockets`);
      }
      const t1 = performance.now();
      const relay = await startRelay(dataDir);
      try {
        const r = await loadOverWebsocket(relay.url, from, to, 'timmy');
        const seconds = (performance.now() - t1) / 1000;
        if (r.rejected > 0) log(`  [timmy] websocket load: ${r.rejected} rejected (first: ${r.firstRejection})`);
        const res: LoadResult = { method: 'websocket, 8 conns', events: r.ok + r.dup, seconds, perSec: (r.ok + r.dup) / seconds };
        if (importNote) res.note = importNote;
        return res;
      } finally {
        await relay.stop();
      }
    },
    start: startRelay,
  };
}

export function peerTarget(opts: TargetOpts): RelayTarget {
  const script = join(ROOT, 'dist', 'bench', 'peer-relay.js');
  const db = (dataDir: string): string => join(dataDir, 'peer.sqlite');
  return {
    kind: 'peer',
    label: 'peer',
    available() {
      return { ok: true, detail: '@nostr-relay/core + event-repository-sqlite' };
    },
    async load(dataDir, from, to) {
      const t0 = performance.now();
      const p = spawnChild(
        process.execPath,
        [script, '--db', db(dataDir), '--preload', datasetPath('stored'), '--from', String(from), '--to', String(to), '--preload-mode', opts.peerPreload, '--preload-only'],
        { cwd: ROOT, logFile: logFile(opts, 'peer'), label: 'peer preload', echo: /^preload/ },
      );
      const deadline = setTimeout(() => void p.stop(2_000), Math.max(300_000, (to - from) * 3));
      const status = await p.exited;
      clearTimeout(deadline);
      if (status !== 0) throw new Error(`peer preload failed (status ${status})\n${p.tail()}`);
      const seconds = (performance.now() - t0) / 1000;
      return { method: opts.peerPreload === 'bulk' ? 'repository bulk insert' : 'repository upsert()', events: to - from, seconds, perSec: (to - from) / seconds };
    },
    async start(dataDir) {
      const p = spawnChild(process.execPath, [script, '--db', db(dataDir), '--port', '0'], {
        cwd: ROOT,
        logFile: logFile(opts, 'peer'),
        label: 'peer',
        fdLimit: opts.fdLimit,
      });
      try {
        return running(p, await waitReady(p, 120_000, 'peer relay'));
      } catch (err) {
        await p.stop();
        throw err;
      }
    },
  };
}
