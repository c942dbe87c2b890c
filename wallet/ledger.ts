// The double-entry ledger: every accepted operation is one transaction whose entries (integer msat,
// positive = credit) sum to zero, written with the accounts' balances in one SQLite transaction
// and committed (synchronous=FULL) before the call returns. An idempotency key per operation makes
// a retry return the first transaction instead of counting twice.
import type Database from 'better-sqlite3';
import { accountKind, type AccountId } from './accounts.js';
import { IdempotencyConflictError, InsufficientFundsError, InvalidAmountError, UnbalancedTransactionError } from './errors.js';
import { openWalletDatabase, type Durability } from './schema.js';

/** Seconds since 1970; the same shape as the relay's Clock, so the composition root can share one. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000) };

export type TxKind = 'fund' | 'payment' | 'escrow_hold' | 'escrow_release' | 'escrow_refund' | 'transfer';

export interface Entry {
  readonly account: AccountId;
  /** Positive = credit (the ledger owes the account more), negative = debit. */
  readonly amountMsat: number;
}

export interface PostInput {
  /** Unique per operation: `invoice:<payment hash>`, `escrow:<job id>:release`, ... */
  readonly key: string;
  readonly kind: TxKind;
  readonly memo?: string;
  readonly entries: readonly Entry[];
}

export interface Posted {
  readonly txId: number;
  /** True when the key was already posted with the same entries: nothing was written. */
  readonly replayed: boolean;
}

export interface AccountBalance {
  readonly account: AccountId;
  readonly kind: string;
  readonly balanceMsat: number;
}

/** One ledger entry with its transaction, as listed for people (the dashboard). */
export interface LedgerEntry {
  readonly id: number;
  readonly txId: number;
  /** The transaction's time, unix seconds. */
  readonly at: number;
  readonly txKind: TxKind;
  /** The transaction's idempotency key (`invoice:<hash>`, `escrow:<job>:release`, ...). */
  readonly key: string;
  readonly memo: string;
  readonly account: AccountId;
  readonly amountMsat: number;
}

/** An invoice as one account sees it: one it is paid to (`incoming`) or one it paid (`outgoing`). */
export interface AccountInvoice {
  readonly direction: 'incoming' | 'outgoing';
  readonly paymentHash: string;
  readonly bolt11: string;
  readonly amountMsat: number;
  readonly description: string;
  readonly status: 'open' | 'accepted' | 'paid' | 'expired' | 'cancelled';
  /** Only once paid (the proof of payment). */
  readonly preimage: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly settledAt: number | null;
}

export interface AccountInvoiceQuery {
  /** Created at or after (unix seconds). */
  readonly from?: number;
  /** Created at or before. */
  readonly until?: number;
  /** 1 to 1000. */
  readonly limit: number;
  readonly offset?: number;
  /** Include invoices not paid (yet); default only paid ones. */
  readonly unpaid?: boolean;
  readonly direction?: 'incoming' | 'outgoing';
}

export interface Audit {
  /** Sum of every entry: always 0. */
  readonly totalMsat: number;
  /** Transactions whose entries do not sum to zero (always empty). */
  readonly unbalancedTxIds: readonly number[];
  /** Accounts whose stored balance differs from the sum of their entries (always empty). */
  readonly driftedAccounts: readonly AccountId[];
  readonly transactions: number;
}

/** Merges entries per account, drops zeros, sorts by account: the form stored and compared. */
function normalize(entries: readonly Entry[]): Entry[] {
  const sums = new Map<string, bigint>();
  for (const e of entries) {
    accountKind(e.account);
    if (!Number.isSafeInteger(e.amountMsat)) throw new InvalidAmountError(`entry amount must be a safe integer of msat, got ${e.amountMsat}`);
    sums.set(e.account, (sums.get(e.account) ?? 0n) + BigInt(e.amountMsat));
  }
  let total = 0n;
  const out: Entry[] = [];
  for (const [account, v] of [...sums].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    total += v;
    if (v === 0n) continue;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || -v > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidAmountError('entry amount too large');
    out.push({ account, amountMsat: Number(v) });
  }
  if (total !== 0n) throw new UnbalancedTransactionError(`entries sum to ${total} msat, not 0`);
  if (out.length === 0) throw new UnbalancedTransactionError('a transaction needs at least one non-zero entry');
  return out;
}

const sameEntries = (a: readonly Entry[], b: readonly Entry[]) =>
  a.length === b.length && a.every((e, i) => e.account === b[i]!.account && e.amountMsat === b[i]!.amountMsat);

export class Ledger {
  private readonly stmts;

  private constructor(
    readonly db: Database.Database,
    readonly clock: Clock,
  ) {
    this.stmts = {
      txByKey: db.prepare<[string], { id: number }>('SELECT id FROM transactions WHERE idempotency_key = ?'),
      entriesOf: db.prepare<[number], { account: string; amountMsat: number }>(
        'SELECT account, amount_msat AS amountMsat FROM entries WHERE tx_id = ? ORDER BY account',
      ),
      addAccount: db.prepare('INSERT OR IGNORE INTO accounts (id, kind, allow_negative, created_at) VALUES (?, ?, ?, ?)'),
      balance: db.prepare<[string], { b: number }>('SELECT balance_msat AS b FROM accounts WHERE id = ?'),
      insertTx: db.prepare('INSERT INTO transactions (idempotency_key, kind, memo, created_at) VALUES (?, ?, ?, ?)'),
      insertEntry: db.prepare('INSERT INTO entries (tx_id, account, amount_msat) VALUES (?, ?, ?)'),
      addBalance: db.prepare('UPDATE accounts SET balance_msat = balance_msat + ? WHERE id = ?'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    };
  }

  /** Opens (creating and migrating) the ledger database at `path`, e.g. `<dataDir>/wallet.sqlite`. */
  static open(path: string, o: { durability?: Durability; clock?: Clock } = {}): Ledger {
    return new Ledger(openWalletDatabase(path, o.durability ?? 'full'), o.clock ?? systemClock);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE; nested calls become savepoints): all of it commits, or none. */
  atomic<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * Posts a balanced transaction, or returns the one already posted under `key` (same entries;
   * different entries throw IdempotencyConflictError). Debits beyond a balance throw
   * InsufficientFundsError; only `external` may go negative.
   */
  post(p: PostInput): Posted {
    const entries = normalize(p.entries);
    if (typeof p.key !== 'string' || p.key.length === 0) throw new IdempotencyConflictError('an idempotency key is required');
    return this.atomic(() => {
      const existing = this.stmts.txByKey.get(p.key);
      if (existing) {
        const before = this.stmts.entriesOf.all(existing.id);
        if (!sameEntries(before, entries)) throw new IdempotencyConflictError(`idempotency key ${p.key} was used for other entries`);
        return { txId: existing.id, replayed: true };
      }
      const now = this.clock.now();
      for (const e of entries) {
        const kind = accountKind(e.account);
        this.stmts.addAccount.run(e.account, kind, kind === 'external' ? 1 : 0, now);
        if (e.amountMsat < 0 && kind !== 'external') {
          const bal = this.balance(e.account);
          if (bal + e.amountMsat < 0) throw new InsufficientFundsError(e.account, bal, -e.amountMsat);
        }
      }
      const txId = Number(this.stmts.insertTx.run(p.key, p.kind, p.memo ?? '', now).lastInsertRowid);
      for (const e of entries) {
        this.stmts.insertEntry.run(txId, e.account, e.amountMsat);
        this.stmts.addBalance.run(e.amountMsat, e.account);
      }
      return { txId, replayed: false };
    });
  }

  /** The id of the transaction posted under `key`, if any. */
  txIdForKey(key: string): number | undefined {
    return this.stmts.txByKey.get(key)?.id;
  }

  entries(txId: number): Entry[] {
    return this.stmts.entriesOf.all(txId);
  }

  /** An account's balance in msat (0 for an account never used). */
  balance(account: AccountId): number {
    accountKind(account);
    return this.stmts.balance.get(account)?.b ?? 0;
  }

  /** Every account with its balance, by id. */
  balances(): AccountBalance[] {
    return this.db
      .prepare<[], AccountBalance>('SELECT id AS account, kind, balance_msat AS balanceMsat FROM accounts ORDER BY id')
      .all();
  }

  /** The newest `limit` entries (1 to 1000), newest first; a transaction's entries stay together. */
  recentEntries(limit = 100): LedgerEntry[] {
    const n = Math.min(1000, Math.max(1, Math.floor(limit) || 1));
    return this.db
      .prepare<[number], LedgerEntry>(
        `SELECT e.id, e.tx_id AS txId, t.created_at AS at, t.kind AS txKind, t.idempotency_key AS key, t.memo, e.account, e.amount_msat AS amountMsat
         FROM entries e JOIN transactions t ON t.id = e.tx_id ORDER BY e.tx_id DESC, e.id DESC LIMIT ?`,
      )
      .all(n);
  }

  /**
   * The invoices an account was paid or paid itself (NWC's list_transactions), newest first. Reads
   * the invoices table, which has no index on account or payer: a scan, fine for thousands of rows.
   */
  accountInvoices(account: AccountId, q: AccountInvoiceQuery): AccountInvoice[] {
    accountKind(account);
    const where = [
      q.direction === 'incoming' ? 'account = @account' : q.direction === 'outgoing' ? "paid_by = @account AND status = 'paid'" : "(account = @account OR (paid_by = @account AND status = 'paid'))",
    ];
    if (!q.unpaid) where.push("status = 'paid'");
    if (q.from !== undefined) where.push('created_at >= @from');
    if (q.until !== undefined) where.push('created_at <= @until');
    return this.db
      .prepare<Record<string, unknown>, AccountInvoice>(
        `SELECT CASE WHEN account = @account THEN 'incoming' ELSE 'outgoing' END AS direction, payment_hash AS paymentHash, bolt11,
           amount_msat AS amountMsat, description, status, CASE WHEN status = 'paid' THEN preimage END AS preimage,
           created_at AS createdAt, expires_at AS expiresAt, settled_at AS settledAt
         FROM invoices WHERE ${where.join(' AND ')} ORDER BY created_at DESC, payment_hash LIMIT @limit OFFSET @offset`,
      )
      .all({
        account,
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.until !== undefined ? { until: q.until } : {}),
        limit: Math.min(1000, Math.max(1, Math.floor(q.limit) || 1)),
        offset: Math.max(0, Math.floor(q.offset ?? 0) || 0),
      });
  }

  /** Checks the books: all entries sum to zero, per transaction and in all, and stored balances match the entries. */
  audit(): Audit {
    const total = this.db.prepare<[], { t: number | null }>('SELECT SUM(amount_msat) AS t FROM entries').get()?.t ?? 0;
    const unbalanced = this.db
      .prepare<[], { id: number }>('SELECT tx_id AS id FROM entries GROUP BY tx_id HAVING SUM(amount_msat) <> 0')
      .all()
      .map((r) => r.id);
    const drifted = this.db
      .prepare<[], { id: string }>(
        `SELECT a.id FROM accounts a LEFT JOIN (SELECT account, SUM(amount_msat) AS s FROM entries GROUP BY account) e
         ON e.account = a.id WHERE a.balance_msat <> COALESCE(e.s, 0)`,
      )
      .all()
      .map((r) => r.id);
    const transactions = this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM transactions').get()?.n ?? 0;
    return { totalMsat: total, unbalancedTxIds: unbalanced, driftedAccounts: drifted, transactions };
  }

  getMeta(key: string): string | undefined {
    return this.stmts.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmts.setMeta.run(key, value);
  }
}
