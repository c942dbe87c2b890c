// `timmy wallet ...` as functions: the lines they return, and their usage errors.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WalletUsageError, runWalletCommand, walletDecode } from './cli-commands.js';
import { FundingDisabledError } from './errors.js';
import { tempWallet, type TempWallet } from './testing.js';

describe('wallet commands', () => {
  let t: TempWallet;
  beforeEach(() => {
    t = tempWallet();
  });
  afterEach(() => t.cleanup());
  const run = (...argv: string[]) => runWalletCommand(t.wallet, argv);

  it('fund, invoice, pay, balance: a demo payment', async () => {
    assert.deepEqual(await run('fund', 'user:alice', '100', '--note', 'demo'), ['funded user:alice with 100 sat; balance 100 sat']);
    const inv = await run('invoice', '21.5', '--account', 'agent:bob', '--description', 'a poem', '--expiry', '600');
    assert.match(inv[0]!, /^lnbcrt215n1/);
    assert.match(inv[1]!, /^payment hash [0-9a-f]{64}$/);
    assert.match(inv[2]!, /^21\.5 sat to agent:bob, expires /);
    const paid = await run('pay', inv[0]!, '--from', 'user:alice');
    assert.equal(paid[0], 'paid 21.5 sat from user:alice');
    assert.match(paid[2]!, /^preimage [0-9a-f]{64}$/);
    assert.equal(paid[3], 'balance of user:alice 78.5 sat');
    assert.equal((await run('pay', inv[0]!, '--from', 'user:alice'))[0], 'already paid 21.5 sat from user:alice');
    assert.deepEqual(await run('balance', 'agent:bob', '--data-dir', '/ignored'), ['agent:bob  21.5 sat']);
    assert.deepEqual(await run('balance'), ['agent:bob   21.5 sat', 'external    -100 sat', 'user:alice  78.5 sat', 'total       0 sat']);
    const d = await run('decode', inv[0]!);
    assert.equal(d[0], 'network regtest');
    assert.equal(d[1], 'amount 21.5 sat');
    assert.equal(d[4], 'description "a poem"');
  });

  it('usage errors name what is missing', async () => {
    await assert.rejects(run('pay', 'lnbcrt1x'), (e: Error) => e instanceof WalletUsageError && /--from/.test(e.message));
    await assert.rejects(run('invoice', '5'), (e: Error) => e instanceof WalletUsageError && /--account/.test(e.message));
    await assert.rejects(run('fund', 'user:a'), (e: Error) => e instanceof WalletUsageError && /<sats>/.test(e.message));
    await assert.rejects(run('frobnicate'), WalletUsageError);
    await assert.rejects(run('balance', '--bogus'), WalletUsageError);
    await assert.rejects(run('balance', 'a', 'b'), WalletUsageError);
    await assert.rejects(run('invoice', '5', '--account', 'user:a', '--expiry', 'soon'), WalletUsageError);
    assert.match((await run('--help'))[0]!, /^Usage: timmy wallet/);
    assert.deepEqual(await run('balance'), ['no accounts yet']);
  });

  it('fund is refused on mainnet', async () => {
    const m = tempWallet({ config: { network: 'mainnet' } });
    try {
      await assert.rejects(runWalletCommand(m.wallet, ['fund', 'user:a', '5']), FundingDisabledError);
    } finally {
      await m.cleanup();
    }
  });

  it('decode works on any invoice', () => {
    const lines = walletDecode(
      'lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpuaztrnwngzn3kdzw5hydlzf03qdgm2hdq27cqv3agm2awhz5se903vruatfhq77w3ls4evs3ch9zw97j25emudupq63nyw24cg27h2rspfj9srp',
    );
    assert.equal(lines[0], 'network mainnet');
    assert.equal(lines[1], 'amount 250000 sat');
    assert.equal(lines[4], 'description "1 cup coffee"');
  });
});
