// The withdrawal approval queue over HTTP (admins only) and `timmy wallet withdraw|audit` from
// another process beside the running instance.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { finalizeEvent } from '../nostr/verify.js';
import { authorizationHeader, httpAuthTemplate } from '../nostr/nip98.js';
import { Withdrawals } from '../wallet/withdrawals.js';
import { Keys, startTestInstance, type TestInstance } from './support/dvm.js';
import { runCli } from './support/cli.js';

const ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

describe('withdrawals API and CLI', () => {
  let t: TestInstance;
  let url: string;
  const admin = new Keys();
  const alice = new Keys();

  before(async () => {
    t = await startTestInstance({ web: { admins: [admin.pk] } });
    url = /dashboard on (\S+)/.exec(t.inst.listeners.join('\n'))![1]!;
    await t.wallet.fund('agent:alice', 50_000);
  });
  after(async () => t?.close());

  let n = 0;
  const call = (method: string, path: string, o: { as?: Keys; body?: string } = {}) => {
    const headers: Record<string, string> = o.body !== undefined ? { 'content-type': 'application/json' } : {};
    if (o.as) headers.authorization = authorizationHeader(finalizeEvent(httpAuthTemplate({ url: url + path, method, created_at: Math.floor(Date.now() / 1000) - (n++ % 40), ...(o.body !== undefined ? { body: o.body } : {}) }), o.as.sk));
    return fetch(url + path, { method, headers, ...(o.body !== undefined ? { body: o.body } : {}) });
  };
  const errorOf = async (r: Response) => ((await r.json()) as { error: string }).error;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', t.dir]);

  it('is for admins only: 401 without a user, 403 for others', async () => {
    assert.equal((await call('GET', '/api/withdrawals')).status, 401);
    assert.equal((await call('POST', '/api/withdrawals/1/approve')).status, 401);
    const r = await call('GET', '/api/withdrawals', { as: alice });
    assert.equal(r.status, 403);
    assert.match(await errorOf(r), /admins only/);
    assert.equal((await call('POST', '/api/withdrawals/1/reject', { as: alice })).status, 403);
  });

  it('lists, approves (idempotently) and rejects; 400, 404 and 409 as JSON errors', async () => {
    const q = new Withdrawals(t.wallet);
    const inv = await t.wallet.createInvoice({ amountMsat: 10_000, account: 'user:alice-cold' });
    const pay = q.request({ account: 'agent:alice', amountMsat: 10_000, destination: inv.bolt11, reason: 'payout' });
    const chain = q.request({ account: 'agent:alice', amountMsat: 5_000, destination: ADDRESS });

    const list = await call('GET', '/api/withdrawals?state=requested', { as: admin });
    assert.equal(list.status, 200);
    assert.deepEqual(((await list.json()) as { withdrawals: { id: number }[] }).withdrawals.map((w) => w.id), [chain.id, pay.id]);
    assert.equal((await call('GET', '/api/withdrawals?state=bogus', { as: admin })).status, 400);

    const ok = await call('POST', `/api/withdrawals/${pay.id}/approve`, { as: admin });
    assert.equal(ok.status, 200);
    const sent = ((await ok.json()) as { withdrawal: { state: string; decidedBy: string } }).withdrawal;
    assert.equal(sent.state, 'sent');
    assert.match(sent.decidedBy, /^npub1.* on the dashboard$/);
    assert.equal(((await (await call('POST', `/api/withdrawals/${pay.id}/approve`, { as: admin })).json()) as { withdrawal: { state: string } }).withdrawal.state, 'sent');
    assert.equal(await t.wallet.balance('agent:alice'), 40_000);
    assert.equal(await t.wallet.balance('user:alice-cold'), 10_000);

    const conflict = await call('POST', `/api/withdrawals/${pay.id}/reject`, { as: admin });
    assert.equal(conflict.status, 409);
    assert.match(await errorOf(conflict), /only a requested one/);
    const rej = await call('POST', `/api/withdrawals/${chain.id}/reject`, { as: admin, body: '{"reason":"not this week"}' });
    assert.equal(rej.status, 200);
    assert.equal(((await rej.json()) as { withdrawal: { state: string; failure: string } }).withdrawal.failure, 'not this week');
    assert.equal((await call('POST', `/api/withdrawals/${chain.id}/approve`, { as: admin })).status, 409);
    assert.equal((await call('POST', '/api/withdrawals/999/approve', { as: admin })).status, 404);
    assert.equal((await call('POST', '/api/withdrawals/abc/approve', { as: admin })).status, 400);
    assert.equal((await call('POST', `/api/withdrawals/${chain.id}/reject`, { as: admin, body: '{bad' })).status, 400);
  });

  it('`timmy wallet withdraw` and `timmy wallet audit` work beside the running instance', async () => {
    const req = await cli('wallet', 'withdraw', 'request', 'agent:alice', '1', ADDRESS, '--reason', 'to cold storage');
    assert.equal(req.code, 0, req.stderr);
    const id = /#(\d+)/.exec(req.stdout)![1]!;
    const list = await cli('wallet', 'withdraw', 'list', '--state', 'requested');
    assert.match(list.stdout, new RegExp(`#${id}  requested  agent:alice  1 sat -> onchain`));
    const ap = await cli('wallet', 'withdraw', 'approve', id);
    assert.equal(ap.code, 0, ap.stderr);
    assert.match(ap.stdout, /failed .*built-in wallet cannot send on chain/);
    const earnings = await cli('wallet', 'earnings');
    assert.match(earnings.stdout, /agent:alice\s+40 sat\s+0 sat\s+0/);
    const audit = await cli('wallet', 'audit');
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, /backend builtin\n.*0 unbalanced, 0 drifted\naudit ok/);
    t.wallet.ledger.db.prepare("UPDATE accounts SET balance_msat = balance_msat + 1 WHERE id = 'agent:alice'").run();
    const bad = await cli('wallet', 'audit');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /balances differ from their entries: agent:alice[\s\S]*audit FAILED/);
    t.wallet.ledger.db.prepare("UPDATE accounts SET balance_msat = balance_msat - 1 WHERE id = 'agent:alice'").run();
  });
});
