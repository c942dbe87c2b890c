// Jobs over HTTP: a customer's own jobs (all of them for admins), each with its transitions and
// the relay events about it; submitting a signed request; approving (admins); paying a job's
// invoice from the user's account in the built-in wallet.
import type { NostrEvent } from '../../nostr/nip01.js';
import { npubEncode } from '../../nostr/nip19.js';
import type { JobRow } from '../../dvm/jobs/store.js';
import type { WebContext } from '../context.js';
import type { User } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { HttpError, sendJson, type Router } from '../http.js';
import { needApp } from './reputation.js';
import { jobRequestEvent } from './events.js';

/** The built-in wallet account of a dashboard user. */
export const userAccount = (pubkey: string): string => `customer:${pubkey}`;

export function visibleJob(app: AppDeps, id: string, user: User): JobRow {
  if (!/^[0-9a-f]{64}$/.test(id)) throw new HttpError(400, 'a job id is 64 lowercase hex characters');
  const job = app.jobs.get(id);
  // Not yours reads as not found: job ids of others are not confirmed to exist.
  if (!job || (!user.admin && job.customer !== user.pubkey)) throw new HttpError(404, `no job ${id}`);
  return job;
}

/** The relay events about a job: the request, feedback, auction (with its bids), result, labels. */
export async function jobEvents(app: AppDeps, job: JobRow): Promise<NostrEvent[]> {
  const first = await app.client.query([{ ids: [job.id] }, { '#e': [job.id] }], { timeoutMs: 3000 });
  const auctions = new Set(first.filter((e) => e.kind === 7280).map((e) => e.id));
  if (job.auctionId) auctions.add(job.auctionId);
  const more = auctions.size ? await app.client.query([{ '#e': [...auctions] }], { timeoutMs: 3000 }) : [];
  const byId = new Map([...first, ...more].map((e) => [e.id, e]));
  return [...byId.values()].sort((a, b) => a.created_at - b.created_at || a.kind - b.kind);
}

const jobJson = (j: JobRow) => ({
  id: j.id,
  kind: j.kind,
  customer: j.customer,
  state: j.state,
  priceMsat: j.priceMsat,
  invoice: j.invoice,
  paymentHash: j.paymentHash,
  auctionId: j.auctionId,
  agent: j.agent,
  agentPriceMsat: j.agentPriceMsat,
  resultId: j.resultId,
  /** Forwarded jobs: the peer instance doing the work and our request to it. */
  forwardedTo: j.forwardedTo,
  forwardId: j.forwardId,
  createdAt: j.createdAt,
  updatedAt: j.updatedAt,
});

export function registerJobsApi(r: Router, ctx: WebContext): void {
  r.get('/api/jobs', (c) => {
    const app = needApp(ctx);
    const user = ctx.auth.require(c.req);
    const limit = Math.min(500, Math.max(1, Number(c.url.searchParams.get('limit') ?? 50) || 50));
    const rows = user.admin && c.url.searchParams.get('mine') === null ? app.jobs.list(limit) : app.jobs.listByCustomer(user.pubkey, limit);
    sendJson(c.res, 200, { jobs: rows.map(jobJson) });
  });

  r.get('/api/jobs/:id', async (c) => {
    const app = needApp(ctx);
    const user = ctx.auth.require(c.req);
    const job = visibleJob(app, c.params.id!, user);
    sendJson(c.res, 200, { job: jobJson(job), transitions: app.jobs.transitions(job.id), events: await jobEvents(app, job) });
  });

  r.post('/api/jobs', async (c) => {
    const app = needApp(ctx);
    const text = await c.body();
    const user = ctx.auth.require(c.req, text);
    const e = jobRequestEvent(app, text);
    const p = await app.publish(e);
    if (!p.ok) throw new HttpError(p.message.includes('rate-limited:') ? 429 : 400, p.message);
    // The DVM hears the request through the relay; wait (briefly) until it has recorded the job,
    // so that the page the browser goes to next can show it.
    for (let i = 0; i < 40 && !app.jobs.get(e.id); i++) await new Promise((r) => setTimeout(r, 50));
    sendJson(c.res, 202, { id: e.id, state: app.jobs.get(e.id)?.state ?? 'received' });
  });

  r.post('/api/jobs/:id/approve', (c) => {
    const app = needApp(ctx);
    const user = ctx.auth.requireAdmin(c.req);
    const job = visibleJob(app, c.params.id!, user);
    if (job.state !== 'awaiting-approval') throw new HttpError(409, `job ${job.id} is ${job.state}, not awaiting-approval`);
    app.dvm.approve(job.id, `${npubEncode(user.pubkey)} on the dashboard`);
    sendJson(c.res, 200, { id: job.id, state: app.jobs.get(job.id)!.state });
  });

  r.post('/api/jobs/:id/pay', async (c) => {
    const app = needApp(ctx);
    const user = ctx.auth.require(c.req);
    const job = visibleJob(app, c.params.id!, user);
    if (job.customer !== user.pubkey) throw new HttpError(403, 'only the customer pays a job from their account');
    if (job.state !== 'awaiting-payment' || !job.invoice) throw new HttpError(409, `job ${job.id} is ${job.state}: nothing to pay`);
    try {
      const p = await app.wallet.pay({ bolt11: job.invoice, fromAccount: userAccount(user.pubkey) });
      sendJson(c.res, 200, { paymentHash: p.paymentHash, amountMsat: p.amountMsat, preimage: p.preimage });
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
  });

  r.get('/api/account', async (c) => {
    const app = needApp(ctx);
    const user = ctx.auth.require(c.req);
    const account = userAccount(user.pubkey);
    sendJson(c.res, 200, { account, balanceMsat: await app.wallet.balance(account) });
  });
}
