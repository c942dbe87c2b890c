// A remote NWC wallet as the instance's wallet backend (wallet.backend nwc): instance B serves its
// built-in wallet over NWC (a connection on B's user:alice); instance A runs with B's URI as its
// wallet. A's invoices are minted by B and credited on A's ledger when B says they are paid; A's
// payments debit A's ledger and go out through B. Then what breaks: B refusing a payment, B
// unreachable at start, a bad URI; the URI's secret must never show in logs or errors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import pino from 'pino';
import { configSchema, fromEnv } from '../main/config.js';
import { startInstance, type Instance } from '../main/instance.js';
import { parseConnectionUri } from '../nostr/nip47.js';
import { generateSecretKey } from '../nostr/verify.js';
import { walletConfigSchema } from '../wallet/config.js';
import { InvoiceAlreadyPaidError, WalletConfigError } from '../wallet/errors.js';
import { PaymentFailedError } from '../wallet/lnd/errors.js';
import { NwcWallet } from '../wallet/nwc/backend.js';
import { createConnection, NwcStore, nwcStorePath } from '../wallet/nwc/index.js';
import { openWallet } from '../wallet/select.js';
import type { BuiltinWallet } from '../wallet/builtin.js';
import { BASE_CONFIG, closedPort, startTestInstance, until, type TestInstance } from './support/dvm.js';

const ALICE = 'user:alice';
const sha = (hex: string) => bytesToHex(sha256(hexToBytes(hex)));

function audit(w: BuiltinWallet): void {
  const a = w.ledger.audit();
  assert.equal(a.totalMsat, 0);
  assert.deepEqual(a.unbalancedTxIds, []);
  assert.deepEqual(a.driftedAccounts, []);
}

describe('NWC as the wallet backend', () => {
  let b: TestInstance;
  /** Instance A, its wallet, and every line it logged (a raw logger: no redaction to hide a leak). */
  let a: { inst: Instance; wallet: BuiltinWallet; dir: string };
  const aLogs: string[] = [];
  let store: NwcStore;
  let uri: string;
  let secret: string;

  before(async () => {
    b = await startTestInstance();
    store = NwcStore.open(nwcStorePath(b.dir));
    uri = createConnection(store, { name: 'timmy-a', account: ALICE, servicePubkey: b.inst.services!.nwc!.pubkey, relays: [b.inst.relayUrl!] }).uri;
    secret = parseConnectionUri(uri).secret;
    await b.wallet.fund(ALICE, 1_000_000, 'backing instance A');
    const dir = mkdtempSync(join(tmpdir(), 'timmy-nwcb-a-'));
    const logger = pino({ level: 'trace' }, { write: (line: string) => void aLogs.push(line) });
    const config = configSchema.parse({ ...BASE_CONFIG, dataDir: dir, wallet: { backend: 'nwc', nwcBackend: { uri, timeoutMs: 10_000 }, pollIntervalMs: 200 } });
    const inst = await startInstance(config, { logger });
    a = { inst, wallet: inst.services!.wallet, dir };
  });

  after(async () => {
    if (a) {
      await a.inst.close();
      rmSync(a.dir, { recursive: true, force: true });
    }
    store?.close();
    await b?.close();
  });

  it('runs on the remote wallet: info and capabilities say so', async () => {
    assert.ok(a.wallet instanceof NwcWallet);
    const info = await a.wallet.info();
    assert.equal(info.backend, 'nwc');
    assert.equal(info.nodePubkey, b.wallet.nodePubkey, "the remote's node key (get_info)");
    assert.equal(info.capabilities.payExternal, true);
    assert.equal(info.capabilities.receiveExternal, true);
    assert.equal(info.capabilities.holdInvoices, false, 'B offers no hold invoices: job escrow stays in the ledger');
    assert.equal(info.capabilities.escrow, true);
    assert.equal(await a.wallet.remoteBalance(), await b.wallet.balance(ALICE));
  });

  it("A's invoice is minted by B; paid inside B, it is credited on A's ledger with its proof", async () => {
    const inv = await a.wallet.createInvoice({ amountMsat: 21_000, account: 'user:shop', description: 'coffee' });
    assert.match(inv.bolt11, /^lnbcrt/);
    assert.equal((await a.wallet.decode(inv.bolt11)).payee, b.wallet.nodePubkey);
    assert.equal((await b.wallet.lookupInvoice(inv.paymentHash))?.account, ALICE);
    assert.equal((await a.wallet.lookupInvoice(inv.paymentHash))?.status, 'open');
    const seen: string[] = [];
    const stop = a.wallet.onInvoicePaid((u) => seen.push(u.paymentHash));
    await b.wallet.fund('user:bob', 100_000);
    await b.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' });
    const paid = await until('credited on A', async () => ((await a.wallet.lookupInvoice(inv.paymentHash))?.status === 'paid' ? true : undefined));
    assert.ok(paid);
    stop();
    assert.equal(await a.wallet.balance('user:shop'), 21_000);
    assert.equal(await b.wallet.balance(ALICE), 1_021_000);
    assert.equal((await a.wallet.lookupInvoice(inv.paymentHash))?.paidBy, 'external');
    const proof = await a.wallet.paymentProof(inv.paymentHash);
    assert.equal(sha(proof!.preimage), inv.paymentHash);
    await until('onInvoicePaid', () => (seen.includes(inv.paymentHash) ? true : undefined));
    audit(a.wallet);
  });

  it("A pays an invoice of B's user:carol through NWC: A's account debited, carol credited; never twice", async () => {
    const carol = await b.wallet.createInvoice({ amountMsat: 30_000, account: 'user:carol', description: 'sticker' });
    await a.wallet.fund('user:x', 100_000);
    const aliceBefore = await b.wallet.balance(ALICE);
    const r = await a.wallet.pay({ bolt11: carol.bolt11, fromAccount: 'user:x' });
    assert.equal(sha(r.preimage), carol.paymentHash);
    assert.equal(r.feeMsat, 0);
    assert.equal(r.replayed, false);
    assert.equal(await a.wallet.balance('user:x'), 70_000, 'the amount; the unused fee reserve came back');
    assert.equal(await b.wallet.balance('user:carol'), 30_000);
    assert.equal(await b.wallet.balance(ALICE), aliceBefore - 30_000);
    // The same payer again: the first result, nothing moves; another payer: refused.
    const again = await a.wallet.pay({ bolt11: carol.bolt11, fromAccount: 'user:x' });
    assert.equal(again.replayed, true);
    assert.equal(again.preimage, r.preimage);
    await a.wallet.fund('user:y', 100_000);
    await assert.rejects(a.wallet.pay({ bolt11: carol.bolt11, fromAccount: 'user:y' }), InvoiceAlreadyPaidError);
    assert.equal(await a.wallet.balance('user:x'), 70_000);
    assert.equal(await b.wallet.balance(ALICE), aliceBefore - 30_000);
    audit(a.wallet);
    audit(b.wallet);
  });

  it("a payment the remote refuses gives A's ledger back everything, and its error holds no secret", async () => {
    const big = await b.wallet.createInvoice({ amountMsat: 5_000_000, account: 'user:carol' });
    await a.wallet.fund('user:rich', 10_000_000);
    await assert.rejects(a.wallet.pay({ bolt11: big.bolt11, fromAccount: 'user:rich' }), (err: Error) => {
      assert.ok(err instanceof PaymentFailedError, `${err.name}: ${err.message}`);
      assert.match(err.message, /INSUFFICIENT_BALANCE/);
      assert.ok(!err.message.includes(secret) && !(err.stack ?? '').includes(secret));
      return true;
    });
    assert.equal(await a.wallet.balance('user:rich'), 10_000_000);
    assert.equal((await b.wallet.lookupInvoice(big.paymentHash))?.status, 'open');
    audit(a.wallet);
  });

  it('an invoice of its own remote is paid inside the ledger (no remote payment)', async () => {
    const inv = await a.wallet.createInvoice({ amountMsat: 4_000, account: 'user:shop' });
    const aliceBefore = await b.wallet.balance(ALICE);
    const shopBefore = await a.wallet.balance('user:shop');
    await a.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:x' });
    assert.equal(await a.wallet.balance('user:shop'), shopBefore + 4_000);
    assert.equal(await b.wallet.balance(ALICE), aliceBefore, 'nothing moved on the remote');
    assert.equal((await a.wallet.lookupInvoice(inv.paymentHash))?.paidBy, 'user:x');
    audit(a.wallet);
  });

  it('without notifications, polling lookup_invoice credits; a job invoice holds its escrow in the ledger', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'timmy-nwcb-'));
    const methods = ['pay_invoice', 'make_invoice', 'lookup_invoice', 'get_balance', 'get_info'];
    const quiet = createConnection(store, { name: 'timmy-a-quiet', account: ALICE, servicePubkey: b.inst.services!.nwc!.pubkey, relays: [b.inst.relayUrl!], methods }).uri;
    const w = await NwcWallet.connect({ path: join(dir, 'wallet.sqlite'), nodeKey: generateSecretKey(), uri: quiet, config: { pollIntervalMs: 100 }, log: () => {} });
    try {
      assert.deepEqual(w.remote.notifications, [], 'this connection gets no notifications');
      const inv = await w.createInvoice({ amountMsat: 8_000, account: 'user:shop' });
      const job = await w.createInvoice({ amountMsat: 50_000, jobId: 'job-1', description: 'a job' });
      await b.wallet.fund('user:bob', 100_000);
      await b.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' });
      await b.wallet.pay({ bolt11: job.bolt11, fromAccount: 'user:bob' });
      await until('polled and credited', async () => ((await w.lookupInvoice(inv.paymentHash))?.status === 'paid' ? true : undefined));
      const escrow = await until('escrow held', () => w.getEscrow('job-1').then((e) => e ?? undefined));
      assert.equal(escrow.status, 'held');
      assert.equal(escrow.amountMsat, 50_000);
      assert.equal(await w.balance('user:shop'), 8_000);
      const released = await w.release({ jobId: 'job-1', toAccount: 'agent:z', feeMsat: 5_000 });
      assert.equal(released.status, 'released');
      assert.equal(await w.balance('agent:z'), 45_000);
      audit(w);
    } finally {
      await w.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a connection the remote refuses (removed): the built-in wallet, without re-probing', async () => {
    const gone = createConnection(store, { name: 'timmy-a-gone', account: ALICE, servicePubkey: b.inst.services!.nwc!.pubkey, relays: [b.inst.relayUrl!] }).uri;
    assert.ok(store.remove('timmy-a-gone'));
    const dir = mkdtempSync(join(tmpdir(), 'timmy-nwcb-'));
    const logs: string[] = [];
    const opened = await openWallet({
      path: join(dir, 'wallet.sqlite'),
      nodeKey: generateSecretKey(),
      config: walletConfigSchema.parse({ backend: 'nwc', nwcBackend: { uri: gone, probeTimeoutMs: 5000 } }),
      log: (level, m) => logs.push(`${level} ${m}`),
    });
    try {
      assert.equal(opened.backend, 'builtin');
      assert.match(opened.fallback ?? '', /refused get_info \(UNAUTHORIZED/);
      assert.ok(logs.some((l) => /Fix the connection/.test(l)), logs.join('\n'));
      for (const l of logs) assert.ok(!l.includes(parseConnectionUri(gone).secret));
    } finally {
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the URI's secret is in none of A's log lines", () => {
    assert.ok(aLogs.length > 0);
    for (const l of aLogs) assert.ok(!l.includes(secret) && !l.includes('walletconnect'), `logged: ${l}`);
  });

  it('TIMMY_NWC_URI gives wallet.nwcBackend.uri', () => {
    assert.deepEqual(fromEnv({ TIMMY_NWC_URI: ` ${uri} ` }), { wallet: { nwcBackend: { uri } } });
  });
});

describe('NWC backend: unreachable or wrong', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'timmy-nwcb-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a remote wallet unreachable at start: the built-in wallet, a warning, and the URI in no log line', async () => {
    const port = await closedPort();
    const sk = bytesToHex(generateSecretKey());
    const pk = bytesToHex(generateSecretKey()).replace(/^./, 'a');
    const uri = `nostr+walletconnect://${pk}?relay=${encodeURIComponent(`ws://127.0.0.1:${port}`)}&secret=${sk}`;
    const logs: string[] = [];
    const opened = await openWallet({
      path: join(tmp(), 'wallet.sqlite'),
      nodeKey: generateSecretKey(),
      config: walletConfigSchema.parse({ backend: 'nwc', nwcBackend: { uri, probeTimeoutMs: 500 } }),
      log: (level, m) => logs.push(`${level} ${m}`),
    });
    try {
      assert.equal(opened.backend, 'builtin');
      assert.ok(!(opened.wallet instanceof NwcWallet));
      assert.equal((await opened.wallet.info()).backend, 'builtin');
      assert.match(opened.fallback ?? '', /did not answer get_info/);
      assert.ok(logs.some((l) => /^warn wallet: the NWC wallet is not usable/.test(l)), logs.join('\n'));
      const inv = await opened.wallet.createInvoice({ amountMsat: 1_000, account: 'agent:x' });
      assert.match(inv.bolt11, /^lnbcrt/);
      for (const l of [...logs, opened.fallback ?? '']) assert.ok(!l.includes(sk) && !l.includes('secret='), `no secret in: ${l}`);
    } finally {
      await opened.close();
    }
  });

  it('a malformed URI is a config error that does not repeat it; a missing one names the key', async () => {
    const sk = bytesToHex(generateSecretKey());
    const base = { path: join(tmp(), 'wallet.sqlite'), nodeKey: generateSecretKey(), log: () => {} };
    await assert.rejects(
      openWallet({ ...base, config: walletConfigSchema.parse({ backend: 'nwc', nwcBackend: { uri: `nostr+walletconnect://nothex?relay=ws%3A%2F%2Fx&secret=${sk}` } }) }),
      (err: Error) => err instanceof WalletConfigError && /wallet\.nwcBackend\.uri/.test(err.message) && !err.message.includes(sk),
    );
    await assert.rejects(openWallet({ ...base, config: walletConfigSchema.parse({ backend: 'nwc' }) }), /wallet\.nwcBackend\.uri \(or the env var TIMMY_NWC_URI\)/);
  });
});
