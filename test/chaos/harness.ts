// Chaos harness ("Crash anywhere, lose nothing"): a real `timmy start` child process on a fixed port
// and data dir, a realistic workload from this process over real websockets (publishers,
// subscribers, customers whose DVM jobs are auctioned and paid from the same wallet database,
// customer labels), and SIGKILLs at random moments. After every restart the invariants are checked
// on the SQLite files (opened read-only) and through the relay; docs/reliability.md describes them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { WsClient } from '../../nostr/ws-client.js';
import type { Filter, NostrEvent } from '../../nostr/nip01.js';
import type { Subscription } from '../../nostr/client.js';
import { finalizeEvent, getPublicKey } from '../../nostr/verify.js';
import { Keystore } from '../../agents/identity/keystore.js';
import { BuiltinWallet } from '../../wallet/builtin.js';
import { walletConfigSchema } from '../../wallet/config.js';
import { isTerminal, type JobState } from '../../dvm/jobs/states.js';
import { jobLabelTemplate, JOB_NAMESPACE } from '../../reputation/labels.js';
import { Keys, RawClient, sleep } from '../support/relay.js';
import { BIN } from '../support/cli.js';
import { closedPort } from '../support/dvm.js';
import { rng } from '../../bench/lib/events.js';

// ---------------------------------------------------------------------------------------------
// Options, report

export interface ChaosOptions {
  /** SIGKILLs in the run. */
  kills: number;
  seed: number;
  /** A kill lands uniformly in [min, max] ms after the instance answered (a few land during start-up). */
  windowMs?: readonly [number, number];
  /** Share of the kills that land during start-up, before the relay listens (recovery, migrations). */
  startupKillShare?: number;
  publishers?: number;
  subscribers?: number;
  customers?: number;
  /** Jobs each customer keeps in flight. */
  jobsPerCustomer?: number;
  log?: (line: string) => void;
  /** Keep the data dir (for a post-mortem); printed in the report. */
  keepData?: boolean;
}

export const INVARIANTS = {
  acked: 'every OK-true event is stored and served (and every event a subscriber saw)',
  tags: 'no half-stored event: tag index rows match the event tags, no orphan rows',
  ledger: 'ledger sums to zero, each tx balanced, balances = entries',
  escrow: 'escrow held/released/refunded, closed exactly once, escrow account matches',
  jobs: 'every job is terminal or resumes and ends',
  results: 'no duplicate result per job',
  payments: 'no duplicate payment: one paid invoice per job, customer charged once',
  labels: 'no duplicate label per (job, agent, outcome) or (customer, job)',
  answers: 'the relay answers a REQ within 1 s of listening',
} as const;
export type Invariant = keyof typeof INVARIANTS;

export interface ChaosReport {
  seed: number;
  kills: number;
  startupKills: number;
  durationMs: number;
  dataDir: string;
  /** Per invariant: restarts after which it was checked and held, and the violations. */
  invariants: Record<Invariant, { checked: number; survived: number; violations: string[] }>;
  events: { published: number; acked: number; seenBySubscribers: number };
  jobs: { requested: number; paid: number; delivered: number; refunded: number; failed: number; cancelled: number; resumedAfterKill: number; maxResumeUptimeMs: number };
  /** Coordinator labels are best effort (dvm/service.ts labelJob): a kill between a job's end and its label loses the label. */
  labels: { customer: number; coordinator: number; deliveredWithoutLabel: number };
  restartMs: { median: number; max: number };
  firstAnswerMs: { median: number; max: number };
  cleanStopExit: number | null;
}

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32)

export const prng = rng;

// ---------------------------------------------------------------------------------------------
// The child process

/** What `timmy start` reads: small timeouts as in the DVM tests, but the relay fsyncs every commit. */
export const CHAOS_CONFIG = {
  agents: { heartbeatSeconds: 1 },
  voice: { enabled: false },
  dvm: { jobTimeoutSeconds: 10, chainTimeoutSeconds: 15, paymentTimeoutSeconds: 10, auction: { commitMs: 150, revealMs: 150 } },
  relay: { ingestWorkers: 1, readerThreads: 1, durability: 'full' },
  wallet: { pollIntervalMs: 100, durability: 'full' },
};

/** The instance's agents and secrets, created up front with a cheap scrypt cost so restarts are fast. */
const AGENTS = ['echo', 'muse', 'precis', 'scout', 'scribe', 'tally'];
const SECRETS = ['instance', 'wallet-node', 'nwc-service', 'l402', ...AGENTS.map((a) => `offer-${a}`)];

interface Child {
  readonly proc: ChildProcess;
  readonly spawnedAt: number;
  /** Resolves with the time the listening line was printed; rejects when the process exits first. */
  readonly listening: Promise<number>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly out: { stdout: string; stderr: string };
}

function spawnInstance(dataDir: string, port: number, httpPort: number, configFile: string): Child {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TIMMY_')) env[k] = v;
  env.TIMMY_LOG_LEVEL = process.env.TIMMY_LOG_LEVEL ?? 'warn';
  const proc = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--port', String(port), '--http-port', String(httpPort), '--config', configFile], {
    cwd: dataDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    // Keep the tail only: a hundred restarts would otherwise pile up.
    out.stderr = (out.stderr + d).slice(-20_000);
  });
  const listening = new Promise<number>((resolve, reject) => {
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out.stdout = (out.stdout + d).slice(-20_000);
      if (/^relay listening on ws:\/\//m.test(out.stdout)) resolve(Date.now());
    });
    void exited.then(({ code, signal }) => reject(new Error(`instance exited (${code ?? signal}) before listening; stderr: ${out.stderr.slice(-2000)}`)));
  });
  listening.catch(() => undefined);
  return { proc, spawnedAt: Date.now(), listening, exited, out };
}

async function kill(c: Child): Promise<void> {
  if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await c.exited;
}

// ---------------------------------------------------------------------------------------------
// The workload

const TEXT = [
  'Relays keep what they are sent and hand it to whoever asks with a matching filter.',
  'A crash must not lose an event the relay acknowledged, nor a job a customer paid for.',
  'Neither may it run a job twice, pay an agent twice, or charge a customer twice.',
  'The job store remembers each state, so the next process knows where every job stood.',
  'The weather on the day of the crash matters to nobody.',
].join(' ');

export const FUNDS = 1_000_000_000;
/** A job in flight at a restart must end within this much instance uptime (timeouts: payment 10 s, job 10 s, chain 15 s). */
export const JOB_BOUND_MS = 90_000;

interface Counters {
  published: number;
  customerLabels: number;
  payErrors: string[];
}

class Workload {
  running = true;
  /** Every event that got OK true, by id. */
  readonly acked = new Map<string, NostrEvent>();
  /** Ids of our own events that a subscriber received. */
  readonly seen = new Set<string>();
  /** Requests their customer deleted (cancelled): no longer expected on the relay. */
  readonly deleted = new Set<string>();
  readonly requests: string[] = [];
  /** payment hash -> amount, for every invoice this process paid. */
  readonly paid = new Map<string, { amount: number; account: string; job: string }>();
  readonly counters: Counters = { published: 0, customerLabels: 0, payErrors: [] };
  private readonly clients: WsClient[] = [];
  private readonly subs: Subscription[] = [];
  private readonly loops: Promise<void>[] = [];
  readonly customers: { keys: Keys; account: string; client: WsClient }[] = [];
  private tick = 0;

  constructor(
    private readonly url: string,
    private readonly wallet: BuiltinWallet,
    private readonly rnd: () => number,
    private readonly o: Required<Pick<ChaosOptions, 'publishers' | 'subscribers' | 'customers' | 'jobsPerCustomer'>>,
  ) {}

  private client(): WsClient {
    const c = new WsClient(this.url, { publishTimeoutMs: 3000, queryTimeoutMs: 3000, connectTimeoutMs: 2000, reconnect: { initialMs: 100, maxMs: 500 }, onError: () => undefined });
    this.clients.push(c);
    return c;
  }

  private async publish(c: WsClient, e: NostrEvent): Promise<boolean> {
    this.counters.published++;
    try {
      const r = await c.publish(e);
      if (r.ok) this.acked.set(e.id, e);
      return r.ok;
    } catch {
      return false;
    }
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.o.customers; i++) {
      const keys = new Keys();
      const account = `customer:${keys.pk.slice(0, 16)}`;
      await this.wallet.fund(account, FUNDS, 'chaos funds', `chaos-${keys.pk}`);
      this.customers.push({ keys, account, client: this.client() });
    }
    const authors = new Set<string>();
    for (let i = 0; i < this.o.subscribers; i++) {
      const c = this.client();
      const filters: Filter[] = i % 2 === 0 ? [{ kinds: [1], '#t': ['chaos'] }, { kinds: [1985] }] : [{ kinds: [7] }, { kinds: [5001, 6001, 7000] }];
      this.subs.push(c.subscribe(filters, { onEvent: (e) => (authors.has(e.pubkey) || this.customers.some((x) => x.keys.pk === e.pubkey) ? this.seen.add(e.id) : undefined) }));
    }
    for (let i = 0; i < this.o.publishers; i++) {
      const keys = new Keys();
      authors.add(keys.pk);
      this.loops.push(this.publisher(keys, this.client()));
    }
    for (const cu of this.customers) for (let j = 0; j < this.o.jobsPerCustomer; j++) this.loops.push(this.customer(cu));
  }

  private async publisher(keys: Keys, c: WsClient): Promise<void> {
    const mine: string[] = [];
    while (this.running) {
      const n = this.tick++;
      const r = this.rnd();
      let e: NostrEvent;
      if (r < 0.6 || mine.length === 0) {
        // A note with a handful of indexed tags (one duplicated: the index keeps it once).
        const tags = [['t', 'chaos'], ['t', `n${n % 13}`], ['t', `n${n % 13}`], ['p', keys.pk], ['subject', `note ${n}`]];
        for (let k = 0; k < Math.floor(this.rnd() * 12); k++) tags.push(['r', `https://example.com/${n}/${k}`]);
        e = keys.sign({ kind: 1, content: `chaos note ${n} ${'x'.repeat(Math.floor(this.rnd() * 400))}`, tags });
      } else if (r < 0.9) {
        const target = mine[Math.floor(this.rnd() * mine.length)]!;
        e = keys.sign({ kind: 7, content: '+', tags: [['e', target], ['p', keys.pk], ['k', '1']] });
      } else {
        e = keys.sign({ kind: 1111, content: `comment ${n}`, tags: [['E', mine[0]!], ['K', '1'], ['e', mine[mine.length - 1]!], ['k', '1'], ['P', keys.pk]] });
      }
      if ((await this.publish(c, e)) && e.kind === 1) mine.push(e.id);
      await sleep(5 + Math.floor(this.rnd() * 20));
    }
  }

  private async customer(cu: { keys: Keys; account: string; client: WsClient }): Promise<void> {
    while (this.running) {
      // Unique content: two loops of one customer must not sign the same request in the same second.
      const req = cu.keys.sign({ kind: 5001, content: `chaos job ${this.tick++}`, tags: [['i', TEXT, 'text'], ['param', 'max_sentences', String(1 + Math.floor(this.rnd() * 2))]] });
      const replies: NostrEvent[] = [];
      // Listen first, so no feedback is missed; the subscription is renewed on every reconnect.
      const sub = cu.client.subscribe([{ '#e': [req.id], kinds: [7000, 6001] }], { onEvent: (e) => void replies.push(e) });
      try {
        await this.publish(cu.client, req);
        // Even without an OK the request may be stored: follow it either way.
        this.requests.push(req.id);
        // Most customers pay and wait; some never pay (the job times out unpaid), some cancel a paid
        // job by deleting the request (NIP-09: cancelled, refunded).
        const fate = this.rnd();
        const abandon = fate < 0.08;
        const cancelAfterMs = fate > 0.88 ? Math.floor(this.rnd() * 1500) : undefined;
        let paidAt: number | undefined;
        let cancelled = false;
        let paidIt = abandon;
        const end = Date.now() + (abandon ? 0 : 25_000);
        let result: NostrEvent | undefined;
        while (this.running && Date.now() < end) {
          result = replies.find((e) => e.kind === 6001);
          if (result) break;
          const st = replies.filter((e) => e.kind === 7000).map((e) => e.tags.find((t) => t[0] === 'status')?.[1]);
          if (st.includes('error')) break;
          if (cancelAfterMs !== undefined && paidAt !== undefined && !cancelled && Date.now() >= paidAt + cancelAfterMs) {
            cancelled = true;
            // The request may be gone from now on, whatever the answer (an OK can be lost in a kill).
            this.deleted.add(req.id);
            this.acked.delete(req.id);
            await this.publish(cu.client, cu.keys.sign({ kind: 5, content: 'never mind', tags: [['e', req.id], ['k', '5001']] }));
            this.acked.delete(req.id);
          }
          const pr = replies.find((e) => e.kind === 7000 && e.tags.some((t) => t[0] === 'status' && t[1] === 'payment-required'));
          const amount = pr?.tags.find((t) => t[0] === 'amount');
          if (!paidIt && amount?.[2]) {
            paidIt = true;
            try {
              const inv = await this.wallet.decode(amount[2]);
              await this.wallet.pay({ bolt11: amount[2], fromAccount: cu.account });
              this.paid.set(inv.paymentHash, { amount: inv.amountMsat ?? Number(amount[1]), account: cu.account, job: req.id });
              paidAt = Date.now();
            } catch (err) {
              this.counters.payErrors.push(`${req.id.slice(0, 8)}: ${(err as Error).message}`);
            }
          }
          await sleep(50);
        }
        if (result && this.running && !cancelled) {
          const label = finalizeEvent(jobLabelTemplate({ agent: result.pubkey, request: req.id, result: result.id, kind: 5001, rating: 1 + Math.floor(this.rnd() * 5) }), cu.keys.sk);
          if (await this.publish(cu.client, label)) this.counters.customerLabels++;
        }
      } finally {
        sub.close();
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    for (const s of this.subs) s.close();
    await Promise.all(this.clients.map((c) => c.close()));
  }
}

// ---------------------------------------------------------------------------------------------
// The checks

type Violations = Partial<Record<Invariant, string[]>>;

const ro = (path: string): Database.Database => new Database(path, { readonly: true, fileMustExist: true });

function add(v: Violations, k: Invariant, msg: string): void {
  (v[k] ??= []).push(msg);
}

/** Each event's indexed tags as the writer stores them: single-letter names, value at most 1024 chars, each (name, value) once. */
function expectedTags(raw: string): string[] {
  const e = JSON.parse(raw) as NostrEvent;
  const out = new Set<string>();
  for (const t of e.tags) {
    const [name, value] = t;
    if (name === undefined || name.length !== 1 || value === undefined || value.length > 1024) continue;
    out.add(`${name}\u0000${value}`);
  }
  return [...out].sort();
}

/** (b) every event with seq > fromSeq has exactly its tag rows; no tag row without an event. */
function checkTags(relayDb: string, fromSeq: number, v: Violations): number {
  const db = ro(relayDb);
  try {
    return db.transaction(() => {
      const events = db.prepare<[number], { seq: number; id: string; raw: string }>('SELECT seq, id, raw FROM events WHERE seq > ? ORDER BY seq').all(fromSeq);
      const rows = db.prepare<[number], { seq: number; name: string; value: string }>('SELECT seq, name, value FROM tags WHERE seq > ? ORDER BY seq').all(fromSeq);
      const bySeq = new Map<number, string[]>();
      for (const r of rows) {
        let l = bySeq.get(r.seq);
        if (!l) bySeq.set(r.seq, (l = []));
        l.push(`${r.name}\u0000${r.value}`);
      }
      let max = fromSeq;
      for (const e of events) {
        max = Math.max(max, e.seq);
        const want = expectedTags(e.raw).join('\n');
        const got = (bySeq.get(e.seq) ?? []).sort().join('\n');
        if (want !== got) add(v, 'tags', `event ${e.id.slice(0, 12)} (seq ${e.seq}): ${got.split('\n').filter(Boolean).length} tag rows, ${want.split('\n').filter(Boolean).length} tags`);
        bySeq.delete(e.seq);
      }
      for (const seq of bySeq.keys()) add(v, 'tags', `tag rows for seq ${seq} without an event`);
      const orphans = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM tags WHERE seq NOT IN (SELECT seq FROM events)').get()!.n;
      if (orphans > 0) add(v, 'tags', `${orphans} tag rows without an event`);
      return max;
    })();
  } finally {
    db.close();
  }
}

/** (a) on disk: every acknowledged (or seen) event id is in the events table. */
function missingOnDisk(relayDb: string, ids: readonly string[]): string[] {
  const db = ro(relayDb);
  try {
    const missing: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const have = new Set(db.prepare<string[], { id: string }>(`SELECT id FROM events WHERE id IN (${chunk.map(() => '?').join(',')})`).all(...chunk).map((r) => r.id));
      for (const id of chunk) if (!have.has(id)) missing.push(id);
    }
    return missing;
  } finally {
    db.close();
  }
}

/** (a) through the relay: REQ by ids. */
async function missingOnRelay(url: string, ids: readonly string[]): Promise<string[]> {
  const c = await RawClient.connect(url);
  try {
    const missing: string[] = [];
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      const { events, closed } = await c.req(`ids${i}`, { ids: chunk });
      if (closed) throw new Error(`REQ by ids closed: ${closed}`);
      const have = new Set(events.map((e) => e.id));
      for (const id of chunk) if (!have.has(id)) missing.push(id);
    }
    return missing;
  } finally {
    c.close();
  }
}

/** (f) milliseconds from a fresh connection to EOSE of a REQ. */
async function firstAnswer(url: string): Promise<number> {
  const t0 = Date.now();
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no EOSE within 5 s')), 5000);
      ws.once('error', reject);
      ws.once('open', () => ws.send(JSON.stringify(['REQ', 'probe', { kinds: [1], limit: 1 }])));
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as unknown[];
        if (m[0] === 'EOSE' || m[0] === 'CLOSED') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    return Date.now() - t0;
  } finally {
    ws.close();
  }
}

/** (c) the ledger and escrows, (e) payments: all inside one read transaction of wallet.sqlite. */
function checkWallet(walletDb: string, paid: ReadonlyMap<string, { amount: number; account: string }>, accounts: readonly string[], v: Violations): void {
  const db = ro(walletDb);
  try {
    db.transaction(() => {
      const total = db.prepare<[], { t: number | null }>('SELECT SUM(amount_msat) AS t FROM entries').get()!.t ?? 0;
      if (total !== 0) add(v, 'ledger', `entries sum to ${total} msat`);
      for (const r of db.prepare<[], { id: number; s: number }>('SELECT tx_id AS id, SUM(amount_msat) AS s FROM entries GROUP BY tx_id HAVING SUM(amount_msat) <> 0').all()) add(v, 'ledger', `tx ${r.id} sums to ${r.s}`);
      for (const r of db
        .prepare<[], { id: string; b: number; s: number }>(
          'SELECT a.id, a.balance_msat AS b, COALESCE(e.s, 0) AS s FROM accounts a LEFT JOIN (SELECT account, SUM(amount_msat) AS s FROM entries GROUP BY account) e ON e.account = a.id WHERE a.balance_msat <> COALESCE(e.s, 0)',
        )
        .all())
        add(v, 'ledger', `account ${r.id}: balance ${r.b}, entries ${r.s}`);
      const txEmpty = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM transactions t WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.tx_id = t.id)').get()!.n;
      if (txEmpty > 0) add(v, 'ledger', `${txEmpty} transactions without entries`);

      // Escrows: one hold; at most one of release/refund, and the status says which.
      const keys = new Map<string, Set<string>>();
      for (const r of db.prepare<[], { k: string }>("SELECT idempotency_key AS k FROM transactions WHERE idempotency_key LIKE 'escrow:%'").all()) {
        const m = /^escrow:(.+):(hold|release|refund)$/.exec(r.k);
        if (!m) continue;
        let s = keys.get(m[1]!);
        if (!s) keys.set(m[1]!, (s = new Set()));
        s.add(m[2]!);
      }
      const balance = db.prepare<[string], { b: number }>('SELECT balance_msat AS b FROM accounts WHERE id = ?');
      // The money came in by the hold transaction: a paid job invoice, or an explicit hold.
      const escrows = db
        .prepare<[], { job_id: string; status: string; amount_msat: number; close_tx_id: number | null; into: number | null }>(
          "SELECT job_id, status, amount_msat, close_tx_id, (SELECT SUM(e.amount_msat) FROM entries e WHERE e.tx_id = s.hold_tx_id AND e.account = 'escrow:' || s.job_id) AS \"into\" FROM escrows s",
        )
        .all();
      const seenJobs = new Set<string>();
      for (const e of escrows) {
        seenJobs.add(e.job_id);
        const k = keys.get(e.job_id) ?? new Set();
        const held = balance.get(`escrow:${e.job_id}`)?.b ?? 0;
        const j = e.job_id.slice(0, 12);
        if (e.into !== e.amount_msat) add(v, 'escrow', `escrow ${j}: its hold transaction brought ${e.into ?? 0} of ${e.amount_msat} msat`);
        if (k.has('release') && k.has('refund')) add(v, 'escrow', `escrow ${j} was released AND refunded`);
        if (e.status === 'held') {
          if (k.has('release') || k.has('refund') || e.close_tx_id !== null) add(v, 'escrow', `escrow ${j} is held but closed`);
          if (held !== e.amount_msat) add(v, 'escrow', `escrow ${j} is held with ${held} of ${e.amount_msat} msat`);
        } else if (e.status === 'released' || e.status === 'refunded') {
          if (!k.has(e.status === 'released' ? 'release' : 'refund')) add(v, 'escrow', `escrow ${j} is ${e.status} without its transaction`);
          if (e.close_tx_id === null) add(v, 'escrow', `escrow ${j} is ${e.status} without close_tx_id`);
          if (held !== 0) add(v, 'escrow', `escrow ${j} is ${e.status} but its account holds ${held} msat`);
        } else add(v, 'escrow', `escrow ${j} has status ${e.status}`);
      }
      for (const job of keys.keys()) if (!seenJobs.has(job)) add(v, 'escrow', `escrow transactions for ${job.slice(0, 12)} without an escrow row`);

      // Payments: one settle transaction per paid invoice, one paid invoice per job, and each
      // customer charged exactly what this process paid, less what was refunded.
      for (const r of db.prepare<[], { job: string; n: number }>("SELECT job_id AS job, COUNT(*) AS n FROM invoices WHERE job_id IS NOT NULL AND status = 'paid' GROUP BY job_id HAVING n > 1").all())
        add(v, 'payments', `job ${r.job.slice(0, 12)} has ${r.n} paid invoices`);
      for (const r of db.prepare<[], { h: string; n: number }>("SELECT payment_hash AS h, (SELECT COUNT(*) FROM transactions t WHERE t.idempotency_key = 'invoice:' || i.payment_hash) AS n FROM invoices i WHERE status = 'paid'").all())
        if (r.n !== 1) add(v, 'payments', `invoice ${r.h.slice(0, 12)} paid with ${r.n} transactions`);
      const inv = db.prepare<[string], { status: string }>('SELECT status FROM invoices WHERE payment_hash = ?');
      for (const [h] of paid) if (inv.get(h)?.status !== 'paid') add(v, 'payments', `invoice ${h.slice(0, 12)} was paid by the customer but is ${inv.get(h)?.status ?? 'missing'}`);
      const refunds = db.prepare<[string], { s: number | null }>("SELECT SUM(e.amount_msat) AS s FROM entries e JOIN transactions t ON t.id = e.tx_id WHERE e.account = ? AND t.kind = 'escrow_refund'");
      for (const account of accounts) {
        const spent = [...paid.values()].filter((p) => p.account === account).reduce((s, p) => s + p.amount, 0);
        const want = FUNDS - spent + (refunds.get(account)?.s ?? 0);
        const have = balance.get(account)?.b ?? 0;
        if (have !== want) add(v, 'payments', `${account}: balance ${have} msat, expected ${want} (funds - paid + refunds)`);
      }
    })();
  } finally {
    db.close();
  }
}

/** (e) duplicates on the relay: results per request, coordinator labels per (job, agent, outcome), customer labels per (customer, job). */
function checkDuplicates(relayDb: string, coordinator: string, v: Violations): { coordinatorLabels: number; customerLabels: number } {
  const db = ro(relayDb);
  try {
    return db.transaction(() => {
      const results = db
        .prepare<[], { req: string; n: number }>(
          "SELECT t.value AS req, COUNT(*) AS n FROM events e JOIN tags t ON t.seq = e.seq AND t.name = 'e' WHERE e.kind BETWEEN 6000 AND 6999 GROUP BY t.value HAVING n > 1",
        )
        .all();
      for (const r of results) add(v, 'results', `request ${r.req.slice(0, 12)} has ${r.n} results`);
      const labels = db.prepare<[], { pubkey: string; raw: string }>('SELECT pubkey, raw FROM events WHERE kind = 1985').all();
      const seen = new Map<string, number>();
      let coordinatorLabels = 0;
      let customerLabels = 0;
      for (const l of labels) {
        const e = JSON.parse(l.raw) as NostrEvent;
        if (!e.tags.some((t) => t[0] === 'L' && t[1] === JOB_NAMESPACE)) continue;
        const req = e.tags.find((t) => t[0] === 'e' && t[3] === 'request')?.[1] ?? e.tags.find((t) => t[0] === 'e')?.[1] ?? '';
        let key: string;
        if (l.pubkey === coordinator) {
          coordinatorLabels++;
          const agent = e.tags.find((t) => t[0] === 'p')?.[1] ?? '';
          const outcome = e.tags.filter((t) => t[0] === 'l' && t[2] === JOB_NAMESPACE).map((t) => t[1]).sort().join(',');
          key = `coordinator ${req.slice(0, 12)} ${agent.slice(0, 8)} ${outcome}`;
        } else {
          customerLabels++;
          key = `customer ${l.pubkey.slice(0, 8)} ${req.slice(0, 12)}`;
        }
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      for (const [k, n] of seen) if (n > 1) add(v, 'labels', `${n} labels: ${k}`);
      return { coordinatorLabels, customerLabels };
    })();
  } finally {
    db.close();
  }
}

function jobStates(dvmDb: string): Map<string, JobState> {
  if (!existsSync(dvmDb)) return new Map();
  const db = ro(dvmDb);
  try {
    return new Map(db.prepare<[], { id: string; state: JobState }>('SELECT id, state FROM jobs').all().map((r) => [r.id, r.state]));
  } finally {
    db.close();
  }
}

/** Cross-database checks once nothing moves any more (the end of the run). */
function checkSettled(dataDir: string, v: Violations): void {
  const jobs = ro(join(dataDir, 'dvm.sqlite'));
  const wallet = ro(join(dataDir, 'wallet.sqlite'));
  const relay = ro(join(dataDir, 'relay.sqlite'));
  try {
    const escrow = wallet.prepare<[string], { status: string }>('SELECT status FROM escrows WHERE job_id = ?');
    const paidInv = wallet.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM invoices WHERE job_id = ? AND status = 'paid'");
    const openInv = wallet.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM invoices WHERE job_id = ? AND status = 'open'");
    const results = relay.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM events e JOIN tags t ON t.seq = e.seq AND t.name = 'e' AND t.value = ? WHERE e.kind BETWEEN 6000 AND 6999");
    for (const j of jobs.prepare<[], { id: string; state: JobState; price_msat: number; result_id: string | null }>('SELECT id, state, price_msat, result_id FROM jobs').all()) {
      const id = j.id.slice(0, 12);
      if (!isTerminal(j.state)) add(v, 'jobs', `job ${id} is still ${j.state}`);
      const paid = paidInv.get(j.id)!.n > 0;
      const es = escrow.get(j.id)?.status;
      if (isTerminal(j.state) && es === 'held') add(v, 'escrow', `job ${id} is ${j.state} but its escrow is held`);
      if (isTerminal(j.state) && openInv.get(j.id)!.n > 0) add(v, 'payments', `job ${id} is ${j.state} but its invoice can still be paid`);
      if ((j.state === 'failed' || j.state === 'cancelled') && paid) add(v, 'escrow', `job ${id} was paid and ${j.state} but not refunded`);
      if (j.state === 'refunded' && es !== 'refunded') add(v, 'escrow', `job ${id} is refunded, its escrow ${es ?? 'missing'}`);
      if (j.state === 'delivered') {
        if (j.price_msat > 0 && es !== 'released') add(v, 'escrow', `job ${id} was delivered, its escrow ${es ?? 'missing'}`);
        if (results.get(j.id)!.n !== 1) add(v, 'results', `delivered job ${id} has ${results.get(j.id)!.n} results on the relay`);
      }
    }
  } finally {
    jobs.close();
    wallet.close();
    relay.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The run

const median = (xs: number[]): number => (xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const log = opts.log ?? (() => undefined);
  // Separate streams: the kill schedule replays exactly from the seed; the workload's choices and
  // the sample of old events come from their own (their call counts depend on timing).
  const rnd = prng(opts.seed);
  const workRnd = prng(opts.seed ^ 0x5bd1e995);
  const sampleRnd = prng(opts.seed ^ 0x27d4eb2f);
  const [wMin, wMax] = opts.windowMs ?? [300, 3500];
  const startupShare = opts.startupKillShare ?? 0.1;
  const t0 = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'timmy-chaos-'));
  const configFile = join(dataDir, 'chaos.config.json');
  writeFileSync(configFile, JSON.stringify(CHAOS_CONFIG, null, 2));
  const port = await closedPort();
  let httpPort = await closedPort();
  while (httpPort === port) httpPort = await closedPort();
  const url = `ws://127.0.0.1:${port}`;
  const relayDb = join(dataDir, 'relay.sqlite');
  const walletDb = join(dataDir, 'wallet.sqlite');
  const dvmDb = join(dataDir, 'dvm.sqlite');
  log(`chaos: seed ${opts.seed}, ${opts.kills} kills, window ${wMin}-${wMax} ms, data dir ${dataDir}, relay ${url}`);

  // Keys made up front at a cheap scrypt cost (the instance reads whatever cost a file was written with).
  const keystore = Keystore.open({ dataDir, logN: 2, warn: () => undefined });
  for (const a of AGENTS) keystore.publicKey(a);
  for (const s of SECRETS) keystore.secret(s);
  const coordinator = getPublicKey(keystore.secret('instance'));

  const invariants = Object.fromEntries(Object.keys(INVARIANTS).map((k) => [k, { checked: 0, survived: 0, violations: [] as string[] }])) as ChaosReport['invariants'];
  /** Counts the kills the checks after a restart cover (two when the previous restart was killed early). */
  const record = (v: Violations, which: readonly Invariant[], when: string, kills: number): void => {
    for (const k of which) {
      const inv = invariants[k];
      inv.checked += kills;
      const list = v[k] ?? [];
      if (list.length === 0) inv.survived += kills;
      for (const m of list.slice(0, 20)) inv.violations.push(`${when}: ${m}`);
      if (list.length > 20) inv.violations.push(`${when}: … ${list.length - 20} more`);
    }
  };

  let child = spawnInstance(dataDir, port, httpPort, configFile);
  await child.listening;
  let walletClosed = false;
  const wallet = BuiltinWallet.open({ path: walletDb, nodeKey: keystore.secret('wallet-node'), config: walletConfigSchema.parse({ pollIntervalMs: 100 }) });
  const work = new Workload(url, wallet, workRnd, {
    publishers: opts.publishers ?? 4,
    subscribers: opts.subscribers ?? 2,
    customers: opts.customers ?? 3,
    jobsPerCustomer: opts.jobsPerCustomer ?? 2,
  });
  await work.start();

  const restartMs: number[] = [];
  const answerMs: number[] = [];
  let tagSeq = 0;
  let checkedAcked = 0;
  let startupKills = 0;
  /** Jobs not terminal right after a restart: which restart saw them, and the uptime they have had since. */
  const pending = new Map<string, { restarts: number[]; uptimeMs: number; reported?: boolean }>();
  const resumed = new Set<string>();
  /** Restarts whose in-flight jobs did not all end in time. */
  const jobsFailedAt = new Set<number>();
  let maxResumeUptime = 0;
  let upSince = Date.now();
  /** Adds the uptime since the last call (or restart) to every pending job. */
  const accrue = (): void => {
    const now = Date.now();
    for (const p of pending.values()) p.uptimeMs += now - upSince;
    upSince = now;
  };
  /** Drops the jobs that ended; a job still going after JOB_BOUND_MS of uptime is a violation. */
  const settleJobs = (): void => {
    accrue();
    const states = jobStates(dvmDb);
    for (const [id, p] of pending) {
      const s = states.get(id);
      if (s && isTerminal(s)) {
        maxResumeUptime = Math.max(maxResumeUptime, p.uptimeMs);
        pending.delete(id);
      } else if (p.uptimeMs > JOB_BOUND_MS && !p.reported) {
        p.reported = true;
        for (const r of p.restarts) jobsFailedAt.add(r);
        invariants.jobs.violations.push(`job ${id.slice(0, 12)} (in flight at kills ${p.restarts.join(', ')}) is still ${s ?? 'missing'} after ${Math.round(p.uptimeMs / 1000)} s of uptime`);
      }
    }
  };

  try {
    for (let k = 1; k <= opts.kills; k++) {
      await sleep(wMin + Math.floor(rnd() * (wMax - wMin)));
      settleJobs();
      await kill(child);
      let when = `kill ${k}`;
      let covered = 1;

      // Restart on the same data dir and port.
      child = spawnInstance(dataDir, port, httpPort, configFile);
      const nextIsStartupKill = k < opts.kills && rnd() < startupShare;
      if (nextIsStartupKill) {
        // This one is killed early, most often during start-up; its checks come with the next restart.
        k++;
        startupKills++;
        when += ` + kill ${k} (early, during start-up)`;
        covered = 2;
        await sleep(Math.floor(rnd() * 1500));
        await kill(child);
        child = spawnInstance(dataDir, port, httpPort, configFile);
      }
      let listenedAt: number;
      try {
        listenedAt = await child.listening;
      } catch (err) {
        throw new Error(`${when}: the instance did not restart: ${(err as Error).message}`);
      }
      upSince = Date.now();
      restartMs.push(listenedAt - child.spawnedAt);
      const v: Violations = {};

      // (f) the relay answers.
      try {
        const ms = await firstAnswer(url);
        answerMs.push(Date.now() - listenedAt);
        if (Date.now() - listenedAt > 1000) add(v, 'answers', `first REQ answered ${Date.now() - listenedAt} ms after listening (${ms} ms for the REQ)`);
      } catch (err) {
        add(v, 'answers', (err as Error).message);
      }

      // (a) acknowledged events: all of them on disk, the new ones and a sample of the old through the relay.
      const ackedIds = [...work.acked.keys()];
      const seenIds = [...work.seen].filter((id) => !work.deleted.has(id));
      const missing = missingOnDisk(relayDb, [...new Set([...ackedIds, ...seenIds])]);
      for (const id of missing) if (!work.deleted.has(id)) add(v, 'acked', `${work.acked.has(id) ? 'acknowledged' : 'seen'} event ${id.slice(0, 12)} (kind ${work.acked.get(id)?.kind ?? '?'}) is not stored`);
      const fresh = ackedIds.slice(checkedAcked);
      const sample = ackedIds.slice(0, checkedAcked).filter(() => sampleRnd() < 200 / Math.max(200, checkedAcked));
      checkedAcked = ackedIds.length;
      try {
        // The workload goes on during the checks: a request its customer deleted meanwhile is gone.
        for (const id of await missingOnRelay(url, [...fresh, ...sample]))
          if (!work.deleted.has(id)) add(v, 'acked', `acknowledged event ${id.slice(0, 12)} (kind ${work.acked.get(id)?.kind ?? '?'}) is not served by the relay`);
      } catch (err) {
        add(v, 'acked', `REQ by ids failed: ${(err as Error).message}`);
      }

      // (b) tag index of every event stored since the last check (and orphans anywhere).
      tagSeq = checkTags(relayDb, tagSeq, v);
      // (c) ledger and escrows, (e) payments.
      checkWallet(walletDb, work.paid, work.customers.map((c) => c.account), v);
      // (e) duplicates.
      checkDuplicates(relayDb, coordinator, v);
      // (d) jobs that are not terminal now must end later (checked as they go and at the end).
      for (const [id, s] of jobStates(dvmDb)) {
        if (isTerminal(s)) continue;
        resumed.add(id);
        const p = pending.get(id);
        if (p) p.restarts.push(k);
        else pending.set(id, { restarts: [k], uptimeMs: 0 });
      }
      record(v, ['answers', 'acked', 'tags', 'ledger', 'escrow', 'payments', 'results', 'labels'], when, covered);
      log(`${when}: restarted in ${listenedAt - child.spawnedAt} ms; ${work.acked.size} acked, ${work.requests.length} jobs, ${pending.size} jobs pending${Object.keys(v).length ? `; VIOLATIONS ${JSON.stringify(v).slice(0, 500)}` : ''}`);
    }

    // The end: the workload stops, every job must end, then everything is checked once more.
    await work.stop();
    const end = Date.now() + 60_000;
    for (;;) {
      const states = jobStates(dvmDb);
      if ([...states.values()].every(isTerminal) || Date.now() > end) break;
      await sleep(250);
    }
    settleJobs();
    const v: Violations = {};
    for (const [id, p] of pending) {
      if (p.reported) continue;
      add(v, 'jobs', `job ${id.slice(0, 12)} (pending after kills ${p.restarts.join(', ')}) did not end in ${Math.round(p.uptimeMs / 1000)} s of uptime`);
      for (const r of p.restarts) jobsFailedAt.add(r);
    }
    // (d) per kill: did every job that was in flight at that restart end?
    const jobsInv = invariants.jobs;
    jobsInv.checked = opts.kills;
    jobsInv.survived = opts.kills - jobsFailedAt.size;
    for (const m of v.jobs ?? []) jobsInv.violations.push(`end: ${m}`);
    delete v.jobs;

    const finalV: Violations = {};
    checkSettled(dataDir, finalV);
    for (const id of missingOnDisk(relayDb, [...work.acked.keys()])) add(finalV, 'acked', `acknowledged event ${id.slice(0, 12)} is not stored`);
    try {
      for (const id of await missingOnRelay(url, [...work.acked.keys()])) add(finalV, 'acked', `acknowledged event ${id.slice(0, 12)} is not served by the relay`);
    } catch (err) {
      add(finalV, 'acked', `REQ by ids failed: ${(err as Error).message}`);
    }
    checkTags(relayDb, 0, finalV);
    checkWallet(walletDb, work.paid, work.customers.map((c) => c.account), finalV);
    const labelCounts = checkDuplicates(relayDb, coordinator, finalV);
    for (const [k, list] of Object.entries(finalV) as [Invariant, string[]][]) {
      // A violation only visible once everything settled counts against the last kill.
      if (list.length > 0 && invariants[k].survived > 0 && k !== 'jobs') invariants[k].survived--;
      for (const m of list.slice(0, 30)) invariants[k].violations.push(`end: ${m}`);
    }
    for (const m of finalV.jobs ?? []) if (!jobsInv.violations.includes(`end: ${m}`)) jobsInv.violations.push(`end: ${m}`);

    const states = jobStates(dvmDb);
    let deliveredWithoutLabel = 0;
    {
      const db = ro(relayDb);
      const q = db.prepare<[string, string], { n: number }>("SELECT COUNT(*) AS n FROM events e JOIN tags t ON t.seq = e.seq AND t.name = 'e' AND t.value = ? WHERE e.kind = 1985 AND e.pubkey = ?");
      for (const [id, st] of states) if (st === 'delivered' && q.get(id, coordinator)!.n === 0) deliveredWithoutLabel++;
      db.close();
    }
    const count = (s: JobState): number => [...states.values()].filter((x) => x === s).length;
    await wallet.close();
    walletClosed = true;
    child.proc.kill('SIGTERM');
    const stop = await child.exited;
    if (stop.code !== 0) log(`clean stop exited with ${stop.code ?? stop.signal}; stderr: ${child.out.stderr.slice(-1500)}`);
    return {
      seed: opts.seed,
      kills: opts.kills,
      startupKills,
      durationMs: Date.now() - t0,
      dataDir,
      invariants,
      events: { published: work.counters.published, acked: work.acked.size, seenBySubscribers: work.seen.size },
      jobs: {
        requested: states.size,
        paid: work.paid.size,
        delivered: count('delivered'),
        refunded: count('refunded'),
        failed: count('failed'),
        cancelled: count('cancelled'),
        resumedAfterKill: resumed.size,
        maxResumeUptimeMs: maxResumeUptime,
      },
      labels: { customer: labelCounts.customerLabels, coordinator: labelCounts.coordinatorLabels, deliveredWithoutLabel },
      restartMs: { median: median(restartMs), max: Math.max(0, ...restartMs) },
      firstAnswerMs: { median: median(answerMs), max: Math.max(0, ...answerMs) },
      cleanStopExit: stop.code,
    };
  } finally {
    // Also after a failure: no client may keep reconnecting, nor the instance outlive the run.
    await kill(child);
    if (work.running) await Promise.race([work.stop(), sleep(30_000)]).catch(() => undefined);
    if (!walletClosed) await wallet.close().catch(() => undefined);
    if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The report as a table: invariant, kills survived, violations. */
export function formatReport(r: ChaosReport): string {
  const lines = [
    `chaos run: seed ${r.seed}, ${r.kills} SIGKILLs (${r.startupKills} during start-up), ${(r.durationMs / 1000).toFixed(1)} s`,
    `workload: ${r.events.published} events published, ${r.events.acked} acknowledged, ${r.events.seenBySubscribers} seen live by subscribers; ` +
      `${r.jobs.requested} jobs (${r.jobs.paid} paid; ${r.jobs.delivered} delivered, ${r.jobs.refunded} refunded, ${r.jobs.failed} failed, ${r.jobs.cancelled} cancelled), ` +
      `${r.jobs.resumedAfterKill} in flight at a restart (longest to finish: ${(r.jobs.maxResumeUptimeMs / 1000).toFixed(1)} s of uptime); ` +
      `labels: ${r.labels.customer} by customers, ${r.labels.coordinator} by the coordinator (${r.labels.deliveredWithoutLabel} delivered jobs lost theirs to a kill)`,
    `restart to listening: median ${r.restartMs.median} ms, max ${r.restartMs.max} ms; listening to first EOSE: median ${r.firstAnswerMs.median} ms, max ${r.firstAnswerMs.max} ms; clean stop exit ${r.cleanStopExit}`,
    '',
    `${'invariant'.padEnd(10)} ${'survived'.padStart(9)} ${'violations'.padStart(10)}  what`,
  ];
  for (const [k, v] of Object.entries(r.invariants) as [Invariant, ChaosReport['invariants'][Invariant]][]) {
    lines.push(`${k.padEnd(10)} ${`${v.survived}/${v.checked}`.padStart(9)} ${String(v.violations.length).padStart(10)}  ${INVARIANTS[k]}`);
  }
  const all = Object.entries(r.invariants).flatMap(([k, v]) => v.violations.map((m) => `  [${k}] ${m}`));
  if (all.length) lines.push('', 'violations:', ...all.slice(0, 60));
  return lines.join('\n');
}
