// Results model and the markdown report (ready to paste into docs/benchmarks.md).
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Plan, RelayKind } from './args.js';
import type { LoadResult } from './relays.js';
import type { VerifyResults } from './verify-bench.js';
import { AUTHOR_COUNT, E_POOL, P_POOL, T_POOL } from './events.js';
import { ROOT } from './paths.js';
import { fmtInt, fmtMs } from './util.js';

export interface ReqStat {
  size: number;
  filter: string;
  n: number;
  p50?: number;
  p99?: number;
  mean?: number;
  avgEvents?: number;
  errors: number;
  firstError?: string;
}

export interface IngestStat {
  conns: number;
  window: number;
  events: number;
  okTrue: number;
  duplicates: number;
  okFalse: number;
  firstRejection?: string;
  seconds: number;
  perSec: number;
  timedOut: boolean;
}

export interface FanoutStat {
  subscribers: number;
  events: number;
  spacingMs: number;
  expected: number;
  delivered: number;
  p50?: number;
  p99?: number;
  max?: number;
}

export interface MemStat {
  storedAtStart: number;
  idleKb?: number;
  conns: number;
  opened: number;
  connsKb?: number;
  hwmKb?: number;
}

export interface RelayResult {
  kind: RelayKind;
  label: string;
  status: 'ok' | 'skipped' | 'failed' | 'partial';
  notes: string[];
  loads: (LoadResult & { from: number; to: number })[];
  req: ReqStat[];
  ingest: IngestStat[];
  fanout?: FanoutStat;
  mem?: MemStat;
  storedAtEnd?: number;
}

export interface Machine {
  nproc: number;
  cpu: string;
  ramGiB: number;
  node: string;
  kernel: string;
  date: string;
  fdSoft?: number;
  timmyRev: string;
  peerVersion: string;
}

export function machineInfo(fdSoft: number | undefined): Machine {
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    /* not Linux */
  }
  let timmyRev = 'uncommitted';
  try {
    timmyRev = execSync('git rev-parse --short HEAD', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || timmyRev;
  } catch {
    /* no commits yet */
  }
  let peerVersion = '?';
  try {
    peerVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@nostr-relay', 'core', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* ignore */
  }
  const m: Machine = {
    nproc: availableParallelism(),
    cpu,
    ramGiB: totalmem() / 2 ** 30,
    node: process.version,
    kernel: release(),
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    timmyRev,
    peerVersion,
  };
  if (fdSoft !== undefined) m.fdSoft = fdSoft;
  return m;
}

const mb = (kb: number | undefined): string => (kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);

function cell(r: RelayResult | undefined, f: (r: RelayResult) => string | undefined): string {
  if (!r) return '—';
  if (r.status === 'skipped') return 'skipped';
  return f(r) ?? 'n/a';
}

export function renderReport(plan: Plan, m: Machine, verify: VerifyResults | undefined, results: RelayResult[], avgEventBytes: number): string {
  const T = results.find((r) => r.kind === 'timmy');
  const P = results.find((r) => r.kind === 'peer');
  const cols = [T, P];
  const L: string[] = [];
  const row = (...cells: string[]): void => void L.push(`| ${cells.join(' | ')} |`);
  L.push(`## Relay benchmark: Timmy vs @nostr-relay/core ${m.peerVersion} (${m.date}${plan.quick ? ', --quick' : ''})`);
  L.push('');
  L.push(
    `Machine: ${m.nproc} cores (nproc), ${m.cpu}, ${m.ramGiB.toFixed(1)} GiB RAM, Node ${m.node}, Linux ${m.kernel}` +
      `${m.fdSoft ? `, ulimit -n ${m.fdSoft}` : ''}. Timmy at ${m.timmyRev}. Relays and the load generator share the machine.`,
  );
  L.push('');
  L.push(
    `Workload (identical for both, pre-signed, cached): kind-1 events, ${fmtInt(AUTHOR_COUNT)} authors, ~${fmtInt(avgEventBytes)} B of JSON each; ` +
      `tags: 0-2 \`e\` (pool ${fmtInt(E_POOL)}), 1-3 \`p\` (pool ${fmtInt(P_POOL)}, incl. the authors), 0-3 \`t\` (${T_POOL} hashtags, Zipf); ` +
      `created_at uniform over 180 days. Peer = @nostr-relay/core + @nostr-relay/event-repository-sqlite on \`ws\` (bench/peer-relay.ts), default options.`,
  );
  L.push('');

  row('metric', 'Timmy', 'peer');
  row('---', '---:', '---:');
  for (const st of plan.sizes.map((s, i) => ({ s, i }))) {
    const prev = st.i === 0 ? 0 : (plan.sizes[st.i - 1] as number);
    row(
      `bulk load, stored ${fmtInt(prev)} → ${fmtInt(st.s)} (events/s)`,
      ...cols.map((r) =>
        cell(r, (x) => {
          const l = x.loads.find((z) => z.to === st.s);
          return l ? `${fmtInt(l.perSec)} (${l.method})` : undefined;
        }),
      ),
    );
  }
  for (const c of plan.ingestConns) {
    row(
      `ingest, ${c} conns × ${plan.ingestWindow} in flight (OK true/s)`,
      ...cols.map((r) =>
        cell(r, (x) => {
          const g = x.ingest.find((z) => z.conns === c);
          if (!g) return undefined;
          const extra = [g.timedOut ? 'TIMED OUT' : '', g.okFalse ? `${fmtInt(g.okFalse)} rejected` : '', g.duplicates ? `${fmtInt(g.duplicates)} dup` : '']
            .filter(Boolean)
            .join(', ');
          return `${fmtInt(g.perSec)}${extra ? ` (${extra})` : ''}`;
        }),
      ),
    );
  }
  const fo = (x: RelayResult): FanoutStat | undefined => x.fanout;
  row(
    `live fan-out p50 / p99 (ms)`,
    ...cols.map((r) => cell(r, (x) => (fo(x) ? `${fmtMs(fo(x)?.p50)} / ${fmtMs(fo(x)?.p99)}` : undefined))),
  );
  row(
    `live fan-out deliveries received`,
    ...cols.map((r) => cell(r, (x) => (fo(x) ? `${fmtInt(fo(x)?.delivered ?? 0)} / ${fmtInt(fo(x)?.expected ?? 0)}` : undefined))),
  );
  row('RSS idle, after start', ...cols.map((r) => cell(r, (x) => (x.mem ? mb(x.mem.idleKb) : undefined))));
  row(
    `RSS with ${fmtInt(plan.idleConns)} idle websockets`,
    ...cols.map((r) =>
      cell(r, (x) => {
        const mm = x.mem;
        if (!mm || mm.connsKb === undefined) return undefined;
        const per = mm.idleKb !== undefined && mm.opened > 0 ? ` (${((mm.connsKb - mm.idleKb) / mm.opened).toFixed(1)} KB/conn)` : '';
        return `${mb(mm.connsKb)}${per}${mm.opened < mm.conns ? `, only ${fmtInt(mm.opened)} opened` : ''}`;
      }),
    ),
  );
  row('peak RSS over the run (VmHWM)', ...cols.map((r) => cell(r, (x) => (x.mem?.hwmKb !== undefined ? mb(x.mem.hwmKb) : undefined))));
  L.push('');

  // REQ latency
  L.push(`REQ latency, ms from REQ sent to EOSE received (limit 100; ${plan.queries} distinct queries per filter, sequential on one connection, after 10 warm-up queries):`);
  L.push('');
  row('filter', 'stored', 'Timmy p50', 'Timmy p99', 'peer p50', 'peer p99', 'events/query (T / peer)');
  row('---', '---:', '---:', '---:', '---:', '---:', '---:');
  const filters = [...new Set(results.flatMap((r) => r.req.map((q) => q.filter)))];
  for (const s of plan.sizes) {
    for (const f of filters) {
      const q = cols.map((r) => r?.req.find((z) => z.size === s && z.filter === f));
      const err = (x: ReqStat | undefined): string => (x && x.errors ? ` (${x.errors} err)` : '');
      const skip = (r: RelayResult | undefined, x: ReqStat | undefined, v: string): string => (r?.status === 'skipped' ? 'skipped' : x ? v : 'n/a');
      row(
        f,
        fmtInt(s),
        skip(T, q[0], `${fmtMs(q[0]?.p50)}${err(q[0])}`),
        skip(T, q[0], fmtMs(q[0]?.p99)),
        skip(P, q[1], `${fmtMs(q[1]?.p50)}${err(q[1])}`),
        skip(P, q[1], fmtMs(q[1]?.p99)),
        `${q[0]?.avgEvents !== undefined ? q[0].avgEvents.toFixed(1) : '—'} / ${q[1]?.avgEvents !== undefined ? q[1].avgEvents.toFixed(1) : '—'}`,
      );
    }
  }
  L.push('');

  if (verify) {
    L.push(`Single-core Schnorr verify (benchmark main thread, pre-parsed stored events, median of 3 passes of up to ${fmtInt(plan.verifyEvents)} verifies, the noble pass capped at 5 s):`);
    L.push('');
    row('verifier', 'verifies/s', 'µs/verify');
    row('---', '---:', '---:');
    for (const v of [verify.tiny, verify.noble, ...(verify.timmy ? [verify.timmy] : [])]) {
      row(`${v.name}${v.allValid ? '' : ' (SOME FAILED)'}`, fmtInt(v.perSec), (1e6 / v.perSec).toFixed(1));
    }
    L.push('');
    const target = 0.7 * m.nproc * verify.tiny.perSec;
    L.push(`ingest target = 70% × ${m.nproc} cores × ${fmtInt(verify.tiny.perSec)} verifies/s (tiny-secp256k1) = **${fmtInt(target)} events/s**`);
    const best = T && T.ingest.length ? Math.max(...T.ingest.map((g) => g.perSec)) : undefined;
    if (best !== undefined) L.push(`Timmy's best measured ingest: ${fmtInt(best)} events/s = ${((best / target) * 100).toFixed(0)}% of target.`);
    L.push('');
  }

  const notes: string[] = [];
  notes.push(
    `Ingest: ${fmtInt(plan.ingest)} fresh events per run (never stored before), pre-serialized; throughput = OK-true count / (last OK − first send); ` +
      `measured at ${fmtInt(plan.sizes[plan.sizes.length - 1] ?? 0)} stored events, after the REQ runs.`,
  );
  notes.push(
    `Fan-out: ${fmtInt(plan.subscribers)} subscriber websockets each with REQ {kinds:[1], #t:[<run tag>]}; one publisher sends ${plan.fanoutEvents} matching events every ${plan.fanoutSpacingMs} ms; ` +
      `latency = receive time at the subscriber − send time at the publisher (same process, same clock), over all deliveries.`,
  );
  notes.push(
    `Memory: VmRSS of the relay process from /proc/<pid>/status, 2 s after start (with ${fmtInt(plan.sizes[plan.sizes.length - 1] ?? 0)} stored), then with ${fmtInt(plan.idleConns)} idle websockets open.`,
  );
  notes.push(
    'Stored sizes are cumulative: each relay is filled to the first size, measured, restarted after filling to the next size. ' +
      'The ingest and fan-out events add to the store after the last REQ run.',
  );
  for (const r of results) for (const n of r.notes) notes.push(`${r.label}: ${n}`);
  for (const n of notes) L.push(`- ${n}`);
  L.push('');
  return L.join('\n');
}
