// `timmy status`: asks the running instance's HTTP server for /healthz and /readyz and prints
// the same checks, one per line. Exit 0 ready, 1 not ready or not running.
import type { Config } from './config.js';

interface Report {
  readonly ok: boolean;
  readonly checks?: readonly { name: string; ok: boolean; detail: string }[];
}

export async function statusCommand(config: Config, base?: string): Promise<{ code: number; lines: string[] }> {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = base ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.httpPort}`;
  let live: { ok: boolean; uptimeSeconds?: number };
  try {
    const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) });
    live = (await r.json()) as typeof live;
  } catch (err) {
    return { code: 1, lines: [`not running: nothing answers at ${url} (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message})`] };
  }
  const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
  const ready = (await r.json()) as Report;
  const lines = [`${ready.ok ? 'ready' : 'NOT READY'}: ${url} (up ${live.uptimeSeconds ?? '?'} s)`];
  for (const c of ready.checks ?? []) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(8)} ${c.detail}`);
  return { code: ready.ok ? 0 : 1, lines };
}
