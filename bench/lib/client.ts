// WebSocket client workloads: pipelined publishing, sequential REQ latency, live fan-out, idle connections.
// Only ever talks to the relay URL it is given (127.0.0.1). Every wait has a deadline.
import WebSocket from 'ws';
import { raceTimeout, sleep } from './util.js';

export function connect(url: string, timeoutMs = 10_000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`connect timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Open `n` connections, `batch` handshakes at a time. Failed ones are counted, not thrown. */
export async function openMany(url: string, n: number, batch = 200): Promise<{ sockets: WebSocket[]; failed: number; firstError?: string }> {
  const sockets: WebSocket[] = [];
  let failed = 0;
  let firstError: string | undefined;
  for (let i = 0; i < n; i += batch) {
    const res = await Promise.allSettled(Array.from({ length: Math.min(batch, n - i) }, () => connect(url)));
    for (const r of res) {
      if (r.status === 'fulfilled') {
        r.value.on('error', () => undefined);
        sockets.push(r.value);
      } else {
        failed++;
        firstError ??= r.reason instanceof Error ? r.reason.message : String(r.reason);
      }
    }
  }
  return { sockets, failed, firstError };
}

export async function closeAll(sockets: WebSocket[], timeoutMs = 10_000): Promise<void> {
  const done = sockets.map(
    (ws) =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      }),
  );
  await raceTimeout(Promise.all(done), timeoutMs);
  for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
}

export interface PublishResult {
  total: number;
  okTrue: number;
  duplicates: number;
  okFalse: number;
  firstRejection?: string;
  notices: number;
  firstNotice?: string;
  elapsedMs: number;
  eventsPerSec: number;
  timedOut: boolean;
  connectFailed: number;
}

/**
 * Publish pre-serialized `["EVENT",{...}]` messages over `conns` websockets, each keeping up to `window`
 * EVENTs awaiting their OK. Throughput = OK-true (non-duplicate) count / time from first send to last OK.
 */
export async function publish(url: string, msgs: readonly string[], conns: number, window: number, timeoutMs: number): Promise<PublishResult> {
  const { sockets, failed } = await openMany(url, conns, conns);
  const r: PublishResult = {
    total: msgs.length,
    okTrue: 0,
    duplicates: 0,
    okFalse: 0,
    notices: 0,
    elapsedMs: 0,
    eventsPerSec: 0,
    timedOut: false,
    connectFailed: failed,
  };
  if (sockets.length === 0) throw new Error('publish: no connection could be opened');
  const t0 = performance.now();
  let last = t0;
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    let open = sockets.length;
    const finish = (): void => {
      if (--open === 0) resolve();
    };
    timer = setTimeout(() => {
      r.timedOut = true;
      resolve();
    }, timeoutMs);
    sockets.forEach((ws, c) => {
      // connection c sends messages c, c + n, c + 2n, ...
      const n = sockets.length;
      let next = c;
      let outstanding = 0;
      let finished = false;
      const done = (): void => {
        if (finished) return;
        finished = true;
        finish();
      };
      const pump = (): void => {
        while (outstanding < window && next < msgs.length) {
          ws.send(msgs[next] as string);
          next += n;
          outstanding++;
        }
        if (outstanding === 0 && next >= msgs.length) done();
      };
      ws.on('message', (data) => {
        const s = data.toString();
        if (s.startsWith('["OK"')) {
          const m = JSON.parse(s) as [string, string, boolean, string?];
          outstanding--;
          last = performance.now();
          if (m[2]) {
            if (typeof m[3] === 'string' && m[3].startsWith('duplicate')) r.duplicates++;
            else r.okTrue++;
          } else {
            r.okFalse++;
            r.firstRejection ??= String(m[3] ?? '');
          }
          pump();
        } else if (s.startsWith('["NOTICE"')) {
          r.notices++;
          r.firstNotice ??= s.slice(0, 200);
        }
      });
      ws.on('close', done);
      pump();
    });
  });
  clearTimeout(timer);
  r.elapsedMs = last - t0;
  r.eventsPerSec = r.elapsedMs > 0 ? (r.okTrue / r.elapsedMs) * 1000 : 0;
  await closeAll(sockets);
  return r;
}

export interface ReqSample {
  ms: number;
  events: number;
  closed?: string;
}

/** Sequential REQs on one connection: latency = REQ sent -> EOSE received (CLOSE sent after each). */
export async function reqSequential(url: string, filters: readonly object[], perQueryTimeoutMs = 30_000): Promise<ReqSample[]> {
  const ws = await connect(url);
  const out: ReqSample[] = [];
  try {
    let current: { sid: string; events: number; resolve: (x: { events: number; closed?: string }) => void } | undefined;
    ws.on('message', (data) => {
      const s = data.toString();
      if (!current) return;
      if (s.startsWith('["EVENT"')) {
        current.events++;
        return;
      }
      if (s.startsWith('["EOSE"') || s.startsWith('["CLOSED"')) {
        const m = JSON.parse(s) as [string, string, string?];
        if (m[1] !== current.sid) return;
        const c = current;
        current = undefined;
        c.resolve(m[0] === 'CLOSED' ? { events: c.events, closed: String(m[2] ?? '') } : { events: c.events });
      }
    });
    for (let i = 0; i < filters.length; i++) {
      const sid = `q${i}`;
      const t0 = performance.now();
      const res = await new Promise<{ events: number; closed?: string; timeout?: boolean }>((resolve) => {
        const timer = setTimeout(() => {
          current = undefined;
          resolve({ events: 0, closed: 'timeout', timeout: true });
        }, perQueryTimeoutMs);
        current = {
          sid,
          events: 0,
          resolve: (x) => {
            clearTimeout(timer);
            resolve(x);
          },
        };
        ws.send(JSON.stringify(['REQ', sid, filters[i]]));
      });
      const ms = performance.now() - t0;
      if (!res.closed) ws.send(JSON.stringify(['CLOSE', sid]));
      out.push(res.closed ? { ms, events: res.events, closed: res.closed } : { ms, events: res.events });
      if (ws.readyState !== WebSocket.OPEN) throw new Error('connection closed during REQ run');
    }
  } finally {
    await closeAll([ws]);
  }
  return out;
}

export interface FanoutResult {
  subscribers: number;
  subscribeFailed: number;
  events: number;
  expected: number;
  delivered: number;
  latencies: number[];
  publishOk: number;
  firstRejection?: string;
  elapsedMs: number;
}

/**
 * Live fan-out: `subscribers` sockets each hold REQ `filter`; one publisher sends `msgs` (EVENT
 * messages whose events all match) every `spacingMs`. Latency = receive time minus send time, per delivery.
 */
export async function fanout(
  url: string,
  subscribers: number,
  filter: object,
  msgs: readonly { id: string; msg: string }[],
  spacingMs: number,
  drainMs = 20_000,
): Promise<FanoutResult> {
  const { sockets, failed } = await openMany(url, subscribers, 200);
  const sendAt = new Float64Array(msgs.length).fill(NaN);
  const index = new Map<string, number>();
  msgs.forEach((m, k) => index.set(m.id, k));
  const latencies: number[] = [];
  const expected = sockets.length * msgs.length;
  let delivered = 0;
  let onAllDelivered: (() => void) | undefined;

  // subscribe everyone and wait for their EOSE
  let eosePending = sockets.length;
  const allEose = new Promise<void>((resolve) => {
    if (eosePending === 0) resolve();
    for (const ws of sockets) {
      let gotEose = false;
      ws.on('message', (data) => {
        const now = performance.now();
        const s = data.toString();
        if (s.startsWith('["EVENT"')) {
          const m = JSON.parse(s) as [string, string, { id: string }];
          const k = index.get(m[2].id);
          if (k === undefined) return;
          const t = sendAt[k] as number;
          if (Number.isNaN(t)) return;
          latencies.push(now - t);
          delivered++;
          if (delivered === expected) onAllDelivered?.();
        } else if (!gotEose && (s.startsWith('["EOSE"') || s.startsWith('["CLOSED"'))) {
          gotEose = true;
          if (--eosePending === 0) resolve();
        }
      });
      ws.send(JSON.stringify(['REQ', 'fan', filter]));
    }
  });
  await raceTimeout(allEose, 60_000);
  if (eosePending > 0) throw new Error(`fan-out: ${eosePending} subscriptions got no EOSE within 60 s`);
  await sleep(500);

  const pub = await connect(url);
  let publishOk = 0;
  let firstRejection: string | undefined;
  pub.on('message', (data) => {
    const s = data.toString();
    if (s.startsWith('["OK"')) {
      const m = JSON.parse(s) as [string, string, boolean, string?];
      if (m[2]) publishOk++;
      else firstRejection ??= String(m[3] ?? '');
    }
  });
  const t0 = performance.now();
  for (let k = 0; k < msgs.length; k++) {
    const target = t0 + k * spacingMs;
    const wait = target - performance.now();
    if (wait > 0) await sleep(wait);
    sendAt[k] = performance.now();
    pub.send((msgs[k] as { msg: string }).msg);
  }
  await raceTimeout(
    new Promise<void>((resolve) => {
      if (delivered >= expected) resolve();
      onAllDelivered = resolve;
    }),
    drainMs,
  );
  const elapsedMs = performance.now() - t0;
  await closeAll([pub, ...sockets]);
  const r: FanoutResult = {
    subscribers: sockets.length,
    subscribeFailed: failed,
    events: msgs.length,
    expected,
    delivered,
    latencies,
    publishOk,
    elapsedMs,
  };
  if (firstRejection !== undefined) r.firstRejection = firstRejection;
  return r;
}
