// Schema migrations keep every stored event: a version-1 database opened by this code is
// upgraded in place and serves the same events in the same order.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from '../relay/store/schema.js';
import { openDatabase } from '../relay/store/open.js';
import { EventReader } from '../relay/store/event-reader.js';
import { canonicalJson, type NostrEvent } from '../nostr/nip01.js';

const hex = (n: number) => n.toString(16).padStart(64, '0');

it('migrates a version-1 database to the current schema without losing events', () => {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-migrate-'));
  const path = join(dir, 'relay.sqlite');
  const v1 = new Database(path);
  v1.exec(MIGRATIONS[0]!.sql);
  v1.pragma('user_version = 1');
  const events: NostrEvent[] = [];
  const insert = v1.prepare('INSERT INTO events (id, pubkey, kind, created_at, expiration, address, raw) VALUES (?, ?, ?, ?, NULL, NULL, ?)');
  const tag = v1.prepare('INSERT INTO tags (seq, name, value, created_at, id) VALUES (?, ?, ?, ?, ?)');
  for (let i = 0; i < 200; i++) {
    const e: NostrEvent = { id: hex(1000 + i), pubkey: hex(7), created_at: 1_700_000_000 + (i % 50), kind: 1, tags: [['t', `t${i % 3}`]], content: `c${i}`, sig: '0'.repeat(128) };
    const seq = Number(insert.run(e.id, e.pubkey, e.kind, e.created_at, canonicalJson(e)).lastInsertRowid);
    tag.run(seq, 't', `t${i % 3}`, e.created_at, e.id);
    events.push(e);
  }
  v1.close();

  const db = openDatabase(path, { readonly: false, durability: 'normal' });
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const reader = new EventReader(db);
  const ctx = { now: 2_000_000_000, privateKinds: [], viewers: [], defaultLimit: 500, maxLimit: 5000, budgetMs: 1000 };
  const all = reader.query([{ authors: [hex(7)] }], ctx).events.map((j) => (JSON.parse(j) as NostrEvent).id);
  const expected = [...events].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1)).map((e) => e.id);
  assert.deepEqual(all, expected);
  const t1 = reader.query([{ '#t': ['t1'] }], ctx).events.length;
  assert.equal(t1, events.filter((e) => e.tags[0]![1] === 't1').length);
  db.close();
  // Opening again is a no-op.
  const again = openDatabase(path, { readonly: false, durability: 'normal' });
  assert.equal(again.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  again.close();
  rmSync(dir, { recursive: true, force: true });
});
