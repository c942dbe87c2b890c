// Scripts and styles, served by the instance itself: vendored libraries from node_modules and our
// own files from web/static. Nothing comes from a CDN, so the dashboard works offline.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type http from 'node:http';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** URL name -> [a module the package exports, the file beside it we serve] (packages may not export their UMD builds). */
const VENDOR: Record<string, readonly [string, string]> = {
  'htmx.min.js': ['htmx.org/dist/htmx.min.js', 'htmx.min.js'],
  'force-graph.min.js': ['force-graph', 'force-graph.min.js'],
};

/** web/static in the source tree (dist/web/assets.js -> ../../web/static). */
export const STATIC_DIR = fileURLToPath(new URL('../../web/static/', import.meta.url));

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml', png: 'image/png', ico: 'image/x-icon' };

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

export class Assets {
  private readonly files = new Map<string, Asset>();

  constructor() {
    for (const [name, [mod, file]] of Object.entries(VENDOR)) this.add(name, join(dirname(require.resolve(mod)), file));
    if (existsSync(STATIC_DIR)) for (const name of readdirSync(STATIC_DIR)) this.add(name, STATIC_DIR + name);
  }

  private add(name: string, path: string): void {
    const body = readFileSync(path);
    const ext = name.slice(name.lastIndexOf('.') + 1);
    this.files.set(name, { body, type: TYPES[ext] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }

  has(name: string): boolean {
    return this.files.has(name);
  }

  /** Serves /assets/<name>; false when there is no such asset. */
  serve(name: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const a = this.files.get(name);
    if (!a) return false;
    if (req.headers['if-none-match'] === a.etag) return (res.writeHead(304, { etag: a.etag }).end(), true);
    res.writeHead(200, { 'content-type': a.type, etag: a.etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).end(req.method === 'HEAD' ? undefined : a.body);
    return true;
  }
}
