// The instance configuration: one zod schema, read from a file, then env vars, then CLI flags
// (later wins). A bad key or value stops the start with a message that names it.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { relayConfigSchema } from '../relay/config.js';
import { walletConfigSchema } from '../wallet/config.js';
import { dvmConfigSchema } from '../dvm/config.js';
import { llmConfigSchema } from '../agents/llm/config.js';
import { reputationConfigSchema } from '../reputation/config.js';
import { webConfigSchema } from '../web/config.js';
import { memoryConfigSchema } from '../memory/config.js';
import { voiceConfigSchema } from '../voice/config.js';
import { federationConfigSchema } from '../dvm/federation/config.js';

const agentsConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('start the agent swarm and the DVM'),
    personasDir: z.string().optional().describe('folder of persona JSON files (default: the shipped default swarm)'),
    heartbeatSeconds: z.number().int().min(1).max(3600).default(30).describe('seconds between agent heartbeats (kind 21281)'),
    nip05Domain: z.string().optional().describe('domain for the agents\' NIP-05 names (name@domain)'),
  })
  .strict();

export const configSchema = z
  .object({
    host: z.string().default('127.0.0.1').describe('address the listeners bind to'),
    port: z.number().int().min(0).max(65535).default(7777).describe('relay websocket port (0 = pick a free one)'),
    dataDir: z.string().default('./data').describe('where the databases live'),
    embeddedRelay: z.boolean().default(true).describe('run the embedded relay; false = use only `relays`'),
    relays: z.array(z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL')).default([]).describe('remote relays: used beside the embedded relay (the DVM hears and publishes on both), or instead of it with embeddedRelay false'),
    httpPort: z.number().int().min(0).max(65535).default(8080).describe('HTTP port of the dashboard, its JSON API and NIP-05 (0 = pick a free one)'),
    relay: relayConfigSchema.default(relayConfigSchema.parse({})),
    agents: agentsConfigSchema.default(agentsConfigSchema.parse({})),
    dvm: dvmConfigSchema.default(dvmConfigSchema.parse({})),
    wallet: walletConfigSchema.default(walletConfigSchema.parse({})),
    llm: llmConfigSchema.default(llmConfigSchema.parse({})),
    reputation: reputationConfigSchema.default(reputationConfigSchema.parse({})),
    web: webConfigSchema.default(webConfigSchema.parse({})),
    memory: memoryConfigSchema.default(memoryConfigSchema.parse({})),
    voice: voiceConfigSchema.default(voiceConfigSchema.parse({})),
    federation: federationConfigSchema.default(federationConfigSchema.parse({})),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('least severe log level written (env TIMMY_LOG_LEVEL)'),
        format: z.enum(['auto', 'json', 'pretty']).default('auto').describe('auto: pretty on a terminal, JSON lines otherwise (Loki, jq)'),
      })
      .strict()
      .default({ level: 'info', format: 'auto' }),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Json = Record<string, unknown>;

function merge(a: Json, b: Json): Json {
  const out: Json = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev) ? merge(prev as Json, v as Json) : v;
  }
  return out;
}

/** Env vars we read: TIMMY_DATA_DIR, TIMMY_HOST, TIMMY_PORT, TIMMY_HTTP_PORT, TIMMY_RELAYS and TIMMY_ADMINS (comma-separated), TIMMY_LOG_LEVEL, TIMMY_NWC_URI (a secret). */
export function fromEnv(env: NodeJS.ProcessEnv): Json {
  const out: Json = {};
  if (env.TIMMY_DATA_DIR) out.dataDir = env.TIMMY_DATA_DIR;
  if (env.TIMMY_HOST) out.host = env.TIMMY_HOST;
  if (env.TIMMY_PORT) out.port = Number(env.TIMMY_PORT);
  if (env.TIMMY_HTTP_PORT) out.httpPort = Number(env.TIMMY_HTTP_PORT);
  if (env.TIMMY_RELAYS) out.relays = env.TIMMY_RELAYS.split(',').map((s) => s.trim()).filter(Boolean);
  if (env.TIMMY_ADMINS) out.web = { admins: env.TIMMY_ADMINS.split(',').map((s) => s.trim()).filter(Boolean) };
  if (env.TIMMY_LOG_LEVEL) out.log = { level: env.TIMMY_LOG_LEVEL };
  if (env.TIMMY_NWC_URI) out.wallet = { nwcBackend: { uri: env.TIMMY_NWC_URI.trim() } };
  return out;
}

export function formatIssues(err: z.ZodError, source: string): string {
  return err.issues
    .map((i) => {
      const key = i.path.join('.') || '(top level)';
      const keys = 'keys' in i && Array.isArray(i.keys) ? ` ${i.keys.map((k) => `"${[...i.path, k].join('.')}"`).join(', ')}` : '';
      return `config error in ${source}: ${key}: ${i.message}${keys}`;
    })
    .join('\n');
}

export function loadConfig(o: { file?: string; env?: NodeJS.ProcessEnv; flags?: Json }): { config: Config; source: string } {
  let fileJson: Json = {};
  let source = 'defaults';
  const file = o.file ?? (existsSync('timmy.config.json') ? 'timmy.config.json' : undefined);
  if (file) {
    const path = resolve(file);
    if (!existsSync(path)) throw new ConfigError(`config file not found: ${path}`);
    try {
      fileJson = JSON.parse(readFileSync(path, 'utf8')) as Json;
    } catch (err) {
      throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
    }
    source = path;
  }
  const merged = merge(merge(fileJson, fromEnv(o.env ?? {})), o.flags ?? {});
  const r = configSchema.safeParse(merged);
  if (!r.success) throw new ConfigError(formatIssues(r.error, file ? `${source} / environment / flags` : 'environment / flags'));
  return { config: r.data, source };
}
