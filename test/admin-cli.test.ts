// Operator commands from another process beside a running instance: `timmy wallet` pays an
// invoice the DVM is waiting for, `timmy job approve` lets a held job go on, and `timmy job
// list|show|replay` show what happened.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { configSchema } from '../main/config.js';
import { startInstance, type Instance } from '../main/instance.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { Keys, RawClient, until } from './support/relay.js';
import { emptyDir, runCli } from './support/cli.js';

const TEXT = 'Relays store events. Clients sign events. Agents sell work for sats. Payments use Lightning. Results are events too.';


describe('timmy wallet / job beside a running instance', () => {
  let dir: string;
  let inst: Instance;
  let c: RawClient;
  const customer = new Keys();
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dir], { env: { TIMMY_DATA_DIR: dir } });

  before(async () => {
    dir = emptyDir('timmy-admin-');
    inst = await startInstance(configSchema.parse({ port: 0, httpPort: 0, dataDir: dir, dvm: { approvalKinds: [5001] } }));
    c = await RawClient.connect(inst.relayUrl!);
  });
  after(async () => {
    c.close();
    await inst.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a job for approval, lets `job approve` release it, and takes payment made by `wallet pay`', async () => {
    const req = customer.sign({ kind: 5001, tags: [['i', TEXT, 'text']] });
    c.send(['REQ', 'fb', { kinds: [7000, 6001], '#e': [req.id] }]);
    assert.equal((await c.publish(req)).ok, true);
    const events = (): NostrEvent[] => c.messages.filter((m) => m[0] === 'EVENT' && m[1] === 'fb').map((m) => m[2] as NostrEvent);
    const status = (s: string) => events().find((e) => e.kind === 7000 && e.tags.some((t) => t[0] === 'status' && t[1] === s));

    await until('waiting for approval', () => status('processing'));
    const held = await cli('job', 'show', req.id);
    assert.equal(held.code, 0, held.stderr);
    assert.match(held.stdout, /state awaiting-approval/);

    const approved = await cli('job', 'approve', req.id);
    assert.equal(approved.code, 0, approved.stderr);
    const pay = await until('payment-required', () => status('payment-required'));
    const bolt11 = pay.tags.find((t) => t[0] === 'amount')?.[2];
    assert.ok(bolt11);

    assert.equal((await cli('wallet', 'fund', 'customer:cli', '50')).code, 0);
    const paid = await cli('wallet', 'pay', bolt11, '--from', 'customer:cli');
    assert.equal(paid.code, 0, paid.stderr);
    const result = await until('result', () => events().find((e) => e.kind === 6001), 20_000);
    assert.ok(result.content.length > 0);

    const list = await cli('job', 'list');
    assert.match(list.stdout, new RegExp(`${req.id}\\s+kind 5001\\s+(delivered|executing)`));
    const replay = await cli('job', 'replay', req.id);
    assert.equal(replay.code, 0, replay.stderr);
    for (const step of ['request kind 5001', 'awaiting-approval', 'approved by the operator', 'payment-required', 'auction open', 'bid commitment', 'bid reveal', 'auction result', 'result kind 6001'])
      assert.ok(replay.stdout.includes(step), `replay shows ${step}:\n${replay.stdout}`);
  });

  it('answers bad operator input with one line and a non-zero exit', async () => {
    const r = await cli('job', 'approve', 'f'.repeat(64));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.trim(), /^timmy: no job f+$/);
    const w = await cli('wallet', 'pay', 'lnbcrt1nonsense', '--from', 'customer:cli');
    assert.notEqual(w.code, 0);
    assert.equal(w.stderr.trim().split('\n').length, 1, w.stderr);
  });
});
