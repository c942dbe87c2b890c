// The wallet database (<dataDir>/wallet.sqlite): versioned migrations with PRAGMA user_version, as
// the relay's store does. Each migration runs once, in a transaction; never edit a shipped one.
import Database from 'better-sqlite3';

type Migration = { version: number; description: string; sql: string };

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'double-entry ledger, invoices, escrows',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

      -- balance_msat is the sum of the account's entries, kept in the same transaction as they are
      -- written (so spending checks are one row read); only 'external' may go negative.
      CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        balance_msat INTEGER NOT NULL DEFAULT 0,
        allow_negative INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        CHECK (allow_negative = 1 OR balance_msat >= 0)
      ) WITHOUT ROWID;

      -- One row per accepted operation; the idempotency key makes a retry find the first one.
      CREATE TABLE transactions (
        id INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        memo TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL
      );

      -- Positive = credit, negative = debit; the entries of a transaction sum to zero.
      CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        tx_id INTEGER NOT NULL REFERENCES transactions(id),
        account TEXT NOT NULL REFERENCES accounts(id),
        amount_msat INTEGER NOT NULL CHECK (amount_msat <> 0)
      );
      CREATE INDEX entries_tx ON entries(tx_id);
      CREATE INDEX entries_account ON entries(account, tx_id);

      -- preimage is NULL for hold invoices until they are settled (later wallet issue).
      CREATE TABLE invoices (
        payment_hash TEXT PRIMARY KEY,
        preimage TEXT,
        bolt11 TEXT NOT NULL,
        amount_msat INTEGER NOT NULL CHECK (amount_msat > 0),
        description TEXT NOT NULL DEFAULT '',
        account TEXT NOT NULL,
        job_id TEXT,
        refund_account TEXT,
        kind TEXT NOT NULL DEFAULT 'standard' CHECK (kind IN ('standard', 'hold')),
        status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'paid', 'expired', 'cancelled')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        settled_at INTEGER,
        paid_by TEXT,
        settle_tx_id INTEGER REFERENCES transactions(id)
      ) WITHOUT ROWID;
      CREATE INDEX invoices_job ON invoices(job_id) WHERE job_id IS NOT NULL;
      CREATE INDEX invoices_open ON invoices(expires_at) WHERE status = 'open';

      -- One escrow per job: held once, then released or refunded once.
      CREATE TABLE escrows (
        job_id TEXT PRIMARY KEY,
        payer TEXT NOT NULL,
        amount_msat INTEGER NOT NULL CHECK (amount_msat > 0),
        status TEXT NOT NULL CHECK (status IN ('held', 'released', 'refunded')),
        released_to TEXT,
        released_msat INTEGER NOT NULL DEFAULT 0,
        fee_msat INTEGER NOT NULL DEFAULT 0,
        refunded_msat INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        hold_tx_id INTEGER NOT NULL REFERENCES transactions(id),
        close_tx_id INTEGER REFERENCES transactions(id),
        created_at INTEGER NOT NULL,
        closed_at INTEGER
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'LND backend: the node\'s view of our invoices, outgoing Lightning payments',
    sql: `
      -- One row per invoice that lives on LND (the invoices row holds what the ledger knows). state is
      -- the last state LND reported; cancel_pending = 1 while a cancel still has to reach LND.
      CREATE TABLE lnd_invoices (
        payment_hash TEXT PRIMARY KEY REFERENCES invoices(payment_hash),
        state TEXT NOT NULL DEFAULT 'OPEN' CHECK (state IN ('OPEN', 'ACCEPTED', 'SETTLED', 'CANCELED')),
        cancel_pending INTEGER NOT NULL DEFAULT 0,
        amt_paid_msat INTEGER NOT NULL DEFAULT 0,
        htlc_expiry INTEGER,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX lnd_invoices_live ON lnd_invoices(state) WHERE state IN ('OPEN', 'ACCEPTED') OR cancel_pending = 1;

      -- Payments sent through LND from a ledger account. The debit (amount + fee limit) is posted
      -- before LND is asked; a failure posts it back, a success posts back what the fee did not use.
      -- attempt counts retries after failures (each has its own ledger keys).
      CREATE TABLE lnd_payments (
        payment_hash TEXT PRIMARY KEY,
        bolt11 TEXT NOT NULL,
        from_account TEXT NOT NULL,
        amount_msat INTEGER NOT NULL CHECK (amount_msat > 0),
        fee_limit_msat INTEGER NOT NULL CHECK (fee_limit_msat >= 0),
        fee_msat INTEGER,
        status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
        preimage TEXT,
        attempt INTEGER NOT NULL DEFAULT 1,
        failure TEXT,
        created_at INTEGER NOT NULL,
        settled_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX lnd_payments_pending ON lnd_payments(status) WHERE status = 'pending';
    `,
  },
  {
    version: 3,
    description: 'treasury: withdrawals that wait for approval',
    sql: `
      -- A withdrawal from a ledger account to a bolt11 invoice or an on-chain address. Nothing moves
      -- until it is approved; then it is sent (pay, or sendToChain) and ends sent or failed, or it is
      -- rejected. The ledger moves carry the key withdrawal:<id>:... (docs/wallet.md, "Treasury").
      CREATE TABLE withdrawals (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        amount_msat INTEGER NOT NULL CHECK (amount_msat > 0),
        destination TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('bolt11', 'onchain')),
        reason TEXT NOT NULL DEFAULT '',
        requested_by TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL CHECK (state IN ('requested', 'approved', 'sent', 'rejected', 'failed')),
        decided_by TEXT,
        failure TEXT,
        txid TEXT,
        payment_hash TEXT,
        created_at INTEGER NOT NULL,
        decided_at INTEGER,
        finished_at INTEGER
      );
      CREATE INDEX withdrawals_open ON withdrawals(state) WHERE state IN ('requested', 'approved');
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`wallet database schema version ${current} is newer than this software supports (${SCHEMA_VERSION})`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return SCHEMA_VERSION;
}

export type Durability = 'full' | 'normal';

/** Opens (creating if needed) and migrates the wallet database. Every commit is durable with 'full' (the default). */
export function openWalletDatabase(path: string, durability: Durability = 'full'): Database.Database {
  const db = new Database(path);
  try {
    // busy_timeout first, so that a lock held briefly by another process is waited for here too.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
