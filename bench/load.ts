// Load and abuse benchmark of the embedded relay ("Crash anywhere, lose nothing": abuse and load).
//
//   npm run bench:load                                   # all phases, 10,000 connections, 20 s each (~5 min)
//   npm run bench:load -- --connections 2000 --seconds 10 --phase a,b,e
//   npm run bench:load -- --soak 60                      # the 1-hour soak: memory every minute
//   npm run bench:load -- --soak 5 --sample-seconds 30   # a short soak
//
// The relay runs in a child process (bench/load-relay.ts: the real EmbeddedRelay and websocket
// server, default limits, `rateLimits.exemptIps: []`), seeded with 10,000 events. Attackers connect
// from loopback aliases 127.x.y.z. During each phase a well-behaved client (bench/load-probe.ts, on its
// own thread, from 127.0.9.1) publishes or queries every 50 ms; its p50/p99 latency is reported with
// what the attackers got back and the relay's RSS (from /proc/<pid>/status) before, at peak and after.
// Phases: a idle connections, b publisher flood from one IP, c flood from many keys and IPs,
// d REQ flood with expensive filters, e slow readers, f oversized frames, g subscription hoarders.
// The idle connections of (a) stay open through the later phases.
//
// 10,000 connections need about 10,000 file descriptors in each process: `ulimit -n 20000` first.
import { availableParallelism, cpus, totalmem } from 'node:os';
import { execSync } from 'node:child_process';
import type WebSocket from 'ws';
import { relayConfigSchema } from '../relay/config.js';
import {
  growth,
  hoarders,
  idleConnections,
  LOAD_RELAY_CONFIG,
  MB,
  oversized,
  Probe,
  publishFlood,
  reqFlood,
  runPhase,
  slowReaders,
  soak,
  startRelayChild,
  type PhaseResult,
} from './load-lib.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const connections = Number(arg('connections') ?? 10_000);
const seconds = Number(arg('seconds') ?? 20);
const phases = (arg('phase') ?? 'a,b,c,d,e,f,g').split(',');
const soakMinutes = arg('soak') === undefined ? undefined : Number(arg('soak'));
const sampleSeconds = Number(arg('sample-seconds') ?? 60);
const seedCount = Number(arg('seed') ?? 10_000);

const log = (s: string): void => void process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const d = relayConfigSchema.parse({});

const fdSoft = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
if (Number.isFinite(fdSoft) && fdSoft < connections + 1000) log(`warning: ulimit -n is ${fdSoft}; ${connections} connections need more (run \`ulimit -n 20000\` first)`);

const relay = await startRelayChild(LOAD_RELAY_CONFIG);
process.on('exit', () => {
  try {
    process.kill(relay.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
});
log(`relay pid ${relay.pid} at ${relay.url}; RSS ${MB(relay.rss())}`);
const t0 = performance.now();
const stored = await relay.seed(seedCount);
log(`seeded ${stored} events in ${((performance.now() - t0) / 1000).toFixed(1)} s; RSS ${MB(relay.rss())}`);
const machine = `${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;

if (soakMinutes !== undefined) {
  log(`soak: ${soakMinutes} min, sample every ${sampleSeconds} s`);
  const { samples, tally } = await soak(relay, { seconds: soakMinutes * 60, sampleSeconds, idle: 500, subscribers: 100, eventsPerSecond: 40, reqsPerSecond: 20 }, (s) =>
    log(`  t=${s.minute.toFixed(1)} min  RSS ${MB(s.rss)}  heap ${MB(s.heapUsed)}  connections ${s.connections}  subscriptions ${s.subscriptions}  stored+${s.accepted}`),
  );
  const r = growth(samples, 'rss');
  const h = growth(samples, 'heapUsed');
  log(`soak done: RSS ${MB(r.first)} -> ${MB(r.last)} (${r.delta >= 0 ? '+' : ''}${MB(r.delta)}; slope ${MB(r.perHour)}/hour), heap ${MB(h.first)} -> ${MB(h.last)} (slope ${MB(h.perHour)}/hour)`);
  log(`soak traffic answers: ${tally.summary(8)}`);
  console.log(`\n| soak | minutes | relay RSS first → last | RSS slope | heap first → last | heap slope |\n|---|---|---|---|---|---|`);
  console.log(`| ${machine} | ${soakMinutes} | ${MB(r.first)} → ${MB(r.last)} | ${MB(r.perHour)}/h | ${MB(h.first)} → ${MB(h.last)} | ${MB(h.perHour)}/h |`);
  await relay.stop();
  process.exit(0);
}

const probe = Probe.start(relay.url);
const results: PhaseResult[] = [];
const idleSocks: WebSocket[] = [];
const run = async (id: string, name: string, limit: string, attack: Parameters<typeof runPhase>[4]): Promise<void> => {
  if (!phases.includes(id)) return;
  results.push(await runPhase(relay, probe, `(${id}) ${name}`, limit, attack, seconds, log));
};

{
  // Baseline: the probe alone.
  await probe.take();
  await new Promise((r) => setTimeout(r, 5000));
  const s = await probe.take();
  const { percentile } = await import('./load-lib.js');
  log(`baseline: good client p50 ${percentile(s.all, 50).toFixed(1)} ms, p99 ${percentile(s.all, 99).toFixed(1)} ms (n=${s.all.length}); relay RSS ${MB(relay.rss())}`);
}

await run('a', `${connections.toLocaleString('en-US')} idle connections`, `maxConnections (${d.maxConnections}), maxConnectionsPerIp (${d.maxConnectionsPerIp})`, idleConnections(relay.url, connections, { maxPerIp: d.maxConnectionsPerIp, keep: idleSocks }));
await run('b', 'publisher flood, one IP', `rateLimits.eventsPerIp (${d.rateLimits.eventsPerIp.perSecond}/s, burst ${d.rateLimits.eventsPerIp.burst})`, publishFlood(relay.url, { ips: 1, connsPerIp: 8, keys: 50, pool: 5000, window: 100, block: 3, label: 'one-ip' }));
await run('c', 'flood, many keys and IPs', `eventsPerIp × addresses; eventsPerPubkey (${d.rateLimits.eventsPerPubkey.perSecond}/s)`, publishFlood(relay.url, { ips: 50, connsPerIp: 2, keys: 1000, pool: 10_000, window: 20, block: 4, label: 'many' }));
await run('d', 'REQ flood, expensive filters', `reqsPerIp (${d.rateLimits.reqsPerIp.perSecond}/s), maxFilterValues (${d.maxFilterValues}), maxFilters (${d.maxFilters}), maxLimit (${d.maxLimit}), queryBudgetMs (${d.queryBudgetMs})`, reqFlood(relay.url, { ips: 20, connsPerIp: 2, inFlight: 4, block: 5 }));
await run('e', 'slow readers', `maxBufferedBytes (${MB(d.maxBufferedBytes)})`, slowReaders(relay.url, { ips: 4, connsPerIp: 5, everyMs: 250, block: 6, relay }));
await run('f', 'oversized frames', `maxMessageLength (${d.maxMessageLength / 1024} KB); ws maxPayload (${Math.max(4 * d.maxMessageLength, 4 * 2 ** 20) / 2 ** 20} MB)`, oversized(relay.url, { ips: 5, connsPerIp: 2, block: 7, maxMessageLength: d.maxMessageLength }));
await run('g', 'subscription hoarders', `maxSubscriptions (${d.maxSubscriptions}) per connection`, hoarders(relay.url, { ips: 40, maxSubscriptions: d.maxSubscriptions, block: 8 }));

await probe.stop();
for (const ws of idleSocks) ws.terminate();
await new Promise((r) => setTimeout(r, 2000));
const final = relay.rss();
await relay.stop();

console.log(`\n${machine}; ${new Date().toISOString().slice(0, 10)}; ${connections.toLocaleString('en-US')} connections; ${seconds} s per phase; ${stored} stored events\n`);
console.log('| phase | limit that protects | what the attacker got | good client p50 / p99 | relay RSS before → peak → after |');
console.log('|---|---|---|---|---|');
for (const r of results) {
  const good = `${r.good.p50.toFixed(1)} / ${r.good.p99.toFixed(1)} ms${r.good.timeouts ? ` (${r.good.timeouts} timeouts)` : ''}`;
  console.log(`| ${r.name} | ${r.limit} | ${r.attacker} | ${good} | ${MB(r.rss.before)} → ${MB(r.rss.peak)} → ${MB(r.rss.after)} |`);
}
console.log(`\nRelay RSS with every attacker and the idle connections gone: ${MB(final)}.`);
for (const r of results) for (const n of r.notes) console.log(`- ${r.name}: ${n}`);
process.exit(0);
