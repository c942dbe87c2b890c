// Reputation benchmark: Timmy's reputation book (reputation/book.ts) against the claim of the issue,
// "Scores are kept incrementally as labels arrive (no full recomputation per query); recomputation
// from scratch for one npub with 100K labels in under 1 s." A benchmark that prints figures, not a test.
//
//   npm run bench:reputation                    # full: 100K labels about one agent (~5-8 min on 2 cores)
//   npm run bench:reputation -- --quick         # 10K labels, under a minute
//   npm run bench:reputation -- --labels 50000 [--raters N] [--standing-raters N] [--runs N] [--relay-runs N] [--no-relay]
//
// 1. Generates N signed kind-1985 job labels about ONE agent from ~N/10 raters (20% with a valid
//    payment proof: a real BOLT11 invoice + its preimage), and gives a few hundred raters a paid
//    record of their own (labels about them), so rater standing matters.
// 2. Incremental: adds every label one by one into a ReputationBook (created_at order, as they
//    would arrive) and times score(agent) as the book grows.
// 3. From scratch, from memory: bookFrom(events).report(agent).
// 4. From scratch, from a real relay (EmbeddedRelay on 127.0.0.1): fetchReputation through the
//    in-process client and through a WsClient over a websocket.
// 5. Checks that the incremental score equals the from-scratch ones.
// Prints progress lines, then a markdown summary; the raw figures go to bench/results/reputation-<date>[-quick].json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { NostrClient } from '../nostr/client.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from '../nostr/verify.js';
import { WsClient } from '../nostr/ws-client.js';
import { InProcessClient } from '../relay/inprocess-client.js';
import { ReputationBook, type BookOptions, type ReputationReport } from '../reputation/book.js';
import { bookFrom, collectLabels, fetchReputation } from '../reputation/fetch.js';
import { jobLabelTemplate, type Outcome } from '../reputation/labels.js';
import { encodeBolt11, readBolt11 } from '../wallet/bolt11.js';
import { startTestRelay, type TestRelay } from '../test/support/relay.js';
import { machineInfo } from './lib/report.js';
import { RESULTS_DIR } from './lib/paths.js';
import { installCleanup, isInterrupted, registerTempDir } from './lib/proc.js';
import { fmtInt, log, percentile } from './lib/util.js';

interface Plan {
  quick: boolean;
  labels: number;
  raters: number;
  standingRaters: number;
  /** Share of the agent's labels with a valid payment proof. */
  paidShare: number;
  /** score() is sampled after every this many adds, with `sampleCalls` calls. */
  sampleEvery: number;
  sampleCalls: number;
  /** From-scratch runs in memory (median reported). */
  runs: number;
  /** fetchReputation runs per client (median reported). */
  relayRuns: number;
  relay: boolean;
}

const USAGE = `usage: node dist/bench/reputation.js [--quick] [--labels N] [--raters N] [--standing-raters N] [--paid-share 0.2]
       [--sample-every N] [--sample-calls N] [--runs N] [--relay-runs N] [--no-relay]`;

function parsePlan(argv: readonly string[]): Plan {
  const quick = argv.includes('--quick');
  let labels = quick ? 10_000 : 100_000;
  let raters: number | undefined;
  let standingRaters: number | undefined;
  const plan: Omit<Plan, 'labels' | 'raters' | 'standingRaters'> = {
    quick,
    paidShare: 0.2,
    sampleEvery: 1000,
    sampleCalls: 1000,
    runs: 5,
    relayRuns: 3,
    relay: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const int = (): number => {
      const n = Number(val());
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${a} needs a positive whole number\n${USAGE}`);
      return n;
    };
    switch (a) {
      case '--quick':
        break;
      case '--labels':
        labels = int();
        break;
      case '--raters':
        raters = int();
        break;
      case '--standing-raters':
        standingRaters = Number(val());
        if (!(Number.isInteger(standingRaters) && standingRaters >= 0)) throw new Error(`--standing-raters needs a whole number\n${USAGE}`);
        break;
      case '--paid-share':
        plan.paidShare = Number(val());
        if (!(plan.paidShare >= 0 && plan.paidShare <= 1)) throw new Error(`--paid-share needs a number from 0 to 1\n${USAGE}`);
        break;
      case '--sample-every':
        plan.sampleEvery = int();
        break;
      case '--sample-calls':
        plan.sampleCalls = int();
        break;
      case '--runs':
        plan.runs = int();
        break;
      case '--relay-runs':
        plan.relayRuns = int();
        break;
      case '--no-relay':
        plan.relay = false;
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  const r = raters ?? Math.max(1, Math.round(labels / 10));
  return { ...plan, labels, raters: r, standingRaters: Math.min(r, standingRaters ?? 300) };
}

// ---- numbers ----

/** mulberry32: the shape of the data set (ratings, dates, who is paid) is the same from run to run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const median = (xs: readonly number[]): number => percentile(xs, 50) ?? NaN;
const fmtMsec = (ms: number): string => (ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : fmtInt(ms));
const fmtUs = (us: number): string => (us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : fmtInt(us));
const fmtS = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);

// ---- the data set ----

interface Key {
  readonly sk: Uint8Array;
  readonly pk: string;
}
const newKey = (): Key => {
  const sk = generateSecretKey();
  return { sk, pk: getPublicKey(sk) };
};

interface DataSet {
  readonly agent: string;
  /** Labels about the agent, in generation order (created_at random). */
  readonly about: NostrEvent[];
  /** Labels about raters (their paid records, which set their standing). */
  readonly standing: NostrEvent[];
  readonly raters: number;
  readonly standingRaters: number;
  readonly customers: number;
  readonly paidAbout: number;
  readonly ratings: Record<string, number>;
  readonly ms: { keys: number; invoices: number; sign: number; total: number };
  readonly avgBytes: number;
}

const DAY = 86_400;

/** Ratings mostly 4-5: 5 (55%), 4 (25%), 3 (10%), 2 (5%), 1 (5%). */
function pickRating(r: () => number): number {
  const u = r();
  return u < 0.05 ? 1 : u < 0.1 ? 2 : u < 0.2 ? 3 : u < 0.45 ? 4 : 5;
}
const outcomeFor = (rating: number): Outcome => (rating >= 4 ? 'delivered' : rating === 3 ? 'late' : 'failed');

function generate(plan: Plan, now: number): DataSet {
  const t0 = performance.now();
  const r = rng(0x7e9a7a7e);
  const agent = newKey();
  const raters: Key[] = [];
  for (let i = 0; i < plan.raters; i++) raters.push(newKey());
  // Customers who paid the raters for their own jobs: their labels give the raters a paid record.
  const customers: Key[] = [];
  const nCustomers = Math.max(1, Math.min(100, plan.standingRaters));
  for (let i = 0; i < nCustomers; i++) customers.push(newKey());
  const nodeKey = generateSecretKey(); // the payee's Lightning node key: signs every invoice
  const tKeys = performance.now();

  let invoiceMs = 0;
  const proof = (createdAt: number): { bolt11: string; preimage: string } => {
    const t = performance.now();
    const preimage = randomBytes(32);
    const paymentHash = bytesToHex(sha256(preimage));
    const bolt11 = encodeBolt11(
      {
        network: 'mainnet',
        amountMsat: (1 + Math.floor(r() * 2000)) * 1000, // 1..2000 sat
        timestamp: createdAt - 60 - Math.floor(r() * 600),
        tags: [
          { tag: 'p', value: paymentHash },
          { tag: 's', value: bytesToHex(randomBytes(32)) },
          { tag: 'd', value: 'Timmy job' },
          { tag: 'x', value: 3600 },
          { tag: 'c', value: 18 },
        ],
      },
      nodeKey,
    );
    invoiceMs += performance.now() - t;
    return { bolt11, preimage: bytesToHex(preimage) };
  };
  let signMs = 0;
  const sign = (k: Key, t: ReturnType<typeof jobLabelTemplate>): NostrEvent => {
    const s = performance.now();
    const e = finalizeEvent(t, k.sk, k.pk);
    signMs += performance.now() - s;
    return e;
  };
  const when = (): number => now - 1 - Math.floor(r() * 365 * DAY);

  const ratings: Record<string, number> = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  const about: NostrEvent[] = [];
  let paidAbout = 0;
  let lastLog = performance.now();
  for (let i = 0; i < plan.labels; i++) {
    // Rater i mod R: each rater labels several jobs (distinct request ids), so every label counts.
    const rater = raters[i % raters.length]!;
    const created_at = when();
    const rating = pickRating(r);
    ratings[String(rating)]!++;
    const paid = r() < plan.paidShare;
    if (paid) paidAbout++;
    const t = jobLabelTemplate({
      agent: agent.pk,
      request: bytesToHex(randomBytes(32)),
      result: bytesToHex(randomBytes(32)),
      kind: 5001,
      rating,
      ...(r() < 0.6 ? { outcome: outcomeFor(rating) } : {}),
      ...(paid ? { proof: proof(created_at) } : {}),
      created_at,
    });
    about.push(sign(rater, t));
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      log(`  generated ${fmtInt(i + 1)} / ${fmtInt(plan.labels)} labels`);
    }
  }

  // A paid record for the first `standingRaters` raters: 3..8 paid jobs each, from the customers.
  // Their quality q differs, so their standing (Wilson lower bound of that record) spreads out.
  const standing: NostrEvent[] = [];
  for (let j = 0; j < plan.standingRaters; j++) {
    const rater = raters[j]!;
    const q = 0.3 + 0.7 * r();
    const jobs = 3 + Math.floor(r() * 6);
    for (let k = 0; k < jobs; k++) {
      const customer = customers[(j * 7 + k) % customers.length]!;
      const created_at = when();
      const rating = r() < q ? 5 : 1 + Math.floor(r() * 3);
      standing.push(
        sign(
          customer,
          jobLabelTemplate({ agent: rater.pk, request: bytesToHex(randomBytes(32)), kind: 5001, rating, outcome: outcomeFor(rating), proof: proof(created_at), created_at }),
        ),
      );
    }
  }
  const total = performance.now() - t0;
  let bytes = 0;
  for (const e of about) bytes += JSON.stringify(e).length;
  return {
    agent: agent.pk,
    about,
    standing,
    raters: plan.raters,
    standingRaters: plan.standingRaters,
    customers: nCustomers,
    paidAbout,
    ratings,
    ms: { keys: tKeys - t0, invoices: invoiceMs, sign: signMs, total },
    avgBytes: bytes / Math.max(1, about.length),
  };
}

// ---- incremental ----

/** What the book keeps per agent (private): read to count reads that had to rebuild. */
type BookInternals = { subjects: Map<string, { dirty: boolean; standDirty: boolean }> };
const isDirty = (book: ReputationBook, pubkey: string): boolean => {
  const s = (book as unknown as BookInternals).subjects.get(pubkey);
  return s !== undefined && (s.dirty || s.standDirty);
};

interface Sample {
  /** Labels in the book (about the agent and about raters). */
  events: number;
  aboutAgent: number;
  /** The first score() after the add: a rebuild if the agent was dirty. */
  firstUs: number;
  firstRebuilt: boolean;
  /** Mean of the `sampleCalls` calls that followed. */
  meanUs: number;
}

interface AfterEveryAdd {
  order: string;
  events: number;
  totalMs: number;
  addMs: number;
  scoreMs: number;
  /** score() calls that found the agent dirty and rebuilt its sums from all its labels. */
  rebuilds: number;
  rebuildMs: number;
  rebuildMaxMs: number;
  /** score() calls that did not rebuild. */
  plainMeanUs: number;
  /** The agent's score after the last add (from running sums alone when rebuilds is 0). */
  finalScore: number;
}

interface IncrementalResult {
  addOnly: { events: number; ms: number; perSec: number; counted: number; ignored: Record<string, number>; badProofs: number; heapMb: number };
  samples: Sample[];
  afterEveryAdd: AfterEveryAdd[];
  score: number;
  asOf: number;
  reportWarmMs: number;
}

const byOldest = (a: NostrEvent, b: NostrEvent): number => a.created_at - b.created_at || (a.id < b.id ? -1 : 1);

function heapMb(): number {
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function incremental(plan: Plan, d: DataSet, opts: BookOptions, now: number): IncrementalResult {
  const stream = [...d.about, ...d.standing].sort(byOldest);
  const agentSet = new Set(d.about.map((e) => e.id));

  // (a) add throughput alone, no reads.
  const h0 = heapMb();
  const bookA = new ReputationBook(opts);
  let t = performance.now();
  let counted = 0;
  for (const e of stream) if (bookA.add(e).counted) counted++;
  const addMs = performance.now() - t;
  const heap = heapMb() - h0;
  const st = bookA.stats();
  log(
    `incremental, add only: ${fmtInt(stream.length)} labels in ${fmtMsec(addMs)} ms = ${fmtInt((stream.length / addMs) * 1000)} labels/s ` +
      `(${fmtInt(counted)} counted; ignored ${JSON.stringify(st.ignored)}; bad proofs ${st.badProofs}); heap grew ~${heap.toFixed(0)} MB`,
  );

  // (b) score() as the book grows: after every `sampleEvery`-th add, one call then `sampleCalls` more.
  const bookB = new ReputationBook(opts);
  const samples: Sample[] = [];
  let aboutAgent = 0;
  for (let i = 0; i < stream.length; i++) {
    const e = stream[i]!;
    bookB.add(e);
    if (agentSet.has(e.id)) aboutAgent++;
    if ((i + 1) % plan.sampleEvery !== 0 && i !== stream.length - 1) continue;
    const dirty = isDirty(bookB, d.agent);
    t = performance.now();
    let sink = bookB.score(d.agent, now);
    const first = performance.now() - t;
    t = performance.now();
    for (let k = 0; k < plan.sampleCalls; k++) sink += bookB.score(d.agent, now);
    const meanUs = ((performance.now() - t) * 1000) / plan.sampleCalls;
    if (!Number.isFinite(sink)) throw new Error('score is not a number');
    samples.push({ events: i + 1, aboutAgent, firstUs: first * 1000, firstRebuilt: dirty, meanUs });
  }
  const show = samples.filter((_, k) => k === 0 || k === samples.length - 1 || (k + 1) % Math.max(1, Math.floor(samples.length / 5)) === 0);
  for (const s of show)
    log(
      `  score() at ${fmtInt(s.aboutAgent)} labels about the agent (${fmtInt(s.events)} in the book): ${fmtUs(s.meanUs)} µs per call ` +
        `(first call after the add ${fmtUs(s.firstUs)} µs${s.firstRebuilt ? ', a rebuild' : ''})`,
    );
  const warm = samples.map((s) => s.meanUs);
  log(`incremental, score(): ${samples.length} samples of ${plan.sampleCalls} calls: median ${fmtUs(median(warm))} µs, max ${fmtUs(Math.max(...warm))} µs per call`);

  // (c) score() after every single add, in two arrival orders.
  const afterEveryAdd: AfterEveryAdd[] = [];
  const orders: [string, NostrEvent[]][] = [
    ['created_at order (raters\' paid records arrive interleaved)', stream],
    // Random order (as generated), so the running sums are summed in another order than a rebuild's.
    ['raters\' paid records first, then the agent\'s labels in random order', [...[...d.standing].sort(byOldest), ...d.about]],
  ];
  for (const [order, events] of orders) {
    if (isInterrupted()) break;
    const book = new ReputationBook(opts);
    let addT = 0;
    let scoreT = 0;
    let rebuilds = 0;
    let rebuildT = 0;
    let rebuildMax = 0;
    let sink = 0;
    const t0 = performance.now();
    for (const e of events) {
      let s = performance.now();
      book.add(e);
      const a = performance.now();
      addT += a - s;
      const dirty = isDirty(book, d.agent);
      s = performance.now();
      sink += book.score(d.agent, now);
      const q = performance.now() - s;
      scoreT += q;
      if (dirty) {
        rebuilds++;
        rebuildT += q;
        rebuildMax = Math.max(rebuildMax, q);
      }
    }
    const total = performance.now() - t0;
    if (!Number.isFinite(sink)) throw new Error('score is not a number');
    const plain = events.length - rebuilds;
    const r: AfterEveryAdd = {
      order,
      events: events.length,
      totalMs: total,
      addMs: addT,
      scoreMs: scoreT,
      rebuilds,
      rebuildMs: rebuildT,
      rebuildMaxMs: rebuildMax,
      plainMeanUs: plain > 0 ? ((scoreT - rebuildT) * 1000) / plain : 0,
      finalScore: book.score(d.agent, now),
    };
    afterEveryAdd.push(r);
    log(
      `incremental, add + score() after every add, ${order}: ${fmtS(total)} s for ${fmtInt(events.length)} labels ` +
        `(add ${fmtS(addT)} s, score ${fmtS(scoreT)} s); ${fmtInt(rebuilds)} reads rebuilt the agent's sums ` +
        `(${fmtS(rebuildT)} s in all, max ${fmtMsec(rebuildMax)} ms), the other reads ${fmtUs(r.plainMeanUs)} µs each`,
    );
  }

  t = performance.now();
  bookB.report(d.agent, { now });
  const reportWarmMs = performance.now() - t;
  log(`incremental, report() on the warm book (score already current): ${fmtMsec(reportWarmMs)} ms per call`);
  return {
    addOnly: { events: stream.length, ms: addMs, perSec: (stream.length / addMs) * 1000, counted, ignored: st.ignored, badProofs: st.badProofs, heapMb: heap },
    samples,
    afterEveryAdd,
    score: bookB.score(d.agent, now),
    asOf: now,
    reportWarmMs,
  };
}

// ---- from scratch, in memory ----

interface ScratchResult {
  order: string;
  runs: { addMs: number; reportMs: number; totalMs: number }[];
  medianMs: number;
  medianAddMs: number;
  medianReportMs: number;
  score: number;
  report: Omit<ReputationReport, 'last'>;
}

function fromScratch(plan: Plan, d: DataSet, opts: BookOptions, now: number): ScratchResult {
  // The order fetchReputation hands bookFrom: labels about the agent newest first, then the raters' labels.
  const newestFirst = (a: NostrEvent, b: NostrEvent) => byOldest(b, a);
  const events = [...[...d.about].sort(newestFirst), ...[...d.standing].sort(newestFirst)];
  const runs: ScratchResult['runs'] = [];
  let rep: ReputationReport | undefined;
  for (let i = 0; i < plan.runs; i++) {
    const t0 = performance.now();
    const book = bookFrom(events, [], opts);
    const t1 = performance.now();
    rep = book.report(d.agent, { now });
    const t2 = performance.now();
    runs.push({ addMs: t1 - t0, reportMs: t2 - t1, totalMs: t2 - t0 });
    log(`  from scratch in memory, run ${i + 1}: ${fmtMsec(t2 - t0)} ms (bookFrom ${fmtMsec(t1 - t0)} ms, report ${fmtMsec(t2 - t1)} ms)`);
  }
  const { last: _last, ...report } = rep!;
  const r: ScratchResult = {
    order: 'newest first, labels about the agent then the raters\' records (as fetchReputation passes them)',
    runs,
    medianMs: median(runs.map((x) => x.totalMs)),
    medianAddMs: median(runs.map((x) => x.addMs)),
    medianReportMs: median(runs.map((x) => x.reportMs)),
    score: rep!.score,
    report,
  };
  log(
    `from scratch in memory: bookFrom(${fmtInt(events.length)} events).report(agent): median of ${plan.runs} ${fmtMsec(r.medianMs)} ms ` +
      `(bookFrom ${fmtMsec(r.medianAddMs)} ms, report ${fmtMsec(r.medianReportMs)} ms); score ${r.score.toFixed(6)}`,
  );
  return r;
}

// ---- from scratch, from a relay ----

interface FetchRun {
  totalMs: number;
  score: number;
  asOf: number;
  labels: number;
}

interface ClientResult {
  client: string;
  runs: FetchRun[];
  medianMs: number;
  /** One more run split into its parts: collectLabels (the REQs), bookFrom + report. */
  split: { collectMs: number; bookMs: number; reqs: number; events: number; deletions: number; byClass: Record<string, ReqStat> };
  scoreDiff: number;
}

interface RelayResult {
  publish: { events: number; ms: number; perSec: number; rejected: number; firstRejection?: string };
  clients: ClientResult[];
}

/** REQs of one kind in collectLabels: how many, how long, how many events came back. */
interface ReqStat {
  reqs: number;
  ms: number;
  maxMs: number;
  events: number;
}
type ReqClass = 'labels about the agent' | 'labels about its raters' | 'deletions by the authors';

/** Counts and times the client's REQs by what they ask for (fetch.ts reads only through query()). */
function countQueries(c: NostrClient): { reqs: () => number; byClass: () => Record<string, ReqStat>; reset: () => void } {
  let by = new Map<ReqClass, ReqStat>();
  const orig = c.query.bind(c);
  c.query = async (filters, o) => {
    const f = filters[0];
    const cls: ReqClass = f?.kinds?.includes(5) ? 'deletions by the authors' : (f?.['#p']?.length ?? 0) === 1 ? 'labels about the agent' : 'labels about its raters';
    const t = performance.now();
    const out = await orig(filters, o);
    const ms = performance.now() - t;
    const s = by.get(cls) ?? { reqs: 0, ms: 0, maxMs: 0, events: 0 };
    s.reqs++;
    s.ms += ms;
    s.maxMs = Math.max(s.maxMs, ms);
    s.events += out.length;
    by.set(cls, s);
    return out;
  };
  return {
    reqs: () => [...by.values()].reduce((n, s) => n + s.reqs, 0),
    byClass: () => Object.fromEntries(by),
    reset: () => (by = new Map()),
  };
}

async function publishAll(tr: TestRelay, events: readonly NostrEvent[]): Promise<RelayResult['publish']> {
  const t0 = performance.now();
  let next = 0;
  let rejected = 0;
  let firstRejection: string | undefined;
  let lastLog = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      const e = events[i];
      if (e === undefined) return;
      const r = await tr.relay.publish(e);
      if (!r.ok) {
        rejected++;
        firstRejection ??= r.message;
      }
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`  published ${fmtInt(next)} / ${fmtInt(events.length)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 256 }, worker));
  const ms = performance.now() - t0;
  return { events: events.length, ms, perSec: (events.length / ms) * 1000, rejected, ...(firstRejection !== undefined ? { firstRejection } : {}) };
}

async function timeClient(name: string, client: NostrClient, plan: Plan, d: DataSet, reference: { score: number; asOf: number; book: ReputationBook }): Promise<ClientResult> {
  const opts = { readInvoice: readBolt11 };
  const counter = countQueries(client);
  const runs: FetchRun[] = [];
  for (let i = 0; i < plan.relayRuns; i++) {
    counter.reset();
    const t0 = performance.now();
    const rep = await fetchReputation(client, d.agent, opts);
    const ms = performance.now() - t0;
    runs.push({ totalMs: ms, score: rep.score, asOf: rep.asOf, labels: rep.counts.labels });
    log(`  ${name}, run ${i + 1}: fetchReputation ${fmtMsec(ms)} ms, ${fmtInt(counter.reqs())} REQs, ${fmtInt(rep.counts.labels)} labels about the agent, score ${rep.score.toFixed(6)}`);
  }
  // The same steps as fetchReputation, timed apart.
  counter.reset();
  let t = performance.now();
  const { labels, deletions } = await collectLabels(client, d.agent);
  const collectMs = performance.now() - t;
  const reqs = counter.reqs();
  const byClass = counter.byClass();
  t = performance.now();
  bookFrom(labels, deletions, opts).report(d.agent);
  const bookMs = performance.now() - t;
  // fetchReputation scores at the wall clock: compare at its asOf.
  const last = runs[runs.length - 1]!;
  const scoreDiff = Math.abs(last.score - reference.book.score(d.agent, last.asOf));
  const r: ClientResult = { client: name, runs, medianMs: median(runs.map((x) => x.totalMs)), split: { collectMs, bookMs, reqs, events: labels.length, deletions: deletions.length, byClass }, scoreDiff };
  log(
    `from scratch via ${name}: median of ${plan.relayRuns} ${fmtMsec(r.medianMs)} ms; split: collectLabels ${fmtMsec(collectMs)} ms (${fmtInt(reqs)} REQs, ` +
      `${fmtInt(labels.length)} labels, ${deletions.length} deletions), bookFrom + report ${fmtMsec(bookMs)} ms; |score - incremental| = ${scoreDiff.toExponential(2)}`,
  );
  for (const [cls, q] of Object.entries(byClass))
    log(`    ${cls}: ${fmtInt(q.reqs)} REQs, ${fmtMsec(q.ms)} ms (${fmtMsec(q.ms / q.reqs)} ms each, max ${fmtMsec(q.maxMs)} ms), ${fmtInt(q.events)} events returned`);
  return r;
}

async function viaRelay(plan: Plan, d: DataSet, reference: { score: number; asOf: number; book: ReputationBook }): Promise<RelayResult> {
  const tr = await startTestRelay();
  registerTempDir(tr.dataDir);
  log(`relay: EmbeddedRelay at ${tr.url} (data dir ${tr.dataDir}; ingestWorkers 2, readerThreads 2, durability normal, maxLimit ${tr.relay.cfg.maxLimit})`);
  try {
    const events = [...d.about, ...d.standing];
    const publish = await publishAll(tr, events);
    log(
      `relay: published ${fmtInt(publish.events)} labels in-process (EmbeddedRelay.publish, 256 in flight; id + signature checked on the way in) ` +
        `in ${fmtS(publish.ms)} s = ${fmtInt(publish.perSec)}/s; ${publish.rejected} rejected${publish.firstRejection ? ` (${publish.firstRejection})` : ''}`,
    );
    const clients: ClientResult[] = [];
    const inproc = await InProcessClient.open(tr.relay);
    try {
      clients.push(await timeClient('in-process client', inproc, plan, d, reference));
    } finally {
      await inproc.close();
    }
    const ws = new WsClient(tr.url, { queryTimeoutMs: 60_000 });
    try {
      if (!(await ws.waitForConnections(5000))) throw new Error(`could not connect to ${tr.url}`);
      clients.push(await timeClient('WsClient (websocket, verifies every event it receives)', ws, plan, d, reference));
    } finally {
      await ws.close();
    }
    return { publish, clients };
  } finally {
    await tr.stop();
  }
}

// ---- main ----

async function main(): Promise<void> {
  const plan = parsePlan(process.argv.slice(2));
  installCleanup();
  mkdirSync(RESULTS_DIR, { recursive: true });
  const t0 = performance.now();
  const m = machineInfo(undefined);
  log(`machine: ${m.nproc} cores (${m.cpu}), ${m.ramGiB.toFixed(1)} GiB RAM, Node ${m.node}, Linux ${m.kernel}, Timmy at ${m.timmyRev} (plus uncommitted work)`);
  log(
    `Reputation benchmark${plan.quick ? ' (--quick)' : ''}: ${fmtInt(plan.labels)} labels about one agent from ${fmtInt(plan.raters)} raters, ` +
      `${Math.round(plan.paidShare * 100)}% paid; ${plan.standingRaters} raters with a paid record of their own`,
  );
  const now = Math.floor(Date.now() / 1000);

  const d = generate(plan, now);
  log(
    `generated ${fmtInt(d.about.length)} labels about the agent (${fmtInt(d.paidAbout)} with a payment proof) + ${fmtInt(d.standing.length)} labels about ` +
      `${d.standingRaters} raters from ${d.customers} customers, in ${fmtS(d.ms.total)} s (keys ${fmtS(d.ms.keys)} s, invoices ${fmtS(d.ms.invoices)} s, ` +
      `signing ${fmtS(d.ms.sign)} s; not part of the claim); ${fmtInt(d.avgBytes)} bytes per label; ratings ${JSON.stringify(d.ratings)}`,
  );

  // What verifying every label would cost, if the book did it (it does not: the relay and the WsClient do).
  const vN = Math.min(d.about.length, 20_000);
  let t = performance.now();
  let bad = 0;
  for (let i = 0; i < vN; i++) if (!verifyEvent(d.about[i]!)) bad++;
  const verifyUs = ((performance.now() - t) * 1000) / vN;
  log(`verifyEvent (id + BIP-340 signature, libsecp256k1): ${fmtUs(verifyUs)} µs per label on one core (${fmtInt(vN)} timed${bad ? `, ${bad} INVALID` : ''})`);

  const opts: BookOptions = { readInvoice: readBolt11, now: () => now };
  const inc = incremental(plan, d, opts, now);
  const scratch = fromScratch(plan, d, opts, now);
  const memDiff = Math.abs(inc.score - scratch.score);

  let relay: RelayResult | undefined;
  let relayError: string | undefined;
  if (plan.relay && !isInterrupted()) {
    // A reference book kept incrementally (created_at order), to compare with scores at the fetches' own `asOf`.
    const ref = new ReputationBook(opts);
    for (const e of [...d.about, ...d.standing].sort(byOldest)) ref.add(e);
    try {
      relay = await viaRelay(plan, d, { score: inc.score, asOf: now, book: ref });
    } catch (err) {
      relayError = err instanceof Error ? (err.stack ?? err.message) : String(err);
      log(`relay part FAILED: ${relayError}`);
    }
  }
  if (isInterrupted()) {
    log('interrupted: no report written');
    process.exit(130);
  }

  // The book of the second order never rebuilt: its score comes from the running sums alone.
  const pure = inc.afterEveryAdd.find((a) => a.rebuilds === 0);
  const pureDiff = pure ? Math.abs(pure.finalScore - scratch.score) : undefined;
  if (pure) log(`check: score from running sums only (${pure.order}, no rebuild) ${pure.finalScore.toFixed(12)}, |diff| to from scratch ${pureDiff!.toExponential(2)}`);
  const diffs = [memDiff, ...(pureDiff !== undefined ? [pureDiff] : []), ...(relay?.clients.map((c) => c.scoreDiff) ?? [])];
  const same = diffs.every((x) => x < 1e-9);
  log(
    `check: incremental score ${inc.score.toFixed(12)}, from scratch in memory ${scratch.score.toFixed(12)} (|diff| ${memDiff.toExponential(2)})` +
      (relay ? relay.clients.map((c) => `, ${c.client.split(' (')[0]} |diff| ${c.scoreDiff.toExponential(2)}`).join('') : '') +
      `: ${same ? 'equal (< 1e-9)' : 'NOT EQUAL'}`,
  );

  // ---- summary ----
  const minutes = (performance.now() - t0) / 60_000;
  const last = inc.samples[inc.samples.length - 1]!;
  const first = inc.samples[0]!;
  const inter = inc.afterEveryAdd[0];
  const ordered = inc.afterEveryAdd[1];
  const L: string[] = [];
  L.push('## Reputation book (`npm run bench:reputation`)');
  L.push('');
  L.push(
    `Run on ${m.date} on ${m.nproc} cores (${m.cpu}), Node ${m.node}, Timmy at ${m.timmyRev} (plus uncommitted work). ` +
      `${fmtInt(d.about.length)} job labels about one agent from ${fmtInt(d.raters)} raters (${fmtInt(d.paidAbout)} with a valid payment proof), ` +
      `created_at over the last 365 days, plus ${fmtInt(d.standing.length)} paid labels about ${d.standingRaters} of the raters. ` +
      `Whole run ${minutes.toFixed(1)} min. Command: \`npm run bench:reputation${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}\`.`,
  );
  L.push('');
  L.push('| what | figure |');
  L.push('| --- | --- |');
  L.push(`| generate + sign the labels (not part of the claim) | ${fmtS(d.ms.total)} s (invoices ${fmtS(d.ms.invoices)} s, signing ${fmtS(d.ms.sign)} s) |`);
  L.push(`| incremental: add one by one, no reads | ${fmtInt(inc.addOnly.perSec)} labels/s (${fmtInt(inc.addOnly.events)} in ${fmtMsec(inc.addOnly.ms)} ms) |`);
  L.push(`| incremental: score(agent), warm, at ${fmtInt(first.aboutAgent)} labels | ${fmtUs(first.meanUs)} µs |`);
  L.push(`| incremental: score(agent), warm, at ${fmtInt(last.aboutAgent)} labels | ${fmtUs(last.meanUs)} µs |`);
  L.push(`| incremental: score(agent), warm, median over ${inc.samples.length} samples | ${fmtUs(median(inc.samples.map((s) => s.meanUs)))} µs |`);
  if (inter)
    L.push(
      `| add + score() after every add, created_at order | ${fmtS(inter.totalMs)} s; ${fmtInt(inter.rebuilds)} of ${fmtInt(inter.events)} reads rebuilt (${fmtS(inter.rebuildMs)} s, max ${fmtMsec(inter.rebuildMaxMs)} ms); other reads ${fmtUs(inter.plainMeanUs)} µs |`,
    );
  if (ordered)
    L.push(
      `| add + score() after every add, raters' records first | ${fmtS(ordered.totalMs)} s; ${fmtInt(ordered.rebuilds)} reads rebuilt (${fmtS(ordered.rebuildMs)} s); other reads ${fmtUs(ordered.plainMeanUs)} µs |`,
    );
  L.push(`| report(agent) on a warm book | ${fmtMsec(inc.reportWarmMs)} ms |`);
  L.push(`| **from scratch, in memory**: bookFrom(events).report(agent), median of ${plan.runs} | **${fmtMsec(scratch.medianMs)} ms** (bookFrom ${fmtMsec(scratch.medianAddMs)} ms, report ${fmtMsec(scratch.medianReportMs)} ms) |`);
  if (relay) {
    L.push(`| relay: publish all labels in-process (not part of the claim) | ${fmtS(relay.publish.ms)} s (${fmtInt(relay.publish.perSec)}/s, ${relay.publish.rejected} rejected) |`);
    for (const c of relay.clients)
      L.push(
        `| **from scratch, from the relay**: fetchReputation via ${c.client}, median of ${plan.relayRuns} | **${fmtMsec(c.medianMs)} ms** (collectLabels ${fmtMsec(c.split.collectMs)} ms in ${c.split.reqs} REQs, bookFrom + report ${fmtMsec(c.split.bookMs)} ms) |`,
      );
  } else if (relayError) L.push(`| from scratch, from the relay | failed: ${relayError.split('\n')[0]} |`);
  L.push(`| verifyEvent per label (relay on ingest, WsClient on receipt; not the book) | ${fmtUs(verifyUs)} µs → ${fmtMsec((verifyUs * d.about.length) / 1000)} ms for ${fmtInt(d.about.length)} |`);
  L.push(
    `| incremental score = from-scratch score | ${same ? 'yes' : '**NO**'}: ${inc.score.toFixed(9)}; max \\|diff\\| ${Math.max(...diffs).toExponential(2)}` +
      (pureDiff !== undefined ? ` (from running sums alone, never rebuilt: \\|diff\\| ${pureDiff.toExponential(2)})` : '') +
      ' |',
  );
  L.push('');
  const claim = d.about.length >= 100_000 ? '' : ` (this run has ${fmtInt(d.about.length)} labels, not 100K)`;
  L.push(`Against the claim${claim}:`);
  L.push(`- queries are O(1): score() reads the running sums in ${fmtUs(first.meanUs)} µs at ${fmtInt(first.aboutAgent)} labels and ${fmtUs(last.meanUs)} µs at ${fmtInt(last.aboutAgent)}, unless the agent was marked dirty (a rater's standing moved, a newer label replaced one, a deletion): then that one read rebuilds from all the agent's labels.`);
  L.push(`- from scratch in memory: ${fmtMsec(scratch.medianMs)} ms, ${scratch.medianMs < 1000 ? 'under' : 'OVER'} 1 s.`);
  if (relay)
    for (const c of relay.clients) L.push(`- from scratch via ${c.client}: ${fmtMsec(c.medianMs)} ms, ${c.medianMs < 1000 ? 'under' : 'OVER'} 1 s.`);
  L.push(
    '- Ids and signatures are verified when the relay ingests a label (and by the WsClient when it receives one), not by the book; the in-memory figures do not include verification.',
  );
  const md = L.join('\n');
  process.stdout.write(`\n${md}\n\n`);

  const date = new Date().toISOString().slice(0, 10);
  const file = join(RESULTS_DIR, `reputation-${date}${plan.quick ? '-quick' : ''}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        plan,
        machine: m,
        minutes,
        generation: { ...d, about: undefined, standing: undefined, aboutCount: d.about.length, standingCount: d.standing.length },
        verifyUs,
        incremental: inc,
        fromScratch: scratch,
        relay,
        relayError,
        check: { incremental: inc.score, runningSumsOnly: pure?.finalScore, fromScratch: scratch.score, diffs, equal: same },
        summary: md,
      },
      null,
      2,
    ),
  );
  log(`done in ${minutes.toFixed(1)} min; results written to ${file}`);
  process.exitCode = same && !relayError ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:reputation failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
