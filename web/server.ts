// The instance's HTTP server. Today it serves NIP-05 (`/.well-known/nostr.json`) for the agents;
// the dashboard and the JSON API come with the web issue. Node's http, no framework.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildNostrJson } from '../nostr/nip05.js';
import { reputationRoute, type ReputationApi } from './reputation-api.js';

export interface WebServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface WebOptions {
  readonly host: string;
  readonly port: number;
  /** name -> hex pubkey, read on every request so that a changed swarm shows at once. */
  readonly names: () => Readonly<Record<string, string>>;
  readonly relays: () => readonly string[];
  /** Reputation endpoints (/api/agents..., /api/labels) when the agents run. */
  readonly reputation?: ReputationApi;
}

const json = (res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...extra }).end(JSON.stringify(body));

export async function startWebServer(o: WebOptions): Promise<WebServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (o.reputation && url.pathname.startsWith('/api/')) {
      reputationRoute(o.reputation, req, url, (status, body) => json(res, status, body))
        .then((handled) => {
          if (!handled) json(res, 404, { error: 'not found' });
        })
        .catch((err: unknown) => {
          if (!res.headersSent) json(res, 500, { error: (err as Error).message });
        });
      return;
    }
    if (url.pathname === '/.well-known/nostr.json') {
      // NIP-05: CORS open, and never a redirect.
      const cors = { 'access-control-allow-origin': '*' };
      if (req.method === 'OPTIONS') return void res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET' }).end();
      if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' }, cors);
      const names = o.names();
      const relays = Object.fromEntries(Object.values(names).map((pk) => [pk, [...o.relays()]]));
      const name = url.searchParams.get('name');
      try {
        return json(res, 200, buildNostrJson(names, relays, name !== null ? { only: name } : {}), cors);
      } catch (err) {
        return json(res, 500, { error: (err as Error).message }, cors);
      }
    }
    if (url.pathname === '/health') return json(res, 200, { ok: true });
    json(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
