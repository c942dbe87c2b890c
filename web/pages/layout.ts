// The frame of every page: navigation, the sign-in area, and our scripts (all served locally).
import { npubEncode } from '../../nostr/nip19.js';
import type { User } from '../auth.js';
import { html, type Html } from '../html.js';

export interface PageOptions {
  readonly title: string;
  /** The nav entry to mark current. */
  readonly active: string;
  readonly user: User | undefined;
  readonly body: Html;
  /** Extra scripts from /assets. */
  readonly scripts?: readonly string[];
}

const NAV: readonly (readonly [string, string, boolean])[] = [
  ['/', 'Overview', false],
  ['/agents', 'Agents', false],
  ['/jobs', 'Jobs', false],
  ['/submit', 'Submit a job', false],
  ['/approvals', 'Approvals', true],
  ['/wallet', 'Wallet', true],
  ['/relay', 'Relay', false],
  ['/swarm/graph', 'Swarm graph', false],
  ['/peers', 'Peers', false],
];

// The microphone (web/static/voice.js): hidden until GET /voice/info says speech-to-text works, and
// only for a signed-in user (transcribing needs one).
const VOICE_CONTROLS = html`<div class="voice" id="voice-controls">
    <button type="button" id="voice-button" hidden aria-pressed="false" aria-label="Voice command" title="Speak a command (click again to stop)"><svg width="14" height="14" viewBox="0 0 24 24" aria-hidden="true" fill="currentColor"><path d="M12 15a3 3 0 0 0 3-3V6a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V22h2v-3.1a7 7 0 0 0 6-6.9z"/></svg> Voice</button>
    <p id="voice-panel" hidden aria-live="polite"><span id="voice-transcript"></span> <span id="voice-answer"></span></p>
  </div>`;

export const shortNpub = (pubkey: string): string => {
  const n = npubEncode(pubkey);
  return `${n.slice(0, 12)}…${n.slice(-6)}`;
};

export function page(o: PageOptions): string {
  const u = o.user;
  const nav = NAV.filter(([, , adminOnly]) => !adminOnly || u?.admin).map(
    ([href, label]) => html`<li><a href="${href}" ${o.active === href ? html`aria-current="page"` : ''}>${label}</a></li>`,
  );
  const account = u
    ? html`<span class="who" title="${npubEncode(u.pubkey)}" data-pubkey="${u.pubkey}">${shortNpub(u.pubkey)}${u.admin ? html` <span class="badge">admin</span>` : ''}</span>
        <button type="button" id="logout">Sign out</button>`
    : html`<button type="button" id="login">Sign in with Nostr</button>
        <p id="no-extension" class="notice" hidden role="alert">
          No Nostr signer found in this browser. Install a NIP-07 extension such as
          <strong>Alby</strong>, <strong>nos2x</strong> or <strong>Nostr Connect</strong>, then reload this page.
        </p>
        <p id="login-error" class="notice" hidden role="alert"></p>`;
  return `<!doctype html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · Timmy</title>
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/htmx.min.js" defer></script>
<script src="/assets/app.js" defer></script>
${u ? html`<script src="/assets/voice.js" defer></script>` : ''}
${(o.scripts ?? []).map((s) => html`<script src="/assets/${s}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <a class="brand" href="/">Timmy</a>
  <nav aria-label="Main"><ul>${nav}</ul></nav>
  ${u ? VOICE_CONTROLS : ''}
  <div class="account">${account}</div>
</header>
<main id="main" tabindex="-1">
<h1>${o.title}</h1>
${o.body}
</main>
<footer><span id="live-status" aria-live="polite">connecting to the live feed…</span></footer>
</body>
</html>`.text}`;
}
