// Query plans of the relay store: every common filter shape must walk an index, never scan the
// events table; and schema migrations are versioned and idempotent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '../relay/store/open.js';
import { EventWriter, type WriteItem } from '../relay/store/event-writer.js';
import { EventReader } from '../relay/store/event-reader.js';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from '../relay/store/schema.js';
import type { QueryContext } from '../relay/store/query-sql.js';
import { canonicalJson, eventAddress, getEventHash, isReplaceable, type Filter, type NostrEvent } from '../nostr/nip01.js';

const N = 20_000;
const BASE = 1_700_000_000;
const hex = (n: number, width = 64): string => n.toString(16).padStart(width, '0');
const AUTHORS = Array.from({ length: 200 }, (_, i) => hex(i + 1));
const KINDS = [1, 1, 1, 7, 6, 30023, 1111, 9735, 4, 10002] as const;

/** Unsigned fake events: the store does not check signatures. */
function fakeEvent(i: number): NostrEvent {
  const kind = KINDS[i % KINDS.length]!;
  const tags: string[][] = [
    ['e', hex((i % 997) + 5000)],
    ['p', AUTHORS[i % 173]!],
    ['t', `topic${i % 50}`],
    ['k', String(i % 20)],
  ];
  if (kind === 30023) tags.push(['d', `slug${i}`]);
  const u = { pubkey: AUTHORS[i % AUTHORS.length]!, created_at: BASE + i, kind, tags, content: `hello world ${i}` };
  return { id: getEventHash(u), ...u, sig: hex(0, 128) };
}

function schemaDump(db: Database.Database): string {
  return JSON.stringify(db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all());
}

const INDEXED = /^SEARCH \w+ USING (INDEX|PRIMARY KEY|COVERING INDEX|INTEGER PRIMARY KEY)\b/;
const FULL_SCAN = /^SCAN (e|t|x|pt|events|tags)\b/;

describe('store query plans', () => {
  let dir: string;
  let db: Database.Database;
  let reader: EventReader;
  /** What the store should hold: replaceable events keep only the newest per address. */
  const kept = new Map<string, NostrEvent>();
  const ctxs: [string, QueryContext][] = [
    ['no private kinds', { now: BASE, privateKinds: [], viewers: [] }],
    ['anonymous with private kinds', { now: BASE, privateKinds: [4, 1059], viewers: [] }],
    ['authenticated viewer', { now: BASE, privateKinds: [4, 1059], viewers: [AUTHORS[0]!] }],
  ];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'timmy-plan-'));
    db = openDatabase(join(dir, 'relay.sqlite'), { readonly: false, durability: 'normal' });
    const writer = new EventWriter(db);
    let batch: WriteItem[] = [];
    for (let i = 0; i < N; i++) {
      const e = fakeEvent(i);
      kept.set(isReplaceable(e.kind) ? eventAddress(e) : e.id, e);
      batch.push({ event: e, json: canonicalJson(e) });
      if (batch.length === 2000) {
        for (const o of writer.saveBatch(batch)) assert.equal(o.stored, true, o.message);
        batch = [];
      }
    }
    writer.saveBatch(batch);
    db.exec('ANALYZE');
    reader = new EventReader(db);
  });

  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`holds the ${N} fake events, less the replaced ones`, () => {
    assert.ok(kept.size < N && kept.size > N / 2);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n, kept.size);
  });

  const filters: [string, Filter][] = [
    ['ids', { ids: [hex(1), hex(2)] }],
    ['authors+kinds', { authors: [AUTHORS[3]!], kinds: [1] }],
    ['authors+kinds, several of each', { authors: [AUTHORS[3]!, AUTHORS[4]!], kinds: [1, 7] }],
    ['authors', { authors: [AUTHORS[3]!] }],
    ['kinds', { kinds: [7] }],
    ['kinds, several', { kinds: [7, 1111] }],
    ['kinds+since', { kinds: [1], since: BASE + 19_000 }],
    ['#e', { '#e': [hex(5001)] }],
    ['#p', { '#p': [AUTHORS[5]!] }],
    ['#p+since+until', { '#p': [AUTHORS[5]!], since: BASE + 100, until: BASE + 5000 }],
    ['#d', { '#d': ['slug5'] }],
    ['#t', { '#t': ['topic3'] }],
    ['#t, several values', { '#t': ['topic3', 'topic4'] }],
    ['#k (any other letter)', { '#k': ['3'] }],
    ['#e+#p', { '#e': [hex(5001)], '#p': [AUTHORS[5]!] }],
    ['kinds+#t', { kinds: [1], '#t': ['topic3'] }],
    ['authors+#d', { authors: [AUTHORS[5]!], kinds: [30023], '#d': ['slug5'] }],
    ['since', { since: BASE + 19_000 }],
    ['until', { until: BASE + 100 }],
    ['since+until', { since: BASE + 100, until: BASE + 200 }],
  ];

  for (const [name, f] of filters) {
    it(`uses an index for ${name}`, () => {
      for (const [ctxName, ctx] of ctxs) {
        const plan = reader.explain(f, ctx);
        const where = `${name} (${ctxName}): ${JSON.stringify(plan)}`;
        assert.ok(plan.length > 0, where);
        assert.match(plan[0]!, INDEXED, where);
        for (const line of plan) assert.doesNotMatch(line, FULL_SCAN, where);
      }
    });
  }

  it('answers the indexed filters with the right events', () => {
    const q = (f: Filter) =>
      reader.query([f], { now: BASE, privateKinds: [], viewers: [], defaultLimit: 500, maxLimit: 5000, budgetMs: 5000 }).events.map(
        (j) => JSON.parse(j) as NostrEvent,
      );
    const byE = q({ '#e': [hex(5001)] });
    const hasE = (e: NostrEvent) => e.tags.some((t) => t[0] === 'e' && t[1] === hex(5001));
    assert.equal(byE.length, [...kept.values()].filter(hasE).length);
    assert.ok(byE.length > 0 && byE.every(hasE));
    const range = q({ since: BASE + 100, until: BASE + 199 });
    const inRange = [...kept.values()].filter((e) => e.created_at >= BASE + 100 && e.created_at <= BASE + 199);
    assert.deepEqual(
      range.map((e) => e.id),
      inRange.sort((a, b) => b.created_at - a.created_at).map((e) => e.id),
    );
    const ak = q({ authors: [AUTHORS[3]!], kinds: [7] });
    assert.equal(ak.length, [...kept.values()].filter((e) => e.pubkey === AUTHORS[3] && e.kind === 7).length);
    assert.ok(ak.length > 0 && ak.every((e) => e.pubkey === AUTHORS[3] && e.kind === 7));
  });
});

describe('schema migrations', () => {
  it('are numbered 1, 2, ... and SCHEMA_VERSION is the last', () => {
    assert.ok(MIGRATIONS.length > 0);
    MIGRATIONS.forEach((m, i) => assert.equal(m.version, i + 1));
    assert.equal(SCHEMA_VERSION, MIGRATIONS[MIGRATIONS.length - 1]!.version);
  });

  it('set user_version on open; reopening and migrating again is a no-op that keeps the data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'timmy-migrate-'));
    const path = join(dir, 'relay.sqlite');
    try {
      const db = openDatabase(path, { readonly: false, durability: 'normal' });
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      const e = fakeEvent(1);
      new EventWriter(db).saveBatch([{ event: e, json: canonicalJson(e) }]);
      const schema = schemaDump(db);
      assert.equal(migrate(db), SCHEMA_VERSION);
      assert.equal(schemaDump(db), schema);
      db.close();

      const again = openDatabase(path, { readonly: false, durability: 'normal' });
      assert.equal(again.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(schemaDump(again), schema);
      assert.equal((again.prepare('SELECT raw FROM events').get() as { raw: string }).raw, canonicalJson(e));
      again.close();

      const ro = openDatabase(path, { readonly: true, durability: 'normal' });
      assert.equal(ro.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      ro.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a database from a newer schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'timmy-migrate-'));
    const path = join(dir, 'relay.sqlite');
    try {
      const db = openDatabase(path, { readonly: false, durability: 'normal' });
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      assert.throws(() => openDatabase(path, { readonly: false, durability: 'normal' }), /newer than this software supports/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
