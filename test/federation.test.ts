// Two instances on one machine meet through a shared relay: each announces itself (kind 31280),
// finds the other in its peer directory with the agents that vouch for it (dashboard /api/peers,
// `timmy peers`), and drops it when it stops. `timmy relay sync` copies what a relay holds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestInstance, until } from './support/dvm.js';
import { startTestRelay, Keys, RawClient, now } from './support/relay.js';
import { emptyDir, runCli } from './support/cli.js';

describe('federation between instances', { timeout: 180_000 }, () => {
  it('two instances find each other through a shared relay and drop a peer that stops', async () => {
    const shared = await startTestRelay();
    const a = await startTestInstance({ relays: [shared.url], federation: { name: 'alpha' } });
    const b = await startTestInstance({ relays: [shared.url], federation: { name: 'beta' } });
    try {
      const bPubkey = b.inst.services!.coordinatorPubkey;
      const seen = await until('A knows B', () => a.inst.services!.federation!.directory.get(bPubkey), 30_000);
      assert.equal(seen.announcement.name, 'beta');
      const bAgents = b.inst.services!.swarm.agents.map((x) => x.pubkey).sort();
      assert.deepEqual(seen.agents.map((x) => x.pubkey).sort(), bAgents, 'every agent of B vouches for B');
      assert.ok(seen.announcement.kinds.includes(5001));
      const aPubkey = a.inst.services!.coordinatorPubkey;
      await until('B knows A', () => b.inst.services!.federation!.directory.get(aPubkey), 30_000);

      // The dashboard API of A, and the CLI reading the shared relay.
      const web = /dashboard on (\S+)/.exec(a.inst.listeners.join('\n'))![1]!;
      const res = await fetch(`${web}/api/peers`);
      const body = (await res.json()) as { peers: { name: string; kinds: number[] }[] };
      assert.ok(body.peers.some((p) => p.name === 'beta' && p.kinds.includes(5001)), JSON.stringify(body));
      const page = await (await fetch(`${web}/peers`)).text();
      assert.match(page, /beta/);
      const cli = await runCli(['peers', '--relay', shared.url, '--json']);
      assert.equal(cli.code, 0, cli.stderr);
      const names = (JSON.parse(cli.stdout) as { name: string }[]).map((p) => p.name).sort();
      assert.deepEqual(names, ['alpha', 'beta']);

      // B stops cleanly: its announcement is withdrawn and A drops it.
      await b.close();
      await until('A dropped B', () => (a.inst.services!.federation!.directory.get(bPubkey) ? undefined : true), 30_000);

      // The shared relay goes down, then A stops: its goodbyes (offline beats, the withdrawal) wait
      // for the dead relay only briefly, not the whole publish timeout of each (that was 70 s).
      await shared.stop();
      const t0 = Date.now();
      await a.close();
      assert.ok(Date.now() - t0 < 8000, `A took ${Date.now() - t0} ms to stop`);
    } finally {
      await b.close();
      await a.close();
      await shared.stop();
    }
  });

  it('timmy relay sync fetches what another relay holds, and refuses bad arguments in one line', async () => {
    const other = await startTestRelay();
    const dir = emptyDir();
    try {
      const k = new Keys();
      const c = await RawClient.connect(other.url);
      for (let i = 0; i < 40; i++) await c.publish(k.sign({ kind: 1, content: `note ${i}`, created_at: now() - 100 + i }));
      c.close();
      const r = await runCli(['relay', 'sync', other.url, '--data-dir', dir, '--filter', '{"kinds":[1]}', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const rep = JSON.parse(r.stdout) as { need: number; downloaded: number };
      assert.equal(rep.need, 40);
      assert.equal(rep.downloaded, 40);
      const again = await runCli(['relay', 'sync', other.url, '--data-dir', dir, '--filter', '{"kinds":[1]}']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /we lack 0, they lack 0/);
      const bad = await runCli(['relay', 'sync', 'http://nope', '--data-dir', dir]);
      assert.notEqual(bad.code, 0);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      const badFilter = await runCli(['relay', 'sync', other.url, '--data-dir', dir, '--filter', '{"kinds":"x"}']);
      assert.notEqual(badFilter.code, 0);
      assert.match(badFilter.stderr, /--filter/);
    } finally {
      await other.stop();
    }
  });
});
