// Logs of a whole job through a real `timmy start` process: every line is JSON with timestamp,
// level, module and event; the job's path is there with its id; and no secret is anywhere in them
// (the master secret, the instance's keys, nsecs, the dashboard session cookie).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex } from '@noble/hashes/utils.js';
import { Keystore } from '../agents/identity/keystore.js';
import { nsecEncode } from '../nostr/nip19.js';
import { finalizeEvent } from '../nostr/verify.js';
import { authorizationHeader, httpAuthTemplate } from '../nostr/nip98.js';
import { WsClient } from '../nostr/ws-client.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { emptyDir, runCli, startCli, type CliRelay } from './support/cli.js';
import { Keys, SAMPLE_TEXT, until } from './support/dvm.js';

const MASTER = 'correct horse battery staple ' + 'x'.repeat(20);

describe('logs of a job', () => {
  const dir = emptyDir('timmy-logs-');
  let cli: CliRelay;
  let web: string;
  const customer = new Keys();
  const env = { TIMMY_SECRET: MASTER, TIMMY_LOG_LEVEL: 'debug' };

  before(async () => {
    cli = await startCli(['start', '--port', '0', '--http-port', '0', '--data-dir', dir], { env, timeoutMs: 30_000 });
    web = await until('dashboard line', () => /dashboard on (\S+)/.exec(cli.out.stdout)?.[1]);
  });
  after(async () => {
    await cli?.stop();
  });

  it('a paid job leaves its path as JSON lines and no secret', async () => {
    // A dashboard session (its cookie must not reach the logs).
    const login = await fetch(`${web}/api/login`, { method: 'POST', headers: { authorization: authorizationHeader(finalizeEvent(httpAuthTemplate({ url: `${web}/api/login`, method: 'POST' }), customer.sk)) } });
    assert.equal(login.status, 200);
    const cookie = /timmy_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
    assert.equal((await fetch(`${web}/api/jobs`, { headers: { cookie: `timmy_session=${cookie}` } })).status, 200);

    const ws = new WsClient(cli.url);
    const replies: NostrEvent[] = [];
    const req = customer.sign({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text']] });
    ws.subscribe([{ '#e': [req.id] }], { onEvent: (e) => replies.push(e) });
    assert.ok((await ws.publish(req)).ok);
    const pay = await until('payment-required', () => replies.find((e) => e.tags.some((t) => t[0] === 'status' && t[1] === 'payment-required')));
    const bolt11 = pay.tags.find((t) => t[0] === 'amount')![2]!;
    const account = `customer:${customer.pk}`;
    assert.equal((await runCli(['wallet', 'fund', account, '100', '--data-dir', dir], { env })).code, 0);
    const paid = await runCli(['wallet', 'pay', bolt11, '--from', account, '--data-dir', dir], { env });
    assert.equal(paid.code, 0, paid.stderr);
    await until('result', () => replies.find((e) => e.kind === 6001), 30_000);
    await ws.close();
    await until('delivered logged', () => (cli.out.stderr.includes('"job.delivered"') ? true : undefined));
    await cli.stop();

    const lines = cli.out.stderr.split('\n').filter((l) => l.trim() !== '');
    assert.ok(lines.length > 10, `a job writes a path of log lines, got ${lines.length}`);
    const entries = lines.map((l) => {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
      assert.match(String(o.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, l);
      assert.ok(['debug', 'info', 'warn', 'error', 'fatal', 'trace'].includes(String(o.level)), l);
      assert.equal(typeof o.module, 'string', l);
      assert.equal(typeof o.event, 'string', l);
      return o as { module: string; event: string; context?: Record<string, unknown> };
    });
    const path = entries.filter((e) => e.module === 'job' && e.context?.job === req.id).map((e) => e.event);
    for (const step of ['job.received', 'job.awaiting-payment', 'job.bidding', 'job.assigned', 'job.executing', 'job.delivered']) assert.ok(path.includes(step), `${step} in ${path.join(', ')}`);
    assert.ok(entries.some((e) => e.module === 'web' && e.event === 'http.request' && typeof e.context?.requestId === 'string'));

    // No secret, in any form.
    const text = cli.out.stderr;
    const ks = Keystore.open({ dataDir: dir, masterSecret: MASTER });
    const secrets = [MASTER, cookie, bytesToHex(ks.secret('instance')), nsecEncode(ks.secret('instance')), bytesToHex(ks.secret('wallet-node')), nsecEncode(customer.sk), bytesToHex(customer.sk)];
    for (const s of secrets) assert.ok(!text.includes(s), `a secret leaked into the logs: ${s.slice(0, 8)}…`);
    assert.doesNotMatch(text, /nsec1[02-9ac-hj-np-z]{20,}/);
  });
});
