// The HTTP plumbing under the dashboard and the API: a small router (method + path pattern),
// JSON/HTML replies, bounded body reading, and HttpError, which the server turns into a JSON
// error with its status. Node's http, no framework (docs/web.md says why).
import type http from 'node:http';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const MAX_BODY_BYTES = 64 * 1024;

export interface Ctx {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  /** The body as text (at most MAX_BODY_BYTES; 413 beyond). Read once, then cached. */
  body(): Promise<string>;
  /** The body parsed as JSON (400 when it is not). */
  json<T = unknown>(): Promise<T>;
}

export type Handler = (ctx: Ctx) => Promise<void> | void;

interface Route {
  readonly method: string;
  readonly parts: readonly string[];
  readonly handler: Handler;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

export function sendHtml(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS, ...headers }).end(body);
}

/** Pages load scripts and styles from this instance only (the dashboard works offline). */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self' ws: wss:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`));
        req.resume();
      } else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method: method.toUpperCase(), parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }
  get = (p: string, h: Handler) => this.on('GET', p, h);
  post = (p: string, h: Handler) => this.on('POST', p, h);

  /** Runs the matching route; false when no route has this path (a path with other methods: 405). */
  async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
    const segs = url.pathname.split('/').filter(Boolean).map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
    let pathMatched = false;
    for (const r of this.routes) {
      const params = match(r.parts, segs);
      if (!params) continue;
      pathMatched = true;
      if (r.method !== req.method && !(r.method === 'GET' && req.method === 'HEAD')) continue;
      let cached: Promise<string> | undefined;
      const ctx: Ctx = {
        req,
        res,
        url,
        params,
        body: () => (cached ??= readBody(req)),
        json: async <T>() => {
          const text = await ctx.body();
          try {
            return JSON.parse(text) as T;
          } catch (err) {
            throw new HttpError(400, `invalid JSON: ${(err as Error).message}`);
          }
        },
      };
      await r.handler(ctx);
      return true;
    }
    if (pathMatched) throw new HttpError(405, `method ${req.method} not allowed here`);
    return false;
  }
}

function match(parts: readonly string[], segs: readonly string[]): Record<string, string> | undefined {
  if (parts.length !== segs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const s = segs[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return undefined;
  }
  return params;
}
