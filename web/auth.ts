// Who is asking: a session cookie set by a NIP-98 login (POST /api/login), or a NIP-98
// `Authorization: Nostr …` header on the request itself. Admins are the npubs in `web.admins`.
// Sessions live in memory: a restart logs everyone out, which is the safe default.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { checkHttpAuth, parseAuthorization } from '../nostr/nip98.js';
import { decode as nip19decode } from '../nostr/nip19.js';
import type { WebConfig } from './config.js';
import { HttpError } from './http.js';

export const SESSION_COOKIE = 'timmy_session';

export interface User {
  readonly pubkey: string;
  readonly admin: boolean;
  readonly via: 'session' | 'nip98';
}

interface Session {
  readonly pubkey: string;
  readonly expires: number;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

export class Auth {
  private readonly sessions = new Map<string, Session>();
  /** NIP-98 event ids already used for writes, until they fall out of the time window: no replay. */
  private readonly used = new Map<string, number>();
  private readonly admins: ReadonlySet<string>;

  constructor(private readonly cfg: WebConfig) {
    this.admins = new Set(cfg.admins.map((a) => (a.startsWith('npub1') ? nip19decode(a as `npub1${string}`).data : a)));
  }

  isAdmin(pubkey: string): boolean {
    return this.admins.has(pubkey);
  }

  /** The absolute URL of a request as the browser addressed it (what a NIP-98 `u` tag must say). */
  requestUrl(req: http.IncomingMessage): string {
    const base = this.cfg.publicUrl ? this.cfg.publicUrl.replace(/\/$/, '') : `http://${req.headers.host ?? 'localhost'}`;
    return base + (req.url ?? '/');
  }

  private secure(): boolean {
    return this.cfg.publicUrl?.startsWith('https:') ?? false;
  }

  /** Checks the request's NIP-98 header; the signer's pubkey, or a 401. */
  verifyNip98(req: http.IncomingMessage, body?: string): string {
    const p = parseAuthorization(req.headers.authorization);
    if (!p.ok) throw new HttpError(401, `NIP-98: ${p.reason}`);
    const now = Math.floor(Date.now() / 1000);
    const c = checkHttpAuth(p.value, { url: this.requestUrl(req), method: req.method ?? 'GET', now, windowSeconds: this.cfg.nip98WindowSeconds, ...(body !== undefined && body !== '' ? { body } : {}) });
    if (!c.ok) throw new HttpError(401, `NIP-98: ${c.reason}`);
    this.prune(now);
    // Writes: one event, one request (a captured header cannot be replayed within the window).
    // Reads are left alone: two identical GETs in one second sign the very same event (NIP-98 has
    // no nonce), and repeating a read changes nothing.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (this.used.has(p.value.id)) throw new HttpError(401, 'NIP-98: this event was already used');
      this.used.set(p.value.id, p.value.created_at);
    }
    return c.value;
  }

  private prune(now: number): void {
    const w = this.cfg.nip98WindowSeconds;
    for (const [id, at] of this.used) if (Math.abs(now - at) > w) this.used.delete(id);
    for (const [t, s] of this.sessions) if (s.expires <= Date.now()) this.sessions.delete(t);
  }

  /** POST /api/login: a NIP-98 event for this URL and method → a session cookie. */
  login(req: http.IncomingMessage, res: http.ServerResponse, body: string): User {
    const pubkey = this.verifyNip98(req, body);
    const token = randomBytes(32).toString('base64url');
    const maxAge = Math.round(this.cfg.sessionHours * 3600);
    this.sessions.set(token, { pubkey, expires: Date.now() + maxAge * 1000 });
    res.setHeader('set-cookie', `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${this.secure() ? '; Secure' : ''}`);
    return { pubkey, admin: this.isAdmin(pubkey), via: 'session' };
  }

  logout(req: http.IncomingMessage, res: http.ServerResponse): void {
    const token = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (token) this.sessions.delete(token);
    res.setHeader('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${this.secure() ? '; Secure' : ''}`);
  }

  /**
   * The user of a request, if any: a NIP-98 header wins over the cookie (and a bad header is a 401,
   * not a silent fall back). `body` is needed to check a NIP-98 payload tag.
   */
  user(req: http.IncomingMessage, body?: string): User | undefined {
    if (req.headers.authorization) {
      const pubkey = this.verifyNip98(req, body);
      return { pubkey, admin: this.isAdmin(pubkey), via: 'nip98' };
    }
    const token = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    const s = token ? this.sessions.get(token) : undefined;
    if (!s || s.expires <= Date.now()) return undefined;
    return { pubkey: s.pubkey, admin: this.isAdmin(s.pubkey), via: 'session' };
  }

  /** The user or a 401. Cookie-authenticated writes must come from our own pages (Origin check). */
  require(req: http.IncomingMessage, body?: string): User {
    const u = this.user(req, body);
    if (!u) throw new HttpError(401, 'sign in with Nostr (NIP-07) or send a NIP-98 Authorization header');
    if (u.via === 'session' && req.method !== 'GET' && req.method !== 'HEAD') {
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== new URL(this.requestUrl(req)).origin) throw new HttpError(403, 'cross-origin request refused');
    }
    return u;
  }

  requireAdmin(req: http.IncomingMessage, body?: string): User {
    const u = this.require(req, body);
    if (!u.admin) throw new HttpError(403, 'admins only (web.admins in the config)');
    return u;
  }
}
