// LNURL-pay (LUD-06, LUD-16) for the agents, zap-enabled (NIP-57): `GET /.well-known/lnurlp/<name>`
// answers the pay request, `GET /lnurlp/<name>/callback?amount=&nostr=` the invoice. The logic is
// agents/zaps.ts; this file is the HTTP edge. CORS open, like NIP-05: wallets call it from anywhere.
import type http from 'node:http';
import { ZapError } from '../agents/zaps.js';
import type { WebDeps } from './deps.js';
import { sendJson } from './http.js';

const CORS = { 'access-control-allow-origin': '*' };
const WELL_KNOWN = /^\/\.well-known\/lnurlp\/([^/]+)$/;
const CALLBACK = /^\/lnurlp\/([^/]+)\/callback$/;

export const isLnurlPath = (path: string): boolean => WELL_KNOWN.test(path) || CALLBACK.test(path);

/** LUD-06 errors are `{status: "ERROR", reason}`. */
const error = (res: http.ServerResponse, status: number, reason: string): void => sendJson(res, status, { status: 'ERROR', reason }, CORS);

export function lnurl(deps: WebDeps, req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
  if (req.method === 'OPTIONS') return void res.writeHead(204, { ...CORS, 'access-control-allow-methods': 'GET' }).end();
  if (req.method !== 'GET' && req.method !== 'HEAD') return error(res, 405, 'method not allowed');
  const zaps = deps.app?.zaps;
  if (!zaps) return error(res, 404, 'zaps are not served here');
  const origin = deps.config.publicUrl?.replace(/\/+$/, '') ?? `http://${req.headers.host ?? 'localhost'}`;
  // The lightning address's domain: the agents' NIP-05 domain when set, else where this was reached.
  const host = deps.zapDomain?.() ?? new URL(origin).host;
  const path = url.pathname;
  const wk = WELL_KNOWN.exec(path);
  let name: string;
  try {
    name = decodeURIComponent((wk ?? CALLBACK.exec(path))![1]!);
  } catch {
    return error(res, 400, 'bad name in the path');
  }
  if (wk) {
    const pr = zaps.payRequest(name, { callback: `${origin}/lnurlp/${encodeURIComponent(name)}/callback`, host });
    return pr ? sendJson(res, 200, pr, CORS) : error(res, 404, `no one here is called ${name}`);
  }
  if (!zaps.recipient(name)) return error(res, 404, `no one here is called ${name}`);
  zaps
    .invoice(name, url.searchParams, host)
    .then((r) => sendJson(res, 200, r, CORS))
    .catch((err: unknown) => {
      if (err instanceof ZapError) return error(res, 400, err.message);
      deps.log?.('error', 'lnurl.error', { path, error: (err as Error).message });
      error(res, 500, `internal error: ${(err as Error).message}`);
    });
}
