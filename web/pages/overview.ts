// Overview: relay, agents, jobs and wallet at a glance; counters refresh every few seconds and the
// activity list fills from the live feed.
import type { WebContext } from '../context.js';
import { sendHtml, type Router } from '../http.js';
import { html } from '../html.js';
import { escrowHeld } from '../api/index.js';
import { page, shortNpub } from './layout.js';
import { pageUser, sats } from './common.js';

export function registerOverview(r: Router, ctx: WebContext): void {
  r.get('/', (c) => {
    const user = pageUser(ctx, c.req);
    const body = html`
<section aria-labelledby="counters-h">
  <h2 id="counters-h">At a glance</h2>
  <div id="counters" hx-get="/fragments/overview" hx-trigger="load, every 3s, job from:body delay:500ms" hx-sync="this:queue last" hx-swap="innerHTML">loading…</div>
</section>
<section aria-labelledby="activity-h">
  <h2 id="activity-h">Live activity</h2>
  <ol id="activity" class="activity" aria-live="polite" data-live-activity></ol>
</section>`;
    sendHtml(c.res, 200, page({ title: 'Overview', active: '/', user, body }));
  });

  r.get('/fragments/overview', async (c) => {
    const app = ctx.deps.app;
    const relay = ctx.deps.relayStats ? await ctx.deps.relayStats() : undefined;
    const jobs = app ? app.jobs.countByState() : {};
    const total = Object.values(jobs).reduce((s, n) => s + (n ?? 0), 0);
    const open = (['received', 'awaiting-approval', 'awaiting-payment', 'bidding', 'assigned', 'executing'] as const).reduce((s, k) => s + (jobs[k] ?? 0), 0);
    const agents = app?.swarm.agents ?? [];
    const wallet = app ? { fees: await app.wallet.balance('fees'), escrow: escrowHeld(app.wallet.ledger.balances()) } : undefined;
    const card = (label: string, value: string | number, id: string) => html`<div class="card"><span class="label">${label}</span><span class="value" data-counter="${id}">${value}</span></div>`;
    sendHtml(
      c.res,
      200,
      html`<div class="cards">
  ${relay ? [card('relay connections', relay.connections, 'connections'), card('events accepted', relay.eventsAccepted, 'accepted'), card('events stored', relay.storedEvents, 'stored')] : ''}
  ${card('agents alive', `${agents.filter((a) => a.alive()).length} / ${agents.length}`, 'agents')}
  ${card('jobs running', open, 'open')}
  ${card('jobs delivered', jobs.delivered ?? 0, 'delivered')}
  ${card('jobs in all', total, 'jobs')}
  ${wallet ? [card('held in escrow', sats(wallet.escrow), 'escrow'), card('fees earned', sats(wallet.fees), 'fees')] : ''}
</div>
<table class="compact"><caption>Agents</caption><thead><tr><th scope="col">agent</th><th scope="col">status</th><th scope="col">jobs now</th><th scope="col">score</th></tr></thead><tbody>
${agents.map(
  (a) => html`<tr><td><a href="/agents/${a.name}">${a.persona.displayName}</a> <small>${shortNpub(a.pubkey)}</small></td><td>${a.alive() ? (a.active > 0 ? 'busy' : 'idle') : 'offline'}</td><td>${a.active}</td><td>${app!.book.score(a.pubkey).toFixed(3)}</td></tr>`,
)}
</tbody></table>`.text,
    );
  });
}
