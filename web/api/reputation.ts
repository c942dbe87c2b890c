// JSON API for reputation: scores with their evidence, and a door for signed labels from customers
// who use a browser or any client that can sign (the label is checked, then published to the relay).
import type http from 'node:http';
import type { NostrEvent } from '../nostr/nip01.js';
import { checkEventShape } from '../nostr/nip01.js';
import { decode as nip19decode } from '../nostr/nip19.js';
import { verifyEvent } from '../nostr/verify.js';
import type { ReputationBook } from '../reputation/book.js';
import { readJobLabel, type ReadOptions } from '../reputation/labels.js';

export interface ReputationApi {
  readonly book: ReputationBook;
  readonly readInvoice: ReadOptions['readInvoice'];
  /** name -> pubkey of this instance's agents. */
  readonly names: () => Readonly<Record<string, string>>;
  /** Publishes to the embedded relay; false with the relay's message when refused. */
  readonly publish: (e: NostrEvent) => Promise<{ ok: boolean; message: string }>;
}

type Reply = (status: number, body: unknown) => void;

const MAX_BODY = 64 * 1024;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error(`body larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function pubkeyOf(id: string, names: Readonly<Record<string, string>>): string | undefined {
  if (/^[0-9a-f]{64}$/.test(id)) return id;
  if (id.startsWith('npub1')) {
    try {
      return nip19decode(id as `npub1${string}`).data;
    } catch {
      return undefined;
    }
  }
  return names[id];
}

/** Handles /api/agents, /api/agents/<npub|hex|name>, /api/reputation/stats and POST /api/labels; false for other paths. */
export async function reputationRoute(api: ReputationApi, req: http.IncomingMessage, url: URL, reply: Reply): Promise<boolean> {
  const path = url.pathname;
  if (path === '/api/agents') {
    if (req.method !== 'GET') return (reply(405, { error: 'method not allowed' }), true);
    const names = api.names();
    reply(200, { agents: Object.entries(names).map(([name, pubkey]) => ({ name, pubkey, score: api.book.score(pubkey) })) });
    return true;
  }
  if (path === '/api/reputation/stats') {
    if (req.method !== 'GET') return (reply(405, { error: 'method not allowed' }), true);
    // Labels counted, and ignored ones by reason (wrong-namespace, bad-rating, ...), as JSON.
    reply(200, api.book.stats());
    return true;
  }
  const m = /^\/api\/agents\/([^/]+)$/.exec(path);
  if (m) {
    if (req.method !== 'GET') return (reply(405, { error: 'method not allowed' }), true);
    const pubkey = pubkeyOf(decodeURIComponent(m[1]!), api.names());
    if (!pubkey) return (reply(404, { error: 'no such agent: give an npub, a hex pubkey or the name of an agent here' }), true);
    const last = Math.min(100, Math.max(0, Number(url.searchParams.get('last') ?? 10) || 10));
    reply(200, api.book.report(pubkey, { last }));
    return true;
  }
  if (path === '/api/labels') {
    if (req.method !== 'POST') return (reply(405, { error: 'method not allowed' }), true);
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (err) {
      return (reply(400, { error: `invalid JSON: ${(err as Error).message}` }), true);
    }
    const shape = checkEventShape(body);
    if (!shape.ok) return (reply(400, { error: `invalid event: ${shape.reason}` }), true);
    const e = shape.value;
    if (!verifyEvent(e)) return (reply(400, { error: 'invalid event: bad id or signature' }), true);
    const r = readJobLabel(e, { readInvoice: api.readInvoice, now: Math.floor(Date.now() / 1000) });
    if (!r.ok) return (reply(422, { error: `not a job label that counts: ${r.reason}`, reason: r.reason }), true);
    const p = await api.publish(e);
    if (!p.ok) return (reply(p.message.startsWith('rate-limited:') ? 429 : 400, { error: p.message }), true);
    reply(202, { id: e.id, subjects: r.observations.map((o) => o.subject), paid: r.observations.some((o) => o.paymentHash !== null) });
    return true;
  }
  return false;
}
