// The embedded relay's figures for the dashboard: the core's counters, the database's size, and
// stored events by kind (a GROUP BY on a read-only connection, cached so a busy page costs little).
import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { EmbeddedRelay } from '../relay/relay.js';
import { openDatabase } from '../relay/store/open.js';
import type { RelayStats } from '../web/deps.js';

const CACHE_MS = 5000;

const size = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

export function relayStatsOf(relay: EmbeddedRelay): () => Promise<RelayStats> {
  let db: Database.Database | undefined;
  let cached: { at: number; topKinds: { kind: number; count: number }[]; stored: number } | undefined;
  return async () => {
    if (!cached || Date.now() - cached.at > CACHE_MS) {
      db ??= openDatabase(relay.dbPath, { readonly: true, durability: 'normal' });
      const rows = db.prepare('SELECT kind, COUNT(*) AS count FROM events GROUP BY kind ORDER BY count DESC').all() as { kind: number; count: number }[];
      cached = { at: Date.now(), topKinds: rows.slice(0, 10), stored: rows.reduce((s, r) => s + r.count, 0) };
    }
    const s = relay.core.stats;
    return {
      connections: s.connections,
      subscriptions: s.subscriptions,
      eventsAccepted: s.eventsAccepted,
      eventsRejected: s.eventsRejected,
      storageBytes: size(relay.dbPath) + size(`${relay.dbPath}-wal`),
      topKinds: cached.topKinds,
      storedEvents: cached.stored,
    };
  };
}
