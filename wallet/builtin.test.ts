// The built-in wallet end to end on a real SQLite file: mint, pay, settle, notify; the refusals;
// funding rules; a restart; and a second process on the same database.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { decodeBolt11, encodeBolt11 } from './bolt11.js';
import * as E from './errors.js';
import { TEST_NODE_KEY, eventually, tempWallet, type TempWallet } from './testing.js';
import type { InvoiceUpdate } from './wallet.js';

const SPEC_INVOICE = (JSON.parse(readFileSync(new URL('../../wallet/vectors/bolt11.json', import.meta.url), 'utf8')) as { valid: { invoice: string }[] })
  .valid[1]!.invoice;

describe('built-in wallet', () => {
  let t: TempWallet;
  beforeEach(() => {
    t = tempWallet();
  });
  afterEach(() => t.cleanup());

  it('mints a signed regtest invoice, and paying it moves the money and reveals the preimage', async () => {
    const w = t.wallet;
    await w.fund('user:alice', 50_000, 'test money');
    const inv = await w.createInvoice({ amountMsat: 21_000, description: 'a summary', account: 'agent:bob', expirySeconds: 600 });
    assert.match(inv.bolt11, /^lnbcrt210n1/);
    assert.equal(inv.status, 'open');
    const d = decodeBolt11(inv.bolt11);
    assert.equal(d.payee, w.nodePubkey);
    assert.equal(d.amountMsat, 21_000);
    assert.equal(d.description, 'a summary');
    assert.equal(d.expiresAt, t.clock.now() + 600);
    assert.ok(d.paymentSecret);
    assert.deepEqual(d.features, [8, 14]);

    const updates: InvoiceUpdate[] = [];
    w.subscribeInvoice(inv.paymentHash, (u) => updates.push(u));
    const paid: string[] = [];
    w.onInvoicePaid((u) => paid.push(u.paymentHash));

    const r = await w.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' });
    assert.equal(bytesToHex(sha256(hexToBytes(r.preimage))), inv.paymentHash);
    assert.equal(r.replayed, false);
    assert.equal(r.feeMsat, 0);
    assert.equal(await w.balance('user:alice'), 29_000);
    assert.equal(await w.balance('agent:bob'), 21_000);
    const after = await w.lookupInvoice(inv.paymentHash);
    assert.equal(after?.status, 'paid');
    assert.equal(after?.paidBy, 'user:alice');
    assert.deepEqual(paid, [inv.paymentHash]);
    await eventually(() => updates[0]);
    assert.equal(updates.length, 1);
    assert.equal(updates[0]!.status, 'paid');
    assert.equal(w.ledger.audit().totalMsat, 0);
  });

  it('a retry by the same payer replays; another payer is refused; nothing is counted twice', async () => {
    const w = t.wallet;
    await w.fund('user:alice', 10_000);
    await w.fund('user:carol', 10_000);
    const inv = await w.createInvoice({ amountMsat: 4000, account: 'agent:bob' });
    const first = await w.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' });
    const again = await w.pay({ bolt11: inv.bolt11.toUpperCase(), fromAccount: 'user:alice' });
    assert.equal(again.replayed, true);
    assert.equal(again.preimage, first.preimage);
    await assert.rejects(w.pay({ bolt11: inv.bolt11, fromAccount: 'user:carol' }), E.InvoiceAlreadyPaidError);
    assert.equal(await w.balance('user:alice'), 6000);
    assert.equal(await w.balance('user:carol'), 10_000);
    assert.equal(await w.balance('agent:bob'), 4000);
    await assert.rejects(w.cancelInvoice(inv.paymentHash), E.InvoiceAlreadyPaidError);
  });

  it('refuses insufficient funds, and leaves the invoice open', async () => {
    const w = t.wallet;
    await w.fund('user:alice', 999);
    const inv = await w.createInvoice({ amountMsat: 1000, account: 'agent:bob' });
    await assert.rejects(w.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' }), E.InsufficientFundsError);
    await assert.rejects(w.pay({ bolt11: inv.bolt11, fromAccount: 'user:nobody' }), E.InsufficientFundsError);
    assert.equal((await w.lookupInvoice(inv.paymentHash))?.status, 'open');
    assert.equal(await w.balance('user:alice'), 999);
  });

  it('refuses an expired invoice and tells its subscribers', async () => {
    const w = t.wallet;
    await w.fund('user:alice', 5000);
    const inv = await w.createInvoice({ amountMsat: 1000, account: 'agent:bob', expirySeconds: 60 });
    const updates: InvoiceUpdate[] = [];
    w.subscribeInvoice(inv.paymentHash, (u) => updates.push(u));
    t.clock.advance(60);
    await assert.rejects(w.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' }), E.InvoiceExpiredError);
    assert.equal((await w.lookupInvoice(inv.paymentHash))?.status, 'expired');
    await eventually(() => updates[0]);
    assert.equal(updates[0]!.status, 'expired');
    assert.equal(await w.balance('user:alice'), 5000);
  });

  it('refuses a cancelled invoice, paying oneself, a wrong amount, and spending from escrow or external', async () => {
    const w = t.wallet;
    await w.fund('user:alice', 5000);
    const inv = await w.createInvoice({ amountMsat: 1000, account: 'user:alice' });
    await assert.rejects(w.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' }), E.InvalidAccountError);
    await assert.rejects(w.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob', amountMsat: 999 }), E.InvalidAmountError);
    await assert.rejects(w.pay({ bolt11: inv.bolt11, fromAccount: 'external' }), E.InvalidAccountError);
    await assert.rejects(w.pay({ bolt11: inv.bolt11, fromAccount: 'escrow:job1' }), E.InvalidAccountError);
    await w.cancelInvoice(inv.paymentHash);
    await w.fund('user:bob', 5000);
    await assert.rejects(w.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' }), E.InvoiceCancelledError);
  });

  it('cannot pay foreign invoices: another payee, another network, unknown hash, broken strings', async () => {
    const w = t.wallet;
    await w.fund('user:alice', 10_000_000_000);
    await assert.rejects(w.pay({ bolt11: SPEC_INVOICE, fromAccount: 'user:alice' }), E.NetworkMismatchError);
    const foreign = encodeBolt11(
      { network: 'regtest', amountMsat: 1000, timestamp: 1_700_000_000, tags: [{ tag: 'p', value: 'aa'.repeat(32) }, { tag: 'd', value: 'x' }] },
      sha256(new TextEncoder().encode('someone else')),
    );
    await assert.rejects(w.pay({ bolt11: foreign, fromAccount: 'user:alice' }), E.WalletUnsupportedError);
    const unknown = encodeBolt11(
      { network: 'regtest', amountMsat: 1000, timestamp: 1_700_000_000, tags: [{ tag: 'p', value: 'aa'.repeat(32) }, { tag: 'd', value: 'x' }] },
      TEST_NODE_KEY,
    );
    await assert.rejects(w.pay({ bolt11: unknown, fromAccount: 'user:alice' }), E.InvoiceNotFoundError);
    await assert.rejects(w.pay({ bolt11: 'lnbcrt1nonsense', fromAccount: 'user:alice' }), { name: 'Bolt11Error' });
    assert.equal(await w.balance('user:alice'), 10_000_000_000);
    assert.equal(w.capabilities.payExternal, false);
    await assert.rejects(w.createHoldInvoice({ amountMsat: 1, paymentHash: 'aa'.repeat(32), account: 'user:a' }), E.WalletUnsupportedError);
  });

  it('funds only on regtest and signet, or with allowFunding', async () => {
    assert.equal(t.wallet.capabilities.testFunding, true);
    const main = tempWallet({ config: { network: 'mainnet' } });
    try {
      await assert.rejects(main.wallet.fund('user:alice', 1000), E.FundingDisabledError);
      const inv = await main.wallet.createInvoice({ amountMsat: 1000, account: 'agent:bob' });
      assert.match(inv.bolt11, /^lnbc10n1/);
    } finally {
      await main.cleanup();
    }
    const allowed = tempWallet({ config: { network: 'testnet', allowFunding: true } });
    try {
      assert.equal((await allowed.wallet.fund('user:alice', 1000)).balanceMsat, 1000);
      assert.match((await allowed.wallet.createInvoice({ amountMsat: 1000, account: 'agent:bob' })).bolt11, /^lntb10n1/);
    } finally {
      await allowed.cleanup();
    }
    const signet = tempWallet({ config: { network: 'signet' } });
    try {
      assert.match((await signet.wallet.createInvoice({ amountMsat: 1000, account: 'agent:bob' })).bolt11, /^lntbs10n1/);
    } finally {
      await signet.cleanup();
    }
    await assert.rejects(t.wallet.fund('escrow:job', 1000), E.InvalidAccountError);
    await assert.rejects(t.wallet.fund('user:alice', 0), E.InvalidAmountError);
  });

  it('long descriptions go into the invoice as a hash', async () => {
    const long = 'x'.repeat(700);
    const inv = await t.wallet.createInvoice({ amountMsat: 1000, account: 'agent:bob', description: long });
    const d = decodeBolt11(inv.bolt11);
    assert.equal(d.description, null);
    assert.equal(d.descriptionHash, bytesToHex(sha256(new TextEncoder().encode(long))));
    assert.equal(inv.description, long);
  });

  it('a restart keeps balances, invoices and preimages; another network or node key is refused', async () => {
    await t.wallet.fund('user:alice', 10_000);
    const inv = await t.wallet.createInvoice({ amountMsat: 3000, account: 'agent:bob' });
    const r = await t.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' });
    const open = await t.wallet.createInvoice({ amountMsat: 1000, account: 'agent:bob' });
    await t.wallet.close();
    const w = t.reopen();
    assert.equal(await w.balance('user:alice'), 7000);
    assert.equal(await w.balance('agent:bob'), 3000);
    assert.equal((await w.lookupInvoice(inv.paymentHash))?.status, 'paid');
    assert.equal((await w.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' })).preimage, r.preimage);
    await w.pay({ bolt11: open.bolt11, fromAccount: 'user:alice' });
    assert.equal(await w.balance('agent:bob'), 4000);
    assert.throws(() => t.reopen({ config: { network: 'signet' } }), E.WalletConfigError);
    assert.throws(() => t.reopen({ nodeKey: sha256(TEST_NODE_KEY) }), E.WalletConfigError);
  });

  it('a payment made by another process on the same database reaches this one\'s listeners', async () => {
    const other = t.reopen();
    const inv = await t.wallet.createInvoice({ amountMsat: 2000, account: 'agent:bob' });
    let update: InvoiceUpdate | undefined;
    const paid: string[] = [];
    t.wallet.subscribeInvoice(inv.paymentHash, (u) => (update = u));
    t.wallet.onInvoicePaid((u) => paid.push(u.paymentHash));
    await other.fund('user:alice', 5000);
    await other.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' });
    const u = await eventually(() => update);
    assert.equal(u.status, 'paid');
    await eventually(() => (paid.length ? paid : undefined));
    assert.deepEqual(paid, [inv.paymentHash]);
  });

  it('subscribing to an invoice that is already final delivers at once', async () => {
    await t.wallet.fund('user:alice', 5000);
    const inv = await t.wallet.createInvoice({ amountMsat: 2000, account: 'agent:bob' });
    await t.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:alice' });
    const u = await new Promise<InvoiceUpdate>((resolve) => t.wallet.subscribeInvoice(inv.paymentHash, resolve));
    assert.equal(u.status, 'paid');
    assert.throws(() => t.wallet.subscribeInvoice('bb'.repeat(32), () => {}), E.InvoiceNotFoundError);
  });
});
