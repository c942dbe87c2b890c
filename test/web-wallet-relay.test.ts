// The wallet and relay pages and their JSON API on a whole instance: /api/wallet is for admins
// (401 without a user, 403 for others) and shows the backend (configured, serving, a fallback's
// reason), balances, escrows, ledger entries and the audit after a funded account and a paid job;
// the wallet page lists withdrawals with Approve/Reject for requested ones; /api/relay is public, with events/s measured by the
// server; the pages render for the right users and the wallet fragment refuses everyone else.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { finalizeEvent } from '../nostr/verify.js';
import { authorizationHeader, httpAuthTemplate } from '../nostr/nip98.js';
import { Customer, Keys, SAMPLE_TEXT, checkBooks, closedPort, sleep, startTestInstance, untilState, type TestInstance } from './support/dvm.js';
import { selfSignedCert } from './support/test-lnd/cert.js';
import { Withdrawals } from '../wallet/withdrawals.js';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { RateMeter, relayKindName } from '../web/api/relay.js';

interface WalletJson {
  backend: { configured: string; serving: string; reason?: string };
  info: { backend: string; network: string; nodePubkey: string; capabilities: Record<string, boolean> };
  balances: { account: string; kind: string; balanceMsat: number }[];
  escrows: { jobId: string; payer: string; amountMsat: number; status: string; releasedTo: string | null; releasedMsat: number; feeMsat: number; refundedMsat: number; reason: string; createdAt: number; closedAt: number | null }[];
  entries: { id: number; txId: number; at: number; txKind: string; key: string; memo: string; account: string; amountMsat: number }[];
  audit: { totalMsat: number; unbalancedTxIds: number[]; driftedAccounts: string[]; transactions: number };
}

interface RelayJson {
  connections: number;
  subscriptions: number;
  eventsAccepted: number;
  eventsRejected: number;
  storageBytes: number;
  storedEvents: number;
  topKinds: { kind: number; count: number; name: string }[];
  eventsPerSecond: number;
}

const dashboardOf = (t: TestInstance): string => /dashboard on (\S+)/.exec(t.inst.listeners.join('\n'))![1]!;

/** GET with a NIP-98 header for exactly this URL (a nonce tag keeps two requests in one second distinct). */
function getter(base: string) {
  return (path: string, signer?: Keys): Promise<Response> => {
    const url = base + path;
    const headers: Record<string, string> = {};
    if (signer) {
      const tpl = httpAuthTemplate({ url, method: 'GET' });
      headers.authorization = authorizationHeader(finalizeEvent({ ...tpl, tags: [...tpl.tags, ['nonce', randomBytes(8).toString('hex')]] }, signer.sk));
    }
    return fetch(url, { headers });
  };
}

/** POST with a NIP-98 header for this URL, method and body. */
function poster(base: string) {
  return (path: string, signer: Keys, body?: string): Promise<Response> => {
    const url = base + path;
    const tpl = httpAuthTemplate({ url, method: 'POST', ...(body !== undefined ? { body } : {}) });
    const headers: Record<string, string> = {
      authorization: authorizationHeader(finalizeEvent({ ...tpl, tags: [...tpl.tags, ['nonce', randomBytes(8).toString('hex')]] }, signer.sk)),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    return fetch(url, { method: 'POST', headers, ...(body !== undefined ? { body } : {}) });
  };
}

describe('wallet and relay pages', () => {
  let t: TestInstance;
  let c: Customer;
  let get: ReturnType<typeof getter>;
  const admin = new Keys();
  const someone = new Keys();
  let jobId: string;
  let agentAccount: string;

  before(async () => {
    t = await startTestInstance({ web: { admins: [admin.pk] } });
    get = getter(dashboardOf(t));
    c = new Customer(t.inst.relayUrl!);
    await t.wallet.fund('customer:x', 1_000_000, 'test');
    const req = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text']] });
    jobId = req.id;
    await c.pay(t.wallet, req.id, 'customer:x');
    const job = await untilState(t.jobs, req.id, 'delivered');
    const agent = t.inst.services!.swarm.agents.find((a) => a.pubkey === job.agent);
    assert.ok(agent, 'the job was done by an agent of the swarm');
    agentAccount = `agent:${agent.name}`;
  });
  after(async () => {
    await c?.close();
    await t?.close();
  });

  it('GET /api/wallet: 401 without a user, 403 for a non-admin, a bad limit is a 400', async () => {
    const anon = await get('/api/wallet');
    assert.equal(anon.status, 401);
    assert.match(((await anon.json()) as { error: string }).error, /sign in/);
    assert.equal((await get('/api/wallet', someone)).status, 403);
    assert.equal((await get('/api/wallet?limit=abc', admin)).status, 400);
    assert.equal((await get('/api/wallet?limit=0', admin)).status, 400);
  });

  it('GET /api/wallet for an admin: info, balances, escrows, entries (newest first) and a clean audit', async () => {
    const r = await get('/api/wallet', admin);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const w = (await r.json()) as WalletJson;
    assert.deepEqual(w.backend, { configured: 'builtin', serving: 'builtin' });
    assert.equal(w.info.backend, 'builtin');
    assert.equal(w.info.network, t.wallet.network);
    assert.equal(w.info.nodePubkey, t.wallet.nodePubkey);
    assert.equal(w.info.capabilities.escrow, true);

    const bal = new Map(w.balances.map((b) => [b.account, b]));
    const job = t.jobs.get(jobId)!;
    assert.equal(bal.get('customer:x')?.balanceMsat, 1_000_000 - job.priceMsat!);
    assert.equal(bal.get('customer:x')?.kind, 'customer');
    assert.equal(bal.get(agentAccount)?.kind, 'agent');
    assert.ok((bal.get(agentAccount)?.balanceMsat ?? 0) > 0, 'the agent was paid');
    assert.equal(bal.get(`escrow:${jobId}`)?.balanceMsat, 0);
    assert.equal(w.balances.reduce((s, b) => s + b.balanceMsat, 0), 0);

    const escrow = w.escrows.find((e) => e.jobId === jobId);
    assert.ok(escrow);
    assert.equal(escrow.status, 'released');
    assert.equal(escrow.payer, 'customer:x');
    assert.equal(escrow.amountMsat, job.priceMsat);
    assert.equal(escrow.releasedTo, agentAccount);
    assert.equal(escrow.releasedMsat + escrow.feeMsat + escrow.refundedMsat, escrow.amountMsat);
    assert.equal(typeof escrow.createdAt, 'number');
    assert.equal(typeof escrow.closedAt, 'number');
    assert.equal(w.escrows[0]!.jobId, jobId); // newest first (the only job)

    assert.ok(w.entries.length >= 6, `fund, payment and release entries: ${w.entries.length}`);
    assert.ok(w.entries.length <= 100);
    for (let i = 1; i < w.entries.length; i++) assert.ok(w.entries[i - 1]!.txId >= w.entries[i]!.txId, 'newest first');
    const fund = w.entries.find((e) => e.account === 'customer:x' && e.txKind === 'fund');
    assert.equal(fund?.amountMsat, 1_000_000);
    assert.equal(fund?.memo, 'test');
    assert.ok(w.entries.some((e) => e.account === agentAccount && e.txKind === 'escrow_release' && e.amountMsat > 0));
    assert.ok(w.entries.some((e) => e.account === `escrow:${jobId}` && e.txKind === 'payment' && e.amountMsat === job.priceMsat));

    assert.deepEqual(w.audit, t.wallet.ledger.audit());
    assert.equal(w.audit.totalMsat, 0);
    assert.deepEqual(w.audit.unbalancedTxIds, []);
    assert.deepEqual(w.audit.driftedAccounts, []);

    const two = (await (await get('/api/wallet?limit=2', admin)).json()) as WalletJson;
    assert.deepEqual(two.entries, w.entries.slice(0, 2));
    const many = await get('/api/wallet?limit=5000', admin);
    assert.equal(many.status, 200); // cut to 1000
    await checkBooks(t);
  });

  it('GET /api/relay: the counters, storage, named top kinds and events per second', async () => {
    const first = await get('/api/relay');
    assert.equal(first.status, 200);
    const a = (await first.json()) as RelayJson;
    for (const k of ['connections', 'subscriptions', 'eventsAccepted', 'eventsRejected', 'storageBytes', 'storedEvents', 'eventsPerSecond'] as const) {
      assert.equal(typeof a[k], 'number', k);
      assert.ok(a[k] >= 0, k);
    }
    assert.ok(a.connections >= 1, 'the customer is connected');
    assert.ok(a.storageBytes > 0);
    assert.ok(a.storedEvents > 0);
    assert.ok(a.topKinds.length > 0);
    assert.ok(a.topKinds.every((k) => typeof k.kind === 'number' && k.count > 0 && typeof k.name === 'string'));
    const heartbeat = a.topKinds.find((k) => k.kind === 21281);
    if (heartbeat) assert.equal(heartbeat.name, 'heartbeat');

    for (let i = 0; i < 10; i++) await c.publish({ kind: 1, content: `note ${i}` });
    await sleep(1200);
    const b = (await (await get('/api/relay')).json()) as RelayJson;
    assert.ok(b.eventsAccepted >= a.eventsAccepted + 10);
    assert.ok(b.eventsPerSecond > 0, `events/s after 10 notes: ${b.eventsPerSecond}`);
  });

  it('the wallet page: a sign-in notice, 403 for a non-admin, the tables for an admin', async () => {
    const anon = await get('/wallet');
    assert.equal(anon.status, 200);
    const anonHtml = await anon.text();
    assert.match(anonHtml, /<h1>Wallet<\/h1>/);
    assert.match(anonHtml, /Sign in with Nostr to see the wallet/);
    assert.doesNotMatch(anonHtml, /customer:x/);

    const other = await get('/wallet', someone);
    assert.equal(other.status, 403);
    const otherHtml = await other.text();
    assert.match(otherHtml, /The wallet is for admins/);
    assert.doesNotMatch(otherHtml, /customer:x/);

    const r = await get('/wallet', admin);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    const page = await r.text();
    assert.match(page, /<h1>Wallet<\/h1>/);
    assert.match(page, /hx-get="\/fragments\/wallet"/);
    assert.match(page, /hx-trigger="every 5s"/);
    assert.match(page, /<caption>Agents<\/caption>/);
    assert.match(page, /<caption>Other accounts<\/caption>/);
    assert.match(page, /<caption>Escrows/);
    assert.match(page, /<caption>Newest ledger entries<\/caption>/);
    assert.ok(page.includes(`data-account="${agentAccount}"`));
    assert.ok(page.includes(`data-escrow="${jobId}"`));
    assert.match(page, /title="1,000,000 msat"[^>]*>1,000 sat</);
  });

  it('the wallet fragment refuses non-admins and renders for an admin', async () => {
    assert.equal((await get('/fragments/wallet')).status, 401);
    assert.equal((await get('/fragments/wallet', someone)).status, 403);
    const r = await get('/fragments/wallet', admin);
    assert.equal(r.status, 200);
    const frag = await r.text();
    assert.doesNotMatch(frag, /<html/);
    assert.ok(frag.includes(`data-escrow="${jobId}"`));
    assert.match(frag, /balanced/);
  });

  it('the wallet page shows the backend block (no fallback warning on the built-in wallet)', async () => {
    const page = await (await get('/wallet', admin)).text();
    assert.match(page, /<h2 id="backend-h">Backend<\/h2>/);
    assert.match(page, /data-backend-configured="builtin" data-backend-serving="builtin"/);
    assert.match(page, /<dd data-backend="serving">built-in<\/dd>/);
    assert.ok(page.includes(t.wallet.nodePubkey));
    assert.doesNotMatch(page, /data-fallback/);
  });

  it('withdrawals: a requested one shows with Approve/Reject, approving via the API sends it, rejecting closes another', async () => {
    const post = poster(dashboardOf(t));
    await t.wallet.fund('customer:wd', 20_000, 'withdrawal test');
    const q = new Withdrawals(t.wallet);
    const inv = await t.wallet.createInvoice({ amountMsat: 7_000, account: 'user:wd-cold' });
    const pay = q.request({ account: 'customer:wd', amountMsat: 7_000, destination: inv.bolt11, reason: 'payout', requestedBy: 'operator' });
    const other = q.request({ account: 'customer:wd', amountMsat: 3_000, destination: (await t.wallet.createInvoice({ amountMsat: 3_000, account: 'user:wd-cold' })).bolt11 });

    const frag = await (await get('/fragments/wallet', admin)).text();
    assert.match(frag, /<caption>Withdrawals \(newest \d+; 2 waiting for approval\)<\/caption>/);
    assert.match(frag, new RegExp(`<tr data-withdrawal="${pay.id}" data-state="requested">`));
    assert.ok(frag.includes(`data-withdrawal-approve="${pay.id}"`));
    assert.ok(frag.includes(`data-withdrawal-reject="${pay.id}"`));
    assert.ok(frag.indexOf(`data-withdrawal="${other.id}"`) < frag.indexOf(`data-withdrawal="${pay.id}"`), 'newest first');
    assert.equal((await get('/fragments/wallet', someone)).status, 403);

    assert.equal((await post(`/api/withdrawals/${pay.id}/approve`, someone)).status, 403);
    const ok = await post(`/api/withdrawals/${pay.id}/approve`, admin);
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { withdrawal: { state: string } }).withdrawal.state, 'sent');
    const rej = await post(`/api/withdrawals/${other.id}/reject`, admin, '{"reason":"not now"}');
    assert.equal(rej.status, 200);
    assert.equal(await t.wallet.balance('customer:wd'), 13_000);
    assert.equal(await t.wallet.balance('user:wd-cold'), 7_000);

    const after = await (await get('/fragments/wallet', admin)).text();
    assert.match(after, new RegExp(`<tr data-withdrawal="${pay.id}" data-state="sent">`));
    assert.match(after, new RegExp(`<tr data-withdrawal="${other.id}" data-state="rejected">`));
    assert.match(after, /0 waiting for approval/);
    assert.ok(!after.includes(`data-withdrawal-approve="${pay.id}"`), 'no buttons once it was sent');
    assert.ok(!after.includes(`data-withdrawal-reject="${other.id}"`));
    assert.ok(after.includes('not now'));
    await checkBooks(t);
  });

  it('the relay page and its fragment are public', async () => {
    for (const who of [undefined, someone, admin]) {
      const r = await get('/relay', who);
      assert.equal(r.status, 200);
      const page = await r.text();
      assert.match(page, /<h1>Relay<\/h1>/);
      assert.match(page, /hx-get="\/fragments\/relay"/);
      assert.match(page, /hx-trigger="every 2s"/);
      assert.match(page, /<caption>Top kinds stored<\/caption>/);
      assert.match(page, /data-counter="events-per-second"/);
    }
    const f = await get('/fragments/relay');
    assert.equal(f.status, 200);
    const frag = await f.text();
    assert.match(frag, /data-counter="connections"/);
    assert.match(frag, /<tr data-kind="0"><td>0<\/td><td>profile<\/td>/); // the agents' profiles
  });
});

describe('wallet page after a fallback from LND', () => {
  let t: TestInstance;
  const admin = new Keys();
  before(async () => {
    const port = await closedPort();
    t = await startTestInstance({
      web: { admins: [admin.pk] },
      wallet: { backend: 'lnd', lnd: { socket: `127.0.0.1:${port}`, cert: selfSignedCert().cert, macaroon: 'aa', probeTimeoutMs: 500 } },
    });
  });
  after(async () => t?.close());

  it('GET /api/wallet and /wallet say LND is configured, the built-in wallet serves, and why', async () => {
    const get = getter(dashboardOf(t));
    const w = (await (await get('/api/wallet', admin)).json()) as WalletJson;
    assert.equal(w.backend.configured, 'lnd');
    assert.equal(w.backend.serving, 'builtin');
    assert.ok(w.backend.reason && w.backend.reason.length > 0, 'a reason');
    assert.equal(w.info.backend, 'builtin');
    const page = await (await get('/wallet', admin)).text();
    assert.match(page, /data-backend-configured="lnd" data-backend-serving="builtin"/);
    assert.match(page, /<p class="notice warning" role="alert" data-fallback>The LND backend is configured but not in use: /);
    assert.match(page, /<dd data-backend="serving">built-in <strong>\(fallback\)<\/strong><\/dd>/);
  });
});

describe('relay API with remote relays only', () => {
  let relay: TestRelay;
  let t: TestInstance;
  before(async () => {
    relay = await startTestRelay();
    t = await startTestInstance({ embeddedRelay: false, relays: [relay.url] });
  });
  after(async () => {
    await t?.close();
    await relay?.stop();
  });

  it('GET /api/relay is a 503 and the page says why', async () => {
    const get = getter(dashboardOf(t));
    const r = await get('/api/relay');
    assert.equal(r.status, 503);
    assert.match(((await r.json()) as { error: string }).error, /remote relays/);
    const page = await get('/relay');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /uses remote relays/);
  });
});

describe('relay helpers', () => {
  it('names well-known kinds', () => {
    assert.equal(relayKindName(0), 'profile');
    assert.equal(relayKindName(1), 'note');
    assert.equal(relayKindName(5), 'deletion');
    assert.equal(relayKindName(1985), 'label');
    assert.equal(relayKindName(7000), 'DVM feedback');
    assert.equal(relayKindName(5001), 'DVM request: summarization');
    assert.equal(relayKindName(5999), 'DVM request');
    assert.equal(relayKindName(6001), 'DVM result: summarization');
    assert.equal(relayKindName(7280), 'auction opened');
    assert.equal(relayKindName(7283), 'auction result');
    assert.equal(relayKindName(31990), 'DVM handler');
    assert.equal(relayKindName(10002), 'relay list');
    assert.equal(relayKindName(21281), 'heartbeat');
    assert.equal(relayKindName(42), '');
  });

  it('measures events per second over the last 10 s and survives bursts and resets', () => {
    let now = 0;
    const m = new RateMeter(() => now);
    assert.equal(m.rate(), 0);
    m.add(100);
    assert.equal(m.rate(), 0);
    for (let i = 1; i <= 20; i++) {
      now = i * 1000;
      m.add(100 + i * 5);
    }
    assert.equal(m.rate(), 5); // 5 a second, measured over the last 10 s
    // A burst of reads in one instant does not shrink the window.
    for (let i = 0; i < 500; i++) m.add(200);
    assert.equal(m.rate(), 5);
    now += 10_000;
    m.add(300); // 100 events in 10 s
    assert.equal(m.rate(), 10);
    m.add(0); // the counter went back: start over
    assert.equal(m.rate(), 0);
  });
});
