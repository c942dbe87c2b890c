// `timmy status` against a running `timmy start`, and against nothing; /healthz and /readyz.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyDir, runCli, startCli, type CliRelay } from './support/cli.js';
import { closedPort, until } from './support/dvm.js';

describe('health and timmy status', () => {
  let cli: CliRelay;
  let port: number;
  const dir = emptyDir('timmy-status-');

  before(async () => {
    port = await closedPort();
    cli = await startCli(['start', '--port', '0', '--http-port', String(port), '--data-dir', dir], { timeoutMs: 30_000 });
    await until('dashboard', () => (cli.out.stdout.includes('dashboard on') ? true : undefined));
  });
  after(async () => {
    await cli?.stop();
  });

  it('/healthz and /readyz answer JSON; readyz lists its checks', async () => {
    const live = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(live.status, 200);
    assert.equal(((await live.json()) as { ok: boolean }).ok, true);
    const ready = await until('agents heartbeating', async () => {
      const r = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { ok: boolean; checks: { name: string; ok: boolean }[] };
      return r.ok ? r : undefined;
    });
    assert.deepEqual(ready.checks.map((c) => c.name), ['relay', 'wallet', 'agents']);
  });

  it('timmy status prints the checks and exits 0 when ready', async () => {
    const r = await runCli(['status', '--http-port', String(port)], { timeoutMs: 15_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ready: http:\/\/127\.0\.0\.1:\d+/m);
    assert.match(r.stdout, /ok {3}relay {4}writer answers/);
    assert.match(r.stdout, /ok {3}agents/);
  });

  it('timmy status says "not running" with exit 1 when nothing answers', async () => {
    const r = await runCli(['status', '--http-port', String(await closedPort())], { timeoutMs: 15_000 });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^not running: nothing answers at/);
  });
});
