// The well-behaved client of the load bench, on a worker thread of its own (its event loop is not
// the attackers'). Every `everyMs` it either publishes a fresh event (latency: send -> OK) or
// queries it back by id (send -> EOSE), one operation at a time, from its own source address.
// {type:'take'} answers {type:'samples', ...} with the latencies since the last take.
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { loadKeys, sign } from './load-events.js';

export interface ProbeSamples {
  /** Milliseconds from send to answer, both kinds together. */
  all: number[];
  publish: number[];
  query: number[];
  /** Operations with no answer within timeoutMs (counted as timeoutMs in `all`). */
  timeouts: number;
  /** OK false or CLOSED answers the probe got (it stays within every limit, so there should be none). */
  refusals: string[];
  reconnects: number;
}

const { url, localAddress, everyMs, timeoutMs } = workerData as { url: string; localAddress: string; everyMs: number; timeoutMs: number };
const key = loadKeys(1, `probe-${localAddress}`)[0]!;
let samples: ProbeSamples = { all: [], publish: [], query: [], timeouts: 0, refusals: [], reconnects: 0 };
let stopped = false;

parentPort!.on('message', (m: { type: string }) => {
  if (m.type === 'take') {
    parentPort!.postMessage({ type: 'samples', samples });
    samples = { all: [], publish: [], query: [], timeouts: 0, refusals: [], reconnects: 0 };
  } else if (m.type === 'stop') {
    stopped = true;
  }
});

function connect(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false, handshakeTimeout: timeoutMs });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let ws: WebSocket | null = null;
const current = (): WebSocket | null => ws;
let waiter: { pred: (m: unknown[]) => boolean; resolve: (m: unknown[] | null) => void } | null = null;

async function ensure(): Promise<WebSocket> {
  while (!ws || ws.readyState !== WebSocket.OPEN) {
    try {
      ws = await connect();
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as unknown[];
        if (waiter?.pred(m)) {
          const w = waiter;
          waiter = null;
          w.resolve(m);
        }
      });
      ws.on('close', () => waiter?.resolve(null));
      ws.on('error', () => undefined);
    } catch {
      samples.reconnects++;
      await sleep(200);
    }
  }
  return ws;
}

/** Sends `msg` and waits for the first message matching `pred`; the latency or null on timeout. */
async function op(msg: string, pred: (m: unknown[]) => boolean): Promise<{ ms: number; m: unknown[] } | null> {
  const sock = await ensure();
  const t0 = performance.now();
  const got = await new Promise<unknown[] | null>((resolve) => {
    const timer = setTimeout(() => {
      waiter = null;
      resolve(null);
    }, timeoutMs);
    waiter = {
      pred,
      resolve: (m) => {
        clearTimeout(timer);
        resolve(m);
      },
    };
    sock.send(msg);
  });
  if (!got) return null;
  return { ms: performance.now() - t0, m: got };
}

let n = 0;
let lastId = '';
while (!stopped) {
  const start = performance.now();
  n++;
  if (n % 2 === 1 || !lastId) {
    const e = sign(key, { content: `probe ${n}` });
    const r = await op(JSON.stringify(['EVENT', e]), (m) => m[0] === 'OK' && m[1] === e.id);
    if (!r) (samples.timeouts++, samples.all.push(timeoutMs));
    else {
      samples.all.push(r.ms);
      samples.publish.push(r.ms);
      if (r.m[2] !== true) samples.refusals.push(`OK false ${String(r.m[3])}`);
      else lastId = e.id;
    }
  } else {
    const sub = `p${n}`;
    const r = await op(JSON.stringify(['REQ', sub, { ids: [lastId] }]), (m) => (m[0] === 'EOSE' || m[0] === 'CLOSED') && m[1] === sub);
    if (!r) (samples.timeouts++, samples.all.push(timeoutMs));
    else {
      samples.all.push(r.ms);
      samples.query.push(r.ms);
      if (r.m[0] === 'CLOSED') samples.refusals.push(`CLOSED ${String(r.m[2])}`);
    }
    const w = current();
    if (w?.readyState === WebSocket.OPEN) w.send(JSON.stringify(['CLOSE', sub]));
  }
  const left = everyMs - (performance.now() - start);
  if (left > 0) await sleep(left);
}
current()?.close();
parentPort!.postMessage({ type: 'stopped' });
