// The peers page (public, like the relay they come from): the other Timmy instances this one has
// found through their announcements (kind 31280), with the agents that vouch for them (the same
// as JSON: GET /api/peers, web/api/peers.ts).
import type { WebContext } from '../context.js';
import { sendHtml, type Router } from '../http.js';
import { livePeers, peerView } from '../api/peers.js';
import { html } from '../html.js';
import { page, shortNpub } from './layout.js';
import { pageUser } from './common.js';

const ago = (s: number): string => (s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`);

export function registerPeersPage(r: Router, ctx: WebContext): void {
  r.get('/peers', (c) => {
    const user = pageUser(ctx, c.req);
    const now = Math.floor(Date.now() / 1000);
    const list = livePeers(ctx);
    const body =
      ctx.deps.app?.peers === undefined
        ? html`<p class="notice">Federation is off on this instance (<code>federation.enabled</code> is false).</p>`
        : list.length === 0
          ? html`<p>No peer instance is announced on the federation relays yet. Instances announce themselves every few minutes (kind 31280); see docs/federation.md.</p>`
          : html`<table class="peers"><caption>Peer instances</caption><thead><tr><th scope="col">instance</th><th scope="col">kinds (vouched agents)</th><th scope="col">auctions</th><th scope="col">relays</th><th scope="col">announced</th></tr></thead><tbody>
${list.map((p) => {
  const v = peerView(p);
  return html`<tr data-peer="${p.pubkey}"><td><strong>${v.name}</strong><br><code title="${v.npub}">${shortNpub(p.pubkey)}</code> ${v.software} ${v.version}</td>
<td>${v.kinds.length ? v.kinds.join(', ') : '–'} (${p.agents.length} of ${v.announcedAgents} agents vouch)</td>
<td>${v.auctions}${v.auctions === 'open' ? ` ≥ ${v.minScore}` : ''}</td><td>${v.relays.join(' ')}</td><td>${ago(now - v.createdAt)} ago, expires in ${ago(v.expiresAt - now)}</td></tr>`;
})}
</tbody></table>`;
    sendHtml(c.res, 200, page({ title: 'Peers', active: '/peers', user, body }));
  });
}
