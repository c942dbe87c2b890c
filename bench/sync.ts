// Negentropy sync benchmark (NIP-77): two embedded relays holding 100K events that differ by 1%
// (0.5% only on each side) reconcile and exchange the difference over a websocket. Prints the time
// to reconcile, the time to converge, round trips and bytes each way, next to what sending every
// id would cost. A benchmark that prints figures, not a test.
//
//   npm run bench:sync                       # 100K events, 1% apart
//   npm run bench:sync -- --events 20000 --diff 0.01 [--frame 60000]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import os from 'node:os';
import { relayConfigSchema } from '../relay/config.js';
import { EmbeddedRelay } from '../relay/relay.js';
import { serveRelay } from '../relay/server.js';
import { negentropySync, relayLocal } from '../relay/sync.js';
import { importJsonl } from '../main/transfer.js';
import { ensureDataset, readLinesArray } from './lib/dataset.js';
import { machineInfo } from './lib/report.js';
import { installCleanup, registerTempDir } from './lib/proc.js';
import { fmtInt, log } from './lib/util.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

async function main(): Promise<void> {
  installCleanup();
  const events = arg('events', 100_000);
  const diff = arg('diff', 0.01);
  const frame = arg('frame', 60_000);
  const every = Math.max(2, Math.round(2 / diff)); // each side lacks one event in `every`, at different offsets
  log(`sync bench: ${fmtInt(events)} events, ${(diff * 100).toFixed(2)}% apart, frame ${fmtInt(frame)} bytes`);
  await ensureDataset('stored', events);
  const lines = await readLinesArray('stored', 0, events);
  const dir = mkdtempSync(join(tmpdir(), 'timmy-bench-sync-'));
  registerTempDir(dir);
  const sides = { a: join(dir, 'a'), b: join(dir, 'b') };
  writeFileSync(join(dir, 'a.jsonl'), lines.filter((_, i) => i % every !== 0).join('\n') + '\n');
  writeFileSync(join(dir, 'b.jsonl'), lines.filter((_, i) => i % every !== Math.floor(every / 2)).join('\n') + '\n');
  for (const s of ['a', 'b'] as const) {
    const t = performance.now();
    const r = await importJsonl(sides[s], join(dir, `${s}.jsonl`), { workers: os.availableParallelism(), progress: () => undefined });
    log(`relay ${s}: imported ${fmtInt(r.stored)} events in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const cfg = relayConfigSchema.parse({ durability: 'normal', negentropy: { frameSizeLimit: frame } });
  const a = await EmbeddedRelay.open(cfg, sides.a);
  const b = await EmbeddedRelay.open(cfg, sides.b);
  const server = await serveRelay(b, { host: '127.0.0.1', port: 0, version: 'bench' });
  try {
    const r = await negentropySync(server.url, {}, relayLocal(a), { direction: 'both', frameSizeLimit: frame, timeoutMs: 120_000 });
    const [ca, cb] = [(await a.records({})).records.length, (await b.records({})).records.length];
    const naiveBytes = (events - events / every) * 64;
    const out = {
      machine: machineInfo(undefined),
      date: new Date().toISOString().slice(0, 10),
      events,
      differencePct: diff * 100,
      frameSizeLimit: frame,
      have: r.have,
      need: r.need,
      rounds: r.rounds,
      reconcileMs: Math.round(r.reconcileMs),
      totalMs: Math.round(r.ms),
      negentropyBytesSent: r.bytesSent,
      bytesReceived: r.bytesReceived,
      naiveIdListBytes: naiveBytes,
      converged: ca === cb,
      storedAfter: { a: ca, b: cb },
    };
    console.log(JSON.stringify(out, null, 2));
    console.log(`\n| events | difference | rounds | reconcile | converge (incl. transfer) | sent | received | all ids as hex |`);
    console.log(`|---|---|---|---|---|---|---|---|`);
    console.log(`| ${fmtInt(events)} | ${out.differencePct}% (${r.have} + ${r.need}) | ${r.rounds} | ${out.reconcileMs} ms | ${out.totalMs} ms | ${fmtInt(r.bytesSent)} B | ${fmtInt(r.bytesReceived)} B | ${fmtInt(naiveBytes)} B |`);
  } finally {
    await server.close();
    await a.close();
    await b.close();
  }
}

main().catch((err: unknown) => {
  console.error(`bench:sync failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
