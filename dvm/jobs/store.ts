// Jobs and their transitions in SQLite (<dataDir>/dvm.sqlite). A transition and the job row it
// changes are written in one transaction, so the two never disagree after a crash.
import Database from 'better-sqlite3';
import { checkTransition, type JobState } from './states.js';

export interface JobRow {
  readonly id: string;
  readonly kind: number;
  readonly customer: string;
  readonly state: JobState;
  /** The request event as JSON (decrypted inputs are never stored in clear). */
  readonly request: string;
  /** What the customer pays (msat); 0 for free jobs. */
  readonly priceMsat: number;
  readonly invoice: string | null;
  readonly paymentHash: string | null;
  readonly auctionId: string | null;
  /** The agent doing the work (its pubkey) and what it is paid (msat). */
  readonly agent: string | null;
  readonly agentPriceMsat: number | null;
  /** JSON: the remaining ranking of valid bids, for reassignment. */
  readonly ranking: string | null;
  readonly resultId: string | null;
  /** A forwarded job (docs/federation.md, "Forwarding"): the peer instance doing it, and our request to it. */
  readonly forwardedTo: string | null;
  readonly forwardId: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface Transition {
  readonly seq: number;
  readonly jobId: string;
  readonly from: JobState | null;
  readonly to: JobState;
  readonly reason: string;
  readonly at: number;
  readonly data: string | null;
}

const MIGRATIONS = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     kind INTEGER NOT NULL,
     customer TEXT NOT NULL,
     state TEXT NOT NULL,
     request TEXT NOT NULL,
     price_msat INTEGER NOT NULL DEFAULT 0,
     invoice TEXT,
     payment_hash TEXT,
     auction_id TEXT,
     agent TEXT,
     agent_price_msat INTEGER,
     ranking TEXT,
     result_id TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX jobs_state ON jobs(state);
   CREATE INDEX jobs_payment ON jobs(payment_hash) WHERE payment_hash IS NOT NULL;
   CREATE TABLE transitions (
     seq INTEGER PRIMARY KEY,
     job_id TEXT NOT NULL REFERENCES jobs(id),
     from_state TEXT,
     to_state TEXT NOT NULL,
     reason TEXT NOT NULL,
     at INTEGER NOT NULL,
     data TEXT
   );
   CREATE INDEX transitions_job ON transitions(job_id, seq);`,
  // v2: the dashboard lists a customer's jobs and an agent's recent jobs.
  `CREATE INDEX jobs_customer ON jobs(customer, created_at);
   CREATE INDEX jobs_agent ON jobs(agent, created_at) WHERE agent IS NOT NULL;
   CREATE INDEX jobs_created ON jobs(created_at);`,
  // v3: jobs forwarded to a peer instance.
  `ALTER TABLE jobs ADD COLUMN forwarded_to TEXT;
   ALTER TABLE jobs ADD COLUMN forward_id TEXT;`,
];

type Raw = Record<string, unknown>;
const toRow = (r: Raw): JobRow => ({
  id: r.id as string,
  kind: r.kind as number,
  customer: r.customer as string,
  state: r.state as JobState,
  request: r.request as string,
  priceMsat: r.price_msat as number,
  invoice: (r.invoice as string | null) ?? null,
  paymentHash: (r.payment_hash as string | null) ?? null,
  auctionId: (r.auction_id as string | null) ?? null,
  agent: (r.agent as string | null) ?? null,
  agentPriceMsat: (r.agent_price_msat as number | null) ?? null,
  ranking: (r.ranking as string | null) ?? null,
  resultId: (r.result_id as string | null) ?? null,
  forwardedTo: (r.forwarded_to as string | null) ?? null,
  forwardId: (r.forward_id as string | null) ?? null,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

export type JobPatch = Partial<Pick<JobRow, 'priceMsat' | 'invoice' | 'paymentHash' | 'auctionId' | 'agent' | 'agentPriceMsat' | 'ranking' | 'resultId' | 'forwardedTo' | 'forwardId'>>;

const COLUMNS: Record<keyof JobPatch, string> = {
  priceMsat: 'price_msat',
  invoice: 'invoice',
  paymentHash: 'payment_hash',
  auctionId: 'auction_id',
  agent: 'agent',
  agentPriceMsat: 'agent_price_msat',
  ranking: 'ranking',
  resultId: 'result_id',
  forwardedTo: 'forwarded_to',
  forwardId: 'forward_id',
};

/** A job's change as it happens in this process (for live views; other processes poll). */
export interface JobChange {
  readonly id: string;
  readonly kind: number;
  readonly customer: string;
  readonly state: JobState;
  readonly reason: string;
}

export class JobStore {
  private readonly db: Database.Database;
  private readonly listeners = new Set<(c: JobChange) => void>();

  constructor(path: string, private readonly now: () => number = () => Date.now()) {
    this.db = new Database(path);
    // busy_timeout first, so that a lock held briefly by another process is waited for here too.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    const v = this.db.pragma('user_version', { simple: true }) as number;
    if (v > MIGRATIONS.length) throw new Error(`dvm database schema ${v} is newer than this software supports (${MIGRATIONS.length})`);
    MIGRATIONS.slice(v).forEach((sql, i) =>
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.pragma(`user_version = ${v + i + 1}`);
      })(),
    );
  }

  /** Calls `cb` after every create and transition committed through this store object. */
  onChange(cb: (c: JobChange) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private emit(c: JobChange): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch {
        // a listener's failure is its own; the job goes on
      }
    }
  }

  /** Jobs of one customer, newest first. */
  listByCustomer(customer: string, limit = 100): JobRow[] {
    return (this.db.prepare('SELECT * FROM jobs WHERE customer = ? ORDER BY created_at DESC LIMIT ?').all(customer, limit) as Raw[]).map(toRow);
  }

  /** Jobs assigned to one agent (by pubkey), newest first. */
  listByAgent(agent: string, limit = 20): JobRow[] {
    return (this.db.prepare('SELECT * FROM jobs WHERE agent = ? ORDER BY created_at DESC LIMIT ?').all(agent, limit) as Raw[]).map(toRow);
  }

  /** How many jobs are in each state. */
  countByState(): Partial<Record<JobState, number>> {
    const rows = this.db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as { state: JobState; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  get(id: string): JobRow | undefined {
    const r = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Raw | undefined;
    return r ? toRow(r) : undefined;
  }

  byPaymentHash(hash: string): JobRow | undefined {
    const r = this.db.prepare('SELECT * FROM jobs WHERE payment_hash = ?').get(hash) as Raw | undefined;
    return r ? toRow(r) : undefined;
  }

  /** Jobs not in a terminal state, oldest first: what a restart resumes. */
  unfinished(): JobRow[] {
    return (
      // Listing the open states (not excluding the terminal ones) lets SQLite use the state index.
      this.db
        .prepare("SELECT * FROM jobs WHERE state IN ('received', 'awaiting-approval', 'awaiting-payment', 'bidding', 'assigned', 'executing') ORDER BY created_at")
        .all() as Raw[]
    ).map(toRow);
  }

  /**
   * Failed or cancelled jobs that had an invoice: a crash between recording the end and the wallet's
   * refund (another database) leaves their money in escrow or their invoice open. The DVM finishes
   * those refunds at start; refunding is idempotent, so a job already refunded costs a lookup.
   */
  endedWithInvoice(): JobRow[] {
    return (this.db.prepare("SELECT * FROM jobs WHERE state IN ('failed', 'cancelled') AND payment_hash IS NOT NULL ORDER BY created_at").all() as Raw[]).map(toRow);
  }

  list(limit = 100): JobRow[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?').all(limit) as Raw[]).map(toRow);
  }

  /** Records a new job in `received`; false if it was already known (requests are idempotent by id). */
  create(j: { id: string; kind: number; customer: string; request: string }, reason: string): boolean {
    const at = this.now();
    const created = this.db.transaction(() => {
      const info = this.db
        .prepare("INSERT OR IGNORE INTO jobs (id, kind, customer, state, request, created_at, updated_at) VALUES (?, ?, ?, 'received', ?, ?, ?)")
        .run(j.id, j.kind, j.customer, j.request, at, at);
      if (info.changes === 0) return false;
      this.db.prepare('INSERT INTO transitions (job_id, from_state, to_state, reason, at, data) VALUES (?, NULL, ?, ?, ?, NULL)').run(j.id, 'received', reason, at);
      return true;
    }).immediate(); // write lock first, under busy_timeout (see transition)
    if (created) this.emit({ id: j.id, kind: j.kind, customer: j.customer, state: 'received', reason });
    return created;
  }

  /** Moves a job to `to` (checked against the state machine), with optional field changes, atomically. */
  transition(id: string, to: JobState, reason: string, patch: JobPatch = {}, data?: unknown): JobRow {
    const row = this.db.transaction(() => {
      const cur = this.get(id);
      if (!cur) throw new Error(`unknown job ${id}`);
      checkTransition(cur.state, to);
      // Never before the job's previous step: after the wall clock stepped back, transitions were
      // stamped earlier than the ones they follow, and durations read from them came out negative
      // (docs/reliability.md, "Fault injection").
      const at = Math.max(this.now(), cur.updatedAt);
      const sets = ['state = ?', 'updated_at = ?'];
      const params: unknown[] = [to, at];
      for (const [k, v] of Object.entries(patch)) {
        sets.push(`${COLUMNS[k as keyof JobPatch]} = ?`);
        params.push(v);
      }
      this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
      this.db
        .prepare('INSERT INTO transitions (job_id, from_state, to_state, reason, at, data) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, cur.state, to, reason, at, data === undefined ? null : JSON.stringify(data));
      return this.get(id)!;
      // BEGIN IMMEDIATE: this reads, then writes; a deferred transaction's upgrade to a write lock
      // fails at once (SQLITE_BUSY, busy_timeout not applied) while the CLI or another process
      // writes dvm.sqlite (docs/reliability.md, "Fault injection").
    }).immediate();
    this.emit({ id, kind: row.kind, customer: row.customer, state: to, reason });
    return row;
  }

  /** Field changes without a state change (e.g. recording the invoice). */
  update(id: string, patch: JobPatch): void {
    const entries = Object.entries(patch);
    if (entries.length === 0) return;
    const sets = entries.map(([k]) => `${COLUMNS[k as keyof JobPatch]} = ?`);
    this.db.prepare(`UPDATE jobs SET ${sets.join(', ')}, updated_at = ? WHERE id = ?`).run(...entries.map(([, v]) => v), this.now(), id);
  }

  transitions(id: string): Transition[] {
    return (this.db.prepare('SELECT * FROM transitions WHERE job_id = ? ORDER BY seq').all(id) as Raw[]).map((r) => ({
      seq: r.seq as number,
      jobId: r.job_id as string,
      from: (r.from_state as JobState | null) ?? null,
      to: r.to_state as JobState,
      reason: r.reason as string,
      at: r.at as number,
      data: (r.data as string | null) ?? null,
    }));
  }

  close(): void {
    this.db.close();
  }
}
