// The instance's HTTP server: the dashboard (server-rendered pages, live over SSE), the JSON API,
// NIP-05, LNURL-pay for zaps (web/lnurl.ts), and the scripts and styles they need, all from this
// process (docs/web.md).
// Node's http with a small router: the surface is small and every dependency is one more thing
// to audit on an operator's machine.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildNostrJson } from '../nostr/nip05.js';
import { Assets } from './assets.js';
import { Auth } from './auth.js';
import type { WebDeps } from './deps.js';
import { HttpError, Router, sendJson } from './http.js';
import { LiveFeed } from './live.js';
import { isLnurlPath, lnurl } from './lnurl.js';
import type { WebContext } from './context.js';
import { registerApi } from './api/index.js';
import { registerPages } from './pages/index.js';
import { registerVoice } from './voice.js';
import { serveVoiceAudio, VOICE_AUDIO_PREFIX } from './voice-audio.js';

export interface WebServer {
  readonly url: string;
  readonly auth: Auth;
  close(): Promise<void>;
}


function nip05(deps: WebDeps, req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
  // NIP-05: CORS open, and never a redirect.
  const cors = { 'access-control-allow-origin': '*' };
  if (req.method === 'OPTIONS') return void res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET' }).end();
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' }, cors);
  const names = deps.names();
  const relays = Object.fromEntries(Object.values(names).map((pk) => [pk, [...deps.relays()]]));
  const name = url.searchParams.get('name');
  try {
    sendJson(res, 200, buildNostrJson(names, relays, name !== null ? { only: name } : {}), cors);
  } catch (err) {
    sendJson(res, 500, { error: (err as Error).message }, cors);
  }
}

export async function startWebServer(deps: WebDeps): Promise<WebServer> {
  const assets = new Assets();
  const auth = new Auth(deps.config);
  const live = new LiveFeed(deps.app);
  const ctx: WebContext = { deps, auth, live };
  const api = new Router();
  registerApi(api, ctx);
  // /voice/* (speech in and out) shares the API router; its websocket comes through 'upgrade' below.
  const voice = registerVoice(api, ctx);
  const pages = new Router();
  registerPages(pages, ctx);

  let seq = 0;
  const server = http.createServer((req, res) => {
    // A request id for the logs (the caller's X-Request-Id when it is a sane token), echoed back.
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : `r${Date.now().toString(36)}${(++seq).toString(36)}`;
    res.setHeader('x-request-id', requestId);
    if (deps.log) {
      const t0 = performance.now();
      res.once('finish', () =>
        deps.log!(res.statusCode >= 500 ? 'error' : 'debug', 'http.request', { requestId, method: req.method, path: req.url?.split('?')[0], status: res.statusCode, ms: Math.round(performance.now() - t0) }),
      );
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return sendJson(res, 400, { error: 'bad request URL' });
    }
    const path = url.pathname;
    if (path === '/.well-known/nostr.json') return nip05(deps, req, res, url);
    if (isLnurlPath(path)) return lnurl(deps, req, res, url);
    // Liveness and readiness for supervisors and load balancers (no auth: they reveal no secrets).
    if (path === '/health' || path === '/healthz') return sendJson(res, 200, { ok: true, uptimeSeconds: Math.round(process.uptime()) });
    if (path === '/readyz') {
      if (!deps.obs) return sendJson(res, 200, { ok: true, checks: [] });
      deps.obs
        .ready()
        .then((r) => sendJson(res, r.ok ? 200 : 503, r))
        .catch((err: unknown) => sendJson(res, 503, { ok: false, checks: [{ name: 'readyz', ok: false, detail: (err as Error).message }] }));
      return;
    }
    if (path === '/metrics') {
      if (!deps.obs) return sendJson(res, 404, { error: 'metrics are not enabled' });
      deps.obs
        .metrics()
        .then((m) => res.writeHead(200, { 'content-type': m.contentType, 'cache-control': 'no-store' }).end(m.body))
        .catch((err: unknown) => sendJson(res, 500, { error: (err as Error).message }));
      return;
    }
    if (path.startsWith(VOICE_AUDIO_PREFIX)) return void serveVoiceAudio(deps.voiceAudio, req, res, path);
    if (path.startsWith('/assets/') && (req.method === 'GET' || req.method === 'HEAD') && assets.serve(path.slice(8), req, res)) return;
    const router = path.startsWith('/api/') || path.startsWith('/voice/') ? api : pages;
    router
      .handle(req, res, url)
      .then((handled) => {
        if (!handled) sendJson(res, 404, { error: 'not found' });
      })
      .catch((err: unknown) => {
        if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message });
        deps.log?.('error', 'http.error', { requestId, path, error: (err as Error).message });
        sendJson(res, 500, { error: `internal error: ${(err as Error).message}` });
      });
  });
  // Websockets on the dashboard's port: /voice/stream only.
  server.on('upgrade', (req, socket, head) => {
    if (!voice.upgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  // A slow or idle client must not hold sockets forever; SSE streams are long-lived by design.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => resolve());
  });
  live.start();
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    auth,
    close: () =>
      new Promise<void>((r) => {
        live.stop();
        voice.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
