// Relay benchmark: Timmy's relay vs @nostr-relay/core (+ sqlite), same machine, same events, one run.
//
//   npm run bench:relay                         # full: 100K and 1M stored (~15-25 min on 2 cores; the first run also signs ~1.06M events, ~2 min)
//   npm run bench:relay -- --quick              # smoke check, 1-2 minutes
//   npm run bench:relay -- --only peer --sizes 100000
//
// Prints progress lines, then a markdown report (also written to bench/results/relay-<date>.md).
// All traffic goes to 127.0.0.1; every child process is stopped on exit, error or Ctrl-C.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePlan, type Plan } from './lib/args.js';
import { closeAll, fanout, openMany, publish, reqSequential } from './lib/client.js';
import { ensureDataset, readLinesArray, sampleLines } from './lib/dataset.js';
import { authorPubkeys, eValue, pValue, permutation, rng, seedOf, signEvent, authorSecret, tValue, AUTHOR_COUNT, E_POOL, P_POOL, SPAN_SECONDS, SPAN_START, T_POOL } from './lib/events.js';
import { LOG_DIR, RESULTS_DIR } from './lib/paths.js';
import { fdLimits, installCleanup, isInterrupted, reexecWithFdLimit, registerTempDir, removeTempDir } from './lib/proc.js';
import { peerTarget, timmyTarget, type RelayTarget, type Running } from './lib/relays.js';
import { machineInfo, renderReport, type IngestStat, type RelayResult, type ReqStat } from './lib/report.js';
import { fmtInt, fmtMs, log, mean, percentile, sleep } from './lib/util.js';
import { verifyBench, type VerifyResults } from './lib/verify-bench.js';

interface QuerySet {
  filter: string;
  filters: object[];
}

/** The REQ workload for one stored size: the same filters, in the same order, for both relays. */
function buildQueries(n: number, seedLabel: string): QuerySet[] {
  const r = rng(seedOf(seedLabel));
  const authors = authorPubkeys();
  const aPerm = permutation(AUTHOR_COUNT, seedOf(`${seedLabel}/authors`));
  const pPerm = permutation(P_POOL, seedOf(`${seedLabel}/p`));
  const tPerm = permutation(T_POOL, seedOf(`${seedLabel}/t`));
  const at = (perm: number[], i: number): number => perm[i % perm.length] as number;
  const range = (): { since: number; until: number } => {
    const since = SPAN_START + Math.floor(r() * (SPAN_SECONDS - 3600));
    return { since, until: since + 3599 };
  };
  return [
    { filter: 'authors+kinds (1 author, kind 1)', filters: Array.from({ length: n }, (_, i) => ({ authors: [authors[at(aPerm, i)]], kinds: [1], limit: 100 })) },
    { filter: '#e (1 value)', filters: Array.from({ length: n }, () => ({ '#e': [eValue(Math.floor(r() * E_POOL))], limit: 100 })) },
    { filter: '#p (1 value)', filters: Array.from({ length: n }, (_, i) => ({ '#p': [pValue(at(pPerm, i))], limit: 100 })) },
    { filter: '#t (1 value)', filters: Array.from({ length: n }, (_, i) => ({ '#t': [tValue(at(tPerm, i))], limit: 100 })) },
    { filter: 'since/until (1-hour window)', filters: Array.from({ length: n }, () => ({ ...range(), limit: 100 })) },
  ];
}

async function phase<T>(res: RelayResult, name: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    log(`  [${res.kind}] ${name} FAILED: ${msg}`);
    res.notes.push(`${name} failed: ${msg}`);
    res.status = 'partial';
    return undefined;
  }
}

async function sanity(relay: Running, sampleIds: string[]): Promise<number> {
  const [s] = await reqSequential(relay.url, [{ ids: sampleIds, limit: sampleIds.length }]);
  return s?.events ?? 0;
}

async function runRelay(
  target: RelayTarget,
  plan: Plan,
  runId: string,
  fresh: string[][],
  fanoutMsgs: { id: string; msg: string }[],
  fanoutTag: string,
): Promise<RelayResult> {
  const res: RelayResult = { kind: target.kind, label: target.label, status: 'ok', notes: [], loads: [], req: [], ingest: [] };
  const avail = target.available();
  if (!avail.ok) {
    log(`[${target.kind}] SKIPPED: ${avail.why}`);
    res.status = 'skipped';
    res.notes.push(`skipped: ${avail.why}`);
    return res;
  }
  const dataDir = mkdtempSync(join(tmpdir(), `timmy-bench-${target.kind}-`));
  if (!plan.keepData) registerTempDir(dataDir);
  log(`[${target.kind}] data dir ${dataDir}`);
  let hwm = 0;
  try {
    let loaded = 0;
    for (let si = 0; si < plan.sizes.length; si++) {
      const size = plan.sizes[si] as number;
      const last = si === plan.sizes.length - 1;
      log(`[${target.kind}] loading stored events ${fmtInt(loaded)}..${fmtInt(size)}`);
      const l = await target.load(dataDir, loaded, size);
      res.loads.push({ ...l, from: loaded, to: size });
      if (l.note) res.notes.push(l.note);
      log(`[${target.kind}] loaded ${fmtInt(l.events)} in ${l.seconds.toFixed(1)} s (${fmtInt(l.perSec)}/s via ${l.method})`);
      loaded = size;

      const relay = await target.start(dataDir);
      log(`[${target.kind}] listening on ${relay.url} (pid ${relay.pid}), ${fmtInt(size)} stored`);
      try {
        const ids = (await sampleLines('stored', 0, size, 20)).map((x) => (JSON.parse(x) as { id: string }).id);
        const found = await sanity(relay, ids);
        log(`[${target.kind}] sanity: ${found}/${ids.length} sampled stored events found by id`);
        if (found < ids.length) res.notes.push(`at ${fmtInt(size)} stored only ${found}/${ids.length} sampled events were found by id`);

        if (last) {
          await phase(res, 'memory', async () => {
            await sleep(2_000);
            const idle = relay.mem();
            log(`[${target.kind}] RSS idle: ${fmtInt((idle.rssKb ?? 0) / 1024)} MB`);
            const { sockets, failed, firstError } = await openMany(relay.url, plan.idleConns, 250);
            await sleep(3_000);
            const withConns = relay.mem();
            log(
              `[${target.kind}] RSS with ${fmtInt(sockets.length)} idle websockets: ${fmtInt((withConns.rssKb ?? 0) / 1024)} MB` +
                (failed ? ` (${failed} failed to connect: ${firstError})` : ''),
            );
            await closeAll(sockets);
            res.mem = { storedAtStart: size, conns: plan.idleConns, opened: sockets.length };
            if (idle.rssKb !== undefined) res.mem.idleKb = idle.rssKb;
            if (withConns.rssKb !== undefined) res.mem.connsKb = withConns.rssKb;
            await sleep(1_000);
          });
        }

        const sets = buildQueries(plan.queries, `req/${size}`);
        const warm = buildQueries(2, `warmup/${size}`).flatMap((q) => q.filters);
        await phase(res, `REQ warm-up at ${size}`, () => reqSequential(relay.url, warm));
        for (const qs of sets) {
          await phase(res, `REQ ${qs.filter} at ${size}`, async () => {
            const t0 = performance.now();
            const samples = await reqSequential(relay.url, qs.filters);
            const ok = samples.filter((s) => !s.closed);
            const bad = samples.filter((s) => s.closed);
            const lat = ok.map((s) => s.ms);
            const st: ReqStat = { size, filter: qs.filter, n: samples.length, errors: bad.length };
            const p50 = percentile(lat, 50);
            const p99 = percentile(lat, 99);
            const mn = mean(lat);
            const ev = mean(ok.map((s) => s.events));
            if (p50 !== undefined) st.p50 = p50;
            if (p99 !== undefined) st.p99 = p99;
            if (mn !== undefined) st.mean = mn;
            if (ev !== undefined) st.avgEvents = ev;
            if (bad[0]?.closed) st.firstError = bad[0].closed;
            res.req.push(st);
            log(
              `[${target.kind}] REQ ${qs.filter} @${fmtInt(size)}: p50 ${fmtMs(p50)} ms, p99 ${fmtMs(p99)} ms, ` +
                `${ev?.toFixed(1)} events/query, ${((performance.now() - t0) / 1000).toFixed(1)} s` +
                (bad.length ? `, ${bad.length} errors (${bad[0]?.closed})` : ''),
            );
          });
        }

        if (last) {
          for (let k = 0; k < plan.ingestConns.length; k++) {
            const conns = plan.ingestConns[k] as number;
            const msgs = fresh[k] as string[];
            await phase(res, `ingest ${conns} conns`, async () => {
              const r = await publish(relay.url, msgs, conns, plan.ingestWindow, Math.max(120_000, msgs.length * 10));
              const g: IngestStat = {
                conns,
                window: plan.ingestWindow,
                events: msgs.length,
                okTrue: r.okTrue,
                duplicates: r.duplicates,
                okFalse: r.okFalse,
                seconds: r.elapsedMs / 1000,
                perSec: r.eventsPerSec,
                timedOut: r.timedOut,
              };
              if (r.firstRejection !== undefined) g.firstRejection = r.firstRejection;
              res.ingest.push(g);
              if (r.okFalse) res.notes.push(`ingest ${conns} conns: ${r.okFalse} rejected, first: ${r.firstRejection}`);
              if (r.notices) res.notes.push(`ingest ${conns} conns: ${r.notices} NOTICEs, first: ${r.firstNotice}`);
              log(
                `[${target.kind}] ingest ${conns} conns x ${plan.ingestWindow} in flight: ${fmtInt(r.eventsPerSec)} events/s ` +
                  `(${fmtInt(r.okTrue)} ok, ${r.duplicates} dup, ${r.okFalse} rejected${r.timedOut ? ', TIMED OUT' : ''}, ${(r.elapsedMs / 1000).toFixed(1)} s)`,
              );
            });
            await sleep(1_000);
          }

          await phase(res, 'fan-out', async () => {
            const f = await fanout(relay.url, plan.subscribers, { kinds: [1], '#t': [fanoutTag] }, fanoutMsgs, plan.fanoutSpacingMs);
            const st = {
              subscribers: f.subscribers,
              events: f.events,
              spacingMs: plan.fanoutSpacingMs,
              expected: f.expected,
              delivered: f.delivered,
            } as NonNullable<RelayResult['fanout']>;
            const p50 = percentile(f.latencies, 50);
            const p99 = percentile(f.latencies, 99);
            const mx = percentile(f.latencies, 100);
            if (p50 !== undefined) st.p50 = p50;
            if (p99 !== undefined) st.p99 = p99;
            if (mx !== undefined) st.max = mx;
            res.fanout = st;
            if (f.subscribeFailed) res.notes.push(`fan-out: ${f.subscribeFailed} subscribers failed to connect`);
            if (f.firstRejection) res.notes.push(`fan-out: publisher got OK false: ${f.firstRejection}`);
            log(
              `[${target.kind}] fan-out ${f.subscribers} subs x ${f.events} events: p50 ${fmtMs(p50)} ms, p99 ${fmtMs(p99)} ms, max ${fmtMs(mx)} ms, ` +
                `${fmtInt(f.delivered)}/${fmtInt(f.expected)} delivered, ${f.publishOk} OK`,
            );
          });
          res.storedAtEnd = size + res.ingest.reduce((a, g) => a + g.okTrue, 0) + fanoutMsgs.length;
        }
        hwm = Math.max(hwm, relay.mem().hwmKb ?? 0);
        if (!relay.isRunning()) throw new Error(`relay exited during the run\n${relay.tail()}`);
      } finally {
        const status = await relay.stop();
        if (status !== 0 && status !== 143) res.notes.push(`relay exit status ${status} after SIGTERM`);
      }
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    log(`[${target.kind}] FAILED: ${msg}`);
    res.status = 'failed';
    res.notes.push(`failed: ${msg.split('\n')[0]}`);
  } finally {
    if (res.mem && hwm) res.mem.hwmKb = hwm;
    if (plan.keepData) log(`[${target.kind}] data kept in ${dataDir}`);
    else removeTempDir(dataDir);
  }
  return res;
}

async function main(): Promise<void> {
  const plan = parsePlan(process.argv.slice(2));
  const needFds = Math.max(plan.idleConns, plan.subscribers) + 1_024;
  const re = reexecWithFdLimit(needFds);
  if (re.reexeced) process.exit(re.status ?? 1);
  installCleanup();
  const fdNote = re.note;
  if (fdNote) {
    log(`WARNING: ${fdNote}; lowering idle connections / subscribers to fit`);
    const soft = fdLimits()?.soft ?? 1024;
    plan.idleConns = Math.max(10, Math.min(plan.idleConns, soft - 512));
    plan.subscribers = Math.max(10, Math.min(plan.subscribers, soft - 512));
  }
  mkdirSync(LOG_DIR, { recursive: true });
  const t0 = performance.now();
  const runId = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const kinds = plan.only ? [plan.only] : (['timmy', 'peer'] as const);
  log(
    `relay benchmark${plan.quick ? ' (--quick)' : ''}: relays ${kinds.join(', ')}; stored sizes ${plan.sizes.map(fmtInt).join(', ')}; ` +
      `${plan.queries} queries/filter; ingest ${fmtInt(plan.ingest)} x conns ${plan.ingestConns.join(',')}; ` +
      `fan-out ${plan.subscribers} subs x ${plan.fanoutEvents} events; ${fmtInt(plan.idleConns)} idle conns; logs in ${LOG_DIR}`,
  );

  // 1. the event set (cached across runs)
  const maxSize = plan.sizes[plan.sizes.length - 1] as number;
  await ensureDataset('stored', Math.max(maxSize, plan.verifyEvents));
  await ensureDataset('fresh', plan.ingest * plan.ingestConns.length);
  const freshLines = await readLinesArray('fresh', 0, plan.ingest * plan.ingestConns.length);
  const avgBytes = mean(freshLines.map((l) => Buffer.byteLength(l))) ?? 0;
  const fresh = plan.ingestConns.map((_, k) => freshLines.slice(k * plan.ingest, (k + 1) * plan.ingest).map((l) => `["EVENT",${l}]`));
  const fanoutTag = `fanout${runId.replace(/-/g, '')}`;
  const now = Math.floor(Date.now() / 1000);
  const pubs = authorPubkeys();
  const fanoutMsgs = Array.from({ length: plan.fanoutEvents }, (_, k) => {
    const a = k % AUTHOR_COUNT;
    const e = signEvent(authorSecret(a), pubs[a] as string, now - 60 + (k % 60), 1, [['t', fanoutTag]], `fan-out event ${k} of run ${runId}`);
    return { id: e.id, msg: JSON.stringify(['EVENT', e]) };
  });

  // 2. single-core verify rate
  let verify: VerifyResults | undefined;
  try {
    log(`verify rate: ${fmtInt(plan.verifyEvents)} events, single core...`);
    verify = await verifyBench(await readLinesArray('stored', 0, plan.verifyEvents));
    for (const v of [verify.tiny, verify.noble, ...(verify.timmy ? [verify.timmy] : [])]) {
      log(`  ${v.name}: ${fmtInt(v.perSec)} verifies/s (${fmtInt(v.verifies)} timed${v.allValid ? '' : ', SOME INVALID'})`);
    }
  } catch (err) {
    log(`verify benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  // 3. the relays, one after the other
  const topts = { runId, fdLimit: needFds, peerPreload: plan.peerPreload };
  const targets: RelayTarget[] = kinds.map((k) => (k === 'timmy' ? timmyTarget(topts) : peerTarget(topts)));
  const results: RelayResult[] = [];
  for (const t of targets) {
    if (isInterrupted()) break;
    results.push(await runRelay(t, plan, runId, fresh, fanoutMsgs, fanoutTag));
  }
  if (isInterrupted()) {
    log('interrupted: no report written');
    process.exit(130);
  }

  // 4. report
  const md = renderReport(plan, machineInfo(fdLimits()?.soft), verify, results, avgBytes);
  const date = new Date().toISOString().slice(0, 10);
  const file = join(RESULTS_DIR, `relay-${date}${plan.quick ? '-quick' : ''}.md`);
  writeFileSync(file, md);
  writeFileSync(file.replace(/\.md$/, '.json'), JSON.stringify({ plan, verify, results }, null, 2));
  process.stdout.write(`\n${md}\n`);
  log(`done in ${((performance.now() - t0) / 60_000).toFixed(1)} min; report written to ${file}`);
  const failed = results.filter((r) => r.status === 'failed');
  process.exitCode = failed.length === results.length && results.length > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:relay failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
