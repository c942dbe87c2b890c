// The `llm` section of the instance config (one zod schema; the composition root nests it) and the
// factory that turns it into an LlmRouter. API keys are read from an environment variable named in
// the config, so the key itself never sits in a config file, a log line or the dashboard.
import { z } from 'zod';
import { OllamaProvider, OpenAiCompatibleProvider, type LlmProvider } from './provider.js';
import { LlmRouter, type LlmRouterOptions } from './router.js';

const int = (min: number) => z.number().int().min(min);

const common = {
  name: z.string().regex(/^[a-z0-9_-]{1,32}$/).optional().describe('unique provider name for logs and metrics (default: the type)'),
  model: z.string().min(1).describe('model used unless a job asks for one of `models`'),
  models: z.array(z.string().min(1)).default([]).describe('other models a job may ask for by name (param model)'),
  timeoutMs: int(1).default(60_000).describe('per request, including reading the answer'),
};

export const llmProviderSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('ollama'),
      baseUrl: z.url().default('http://127.0.0.1:11434').describe('Ollama HTTP API root'),
      ...common,
    })
    .strict(),
  z
    .object({
      type: z.literal('openai'),
      baseUrl: z.url().describe('OpenAI-compatible API base including /v1, e.g. http://127.0.0.1:8080/v1'),
      apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional().describe('environment variable holding the API key, if one is needed'),
      ...common,
    })
    .strict(),
]);

export const llmConfigSchema = z
  .object({
    providers: z
      .array(llmProviderSchema)
      .default([{ type: 'ollama', baseUrl: 'http://127.0.0.1:11434', model: 'llama3.2', models: [], timeoutMs: 60_000 }])
      .describe('tried in this order; the first whose circuit is closed (or half-open) answers'),
    failureThreshold: int(1).default(3).describe('consecutive failures that open a provider circuit'),
    cooldownMs: int(0).default(30_000).describe('how long an open circuit waits before one trial request'),
  })
  .strict();

export type LlmProviderConfig = z.infer<typeof llmProviderSchema>;
export type LlmConfig = z.infer<typeof llmConfigSchema>;

export function createProvider(c: LlmProviderConfig, env: Readonly<Record<string, string | undefined>> = {}): LlmProvider {
  const base = { baseUrl: c.baseUrl, model: c.model, models: c.models, timeoutMs: c.timeoutMs, ...(c.name ? { name: c.name } : {}) };
  if (c.type === 'ollama') return new OllamaProvider(base);
  const apiKey = c.apiKeyEnv ? env[c.apiKeyEnv] : undefined;
  if (c.apiKeyEnv && !apiKey) throw new Error(`llm provider ${c.name ?? c.type}: environment variable ${c.apiKeyEnv} is not set`);
  return new OpenAiCompatibleProvider({ ...base, ...(apiKey ? { apiKey } : {}) });
}

/** Builds the router from a parsed `llm` config; `env` is where `apiKeyEnv` names are looked up. */
export function createLlmRouter(cfg: LlmConfig, env: Readonly<Record<string, string | undefined>> = {}, opts: Omit<LlmRouterOptions, 'failureThreshold' | 'cooldownMs'> = {}): LlmRouter {
  return new LlmRouter(
    cfg.providers.map((p) => createProvider(p, env)),
    { ...opts, failureThreshold: cfg.failureThreshold, cooldownMs: cfg.cooldownMs },
  );
}
