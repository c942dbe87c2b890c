// The load/abuse harness shared by bench/load.ts (the full run: 10,000 connections) and
// test/relay-abuse.test.ts (a short one): the relay in a child process (bench/load-relay.ts), a
// well-behaved probe on a worker thread (bench/load-probe.ts), and the attacks. Attackers connect
// from loopback aliases (127.0.x.y, via ws `localAddress`) so that per-IP limits see many addresses;
// the relay runs with `rateLimits.exemptIps: []` so that no address is exempt.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { floodPool, loadKeys, randomHex, TOPICS } from './load-events.js';
import type { ProbeSamples } from './load-probe.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Resident memory of a process from /proc/<pid>/status, in bytes (VmRSS). */
export function procRss(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? NaN : Number(kb) * 1024;
  } catch {
    return NaN;
  }
}

export const MB = (b: number): string => (Number.isFinite(b) ? `${(b / 2 ** 20).toFixed(0)} MB` : 'n/a');

// ---------------------------------------------------------------- the relay child

export interface RelayStats {
  stats: { connections: number; subscriptions: number; eventsAccepted: number; eventsRejected: number; dropped: number };
  mem: NodeJS.MemoryUsage;
}

export interface RelayChild {
  readonly url: string;
  readonly pid: number;
  rss(): number;
  stats(): Promise<RelayStats>;
  /** Stores `count` signed kind-1 events in-process (the data the REQ attacks read). */
  seed(count: number): Promise<number>;
  stop(): Promise<void>;
}

/** The bench's defaults on top of the relay's: nothing exempt from the per-IP limits. */
export const LOAD_RELAY_CONFIG = { durability: 'normal', rateLimits: { exemptIps: [] } };

export async function startRelayChild(cfg: Record<string, unknown> = LOAD_RELAY_CONFIG): Promise<RelayChild> {
  const child: ChildProcess = fork(new URL('./load-relay.js', import.meta.url), [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  let n = 0;
  const waiting = new Map<number, (m: unknown) => void>();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`load relay exited (${code}) before it was ready`)));
    child.on('message', (m: { type: string; url?: string; n?: number }) => {
      if (m.type === 'ready') resolve(m.url!);
      else if (m.n !== undefined) {
        waiting.get(m.n)?.(m);
        waiting.delete(m.n);
      }
    });
  });
  const ask = <T>(msg: Record<string, unknown>): Promise<T> =>
    new Promise((resolve) => {
      const k = ++n;
      waiting.set(k, resolve as (m: unknown) => void);
      child.send({ ...msg, n: k });
    });
  return {
    url,
    pid: child.pid!,
    rss: () => procRss(child.pid!),
    stats: () => ask<RelayStats>({ type: 'stats' }),
    seed: async (count) => (await ask<{ stored: number }>({ type: 'seed', count })).stored,
    async stop() {
      if (child.exitCode !== null) return;
      child.send({ type: 'stop' });
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---------------------------------------------------------------- the probe (well-behaved client)

export class Probe {
  private readonly worker: Worker;
  private constructor(worker: Worker) {
    this.worker = worker;
  }

  static start(url: string, localAddress = '127.0.9.1', everyMs = 50, timeoutMs = 5000): Probe {
    return new Probe(new Worker(new URL('./load-probe.js', import.meta.url), { workerData: { url, localAddress, everyMs, timeoutMs } }));
  }

  /** The latencies since the last take. */
  take(): Promise<ProbeSamples> {
    return new Promise((resolve) => {
      const on = (m: { type: string; samples?: ProbeSamples }) => {
        if (m.type !== 'samples') return;
        this.worker.off('message', on);
        resolve(m.samples!);
      };
      this.worker.on('message', on);
      this.worker.postMessage({ type: 'take' });
    });
  }

  async stop(): Promise<void> {
    const done = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.worker.postMessage({ type: 'stop' });
    const t = setTimeout(() => void this.worker.terminate(), 6000);
    await done;
    clearTimeout(t);
  }
}

// ---------------------------------------------------------------- attackers

/** What the attackers received, by kind: `OK false rate-limited:`, `CLOSED blocked:`, `close 1008`, ... */
export class Tally {
  readonly counts = new Map<string, number>();
  sent = 0;
  /** Set when the attack stops: the closes our own teardown causes are not counted. */
  closing = false;

  add(k: string, n = 1): void {
    this.counts.set(k, (this.counts.get(k) ?? 0) + n);
  }

  get(k: string): number {
    return this.counts.get(k) ?? 0;
  }

  /** Counts by prefix, most frequent first. */
  summary(max = 6): string {
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, max)
      .map(([k, v]) => `${k} ×${v.toLocaleString('en-US')}`)
      .join(', ');
  }
}

const prefixOf = (s: unknown): string => {
  if (typeof s !== 'string' || s === '') return '';
  const i = s.indexOf(':');
  return i > 0 && i < 20 ? s.slice(0, i + 1) : s.slice(0, 40);
};

/** Classifies one relay message for the tally; returns the parsed array for control messages (not for EVENT). */
export function classify(t: Tally, data: string): unknown[] | undefined {
  if (data.startsWith('["EVENT"')) {
    t.add('EVENT');
    return undefined;
  }
  let m: unknown[];
  try {
    m = JSON.parse(data) as unknown[];
  } catch {
    t.add('unparsable');
    return undefined;
  }
  switch (m[0]) {
    case 'OK':
      t.add(m[2] === true ? (prefixOf(m[3]) === 'duplicate:' ? 'OK true duplicate:' : 'OK true') : `OK false ${prefixOf(m[3])}`);
      break;
    case 'CLOSED':
      t.add(`CLOSED ${prefixOf(m[2])}`);
      break;
    case 'NOTICE':
      t.add(`NOTICE ${prefixOf(m[1])}`);
      break;
    default:
      t.add(String(m[0]));
  }
  return m;
}

/** One attacker socket from a given source address; messages go to `onMessage` after the tally. */
export function connectFrom(url: string, localAddress: string, t: Tally, onMessage?: (m: unknown[] | undefined, ws: WebSocket) => void): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false, handshakeTimeout: 15_000, maxPayload: 64 * 2 ** 20 });
    let opened = false;
    ws.once('open', () => {
      opened = true;
      resolve(ws);
    });
    ws.on('error', (err) => {
      if (ws.readyState === WebSocket.CONNECTING || /Unexpected server response/.test(err.message)) {
        const code = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
        t.add(code ? `HTTP ${code} at connect` : `connect error`);
        resolve(null);
      }
    });
    ws.on('message', (d) => {
      const m = classify(t, d.toString());
      onMessage?.(m, ws);
    });
    ws.on('close', (code) => opened && !t.closing && t.add(`close ${code}`));
  });
}

/** Loopback alias number `i` in block `b`: 127.b.(1 + i/250).(1 + i%250). */
export const ipOf = (b: number, i: number): string => `127.${b}.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;

function closeAll(socks: readonly (WebSocket | null)[]): void {
  for (const ws of socks) if (ws && ws.readyState !== WebSocket.CLOSED) ws.terminate();
}

export interface Attack {
  readonly tally: Tally;
  /** Opens the attackers and starts the attack; resolves once it is running. */
  start(): Promise<void>;
  /** Stops sending and closes every attacker socket. */
  stop(): Promise<void>;
  /** Extra figures for the report (e.g. `connections open: 10,000`). */
  notes(): string[];
}

/** (a) `n` idle connections, `perIp` per address; plus one address that tries `maxPerIp + 5`. */
export function idleConnections(url: string, n: number, o: { perIp?: number; maxPerIp?: number; keep?: WebSocket[] } = {}): Attack {
  const tally = new Tally();
  const perIp = o.perIp ?? 150;
  const maxPerIp = o.maxPerIp ?? 200;
  const socks: WebSocket[] = o.keep ?? [];
  const extra: (WebSocket | null)[] = [];
  let opened = 0;
  let openMs = 0;
  return {
    tally,
    async start() {
      const t0 = performance.now();
      for (let i = 0; i < n; i += 500) {
        const batch = await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, k) => connectFrom(url, ipOf(1, Math.floor((i + k) / perIp)), tally)));
        for (const ws of batch) if (ws) socks.push(ws);
      }
      opened = socks.length;
      openMs = performance.now() - t0;
      // One address over the per-IP limit: the extra handshakes get HTTP 503.
      for (let k = 0; k < maxPerIp + 5; k++) extra.push(await connectFrom(url, ipOf(2, 249), tally));
    },
    async stop() {
      tally.closing = true;
      closeAll(extra);
      if (!o.keep) closeAll(socks);
    },
    notes: () => [`${opened.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} idle connections open in ${(openMs / 1000).toFixed(1)} s`],
  };
}

/**
 * (b)/(c) A publisher flood: `conns` sockets over `ips` addresses, each keeping `window` EVENTs
 * unanswered (sends the next as each OK arrives), events from `keys` keys, cycled from a pool.
 */
export function publishFlood(url: string, o: { ips: number; connsPerIp: number; keys: number; pool: number; window: number; block: number; label: string }): Attack {
  const tally = new Tally();
  const socks: (WebSocket | null)[] = [];
  let pool: string[] = [];
  let running = false;
  let next = 0;
  const send = (ws: WebSocket): void => {
    if (!running || ws.readyState !== WebSocket.OPEN) return;
    ws.send(pool[next++ % pool.length]!);
    tally.sent++;
  };
  return {
    tally,
    async start() {
      pool = floodPool(o.pool, loadKeys(o.keys, o.label), o.label);
      running = true;
      for (let i = 0; i < o.ips; i++)
        for (let k = 0; k < o.connsPerIp; k++) socks.push(await connectFrom(url, ipOf(o.block, i), tally, (m, ws) => m?.[0] === 'OK' && send(ws)));
      for (const ws of socks) if (ws) for (let w = 0; w < o.window; w++) send(ws);
    },
    async stop() {
      running = false;
      tally.closing = true;
      closeAll(socks);
    },
    notes: () => [`${o.ips} address(es) × ${o.connsPerIp} sockets, ${o.keys} keys, ${o.window} EVENTs in flight per socket; ${tally.sent.toLocaleString('en-US')} EVENTs sent`],
  };
}

/** The expensive filters of the REQ flood, by name. */
export function expensiveFilters(maxFilterValues: number): { name: string; msg: (sub: string) => string }[] {
  const ids = (k: number) => Array.from({ length: k }, () => randomHex());
  const hugeIds = Math.min(7000, maxFilterValues); // 7,000 ids ≈ 470 KB: just under maxMessageLength
  return [
    { name: `ids ×${hugeIds}`, msg: (s) => JSON.stringify(['REQ', s, { ids: ids(hugeIds) }]) },
    // ids this many would pass maxMessageLength first: kinds are short.
    { name: 'kinds over maxFilterValues', msg: (s) => JSON.stringify(['REQ', s, { kinds: Array.from({ length: maxFilterValues + 1 }, (_, i) => i % 65536) }]) },
    { name: 'whole time range, limit 5000', msg: (s) => JSON.stringify(['REQ', s, { since: 0, until: 2 ** 31, limit: 5000 }]) },
    {
      name: 'many tags',
      msg: (s) => JSON.stringify(['REQ', s, { '#t': [...TOPICS, ...ids(150)], '#p': ids(300), '#e': ids(300), kinds: Array.from({ length: 50 }, (_, i) => i), limit: 5000 }]),
    },
    { name: '20 wide filters', msg: (s) => JSON.stringify(['REQ', s, ...Array.from({ length: 20 }, (_, i) => ({ kinds: [1], since: i * 1000, limit: 5000 }))]) },
    // Drives from the `t` index (all stored events) and checks a `p` that never matches: a scan with no output.
    { name: 'scan, no match', msg: (s) => JSON.stringify(['REQ', s, { '#t': TOPICS, '#p': [randomHex()], limit: 5000 }]) },
    { name: 'COUNT ×20 wide filters', msg: (s) => JSON.stringify(['COUNT', s, ...Array.from({ length: 20 }, (_, i) => ({ kinds: [1], since: i * 1000 }))]) },
  ];
}

/** (d) REQ flood: each socket keeps `inFlight` expensive REQs/COUNTs open, replacing each when answered. */
export function reqFlood(url: string, o: { ips: number; connsPerIp: number; inFlight: number; block: number; maxFilterValues?: number }): Attack {
  const tally = new Tally();
  const socks: (WebSocket | null)[] = [];
  const filters = expensiveFilters(o.maxFilterValues ?? 10_000);
  let running = false;
  let seq = 0;
  const send = (ws: WebSocket): void => {
    if (!running || ws.readyState !== WebSocket.OPEN) return;
    const f = filters[seq % filters.length]!;
    ws.send(f.msg(`q${seq++}`));
    tally.sent++;
  };
  return {
    tally,
    async start() {
      running = true;
      for (let i = 0; i < o.ips; i++)
        for (let k = 0; k < o.connsPerIp; k++)
          socks.push(
            await connectFrom(url, ipOf(o.block, i), tally, (m, ws) => {
              if (!m || (m[0] !== 'EOSE' && m[0] !== 'CLOSED' && m[0] !== 'COUNT')) return;
              if (m[0] === 'EOSE') ws.send(JSON.stringify(['CLOSE', m[1]]));
              send(ws);
            }),
          );
      for (const ws of socks) if (ws) for (let w = 0; w < o.inFlight; w++) send(ws);
    },
    async stop() {
      running = false;
      tally.closing = true;
      closeAll(socks);
    },
    notes: () => [`${o.ips} address(es) × ${o.connsPerIp} sockets × ${o.inFlight} in flight; filters: ${filters.map((f) => f.name).join('; ')}; ${tally.sent.toLocaleString('en-US')} sent`],
  };
}

/**
 * (e) Slow readers: sockets that stop reading (their TCP socket paused) and keep asking for
 * `limit` events every `everyMs`, plus a live subscription to everything. A persistent attacker:
 * a socket the relay cut is replaced by a new one.
 */
export function slowReaders(url: string, o: { ips: number; connsPerIp: number; everyMs: number; block: number; limit?: number; relay?: RelayChild }): Attack {
  const tally = new Tally();
  const socks: (WebSocket | null)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let replaced = 0;
  let seq = 0;
  let dropped0 = 0;
  let dropped = 0;
  const open = async (ip: string): Promise<WebSocket | null> => {
    const ws = await connectFrom(url, ip, tally);
    if (!ws) return null;
    ws.send(JSON.stringify(['REQ', 'live', { kinds: [1], limit: 0 }]));
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    return ws;
  };
  return {
    tally,
    async start() {
      if (o.relay) dropped0 = (await o.relay.stats()).stats.dropped;
      for (let i = 0; i < o.ips; i++) for (let k = 0; k < o.connsPerIp; k++) socks.push(await open(ipOf(o.block, i)));
      timer = setInterval(() => {
        socks.forEach((ws, idx) => {
          if (ws && ws.readyState === WebSocket.OPEN) {
            ws.send(JSON.stringify(['REQ', `h${seq++ % 200}`, { limit: o.limit ?? 5000 }]), () => undefined);
            tally.sent++;
          } else if (ws !== undefined) {
            socks[idx] = undefined as unknown as null; // being replaced
            replaced++;
            void open(ipOf(o.block, Math.floor(idx / o.connsPerIp))).then((w) => (socks[idx] = w));
          }
        });
      }, o.everyMs);
    },
    async stop() {
      clearInterval(timer);
      if (o.relay) dropped = (await o.relay.stats()).stats.dropped - dropped0;
      // Read again, so the close frames (or resets) the relay sent are seen.
      for (const ws of socks) (ws as unknown as { _socket?: { resume(): void } } | null)?._socket?.resume();
      await sleep(1500);
      tally.closing = true;
      closeAll(socks);
    },
    notes: () => [`${o.ips * o.connsPerIp} non-reading sockets; the relay dropped ${dropped} of them (relay count), ${replaced} reconnects`],
  };
}

/** (f) Oversized messages: EVENTs over maxMessageLength, other verbs over it, and frames over ws maxPayload. */
export function oversized(url: string, o: { ips: number; connsPerIp: number; block: number; maxMessageLength: number }): Attack {
  const tally = new Tally();
  const socks: (WebSocket | null)[] = [];
  let running = false;
  let seq = 0;
  const pad = 'x'.repeat(o.maxMessageLength + 64 * 1024);
  const bigEvent = (): string => JSON.stringify(['EVENT', { id: randomHex(), pubkey: randomHex(), created_at: 1, kind: 1, tags: [], content: pad, sig: randomHex(64) }]);
  const bigReq = JSON.stringify(['REQ', 'big', { search: pad }]);
  const absurd = 'y'.repeat(Math.max(4 * o.maxMessageLength, 4 * 2 ** 20) + 1024);
  const send = (ws: WebSocket, idx: number): void => {
    if (!running || ws.readyState !== WebSocket.OPEN) return;
    const k = seq++;
    tally.sent++;
    if (k % 25 === 24) {
      ws.send(absurd); // the relay's ws closes this socket (1009); a new one takes its place
      void connectFrom(url, ipOf(o.block, idx % o.ips), tally, (m, w) => m && send(w, idx)).then((w) => {
        socks[idx] = w;
        if (w) send(w, idx);
      });
    } else ws.send(k % 5 === 4 ? bigReq : bigEvent());
  };
  return {
    tally,
    async start() {
      running = true;
      for (let i = 0; i < o.ips * o.connsPerIp; i++) {
        const idx = i;
        socks.push(await connectFrom(url, ipOf(o.block, i % o.ips), tally, (m, ws) => m && send(ws, idx)));
      }
      socks.forEach((ws, idx) => ws && send(ws, idx));
    },
    async stop() {
      running = false;
      tally.closing = true;
      closeAll(socks);
    },
    notes: () => [`${tally.sent.toLocaleString('en-US')} messages of ${Math.round(pad.length / 1024)} KB, every 25th a ${Math.round(absurd.length / 2 ** 20)} MB frame`],
  };
}

/**
 * (g) Subscription hoarders: each socket opens maxSubscriptions + 10 subscriptions and never
 * closes them; half match every kind-1 event (so each hoarder receives the live traffic), half
 * list 100 random authors. The sockets keep reading.
 */
export function hoarders(url: string, o: { ips: number; maxSubscriptions: number; block: number }): Attack {
  const tally = new Tally();
  const socks: (WebSocket | null)[] = [];
  return {
    tally,
    async start() {
      for (let i = 0; i < o.ips; i++) socks.push(await connectFrom(url, ipOf(o.block, i), tally));
      for (const ws of socks) {
        if (!ws) continue;
        for (let k = 0; k < o.maxSubscriptions + 10; k++) {
          const f = k % 2 === 0 ? { kinds: [1], limit: 0 } : { authors: Array.from({ length: 100 }, () => randomHex()), limit: 0 };
          ws.send(JSON.stringify(['REQ', `s${k}`, f]));
          tally.sent++;
        }
      }
    },
    async stop() {
      tally.closing = true;
      closeAll(socks);
    },
    notes: () => [`${o.ips} sockets × ${o.maxSubscriptions + 10} REQs, never closed`],
  };
}

// ---------------------------------------------------------------- a phase: attack + probe + memory

export interface PhaseResult {
  name: string;
  limit: string;
  attacker: string;
  notes: string[];
  tally: Tally;
  good: { n: number; p50: number; p99: number; max: number; timeouts: number; refusals: string[] };
  rss: { before: number; peak: number; after: number };
  heapAfter: number;
}

/** Runs one attack for `seconds` while the probe measures; relay RSS before, at peak (sampled every 250 ms), and after. */
export async function runPhase(relay: RelayChild, probe: Probe, name: string, limit: string, attack: Attack, seconds: number, log: (s: string) => void = () => undefined): Promise<PhaseResult> {
  const before = relay.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, relay.rss())), 250);
  log(`${name}: starting`);
  await attack.start();
  await probe.take(); // latencies from here on
  await sleep(seconds * 1000);
  const s = await probe.take();
  await attack.stop();
  await sleep(2000);
  clearInterval(sampler);
  peak = Math.max(peak, relay.rss());
  const after = relay.rss();
  const st = await relay.stats();
  const r: PhaseResult = {
    name,
    limit,
    attacker: attack.tally.summary(),
    notes: attack.notes(),
    tally: attack.tally,
    good: { n: s.all.length, p50: percentile(s.all, 50), p99: percentile(s.all, 99), max: Math.max(...s.all), timeouts: s.timeouts, refusals: [...new Set(s.refusals)] },
    rss: { before, peak, after },
    heapAfter: st.mem.heapUsed,
  };
  log(
    `${name}: good client p50 ${r.good.p50.toFixed(1)} ms, p99 ${r.good.p99.toFixed(1)} ms (n=${r.good.n}, timeouts ${r.good.timeouts}${r.good.refusals.length ? `, refused: ${r.good.refusals.join('; ')}` : ''}); relay RSS ${MB(before)} -> peak ${MB(peak)} -> ${MB(after)} (heap ${MB(r.heapAfter)}); attacker got: ${r.attacker}`,
  );
  for (const n of r.notes) log(`  ${n}`);
  return r;
}

// ---------------------------------------------------------------- soak

export interface SoakSample {
  minute: number;
  rss: number;
  heapUsed: number;
  connections: number;
  subscriptions: number;
  accepted: number;
}

/**
 * A steady, realistic mix: `idle` idle sockets (one replaced every second: connection churn),
 * `subscribers` sockets with live subscriptions, 50 keys over 10 addresses publishing
 * `eventsPerSecond` in all, and REQs at `reqsPerSecond`. Samples memory every `sampleSeconds`.
 */
export async function soak(
  relay: RelayChild,
  o: { seconds: number; sampleSeconds: number; idle: number; subscribers: number; eventsPerSecond: number; reqsPerSecond: number },
  onSample: (s: SoakSample) => void = () => undefined,
): Promise<{ samples: SoakSample[]; tally: Tally }> {
  const tally = new Tally();
  const idle: (WebSocket | null)[] = [];
  for (let i = 0; i < o.idle; i++) idle.push(await connectFrom(relay.url, ipOf(20, i % 100), tally));
  const subs: (WebSocket | null)[] = [];
  for (let i = 0; i < o.subscribers; i++) {
    const ws = await connectFrom(relay.url, ipOf(21, i % 50), tally);
    ws?.send(JSON.stringify(['REQ', 'live', i % 2 === 0 ? { kinds: [1], limit: 10 } : { '#t': [TOPICS[i % TOPICS.length]!], limit: 10 }]));
    subs.push(ws);
  }
  const pubIps = 10;
  const pubs: (WebSocket | null)[] = [];
  for (let i = 0; i < pubIps; i++) pubs.push(await connectFrom(relay.url, ipOf(22, i), tally));
  const keys = loadKeys(50, 'soak');
  const readers: (WebSocket | null)[] = [];
  for (let i = 0; i < 10; i++) readers.push(await connectFrom(relay.url, ipOf(23, i), tally, (m, ws) => m?.[0] === 'EOSE' && ws.send(JSON.stringify(['CLOSE', m[1]]))));
  let n = 0;
  const { sign } = await import('./load-events.js');
  const pubTimer = setInterval(() => {
    const ws = pubs[n % pubIps];
    const e = sign(keys[n % keys.length]!, { content: `soak ${n} ${randomHex(16)}`, tags: [['t', TOPICS[n % TOPICS.length]!]] });
    n++;
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(['EVENT', e]));
  }, 1000 / o.eventsPerSecond);
  let q = 0;
  const reqTimer = setInterval(() => {
    const ws = readers[q % readers.length];
    q++;
    const f = q % 3 === 0 ? { authors: [keys[q % keys.length]!.pk], limit: 50 } : q % 3 === 1 ? { '#t': [TOPICS[q % TOPICS.length]!], limit: 100 } : { kinds: [1], limit: 20 };
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(['REQ', `r${q}`, f]));
  }, 1000 / o.reqsPerSecond);
  let c = 0;
  const churn = setInterval(() => {
    const i = c++ % idle.length;
    idle[i]?.terminate();
    void connectFrom(relay.url, ipOf(20, i % 100), tally).then((w) => (idle[i] = w));
  }, 1000);
  const samples: SoakSample[] = [];
  const t0 = Date.now();
  try {
    while (Date.now() - t0 < o.seconds * 1000) {
      await sleep(Math.min(o.sampleSeconds * 1000, o.seconds * 1000 - (Date.now() - t0)));
      const st = await relay.stats();
      const s: SoakSample = {
        minute: (Date.now() - t0) / 60_000,
        rss: relay.rss(),
        heapUsed: st.mem.heapUsed,
        connections: st.stats.connections,
        subscriptions: st.stats.subscriptions,
        accepted: st.stats.eventsAccepted,
      };
      samples.push(s);
      onSample(s);
    }
  } finally {
    clearInterval(pubTimer);
    clearInterval(reqTimer);
    clearInterval(churn);
    closeAll([...idle, ...subs, ...pubs, ...readers]);
  }
  return { samples, tally };
}

/** Growth over a soak: last sample minus the first (the first is taken after one interval of warm-up), and the least-squares slope per hour. */
export function growth(samples: readonly SoakSample[], key: 'rss' | 'heapUsed'): { first: number; last: number; delta: number; perHour: number } {
  const first = samples[0]?.[key] ?? NaN;
  const last = samples.at(-1)?.[key] ?? NaN;
  const xs = samples.map((s) => s.minute);
  const ys = samples.map((s) => s[key]);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return { first, last, delta: last - first, perHour: den > 0 ? (num / den) * 60 : NaN };
}
