// Memory benchmark: retrieval quality and vector-search speed of the semantic memory (memory/store.ts),
// against the issue's "Quality, measured": hybrid beats plain hashing on nDCG@10 by a clear margin;
// p50 < 10 ms at 100K with recall@10 >= 0.95 against exact search. A benchmark that prints figures, not a test.
//
//   npm run bench:memory                                  # quality + speed at 10K and 100K rows (~1-2 min on 2 cores)
//   npm run bench:memory -- --sizes 10000,100000,1000000  # 1M too: 2-4 min more to build, 3.7 GB of temp disk
//   npm run bench:memory -- [--only quality|speed] [--queries N] [--dims 384] [--seed N] [--oversample 10,40] [--json]
//   (--queries, --dims, --seed and --oversample are for the speed part: query vectors per size, vector length,
//   the random seed, and the store's shortlist factors to compare, default its own)
//
// 1. Quality: the hand-written collection in bench/data/memory/ (documents, queries, graded judgements;
//    see its README) goes into a fresh store per method; each query is searched and the top 10 scored with
//    nDCG@10 (gain 2^rel - 1, discount log2(rank + 1)) and recall@10. Methods: plain feature hashing
//    (vector mode), BM25 alone, the default embedder (vector mode), hybrid (default embedder). Every
//    memory has the same createdAt and importance, and `now` is fixed, so recency and importance are neutral.
// 2. Speed: N random unit vectors (seeded) are inserted through the store's addMany (an embedder that
//    hands out random vectors); then 100 random query vectors through searchVector, exact and quantised,
//    timed one by one (p50/p99), with recall@10 of the quantised top 10 against the exact top 10.
//    Random vectors in 384 dims are nearly equidistant: the hardest case for a quantised shortlist.
// Prints progress lines, then a markdown report; the raw figures go to bench/results/memory-<date>.json
// (`--json` prints them on stdout instead of the markdown, progress going to stderr).
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Embedder } from '../memory/embedder.js';
import { hashingEmbedder } from '../memory/embedders/hashing.js';
import { defaultEmbedder } from '../memory/embedders/ngram.js';
import { MemoryStore } from '../memory/store.js';
import { machineInfo } from './lib/report.js';
import { RESULTS_DIR } from './lib/paths.js';
import { readCollection, type Doc, type Query } from './lib/memory-data.js';
import { rng } from './lib/events.js';
import { installCleanup, isInterrupted, registerTempDir, removeTempDir } from './lib/proc.js';
import { fmtInt, fmtMs, mean, percentile } from './lib/util.js';

interface Plan {
  only?: 'quality' | 'speed';
  sizes: number[];
  queries: number;
  dims: number;
  seed: number;
  /** Shortlist factors to measure (undefined: the store's default). */
  oversample: (number | undefined)[];
  json: boolean;
}

const USAGE = `usage: node dist/bench/memory.js [--only quality|speed] [--sizes 10000,100000[,1000000]] [--queries N] [--dims 384] [--seed N]
       [--oversample 10,40] [--json]`;

function parsePlan(argv: readonly string[]): Plan {
  const plan: Plan = { sizes: [10_000, 100_000], queries: 100, dims: 384, seed: 42, oversample: [undefined], json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const int = (v: string): number => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${a} needs positive whole numbers, got ${v}\n${USAGE}`);
      return n;
    };
    switch (a) {
      case '--only': {
        const v = val();
        if (v !== 'quality' && v !== 'speed') throw new Error(`--only is quality or speed\n${USAGE}`);
        plan.only = v;
        break;
      }
      case '--sizes':
        plan.sizes = [...new Set(val().split(',').map((x) => int(x.trim())))].sort((x, y) => x - y);
        break;
      case '--queries':
        plan.queries = int(val());
        break;
      case '--dims':
        plan.dims = int(val());
        break;
      case '--seed':
        plan.seed = int(val());
        break;
      case '--oversample':
        plan.oversample = [...new Set(val().split(',').map((x) => int(x.trim())))];
        break;
      case '--json':
        plan.json = true;
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
  return plan;
}

let quiet = false;
/** Progress lines: on stderr under --json so stdout stays one JSON document. */
function log(msg: string): void {
  const line = `[${new Date().toISOString().slice(11, 19)}] ${msg}\n`;
  (quiet ? process.stderr : process.stdout).write(line);
}

// ---- the collection and the measures ----



/** nDCG@k with graded gains (2^rel - 1) / log2(i + 2), i the 0-based rank; the ideal ranks the judged docs by grade. */
function ndcgAt(ranked: readonly string[], relevant: Readonly<Record<string, number>>, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, i) => {
    const rel = relevant[id] ?? 0;
    if (rel > 0) dcg += (2 ** rel - 1) / Math.log2(i + 2);
  });
  const ideal = Object.values(relevant)
    .filter((r) => r > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  let idcg = 0;
  ideal.forEach((rel, i) => (idcg += (2 ** rel - 1) / Math.log2(i + 2)));
  return idcg === 0 ? 0 : dcg / idcg;
}

/** Share of the judged (grade > 0) documents found in the top k. */
function recallAt(ranked: readonly string[], relevant: Readonly<Record<string, number>>, k: number): number {
  const judged = Object.keys(relevant).filter((id) => (relevant[id] ?? 0) > 0);
  if (judged.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return judged.filter((id) => top.has(id)).length / judged.length;
}

// ---- 1. quality ----

type Mode = 'vector' | 'bm25' | 'hybrid';
interface Method {
  name: string;
  embedder: () => Embedder;
  mode: Mode;
}
interface QualityResult {
  method: string;
  embedder: string;
  mode: Mode;
  ndcg10: number;
  recall10: number;
  /** Queries whose top 10 holds no judged document. */
  misses: number;
  /** The same measures per query style (see the collection's README). */
  byStyle: Record<string, { queries: number; ndcg10: number; recall10: number }>;
  buildMs: number;
  queryMeanMs: number;
  perQuery: { id: string; style: string; ndcg10: number; recall10: number; top3: string[] }[];
}

const METHODS: readonly Method[] = [
  { name: 'plain feature hashing (vector)', embedder: () => hashingEmbedder(), mode: 'vector' },
  { name: 'BM25 alone (FTS5)', embedder: () => hashingEmbedder(), mode: 'bm25' },
  { name: 'default embedder (vector)', embedder: () => defaultEmbedder(), mode: 'vector' },
  { name: 'hybrid (default embedder + BM25)', embedder: () => defaultEmbedder(), mode: 'hybrid' },
];

const K = 10;
/** One instant for every memory and every search: recency is the same for all, so it cannot reorder. */
const T0 = Date.UTC(2026, 0, 1) / 1000; // unix seconds, as the store keeps them

async function quality(docs: readonly Doc[], queries: readonly Query[], work: string): Promise<QualityResult[]> {
  const out: QualityResult[] = [];
  for (const [i, m] of METHODS.entries()) {
    if (isInterrupted()) break;
    const embedder = m.embedder();
    const store = MemoryStore.open(join(work, `quality-${i}.sqlite`), embedder);
    try {
      let t = performance.now();
      const rows = await store.addMany(
        docs.map((d) => ({ text: d.text, kind: 'semantic' as const, owner: 'bench', tags: [d.id], importance: 0.5, createdAt: T0 })),
      );
      const buildMs = performance.now() - t;
      // Row id -> doc id, in case the store normalises or drops tags: addMany returns rows in input order.
      const docOf = new Map<number, string>();
      rows.forEach((r, j) => docOf.set(r.id, docs[j]!.id));
      const perQuery: QualityResult['perQuery'] = [];
      const times: number[] = [];
      for (const q of queries) {
        t = performance.now();
        const hits = await store.search(q.text, { limit: K, mode: m.mode, now: T0, touch: false });
        times.push(performance.now() - t);
        const ranked = hits.map((h) => docOf.get(h.memory.id) ?? h.memory.tags?.[0] ?? `#${h.memory.id}`);
        perQuery.push({ id: q.id, style: q.style ?? 'paraphrase', ndcg10: ndcgAt(ranked, q.relevant, K), recall10: recallAt(ranked, q.relevant, K), top3: ranked.slice(0, 3) });
      }
      const r: QualityResult = {
        method: m.name,
        embedder: `${embedder.id} v${embedder.version}`,
        mode: m.mode,
        ndcg10: mean(perQuery.map((p) => p.ndcg10)) ?? 0,
        recall10: mean(perQuery.map((p) => p.recall10)) ?? 0,
        misses: perQuery.filter((p) => p.recall10 === 0).length,
        byStyle: byStyle(perQuery),
        buildMs,
        queryMeanMs: mean(times) ?? 0,
        perQuery,
      };
      log(`quality: ${m.name}: nDCG@10 ${r.ndcg10.toFixed(3)}, recall@10 ${r.recall10.toFixed(3)}, ${r.misses} queries with nothing relevant in the top 10`);
      out.push(r);
    } finally {
      store.close();
      await embedder.close?.();
    }
  }
  return out;
}

function byStyle(perQuery: QualityResult['perQuery']): QualityResult['byStyle'] {
  const out: QualityResult['byStyle'] = {};
  for (const style of [...new Set(perQuery.map((p) => p.style))].sort().reverse()) {
    const ps = perQuery.filter((p) => p.style === style);
    out[style] = { queries: ps.length, ndcg10: mean(ps.map((p) => p.ndcg10)) ?? 0, recall10: mean(ps.map((p) => p.recall10)) ?? 0 };
  }
  return out;
}

// ---- 2. speed ----


/** A unit vector uniform on the sphere: normal coordinates (Box-Muller), then normalised. */
function randomUnit(dims: number, next: () => number): Float32Array {
  const v = new Float32Array(dims);
  let s = 0;
  for (let i = 0; i < dims; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - next()));
    const th = 2 * Math.PI * next();
    v[i] = r * Math.cos(th);
    if (i + 1 < dims) v[i + 1] = r * Math.sin(th);
  }
  for (let i = 0; i < dims; i++) s += v[i]! * v[i]!;
  const k = 1 / Math.sqrt(s);
  for (let i = 0; i < dims; i++) v[i]! *= k;
  return v;
}

/** Hands out random unit vectors whatever the text: the rows go in through the store's own write path. */
function randomEmbedder(dims: number, seed: number): Embedder {
  const next = rng(seed);
  return {
    id: 'bench-random',
    version: 1,
    dimensions: dims,
    async embed(texts) {
      return texts.map(() => randomUnit(dims, next));
    },
  };
}

interface LatencyStat {
  p50: number;
  p99: number;
  mean: number;
}
interface SpeedResult {
  rows: number;
  /** The store's shortlist factor (shortlist = limit x oversample); undefined: the store's default. */
  oversample?: number;
  buildMs: number;
  rowsPerSec: number;
  exact: LatencyStat;
  quantised: LatencyStat;
  /** Mean |quantised top 10 ∩ exact top 10| / 10. */
  recall10: number;
  minRecall10: number;
  /** The SQLite file plus its WAL. */
  dbBytes: number;
}

const BATCH = 5_000;

function stat(xs: readonly number[]): LatencyStat {
  return { p50: percentile(xs, 50) ?? NaN, p99: percentile(xs, 99) ?? NaN, mean: mean(xs) ?? NaN };
}

function fileBytes(file: string): number {
  let n = 0;
  for (const f of [file, `${file}-wal`]) {
    try {
      n += statSync(f).size;
    } catch {
      /* no WAL */
    }
  }
  return n;
}

/** Fills a fresh store file with n random unit vectors through addMany; returns the build time. */
async function build(file: string, n: number, plan: Plan): Promise<number> {
  const store = MemoryStore.open(file, randomEmbedder(plan.dims, plan.seed));
  try {
    log(`speed: inserting ${fmtInt(n)} random ${plan.dims}-dim unit vectors through addMany (batches of ${fmtInt(BATCH)})`);
    const t = performance.now();
    let lastLog = t;
    for (let done = 0; done < n && !isInterrupted(); done += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, n - done) }, (_, j) => ({
        text: `row ${done + j}`,
        kind: 'semantic' as const,
        owner: 'bench',
        importance: 0.5,
        createdAt: T0,
      }));
      await store.addMany(batch);
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`speed: ${fmtInt(done + batch.length)} of ${fmtInt(n)} rows, ${((lastLog - t) / 1000).toFixed(0)} s`);
      }
    }
    const ms = performance.now() - t;
    log(`speed: ${fmtInt(n)} rows in ${(ms / 1000).toFixed(1)} s`);
    return ms;
  } finally {
    store.close();
  }
}

/** Times exact and quantised searchVector on a built store, one query at a time. */
function measure(file: string, plan: Plan, oversample: number | undefined): Omit<SpeedResult, 'rows' | 'buildMs' | 'rowsPerSec' | 'dbBytes'> {
  // Same id and dimensions as the build's embedder: the store reopens the same vector space.
  const store = MemoryStore.open(file, randomEmbedder(plan.dims, plan.seed), oversample !== undefined ? { oversample } : {});
  try {
    const next = rng(plan.seed + 1);
    const qs = Array.from({ length: plan.queries }, () => randomUnit(plan.dims, next));
    const opts = { limit: K, now: T0, touch: false } as const;
    // Warm-up: page cache, prepared statements, the in-memory code cache; not timed.
    for (const q of qs.slice(0, 5)) {
      store.searchVector(q, { ...opts, exact: true });
      store.searchVector(q, { ...opts, exact: false });
    }
    const exactMs: number[] = [];
    const quantMs: number[] = [];
    const recalls: number[] = [];
    // Exact and quantised alternate per query, so a busy neighbour on the machine slows both alike.
    for (const q of qs) {
      let s = performance.now();
      const exact = store.searchVector(q, { ...opts, exact: true });
      exactMs.push(performance.now() - s);
      s = performance.now();
      const quant = store.searchVector(q, { ...opts, exact: false });
      quantMs.push(performance.now() - s);
      const truth = new Set(exact.map((h) => h.memory.id));
      recalls.push(quant.filter((h) => truth.has(h.memory.id)).length / Math.max(1, truth.size));
    }
    return {
      ...(oversample !== undefined ? { oversample } : {}),
      exact: stat(exactMs),
      quantised: stat(quantMs),
      recall10: mean(recalls) ?? 0,
      minRecall10: Math.min(...recalls),
    };
  } finally {
    store.close();
  }
}

async function speed(plan: Plan, work: string): Promise<SpeedResult[]> {
  const out: SpeedResult[] = [];
  for (const n of plan.sizes) {
    if (isInterrupted()) break;
    const file = join(work, `speed-${n}.sqlite`);
    const buildMs = await build(file, n, plan);
    for (const oversample of plan.oversample) {
      if (isInterrupted()) break;
      const r: SpeedResult = { rows: n, buildMs, rowsPerSec: (n * 1000) / buildMs, ...measure(file, plan, oversample), dbBytes: fileBytes(file) };
      log(
        `speed: ${fmtInt(n)} rows${oversample !== undefined ? `, oversample ${oversample}` : ''}: exact p50 ${fmtMs(r.exact.p50)} ms p99 ${fmtMs(r.exact.p99)} ms; ` +
          `quantised p50 ${fmtMs(r.quantised.p50)} ms p99 ${fmtMs(r.quantised.p99)} ms; recall@10 ${r.recall10.toFixed(3)} (min ${r.minRecall10.toFixed(1)})`,
      );
      out.push(r);
    }
    rmSync(file, { force: true });
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
  }
  return out;
}

// ---- report ----

function report(plan: Plan, m: ReturnType<typeof machineInfo>, load: readonly number[], docs: number, queries: number, q: QualityResult[], s: SpeedResult[], minutes: number): string {
  const L: string[] = [];
  L.push('## Semantic memory (`npm run bench:memory`)');
  L.push('');
  L.push(
    `Run on ${m.date} on ${m.nproc} cores (${m.cpu}), Node ${m.node}, Timmy at ${m.timmyRev} (plus uncommitted work). ` +
      `Load average (1 min) ${load.map((x) => x.toFixed(1)).join(' at the start, ')} at the end: latencies are those of a ${load.some((x) => x > m.nproc) ? 'shared, busy' : 'quiet'} machine. ` +
      `Whole run ${minutes.toFixed(1)} min. Command: \`npm run bench:memory${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}\`.`,
  );
  if (q.length > 0) {
    L.push('');
    L.push(
      `Quality over the hand-written collection in \`bench/data/memory/\`: ${docs} memories, ${queries} queries with graded judgements, ` +
        'the relevant memories written in other words than the query (see its README). Recency and importance neutral. ' +
        '"build" is embedding and inserting the memories (the first default-embedder build includes loading WordNet); ' +
        '"mean query" is one `search()` call, embedding the query included.',
    );
    L.push('');
    const styles = Object.entries(q[0]!.byStyle).map(([style, v]) => [style, v.queries] as const);
    L.push(
      `| method | embedder | nDCG@10 | recall@10 | ${styles.map(([st, n]) => `nDCG@10 / recall@10, ${n} ${st}`).join(' | ')} | no hit in top 10 | build | mean query |`,
    );
    L.push(`| --- | --- | --- | --- | ${styles.map(() => '--- | ').join('')}--- | --- | --- |`);
    for (const r of q)
      L.push(
        `| ${r.method} | ${r.embedder} | **${r.ndcg10.toFixed(3)}** | ${r.recall10.toFixed(3)} | ` +
          styles.map(([st]) => `${r.byStyle[st]?.ndcg10.toFixed(3) ?? 'n/a'} / ${r.byStyle[st]?.recall10.toFixed(3) ?? 'n/a'} | `).join('') +
          `${r.misses} of ${r.perQuery.length} | ${fmtMs(r.buildMs)} ms | ${fmtMs(r.queryMeanMs)} ms |`,
      );
    const hashing = q.find((r) => r.mode === 'vector' && r.embedder.startsWith('hashing'));
    const hybrid = q.find((r) => r.mode === 'hybrid');
    if (hashing && hybrid)
      L.push(
        '',
        `Hybrid against plain hashing: nDCG@10 ${hybrid.ndcg10.toFixed(3)} vs ${hashing.ndcg10.toFixed(3)} ` +
          `(${hashing.ndcg10 > 0 ? `×${(hybrid.ndcg10 / hashing.ndcg10).toFixed(2)}` : 'hashing scores 0'}, +${(hybrid.ndcg10 - hashing.ndcg10).toFixed(3)}).`,
      );
  }
  if (s.length > 0) {
    L.push('');
    L.push(
      `Speed: random ${plan.dims}-dim unit vectors (seed ${plan.seed}) inserted through \`addMany\`; ${plan.queries} random query vectors ` +
        'through `searchVector`, limit 10, one at a time; recall@10 of the quantised top 10 against the exact top 10.',
    );
    L.push('');
    L.push('| rows | build | file | oversample | exact p50 | exact p99 | quantised p50 | quantised p99 | recall@10 (min) |');
    L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of s)
      L.push(
        `| ${fmtInt(r.rows)} | ${(r.buildMs / 1000).toFixed(1)} s (${fmtInt(r.rowsPerSec)}/s) | ${(r.dbBytes / 2 ** 20).toFixed(0)} MB | ${r.oversample ?? 'default'} | ` +
          `${fmtMs(r.exact.p50)} ms | ${fmtMs(r.exact.p99)} ms | ${fmtMs(r.quantised.p50)} ms | ${fmtMs(r.quantised.p99)} ms | ${r.recall10.toFixed(3)} (${r.minRecall10.toFixed(1)}) |`,
      );
    const at100k = s.find((r) => r.rows === 100_000 && r.oversample === undefined) ?? s.find((r) => r.rows === 100_000);
    if (at100k)
      L.push(
        '',
        `Against the target at 100K (p50 < 10 ms, recall@10 >= 0.95), oversample ${at100k.oversample ?? 'default'}: quantised p50 ${fmtMs(at100k.quantised.p50)} ms ` +
          `(${at100k.quantised.p50 < 10 ? 'met' : 'NOT met'}), recall@10 ${at100k.recall10.toFixed(3)} (${at100k.recall10 >= 0.95 ? 'met' : 'NOT met'}).`,
      );
  }
  return L.join('\n');
}

async function main(): Promise<void> {
  const plan = parsePlan(process.argv.slice(2));
  quiet = plan.json;
  installCleanup();
  const t0 = performance.now();
  const m = machineInfo(undefined);
  const load = [loadavg()[0]!];
  const work = mkdtempSync(join(tmpdir(), 'timmy-bench-memory-'));
  registerTempDir(work);
  const docs = readCollection<Doc>('docs.jsonl');
  const queries = readCollection<Query>('queries.jsonl');
  log(`collection: ${docs.length} memories, ${queries.length} queries; work dir ${work}`);
  try {
    const q = plan.only === 'speed' ? [] : await quality(docs, queries, work);
    const s = plan.only === 'quality' ? [] : await speed(plan, work);
    if (isInterrupted()) {
      log('interrupted: no report written');
      process.exit(130);
    }
    const minutes = (performance.now() - t0) / 60_000;
    load.push(loadavg()[0]!);
    const md = report(plan, m, load, docs.length, queries.length, q, s, minutes);
    const results = { plan, machine: m, loadAverage: { start: load[0], end: load[1] }, minutes, collection: { docs: docs.length, queries: queries.length }, quality: q, speed: s, summary: md };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `memory-${new Date().toISOString().slice(0, 10)}.json`);
    writeFileSync(file, JSON.stringify(results, null, 2));
    if (plan.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else process.stdout.write(`\n${md}\n\n`);
    log(`done in ${minutes.toFixed(1)} min; results written to ${file}`);
  } finally {
    removeTempDir(work);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:memory failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
