// The relay under load (bench/load.ts, test/relay-abuse.test.ts): the real EmbeddedRelay + websocket
// server in a child process of its own, so its memory is measured apart from the attackers'.
//
//   node dist/bench/load-relay.js '<relay config JSON>'
//
// Talks to its parent over the fork IPC channel: sends {type:'ready', url}; answers
// {type:'stats'} with the core's counters and process.memoryUsage(), {type:'seed', n} by storing n
// signed events, {type:'stop'} by closing cleanly and exiting. Exits when the parent goes away.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayConfigSchema } from '../relay/config.js';
import { EmbeddedRelay } from '../relay/relay.js';
import { serveRelay } from '../relay/server.js';
import { seedEvents } from './load-events.js';

const cfg = relayConfigSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
const dir = mkdtempSync(join(tmpdir(), 'timmy-load-'));
const relay = await EmbeddedRelay.open(cfg, dir);
const server = await serveRelay(relay, { host: '127.0.0.1', port: 0, version: 'load' });
relay.hooks.onError.push(() => undefined); // attackers cause expected errors; keep the log quiet

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await server.close().catch(() => undefined);
    await relay.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(code);
}

type Msg = { type: 'stats'; n: number } | { type: 'seed'; n: number; count: number } | { type: 'stop' };

process.on('message', (m: Msg) => {
  if (m.type === 'stats') {
    process.send?.({ type: 'stats', n: m.n, stats: { ...relay.core.stats }, mem: process.memoryUsage() });
  } else if (m.type === 'seed') {
    void (async () => {
      const events = seedEvents(m.count);
      let stored = 0;
      for (let i = 0; i < events.length; i += 500) {
        const rs = await Promise.all(events.slice(i, i + 500).map((e) => relay.publish(e)));
        stored += rs.filter((r) => r.ok).length;
      }
      process.send?.({ type: 'seeded', n: m.n, stored });
    })();
  } else if (m.type === 'stop') {
    void stop(0);
  }
});
process.on('disconnect', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.send?.({ type: 'ready', url: server.url });
