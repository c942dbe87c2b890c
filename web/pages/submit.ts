// Submit a job: any kind the agents serve, with input and params; the signed-in user's browser
// signer (NIP-07) signs the NIP-90 request, the page posts it, then shows the job (and its invoice).
import type { WebContext } from '../context.js';
import { sendHtml, type Router } from '../http.js';
import { html } from '../html.js';
import { page } from './layout.js';
import { kindName, pageUser, signInFirst } from './common.js';

export function registerSubmitPage(r: Router, ctx: WebContext): void {
  r.get('/submit', (c) => {
    const user = pageUser(ctx, c.req);
    const kinds = ctx.deps.app?.dvm.kinds() ?? [];
    const body = !user
      ? signInFirst('the job form (your browser signer signs the request)')
      : html`<form id="submit-form" class="stack" novalidate>
  <p><label for="kind">Kind</label>
  <select id="kind" name="kind" required>${kinds.map((k) => html`<option value="${k}">${k} · ${kindName(k)}</option>`)}</select></p>
  <p><label for="input">Input</label>
  <textarea id="input" name="input" rows="6" required aria-describedby="input-help"></textarea>
  <small id="input-help">Text to work on, a URL, an event id or a job id (choose its type below). For event counts (5400), a JSON list of filters.</small></p>
  <p><label for="input-type">Input type</label>
  <select id="input-type" name="inputType"><option value="text">text</option><option value="url">url</option><option value="event">event</option><option value="job">job</option></select></p>
  <p><label for="params">Params</label>
  <textarea id="params" name="params" rows="3" aria-describedby="params-help" placeholder="max_sentences=3"></textarea>
  <small id="params-help">One <code>name=value</code> per line, sent as NIP-90 <code>param</code> tags.</small></p>
  <p><label for="bid">Most you will pay (sat, optional)</label>
  <input id="bid" name="bid" type="number" min="0" step="1" inputmode="numeric"></p>
  <p><button type="submit">Sign and submit</button></p>
  <p id="submit-status" role="status"></p>
</form>`;
    sendHtml(c.res, 200, page({ title: 'Submit a job', active: '/submit', user, body }));
  });
}
