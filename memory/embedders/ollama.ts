// Embeddings from a local Ollama server: POST {url}/api/embed {model, input: [...]} ->
// {embeddings: [[...]]}. Servers older than /api/embed answer 404 there; then the legacy
// /api/embeddings {model, prompt} is used, one text per request, for the rest of the process.
// The dimension is given or learned from the first answer, and every later answer must match it:
// a model swapped behind the same name must not slip differently-sized vectors into the store.
import { type Embedder, EmbedderError, l2normalize } from '../embedder.js';

export interface OllamaOptions {
  /** e.g. http://127.0.0.1:11434 */
  url: string;
  /** e.g. nomic-embed-text */
  model: string;
  /** Expected dimension; learned from the first answer when absent (0 until then). */
  dimensions?: number;
  /** Per request (default 30 s: a cold model load is slow). */
  timeoutMs?: number;
}

export interface OllamaEmbedder extends Embedder {
  /** Embeds one text to learn (or check) the dimension; resolves to it. */
  probe(signal?: AbortSignal): Promise<number>;
}

/** Texts per /api/embed request. */
const CHUNK = 64;

export function ollamaEmbedder(o: OllamaOptions): OllamaEmbedder {
  const url = o.url.replace(/\/+$/, '');
  const timeoutMs = o.timeoutMs ?? 30_000;
  let dimensions = o.dimensions ?? 0;
  let legacy = false;

  async function post(path: string, body: unknown, signal?: AbortSignal): Promise<{ status: number; json: unknown; text: string }> {
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await res.text();
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) throw new EmbedderError(`ollama at ${url} did not answer ${path} within ${timeoutMs} ms`);
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new EmbedderError(`ollama unreachable at ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  function fail(path: string, r: { status: number; json: unknown; text: string }): never {
    const msg = (r.json as { error?: unknown } | undefined)?.error;
    const detail = typeof msg === 'string' ? msg : r.text.slice(0, 200);
    if (r.status === 404 && /model/i.test(detail)) throw new EmbedderError(`ollama at ${url} has no model ${o.model}: run \`ollama pull ${o.model}\` (${detail})`);
    throw new EmbedderError(`ollama ${path} answered ${r.status}: ${detail}`);
  }

  function check(raw: unknown): Float32Array {
    if (!Array.isArray(raw) || raw.length === 0 || !raw.every((x) => typeof x === 'number')) {
      throw new EmbedderError(`ollama returned a malformed embedding for ${o.model}`);
    }
    if (dimensions === 0) dimensions = raw.length;
    else if (raw.length !== dimensions) {
      throw new EmbedderError(`ollama model ${o.model} returned ${raw.length} dimensions, expected ${dimensions}`);
    }
    return l2normalize(Float32Array.from(raw as number[]));
  }

  async function embedChunk(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (!legacy) {
      const r = await post('/api/embed', { model: o.model, input: texts }, signal);
      if (r.status === 200) {
        const embeddings = (r.json as { embeddings?: unknown } | undefined)?.embeddings;
        if (!Array.isArray(embeddings) || embeddings.length !== texts.length) {
          throw new EmbedderError(`ollama /api/embed returned ${Array.isArray(embeddings) ? embeddings.length : 'no'} embeddings for ${texts.length} texts`);
        }
        return embeddings.map(check);
      }
      const msg = (r.json as { error?: unknown } | undefined)?.error;
      // A 404 naming the model is a missing model; a bare 404 is a server without /api/embed.
      if (r.status !== 404 || (typeof msg === 'string' && /model/i.test(msg))) fail('/api/embed', r);
      legacy = true;
    }
    const out: Float32Array[] = [];
    for (const prompt of texts) {
      const r = await post('/api/embeddings', { model: o.model, prompt }, signal);
      if (r.status !== 200) fail('/api/embeddings', r);
      out.push(check((r.json as { embedding?: unknown } | undefined)?.embedding));
    }
    return out;
  }

  const embedder: OllamaEmbedder = {
    id: `ollama:${o.model}`,
    version: 1,
    get dimensions() {
      return dimensions;
    },
    async embed(texts, signal) {
      signal?.throwIfAborted();
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += CHUNK) out.push(...(await embedChunk(texts.slice(i, i + CHUNK), signal)));
      return out;
    },
    async probe(signal) {
      await embedChunk(['dimension probe'], signal);
      return dimensions;
    },
  };
  return embedder;
}
