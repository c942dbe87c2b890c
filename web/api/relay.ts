// Relay API (public: the figures say nothing the relay would not serve anyway): connections,
// events/s, storage, top kinds. Events per second is the growth of the relay's eventsAccepted
// counter over the last ~10 s, from samples taken on every read and, while anyone is looking,
// once a second by an unref'd timer that stops itself a minute after the last read.
import type { WebContext } from '../context.js';
import { HttpError, sendJson, type Router } from '../http.js';
import type { RelayStats } from '../deps.js';
import { KIND_NAMES } from '../pages/common.js';

/** The window events/s is measured over. */
export const RATE_WINDOW_MS = 10_000;
const SAMPLE_EVERY_MS = 1000;
const IDLE_STOP_MS = 60_000;
/** Samples closer together than this replace each other, so a burst of reads cannot shrink the window. */
const MIN_GAP_MS = 250;
const RING = 96;

export interface RelayView extends Omit<RelayStats, 'topKinds'> {
  readonly topKinds: readonly { kind: number; count: number; name: string }[];
  /** Accepted events per second over the last ~10 s (0 until two samples exist). */
  readonly eventsPerSecond: number;
}

interface Sample {
  readonly at: number;
  readonly accepted: number;
}

/** A ring of (time, eventsAccepted) samples and the rate over the last RATE_WINDOW_MS. */
export class RateMeter {
  private readonly ring: Sample[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  add(accepted: number): void {
    const at = this.now();
    const last = this.ring.at(-1);
    // A counter that went back (a restarted relay) starts the measure over.
    if (last && accepted < last.accepted) this.ring.length = 0;
    else if (last && this.ring.length > 1 && at - this.ring.at(-2)!.at < MIN_GAP_MS) this.ring.pop();
    this.ring.push({ at, accepted });
    if (this.ring.length > RING) this.ring.shift();
  }

  /** Events per second between the newest sample and the oldest one within the window. */
  rate(): number {
    const last = this.ring.at(-1);
    if (!last) return 0;
    const first = this.ring.find((s) => last.at - s.at <= RATE_WINDOW_MS) ?? last;
    const dt = (last.at - first.at) / 1000;
    if (dt <= 0) return 0;
    return Math.round(((last.accepted - first.accepted) / dt) * 100) / 100;
  }
}

const KNOWN: Readonly<Record<number, string>> = {
  0: 'profile',
  1: 'note',
  3: 'follows',
  5: 'deletion',
  7: 'reaction',
  1985: 'label',
  7000: 'DVM feedback',
  7280: 'auction opened',
  7281: 'sealed bid',
  7282: 'bid revealed',
  7283: 'auction result',
  10002: 'relay list',
  21281: 'heartbeat',
  27235: 'HTTP auth',
  31990: 'DVM handler',
};

/** A short name for a kind people see on the relay page. */
export function relayKindName(kind: number): string {
  const known = KNOWN[kind];
  if (known) return known;
  if (kind >= 5000 && kind < 6000) return `DVM request${KIND_NAMES[kind] ? `: ${KIND_NAMES[kind]}` : ''}`;
  if (kind >= 6000 && kind < 7000) return `DVM result${KIND_NAMES[kind - 1000] ? `: ${KIND_NAMES[kind - 1000]}` : ''}`;
  return '';
}

export interface RelaySampler {
  /** The stats with names and events/s; a 503 when this instance has no embedded relay. */
  read(): Promise<RelayView>;
}

const samplers = new WeakMap<WebContext, RelaySampler>();

/** One sampler per server (the API and the page share it). */
export function relaySampler(ctx: WebContext): RelaySampler {
  let s = samplers.get(ctx);
  if (!s) samplers.set(ctx, (s = makeSampler(ctx)));
  return s;
}

function makeSampler(ctx: WebContext): RelaySampler {
  const meter = new RateMeter();
  let timer: NodeJS.Timeout | undefined;
  let lastRead = 0;
  const stats = ctx.deps.relayStats;
  const tick = async () => {
    if (!stats || Date.now() - lastRead > IDLE_STOP_MS) {
      clearInterval(timer);
      timer = undefined;
      return;
    }
    try {
      meter.add((await stats()).eventsAccepted);
    } catch {
      // the relay is closing: the next read samples again
    }
  };
  return {
    async read() {
      if (!stats) throw new HttpError(503, 'this instance uses remote relays: no embedded relay to report on');
      lastRead = Date.now();
      if (!timer) {
        timer = setInterval(() => void tick(), SAMPLE_EVERY_MS);
        timer.unref();
      }
      const s = await stats();
      meter.add(s.eventsAccepted);
      return { ...s, topKinds: s.topKinds.map((k) => ({ ...k, name: relayKindName(k.kind) })), eventsPerSecond: meter.rate() };
    },
  };
}

export function registerRelayApi(r: Router, ctx: WebContext): void {
  const sampler = relaySampler(ctx);
  r.get('/api/relay', async (c) => {
    sendJson(c.res, 200, await sampler.read());
  });
}
