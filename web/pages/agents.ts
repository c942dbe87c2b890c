// Agents: every agent of this instance with its profile, kinds, price and reputation; each agent's
// page adds the score's evidence, its recent jobs and its recent bids.
import type { NostrEvent } from '../../nostr/nip01.js';
import { npubEncode } from '../../nostr/nip19.js';
import type { Agent } from '../../agents/swarm.js';
import type { ReputationReport } from '../../reputation/book.js';
import type { WebContext } from '../context.js';
import { HttpError, sendHtml, type Router } from '../http.js';
import { html, type Html } from '../html.js';
import { needApp, pubkeyOf } from '../api/reputation.js';
import { page, shortNpub } from './layout.js';
import { kindName, pageUser, sats, stateBadge, time } from './common.js';

const avatar = (a: Agent): Html =>
  a.persona.picture ? html`<img class="avatar" src="${a.persona.picture}" alt="" width="48" height="48">` : html`<span class="avatar" aria-hidden="true">${a.persona.displayName.slice(0, 1)}</span>`;

const price = (a: Agent): string => `${sats(a.persona.pricing.baseMsat)} + ${sats(a.persona.pricing.perUnitMsat)} per unit`;

export function scoreBlock(r: ReputationReport): Html {
  const c = r.counts;
  const max = Math.max(1, ...Object.values(c.ratings));
  return html`<div class="score" data-score="${r.score.toFixed(4)}">
  <p class="big"><span class="value">${r.score.toFixed(3)}</span> <span class="label">reputation score</span></p>
  <p>posterior mean ${r.mean.toFixed(3)} · weight ${r.weight.toFixed(1)} · standing as a rater ${r.standing.toFixed(3)}</p>
  <p>${c.labels} labels from ${c.raters} raters: ${c.paid} paid, ${c.unpaid} unpaid · delivered ${c.outcomes.delivered}, late ${c.outcomes.late}, failed ${c.outcomes.failed}</p>
  <table class="ratings"><caption>Ratings</caption><tbody>
  ${(['5', '4', '3', '2', '1'] as const).map(
    (k) => html`<tr><th scope="row">${k}★</th><td><meter min="0" max="${max}" value="${c.ratings[k]}" aria-label="${k} stars: ${c.ratings[k]}"></meter></td><td>${c.ratings[k]}</td></tr>`,
  )}
  </tbody></table>
</div>`;
}

function lastLabels(r: ReputationReport): Html {
  if (r.last.length === 0) return html`<p>No labels yet.</p>`;
  return html`<table class="compact"><caption>Newest labels</caption><thead><tr><th scope="col">when</th><th scope="col">label</th><th scope="col">paid</th><th scope="col">by</th><th scope="col">job</th></tr></thead><tbody>
${r.last.map(
  (l) =>
    html`<tr><td>${time(l.createdAt * 1000)}</td><td>${[l.rating !== null ? `rating ${l.rating}` : '', l.outcome ?? ''].filter(Boolean).join(', ')}</td><td>${l.paid ? 'paid' : 'unpaid'}</td><td>${shortNpub(l.rater)}</td><td>${l.job ? html`<code>${l.job.slice(0, 12)}</code>` : '–'}</td></tr>`,
)}
</tbody></table>`;
}

export function registerAgentPages(r: Router, ctx: WebContext): void {
  r.get('/agents', (c) => {
    const user = pageUser(ctx, c.req);
    const app = needApp(ctx);
    const body = html`<ul class="agents">
${app.swarm.agents.map(
  (a) => html`<li class="agent-card">
  ${avatar(a)}
  <div>
    <h2><a href="/agents/${a.name}">${a.persona.displayName}</a></h2>
    <p class="npub"><code>${npubEncode(a.pubkey)}</code></p>
    <p>${a.persona.kinds.map((k) => kindName(k)).join(', ')} · ${price(a)}</p>
    <p>status: <strong>${a.alive() ? (a.active > 0 ? 'busy' : 'idle') : 'offline'}</strong> · score <strong data-agent-score="${a.name}">${app.book.score(a.pubkey).toFixed(3)}</strong></p>
  </div>
</li>`,
)}
</ul>`;
    sendHtml(c.res, 200, page({ title: 'Agents', active: '/agents', user, body }));
  });

  r.get('/agents/:id', async (c) => {
    const user = pageUser(ctx, c.req);
    const app = needApp(ctx);
    const pubkey = pubkeyOf(c.params.id!, ctx.deps.names());
    const agent = app.swarm.agents.find((a) => a.pubkey === pubkey);
    if (!pubkey || !agent) throw new HttpError(404, 'no such agent here');
    const report = app.book.report(pubkey, { last: 10 });
    const domain = app.swarm.nip05Domain;
    const jobs = app.jobs.listByAgent(pubkey, 10);
    const bids: NostrEvent[] = await app.client.query([{ kinds: [7282], authors: [pubkey], limit: 10 }], { timeoutMs: 2000 });
    const body = html`
<section class="profile" aria-labelledby="profile-h">
  <h2 id="profile-h">Profile</h2>
  <div class="agent-card">${avatar(agent)}<div>
    <p><strong>${agent.persona.displayName}</strong> (${agent.name})</p>
    <p>${agent.persona.about}</p>
    <p class="npub"><code>${npubEncode(pubkey)}</code></p>
    <p>NIP-05: ${domain ? html`<code>${agent.name}@${domain}</code> (served by this instance at /.well-known/nostr.json)` : html`not set (agents.nip05Domain); served here as <code>${agent.name}@${c.req.headers.host ?? 'this host'}</code>`}</p>
    <p>serves ${agent.persona.kinds.map((k) => html`<span class="kind">${k} ${kindName(k)}</span> `)}</p>
    <p>price ${price(agent)} · status <strong>${agent.alive() ? (agent.active > 0 ? 'busy' : 'idle') : 'offline'}</strong></p>
    <p><label for="offer">BOLT12 offer</label> (pay this agent from any BOLT12 wallet; also in its profile as <code>bolt12</code>)</p>
    <p><textarea readonly rows="3" id="offer" data-offer="${agent.name}">${agent.offer}</textarea></p>
    <p><a href="lightning:${agent.offer}">Open in a wallet</a> · <button type="button" data-copy="#offer">Copy offer</button></p>
  </div></div>
</section>
<section aria-labelledby="rep-h">
  <h2 id="rep-h">Reputation</h2>
  ${scoreBlock(report)}
  ${lastLabels(report)}
</section>
<section aria-labelledby="jobs-h">
  <h2 id="jobs-h">Recent jobs</h2>
  ${
    jobs.length === 0
      ? html`<p>No jobs yet.</p>`
      : html`<table class="compact"><thead><tr><th scope="col">job</th><th scope="col">kind</th><th scope="col">state</th><th scope="col">paid to agent</th><th scope="col">when</th></tr></thead><tbody>
      ${jobs.map((j) => html`<tr><td><code>${j.id.slice(0, 12)}</code></td><td>${kindName(j.kind)}</td><td>${stateBadge(j.state)}</td><td>${sats(j.agentPriceMsat)}</td><td>${time(j.createdAt)}</td></tr>`)}
      </tbody></table>`
  }
</section>
<section aria-labelledby="bids-h">
  <h2 id="bids-h">Recent bids (revealed)</h2>
  ${
    bids.length === 0
      ? html`<p>No bids yet.</p>`
      : html`<ul>${bids.map((b) => html`<li>${time(b.created_at * 1000)}: ${sats(Number(b.tags.find((t) => t[0] === 'price')?.[1] ?? 0))} in auction <code>${(b.tags.find((t) => t[0] === 'e' && t[3] === 'auction')?.[1] ?? '').slice(0, 12)}</code></li>`)}</ul>`
  }
</section>`;
    sendHtml(c.res, 200, page({ title: agent.persona.displayName, active: '/agents', user, body }));
  });
}
