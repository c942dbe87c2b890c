// The read side of the store: runs filters with a time budget so that one expensive REQ cannot
// hold a reader (or, through WAL, the writer) for long. Used by the reader threads.
import type Database from 'better-sqlite3';
import type { Filter } from '../../nostr/nip01.js';
import { countSql, recordsSql, selectSql, type QueryContext } from './query-sql.js';

export interface QueryResult {
  /** Canonical event JSON, in the order NIP-01 asks for. */
  readonly events: string[];
  /** True when the time budget ran out before the filter was exhausted. */
  readonly truncated: boolean;
}

type Row = { seq: number; raw: string; created_at: number; id: string };

export class EventReader {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /**
   * Prepared statements are cached by their SQL. A statement with hundreds of placeholders (a REQ
   * with a huge `ids` list) is not: each list length is another SQL text, and keeping 500 of those
   * per reader would let a REQ flood grow the readers' memory.
   */
  private stmt(sql: string, params = 0): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (params > 256) return s;
      if (this.cache.size > 500) this.cache.clear();
      this.cache.set(sql, s);
    }
    return s;
  }

  /**
   * Runs several filters; each gets its own limit (NIP-01). The union is deduplicated and sorted
   * newest first (ties by lowest id), except for a single search filter, which keeps relevance order.
   */
  query(filters: readonly Filter[], ctx: QueryContext & { defaultLimit: number; maxLimit: number; budgetMs: number }): QueryResult {
    const deadline = performance.now() + ctx.budgetMs;
    const seen = new Set<number>();
    const rows: Row[] = [];
    let truncated = false;
    for (const f of filters) {
      const limit = Math.min(f.limit ?? ctx.defaultLimit, ctx.maxLimit);
      if (limit === 0) continue;
      const q = selectSql(f, limit, ctx);
      if (!q) continue;
      let n = 0;
      for (const r of this.stmt(q.sql, q.params.length).iterate(...q.params) as IterableIterator<Row>) {
        if (!seen.has(r.seq)) {
          seen.add(r.seq);
          rows.push(r);
        }
        if ((++n & 63) === 0 && performance.now() > deadline) {
          truncated = true;
          break;
        }
      }
      if (truncated) break;
    }
    const bySearch = filters.length === 1 && filters[0]?.search !== undefined;
    if (!bySearch && filters.length > 1) {
      rows.sort((a, b) => (a.created_at !== b.created_at ? b.created_at - a.created_at : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    }
    return { events: rows.map((r) => r.raw), truncated };
  }

  /** NIP-45: the number of distinct events matching any of the filters. */
  count(filters: readonly Filter[], ctx: QueryContext): number {
    if (filters.length === 1) {
      const q = countSql(filters[0]!, ctx);
      return q ? ((this.stmt(q.sql, q.params.length).get(...q.params) as { n: number }).n ?? 0) : 0;
    }
    // Several filters may overlap: count distinct ids across them.
    const ids = new Set<string>();
    for (const f of filters) {
      const q = selectSql(f, Number.MAX_SAFE_INTEGER, ctx);
      if (!q) continue;
      for (const r of this.stmt(q.sql, q.params.length).iterate(...q.params) as IterableIterator<Row>) ids.add(r.id);
    }
    return ids.size;
  }

  /**
   * NIP-77: (created_at, id) of the events matching the filter (its `limit`, when given, caps
   * them as in a REQ). More than `maxRecords` answers `tooMany` (the relay refuses with `blocked:`).
   */
  records(f: Filter, ctx: QueryContext & { maxRecords: number }): { records: [number, string][]; tooMany: boolean } {
    const cap = f.limit !== undefined ? Math.min(f.limit, ctx.maxRecords) : ctx.maxRecords;
    const q = recordsSql(f, cap + 1, ctx);
    if (!q) return { records: [], tooMany: false };
    const st = this.stmt(q.sql, q.params.length);
    const rows = st.raw(true).all(...q.params) as [number, string][];
    st.raw(false);
    if (f.limit === undefined && rows.length > ctx.maxRecords) return { records: [], tooMany: true };
    return { records: rows.slice(0, cap), tooMany: false };
  }

  explain(f: Filter, ctx: QueryContext): string[] {
    const q = selectSql(f, 100, ctx);
    if (!q) return [];
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.params) as { detail: string }[]).map((r) => r.detail);
  }
}
