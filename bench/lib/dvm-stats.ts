// Figures of one DVM benchmark level: throughput, latency percentiles, the breakdown of the loop
// (customer side and, from the job store's transitions, server side), failures, and how busy the
// instance's main thread and the process were.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { JobRecord, LoadResult } from './dvm-customers.js';
import { percentile } from './util.js';

export interface Dist {
  n: number;
  p50?: number;
  p99?: number;
  max?: number;
  mean?: number;
}

export function dist(xs: readonly number[]): Dist {
  const d: Dist = { n: xs.length };
  if (xs.length === 0) return d;
  d.p50 = percentile(xs, 50);
  d.p99 = percentile(xs, 99);
  d.max = percentile(xs, 100);
  d.mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return d;
}

export interface ProcessLoad {
  /** Event-loop utilization of the main thread (where the instance runs), 0..1. */
  mainElu: number;
  /** Event-loop delay of the main thread, ms. */
  loopDelayP50: number;
  loopDelayP99: number;
  loopDelayMax: number;
  /** CPU time of the whole process (all threads) over wall time, in cores. */
  cpuCores: number;
  /**
   * CPU used by everything else on the machine meanwhile (from /proc/stat), in cores: other
   * processes compete with the instance for the cores, and figures taken while this is high are not clean.
   */
  otherCores?: number;
}

export interface LevelStats {
  variant: string;
  kind: number;
  paid: boolean;
  windows: { commitMs: number; revealMs: number };
  customers: number;
  inline: boolean;
  durationS: number;
  warmupS: number;
  /** Jobs whose loop (result + settlement) ended inside the measured window, per second. */
  jobsPerSec: number;
  completedInWindow: number;
  /** Jobs published inside the measured window that failed, per second. */
  failedPerSec: number;
  started: number;
  completed: number;
  failed: number;
  failures: Record<string, number>;
  /** When the first failed jobs were published, seconds after the customers started (up to 10). */
  failureTimesS: number[];
  /** request published -> result received. */
  latency: Dist;
  /** request published -> success feedback (sent after the escrow was released). */
  toSettled: Dist;
  /** Customer-side steps. */
  steps: Record<string, Dist>;
  /** Server-side steps, from the job store's transitions (ms timestamps). */
  server: Record<string, Dist>;
  /** Paid jobs whose escrow read `released` after the success feedback. */
  settledChecked: number;
  priceMsat?: number;
  load: ProcessLoad;
  /** Events stored per job, by kind (relay database, whole level incl. warm-up). */
  eventsPerJob: Record<string, number>;
  ledger?: { totalMsat: number; unbalanced: number; drifted: number; escrowsOpen: number };
  jobStates: Record<string, number>;
  connectMs: number;
  /** Runs of this level (more than 1 when other processes loaded the machine; the quietest is kept). */
  attempts?: number;
}

const norm = (reason: string): string => reason.replace(/[0-9a-f]{12,64}/g, '…').replace(/\d+ msat/g, 'N msat').slice(0, 140);

interface TransitionRow {
  job_id: string;
  to_state: string;
  at: number;
}

/** First time each job entered each state, from `<dataDir>/dvm.sqlite`. */
export function readTransitions(dataDir: string): Map<string, Map<string, number>> {
  const db = new Database(join(dataDir, 'dvm.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const out = new Map<string, Map<string, number>>();
    for (const r of db.prepare('SELECT job_id, to_state, at FROM transitions ORDER BY seq').all() as TransitionRow[]) {
      let m = out.get(r.job_id);
      if (!m) out.set(r.job_id, (m = new Map()));
      if (!m.has(r.to_state)) m.set(r.to_state, r.at);
    }
    return out;
  } finally {
    db.close();
  }
}

export function readJobStates(dataDir: string): Record<string, number> {
  const db = new Database(join(dataDir, 'dvm.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as { state: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  } finally {
    db.close();
  }
}

/** Events stored per kind in `<dataDir>/relay.sqlite`. */
export function readEventKinds(dataDir: string): Record<string, number> {
  const db = new Database(join(dataDir, 'relay.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT kind, COUNT(*) AS n FROM events GROUP BY kind').all() as { kind: number; n: number }[];
    return Object.fromEntries(rows.map((r) => [String(r.kind), r.n]));
  } finally {
    db.close();
  }
}

const diffs = (jobs: readonly JobRecord[], f: (j: JobRecord) => number | undefined): number[] =>
  jobs.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x));

export function levelStats(
  base: Pick<LevelStats, 'variant' | 'kind' | 'paid' | 'windows' | 'customers' | 'inline' | 'durationS' | 'warmupS' | 'load' | 'eventsPerJob' | 'jobStates'> & {
    ledger?: LevelStats['ledger'];
  },
  run: LoadResult,
  transitions: Map<string, Map<string, number>>,
): LevelStats {
  const from = run.t0 + base.warmupS * 1000;
  const to = run.t0 + base.durationS * 1000;
  const ok = (j: JobRecord): boolean => !j.fail && j.tResult !== undefined && j.tSuccess !== undefined;
  const completedInWindow = run.jobs.filter((j) => ok(j) && j.tSuccess! >= from && j.tSuccess! < to).length;
  const measured = run.jobs.filter((j) => j.tPublish >= from);
  const good = measured.filter(ok);
  const failures: Record<string, number> = {};
  for (const j of run.jobs) if (j.fail) failures[norm(j.fail)] = (failures[norm(j.fail)] ?? 0) + 1;

  const steps: Record<string, Dist> = {
    'sign request (customer)': dist(diffs(good, (j) => j.tPublish - j.tSign)),
    'publish -> OK': dist(diffs(good, (j) => (j.tOk === undefined ? undefined : j.tOk - j.tPublish))),
  };
  if (base.paid) {
    steps['publish -> payment-required'] = dist(diffs(good, (j) => (j.tPayReq === undefined ? undefined : j.tPayReq - j.tPublish)));
    steps['pay (wallet.pay, from the customer)'] = dist(diffs(good, (j) => (j.tPaid === undefined || j.tPayReq === undefined ? undefined : j.tPaid - j.tPayReq)));
    steps['paid -> processing (auction)'] = dist(diffs(good, (j) => (j.tProcessing === undefined || j.tPaid === undefined ? undefined : j.tProcessing - j.tPaid)));
  } else {
    steps['publish -> processing (auction)'] = dist(diffs(good, (j) => (j.tProcessing === undefined ? undefined : j.tProcessing - j.tPublish)));
  }
  steps['processing -> result (skill, sign, publish)'] = dist(diffs(good, (j) => (j.tProcessing === undefined ? undefined : j.tResult! - j.tProcessing)));
  steps[base.paid ? 'result -> success (escrow released)' : 'result -> success feedback'] = dist(diffs(good, (j) => j.tSuccess! - j.tResult!));

  const at = (j: JobRecord, s: string): number | undefined => transitions.get(j.id)?.get(s);
  const span = (a: (j: JobRecord) => number | undefined, b: (j: JobRecord) => number | undefined) =>
    dist(
      diffs(good, (j) => {
        const x = a(j);
        const y = b(j);
        return x === undefined || y === undefined ? undefined : y - x;
      }),
    );
  const server: Record<string, Dist> = {
    'customer publish -> DVM job created (relay ingest, commit, fan-out)': span((j) => j.tPublish, (j) => at(j, 'received')),
  };
  if (base.paid) {
    server['created -> priced (awaiting-payment)'] = span((j) => at(j, 'received'), (j) => at(j, 'awaiting-payment'));
    server['awaiting-payment -> paid (bidding), incl. the customer paying'] = span((j) => at(j, 'awaiting-payment'), (j) => at(j, 'bidding'));
  } else {
    server['created -> bidding'] = span((j) => at(j, 'received'), (j) => at(j, 'bidding'));
  }
  server['auction (bidding -> assigned)'] = span((j) => at(j, 'bidding'), (j) => at(j, 'assigned'));
  server['assigned -> executing'] = span((j) => at(j, 'assigned'), (j) => at(j, 'executing'));
  server['executing -> delivered (skill, result, release)'] = span((j) => at(j, 'executing'), (j) => at(j, 'delivered'));

  const stats: LevelStats = {
    ...base,
    jobsPerSec: completedInWindow / (base.durationS - base.warmupS),
    failedPerSec: run.jobs.filter((j) => j.fail && j.tPublish >= from && j.tPublish < to).length / (base.durationS - base.warmupS),
    completedInWindow,
    started: run.jobs.length,
    completed: run.jobs.filter(ok).length,
    failed: run.jobs.filter((j) => j.fail).length,
    failures,
    failureTimesS: run.jobs
      .filter((j) => j.fail)
      .slice(0, 10)
      .map((j) => Math.round((j.tPublish - run.t0) / 100) / 10),
    latency: dist(diffs(good, (j) => j.tResult! - j.tPublish)),
    toSettled: dist(diffs(good, (j) => j.tSuccess! - j.tPublish)),
    steps,
    server,
    settledChecked: run.jobs.filter((j) => j.escrow === 'released').length,
    connectMs: run.connectMs,
  };
  const price = good.find((j) => j.priceMsat !== undefined)?.priceMsat;
  if (price !== undefined) stats.priceMsat = price;
  return stats;
}
