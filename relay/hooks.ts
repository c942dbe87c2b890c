// The relay is assembled from hook arrays (khatru's model): policies are plain functions pushed
// onto these arrays; each array runs as a plain loop and, for rejections, the first reason wins.
import type { Filter, NostrEvent } from '../nostr/nip01.js';
import type { Connection } from './connection.js';
import type { SaveOutcome, WriteItem } from './store/event-writer.js';
import type { QueryResult } from './store/event-reader.js';
import type { QueryOptions, RecordsOptions, Schedule } from './pipeline/reader-pool.js';
import type { QueryContext } from './store/query-sql.js';

/** Returns a reason with its NIP-01 prefix (`blocked: ...`) to reject, or undefined to pass. `conn` is null in-process. */
export type EventPolicy = (e: NostrEvent, conn: Connection | null) => string | undefined;
export type FilterPolicy = (filters: readonly Filter[], conn: Connection | null, verb: 'REQ' | 'COUNT') => string | undefined;

export interface Hooks {
  rejectEvent: EventPolicy[];
  rejectFilter: FilterPolicy[];
  /** The first hook is the store of record: its outcome is the OK the client gets. Others are mirrors. */
  storeEvent: ((item: WriteItem) => Promise<SaveOutcome>)[];
  /** The first hook answers queries. */
  queryEvents: ((filters: readonly Filter[], opts: QueryOptions, sched?: Schedule) => Promise<QueryResult>)[];
  countEvents: ((filters: readonly Filter[], ctx: QueryContext, sched?: Schedule) => Promise<number>)[];
  /** NIP-77: the first hook lists (created_at, id) of a filter's events for negentropy sync. */
  queryRecords: ((filter: Filter, ctx: RecordsOptions) => Promise<{ records: [number, string][]; tooMany: boolean }>)[];
  /** Runs after a NIP-09 deletion request has been stored (the store has already applied it). */
  deleteEvent: ((deletion: NostrEvent) => void)[];
  onConnect: ((c: Connection) => void)[];
  onDisconnect: ((c: Connection) => void)[];
  /** A connection the relay cut off because it did not read its messages (send queue over `maxBufferedBytes`). */
  onDrop: ((c: Connection, buffered: number) => void)[];
  /** Runs after an event is committed (or accepted, for ephemeral ones): live delivery hangs here. */
  onEventSaved: ((e: NostrEvent, json: string) => void)[];
  /**
   * Observers (metrics): an EVENT was answered; `ms` runs from receipt to the OK (in-process: from
   * the publish call). `message` is the OK's text with its NIP-01 prefix. Called for every event
   * on the hot path: keep them cheap and allocation-free.
   */
  onEventDone: ((ms: number, ok: boolean, message: string) => void)[];
  /** Observers: a REQ's stored events were sent (EOSE); `ms` from receipt to EOSE. */
  onQueryDone: ((ms: number, events: number) => void)[];
  /** Internal errors (a bug handling a message, a crashed ingest worker): logged by whoever listens; console when nobody does. */
  onError: ((where: string, err: unknown) => void)[];
}

/** Reports an internal error to the onError hooks, or to the console when there are none. */
export function reportError(hooks: Pick<Hooks, 'onError'>, where: string, err: unknown): void {
  if (hooks.onError.length === 0) return void console.error(`relay: ${where}`, err);
  for (const h of hooks.onError) h(where, err);
}

export const emptyHooks = (): Hooks => ({
  rejectEvent: [],
  rejectFilter: [],
  storeEvent: [],
  queryEvents: [],
  countEvents: [],
  queryRecords: [],
  deleteEvent: [],
  onConnect: [],
  onDisconnect: [],
  onDrop: [],
  onEventSaved: [],
  onEventDone: [],
  onQueryDone: [],
  onError: [],
});

export function firstRejection<A extends unknown[]>(hooks: readonly ((...a: A) => string | undefined)[], ...args: A): string | undefined {
  for (const h of hooks) {
    const r = h(...args);
    if (r !== undefined) return r;
  }
  return undefined;
}
