// Timmy dashboard, in the browser: NIP-07 sign-in (a NIP-98 event for the login URL), the live
// feed (Server-Sent Events turned into DOM events that HTMX fragments listen to), and the few
// buttons that call the JSON API. Plain script, no build step; HTMX does the rest.
(() => {
  'use strict';
  const $ = (s) => document.querySelector(s);
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const b64 = (s) => {
    const bytes = new TextEncoder().encode(s);
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin);
  };
  const short = (pk) => (pk ? `${pk.slice(0, 8)}…` : '?');

  function signer() {
    if (!window.nostr || typeof window.nostr.signEvent !== 'function') {
      const n = $('#no-extension');
      if (n) n.hidden = false;
      throw new Error('no NIP-07 signer in this browser');
    }
    return window.nostr;
  }

  /** NIP-98: a signed kind 27235 event for this URL and method, as an Authorization header value. */
  async function nip98(url, method, body) {
    const tags = [['u', url], ['method', method]];
    if (body && window.crypto && crypto.subtle) tags.push(['payload', hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body)))]);
    const e = await signer().signEvent({ kind: 27235, created_at: Math.floor(Date.now() / 1000), content: '', tags });
    return `Nostr ${b64(JSON.stringify(e))}`;
  }

  async function api(method, path, body) {
    const r = await fetch(path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body, credentials: 'same-origin' });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || `${r.status} ${r.statusText}`);
    return data;
  }

  function showError(sel, err) {
    const el = $(sel);
    if (!el) return;
    el.textContent = err instanceof Error ? err.message : String(err);
    el.hidden = false;
  }

  async function login() {
    try {
      await signer().getPublicKey();
      const attempt = async () => {
        const auth = await nip98(`${location.origin}/api/login`, 'POST');
        const r = await fetch('/api/login', { method: 'POST', headers: { authorization: auth }, credentials: 'same-origin' });
        return { r, data: await r.json().catch(() => ({})) };
      };
      let { r, data } = await attempt();
      // A second sign-in within the same second signs the very same NIP-98 event, which the server
      // refuses as a replay: sign again a second later.
      if (r.status === 401 && /already used/.test(data.error || '')) {
        await new Promise((ok) => setTimeout(ok, 1100));
        ({ r, data } = await attempt());
      }
      if (!r.ok) throw new Error(data.error || `sign-in refused (${r.status})`);
      location.reload();
    } catch (err) {
      if (window.nostr) showError('#login-error', err);
    }
  }

  async function logout() {
    await api('POST', '/api/logout').catch(() => undefined);
    location.reload();
  }

  // ---- the live feed ----
  const KIND_LABEL = { 7000: 'feedback', 7280: 'auction open', 7281: 'sealed bid', 7282: 'bid revealed', 7283: 'auction result', 1985: 'label', 21281: 'heartbeat' };
  const label = (k) => KIND_LABEL[k] || (k >= 6000 && k < 7000 ? `result ${k}` : k >= 5000 && k < 6000 ? `request ${k}` : `kind ${k}`);
  const fire = (name, detail) => document.body.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));

  function addActivity(text) {
    const list = $('[data-live-activity]');
    if (!list) return;
    const li = document.createElement('li');
    li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
    list.prepend(li);
    while (list.children.length > 50) list.lastElementChild.remove();
  }

  function connect() {
    if (!window.EventSource) return;
    const status = $('#live-status');
    const es = new EventSource('/api/live');
    es.addEventListener('open', () => status && (status.textContent = 'live'));
    es.addEventListener('error', () => status && (status.textContent = 'reconnecting to the live feed…'));
    es.addEventListener('nostr', (m) => {
      const e = JSON.parse(m.data);
      fire('nostr', e);
      for (const id of [e.id, ...e.refs]) fire(`nostr-${id}`, e);
      if (e.kind >= 7280 && e.kind <= 7283) fire('nostr-auction', e);
      if (e.kind !== 21281) addActivity(`${label(e.kind)}${e.status ? ` (${e.status})` : ''} from ${short(e.pubkey)}`);
    });
    es.addEventListener('job', (m) => {
      const j = JSON.parse(m.data);
      fire('job', j);
      if (j.id) fire(`job-${j.id}`, j);
      addActivity(`job ${j.id ? short(j.id) : ''} ${j.state}`);
    });
  }

  // ---- buttons and forms ----
  document.addEventListener('click', async (ev) => {
    const t = ev.target instanceof Element ? ev.target.closest('button') : null;
    if (!t) return;
    if (t.id === 'login') return void login();
    if (t.id === 'logout') return void logout();
    if (t.dataset.approve) {
      t.disabled = true;
      try {
        await api('POST', `/api/jobs/${t.dataset.approve}/approve`);
        t.textContent = 'Approved';
      } catch (err) {
        t.disabled = false;
        t.textContent = `Approve (failed: ${err.message})`;
      }
    }
    if (t.dataset.withdrawalApprove || t.dataset.withdrawalReject) {
      // Withdrawals on /wallet (admins): approve pays at once; reject closes the request.
      const approve = Boolean(t.dataset.withdrawalApprove);
      const id = approve ? t.dataset.withdrawalApprove : t.dataset.withdrawalReject;
      const label = approve ? 'Approve' : 'Reject';
      const row = t.closest('tr');
      for (const b of row ? row.querySelectorAll('button') : [t]) b.disabled = true;
      try {
        const r = await api('POST', `/api/withdrawals/${id}/${approve ? 'approve' : 'reject'}`, approve ? undefined : JSON.stringify({ reason: '' }));
        t.textContent = `${approve ? 'Approved' : 'Rejected'}: ${(r.withdrawal && r.withdrawal.state) || 'done'}`;
        if (window.htmx && $('#wallet')) window.htmx.ajax('GET', '/fragments/wallet', { target: '#wallet', swap: 'innerHTML' });
      } catch (err) {
        for (const b of row ? row.querySelectorAll('button') : [t]) b.disabled = false;
        t.textContent = `${label} (failed: ${err.message})`;
      }
    }
    if (t.dataset.pay) {
      const s = $('#pay-status');
      t.disabled = true;
      try {
        await api('POST', `/api/jobs/${t.dataset.pay}/pay`);
        if (s) s.textContent = 'Paid. The agents are bidding for your job.';
      } catch (err) {
        t.disabled = false;
        if (s) s.textContent = `Payment failed: ${err.message}`;
      }
    }
    if (t.dataset.copy) {
      const src = $(t.dataset.copy);
      if (src && navigator.clipboard) await navigator.clipboard.writeText(src.value || src.textContent || '').catch(() => undefined);
    }
  });

  document.addEventListener('submit', async (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || form.id !== 'submit-form') return;
    ev.preventDefault();
    const status = $('#submit-status');
    const f = new FormData(form);
    const input = String(f.get('input') || '').trim();
    if (!input) {
      status.textContent = 'The input is empty.';
      $('#input').focus();
      return;
    }
    const tags = [['i', input, String(f.get('inputType') || 'text')]];
    for (const line of String(f.get('params') || '').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) tags.push(['param', line.slice(0, i).trim(), line.slice(i + 1).trim()]);
    }
    const bid = String(f.get('bid') || '').trim();
    if (bid) tags.push(['bid', String(Math.round(Number(bid) * 1000))]);
    try {
      status.textContent = 'Asking your signer…';
      const e = await signer().signEvent({ kind: Number(f.get('kind')), created_at: Math.floor(Date.now() / 1000), content: '', tags });
      status.textContent = 'Sending…';
      const r = await api('POST', '/api/jobs', JSON.stringify(e));
      location.assign(`/jobs/${r.id}`);
    } catch (err) {
      status.textContent = `Not sent: ${err.message}`;
    }
  });

  window.timmy = { nip98 };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', connect);
  else connect();
})();
