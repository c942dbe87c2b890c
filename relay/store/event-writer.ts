// The write side of the store: NIP-01 replaceable/addressable rules, NIP-09 deletion and NIP-40
// expiry, applied inside one transaction per batch. Only one EventWriter exists per database
// (SQLite has one write lock); it runs in the writer thread (./writer-thread.ts).
import type Database from 'better-sqlite3';
import { eventAddress, kindClass, replaces, tagValue, type NostrEvent } from '../../nostr/nip01.js';

export type SaveOutcome =
  | { readonly ok: true; readonly stored: true; readonly message: '' }
  | { readonly ok: true; readonly stored: false; readonly message: string }
  | { readonly ok: false; readonly stored: false; readonly message: string };

export interface WriteItem {
  readonly event: NostrEvent;
  /** Canonical JSON, stored verbatim and sent verbatim to readers. */
  readonly json: string;
}

/** Tag values longer than this are not indexed (no filter would reasonably carry them). */
const MAX_INDEXED_TAG_VALUE = 1024;
/** Kinds whose content is ciphertext: nothing to search. */
const NO_FULLTEXT_KINDS = new Set([4, 13, 1059, 1060]);

export function expirationOf(e: Pick<NostrEvent, 'tags'>): number | null {
  const v = tagValue(e, 'expiration');
  if (v === undefined || !/^\d{1,15}$/.test(v)) return null;
  return Number(v);
}

export class EventWriter {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      byId: db.prepare<[string], { seq: number; pubkey: string; kind: number }>('SELECT seq, pubkey, kind FROM events WHERE id = ?'),
      byAddress: db.prepare<[string], { seq: number; id: string; created_at: number }>(
        'SELECT seq, id, created_at FROM events WHERE address = ?',
      ),
      insert: db.prepare(
        'INSERT INTO events (id, pubkey, kind, created_at, expiration, address, raw) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertTag: db.prepare('INSERT OR IGNORE INTO tags (seq, name, value, created_at) VALUES (?, ?, ?, ?)'),
      insertFts: db.prepare('INSERT INTO events_fts (rowid, content) VALUES (?, ?)'),
      delEvent: db.prepare('DELETE FROM events WHERE seq = ?'),
      delTags: db.prepare('DELETE FROM tags WHERE seq = ?'),
      delFts: db.prepare('DELETE FROM events_fts WHERE rowid = ?'),
      deletedId: db.prepare<[string], { pubkey: string }>('SELECT pubkey FROM deleted_ids WHERE id = ?'),
      markDeletedId: db.prepare('INSERT OR IGNORE INTO deleted_ids (id, pubkey) VALUES (?, ?)'),
      deletedAddress: db.prepare<[string], { until: number }>('SELECT until FROM deleted_addresses WHERE address = ?'),
      markDeletedAddress: db.prepare(
        'INSERT INTO deleted_addresses (address, until) VALUES (?, ?) ON CONFLICT(address) DO UPDATE SET until = max(until, excluded.until)',
      ),
      addressUpTo: db.prepare<[string, number], { seq: number }>('SELECT seq FROM events WHERE address = ? AND created_at <= ?'),
      expired: db.prepare<[number, number], { seq: number }>(
        'SELECT seq FROM events WHERE expiration IS NOT NULL AND expiration <= ? LIMIT ?',
      ),
    };
  }

  /**
   * Saves a batch in one transaction; returns one outcome per item, in order. `beforeCommit` runs
   * inside the transaction after every row is written (the fault-injection hook: a throw there
   * rolls the whole batch back, as a failing COMMIT would).
   */
  saveBatch(items: readonly WriteItem[], beforeCommit?: () => void): SaveOutcome[] {
    // BEGIN IMMEDIATE: the write lock is taken first, under busy_timeout. A deferred transaction
    // reads first and then upgrades, and SQLite fails that upgrade at once (SQLITE_BUSY, no wait)
    // while another process holds the lock: a lock of a moment refused events (docs/reliability.md).
    return this.db
      .transaction(() => {
        const out = items.map((it) => this.save(it));
        beforeCommit?.();
        return out;
      })
      .immediate();
  }

  private save({ event: e, json }: WriteItem): SaveOutcome {
    const s = this.s;
    if (s.byId.get(e.id)) return { ok: true, stored: false, message: 'duplicate: already have this event' };
    const del = s.deletedId.get(e.id);
    if (del && del.pubkey === e.pubkey) return { ok: false, stored: false, message: 'blocked: this event was deleted by its author' };

    const cls = kindClass(e.kind);
    let address: string | null = null;
    if (cls === 'replaceable' || cls === 'addressable') {
      address = eventAddress(e);
      const tomb = s.deletedAddress.get(address);
      if (tomb && tomb.until >= e.created_at) {
        return { ok: false, stored: false, message: 'blocked: this address was deleted by its author' };
      }
      const current = s.byAddress.all(address);
      for (const c of current) {
        if (!replaces(e, c)) return { ok: false, stored: false, message: 'duplicate: a newer version of this event is stored' };
      }
      for (const c of current) this.remove(c.seq);
    }

    if (e.kind === 5) this.applyDeletion(e);

    const info = s.insert.run(e.id, e.pubkey, e.kind, e.created_at, expirationOf(e), address, json);
    const seq = Number(info.lastInsertRowid);
    for (const t of e.tags) {
      const name = t[0];
      const value = t[1];
      if (name === undefined || name.length !== 1 || value === undefined || value.length > MAX_INDEXED_TAG_VALUE) continue;
      s.insertTag.run(seq, name, value, e.created_at);
    }
    if (e.content && !NO_FULLTEXT_KINDS.has(e.kind)) s.insertFts.run(seq, e.content);
    return { ok: true, stored: true, message: '' };
  }

  /** NIP-09: only the author's own events, `e` by id and `a` by address up to the request's created_at. */
  private applyDeletion(d: NostrEvent): void {
    const s = this.s;
    for (const t of d.tags) {
      const v = t[1];
      if (v === undefined) continue;
      if (t[0] === 'e' && /^[0-9a-f]{64}$/.test(v)) {
        const target = s.byId.get(v);
        if (target && (target.pubkey !== d.pubkey || target.kind === 5)) continue; // not theirs, or a deletion (no effect)
        if (target) this.remove(target.seq);
        s.markDeletedId.run(v, d.pubkey);
      } else if (t[0] === 'a') {
        const [kindStr, pubkey] = v.split(':');
        if (pubkey !== d.pubkey || !kindStr || !/^\d+$/.test(kindStr)) continue;
        const cls = kindClass(Number(kindStr));
        if (cls !== 'replaceable' && cls !== 'addressable') continue;
        for (const r of s.addressUpTo.all(v, d.created_at)) this.remove(r.seq);
        s.markDeletedAddress.run(v, d.created_at);
      }
    }
  }

  private remove(seq: number): void {
    this.s.delEvent.run(seq);
    this.s.delTags.run(seq);
    this.s.delFts.run(seq);
  }

  /** NIP-40: deletes up to `max` expired events; returns how many. */
  purgeExpired(now: number, max = 1000): number {
    // Read-then-write, so BEGIN IMMEDIATE for the same reason as saveBatch.
    return this.db
      .transaction(() => {
        const rows = this.s.expired.all(now, max);
        for (const r of rows) this.remove(r.seq);
        return rows.length;
      })
      .immediate();
  }
}
