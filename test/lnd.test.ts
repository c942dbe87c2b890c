// The LND backend against two LND nodes (test LNDs by default: our gRPC server speaking LND's
// protos over TLS with macaroon permissions; real regtest nodes with TIMMY_TEST_LND_* set, see
// test/support/test-lnd/pair.ts). Invoices, payments, hold invoices and job escrow between the
// nodes, through LndWallet; then what breaks: wrong macaroon, missing permission, LND down at
// start, LND down in the middle, a restart with a held invoice.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as ln from 'lightning';
import { InvoiceAlreadyPaidError, InvalidAmountError, InsufficientFundsError } from '../wallet/errors.js';
import { LndPermissionError, PaymentFailedError, PaymentPendingError } from '../wallet/lnd/errors.js';
import { openWallet } from '../wallet/select.js';
import { walletConfigSchema } from '../wallet/config.js';
import { paymentPort } from '../wallet/payment-port.js';
import { lndPair, tempLndWallet, REAL_LND, type LndPair, type TempLndWallet } from './support/test-lnd/pair.js';
import { testNetwork, TestLnd, TestLnNetwork, HOLD_CANCEL_DELTA, RPC_PERMISSIONS } from './support/test-lnd/index.js';
import { until } from './support/dvm.js';

/** Resolves with the first value `get` gives that is not undefined (polling; fails after `ms`). */
const eventually = <T>(get: () => T | undefined | Promise<T | undefined>, ms = 5000): Promise<T> => until('the condition', get, ms);

const FUNDS = 50_000_000;
const sha = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
const standIn = { skip: REAL_LND ? 'needs the test LND (it controls the node)' : false };

/** A payment that is awaited later: its rejection is handled now, so it is not reported as unhandled. */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

function audit(w: TempLndWallet): void {
  const a = w.wallet.ledger.audit();
  assert.equal(a.totalMsat, 0);
  assert.deepEqual(a.unbalancedTxIds, []);
  assert.deepEqual(a.driftedAccounts, []);
}

describe('test LND (the stand-in itself, through the lightning library)', { skip: REAL_LND ? 'only the stand-in' : false }, () => {
  let net: Awaited<ReturnType<typeof testNetwork<'x' | 'y'>>>;
  const lnd = (t: TestLnd, macaroon = t.adminMacaroon) =>
    ln.authenticatedLndGrpc({ socket: t.socket, cert: Buffer.from(t.cert).toString('base64'), macaroon }).lnd;
  const clients: ReturnType<typeof lnd>[] = [];
  const connect = (t: TestLnd, macaroon?: string) => {
    const c = lnd(t, macaroon);
    clients.push(c);
    return c;
  };
  before(async () => {
    net = await testNetwork(['x', 'y'], [['y', 'x', 2_000_000_000]]);
  });
  after(async () => {
    for (const c of clients) for (const s of Object.values(c) as { close?: () => void }[]) s.close?.();
    await net.close();
  });

  it('speaks TLS with a pinned self-signed certificate and answers getWalletInfo', async () => {
    const info = await ln.getWalletInfo({ lnd: connect(net.nodes.x) });
    assert.equal(info.public_key, net.nodes.x.node.pubkey);
    assert.equal(info.alias, 'x');
    assert.deepEqual(info.chains, ['06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f']); // regtest
    // Another node's certificate is not trusted for this one.
    const wrongCert = ln.authenticatedLndGrpc({ socket: net.nodes.x.socket, cert: Buffer.from(net.nodes.y.cert).toString('base64'), macaroon: net.nodes.x.adminMacaroon }).lnd;
    clients.push(wrongCert);
    await assert.rejects(ln.getWalletInfo({ lnd: wrongCert }), (e: unknown) => Array.isArray(e) && e[0] === 503);
  });

  it("refuses a wrong macaroon and a missing permission with LND's words", async () => {
    const other = connect(net.nodes.x, net.nodes.y.adminMacaroon);
    await assert.rejects(ln.getWalletInfo({ lnd: other }), (e: unknown[]) => (e[2] as { err: { details: string } }).err.details === 'verification failed: signature mismatch after caveat verification');
    const readonly = connect(net.nodes.x, net.nodes.x.macaroon(['info:read', 'invoices:read']));
    await ln.getWalletInfo({ lnd: readonly });
    await assert.rejects(ln.createInvoice({ lnd: readonly, mtokens: '1000' }), (e: unknown[]) => (e[2] as { err: { details: string } }).err.details === 'permission denied');
  });

  it('pays a standard invoice, refuses to pay it twice, and moves the channel balance', async () => {
    const x = connect(net.nodes.x);
    const y = connect(net.nodes.y);
    const before = await ln.getChannelBalance({ lnd: y });
    const inv = await ln.createInvoice({ lnd: x, mtokens: '21000', description: 'a poem' });
    const decoded = await ln.decodePaymentRequest({ lnd: y, request: inv.request });
    assert.equal(decoded.destination, net.nodes.x.node.pubkey);
    assert.equal(decoded.mtokens, '21000');
    const paid = await ln.pay({ lnd: y, request: inv.request, max_fee_mtokens: '1000' });
    assert.equal(sha(paid.secret), inv.id);
    assert.equal((await ln.getInvoice({ lnd: x, id: inv.id })).is_confirmed, true);
    assert.equal((await ln.getPayment({ lnd: y, id: inv.id })).is_confirmed, true);
    await assert.rejects(ln.pay({ lnd: y, request: inv.request }), (e: unknown[]) => (e[2] as { err: { details: string } }).err.details === 'invoice is already paid');
    const afterBal = await ln.getChannelBalance({ lnd: y });
    assert.equal(BigInt(before.channel_balance_mtokens!) - BigInt(afterBal.channel_balance_mtokens!), 21000n);
  });

  it('holds a hold invoice ACCEPTED until settled, and gives the HTLC back when cancelled', async () => {
    const x = connect(net.nodes.x);
    const y = connect(net.nodes.y);
    const secret = randomBytes(32).toString('hex');
    const hold = await ln.createHodlInvoice({ lnd: x, id: sha(secret), mtokens: '5000' });
    const states: string[] = [];
    const sub = ln.subscribeToInvoice({ lnd: x, id: sha(secret) });
    sub.on('invoice_updated', (i: { is_held?: boolean; is_confirmed: boolean }) => states.push(i.is_confirmed ? 'settled' : i.is_held ? 'held' : 'open'));
    const paying = later(ln.pay({ lnd: y, request: hold.request, max_fee_mtokens: '1000' }));
    await eventually(() => (states.includes('held') ? true : undefined));
    await ln.settleHodlInvoice({ lnd: x, secret });
    assert.equal((await paying).secret, secret);
    await eventually(() => (states.includes('settled') ? true : undefined));
    sub.removeAllListeners();

    const other = randomBytes(32).toString('hex');
    const hold2 = await ln.createHodlInvoice({ lnd: x, id: sha(other), mtokens: '5000' });
    const paying2 = later(ln.pay({ lnd: y, request: hold2.request, max_fee_mtokens: '1000' }));
    await eventually(() => (net.nodes.x.node.invoices.get(sha(other))?.state === 'ACCEPTED' ? true : undefined));
    await ln.cancelHodlInvoice({ lnd: x, id: sha(other) });
    await assert.rejects(paying2, (e: unknown[]) => e[1] === 'PaymentRejectedByDestination');
    await assert.rejects(ln.settleHodlInvoice({ lnd: x, secret: other }), () => true);
  });

  it("answers as a locked LND does, and reports no route and no balance in LND's terms", async () => {
    const x = connect(net.nodes.x);
    net.nodes.x.locked = true;
    try {
      await assert.rejects(ln.getWalletInfo({ lnd: x }), (e: unknown[]) => (e[2] as { err: { details: string } }).err.details === 'wallet locked, unlock it to enable full RPC access');
    } finally {
      net.nodes.x.locked = false;
    }
    const y = connect(net.nodes.y);
    // x has nothing on its side of the channel: it cannot pay y.
    const inv = await ln.createInvoice({ lnd: y, mtokens: '1000000' });
    await assert.rejects(ln.pay({ lnd: x, request: inv.request }), (e: unknown[]) => e[1] === 'InsufficientBalanceToAttemptPayment');
    const lone = await TestLnd.start({ network: net.network, alias: 'lone' });
    try {
      const inv2 = await ln.createInvoice({ lnd: connect(lone), mtokens: '1000' });
      await assert.rejects(ln.pay({ lnd: y, request: inv2.request }), (e: unknown[]) => e[1] === 'PaymentPathfindingFailedToFindPossibleRoute');
    } finally {
      await lone.close();
    }
    assert.equal((await ln.sendToChainAddress({ lnd: x, address: 'bcrt1qexample', tokens: 1000 })).tokens, 1000);
    assert.equal((await ln.getChainBalance({ lnd: x })).chain_balance, 100_000_000 - 1000);
  });
});

describe('LndWallet between two nodes', () => {
  let pair: LndPair;
  let A: TempLndWallet; // Timmy's
  let B: TempLndWallet; // the customer's
  before(async () => {
    pair = await lndPair();
    A = await tempLndWallet(pair.a);
    B = await tempLndWallet(pair.b);
    await B.wallet.fund('user:bob', FUNDS, 'test funds');
  });
  after(async () => {
    await A?.cleanup();
    await B?.cleanup();
    await pair?.close();
  });

  it('says what LND offers', async () => {
    const info = await A.wallet.info();
    assert.equal(info.backend, 'lnd');
    assert.equal(info.network, 'regtest');
    assert.equal(info.nodePubkey, A.wallet.lndPubkey);
    assert.deepEqual(
      { ...info.capabilities },
      { invoices: true, payExternal: true, receiveExternal: true, holdInvoices: true, bolt12: false, lnurl: false, keysend: false, escrow: true, testFunding: true, onChain: true },
    );
    const bal = await B.wallet.nodeBalances();
    assert.ok(bal.channelLocalMsat > 0);
  });

  it("creates an invoice on A's node, B pays it over Lightning: A's account is credited once, B's debited with the fee", async () => {
    const inv = await A.wallet.createInvoice({ amountMsat: 21_000, description: 'a poem', account: 'agent:poet' });
    assert.match(inv.bolt11, /^lnbcrt210n1/);
    const decoded = await B.wallet.decode(inv.bolt11);
    assert.equal(decoded.payee, A.wallet.lndPubkey);
    const paid = await B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' });
    assert.equal(sha(paid.preimage), inv.paymentHash);
    assert.equal(paid.replayed, false);
    const seen = await eventually(() => (A.wallet.ledger.balance('agent:poet') === 21_000 ? true : undefined));
    assert.ok(seen);
    assert.equal((await A.wallet.lookupInvoice(inv.paymentHash))?.status, 'paid');
    assert.equal((await A.wallet.lookupInvoice(inv.paymentHash))?.paidBy, 'external');
    assert.deepEqual(await A.wallet.paymentProof(inv.paymentHash), { bolt11: inv.bolt11, preimage: paid.preimage });
    assert.equal(B.wallet.ledger.balance('user:bob'), FUNDS - 21_000 - paid.feeMsat);
    // A retry by the same account is the first result; another account is refused; nothing moves.
    const again = await B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' });
    assert.equal(again.replayed, true);
    assert.equal(again.preimage, paid.preimage);
    await B.wallet.fund('user:carol', 100_000, 'test funds');
    await assert.rejects(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:carol' }), InvoiceAlreadyPaidError);
    assert.equal(B.wallet.ledger.balance('user:bob'), FUNDS - 21_000 - paid.feeMsat);
    assert.equal(A.wallet.ledger.balance('agent:poet'), 21_000);
    audit(A);
    audit(B);
  });

  it('refuses an overdraft before anything goes to LND, and a wrong amount', async () => {
    const inv = await A.wallet.createInvoice({ amountMsat: 5_000, account: 'agent:poet' });
    await B.wallet.fund('user:poor', 1_000, 'test funds');
    await assert.rejects(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:poor' }), InsufficientFundsError);
    await assert.rejects(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob', amountMsat: 4_000 }), InvalidAmountError);
    assert.equal(B.wallet.ledger.balance('user:poor'), 1_000);
    await A.wallet.cancelInvoice(inv.paymentHash);
    assert.equal((await A.wallet.lookupInvoice(inv.paymentHash))?.status, 'cancelled');
    // Cancelled on the node too: a payment is refused there, and B's account gets its debit back.
    await assert.rejects(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }), PaymentFailedError);
    audit(B);
  });

  it('holds a job payment as an HTLC (escrow held), settles it on release and credits the agent', async () => {
    const port = paymentPort(A.wallet);
    const job = `job-${randomBytes(4).toString('hex')}`;
    const inv = await port.invoiceForJob(job, 40_000, 'a job');
    const paying = later(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }));
    assert.equal(await port.waitPaid(inv.paymentHash, AbortSignal.timeout(5000)), true);
    assert.equal(await port.isPaid(inv.paymentHash), true);
    assert.equal((await A.wallet.lookupInvoice(inv.paymentHash))?.status, 'accepted');
    assert.equal((await A.wallet.getEscrow(job))?.status, 'held');
    assert.equal((await A.wallet.getEscrow(job))?.payer, 'external');
    assert.equal(A.wallet.ledger.balance(`escrow:${job}`), 40_000);
    assert.equal(await port.proof(inv.paymentHash), null, 'no proof of payment before the HTLC is settled');
    if (pair.a.testLnd) assert.equal(pair.a.testLnd.node.invoices.get(inv.paymentHash)?.state, 'ACCEPTED');

    await port.release(job, 'agent:worker', 30_000);
    const paid = await paying;
    assert.equal(sha(paid.preimage), inv.paymentHash);
    assert.equal(A.wallet.ledger.balance('agent:worker'), 30_000);
    assert.equal(A.wallet.ledger.balance(`escrow:${job}`), 0);
    assert.equal((await A.wallet.lookupInvoice(inv.paymentHash))?.status, 'paid');
    assert.deepEqual(await port.proof(inv.paymentHash), { bolt11: inv.bolt11, preimage: paid.preimage });
    if (pair.a.testLnd) assert.equal(pair.a.testLnd.node.invoices.get(inv.paymentHash)?.state, 'SETTLED');
    await port.release(job, 'agent:worker', 30_000); // idempotent
    audit(A);
  });

  it('refunds a held job payment by cancelling the HTLC: the payer gets it back over Lightning', async () => {
    const port = paymentPort(A.wallet);
    const job = `job-${randomBytes(4).toString('hex')}`;
    const inv = await port.invoiceForJob(job, 7_000, 'a job that fails');
    const before = B.wallet.ledger.balance('user:bob');
    const paying = later(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }));
    assert.equal(await port.waitPaid(inv.paymentHash, AbortSignal.timeout(5000)), true);
    await port.refund(job, 'the agent failed');
    await assert.rejects(paying, PaymentFailedError);
    assert.equal(B.wallet.ledger.balance('user:bob'), before, 'the debit came back to the payer');
    assert.equal((await A.wallet.getEscrow(job))?.status, 'refunded');
    assert.equal((await A.wallet.lookupInvoice(inv.paymentHash))?.status, 'cancelled');
    assert.equal(await port.isPaid(inv.paymentHash), true, 'it was paid (and refunded): the DVM marks the job refunded');
    assert.equal(A.wallet.ledger.balance(`escrow:${job}`), 0);
    await port.refund(job, 'again'); // idempotent
    audit(A);
    audit(B);
  });

  it("pays one of its own LND invoices from an account inside the ledger, and cancels it on the node", async () => {
    await A.wallet.fund('customer:inside', 100_000, 'test funds');
    const job = `job-${randomBytes(4).toString('hex')}`;
    const inv = await A.wallet.createInvoice({ amountMsat: 9_000, jobId: job });
    const r = await A.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'customer:inside' });
    assert.equal(sha(r.preimage), inv.paymentHash);
    assert.equal((await A.wallet.getEscrow(job))?.payer, 'customer:inside');
    // Nobody can pay it over Lightning as well.
    await assert.rejects(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }), PaymentFailedError);
    await A.wallet.release({ jobId: job, toAccount: 'agent:worker2', amountMsat: 9_000 });
    assert.equal(A.wallet.ledger.balance('agent:worker2'), 9_000);
    const std = await A.wallet.createInvoice({ amountMsat: 1_000, account: 'agent:poet' });
    await A.wallet.pay({ bolt11: std.bolt11, fromAccount: 'customer:inside' });
    await assert.rejects(B.wallet.pay({ bolt11: std.bolt11, fromAccount: 'user:bob' }), PaymentFailedError);
    audit(A);
    audit(B);
  });

  it('creates, settles and cancels hold invoices with a preimage someone else keeps', async () => {
    const secret = randomBytes(32).toString('hex');
    const hold = await A.wallet.createHoldInvoice({ amountMsat: 3_000, paymentHash: sha(secret), account: 'agent:seller' });
    const paying = later(B.wallet.pay({ bolt11: hold.bolt11, fromAccount: 'user:bob' }));
    await eventually(async () => ((await A.wallet.lookupInvoice(hold.paymentHash))?.status === 'accepted' ? true : undefined), 5000);
    assert.equal(A.wallet.ledger.balance('agent:seller'), 0, 'not ours before it is settled');
    await A.wallet.settleHold(secret);
    assert.equal((await paying).preimage, secret);
    assert.equal(A.wallet.ledger.balance('agent:seller'), 3_000);
    assert.deepEqual(await A.wallet.paymentProof(hold.paymentHash), { bolt11: hold.bolt11, preimage: secret });

    const other = randomBytes(32).toString('hex');
    const hold2 = await A.wallet.createHoldInvoice({ amountMsat: 3_000, paymentHash: sha(other), account: 'agent:seller' });
    const paying2 = later(B.wallet.pay({ bolt11: hold2.bolt11, fromAccount: 'user:bob' }));
    await eventually(async () => ((await A.wallet.lookupInvoice(hold2.paymentHash))?.status === 'accepted' ? true : undefined), 5000);
    await A.wallet.cancelHold(hold2.paymentHash);
    await assert.rejects(paying2, PaymentFailedError);
    assert.equal((await A.wallet.lookupInvoice(hold2.paymentHash))?.status, 'cancelled');
    assert.equal(A.wallet.ledger.balance('agent:seller'), 3_000);
    audit(A);
    audit(B);
  });

  it('refunds the escrow when LND gives a held HTLC back near its expiry', standIn, async () => {
    const port = paymentPort(A.wallet);
    const job = `job-${randomBytes(4).toString('hex')}`;
    const inv = await port.invoiceForJob(job, 2_000, 'a slow job');
    const paying = later(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }));
    assert.equal(await port.waitPaid(inv.paymentHash, AbortSignal.timeout(5000)), true);
    const htlc = pair.a.testLnd!.node.invoices.get(inv.paymentHash)!.htlcs[0]!.htlc;
    pair.net!.network.mine(htlc.expiryHeight - pair.net!.network.height - HOLD_CANCEL_DELTA);
    await assert.rejects(paying, PaymentFailedError);
    await eventually(async () => ((await A.wallet.getEscrow(job))?.status === 'refunded' ? true : undefined), 5000);
    await assert.rejects(port.release(job, 'agent:late', 1_000), /already refunded/);
    assert.ok(A.logs.some((l) => /cancelled the held payment/.test(l.message)));
    audit(A);
  });

  it('fails a payment nobody can route, and gives the debit back', standIn, async () => {
    const lone = await TestLnd.start({ network: pair.net!.network, alias: 'lone' });
    const L = await tempLndWallet({ name: 'a', connection: () => lone.connection(), testLnd: lone });
    try {
      const inv = await L.wallet.createInvoice({ amountMsat: 1_000, account: 'agent:x' });
      const before = B.wallet.ledger.balance('user:bob');
      await assert.rejects(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }), (e: PaymentFailedError) => e.name === 'PaymentFailedError' && /unable to find a path to destination/.test(e.message));
      assert.equal(B.wallet.ledger.balance('user:bob'), before);
      // A can receive but has little on its side: it cannot pay B 0.5 BTC.
      const big = await B.wallet.createInvoice({ amountMsat: 50_000_000_000, account: 'user:bob' });
      await A.wallet.fund('treasury', 60_000_000_000, 'test');
      await assert.rejects(A.wallet.pay({ bolt11: big.bolt11, fromAccount: 'treasury' }), /insufficient local balance/);
      assert.equal(A.wallet.ledger.balance('treasury'), 60_000_000_000);
    } finally {
      await L.cleanup();
      await lone.close();
    }
    audit(A);
    audit(B);
  });
});

describe('the RPCs LndWallet uses', { skip: REAL_LND ? 'needs the test LND (it records the calls)' : false }, () => {
  it('are all served by the test LND, with the permissions LND requires', async () => {
    const pair = await lndPair();
    const A = await tempLndWallet(pair.a);
    const B = await tempLndWallet(pair.b);
    try {
      await B.wallet.fund('user:bob', 1_000_000, 'test');
      const inv = await A.wallet.createInvoice({ amountMsat: 1_000, account: 'agent:x' });
      await B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' });
      const port = paymentPort(A.wallet);
      const job = await port.invoiceForJob('job-rpcs', 2_000, 'rpcs');
      const paying = later(B.wallet.pay({ bolt11: job.bolt11, fromAccount: 'user:bob' }));
      await port.waitPaid(job.paymentHash, AbortSignal.timeout(5000));
      await port.release('job-rpcs', 'agent:x', 2_000);
      await paying;
      const job2 = await port.invoiceForJob('job-rpcs-2', 2_000, 'rpcs');
      await port.refund('job-rpcs-2', 'not paid');
      assert.equal((await A.wallet.lookupInvoice(job2.paymentHash))?.status, 'cancelled');
      await A.wallet.nodeBalances();
      const served = Object.keys(RPC_PERMISSIONS);
      const a = [...new Set(pair.a.testLnd!.calls)].sort();
      const b = [...new Set(pair.b.testLnd!.calls)].sort();
      for (const c of [...a, ...b]) assert.ok(served.includes(c), `${c} is served`);
      for (const c of ['AddInvoice', 'AddHoldInvoice', 'SubscribeSingleInvoice', 'LookupInvoice', 'SettleInvoice', 'CancelInvoice', 'GetInfo', 'ChannelBalance', 'WalletBalance']) {
        assert.ok(a.some((x) => x.endsWith('/' + c)), `A's wallet called ${c}`);
      }
      assert.ok(b.includes('/routerrpc.Router/SendPaymentV2'));
    } finally {
      await A.cleanup();
      await B.cleanup();
      await pair.close();
    }
  });
});

describe('LndWallet: routing fees', { skip: REAL_LND ? 'needs the test LND' : false }, () => {
  it('pays through a routing node: the fee is charged to the account, the unused fee limit comes back', async () => {
    const net = await testNetwork(['a', 'r', 'b'], [
      ['b', 'r', 1_000_000_000, 0, 0],
      ['r', 'a', 1_000_000_000, 0, 2_000],
    ]);
    const A = await tempLndWallet({ name: 'a', connection: () => net.nodes.a.connection(), testLnd: net.nodes.a });
    const B = await tempLndWallet({ name: 'b', connection: () => net.nodes.b.connection(), testLnd: net.nodes.b });
    try {
      await B.wallet.fund('user:bob', 1_000_000, 'test');
      const inv = await A.wallet.createInvoice({ amountMsat: 100_000, account: 'agent:x' });
      const paid = await B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob', maxFeeMsat: 5_000 });
      assert.equal(paid.feeMsat, 2_000);
      assert.equal(B.wallet.ledger.balance('user:bob'), 1_000_000 - 102_000);
      assert.equal(net.network.balances(net.nodes.r.node.pubkey).localMsat, 1_000_000_000 + 2_000, 'the router earned its fee');
      // A fee limit below the fee: no route within it.
      const inv2 = await A.wallet.createInvoice({ amountMsat: 100_000, account: 'agent:x' });
      await assert.rejects(B.wallet.pay({ bolt11: inv2.bolt11, fromAccount: 'user:bob', maxFeeMsat: 1_000 }), PaymentFailedError);
      assert.equal(B.wallet.ledger.balance('user:bob'), 1_000_000 - 102_000);
      audit(B);
    } finally {
      await A.cleanup();
      await B.cleanup();
      await net.close();
    }
  });
});

describe('LndWallet when things break', { skip: REAL_LND ? 'needs the test LND (it stops and locks nodes)' : false }, () => {
  let pair: LndPair;
  before(async () => {
    pair = await lndPair();
  });
  after(async () => {
    await pair?.close();
  });

  it('refuses a wrong macaroon at start with a clear error, and falls back to the built-in wallet', async () => {
    const a = pair.a.testLnd!;
    const logs: string[] = [];
    const dir = (await import('node:fs')).mkdtempSync((await import('node:path')).join((await import('node:os')).tmpdir(), 'timmy-lnd-'));
    const config = walletConfigSchema.parse({ backend: 'lnd', lnd: { socket: a.socket, cert: a.cert, macaroon: pair.b.testLnd!.adminMacaroon, reprobeMaxSeconds: 1 } });
    const opened = await openWallet({ path: `${dir}/wallet.sqlite`, nodeKey: randomBytes(32), config, log: (_l, m) => logs.push(m) });
    try {
      assert.equal(opened.backend, 'builtin');
      assert.match(opened.fallback ?? '', /LND refused the macaroon: verification failed: signature mismatch after caveat verification/);
      assert.equal(logs.length, 1);
      assert.match(logs[0]!, /LND is not usable .*running on the built-in wallet.*Fix wallet\.lnd and restart/);
      assert.ok(!logs.join('\n').includes(pair.b.testLnd!.adminMacaroon), 'the macaroon is not logged');
      assert.equal((await opened.wallet.info()).backend, 'builtin');
    } finally {
      await opened.close();
    }
  });

  it('refuses calls the macaroon has no permission for, naming the permission, without crashing', async () => {
    const a = pair.a.testLnd!;
    const w = await tempLndWallet(pair.a, { connection: { ...a.connection(), macaroon: a.macaroon(['info:read', 'invoices:read']) } });
    try {
      const err = await w.wallet.createInvoice({ amountMsat: 1_000, account: 'agent:x' }).catch((e: unknown) => e);
      assert.ok(err instanceof LndPermissionError);
      assert.equal(err.permission, 'invoices:write');
      assert.match(err.message, /^createInvoice: LND refused: permission denied \(the macaroon needs invoices:write\)$/);
      assert.equal((await w.wallet.info()).backend, 'lnd');
    } finally {
      await w.cleanup();
    }
  });

  it('falls back to the built-in wallet when LND is down at start, logs it, and logs when LND is back', async () => {
    const a = pair.a.testLnd!;
    await a.stop();
    const logs: string[] = [];
    const { mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync(`${(await import('node:os')).tmpdir()}/timmy-lnd-`);
    const config = walletConfigSchema.parse({ backend: 'lnd', lnd: { ...a.connection(), probeTimeoutMs: 1000, reprobeMaxSeconds: 1 } });
    let opened;
    try {
      opened = await openWallet({ path: `${dir}/wallet.sqlite`, nodeKey: randomBytes(32), config, log: (_l, m) => logs.push(m) });
      assert.equal(opened.backend, 'builtin');
      assert.match(logs[0]!, /^wallet: LND is not usable \(info: cannot reach LND at localhost:\d+.*\); running on the built-in wallet .*probed again in the background; restart Timmy once it answers\.$/);
      await opened.wallet.fund('user:x', 1000);
      assert.equal(opened.wallet.ledger.balance('user:x'), 1000, 'the ledger works');
    } finally {
      await a.start();
    }
    try {
      await eventually(() => (logs.some((m) => /answers now .*restart Timmy to use it/.test(m)) ? true : undefined), 8000);
      assert.equal(opened.backend, 'builtin', 'no switch under a running instance');
    } finally {
      await opened.close();
    }
  });

  it('treats a locked LND like a down one at start', async () => {
    const a = pair.a.testLnd!;
    a.locked = true;
    const logs: string[] = [];
    const { mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync(`${(await import('node:os')).tmpdir()}/timmy-lnd-`);
    try {
      const config = walletConfigSchema.parse({ backend: 'lnd', lnd: { ...a.connection(), reprobeMaxSeconds: 1 } });
      const opened = await openWallet({ path: `${dir}/wallet.sqlite`, nodeKey: randomBytes(32), config, log: (_l, m) => logs.push(m) });
      await opened.close();
      assert.equal(opened.backend, 'builtin');
      assert.match(logs[0]!, /is locked \(unlock its wallet\): wallet locked, unlock it to enable full RPC access/);
    } finally {
      a.locked = false;
    }
  });

  it("records a payment that arrived while A's LND was unreachable exactly once, when it is back", async () => {
    const A = await tempLndWallet(pair.a);
    const B = await tempLndWallet(pair.b);
    try {
      await B.wallet.fund('user:bob', 1_000_000, 'test');
      const inv = await A.wallet.createInvoice({ amountMsat: 11_000, account: 'agent:x' });
      await pair.a.testLnd!.stop();
      const paid = await B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }); // the node is up; only its RPC is down
      assert.equal((await A.wallet.lookupInvoice(inv.paymentHash))?.status, 'open');
      await pair.a.testLnd!.start();
      await eventually(() => (A.wallet.ledger.balance('agent:x') === 11_000 ? true : undefined), 10_000);
      assert.equal((await A.wallet.paymentProof(inv.paymentHash))?.preimage, paid.preimage);
      // Restarting the wallet does not post it again.
      await A.wallet.close();
      const again = await A.reopen();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(again.ledger.balance('agent:x'), 11_000);
      assert.equal(again.ledger.audit().totalMsat, 0);
    } finally {
      await A.cleanup();
      await B.cleanup();
    }
  });

  it("keeps the debit of a payment whose outcome was lost with B's LND, posts the outcome once, and never pays twice", async () => {
    const A = await tempLndWallet(pair.a);
    const B = await tempLndWallet(pair.b);
    try {
      await B.wallet.fund('user:bob', 1_000_000, 'test');
      const job = `job-${randomBytes(4).toString('hex')}`;
      const inv = await paymentPort(A.wallet).invoiceForJob(job, 20_000, 'held while B goes away');
      const paying = later(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }));
      assert.equal(await paymentPort(A.wallet).waitPaid(inv.paymentHash, AbortSignal.timeout(5000)), true);
      await pair.b.testLnd!.stop(); // B's stream breaks while the payment is in flight
      await assert.rejects(paying, PaymentPendingError);
      const debited = B.wallet.ledger.balance('user:bob');
      assert.ok(debited <= 1_000_000 - 20_000, 'the debit stays while the outcome is unknown');
      await assert.rejects(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }), PaymentPendingError);
      await paymentPort(A.wallet).release(job, 'agent:y', 20_000);
      await pair.b.testLnd!.start();
      // B learns the outcome in the background and returns the unused fee limit.
      await eventually(() => (B.wallet.ledger.balance('user:bob') === 1_000_000 - 20_000 ? true : undefined), 10_000);
      const r = await B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' });
      assert.equal(r.replayed, true);
      assert.equal(sha(r.preimage), inv.paymentHash);
      assert.equal(pair.b.testLnd!.node.payments.get(inv.paymentHash)?.index !== undefined, true);
      assert.equal([...pair.b.testLnd!.node.payments.values()].filter((p) => p.hash === inv.paymentHash).length, 1, 'one payment on the node');
      assert.equal(A.wallet.ledger.balance('agent:y'), 20_000);
      audit(A);
      audit(B);
    } finally {
      await A.cleanup();
      await B.cleanup();
    }
  });

  it('refunds while LND is down: the ledger at once, the HTLC when LND is back', async () => {
    const A = await tempLndWallet(pair.a);
    const B = await tempLndWallet(pair.b);
    try {
      await B.wallet.fund('user:bob', 1_000_000, 'test');
      const port = paymentPort(A.wallet);
      const job = `job-${randomBytes(4).toString('hex')}`;
      const inv = await port.invoiceForJob(job, 5_000, 'refunded while LND is down');
      const paying = later(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }));
      assert.equal(await port.waitPaid(inv.paymentHash, AbortSignal.timeout(5000)), true);
      await pair.a.testLnd!.stop();
      await port.refund(job, 'the job failed');
      assert.equal((await A.wallet.getEscrow(job))?.status, 'refunded');
      assert.equal(pair.a.testLnd!.node.invoices.get(inv.paymentHash)?.state, 'ACCEPTED', 'LND still holds it');
      // Releasing a refunded job is refused: the HTLC is never settled.
      await assert.rejects(port.release(job, 'agent:z', 5_000), /already refunded/);
      await pair.a.testLnd!.start();
      await assert.rejects(paying, PaymentFailedError);
      assert.equal(pair.a.testLnd!.node.invoices.get(inv.paymentHash)?.state, 'CANCELED');
      assert.equal(B.wallet.ledger.balance('user:bob'), 1_000_000);
      audit(A);
    } finally {
      await A.cleanup();
      await B.cleanup();
    }
  });

  it('recovers a held invoice after a restart: still ACCEPTED on the node, escrow held, then released', async () => {
    const A = await tempLndWallet(pair.a);
    const B = await tempLndWallet(pair.b);
    try {
      await B.wallet.fund('user:bob', 1_000_000, 'test');
      const job = `job-${randomBytes(4).toString('hex')}`;
      const inv = await paymentPort(A.wallet).invoiceForJob(job, 8_000, 'held across a restart');
      await A.wallet.close(); // Timmy is down when the customer pays
      const paying = later(B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }));
      await eventually(() => (pair.a.testLnd!.node.invoices.get(inv.paymentHash)?.state === 'ACCEPTED' ? true : undefined));
      const again = await A.reopen();
      const port = paymentPort(again);
      assert.equal(await port.waitPaid(inv.paymentHash, AbortSignal.timeout(5000)), true);
      assert.equal((await again.getEscrow(job))?.status, 'held');
      await again.close();
      const third = await A.reopen(); // and once more, with the escrow already held
      assert.equal((await third.getEscrow(job))?.status, 'held');
      await paymentPort(third).release(job, 'agent:r', 8_000);
      await paying;
      assert.equal(third.ledger.balance('agent:r'), 8_000);
      assert.equal(third.ledger.audit().totalMsat, 0);
    } finally {
      await A.cleanup();
      await B.cleanup();
    }
  });
});

describe('the test network', () => {
  it('starts empty at height 1000', () => {
    assert.equal(new TestLnNetwork().height, 1000);
  });
});
