// The dashboard's JSON API at the HTTP level: every write refuses an unauthenticated request (401)
// and bad input (400 with a JSON error); NIP-98 headers work per request; cookies from a NIP-98
// login carry the session; admins and customers see what they may.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { finalizeEvent } from '../nostr/verify.js';
import { authorizationHeader, httpAuthTemplate } from '../nostr/nip98.js';
import { Keys, startTestInstance, untilState, type TestInstance } from './support/dvm.js';

describe('dashboard API', () => {
  let t: TestInstance;
  let url: string;
  const admin = new Keys();
  const alice = new Keys();
  const bob = new Keys();

  before(async () => {
    t = await startTestInstance({ web: { admins: [admin.pk] }, dvm: { approvalKinds: [5300] } });
    url = /dashboard on (\S+)/.exec(t.inst.listeners.join('\n'))![1]!;
  });
  after(async () => t?.close());

  // Each header is a distinct event (NIP-98 has no nonce: same URL, method and second = same event).
  let n = 0;
  /** A request with a fresh NIP-98 header (or none). */
  const call = (method: string, path: string, o: { as?: Keys; body?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers };
    if (o.as) headers.authorization = authorizationHeader(finalizeEvent(httpAuthTemplate({ url: url + path, method, created_at: Math.floor(Date.now() / 1000) - (n++ % 40), ...(o.body !== undefined ? { body: o.body } : {}) }), o.as.sk));
    return fetch(url + path, { method, headers, ...(o.body !== undefined ? { body: o.body } : {}) });
  };
  const errorOf = async (r: Response) => {
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const b = (await r.json()) as { error?: unknown };
    assert.equal(typeof b.error, 'string', 'a JSON error');
    return b.error as string;
  };
  const request = (k: Keys, kind = 5001) => finalizeEvent({ kind, created_at: Math.floor(Date.now() / 1000), content: '', tags: [['i', 'Some text to work on. It has two sentences.', 'text']] }, k.sk);

  it('every write refuses an unauthenticated request with 401 and a JSON error', async () => {
    const id = 'a'.repeat(64);
    for (const [m, p, body] of [
      ['POST', '/api/logout', undefined],
      ['POST', '/api/labels', '{}'],
      ['POST', '/api/jobs', JSON.stringify(request(alice))],
      ['POST', `/api/jobs/${id}/approve`, undefined],
      ['POST', `/api/jobs/${id}/pay`, undefined],
    ] as const) {
      const r = await call(m, p, body !== undefined ? { body } : {});
      assert.equal(r.status, 401, `${m} ${p}`);
      await errorOf(r);
    }
    // Reads that are someone's own need a user too.
    for (const p of ['/api/jobs', `/api/jobs/${id}`, '/api/me', '/api/account', '/api/wallet']) assert.equal((await call('GET', p)).status, 401, p);
  });

  it('a bad or replayed NIP-98 header is a 401, never a silent anonymous request', async () => {
    const ev = finalizeEvent(httpAuthTemplate({ url: `${url}/api/logout`, method: 'POST', created_at: Math.floor(Date.now() / 1000) - 3 }), alice.sk);
    assert.equal((await fetch(`${url}/api/logout`, { method: 'POST', headers: { authorization: authorizationHeader(ev) } })).status, 200);
    const again = await fetch(`${url}/api/logout`, { method: 'POST', headers: { authorization: authorizationHeader(ev) } });
    assert.equal(again.status, 401);
    assert.match(await errorOf(again), /already used/);
    for (const h of ['Nostr !!!', 'Basic abc', `Nostr ${Buffer.from('{}').toString('base64')}`]) assert.equal((await fetch(`${url}/api/jobs`, { headers: { authorization: h } })).status, 401, h);
    // A payload tag that does not match the body.
    const body = JSON.stringify(request(alice));
    const wrongPayload = finalizeEvent(httpAuthTemplate({ url: `${url}/api/jobs`, method: 'POST', body: `${body} ` }), alice.sk);
    const r = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { authorization: authorizationHeader(wrongPayload), 'content-type': 'application/json' }, body });
    assert.equal(r.status, 401);
    assert.match(await errorOf(r), /payload/);
  });

  it('bad input to every write is a 400 with a JSON error', async () => {
    for (const body of ['{not json', '[]', '{"kind":5001}', JSON.stringify({ ...request(alice), kind: 1 }), JSON.stringify({ ...request(alice), content: 'tampered' }), JSON.stringify(request(alice, 5999))]) {
      const r = await call('POST', '/api/jobs', { as: alice, body });
      assert.equal(r.status, 400, body.slice(0, 40));
      await errorOf(r);
    }
    for (const body of ['{not json', '{"kind":1985}']) {
      const r = await call('POST', '/api/labels', { as: alice, body });
      assert.equal(r.status, 400);
      await errorOf(r);
    }
    assert.equal((await call('POST', '/api/jobs/not-an-id/pay', { as: alice })).status, 400);
    assert.equal((await call('POST', '/api/jobs/not-an-id/approve', { as: admin })).status, 400);
    assert.equal((await call('POST', '/api/login', { body: '{}' })).status, 401);
    const big = await call('POST', '/api/jobs', { as: alice, body: JSON.stringify({ pad: 'x'.repeat(70_000) }) });
    assert.ok([401, 413].includes(big.status), `oversized body: ${big.status}`); // the payload check or the size limit, never a crash
    assert.equal((await call('PUT', '/api/jobs')).status, 405);
    assert.equal((await call('GET', '/api/nothing-here')).status, 404);
  });

  it('customers see their own jobs; admins see all and approve; pay needs funds', async () => {
    const mine = request(alice, 5300);
    assert.equal((await call('POST', '/api/jobs', { as: alice, body: JSON.stringify(mine) })).status, 202);
    await untilState(t.jobs, mine.id, 'awaiting-approval');
    const list = (await (await call('GET', '/api/jobs', { as: alice })).json()) as { jobs: { id: string }[] };
    assert.ok(list.jobs.some((j) => j.id === mine.id));
    assert.equal(((await (await call('GET', '/api/jobs', { as: bob })).json()) as { jobs: unknown[] }).jobs.length, 0);
    assert.equal((await call('GET', `/api/jobs/${mine.id}`, { as: bob })).status, 404);
    const detail = (await (await call('GET', `/api/jobs/${mine.id}`, { as: alice })).json()) as { transitions: unknown[]; events: { id: string }[] };
    assert.ok(detail.transitions.length >= 2 && detail.events.some((e) => e.id === mine.id));
    assert.equal((await call('POST', `/api/jobs/${mine.id}/approve`, { as: alice })).status, 403);
    const all = (await (await call('GET', '/api/jobs', { as: admin })).json()) as { jobs: { id: string }[] };
    assert.ok(all.jobs.some((j) => j.id === mine.id));
    const ok = await call('POST', `/api/jobs/${mine.id}/approve`, { as: admin });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal((await call('POST', `/api/jobs/${mine.id}/approve`, { as: admin })).status, 409);

    const paid = request(bob);
    assert.equal((await call('POST', '/api/jobs', { as: bob, body: JSON.stringify(paid) })).status, 202);
    await untilState(t.jobs, paid.id, 'awaiting-payment');
    assert.equal((await call('POST', `/api/jobs/${paid.id}/pay`, { as: alice })).status, 404); // not hers
    const broke = await call('POST', `/api/jobs/${paid.id}/pay`, { as: bob });
    assert.equal(broke.status, 400);
    assert.match(await errorOf(broke), /insufficient|balance|funds/i);
    await t.wallet.fund(`customer:${bob.pk}`, 1_000_000, 'test');
    assert.equal((await call('POST', `/api/jobs/${paid.id}/pay`, { as: bob })).status, 200);
    await untilState(t.jobs, paid.id, 'delivered');
    const acct = (await (await call('GET', '/api/account', { as: bob })).json()) as { balanceMsat: number };
    assert.ok(acct.balanceMsat < 1_000_000);
  });
});
