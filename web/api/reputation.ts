// Reputation over HTTP: scores with their evidence, the book's counters, and a door for signed
// labels (the user's own, checked, then published to the relay).
import { decode as nip19decode } from '../../nostr/nip19.js';
import { readJobLabel } from '../../reputation/labels.js';
import type { WebContext } from '../context.js';
import { HttpError, sendJson, type Router } from '../http.js';
import type { AppDeps } from '../deps.js';
import { signedEvent } from './events.js';

/** A pubkey from hex, npub or the name of an agent here. */
export function pubkeyOf(id: string, names: Readonly<Record<string, string>>): string | undefined {
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

export function needApp(ctx: WebContext): AppDeps {
  if (!ctx.deps.app) throw new HttpError(503, 'the agents are not running on this instance (agents.enabled is false)');
  return ctx.deps.app;
}

export function registerReputationApi(r: Router, ctx: WebContext): void {
  r.get('/api/agents', (c) => {
    const app = needApp(ctx);
    sendJson(c.res, 200, {
      agents: app.swarm.agents.map((a) => ({ name: a.name, pubkey: a.pubkey, kinds: a.persona.kinds, alive: a.alive(), active: a.active, score: app.book.score(a.pubkey) })),
    });
  });
  r.get('/api/agents/:id', (c) => {
    const app = needApp(ctx);
    const pubkey = pubkeyOf(c.params.id!, ctx.deps.names());
    if (!pubkey) throw new HttpError(404, 'no such agent: give an npub, a hex pubkey or the name of an agent here');
    const last = Math.min(100, Math.max(0, Number(c.url.searchParams.get('last') ?? 10) || 10));
    sendJson(c.res, 200, app.book.report(pubkey, { last }));
  });
  r.get('/api/reputation/stats', (c) => {
    // Labels counted, and ignored ones by reason (wrong-namespace, bad-rating, ...).
    sendJson(c.res, 200, needApp(ctx).book.stats());
  });
  r.post('/api/labels', async (c) => {
    const app = needApp(ctx);
    const text = await c.body();
    const user = ctx.auth.require(c.req, text);
    const e = signedEvent(text);
    if (e.pubkey !== user.pubkey) throw new HttpError(403, 'you can only post labels you signed yourself');
    const read = readJobLabel(e, { readInvoice: app.readInvoice, now: Math.floor(Date.now() / 1000) });
    if (!read.ok) return sendJson(c.res, 422, { error: `not a job label that counts: ${read.reason}`, reason: read.reason });
    const p = await app.publish(e);
    if (!p.ok) throw new HttpError(p.message.includes('rate-limited:') ? 429 : 400, p.message);
    sendJson(c.res, 202, { id: e.id, subjects: read.observations.map((o) => o.subject), paid: read.observations.some((o) => o.paymentHash !== null) });
  });
}
