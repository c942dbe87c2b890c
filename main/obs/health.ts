// Readiness (/readyz, `timmy status`): the relay's writer answers and the disk has room, the wallet
// backend answers (or the instance fell back to the built-in ledger), and agents heartbeat.
import { statfsSync } from 'node:fs';
import type { EmbeddedRelay } from '../../relay/relay.js';
import type { HealthCheck, HealthReport } from '../../web/deps.js';
import type { Services } from '../dvm.js';

const PROBE_TIMEOUT_MS = 2000;
/** Below this much free space the relay will soon refuse events: not ready. */
const MIN_FREE_BYTES = 64 * 1024 * 1024;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer in ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS)))]).finally(() =>
    clearTimeout(timer),
  );
}

async function check(name: string, f: () => Promise<string>): Promise<HealthCheck> {
  try {
    return { name, ok: true, detail: await f() };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message };
  }
}

export function readiness(o: { relay: EmbeddedRelay | undefined; dataDir: string; services: Services | undefined }): () => Promise<HealthReport> {
  return async () => {
    const checks: HealthCheck[] = [];
    if (o.relay) {
      const relay = o.relay;
      checks.push(
        await check('relay', async () => {
          // A round trip through the single writer thread: a (usually empty) purge of expired events.
          await withTimeout(relay.purgeExpired(), 'the relay writer');
          const fs = statfsSync(o.dataDir);
          const free = fs.bavail * fs.bsize;
          if (free < MIN_FREE_BYTES) throw new Error(`only ${Math.round(free / 1048576)} MiB free in ${o.dataDir}`);
          return `writer answers; ${Math.round(free / 1048576)} MiB free`;
        }),
      );
    }
    const s = o.services;
    if (s) {
      checks.push(
        await check('wallet', async () => {
          const info = await withTimeout(s.wallet.info(), 'the wallet');
          return `${info.backend === 'builtin' ? 'built-in' : info.backend} wallet on ${info.network}`;
        }),
      );
      checks.push(
        await check('agents', async () => {
          const agents = s.swarm.agents;
          const down = agents.filter((a) => !a.alive()).map((a) => a.name);
          if (agents.length > 0 && down.length === agents.length) throw new Error(`no agent is heartbeating (${down.join(', ')})`);
          return down.length ? `${agents.length - down.length} of ${agents.length} heartbeating; not: ${down.join(', ')}` : `${agents.length} of ${agents.length} heartbeating`;
        }),
      );
    }
    return { ok: checks.every((c) => c.ok), checks };
  };
}
