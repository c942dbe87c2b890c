// What the metrics cost the relay: ingest throughput of the embedded relay with the metrics
// observer (main/obs/metrics.ts: onEventDone / onQueryDone hooks, scraped every second) attached
// and not attached. The relay runs in a child process; this process publishes the same pre-signed
// events over websockets to each run (fresh data dir each time). Runs alternate off/on, the order
// flipping each round, so drift of the machine hits both sides alike.
//
//   npm run bench:obs                                  # 8 rounds x 30K events per run (~2 min)
//   npm run bench:obs -- --events 40000 --rounds 6 --conns 8 --window 200 --durability full
//
// Prints one line per run, then the median events/s of each side and the difference in %, and the
// observer's own cost per event measured in-process (no sockets: the noise-free part).
// On 2 cores single runs vary by about ±10%; the medians of 8+ rounds settle within a few %.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relayConfigSchema } from '../relay/config.js';
import { EmbeddedRelay } from '../relay/relay.js';
import { RelayCore } from '../relay/core.js';
import { emptyHooks } from '../relay/hooks.js';
import { serveRelay } from '../relay/server.js';
import { Metrics } from '../main/obs/metrics.js';
import { publish } from './lib/client.js';
import { ensureDataset, readLinesArray } from './lib/dataset.js';
import { LOG_DIR, ROOT } from './lib/paths.js';
import { installCleanup, registerTempDir, removeTempDir, spawnChild, waitReady } from './lib/proc.js';
import { fmtInt, log } from './lib/util.js';

const USAGE = 'usage: node dist/bench/obs-cost.js [--events N] [--warmup N] [--rounds N] [--conns N] [--window N] [--durability normal|full]';

function flag(argv: readonly string[], name: string, def: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return def;
  const v = Number(argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} needs a positive integer\n${USAGE}`);
  return v;
}

/** Child mode: one relay, with or without the metrics observer. */
async function serve(dataDir: string, withMetrics: boolean, durability: string): Promise<void> {
  const cfg = relayConfigSchema.parse({ durability });
  const relay = await EmbeddedRelay.open(cfg, dataDir);
  let scrape: NodeJS.Timeout | undefined;
  if (withMetrics) {
    const metrics = new Metrics();
    metrics.observeRelay(relay.core);
    // Prometheus scrapes every 15 s; every second here, to count the exposition's cost too.
    scrape = setInterval(() => void metrics.expose(), 1000);
  }
  const server = await serveRelay(relay, { host: '127.0.0.1', port: 0, version: 'bench' });
  process.stdout.write(`relay listening on ${server.url}\n`);
  const stop = async (): Promise<void> => {
    clearInterval(scrape);
    await server.close();
    await relay.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

/** The observer alone, in this process: nanoseconds per accepted and per rejected event. */
async function hookCost(): Promise<{ acceptedNs: number; rejectedNs: number; scrapeMs: number }> {
  const core = new RelayCore(relayConfigSchema.parse({ ingestWorkers: 0 }), emptyHooks());
  const metrics = new Metrics();
  metrics.observeRelay(core);
  const [h] = core.hooks.onEventDone;
  const run = (n: number, ok: boolean, msg: string): number => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) h!(0.5 + (i % 100) / 10, ok, msg);
    return ((performance.now() - t0) * 1e6) / n;
  };
  run(200_000, true, ''); // warm up the JIT
  const acceptedNs = run(1_000_000, true, '');
  const rejectedNs = run(1_000_000, false, 'blocked: not on the list');
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) await metrics.expose();
  const scrapeMs = (performance.now() - t0) / 20;
  await core.close();
  return { acceptedNs, rejectedNs, scrapeMs };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(argv: readonly string[]): Promise<void> {
  const serveAt = argv.indexOf('--serve');
  const durability = argv.includes('--durability') ? String(argv[argv.indexOf('--durability') + 1]) : 'normal';
  if (durability !== 'normal' && durability !== 'full') throw new Error(`--durability is normal or full\n${USAGE}`);
  if (serveAt >= 0) return serve(String(argv[serveAt + 1]), argv.includes('--metrics'), durability);

  const events = flag(argv, '--events', 30_000);
  const warmup = flag(argv, '--warmup', 2_000);
  const rounds = flag(argv, '--rounds', 8);
  const conns = flag(argv, '--conns', 8);
  const window = flag(argv, '--window', 200);
  installCleanup();
  mkdirSync(LOG_DIR, { recursive: true });
  log(`signing or reading ${fmtInt(warmup + events)} events (cached in bench/results/cache)`);
  await ensureDataset('fresh', warmup + events);
  const lines = (await readLinesArray('fresh', 0, warmup + events)).map((l) => `["EVENT",${l}]`);
  const warm = lines.slice(0, warmup);
  const measured = lines.slice(warmup);
  const self = fileURLToPath(import.meta.url);
  const results: Record<'off' | 'on', number[]> = { off: [], on: [] };

  log(`${rounds} rounds; each run: ${fmtInt(warmup)} warm-up + ${fmtInt(events)} measured events, ${conns} connections x ${window} in flight, durability ${durability}`);
  for (let round = 0; round < rounds; round++) {
    const order: ('off' | 'on')[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
    for (const mode of order) {
      const dir = mkdtempSync(join(tmpdir(), `timmy-obs-${mode}-`));
      registerTempDir(dir);
      const args = [self, '--serve', dir, '--durability', durability, ...(mode === 'on' ? ['--metrics'] : [])];
      const child = spawnChild(process.execPath, args, { cwd: ROOT, logFile: join(LOG_DIR, 'obs-cost.log'), label: `relay (metrics ${mode})` });
      try {
        const url = await waitReady(child, 60_000, 'relay');
        await publish(url, warm, conns, window, 120_000);
        const r = await publish(url, measured, conns, window, 600_000);
        if (r.timedOut || r.okTrue !== measured.length) throw new Error(`run incomplete: ${r.okTrue} ok, ${r.okFalse} rejected (${r.firstRejection ?? ''}), ${r.duplicates} duplicates`);
        results[mode].push(r.eventsPerSec);
        log(`round ${round + 1} metrics ${mode.padEnd(3)}: ${fmtInt(r.eventsPerSec)} events/s (${(r.elapsedMs / 1000).toFixed(2)} s)`);
      } finally {
        await child.stop();
        removeTempDir(dir);
      }
    }
  }
  const off = median(results.off);
  const on = median(results.on);
  const diff = ((on - off) / off) * 100;
  log(`median without metrics: ${fmtInt(off)} events/s`);
  log(`median with metrics:    ${fmtInt(on)} events/s`);
  log(`difference: ${diff >= 0 ? '+' : ''}${diff.toFixed(1)}% (budget: no worse than -5%)`);
  const cost = await hookCost();
  log(
    `the observer alone: ${cost.acceptedNs.toFixed(0)} ns per accepted event, ${cost.rejectedNs.toFixed(0)} ns per rejected one; ` +
      `a scrape of the relay metrics takes ${cost.scrapeMs.toFixed(2)} ms`,
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
