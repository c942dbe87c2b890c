// What the LLM router asks of a model server, and the two HTTP dialects it speaks: Ollama's
// /api/chat and the OpenAI-compatible /v1/chat/completions (llama.cpp server, vLLM, LM Studio,
// LocalAI, OpenAI itself, ...). Both are non-streaming, both run under a timeout.

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface GenerateRequest {
  readonly messages: readonly ChatMessage[];
  /** A model the customer asked for; a provider uses it only if it is in its `models` list. */
  readonly model?: string;
  readonly maxTokens?: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly frequencyPenalty?: number;
}

export interface GenerateResult {
  readonly text: string;
  /** The provider that answered. */
  readonly provider: string;
  /** The model that answered, as the server reported it. */
  readonly model: string;
  /** Prompt and completion tokens, when the server reports them (Ollama's eval counts, OpenAI's usage). */
  readonly tokensIn?: number;
  readonly tokensOut?: number;
}

const count = (x: unknown): number | undefined => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : undefined);

/** The token counts of a result, leaving out those the server did not give. */
function tokens(tokensIn: unknown, tokensOut: unknown): { tokensIn?: number; tokensOut?: number } {
  const i = count(tokensIn);
  const o = count(tokensOut);
  return { ...(i !== undefined ? { tokensIn: i } : {}), ...(o !== undefined ? { tokensOut: o } : {}) };
}

export interface LlmProvider {
  /** Unique among the router's providers; used in logs, errors and metrics labels. */
  readonly name: string;
  /** Where it is, for error messages (never carries credentials). */
  readonly endpoint: string;
  /** Rejects with LlmProviderError on any failure; rejects with the signal's reason when the signal aborts. */
  generate(req: GenerateRequest, signal: AbortSignal): Promise<GenerateResult>;
}

export class LlmProviderError extends Error {
  override name = 'LlmProviderError';
}

export interface HttpProviderOptions {
  /** Default: the dialect's name (`ollama`, `openai`). */
  name?: string;
  /** Ollama: http://127.0.0.1:11434. OpenAI-compatible: the base including /v1, e.g. http://127.0.0.1:8080/v1. */
  baseUrl?: string;
  /** The model used unless the request names one of `models`. */
  model: string;
  /** Other models this provider may serve when a customer asks for them by name. */
  models?: readonly string[];
  /** Per request, including reading the body (default 60 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** POSTs JSON under a timeout and the caller's signal; failures become LlmProviderError with a short reason. */
async function postJson(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<unknown> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: both });
    const text = await res.text();
    if (!res.ok) throw new LlmProviderError(`HTTP ${res.status}${errorDetail(text)}`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new LlmProviderError('the answer is not JSON');
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason ?? err; // the caller gave up: not the provider's fault
    if (timeout.aborted) throw new LlmProviderError(`timed out after ${timeoutMs} ms`);
    if (err instanceof LlmProviderError) throw err;
    throw new LlmProviderError(networkReason(err));
  }
}

/** The server's own error text, short (Ollama: {"error": "..."}; OpenAI: {"error": {"message": "..."}}). */
function errorDetail(text: string): string {
  let msg: unknown;
  try {
    const j = JSON.parse(text) as { error?: unknown };
    msg = typeof j.error === 'string' ? j.error : (j.error as { message?: unknown } | undefined)?.message;
  } catch {
    msg = undefined;
  }
  return typeof msg === 'string' && msg ? `: ${msg.slice(0, 200)}` : '';
}

/** fetch() rejects with TypeError('fetch failed') and the real reason (ECONNREFUSED, ...) in `cause`. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

function pickModel(o: HttpProviderOptions, req: GenerateRequest): string {
  return req.model !== undefined && (req.model === o.model || o.models?.includes(req.model)) ? req.model : o.model;
}

const trimSlash = (s: string): string => s.replace(/\/+$/, '');

/** Ollama's HTTP API: POST /api/chat with stream: false. */
export class OllamaProvider implements LlmProvider {
  readonly name: string;
  readonly endpoint: string;
  constructor(private readonly o: HttpProviderOptions) {
    this.name = o.name ?? 'ollama';
    this.endpoint = trimSlash(o.baseUrl ?? 'http://127.0.0.1:11434');
  }

  async generate(req: GenerateRequest, signal: AbortSignal): Promise<GenerateResult> {
    const model = pickModel(this.o, req);
    const options: Record<string, number> = {};
    if (req.maxTokens !== undefined) options.num_predict = req.maxTokens;
    if (req.temperature !== undefined) options.temperature = req.temperature;
    if (req.topP !== undefined) options.top_p = req.topP;
    if (req.topK !== undefined) options.top_k = req.topK;
    if (req.frequencyPenalty !== undefined) options.frequency_penalty = req.frequencyPenalty;
    const body = { model, messages: req.messages, stream: false, options };
    const j = (await postJson(`${this.endpoint}/api/chat`, body, {}, this.o.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal)) as {
      model?: unknown;
      message?: { content?: unknown };
      prompt_eval_count?: unknown;
      eval_count?: unknown;
    };
    const text = j?.message?.content;
    if (typeof text !== 'string') throw new LlmProviderError('the answer has no message.content');
    return { text, provider: this.name, model: typeof j.model === 'string' ? j.model : model, ...tokens(j.prompt_eval_count, j.eval_count) };
  }
}

export interface OpenAiCompatibleOptions extends HttpProviderOptions {
  /** Sent as `Authorization: Bearer ...`; never logged or shown. */
  apiKey?: string;
}

/** Any OpenAI-compatible server: POST <baseUrl>/chat/completions. */
export class OpenAiCompatibleProvider implements LlmProvider {
  readonly name: string;
  readonly endpoint: string;
  readonly #apiKey: string | undefined;
  constructor(private readonly o: OpenAiCompatibleOptions) {
    this.name = o.name ?? 'openai';
    this.endpoint = trimSlash(o.baseUrl ?? 'http://127.0.0.1:8080/v1');
    this.#apiKey = o.apiKey;
    // Keep the key out of the options object that JSON.stringify / inspect would show.
    this.o = { ...o, apiKey: undefined };
  }

  async generate(req: GenerateRequest, signal: AbortSignal): Promise<GenerateResult> {
    const model = pickModel(this.o, req);
    const body: Record<string, unknown> = { model, messages: req.messages, stream: false };
    if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.topP !== undefined) body.top_p = req.topP;
    if (req.frequencyPenalty !== undefined) body.frequency_penalty = req.frequencyPenalty;
    // top_k is not part of the OpenAI API; servers that take it (llama.cpp, vLLM) accept it as an extra field.
    if (req.topK !== undefined) body.top_k = req.topK;
    const headers: Record<string, string> = this.#apiKey ? { authorization: `Bearer ${this.#apiKey}` } : {};
    const j = (await postJson(`${this.endpoint}/chat/completions`, body, headers, this.o.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal)) as {
      model?: unknown;
      choices?: { message?: { content?: unknown } }[];
      usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
    };
    const text = j?.choices?.[0]?.message?.content;
    if (typeof text !== 'string') throw new LlmProviderError('the answer has no choices[0].message.content');
    return { text, provider: this.name, model: typeof j.model === 'string' ? j.model : model, ...tokens(j.usage?.prompt_tokens, j.usage?.completion_tokens) };
  }
}
