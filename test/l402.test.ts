// L402: macaroons with payment-hash, expiry, endpoint and request caveats (web/l402.ts), and the
// paid job endpoint over HTTP: 402 challenge, pay, retry accepted once; replays, wrong preimages,
// expired or foreign tokens refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { finalizeEvent } from '../nostr/verify.js';
import { L402, L402Error, exportMacaroon, parseAuthorization } from '../web/l402.js';
import { Keys, startTestInstance, untilState, type TestInstance } from './support/dvm.js';

const macaroonLib = createRequire(import.meta.url)('macaroon') as {
  importMacaroon(b: string): Parameters<typeof exportMacaroon>[0];
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha = (h: string) => createHash('sha256').update(Buffer.from(h, 'hex')).digest('hex');

describe('L402 macaroons', () => {
  const rootKey = randomBytes(32);
  let now = 1_700_000_000;
  const redeemed = new Set<string>();
  const l402 = new L402({ rootKey, now: () => now, redeem: (h) => !redeemed.has(h) && !!redeemed.add(h) });
  const token = (request?: string) => {
    const preimage = hex(randomBytes(32));
    const ch = l402.mint({ bolt11: 'lnbcrt1fake', paymentHash: sha(preimage) }, 'POST /api/paid/jobs', now + 600, request);
    return { preimage, ch, auth: `L402 ${ch.macaroon}:${preimage}` };
  };

  it('mints a challenge header and accepts the right preimage once (a replay is refused)', () => {
    const t = token('req1');
    assert.equal(t.ch.header, `L402 macaroon="${t.ch.macaroon}", invoice="lnbcrt1fake"`);
    assert.deepEqual(parseAuthorization(t.auth), { macaroon: t.ch.macaroon, preimage: t.preimage });
    assert.deepEqual(l402.check(t.auth, 'POST /api/paid/jobs', 'req1'), { paymentHash: sha(t.preimage), request: 'req1' });
    assert.throws(() => l402.check(t.auth, 'POST /api/paid/jobs', 'req1'), (e: Error) => e instanceof L402Error && /already used/.test(e.message));
  });

  it('refuses a wrong preimage, an expired token, another endpoint or request', () => {
    const t = token('req2');
    const wrong = `L402 ${t.ch.macaroon}:${hex(randomBytes(32))}`;
    assert.throws(() => l402.check(wrong, 'POST /api/paid/jobs', 'req2'), /caveat failed: wrong preimage/);
    assert.throws(() => l402.check(t.auth, 'POST /api/other', 'req2'), /caveat failed: another endpoint/);
    assert.throws(() => l402.check(t.auth, 'POST /api/paid/jobs', 'req3'), /caveat failed: another request/);
    now += 600;
    try {
      assert.throws(() => l402.check(t.auth, 'POST /api/paid/jobs', 'req2'), /caveat failed: expired/);
    } finally {
      now -= 600;
    }
    // None of the refusals used the token up.
    assert.equal(l402.check(t.auth, 'POST /api/paid/jobs', 'req2').paymentHash, sha(t.preimage));
  });

  it('refuses a macaroon from another root key, a tampered one, an added caveat it does not know, and bad headers', () => {
    const t = token();
    const other = new L402({ rootKey: randomBytes(32), redeem: () => true, now: () => now });
    assert.throws(() => other.check(t.auth, 'POST /api/paid/jobs'), /does not verify/);
    const m = macaroonLib.importMacaroon(t.ch.macaroon);
    m.addFirstPartyCaveat('colour = blue'); // a holder may add caveats (attenuation); unknown ones fail closed
    assert.throws(() => l402.check(`L402 ${Buffer.from(exportMacaroon(m)).toString('base64')}:${t.preimage}`, 'POST /api/paid/jobs'), /unknown caveat/);
    const bytes = Buffer.from(t.ch.macaroon, 'base64');
    bytes[bytes.length - 5]! ^= 1;
    assert.throws(() => l402.check(`L402 ${bytes.toString('base64')}:${t.preimage}`, 'POST /api/paid/jobs'), L402Error);
    for (const h of [undefined, 'Bearer x', `L402 ${t.ch.macaroon}`, `L402 ${t.ch.macaroon}:abc`, 'L402 !!!:00']) assert.throws(() => l402.check(h, 'POST /api/paid/jobs'), L402Error, String(h));
    assert.throws(() => new L402({ rootKey: new Uint8Array(8), redeem: () => true }), /at least 32 bytes/);
  });
});

describe('POST /api/paid/jobs over L402', () => {
  let t: TestInstance;
  let url: string;
  const stranger = new Keys();
  before(async () => {
    // With a treasury cut, so that a job's release through the running DVM shows it (docs/wallet.md, "Treasury").
    t = await startTestInstance({ web: { l402: { priceMsat: 2_000_000 } }, wallet: { treasury: { feePct: 10 } } });
    url = /dashboard on (\S+)/.exec(t.inst.listeners.join('\n'))![1]!;
    await t.wallet.fund('user:payer', 10_000_000);
  });
  after(async () => t?.close());

  const post = (body: string, authorization?: string) =>
    fetch(`${url}/api/paid/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body });
  const request = () =>
    finalizeEvent({ kind: 5001, created_at: Math.floor(Date.now() / 1000), content: '', tags: [['i', 'Paid over L402. Two sentences to summarize.', 'text']] }, stranger.sk);

  it('answers 402 with a macaroon and an invoice; the paid retry is accepted once and pays the job', async () => {
    const e = request();
    const body = JSON.stringify(e);
    const first = await post(body);
    assert.equal(first.status, 402);
    const www = first.headers.get('www-authenticate') ?? '';
    const m = /^L402 macaroon="([^"]+)", invoice="([^"]+)"$/.exec(www);
    assert.ok(m, www);
    const [, macaroon, invoice] = m as unknown as [string, string, string];
    assert.deepEqual(await first.json(), { error: 'payment required', macaroon, invoice, amountMsat: 2_000_000 });

    // Before paying: the preimage is unknown, a guess is refused.
    const guess = await post(body, `L402 ${macaroon}:${hex(randomBytes(32))}`);
    assert.equal(guess.status, 401);
    assert.match(((await guess.json()) as { error: string }).error, /wrong preimage/);

    const paid = await t.wallet.pay({ bolt11: invoice, fromAccount: 'user:payer' });
    assert.equal(await t.wallet.balance(`user:${stranger.pk}`), 2_000_000);
    const ok = await post(body, `L402 ${macaroon}:${paid.preimage}`);
    assert.equal(ok.status, 202);
    const r = (await ok.json()) as { id: string; paid: boolean };
    assert.equal(r.id, e.id);
    assert.equal(r.paid, true);
    await untilState(t.jobs, e.id, 'delivered');
    const job = t.jobs.get(e.id)!;
    const cut = Math.floor((job.agentPriceMsat! * 10) / 100);
    assert.ok(cut > 0);
    assert.equal(await t.wallet.balance('treasury'), cut);
    assert.deepEqual(t.wallet.ledger.audit().unbalancedTxIds, []);

    const replay = await post(body, `L402 ${macaroon}:${paid.preimage}`);
    assert.equal(replay.status, 401);
    assert.match(((await replay.json()) as { error: string }).error, /already used/);
    // The token is bound to its request: another request with it is refused too.
    const other = await post(JSON.stringify(request()), `L402 ${macaroon}:${paid.preimage}`);
    assert.equal(other.status, 401);
  });

  it('bad requests are 400 before any challenge', async () => {
    assert.equal((await post('{nope')).status, 400);
    assert.equal((await post(JSON.stringify({ ...request(), content: 'tampered' }))).status, 400);
  });
});
