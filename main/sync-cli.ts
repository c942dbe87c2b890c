// `timmy relay sync <url>`: NIP-77 negentropy sync of this instance's relay database with another
// relay (strfry's `sync`, for Timmy): reconcile the ids of a filter's events, then download what we
// lack, upload what they lack, or both. Works with the instance stopped, or running (the writes go
// through the same SQLite file; its live subscribers hear of synced events only from new ones).
import { relayConfigSchema } from '../relay/config.js';
import { EmbeddedRelay } from '../relay/relay.js';
import { negentropySync, relayLocal, type SyncDirection } from '../relay/sync.js';
import { checkFilter, type Filter } from '../nostr/nip01.js';
import { AdminError } from './admin-cli.js';
import { one, parseFlags } from './flags.js';
import type { Config } from './config.js';

export const SYNC_HELP = `Usage: timmy relay sync <ws(s)://relay> [options]

Reconciles this instance's stored events with another relay using NIP-77 (negentropy), then
transfers the difference. Only the difference travels: two relays that share 99% of 100K events
sync in a few round trips (docs/benchmarks.md).

Options:
  --filter <json>            the events to sync, a NIP-01 filter (default {}: everything)
  --dir <d>                  down: fetch what we lack (default); up: send what they lack; both
  --frame <bytes>            largest negentropy message we send (default 60000)
  --json                     the report as JSON
  --data-dir <dir>           where data lives (default ./data)   env TIMMY_DATA_DIR
  --config <file>            JSON config file`;

export async function syncCommand(config: Config, argv: readonly string[]): Promise<string[]> {
  const f = parseFlags(argv, ['filter', 'dir', 'frame'], ['json']);
  const url = f.positional[0];
  if (!url || !/^wss?:\/\//.test(url)) throw new AdminError('give the relay to sync with: timmy relay sync ws://host:port');
  if (f.positional.length > 1) throw new AdminError(`unexpected argument "${f.positional[1]}"`);
  const dir = (one(f, 'dir') ?? 'down') as SyncDirection;
  if (!['down', 'up', 'both'].includes(dir)) throw new AdminError(`--dir must be down, up or both, got "${dir}"`);
  let filter: Filter = {};
  if (one(f, 'filter') !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(one(f, 'filter')!);
    } catch {
      throw new AdminError('--filter is not JSON');
    }
    const c = checkFilter(raw);
    if (!c.ok) throw new AdminError(`--filter: ${c.reason}`);
    filter = c.value;
  }
  const frame = Number(one(f, 'frame') ?? 60_000);
  if (!Number.isInteger(frame) || (frame !== 0 && frame < 4096)) throw new AdminError('--frame must be 0 or at least 4096');
  const relay = await EmbeddedRelay.open(relayConfigSchema.parse({ ...config.relay, ingestWorkers: 0, readerThreads: 1 }), config.dataDir);
  try {
    const r = await negentropySync(url, filter, relayLocal(relay), {
      direction: dir,
      frameSizeLimit: frame,
      onProgress: (p) => p.phase !== 'reconcile' && console.error(`${p.phase}: ${p.done}/${p.total}…`),
    });
    if (f.bools.has('json')) return [JSON.stringify(r)];
    return [
      `reconciled in ${r.rounds} round trips (${Math.round(r.reconcileMs)} ms): we lack ${r.need}, they lack ${r.have}`,
      `downloaded ${r.downloaded}, uploaded ${r.uploaded}, rejected ${r.rejected}; ${r.bytesSent} bytes sent, ${r.bytesReceived} received, ${Math.round(r.ms)} ms in all`,
    ];
  } finally {
    await relay.close();
  }
}
