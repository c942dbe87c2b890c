// The agents' semantic memory over HTTP (admins only: episodic memories hold what customers asked).
// GET /api/memory/search?q=…&agent=…&kind=…&limit=…&mode=… and POST /api/memory {text, kind?,
// agent?, tags?, importance?} to tell the agents a fact.
import type { MemoryKind } from '../../memory/types.js';
import type { WebContext } from '../context.js';
import { HttpError, sendJson, type Router } from '../http.js';
import { needApp, pubkeyOf } from './reputation.js';

const KINDS: readonly string[] = ['episodic', 'semantic', 'procedural'];

function memoryOf(ctx: WebContext) {
  const m = needApp(ctx).memory;
  if (!m) throw new HttpError(503, 'memory is off on this instance (memory.enabled is false)');
  return m;
}

function ownerParam(ctx: WebContext, v: string | null | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (v === '') return '';
  const pk = pubkeyOf(v, ctx.deps.names());
  if (!pk) throw new HttpError(400, `no such agent "${v}": give an npub, a hex pubkey or the name of an agent here`);
  return pk;
}

export function registerMemoryApi(r: Router, ctx: WebContext): void {
  r.get('/api/memory/search', async (c) => {
    ctx.auth.requireAdmin(c.req);
    const store = memoryOf(ctx);
    const p = c.url.searchParams;
    const q = (p.get('q') ?? '').trim();
    if (!q) throw new HttpError(400, 'give the query as ?q=');
    if (q.length > 4000) throw new HttpError(400, 'the query is longer than 4000 characters');
    const kinds = p.getAll('kind');
    for (const k of kinds) if (!KINDS.includes(k)) throw new HttpError(400, `kind must be one of ${KINDS.join(', ')}`);
    const mode = p.get('mode') ?? 'hybrid';
    if (mode !== 'hybrid' && mode !== 'vector' && mode !== 'bm25') throw new HttpError(400, 'mode must be hybrid, vector or bm25');
    const limit = Math.min(100, Math.max(1, Number(p.get('limit') ?? 10) || 10));
    const owner = ownerParam(ctx, p.get('agent'));
    const hits = await store.search(q, { limit, mode, touch: false, ...(owner !== undefined ? { owner } : {}), ...(kinds.length ? { kinds: kinds as MemoryKind[] } : {}) });
    sendJson(c.res, 200, { query: q, embedder: `${store.embedder.id}@${store.embedder.version}`, hits: hits.map((h) => ({ score: h.score, parts: h.parts, memory: h.memory })) });
  });
  r.post('/api/memory', async (c) => {
    const text = await c.body();
    ctx.auth.requireAdmin(c.req, text);
    const store = memoryOf(ctx);
    let body: { text?: unknown; kind?: unknown; agent?: unknown; tags?: unknown; importance?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new HttpError(400, 'the body is not JSON');
    }
    if (typeof body.text !== 'string' || !body.text.trim()) throw new HttpError(400, 'text must be a non-empty string');
    if (body.kind !== undefined && (typeof body.kind !== 'string' || !KINDS.includes(body.kind))) throw new HttpError(400, `kind must be one of ${KINDS.join(', ')}`);
    if (body.tags !== undefined && (!Array.isArray(body.tags) || body.tags.some((t) => typeof t !== 'string'))) throw new HttpError(400, 'tags must be a list of strings');
    if (body.importance !== undefined && (typeof body.importance !== 'number' || body.importance < 0 || body.importance > 1)) throw new HttpError(400, 'importance must be a number from 0 to 1');
    const owner = ownerParam(ctx, typeof body.agent === 'string' ? body.agent : undefined) ?? '';
    const added = await store.add({
      text: body.text,
      kind: (body.kind as MemoryKind | undefined) ?? 'semantic',
      owner,
      tags: (body.tags as string[] | undefined) ?? [],
      importance: (body.importance as number | undefined) ?? 0.5,
    });
    sendJson(c.res, 201, { memories: added });
  });
}
