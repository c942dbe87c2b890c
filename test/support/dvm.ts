// Test support for end-to-end DVM tests: a whole instance (embedded relay on port 0, agents, wallet,
// DVM) in a temporary data dir, a customer that talks to it over real websockets, a fake Ollama
// server, and the checks every test ends with (ledger audit, no escrow held for a finished job,
// every job's transitions persisted with reasons and chained state to state).
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../main/config.js';
import { startInstance, type Instance } from '../../main/instance.js';
import { WsClient } from '../../nostr/ws-client.js';
import type { Filter, NostrEvent } from '../../nostr/nip01.js';
import { JobStore, type JobRow } from '../../dvm/jobs/store.js';
import { isTerminal, type JobState } from '../../dvm/jobs/states.js';
import type { BuiltinWallet } from '../../wallet/builtin.js';
import { Keys, sleep } from './relay.js';

export { Keys, sleep };

type Json = Record<string, unknown>;

function merge(a: Json, b: Json): Json {
  const out: Json = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev) ? merge(prev as Json, v as Json) : v;
  }
  return out;
}

/** Small timeouts so that failure paths finish in seconds; 1 s heartbeats. */
export const BASE_CONFIG: Json = {
  port: 0,
  httpPort: 0,
  agents: { heartbeatSeconds: 1 },
  dvm: { jobTimeoutSeconds: 10, chainTimeoutSeconds: 15, paymentTimeoutSeconds: 10 },
  relay: { ingestWorkers: 1, readerThreads: 1, durability: 'normal' },
};

export interface TestInstance {
  readonly dir: string;
  readonly inst: Instance;
  readonly wallet: BuiltinWallet;
  /** A second connection to `<dataDir>/dvm.sqlite`, as the CLI would open it. */
  readonly jobs: JobStore;
  /** Stops the instance; the data dir is removed unless `keepData`. */
  close(keepData?: boolean): Promise<void>;
}

export async function startTestInstance(config: Json = {}, dir = mkdtempSync(join(tmpdir(), 'timmy-dvm-'))): Promise<TestInstance> {
  const inst = await startInstance(configSchema.parse(merge(merge(BASE_CONFIG, config), { dataDir: dir })));
  const jobs = new JobStore(join(dir, 'dvm.sqlite'));
  let closed = false;
  return {
    dir,
    inst,
    wallet: inst.services!.wallet,
    jobs,
    async close(keepData = false) {
      if (closed) return;
      closed = true;
      jobs.close();
      await inst.close();
      if (!keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What withInstance funds the customer's account with, msat. */
export const FUNDS = 10_000_000;

/**
 * Starts an instance and a customer (its account funded with FUNDS), runs `body`, then checks the
 * books and the job store (checkBooks) and closes everything.
 */
export async function withInstance(config: Json, body: (t: TestInstance, c: Customer, account: string) => Promise<void>): Promise<void> {
  const t = await startTestInstance(config);
  const c = new Customer(t.inst.relayUrl!);
  const account = `customer:${c.pk.slice(0, 16)}`;
  try {
    await t.wallet.fund(account, FUNDS, 'test funds');
    await body(t, c, account);
    await checkBooks(t);
  } finally {
    await c.close();
    await t.close();
  }
}

/** A customer on its own websocket connection to the instance's relay. */
export class Customer {
  readonly keys = new Keys();
  readonly client: WsClient;
  /** Every 7000 and 6xxx event that tags one of our requests, as it arrived. */
  readonly replies: NostrEvent[] = [];

  constructor(url: string) {
    this.client = new WsClient(url);
  }

  get pk(): string {
    return this.keys.pk;
  }

  /** Signs and publishes; listens for feedback and results first, so none is missed. */
  async request(t: { kind: number; content?: string; tags?: string[][] }): Promise<NostrEvent> {
    const e = this.keys.sign(t);
    await this.listen(e.id);
    const r = await this.client.publish(e);
    assert.ok(r.ok, `request refused: ${JSON.stringify(r.relays)}`);
    return e;
  }

  /** Subscribes to the replies to a request (e.g. one published before a restart). */
  async listen(id: string): Promise<void> {
    await new Promise<void>((resolve) => {
      this.client.subscribe([{ '#e': [id] } as Filter], {
        onEvent: (e) => {
          const reply = e.kind === 7000 || (e.kind >= 6000 && e.kind < 7000);
          if (reply && !this.replies.some((x) => x.id === e.id)) this.replies.push(e);
        },
        onEose: () => resolve(),
      });
    });
  }

  async publish(t: { kind: number; content?: string; tags?: string[][] }): Promise<NostrEvent> {
    const e = this.keys.sign(t);
    const r = await this.client.publish(e);
    assert.ok(r.ok, `event refused: ${JSON.stringify(r.relays)}`);
    return e;
  }

  feedback(id: string, st?: string): NostrEvent[] {
    return this.replies.filter((e) => e.kind === 7000 && refs(e, id) && (st === undefined || status(e) === st));
  }

  results(id: string): NostrEvent[] {
    return this.replies.filter((e) => e.kind >= 6000 && e.kind < 7000 && refs(e, id));
  }

  /** Waits for payment-required and pays the invoice from `account`; returns the amount. */
  async pay(wallet: BuiltinWallet, id: string, account: string): Promise<number> {
    const fb = await until('payment-required', () => this.feedback(id, 'payment-required')[0]);
    const amount = fb.tags.find((t) => t[0] === 'amount');
    assert.ok(amount?.[2], 'payment-required has an invoice');
    await wallet.pay({ bolt11: amount[2], fromAccount: account });
    return Number(amount[1]);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

const refs = (e: NostrEvent, id: string): boolean => e.tags.some((t) => t[0] === 'e' && t[1] === id);
export const status = (e: NostrEvent): string | undefined => e.tags.find((t) => t[0] === 'status')?.[1];
export const statusText = (e: NostrEvent): string => e.tags.find((t) => t[0] === 'status')?.[2] ?? '';

export async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until the job is in `state` (or any of them), reading the job store. */
export function untilState(jobs: JobStore, id: string, state: JobState | readonly JobState[], timeoutMs = 15_000): Promise<JobRow> {
  const want = typeof state === 'string' ? [state] : state;
  return until(`job ${id.slice(0, 8)} in ${want.join('|')} (is ${jobs.get(id)?.state ?? 'unknown'})`, () => {
    const j = jobs.get(id);
    return j && want.includes(j.state) ? j : undefined;
  }, timeoutMs);
}

/** The states a job went through, from its persisted transitions. */
export const path = (jobs: JobStore, id: string): string[] => jobs.transitions(id).map((t) => t.to);

/**
 * The checks after every test: each job's transitions are persisted with a reason and chain from
 * `received` to the job's state; the ledger balances; no finished job has money in escrow or an
 * invoice that could still be paid.
 */
export async function checkBooks(t: TestInstance): Promise<void> {
  const jobs = t.jobs.list(1000);
  for (const job of jobs) {
    const ts = t.jobs.transitions(job.id);
    assert.ok(ts.length > 0, `job ${job.id} has no transitions`);
    assert.equal(ts[0]!.from, null);
    assert.equal(ts[0]!.to, 'received');
    for (let i = 1; i < ts.length; i++) {
      assert.equal(ts[i]!.from, ts[i - 1]!.to, `job ${job.id.slice(0, 8)}: transition ${i} starts where the previous ended`);
      assert.ok(ts[i]!.at >= ts[i - 1]!.at);
    }
    for (const tr of ts) assert.ok(tr.reason.trim().length > 0, `transition ${tr.seq} of ${job.id.slice(0, 8)} has a reason`);
    assert.equal(ts.at(-1)!.to, job.state, `job ${job.id.slice(0, 8)}'s last transition is its state`);
    if (!isTerminal(job.state)) continue;
    // A failed or cancelled job that was paid must have moved on to refunded.
    if (job.state === 'failed' || job.state === 'cancelled') {
      assert.equal(job.paymentHash ? (await t.wallet.lookupInvoice(job.paymentHash))?.status === 'paid' : false, false, `job ${job.id.slice(0, 8)} was paid but not refunded`);
    }
    const escrow = await t.wallet.getEscrow(job.id);
    assert.notEqual(escrow?.status, 'held', `job ${job.id.slice(0, 8)} is ${job.state} but its escrow is held`);
    assert.equal(t.wallet.ledger.balance(`escrow:${job.id}`), 0, `escrow of ${job.id.slice(0, 8)} is empty`);
    if (job.paymentHash) {
      const inv = await t.wallet.lookupInvoice(job.paymentHash);
      assert.notEqual(inv?.status, 'open', `job ${job.id.slice(0, 8)} is ${job.state} but its invoice can still be paid`);
    }
  }
  const audit = t.wallet.ledger.audit();
  assert.equal(audit.totalMsat, 0);
  assert.deepEqual(audit.unbalancedTxIds, []);
  assert.deepEqual(audit.driftedAccounts, []);
}

/** A port nothing listens on (bound and released). */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface FakeOllama {
  readonly url: string;
  /** Each /api/chat request: its body, and whether the client went away before the answer. */
  readonly requests: { body: { model: string; messages: { role: string; content: string }[] }; abandoned: boolean; answered: boolean }[];
  close(): Promise<void>;
}

/** Speaks Ollama's POST /api/chat (stream: false) and answers after `delayMs`: "echo: <prompt>", with token counts. */
export async function fakeOllama(delayMs: number): Promise<FakeOllama> {
  const requests: FakeOllama['requests'] = [];
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/api/chat') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
        return;
      }
      const rec = { body: JSON.parse(raw) as FakeOllama['requests'][number]['body'], abandoned: false, answered: false };
      requests.push(rec);
      const timer = setTimeout(() => {
        const prompt = rec.body.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
        rec.answered = true;
        res.writeHead(200, { 'content-type': 'application/json' });
        const content = `echo: ${prompt}`;
        // Token counts as Ollama reports them (here: words), for the LLM metrics.
        const words = (x: string) => x.split(/\s+/).filter(Boolean).length;
        res.end(JSON.stringify({ model: rec.body.model, created_at: new Date().toISOString(), message: { role: 'assistant', content }, done: true, prompt_eval_count: words(prompt), eval_count: words(content) }));
      }, delayMs);
      res.on('close', () => {
        clearTimeout(timer);
        if (!rec.answered) rec.abandoned = true;
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A six-sentence text for summarization jobs (the last sentence is deliberately off-topic). */
export const SAMPLE_TEXT = [
  'Nostr is a simple, open protocol that enables global, decentralized, and censorship-resistant social media.',
  'Users hold keys and sign events; relays store and forward those events to anyone who asks.',
  'Because every event is signed, a client can verify what it reads no matter which relay served it.',
  'Data vending machines use the same events to sell computation: a customer posts a job, providers answer.',
  'Payments travel over Lightning, and results come back as ordinary signed events on the same relays.',
  'The weather was pleasant on the day this paragraph was written, which matters to nobody.',
].join(' ');
