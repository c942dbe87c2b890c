// The relay page (public): connections, events/s, storage and the kinds stored most, refreshed
// every 2 s from a fragment.
import type { WebContext } from '../context.js';
import { sendHtml, type Router } from '../http.js';
import { html, type Html } from '../html.js';
import { relaySampler, type RelayView } from '../api/relay.js';
import { page } from './layout.js';
import { pageUser } from './common.js';

export const bytes = (n: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
};

const num = (n: number): string => n.toLocaleString('en-US');

function relayFragment(s: RelayView): Html {
  const card = (label: string, value: string, id: string, title?: string) =>
    html`<div class="card"><span class="label">${label}</span><span class="value" data-counter="${id}" ${title ? html`title="${title}"` : ''}>${value}</span></div>`;
  return html`<div class="cards">
  ${card('connections', num(s.connections), 'connections')}
  ${card('subscriptions', num(s.subscriptions), 'subscriptions')}
  ${card('events/s (last 10 s)', s.eventsPerSecond.toLocaleString('en-US', { maximumFractionDigits: 2 }), 'events-per-second')}
  ${card('events accepted', num(s.eventsAccepted), 'accepted')}
  ${card('events rejected', num(s.eventsRejected), 'rejected')}
  ${card('events stored', num(s.storedEvents), 'stored')}
  ${card('storage', bytes(s.storageBytes), 'storage', `${s.storageBytes} bytes (database and WAL)`)}
</div>
${
  s.topKinds.length === 0
    ? html`<p>No events stored yet.</p>`
    : html`<table class="compact top-kinds"><caption>Top kinds stored</caption><thead><tr><th scope="col">kind</th><th scope="col">what</th><th scope="col">events</th><th scope="col">share</th></tr></thead><tbody>
${s.topKinds.map(
  (k) =>
    html`<tr data-kind="${k.kind}"><td>${k.kind}</td><td>${k.name || '–'}</td><td>${num(k.count)}</td><td>${s.storedEvents > 0 ? `${((k.count / s.storedEvents) * 100).toFixed(1)} %` : '–'}</td></tr>`,
)}
</tbody></table>`
}`;
}

export function registerRelayPage(r: Router, ctx: WebContext): void {
  const sampler = relaySampler(ctx);

  r.get('/relay', async (c) => {
    const user = pageUser(ctx, c.req);
    const body = ctx.deps.relayStats
      ? html`<p>The embedded relay${ctx.deps.relayUrl ? html` at <code>${ctx.deps.relayUrl}</code>` : ''}. The figures refresh every 2 seconds.</p>
<section aria-labelledby="relay-h">
  <h2 id="relay-h">Now</h2>
  <div id="relay-stats" hx-get="/fragments/relay" hx-trigger="every 2s" hx-swap="innerHTML">${relayFragment(await sampler.read())}</div>
</section>`
      : html`<p class="notice">This instance uses remote relays (${ctx.deps.relays().join(', ')}): there is no embedded relay to report on.</p>`;
    sendHtml(c.res, 200, page({ title: 'Relay', active: '/relay', user, body }));
  });

  r.get('/fragments/relay', async (c) => {
    sendHtml(c.res, 200, relayFragment(await sampler.read()).text);
  });
}
