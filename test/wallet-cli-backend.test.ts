// `timmy wallet invoice|pay` go through the configured backend: with LND, the invoice is LND's
// (payable from any node) and a payment leaves through LND; ledger-only commands stay offline.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lndPair, tempLndWallet, type LndPair, type TempLndWallet } from './support/test-lnd/pair.js';
import { emptyDir, runCli } from './support/cli.js';

describe('timmy wallet with the LND backend', () => {
  let pair: LndPair;
  let B: TempLndWallet;
  const dir = emptyDir('timmy-wallet-cli-');
  const cfg = join(dir, 'timmy.json');
  const env = { TIMMY_SECRET: 'wallet cli test secret, long enough' };

  before(async () => {
    pair = await lndPair();
    B = await tempLndWallet(pair.b);
    await B.wallet.fund('user:bob', 5_000_000, 'test funds');
    writeFileSync(cfg, JSON.stringify({ dataDir: join(dir, 'data'), wallet: { backend: 'lnd', lnd: { ...pair.a.connection(), timeoutMs: 3000 } } }));
  });
  after(async () => {
    await B?.cleanup();
    await pair?.close();
  });

  it('an invoice from the CLI is minted by LND and paid from another node; the ledger credits it', async () => {
    const r = await runCli(['wallet', 'invoice', '21', '--account', 'agent:poet', '--config', cfg], { env, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const bolt11 = /(lnbcrt\w+)/.exec(r.stdout)?.[1];
    assert.ok(bolt11, r.stdout);
    const decoded = await B.wallet.decode(bolt11);
    const A = await tempLndWallet(pair.a);
    const lndKey = A.wallet.lndPubkey;
    await A.cleanup();
    assert.equal(decoded.payee, lndKey, 'the payee is the LND node, not the built-in wallet key');
    const paid = await B.wallet.pay({ bolt11, fromAccount: 'user:bob' });
    assert.ok(paid.preimage);
    // The running CLI has exited: the next command that opens the backend picks up the settlement.
    const deadline = Date.now() + 15_000;
    let balance = '';
    while (Date.now() < deadline) {
      await runCli(['wallet', 'invoice', '1', '--account', 'agent:other', '--config', cfg], { env, timeoutMs: 30_000 });
      balance = (await runCli(['wallet', 'balance', 'agent:poet', '--config', cfg], { env })).stdout;
      if (/21(\.0+)? sat/.test(balance)) break;
    }
    assert.match(balance, /21(\.0+)? sat/);
  });
});
