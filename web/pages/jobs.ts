// Jobs: a live list (yours, or all for admins), each job's timeline through the state machine with
// its auction (commitments and reveals as they arrive, the second-price outcome), feedback, result
// and payment; and the approvals queue (admins).
import type { NostrEvent } from '../../nostr/nip01.js';
import type { JobRow, Transition } from '../../dvm/jobs/store.js';
import type { WebContext } from '../context.js';
import { sendHtml, type Router } from '../http.js';
import { html, type Html } from '../html.js';
import { needApp } from '../api/reputation.js';
import { jobEvents, userAccount, visibleJob } from '../api/jobs.js';
import type { User } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { page, shortNpub } from './layout.js';
import { kindName, pageUser, sats, signInFirst, stateBadge, time } from './common.js';

const tag = (e: NostrEvent, name: string): string | undefined => e.tags.find((t) => t[0] === name)?.[1];

function jobsTable(jobs: readonly JobRow[], admin: boolean): Html {
  if (jobs.length === 0) return html`<p>No jobs yet. <a href="/submit">Submit one</a>.</p>`;
  return html`<table class="jobs"><thead><tr><th scope="col">job</th><th scope="col">kind</th><th scope="col">state</th><th scope="col">price</th>${admin ? html`<th scope="col">customer</th>` : ''}<th scope="col">agent</th><th scope="col">created</th></tr></thead><tbody>
${jobs.map(
  (j) =>
    html`<tr data-job="${j.id}"><td><a href="/jobs/${j.id}"><code>${j.id.slice(0, 12)}</code></a></td><td>${kindName(j.kind)}</td><td>${stateBadge(j.state)}</td><td>${sats(j.priceMsat)}</td>${admin ? html`<td>${shortNpub(j.customer)}</td>` : ''}<td>${j.agent ? shortNpub(j.agent) : '–'}</td><td>${time(j.createdAt)}</td></tr>`,
)}
</tbody></table>`;
}

/** One line of the timeline: a state change or an event on the relay. */
interface Line {
  readonly at: number;
  readonly what: Html;
  readonly cls: string;
}

function eventLine(e: NostrEvent, app: AppDeps, names: ReadonlyMap<string, string>, showContent: boolean): Html {
  const who = names.get(e.pubkey) ?? (e.pubkey === app.coordinatorPubkey ? 'coordinator' : shortNpub(e.pubkey));
  switch (e.kind) {
    case 7000: {
      const amount = e.tags.find((t) => t[0] === 'amount');
      return html`feedback <strong>${tag(e, 'status') ?? '?'}</strong> from ${who}${e.tags.find((t) => t[0] === 'status')?.[2] ? html`: ${e.tags.find((t) => t[0] === 'status')![2]}` : ''}${amount ? html` (${sats(Number(amount[1]))})` : ''}`;
    }
    case 7280:
      return html`auction opened by the coordinator (max ${sats(Number(tag(e, 'max-price') ?? 0) || null)}; commit until ${time(Number(tag(e, 'commit-deadline') ?? 0))})`;
    case 7281:
      return html`sealed bid (commitment) from ${who}`;
    case 7282:
      return html`bid revealed by ${who}: ${sats(Number(tag(e, 'price') ?? 0))}`;
    case 7283: {
      const winner = e.tags.find((t) => t[0] === 'p')?.[1];
      return html`auction result: <strong>${tag(e, 'status') ?? ''}</strong>${winner ? html`, won by ${names.get(winner) ?? shortNpub(winner)} at the second price ${sats(Number(tag(e, 'price') ?? 0))}` : ''}`;
    }
    case 1985:
      return html`label from ${who}: ${e.tags.filter((t) => t[0] === 'l').map((t) => t[1]).join(', ')}`;
    default:
      if (e.kind >= 6000 && e.kind < 7000)
        return html`<strong>result</strong> from ${who}${showContent && !e.tags.some((t) => t[0] === 'encrypted') ? html`<pre class="result">${e.content}</pre>` : ''}`;
      if (e.kind >= 5000 && e.kind < 6000) return html`request (kind ${e.kind}) from ${e.pubkey === app.coordinatorPubkey ? 'coordinator' : shortNpub(e.pubkey)}`;
      return html`event kind ${e.kind} from ${who}`;
  }
}

async function payBlock(app: AppDeps, job: JobRow, user: User): Promise<Html> {
  if (job.state !== 'awaiting-payment' || !job.invoice || user.pubkey !== job.customer) return html``;
  const account = userAccount(user.pubkey);
  const balance = await app.wallet.balance(account);
  return html`<section class="pay" aria-labelledby="pay-h">
  <h2 id="pay-h">Pay ${sats(job.priceMsat)}</h2>
  <p>Pay this Lightning invoice with any wallet:</p>
  <p><textarea readonly rows="4" aria-label="invoice" id="invoice">${job.invoice}</textarea></p>
  <p><a href="lightning:${job.invoice}">Open in a wallet</a> · <button type="button" data-copy="#invoice">Copy invoice</button></p>
  <p>Or pay from your balance on this instance (account <code>${account}</code>: ${sats(balance)}):
  <button type="button" id="pay-button" data-pay="${job.id}" ${balance < job.priceMsat ? 'disabled' : ''}>Pay from my balance</button></p>
  <p id="pay-status" role="status"></p>
</section>`;
}

/**
 * Events carry whole seconds, transitions milliseconds: within a second, events are spread in the
 * order a job goes through (request, invoice, auction, work, result, labels) so the timeline reads right.
 */
function phase(e: NostrEvent): number {
  const status = tag(e, 'status');
  if (e.kind >= 5000 && e.kind < 6000) return 0;
  if (e.kind === 7000) return status === 'payment-required' ? 1 : status === 'processing' || status === 'partial' ? 7 : 9;
  if (e.kind >= 7280 && e.kind <= 7283) return 2 + (e.kind - 7280);
  if (e.kind >= 6000 && e.kind < 7000) return 8;
  return 10;
}

async function timeline(app: AppDeps, job: JobRow, user: User): Promise<Html> {
  const names = new Map(app.swarm.agents.map((a) => [a.pubkey, a.persona.displayName]));
  const events = await jobEvents(app, job);
  const lines: Line[] = [
    ...app.jobs.transitions(job.id).map((t: Transition) => ({ at: t.at, cls: 'transition', what: html`${t.from ? html`${stateBadge(t.from)} → ` : ''}${stateBadge(t.to)} <span class="reason">${t.reason}</span>` })),
    ...events.map((e) => ({ at: e.created_at * 1000 + phase(e) * 90, cls: `event kind-${e.kind}`, what: eventLine(e, app, names, user.admin || user.pubkey === job.customer) })),
  ].sort((a, b) => a.at - b.at);
  const commits = events.filter((e) => e.kind === 7281).length;
  const reveals = events.filter((e) => e.kind === 7282).length;
  return html`${await payBlock(app, job, user)}<p class="summary">state ${stateBadge(job.state)} · price ${sats(job.priceMsat)} · ${commits} sealed bids, ${reveals} revealed${job.agent ? html` · agent ${names.get(job.agent) ?? shortNpub(job.agent)} paid ${sats(job.agentPriceMsat)} (second price)` : ''}</p>
<ol class="timeline">${lines.map((l) => html`<li class="${l.cls}">${time(l.at)} ${l.what}</li>`)}</ol>`;
}

export function registerJobPages(r: Router, ctx: WebContext): void {
  r.get('/jobs', (c) => {
    const user = pageUser(ctx, c.req);
    const body = user
      ? html`<p>${user.admin ? 'All jobs on this instance.' : 'Your jobs.'} The list updates live.</p>
<div id="jobs" hx-get="/fragments/jobs" hx-trigger="load, job from:body delay:300ms" hx-sync="this:queue last" hx-swap="innerHTML">loading…</div>`
      : signInFirst('your jobs');
    sendHtml(c.res, 200, page({ title: 'Jobs', active: '/jobs', user, body }));
  });

  r.get('/fragments/jobs', (c) => {
    const app = needApp(ctx);
    const user = ctx.auth.require(c.req);
    const rows = user.admin ? app.jobs.list(100) : app.jobs.listByCustomer(user.pubkey, 100);
    sendHtml(c.res, 200, jobsTable(rows, user.admin).text);
  });

  r.get('/jobs/:id', async (c) => {
    const user = pageUser(ctx, c.req);
    if (!user) return sendHtml(c.res, 401, page({ title: 'Job', active: '/jobs', user, body: signInFirst('this job') }));
    const app = needApp(ctx);
    const job = visibleJob(app, c.params.id!, user);
    const body = html`<p><code class="job-id">${job.id}</code> · ${kindName(job.kind)} · customer ${shortNpub(job.customer)}</p>
<section aria-labelledby="tl-h">
  <h2 id="tl-h">Timeline</h2>
  <div id="timeline" data-job="${job.id}" hx-get="/fragments/jobs/${job.id}/timeline" hx-trigger="job-${job.id} from:body delay:150ms, nostr-${job.id} from:body delay:150ms, nostr-auction from:body delay:150ms, every 4s" hx-sync="this:queue last" hx-swap="innerHTML" aria-live="polite">
    ${await timeline(app, job, user)}
  </div>
</section>`;
    sendHtml(c.res, 200, page({ title: `Job ${job.id.slice(0, 12)}`, active: '/jobs', user, body }));
  });

  r.get('/fragments/jobs/:id/timeline', async (c) => {
    const app = needApp(ctx);
    const user = ctx.auth.require(c.req);
    const job = visibleJob(app, c.params.id!, user);
    sendHtml(c.res, 200, (await timeline(app, job, user)).text);
  });

  r.get('/approvals', (c) => {
    const user = pageUser(ctx, c.req);
    const body = !user
      ? signInFirst('the approvals queue')
      : !user.admin
        ? html`<p class="notice">The approvals queue is for admins (web.admins in the config).</p>`
        : html`<p>Jobs waiting for an operator (dvm.approvalKinds, dvm.approvalAboveMsat). Approving moves a job on to payment or bidding.</p>
<div id="approvals" hx-get="/fragments/approvals" hx-trigger="load, job from:body delay:300ms" hx-sync="this:queue last" hx-swap="innerHTML">loading…</div>`;
    sendHtml(c.res, user && !user.admin ? 403 : 200, page({ title: 'Approvals', active: '/approvals', user, body }));
  });

  r.get('/fragments/approvals', (c) => {
    const app = needApp(ctx);
    ctx.auth.requireAdmin(c.req);
    const waiting = app.jobs.unfinished().filter((j) => j.state === 'awaiting-approval');
    sendHtml(
      c.res,
      200,
      (waiting.length === 0
        ? html`<p>Nothing waits for approval.</p>`
        : html`<ul class="approvals">${waiting.map(
            (j) =>
              html`<li><a href="/jobs/${j.id}"><code>${j.id.slice(0, 12)}</code></a> ${kindName(j.kind)} · ${sats(j.priceMsat)} · from ${shortNpub(j.customer)} · ${time(j.createdAt)}
          <button type="button" data-approve="${j.id}">Approve</button></li>`,
          )}</ul>`
      ).text,
    );
  });
}
