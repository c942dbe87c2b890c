// NWC (NIP-47) end to end: a real instance serves its wallet on its relay; our client and Alby's
// SDK (a client we did not write) connect over websockets with URIs made as `timmy wallet nwc add`
// makes them, and the ledger must agree with every answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import WebSocket from 'ws';
import { WsClient } from '../nostr/ws-client.js';
import { buildRequest, encryptPayload, parseConnectionUri, parseResponse, type Nip47Notification } from '../nostr/nip47.js';
import { finalizeEvent, generateSecretKey } from '../nostr/verify.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { runWalletCommand } from '../wallet/cli-commands.js';
import { createConnection, NwcClient, NwcRequestError, NwcStore, nwcStorePath } from '../wallet/nwc/index.js';
import { checkBooks, sleep, startTestInstance, until, type TestInstance } from './support/dvm.js';

const ALICE = 'user:alice';

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.ok(err instanceof NwcRequestError, `${err.name}: ${err.message}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('NWC wallet service', () => {
  let t: TestInstance;
  let store: NwcStore; // a second connection to nwc.sqlite, as the CLI would open it
  let service: string;
  let relay: string;
  let aliceUri: string;
  let alice: NwcClient;
  const clients: NwcClient[] = [];
  const connect = (name: string, account: string, o: { budgetMsat?: number; methods?: string[] } = {}): NwcClient => {
    const { uri } = createConnection(store, { name, account, servicePubkey: service, relays: [relay], ...o, ...(o.budgetMsat ? { renewal: 'daily' as const } : {}) });
    const c = new NwcClient(uri, { timeoutMs: 10_000 });
    clients.push(c);
    return c;
  };

  before(async () => {
    t = await startTestInstance();
    relay = t.inst.relayUrl!;
    service = t.inst.services!.nwc!.pubkey;
    store = NwcStore.open(nwcStorePath(t.dir));
    aliceUri = createConnection(store, { name: 'alice-app', account: ALICE, budgetMsat: 50_000, renewal: 'daily', servicePubkey: service, relays: [relay] }).uri;
    alice = new NwcClient(aliceUri, { timeoutMs: 10_000 });
    clients.push(alice);
    await t.wallet.fund(ALICE, 1_000_000, 'nwc test');
  });

  after(async () => {
    for (const c of clients) await c.close();
    store.close();
    await t.close();
  });

  describe('with our client', () => {
    it('publishes its info event: methods, both encryptions, notifications', async () => {
      const info = await alice.info();
      assert.ok(info);
      for (const m of ['pay_invoice', 'make_invoice', 'lookup_invoice', 'get_balance', 'get_info', 'list_transactions', 'notifications']) assert.ok(info.capabilities.includes(m), m);
      assert.ok(!info.capabilities.includes('make_hold_invoice'), 'the built-in wallet has no hold invoices');
      assert.deepEqual(info.encryptions, ['nip44_v2', 'nip04']);
      assert.deepEqual(info.notifications, ['payment_received', 'payment_sent']);
    });

    it('get_info and get_balance', async () => {
      const info = await alice.getInfo();
      assert.equal(info.network, 'regtest');
      assert.equal(info.pubkey, t.wallet.nodePubkey);
      assert.ok(info.methods.includes('pay_invoice') && !info.methods.includes('notifications'));
      assert.deepEqual(info.notifications, ['payment_received', 'payment_sent']);
      assert.deepEqual(await alice.getBalance(), { balance: 1_000_000 });
    });

    it('make_invoice credits the connection account; payment_received is announced', async () => {
      const seen: Nip47Notification[] = [];
      const stop = await alice.subscribeNotifications((n) => seen.push(n));
      const inv = await alice.makeInvoice({ amount: 21_000, description: 'coffee', metadata: { comment: 'thanks' } });
      assert.equal(inv.type, 'incoming');
      assert.equal(inv.state, 'pending');
      assert.equal(inv.amount, 21_000);
      assert.match(inv.invoice!, /^lnbcrt210n1/);
      assert.deepEqual(inv.metadata, { comment: 'thanks' });
      assert.equal((await t.wallet.lookupInvoice(inv.payment_hash))?.account, ALICE);
      await t.wallet.fund('user:bob', 100_000);
      await t.wallet.pay({ bolt11: inv.invoice!, fromAccount: 'user:bob' });
      const n = await until('payment_received', () => seen.find((x) => x.notification.payment_hash === inv.payment_hash));
      stop();
      assert.equal(n.notification_type, 'payment_received');
      assert.equal(n.notification.state, 'settled');
      assert.equal(bytesToHex(sha256(hexToBytes(n.notification.preimage!))), inv.payment_hash);
      assert.deepEqual(n.notification.metadata, { comment: 'thanks' });
      assert.deepEqual(await alice.getBalance(), { balance: 1_021_000 });
      const looked = await alice.lookupInvoice({ payment_hash: inv.payment_hash });
      assert.equal(looked.state, 'settled');
      assert.equal(looked.type, 'incoming');
      assert.ok(looked.settled_at);
    });

    it('pay_invoice pays an invoice of another account; the ledger moves and balances', async () => {
      const seen: Nip47Notification[] = [];
      const stop = await alice.subscribeNotifications((n) => seen.push(n));
      const shop = await t.wallet.createInvoice({ amountMsat: 10_000, account: 'user:shop', description: 'sticker' });
      const before = t.wallet.ledger.balance(ALICE);
      const r = await alice.payInvoice({ invoice: shop.bolt11 });
      assert.equal(bytesToHex(sha256(hexToBytes(r.preimage))), shop.paymentHash);
      assert.equal(r.fees_paid, 0);
      assert.equal(t.wallet.ledger.balance(ALICE), before - 10_000);
      assert.equal(t.wallet.ledger.balance('user:shop'), 10_000);
      assert.equal((await t.wallet.lookupInvoice(shop.paymentHash))?.paidBy, ALICE);
      const audit = t.wallet.ledger.audit();
      assert.equal(audit.totalMsat, 0);
      assert.deepEqual(audit.unbalancedTxIds, []);
      assert.deepEqual(audit.driftedAccounts, []);
      // Paying it again is answered with the first payment; nothing moves, the budget is not charged twice.
      assert.equal((await alice.payInvoice({ invoice: shop.bolt11 })).preimage, r.preimage);
      assert.equal(t.wallet.ledger.balance(ALICE), before - 10_000);
      const sent = await until('payment_sent', () => seen.find((x) => x.notification_type === 'payment_sent' && x.notification.payment_hash === shop.paymentHash));
      stop();
      assert.equal(sent.notification.type, 'outgoing');
      // lookup by invoice: an outgoing, settled payment with its proof.
      const looked = await alice.lookupInvoice({ invoice: shop.bolt11 });
      assert.equal(looked.type, 'outgoing');
      assert.equal(looked.preimage, r.preimage);
      const { transactions } = await alice.listTransactions({ limit: 10 });
      assert.ok(transactions.some((x) => x.payment_hash === shop.paymentHash && x.type === 'outgoing'));
      assert.ok(transactions.some((x) => x.type === 'incoming' && x.amount === 21_000));
      assert.deepEqual((await alice.listTransactions({ type: 'outgoing' })).transactions.map((x) => x.type), ['outgoing']);
    });

    it('sees only its own invoices: another account\'s is NOT_FOUND', async () => {
      const other = await t.wallet.createInvoice({ amountMsat: 5_000, account: 'user:shop' });
      await rejectsWith(alice.lookupInvoice({ payment_hash: other.paymentHash }), 'NOT_FOUND');
      await rejectsWith(alice.lookupInvoice({ payment_hash: 'ab'.repeat(32) }), 'NOT_FOUND');
    });

    it('over the budget: QUOTA_EXCEEDED, nothing moves; get_budget tells the use', async () => {
      assert.deepEqual({ ...(await alice.getBudget()), renews_at: 0 }, { used_budget: 10_000, total_budget: 50_000, renews_at: 0, renewal_period: 'daily' });
      const big = await t.wallet.createInvoice({ amountMsat: 45_000, account: 'user:shop' });
      const before = t.wallet.ledger.balance(ALICE);
      await rejectsWith(alice.payInvoice({ invoice: big.bolt11 }), 'QUOTA_EXCEEDED', /daily budget/);
      assert.equal(t.wallet.ledger.balance(ALICE), before);
      assert.equal((await t.wallet.lookupInvoice(big.paymentHash))?.status, 'open');
      // What fits still goes through.
      const small = await t.wallet.createInvoice({ amountMsat: 40_000, account: 'user:shop' });
      await alice.payInvoice({ invoice: small.bolt11 });
      assert.equal(t.wallet.ledger.balance(ALICE), before - 40_000);
    });

    it('insufficient balance: INSUFFICIENT_BALANCE, and the budget is given back', async () => {
      await t.wallet.fund('user:poor', 1_000);
      const poor = connect('poor-app', 'user:poor', { budgetMsat: 100_000 });
      const inv = await t.wallet.createInvoice({ amountMsat: 5_000, account: 'user:shop' });
      await rejectsWith(poor.payInvoice({ invoice: inv.bolt11 }), 'INSUFFICIENT_BALANCE');
      assert.equal((await poor.getBudget() as { used_budget: number }).used_budget, 0);
    });

    it('a method the connection may not use: RESTRICTED; one the service lacks: NOT_IMPLEMENTED', async () => {
      const viewer = connect('viewer', ALICE, { methods: ['get_info', 'get_balance'] });
      assert.equal((await viewer.getBalance()).balance, t.wallet.ledger.balance(ALICE));
      assert.deepEqual((await viewer.getInfo()).methods, ['get_balance', 'get_info']);
      const inv = await t.wallet.createInvoice({ amountMsat: 1_000, account: 'user:shop' });
      await rejectsWith(viewer.payInvoice({ invoice: inv.bolt11 }), 'RESTRICTED');
      await rejectsWith(viewer.makeInvoice({ amount: 1_000 }), 'RESTRICTED');
      await rejectsWith(alice.request('pay_keysend', { amount: 1, pubkey: '02'.padEnd(66, '1') }), 'NOT_IMPLEMENTED');
      await rejectsWith(alice.request('make_hold_invoice', { amount: 1000, payment_hash: 'ab'.repeat(32) }), 'NOT_IMPLEMENTED');
      await rejectsWith(alice.request('no_such_method'), 'NOT_IMPLEMENTED');
      await rejectsWith(alice.makeHoldInvoice({ amount: 1000, payment_hash: 'ab'.repeat(32) }), 'NOT_IMPLEMENTED');
    });

    it('bad parameters: OTHER with a message', async () => {
      await rejectsWith(alice.payInvoice({ invoice: 'lnbc1garbage' }), 'OTHER', /invalid invoice/);
      await rejectsWith(alice.makeInvoice({ amount: -5 }), 'OTHER', /amount/);
      await rejectsWith(alice.request('make_invoice', { amount: '100' }), 'OTHER', /amount/);
      await rejectsWith(alice.lookupInvoice({}), 'OTHER', /payment_hash or invoice/);
      await rejectsWith(alice.listTransactions({ limit: 1000 }), 'OTHER', /limit/);
    });

    it('an unknown key: UNAUTHORIZED; a removed connection too', async () => {
      const stranger = new NwcClient({ ...parseConnectionUri(aliceUri), secret: bytesToHex(generateSecretKey()) }, { timeoutMs: 10_000 });
      clients.push(stranger);
      await rejectsWith(stranger.getBalance(), 'UNAUTHORIZED');
      const gone = connect('short-lived', ALICE);
      assert.ok((await gone.getBalance()).balance > 0);
      assert.ok(store.remove('short-lived'));
      await rejectsWith(gone.getBalance(), 'UNAUTHORIZED');
    });

    it('a NIP-04 client is answered in NIP-04', async () => {
      const legacy = new NwcClient(aliceUri, { timeoutMs: 10_000, encryption: 'nip04' });
      clients.push(legacy);
      assert.equal((await legacy.getBalance()).balance, t.wallet.ledger.balance(ALICE));
    });

    it('hostile requests: undecryptable and expired ones are ignored, malformed ones answered OTHER, and the service goes on', async () => {
      const { secret } = parseConnectionUri(aliceUri);
      const sk = hexToBytes(secret);
      const ws = new WsClient(relay);
      const answers = new Map<string, NostrEvent>();
      const sub = ws.subscribe([{ kinds: [23195], authors: [service] }], { onEvent: (e) => answers.set(e.tags.find((x) => x[0] === 'e')?.[1] ?? '', e) });
      await sleep(200);
      const now = Math.floor(Date.now() / 1000);
      const sign = (tags: string[][], content: string) => finalizeEvent({ kind: 23194, created_at: now, tags, content }, sk);
      const garbage = sign([['p', service], ['encryption', 'nip44_v2']], 'not a payload');
      const wrongScheme = sign([['p', service]], encryptPayload('nip44_v2', sk, service, '{"method":"get_balance"}'));
      const expired = buildRequest({ walletPubkey: service, request: { method: 'get_balance', params: {} }, expiration: now - 5 }, sk);
      const notJson = sign([['p', service], ['encryption', 'nip44_v2']], encryptPayload('nip44_v2', sk, service, '{{{'));
      const noParams = sign([['p', service], ['encryption', 'nip44_v2']], encryptPayload('nip44_v2', sk, service, '{"method":"pay_invoice","params":"x"}'));
      const badTags = sign([['p', service], ['encryption', 'nip44_v2'], ['expiration']], encryptPayload('nip44_v2', sk, service, '{"method":"get_info"}'));
      const huge = sign([['p', service], ['encryption', 'nip44_v2']], encryptPayload('nip44_v2', sk, service, JSON.stringify({ method: 'make_invoice', params: { amount: 1000, description: 'x'.repeat(20_000) } })));
      for (const e of [garbage, wrongScheme, expired, notJson, noParams, badTags, huge]) await ws.publish(e);
      const ok = buildRequest({ walletPubkey: service, request: { method: 'get_balance', params: {} } }, sk);
      await ws.publish(ok);
      await until('the answer after the hostile ones', () => answers.get(ok.id));
      await until('answers to the malformed ones', () => (answers.has(notJson.id) && answers.has(noParams.id) && answers.has(huge.id) ? true : undefined));
      await sleep(300);
      for (const e of [garbage, wrongScheme, expired]) assert.ok(!answers.has(e.id), 'no answer to an unreadable or expired request');
      for (const e of [notJson, noParams, huge]) {
        const r = parseResponse(answers.get(e.id)!, sk, service);
        assert.equal(r.error?.code, 'OTHER');
        assert.ok(r.error.message.length > 0);
      }
      assert.equal(parseResponse(answers.get(ok.id)!, sk, service).result?.balance, t.wallet.ledger.balance(ALICE));
      sub.close();
      await ws.close();
      assert.ok((await alice.getBalance()).balance > 0, 'still serving');
    });
  });

  describe("with Alby's SDK (NWCClient)", () => {
    it('getInfo, getBalance, makeInvoice, payInvoice, lookupInvoice', async () => {
      (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket; // Node 20 has none; the SDK reads it on import
      const { NWCClient } = await import('@getalby/sdk/nwc');
      const uri = createConnection(store, { name: 'alby', account: 'user:alby', servicePubkey: service, relays: [relay] }).uri;
      await t.wallet.fund('user:alby', 200_000);
      const nwc = new NWCClient({ nostrWalletConnectUrl: uri });
      try {
        const info = await nwc.getInfo();
        assert.equal(info.network, 'regtest');
        assert.ok(info.methods.includes('pay_invoice'));
        assert.equal(nwc.encryptionType, 'nip44_v2');
        assert.deepEqual(await nwc.getBalance(), { balance: 200_000 });
        const inv = await nwc.makeInvoice({ amount: 3_000, description: 'from alby' });
        assert.equal((await t.wallet.lookupInvoice(inv.payment_hash))?.account, 'user:alby');
        await t.wallet.pay({ bolt11: inv.invoice, fromAccount: ALICE });
        const shop = await t.wallet.createInvoice({ amountMsat: 7_000, account: 'user:shop' });
        const paid = await nwc.payInvoice({ invoice: shop.bolt11 });
        assert.equal(bytesToHex(sha256(hexToBytes(paid.preimage))), shop.paymentHash);
        assert.deepEqual(await nwc.getBalance(), { balance: 200_000 + 3_000 - 7_000 });
        const looked = await nwc.lookupInvoice({ payment_hash: inv.payment_hash });
        assert.equal(looked.state, 'settled');
        const budget = await nwc.getBudget();
        assert.deepEqual(budget, {}, 'no budget on this connection');
        await assert.rejects(nwc.payInvoice({ invoice: 'lnbcrt1bad' }), (err: Error & { code?: string }) => err.code === 'OTHER');
      } finally {
        nwc.close();
      }
      await checkBooks(t);
    });
  });

  describe('timmy wallet nwc', () => {
    it('add prints the URI once; only the pubkey is stored; list and remove', async () => {
      const nwc = () => {
        const s = NwcStore.open(nwcStorePath(t.dir));
        return { store: s, servicePubkey: service, relays: [relay], close: () => s.close() };
      };
      const out = await runWalletCommand(t.wallet, ['nwc', 'add', 'cli-app', '--account', 'user:dave', '--budget', '100', '--period', 'weekly', '--methods', 'get_balance,make_invoice'], { nwc });
      const uri = out[0]!;
      const c = parseConnectionUri(uri);
      assert.equal(c.walletPubkey, service);
      assert.deepEqual(c.relays, [relay]);
      assert.ok(out.some((l) => /spending key/.test(l)));
      const files = [nwcStorePath(t.dir), `${nwcStorePath(t.dir)}-wal`].filter(existsSync);
      for (const f of files) assert.ok(!readFileSync(f).toString('latin1').includes(c.secret), `the secret is not in ${f}`);
      const dave = new NwcClient(uri, { timeoutMs: 10_000 });
      clients.push(dave);
      await t.wallet.fund('user:dave', 5_000);
      assert.deepEqual(await dave.getBalance(), { balance: 5_000 });
      await rejectsWith(dave.getInfo(), 'RESTRICTED');
      const list = (await runWalletCommand(t.wallet, ['nwc', 'list'], { nwc })).join('\n');
      assert.match(list, /cli-app {2}user:dave {2}0 sat of 100 sat weekly/);
      assert.match(list, /alice-app/);
      await assert.rejects(runWalletCommand(t.wallet, ['nwc', 'add', 'cli-app', '--account', 'user:dave'], { nwc }), /already exists/);
      await assert.rejects(runWalletCommand(t.wallet, ['nwc', 'add', 'x', '--account', 'escrow:job'], { nwc }), /cannot pay/);
      await assert.rejects(runWalletCommand(t.wallet, ['nwc', 'add', 'x', '--account', 'user:x', '--methods', 'steal'], { nwc }), /unknown method/);
      assert.deepEqual(await runWalletCommand(t.wallet, ['nwc', 'remove', 'cli-app'], { nwc }), ['removed cli-app: its URI no longer works']);
      await rejectsWith(dave.getBalance(), 'UNAUTHORIZED');
      await assert.rejects(runWalletCommand(t.wallet, ['nwc', 'remove', 'cli-app'], { nwc }), /no NWC connection/);
    });
  });
});
