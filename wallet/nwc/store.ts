// NWC connections and what they spent, in their own database (<dataDir>/nwc.sqlite): the wallet's
// books stay ignorant of NWC, and this schema evolves without taking a migration number in
// wallet.sqlite. A payment's amount is reserved here (committed, synchronous=FULL) before the wallet
// pays, and released if the payment fails: a crash in between counts the payment against the budget
// rather than forgetting it. The client's secret is never stored, only its pubkey.
import Database from 'better-sqlite3';
import { BUDGET_RENEWALS, type BudgetRenewal } from '../../nostr/nip47.js';
import { periodStart } from './budget.js';
import { NwcConnectionError, NwcRequestError } from './errors.js';

export interface NwcConnectionRecord {
  /** The operator's name for it (`timmy wallet nwc remove <name>`). */
  readonly name: string;
  /** The client's pubkey (from the secret in its URI). */
  readonly pubkey: string;
  /** The wallet account it spends from and receives to. */
  readonly account: string;
  /** Most it may spend per period (msat); null = no budget (the account's balance is the limit). */
  readonly budgetMsat: number | null;
  readonly renewal: BudgetRenewal;
  /** Allowed methods (and `notifications`); null = everything the service supports. */
  readonly methods: readonly string[] | null;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

export type NewConnection = Omit<NwcConnectionRecord, 'createdAt' | 'lastUsedAt'>;

const MIGRATIONS = [
  `CREATE TABLE connections (
     name TEXT PRIMARY KEY,
     pubkey TEXT NOT NULL UNIQUE,
     account TEXT NOT NULL,
     budget_msat INTEGER CHECK (budget_msat IS NULL OR budget_msat > 0),
     budget_renewal TEXT NOT NULL CHECK (budget_renewal IN ('daily', 'weekly', 'monthly', 'yearly', 'never')),
     methods TEXT,
     created_at INTEGER NOT NULL,
     last_used_at INTEGER
   ) WITHOUT ROWID;
   CREATE INDEX connections_account ON connections(account);
   -- One row per invoice a connection paid (or is paying: pending); the budget sums them.
   CREATE TABLE payments (
     connection TEXT NOT NULL REFERENCES connections(name) ON DELETE CASCADE,
     payment_hash TEXT NOT NULL,
     amount_msat INTEGER NOT NULL CHECK (amount_msat > 0),
     fee_msat INTEGER NOT NULL DEFAULT 0,
     status TEXT NOT NULL CHECK (status IN ('pending', 'paid')),
     created_at INTEGER NOT NULL,
     PRIMARY KEY (connection, payment_hash)
   ) WITHOUT ROWID;
   CREATE INDEX payments_time ON payments(connection, created_at);
   -- NIP-47 metadata given with make_invoice / pay_invoice (at most 4096 characters).
   CREATE TABLE metadata (payment_hash TEXT PRIMARY KEY, metadata TEXT NOT NULL) WITHOUT ROWID;`,
];

interface Row {
  name: string;
  pubkey: string;
  account: string;
  budget_msat: number | null;
  budget_renewal: BudgetRenewal;
  methods: string | null;
  created_at: number;
  last_used_at: number | null;
}

const record = (r: Row): NwcConnectionRecord => ({
  name: r.name,
  pubkey: r.pubkey,
  account: r.account,
  budgetMsat: r.budget_msat,
  renewal: r.budget_renewal,
  methods: r.methods === null ? null : r.methods.split(' ').filter(Boolean),
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

const NAME = /^[\x21-\x7e]{1,100}$/;

export class NwcStore {
  private constructor(readonly db: Database.Database) {}

  static open(path: string): NwcStore {
    const db = new Database(path);
    try {
      db.pragma('busy_timeout = 5000'); // first: a briefly held lock is waited for, also by the WAL switch
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      const v = db.pragma('user_version', { simple: true }) as number;
      if (v > MIGRATIONS.length) throw new Error(`${path}: schema version ${v} is newer than this software supports (${MIGRATIONS.length})`);
      MIGRATIONS.slice(v).forEach((sql, i) =>
        db.transaction(() => {
          db.exec(sql);
          db.pragma(`user_version = ${v + i + 1}`);
        })(),
      );
    } catch (err) {
      db.close();
      throw err;
    }
    return new NwcStore(db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  add(c: NewConnection, now: number): NwcConnectionRecord {
    if (!NAME.test(c.name)) throw new NwcConnectionError('a connection name is 1-100 printable ASCII characters without spaces');
    if (!BUDGET_RENEWALS.includes(c.renewal)) throw new NwcConnectionError(`budget period must be one of ${BUDGET_RENEWALS.join(', ')}`);
    if (c.budgetMsat !== null && (!Number.isSafeInteger(c.budgetMsat) || c.budgetMsat <= 0)) throw new NwcConnectionError('the budget must be a positive number of msat');
    try {
      this.db
        .prepare('INSERT INTO connections (name, pubkey, account, budget_msat, budget_renewal, methods, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(c.name, c.pubkey, c.account, c.budgetMsat, c.renewal, c.methods === null ? null : c.methods.join(' '), now);
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) throw new NwcConnectionError(`a connection named ${JSON.stringify(c.name)} already exists`);
      throw err;
    }
    return this.byName(c.name)!;
  }

  /** Removes the connection and its payment records; false if there was none. */
  remove(name: string): boolean {
    return this.db.prepare('DELETE FROM connections WHERE name = ?').run(name).changes > 0;
  }

  list(): NwcConnectionRecord[] {
    return this.db.prepare<[], Row>('SELECT * FROM connections ORDER BY name').all().map(record);
  }

  byName(name: string): NwcConnectionRecord | undefined {
    const r = this.db.prepare<[string], Row>('SELECT * FROM connections WHERE name = ?').get(name);
    return r && record(r);
  }

  byPubkey(pubkey: string): NwcConnectionRecord | undefined {
    const r = this.db.prepare<[string], Row>('SELECT * FROM connections WHERE pubkey = ?').get(pubkey);
    return r && record(r);
  }

  byAccount(account: string): NwcConnectionRecord[] {
    return this.db.prepare<[string], Row>('SELECT * FROM connections WHERE account = ? ORDER BY name').all(account).map(record);
  }

  touch(name: string, now: number): void {
    this.db.prepare('UPDATE connections SET last_used_at = ? WHERE name = ?').run(now, name);
  }

  /** What the connection spent (paid and pending, with fees) in the budget period that holds `now`. */
  spent(c: Pick<NwcConnectionRecord, 'name' | 'renewal'>, now: number): number {
    return (
      this.db
        .prepare<[string, number], { s: number | null }>('SELECT SUM(amount_msat + fee_msat) AS s FROM payments WHERE connection = ? AND created_at >= ?')
        .get(c.name, periodStart(c.renewal, now))?.s ?? 0
    );
  }

  /**
   * Reserves `amountMsat` of the connection's budget for paying `paymentHash`, in one write
   * transaction (two requests cannot both fit into the last of a budget). An invoice this
   * connection already paid or is paying reserves nothing again (`created` false): the wallet
   * answers a repeated payment with the first one. Throws QUOTA_EXCEEDED.
   */
  reserve(c: NwcConnectionRecord, paymentHash: string, amountMsat: number, now: number): { created: boolean } {
    return this.db.transaction(() => {
      const had = this.db.prepare('SELECT 1 FROM payments WHERE connection = ? AND payment_hash = ?').get(c.name, paymentHash);
      if (had) return { created: false };
      if (c.budgetMsat !== null) {
        const spent = this.spent(c, now);
        if (spent + amountMsat > c.budgetMsat) {
          throw new NwcRequestError('QUOTA_EXCEEDED', `this payment of ${amountMsat} msat exceeds the connection's ${c.renewal} budget: ${spent} of ${c.budgetMsat} msat used`);
        }
      }
      this.db
        .prepare(`INSERT INTO payments (connection, payment_hash, amount_msat, status, created_at) VALUES (?, ?, ?, 'pending', ?)`)
        .run(c.name, paymentHash, amountMsat, now);
      return { created: true };
    }).immediate();
  }

  settle(name: string, paymentHash: string, feeMsat: number): void {
    this.db.prepare(`UPDATE payments SET status = 'paid', fee_msat = ? WHERE connection = ? AND payment_hash = ?`).run(feeMsat, name, paymentHash);
  }

  /** Gives a failed payment's reservation back. */
  release(name: string, paymentHash: string): void {
    this.db.prepare(`DELETE FROM payments WHERE connection = ? AND payment_hash = ? AND status = 'pending'`).run(name, paymentHash);
  }

  setMetadata(paymentHash: string, metadata: Record<string, unknown>): void {
    this.db.prepare('INSERT OR REPLACE INTO metadata (payment_hash, metadata) VALUES (?, ?)').run(paymentHash, JSON.stringify(metadata));
  }

  metadata(paymentHash: string): Record<string, unknown> | undefined {
    const r = this.db.prepare<[string], { metadata: string }>('SELECT metadata FROM metadata WHERE payment_hash = ?').get(paymentHash);
    return r ? (JSON.parse(r.metadata) as Record<string, unknown>) : undefined;
  }
}
