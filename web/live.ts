// The live feed: Server-Sent Events at /api/live, fed by relay events (through the instance's
// NostrClient, live only) and by job state changes. Each browser gets summaries, never content:
// events of jobs that are not theirs are public on the relay anyway, but a page only needs to
// know that something about a job changed, then fetches what its user may see.
import type http from 'node:http';
import type { NostrEvent } from '../nostr/nip01.js';
import type { Subscription } from '../nostr/client.js';
import type { JobChange } from '../dvm/jobs/store.js';
import type { AppDeps } from './deps.js';
import type { User } from './auth.js';

export interface EventSummary {
  readonly id: string;
  readonly kind: number;
  readonly pubkey: string;
  readonly created_at: number;
  /** Ids the event references (`e` tags): a job, an auction. */
  readonly refs: readonly string[];
  /** `p` tags. */
  readonly to: readonly string[];
  /** NIP-90 feedback status, heartbeat status. */
  readonly status?: string;
}

interface Client {
  readonly res: http.ServerResponse;
  readonly user: User | undefined;
}

const KEEPALIVE_MS = 15_000;

export const summarize = (e: NostrEvent): EventSummary => {
  const status = e.tags.find((t) => t[0] === 'status')?.[1];
  return {
    id: e.id,
    kind: e.kind,
    pubkey: e.pubkey,
    created_at: e.created_at,
    refs: e.tags.filter((t) => t[0] === 'e' && t[1]).map((t) => t[1]!),
    to: e.tags.filter((t) => t[0] === 'p' && t[1]).map((t) => t[1]!),
    ...(status ? { status } : {}),
  };
};

export class LiveFeed {
  private readonly clients = new Set<Client>();
  private sub: Subscription | undefined;
  private unlisten: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly app: AppDeps | undefined) {}

  start(): void {
    const app = this.app;
    if (!app) return;
    const kinds = app.dvm.kinds();
    this.sub = app.client.subscribe(
      [{ kinds: [...kinds, ...kinds.map((k) => k + 1000), 7000, 7280, 7281, 7282, 7283, 1985, 21281], limit: 0 }],
      { onEvent: (e) => this.broadcast('nostr', summarize(e)) },
    );
    this.unlisten = app.jobs.onChange((c) => this.job(c));
    this.timer = setInterval(() => {
      for (const c of this.clients) c.res.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    this.timer.unref();
  }

  stop(): void {
    this.sub?.close();
    this.unlisten?.();
    clearInterval(this.timer);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  get size(): number {
    return this.clients.size;
  }

  /** GET /api/live: an SSE stream for this browser. */
  open(req: http.IncomingMessage, res: http.ServerResponse, user: User | undefined): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    res.write(`event: hello\ndata: ${JSON.stringify({ user: user?.pubkey ?? null })}\n\n`);
    const c: Client = { res, user };
    this.clients.add(c);
    req.on('close', () => this.clients.delete(c));
  }

  private job(c: JobChange): void {
    // Job changes name the job only to its customer and to admins; others see that a job moved.
    for (const cl of this.clients) {
      const mine = cl.user && (cl.user.admin || cl.user.pubkey === c.customer);
      const data = mine ? { id: c.id, kind: c.kind, state: c.state, reason: c.reason } : { kind: c.kind, state: c.state };
      cl.res.write(`event: job\ndata: ${JSON.stringify(data)}\n\n`);
    }
  }

  private broadcast(event: string, data: unknown): void {
    const line = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.clients) c.res.write(line);
  }
}
