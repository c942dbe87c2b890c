// voice.maxUploadBytes bounds the audio a 5000 job may fetch: a larger body is refused while it
// downloads (error feedback naming the limit), the customer is refunded, nothing crashes.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { Customer, FUNDS, checkBooks, startTestInstance, statusText, until } from './support/dvm.js';

it('a 5000 job whose audio is larger than voice.maxUploadBytes fails with the limit in its error', { timeout: 120_000 }, async (t) => {
  if (!existsSync('/usr/bin/pocketsphinx_continuous')) return t.skip('pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)');
  const limit = 3_000_000;
  const big = Buffer.alloc(limit + 500_000, 1);
  const files = createServer((_req, res) => res.writeHead(200, { 'content-type': 'audio/wav' }).end(big));
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}/big.wav`;
  const inst = await startTestInstance({ voice: { maxUploadBytes: limit } });
  const c = new Customer(inst.inst.relayUrl!);
  try {
    const account = `customer:${c.pk.slice(0, 16)}`;
    await inst.wallet.fund(account, FUNDS, 'test funds');
    const req = await c.request({ kind: 5000, tags: [['i', url, 'url']] });
    await c.pay(inst.wallet, req.id, account);
    const err = await until('error feedback', () => c.feedback(req.id, 'error')[0], 60_000);
    assert.match(statusText(err), new RegExp(`larger than ${limit} bytes`));
    assert.equal(c.results(req.id).length, 0);
    await checkBooks(inst);
  } finally {
    await c.close();
    await inst.close();
    files.close();
  }
});
