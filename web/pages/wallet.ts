// The wallet page (admins): which backend serves (and a warning when the instance fell back to the
// built-in wallet), then, refreshed every 5 s from a fragment, the withdrawals (approve or reject the
// requested ones), the agents' balances, the other accounts, escrows held, released and refunded,
// and the newest ledger entries. Amounts in sats, with the exact msat in a title.
import type { WebContext } from '../context.js';
import { sendHtml, type Router } from '../http.js';
import { html, type Html } from '../html.js';
import { needApp } from '../api/reputation.js';
import { walletView, type WalletView } from '../api/wallet.js';
import type { AppDeps } from '../deps.js';
import { Withdrawals, type Withdrawal } from '../../wallet/withdrawals.js';
import { page } from './layout.js';
import { pageUser, sats, signInFirst, stateBadge, time } from './common.js';

/** Entries shown on the page (the API gives up to 1000). */
const PAGE_ENTRIES = 50;
/** Withdrawals shown on the page (GET /api/withdrawals gives more). */
const PAGE_WITHDRAWALS = 50;

const BACKEND_NAMES: Readonly<Record<string, string>> = { builtin: 'built-in', lnd: 'LND', nwc: 'NWC' };
const backendName = (b: string): string => BACKEND_NAMES[b] ?? b;

/** The backend block: configured and serving backend, node, capabilities, and a warning after a fallback. */
function backendBlock(v: WalletView): Html {
  const b = v.backend;
  const fellBack = b.serving !== b.configured;
  const caps = Object.entries(v.info.capabilities)
    .filter(([, on]) => on)
    .map(([k]) => k);
  return html`<section aria-labelledby="backend-h" class="wallet-backend" data-backend-configured="${b.configured}" data-backend-serving="${b.serving}">
  <h2 id="backend-h">Backend</h2>
  ${
    fellBack
      ? html`<p class="notice warning" role="alert" data-fallback>The ${backendName(b.configured)} backend is configured but not in use: ${b.reason ?? 'no reason recorded'}. The instance runs on the ${backendName(b.serving)} wallet (the same ledger; payments from and to other Lightning nodes are refused). Fix the backend and restart Timmy.</p>`
      : ''
  }
  <dl class="facts">
    <dt>configured</dt><dd data-backend="configured">${backendName(b.configured)}</dd>
    <dt>serving</dt><dd data-backend="serving">${backendName(b.serving)}${fellBack ? html` <strong>(fallback)</strong>` : ''}</dd>
    <dt>network</dt><dd>${v.info.network}</dd>
    <dt>node</dt><dd><code class="npub">${v.info.nodePubkey}</code></dd>
    <dt>capabilities</dt><dd>${caps.length ? caps.join(', ') : 'none'}</dd>
  </dl>
</section>`;
}

/** `npub1… on the dashboard` shortened to its npub's ends (the whole in a title). */
const shortWho = (who: string): string => who.replace(/\bnpub1[0-9a-z]{20,}/g, (n) => `${n.slice(0, 10)}…${n.slice(-4)}`);
const shortDestination = (d: string): string => (d.length > 28 ? `${d.slice(0, 16)}…${d.slice(-8)}` : d);

function withdrawalsTable(list: readonly Withdrawal[]): Html {
  if (list.length === 0) return html`<p class="wallet-withdrawals">No withdrawals yet.</p>`;
  const waiting = list.filter((w) => w.state === 'requested').length;
  return html`<table class="compact wallet-withdrawals"><caption>Withdrawals (newest ${list.length}; ${waiting} waiting for approval)</caption><thead><tr><th scope="col">id</th><th scope="col">state</th><th scope="col">account</th><th scope="col">amount</th><th scope="col">to</th><th scope="col">reason</th><th scope="col">requested by</th><th scope="col">requested</th><th scope="col">decided</th><th scope="col">note</th><th scope="col">actions</th></tr></thead><tbody>
${list.map(
  (w) =>
    html`<tr data-withdrawal="${w.id}" data-state="${w.state}"><td>${w.id}</td><td>${stateBadge(w.state)}</td><td><code>${w.account}</code></td><td>${amount(w.amountMsat)}</td><td>${w.kind} <code title="${w.destination}">${shortDestination(w.destination)}</code></td><td>${w.reason || '–'}</td><td>${w.requestedBy || '–'}</td><td>${at(w.createdAt)}</td><td>${w.decidedBy ? html`<span title="${w.decidedBy}">${shortWho(w.decidedBy)}</span>, ${at(w.decidedAt)}` : '–'}</td><td>${w.failure || w.txid || w.paymentHash?.slice(0, 12) || '–'}</td><td>${
      w.state === 'requested'
        ? html`<button type="button" data-withdrawal-approve="${w.id}">Approve</button> <button type="button" data-withdrawal-reject="${w.id}">Reject</button>`
        : ''
    }</td></tr>`,
)}
</tbody></table>`;
}

const amount = (msat: number): Html => html`<span class="amount${msat < 0 ? ' negative' : ''}" title="${msat.toLocaleString('en-US')} msat" data-msat="${msat}">${sats(msat)}</span>`;
const at = (seconds: number | null): Html | string => (seconds === null ? '–' : time(seconds * 1000));
const jobLink = (jobId: string): Html =>
  /^[0-9a-f]{64}$/.test(jobId) ? html`<a href="/jobs/${jobId}"><code>${jobId.slice(0, 12)}</code></a>` : html`<code>${jobId}</code>`;

function walletFragment(v: WalletView, app: AppDeps): Html {
  const byAccount = new Map(v.balances.map((b) => [b.account, b.balanceMsat]));
  // Every agent of the swarm, with what it earned (0 before its first job), then agents' accounts no longer in the swarm.
  const agents = new Map<string, { label: Html | string; msat: number }>();
  for (const a of app.swarm.agents) agents.set(`agent:${a.name}`, { label: html`<a href="/agents/${a.name}">${a.persona.displayName}</a>`, msat: byAccount.get(`agent:${a.name}`) ?? 0 });
  for (const b of v.balances) if (b.kind === 'agent' && !agents.has(b.account)) agents.set(b.account, { label: b.account.slice(6), msat: b.balanceMsat });
  const others = v.balances.filter((b) => b.kind !== 'agent' && b.kind !== 'escrow');
  const escrowAccounts = v.balances.filter((b) => b.kind === 'escrow');
  const held = escrowAccounts.reduce((s, b) => s + b.balanceMsat, 0);
  const heldJobs = escrowAccounts.filter((b) => b.balanceMsat !== 0).length;
  const agentTotal = [...agents.values()].reduce((s, a) => s + a.msat, 0);
  const a = v.audit;
  const balanced = a.totalMsat === 0 && a.unbalancedTxIds.length === 0 && a.driftedAccounts.length === 0;
  const card = (label: string, value: Html | string, id: string) => html`<div class="card"><span class="label">${label}</span><span class="value" data-counter="${id}">${value}</span></div>`;
  const withdrawals = new Withdrawals(app.wallet).list({ limit: PAGE_WITHDRAWALS });
  return html`<div class="cards">
  ${card('agents earned', amount(agentTotal), 'agents')}
  ${card(`held in escrow (${heldJobs} ${heldJobs === 1 ? 'job' : 'jobs'})`, amount(held), 'escrow')}
  ${card('fees', amount(byAccount.get('fees') ?? 0), 'fees')}
  ${card('transactions', a.transactions.toLocaleString('en-US'), 'transactions')}
  ${card('books', balanced ? 'balanced' : 'OUT OF BALANCE', 'audit')}
</div>
${
  balanced
    ? ''
    : html`<p class="notice" role="alert">The audit found a problem: entries sum to ${a.totalMsat} msat; unbalanced transactions: ${a.unbalancedTxIds.join(', ') || 'none'}; drifted accounts: ${a.driftedAccounts.join(', ') || 'none'}.</p>`
}
${withdrawalsTable(withdrawals)}
<table class="compact wallet-agents"><caption>Agents</caption><thead><tr><th scope="col">agent</th><th scope="col">account</th><th scope="col">balance</th></tr></thead><tbody>
${[...agents].map(([account, x]) => html`<tr data-account="${account}"><td>${x.label}</td><td><code>${account}</code></td><td>${amount(x.msat)}</td></tr>`)}
</tbody></table>
<table class="compact wallet-accounts"><caption>Other accounts</caption><thead><tr><th scope="col">account</th><th scope="col">kind</th><th scope="col">balance</th></tr></thead><tbody>
${others.map((b) => html`<tr data-account="${b.account}"><td><code>${b.account}</code>${b.account === 'external' ? html` <small>(minus what came in)</small>` : ''}</td><td>${b.kind}</td><td>${amount(b.balanceMsat)}</td></tr>`)}
</tbody></table>
${
  v.escrows.length === 0
    ? html`<p>No escrows yet.</p>`
    : html`<table class="compact wallet-escrows"><caption>Escrows (newest ${v.escrows.length})</caption><thead><tr><th scope="col">job</th><th scope="col">status</th><th scope="col">amount</th><th scope="col">payer</th><th scope="col">released to</th><th scope="col">released</th><th scope="col">fee</th><th scope="col">refunded</th><th scope="col">reason</th><th scope="col">held</th><th scope="col">closed</th></tr></thead><tbody>
${v.escrows.map(
  (e) =>
    html`<tr data-escrow="${e.jobId}"><td>${jobLink(e.jobId)}</td><td>${stateBadge(e.status)}</td><td>${amount(e.amountMsat)}</td><td><code>${e.payer}</code></td><td>${e.releasedTo ? html`<code>${e.releasedTo}</code>` : '–'}</td><td>${amount(e.releasedMsat)}</td><td>${amount(e.feeMsat)}</td><td>${amount(e.refundedMsat)}</td><td>${e.reason || '–'}</td><td>${at(e.createdAt)}</td><td>${at(e.closedAt)}</td></tr>`,
)}
</tbody></table>`
}
${
  v.entries.length === 0
    ? html`<p>No ledger entries yet.</p>`
    : html`<table class="compact wallet-entries"><caption>Newest ledger entries</caption><thead><tr><th scope="col">tx</th><th scope="col">time</th><th scope="col">kind</th><th scope="col">account</th><th scope="col">amount</th><th scope="col">memo</th></tr></thead><tbody>
${v.entries.map(
  (e) =>
    html`<tr data-tx="${e.txId}"><td title="${e.key}">${e.txId}</td><td>${at(e.at)}</td><td>${e.txKind}</td><td><code>${e.account}</code></td><td>${amount(e.amountMsat)}</td><td>${e.memo || '–'}</td></tr>`,
)}
</tbody></table>`
}`;
}

export function registerWalletPage(r: Router, ctx: WebContext): void {
  r.get('/wallet', async (c) => {
    const user = pageUser(ctx, c.req);
    let body: Html;
    if (!user) body = signInFirst('the wallet');
    else if (!user.admin) body = html`<p class="notice">The wallet is for admins (web.admins in the config).</p>`;
    else {
      const app = needApp(ctx);
      const v = await walletView(app, PAGE_ENTRIES);
      body = html`${backendBlock(v)}
<section aria-labelledby="wallet-h">
  <h2 id="wallet-h">Withdrawals, balances, escrows and entries</h2>
  <p>Amounts in sats (hover for msat); the tables refresh every 5 seconds. Approving a withdrawal pays it from its account at once.</p>
  <div id="wallet" hx-get="/fragments/wallet" hx-trigger="every 5s" hx-swap="innerHTML">${walletFragment(v, app)}</div>
</section>`;
    }
    sendHtml(c.res, user && !user.admin ? 403 : 200, page({ title: 'Wallet', active: '/wallet', user, body }));
  });

  r.get('/fragments/wallet', async (c) => {
    ctx.auth.requireAdmin(c.req);
    const app = needApp(ctx);
    sendHtml(c.res, 200, walletFragment(await walletView(app, PAGE_ENTRIES), app).text);
  });
}
