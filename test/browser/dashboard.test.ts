// The dashboard in a real browser (Debian chromium via playwright-core) with an injected NIP-07
// signer: sign-in, a job submitted from the page running through auction to result with the
// timeline updating live, the approvals queue, withdrawals approved and rejected on /wallet, an agent's score. Screenshots go to test-artifacts/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { npubEncode } from '../../nostr/nip19.js';
import { finalizeEvent } from '../../nostr/verify.js';
import { authorizationHeader, httpAuthTemplate } from '../../nostr/nip98.js';
import { Withdrawals } from '../../wallet/withdrawals.js';
import { SAMPLE_TEXT, startTestInstance, untilState, type TestInstance } from '../support/dvm.js';
import { contextWith, launchBrowser, newSigner, screenshot, signIn, type Signer } from '../support/browser.js';

describe('dashboard in a browser', () => {
  let t: TestInstance;
  let browser: Browser;
  let url: string;
  const admin = newSigner();
  const user = newSigner();

  before(async () => {
    t = await startTestInstance({ web: { admins: [npubEncode(admin.pubkey)] }, dvm: { approvalKinds: [5300] } });
    url = /dashboard on (\S+)/.exec(t.inst.listeners.join('\n'))![1]!;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  const open = async (signer: Signer | undefined, path: string) => {
    const ctx = await contextWith(browser, signer);
    const page = await ctx.newPage();
    await page.goto(url + path);
    return { ctx, page };
  };

  it('without an extension the page says how to get one', async () => {
    const { ctx, page } = await open(undefined, '/');
    await page.getByRole('button', { name: 'Sign in with Nostr' }).click();
    await page.getByText('No Nostr signer found in this browser').waitFor();
    await screenshot(page, 'no-extension');
    await ctx.close();
  });

  it('signs in with NIP-07: the page signs a NIP-98 event for the login URL and gets a session cookie', async () => {
    const { ctx, page } = await open(user, '/');
    await signIn(page);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    const login = user.signed.find((e) => e.kind === 27235);
    assert.ok(login);
    assert.deepEqual(login.tags.find((x) => x[0] === 'u'), ['u', `${url}/api/login`]);
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === 'timmy_session');
    assert.ok(session?.httpOnly);
    assert.equal(session.sameSite, 'Strict');
    const me = await page.evaluate(async () => (await fetch('/api/me')).json());
    assert.equal((me as { pubkey: string }).pubkey, user.pubkey);
    await screenshot(page, 'overview');
    await ctx.close();
  });

  it('refuses a tampered, an expired and a replayed NIP-98 login', async () => {
    const login = (e: ReturnType<typeof finalizeEvent>) => fetch(`${url}/api/login`, { method: 'POST', headers: { authorization: authorizationHeader(e) } });
    const now = Math.floor(Date.now() / 1000);
    // (now - 5: the browser's own login above may have signed the very same event this second)
    const good = finalizeEvent(httpAuthTemplate({ url: `${url}/api/login`, method: 'POST', created_at: now - 5 }), user.sk);
    const tampered = { ...good, tags: [['u', `${url}/api/login`], ['method', 'GET']] };
    const expired = finalizeEvent(httpAuthTemplate({ url: `${url}/api/login`, method: 'POST', created_at: now - 120 }), user.sk);
    const elsewhere = finalizeEvent(httpAuthTemplate({ url: 'http://evil.example/api/login', method: 'POST', created_at: now }), user.sk);
    for (const [e, why] of [[tampered, /method tag|signature/], [expired, /60 s/], [elsewhere, /u tag/]] as const) {
      const r = await login(e);
      assert.equal(r.status, 401);
      assert.match(((await r.json()) as { error: string }).error, why);
    }
    const ok = await login(good);
    assert.equal(ok.status, 200, await ok.text());
    const replay = await login(good);
    assert.equal(replay.status, 401);
    assert.match(((await replay.json()) as { error: string }).error, /already used/);
  });

  it('a job submitted from the page is paid from the balance and runs to its result, the timeline updating live', async () => {
    await t.wallet.fund(`customer:${user.pubkey}`, 5_000_000, 'test funds');
    const { ctx, page } = await open(user, '/submit');
    await signIn(page);
    await page.getByLabel('Kind').selectOption('5001');
    await page.getByLabel('Input', { exact: true }).fill(SAMPLE_TEXT);
    await page.getByLabel('Params').fill('max_sentences=2');
    await screenshot(page, 'submit');
    await Promise.all([page.waitForURL(/\/jobs\/[0-9a-f]{64}$/), page.getByRole('button', { name: 'Sign and submit' }).click()]);
    const id = /\/jobs\/([0-9a-f]{64})$/.exec(page.url())![1]!;
    const request = user.signed.find((e) => e.kind === 5001);
    assert.ok(request, 'the page asked the signer to sign the request');
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    // The invoice and the pay button arrive with the live update (payment-required), no reload.
    const pay = page.getByRole('button', { name: 'Pay from my balance' });
    await pay.waitFor({ timeout: 30_000 });
    await screenshot(page, 'job-awaiting-payment');
    await pay.click();
    await page.locator('#timeline .kind-6001').waitFor({ timeout: 40_000 });
    await page.locator('#timeline').getByText('auction result').first().waitFor();
    await page.locator('#timeline .state-delivered').first().waitFor({ timeout: 20_000 });
    assert.equal(navigations, 0, 'the timeline updated without a reload');
    const timeline = await page.locator('#timeline').innerText();
    assert.match(timeline, /sealed bid/);
    assert.match(timeline, /bid revealed/);
    assert.match(timeline, /second price/);
    await untilState(t.jobs, id, 'delivered');
    await screenshot(page, 'job-delivered');
    // The jobs list shows it to its customer.
    await page.goto(`${url}/jobs`);
    await page.locator(`tr[data-job="${id}"]`).waitFor();
    await screenshot(page, 'jobs');
    await ctx.close();
  });

  it('the approvals queue: an admin approves a waiting job and it runs', async () => {
    const req = finalizeEvent({ kind: 5300, created_at: Math.floor(Date.now() / 1000), content: '', tags: [['i', 'nostr relays', 'text']] }, user.sk);
    const body = JSON.stringify(req);
    const r = await fetch(`${url}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: authorizationHeader(finalizeEvent(httpAuthTemplate({ url: `${url}/api/jobs`, method: 'POST', body }), user.sk)) },
      body,
    });
    assert.equal(r.status, 202, await r.text());
    await untilState(t.jobs, req.id, 'awaiting-approval');
    // A non-admin sees no queue.
    const { ctx: uctx, page: upage } = await open(user, '/');
    await signIn(upage);
    const denied = await upage.goto(`${url}/approvals`);
    assert.equal(denied?.status(), 403);
    await uctx.close();
    const { ctx, page } = await open(admin, '/');
    await signIn(page);
    await page.goto(`${url}/approvals`);
    const approve = page.locator(`button[data-approve="${req.id}"]`);
    await approve.waitFor();
    await screenshot(page, 'approvals');
    await approve.click();
    await untilState(t.jobs, req.id, ['awaiting-payment', 'bidding', 'assigned', 'executing', 'delivered']);
    await page.getByText('Nothing waits for approval.').waitFor({ timeout: 10_000 });
    await ctx.close();
  });

  it('the wallet page: the backend block, and an admin approves one withdrawal and rejects another', async () => {
    await t.wallet.fund('customer:browser-wd', 20_000, 'browser test');
    const q = new Withdrawals(t.wallet);
    const pay = q.request({ account: 'customer:browser-wd', amountMsat: 5_000, destination: (await t.wallet.createInvoice({ amountMsat: 5_000, account: 'user:browser-cold' })).bolt11, reason: 'payout' });
    const no = q.request({ account: 'customer:browser-wd', amountMsat: 2_000, destination: (await t.wallet.createInvoice({ amountMsat: 2_000, account: 'user:browser-cold' })).bolt11 });
    const { ctx, page } = await open(admin, '/');
    await signIn(page);
    await page.goto(`${url}/wallet`);
    await page.getByRole('heading', { level: 2, name: 'Backend' }).waitFor();
    assert.equal(await page.locator('[data-backend="serving"]').innerText(), 'built-in');
    assert.equal(await page.getByRole('alert').count(), 0, 'no fallback warning');
    await page.locator(`button[data-withdrawal-approve="${pay.id}"]`).waitFor();
    await screenshot(page, 'wallet-withdrawals');
    await page.locator(`button[data-withdrawal-approve="${pay.id}"]`).click();
    await page.locator(`tr[data-withdrawal="${pay.id}"][data-state="sent"]`).waitFor({ timeout: 10_000 });
    await page.locator(`button[data-withdrawal-reject="${no.id}"]`).click();
    await page.locator(`tr[data-withdrawal="${no.id}"][data-state="rejected"]`).waitFor({ timeout: 10_000 });
    assert.equal(q.get(pay.id)?.state, 'sent');
    assert.equal(q.get(no.id)?.state, 'rejected');
    assert.equal(await t.wallet.balance('user:browser-cold'), 5_000);
    await ctx.close();
  });

  it('an agent\'s page shows its reputation score with evidence', async () => {
    const job = t.jobs.list(10).find((j) => j.state === 'delivered' && j.kind === 5001);
    assert.ok(job?.agent);
    const name = t.inst.services!.swarm.agents.find((a) => a.pubkey === job.agent)!.name;
    const { ctx, page } = await open(undefined, `/agents/${name}`);
    const score = page.locator('.score');
    await score.waitFor();
    const value = Number(await score.getAttribute('data-score'));
    assert.ok(value > 0 && value <= 1);
    assert.ok(Math.abs(value - t.inst.services!.reputation.book.score(job.agent)) < 0.01);
    assert.match(await page.locator('main').innerText(), /labels from \d+ raters/);
    assert.match(await page.locator('main').innerText(), /delivered/);
    await screenshot(page, 'agent');
    // Phone width: readable, no sideways scroll.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url}/agents/${name}`);
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    assert.ok(overflow <= 1, `page scrolls sideways by ${overflow}px at phone width`);
    await screenshot(page, 'agent-phone');
    await ctx.close();
  });

  it('every page renders for an admin, keyboard first: sign in with Tab and Enter, then each page has its heading', async () => {
    const { ctx, page } = await open(admin, '/');
    // Keyboard only: the skip link, then the nav, then the sign-in button.
    let focused = '';
    for (let i = 0; i < 15 && focused !== 'login'; i++) {
      await page.keyboard.press('Tab');
      focused = (await page.evaluate('document.activeElement && document.activeElement.id')) as string;
    }
    assert.equal(focused, 'login', 'the sign-in button is reachable with Tab');
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    for (const [path, heading, shot] of [
      ['/', 'Overview', 'overview-admin'],
      ['/agents', 'Agents', 'agents'],
      ['/jobs', 'Jobs', 'jobs-admin'],
      ['/wallet', 'Wallet', 'wallet'],
      ['/relay', 'Relay', 'relay'],
    ] as const) {
      const r = await page.goto(url + path);
      assert.equal(r?.status(), 200, path);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      // Fragments fill in after load (the live feed keeps the network busy, so no networkidle).
      await page.waitForFunction("!document.body.innerText.includes('loading…')", null, { timeout: 5000 });
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
      assert.ok(overflow <= 1, `${path} scrolls sideways by ${overflow}px`);
      await screenshot(page, shot);
    }
    await ctx.close();
  });
});
