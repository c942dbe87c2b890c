// Small pieces several pages share.
import type http from 'node:http';
import type { User } from '../auth.js';
import type { WebContext } from '../context.js';
import { html, type Html } from '../html.js';

/** The signed-in user of a page request, if any (a bad NIP-98 header on a page is a 401). */
export const pageUser = (ctx: WebContext, req: http.IncomingMessage): User | undefined => ctx.auth.user(req);

export const sats = (msat: number | null | undefined): string => (msat === null || msat === undefined ? '–' : `${(msat / 1000).toLocaleString('en-US', { maximumFractionDigits: 3 })} sat`);

export const time = (ms: number): Html => html`<time datetime="${new Date(ms).toISOString()}">${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)}</time>`;

export const signInFirst = (what: string): Html => html`<p class="notice">Sign in with Nostr to see ${what}.</p>`;

export const stateBadge = (state: string): Html => html`<span class="state state-${state}">${state}</span>`;

export const KIND_NAMES: Readonly<Record<number, string>> = {
  5000: 'speech to text',
  5001: 'summarization',
  5050: 'text generation',
  5250: 'text to speech',
  5300: 'content discovery',
  5302: 'search',
  5400: 'event count',
};
export const kindName = (k: number): string => KIND_NAMES[k] ?? `kind ${k}`;
