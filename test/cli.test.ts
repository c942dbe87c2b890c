// The `timmy` command line, run as a child process (node bin/timmy.js) against the build in dist/.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Keys, RawClient, startTestRelay, allEvents } from './support/relay.js';
import { LISTENING, emptyDir, runCli, startCli, type CliRelay } from './support/cli.js';
import type { NostrEvent } from '../nostr/nip01.js';

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

function assertOneLineError(r: { code: number | null; stdout: string; stderr: string }, re: RegExp): void {
  assert.notEqual(r.code, 0, `exit code; stderr: ${r.stderr}`);
  assert.ok(r.code !== null, 'exited by itself');
  assert.equal(r.stdout, '');
  assert.equal(lines(r.stderr).length, 1, `one line on stderr, got: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, re);
}


const ids = (events: NostrEvent[]): string[] => events.map((e) => e.id).sort();

/** Runs a relay (the CLI, in `cwd`), calls `body` with it, and stops it with SIGTERM (exit 0). */
async function withCliRelay<T>(args: string[], o: Parameters<typeof startCli>[1], body: (r: CliRelay) => Promise<T>): Promise<T> {
  const r = await startCli(args, o);
  try {
    return await body(r);
  } finally {
    const exit = await r.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, r.out.stderr);
  }
}

describe('timmy --help', () => {
  const cases: [string[], RegExp][] = [
    [['--help'], /^Usage: timmy <command>/m],
    [['-h'], /^Usage: timmy <command>/m],
    [[], /^Usage: timmy <command>/m],
    [['help'], /^Usage: timmy <command>/m],
    [['start', '--help'], /^Usage: timmy start/m],
    [['relay', '--help'], /^Usage: timmy relay \[options\]/m],
    [['relay', 'export', '--help'], /^Usage: timmy relay export/m],
    [['relay', 'import', '--help'], /^Usage: timmy relay import/m],
    [['help', 'relay', 'import'], /^Usage: timmy relay import/m],
  ];
  for (const [args, re] of cases) {
    it(`timmy ${args.join(' ')} exits 0 and prints usage`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, re);
      assert.match(r.stdout, /--help|Commands:/);
      assert.equal(r.stderr, '');
    });
  }

  it('the main help names every command', async () => {
    const r = await runCli(['--help']);
    for (const cmd of ['start', 'relay', 'relay export', 'relay import']) assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\s`, 'm'));
  });
});

describe('timmy usage errors', () => {
  it('an unknown command: one line on stderr, non-zero exit', async () => {
    assertOneLineError(await runCli(['frobnicate']), /^timmy: unknown command "frobnicate"/);
    assertOneLineError(await runCli(['relay', 'frobnicate']), /unknown command "relay frobnicate"/);
    assertOneLineError(await runCli(['start', 'now']), /unknown command "start now"/);
  });

  it('an unknown flag: one line on stderr, non-zero exit', async () => {
    assertOneLineError(await runCli(['relay', '--bogus']), /^timmy: .*--bogus/);
    assertOneLineError(await runCli(['--nope']), /--nope/);
  });

  it('a bad flag value: one line on stderr, non-zero exit', async () => {
    assertOneLineError(await runCli(['relay', '--port', 'x']), /--port/);
    assertOneLineError(await runCli(['relay', '--port', '70000']), /port/);
  });

  it('a bad config file key stops the start with a message naming the key', async () => {
    const cwd = emptyDir();
    try {
      writeFileSync(join(cwd, 'timmy.config.json'), JSON.stringify({ relay: { maxLimitt: 5 } }));
      const r = await runCli(['relay', '--port', '0', '--data-dir', join(cwd, 'data')], { cwd });
      assertOneLineError(r, /relay\.maxLimitt/);
      assert.match(r.stderr, /timmy\.config\.json/);
      // The same file named with --config from elsewhere.
      const r2 = await runCli(['start', '--port', '0', '--config', join(cwd, 'timmy.config.json')]);
      assertOneLineError(r2, /relay\.maxLimitt/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('a bad config file value stops the start with a message naming the key', async () => {
    const cwd = emptyDir();
    try {
      writeFileSync(join(cwd, 'timmy.config.json'), JSON.stringify({ port: 'x' }));
      assertOneLineError(await runCli(['relay', '--data-dir', join(cwd, 'data')], { cwd }), /\bport\b/);
      writeFileSync(join(cwd, 'timmy.config.json'), JSON.stringify({ relay: { maxLimit: -1 } }));
      assertOneLineError(await runCli(['relay', '--port', '0', '--data-dir', join(cwd, 'data')], { cwd }), /relay\.maxLimit\b/);
      writeFileSync(join(cwd, 'timmy.config.json'), '{ not json');
      assertOneLineError(await runCli(['relay', '--port', '0', '--data-dir', join(cwd, 'data')], { cwd }), /not valid JSON/);
      assertOneLineError(await runCli(['relay', '--port', '0', '--config', join(cwd, 'missing.json')]), /config file not found/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('a port in use: one line on stderr, non-zero exit', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = emptyDir();
    try {
      const r = await runCli(['relay', '--port', String(port), '--data-dir', dataDir]);
      assertOneLineError(r, /address already in use/);
      assert.match(r.stderr, new RegExp(`:${port}\\b`));
    } finally {
      await new Promise((r) => blocker.close(r));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('timmy relay / start', () => {
  it('--port 0 prints exactly one line, "relay listening on ws://127.0.0.1:<port>", and serves there', async () => {
    const dataDir = emptyDir();
    try {
      let stdout = '';
      await withCliRelay(['relay', '--port', '0', '--data-dir', dataDir], {}, async (r) => {
        const e = new Keys().sign({ kind: 1, content: 'via the CLI relay' });
        const c = await RawClient.connect(r.url);
        assert.deepEqual(await c.publish(e), { ok: true, message: '' });
        c.close();
        stdout = r.out.stdout;
        await new Promise((res) => setTimeout(res, 100));
      });
      assert.equal(lines(stdout).length, 1, JSON.stringify(stdout));
      assert.match(lines(stdout)[0]!, LISTENING);
      assert.ok(existsSync(join(dataDir, 'relay.sqlite')));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('honours TIMMY_DATA_DIR (and --data-dir wins over it)', async () => {
    const cwd = emptyDir();
    const envDir = join(cwd, 'from-env');
    const flagDir = join(cwd, 'from-flag');
    try {
      const e = new Keys().sign({ kind: 1, content: 'in the env data dir' });
      await withCliRelay(['relay', '--port', '0'], { cwd, env: { TIMMY_DATA_DIR: envDir } }, async (r) => {
        const c = await RawClient.connect(r.url);
        assert.equal((await c.publish(e)).ok, true);
        c.close();
      });
      assert.ok(existsSync(join(envDir, 'relay.sqlite')), 'the database is in TIMMY_DATA_DIR');
      assert.ok(!existsSync(join(cwd, 'data')), 'not in ./data');
      await withCliRelay(['relay', '--port', '0'], { cwd, env: { TIMMY_DATA_DIR: envDir } }, async (r) => {
        assert.deepEqual(ids(await allEvents(r.url)), [e.id]);
      });
      await withCliRelay(['relay', '--port', '0', '--data-dir', flagDir], { cwd, env: { TIMMY_DATA_DIR: envDir } }, async (r) => {
        assert.deepEqual(await allEvents(r.url), []);
      });
      assert.ok(existsSync(join(flagDir, 'relay.sqlite')));
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('timmy start starts the relay and stops cleanly on SIGTERM', async () => {
    const dataDir = emptyDir();
    try {
      await withCliRelay(['start', '--port', '0', '--http-port', '0', '--data-dir', dataDir], {}, async (r) => {
        // One line per listener: the relay, then the HTTP server (agents and the DVM start with them).
        for (let i = 0; i < 100 && lines(r.out.stdout).length < 2; i++) await new Promise((w) => setTimeout(w, 50));
        const out = lines(r.out.stdout);
        assert.equal(out.length, 2, r.out.stdout);
        assert.match(out[1] ?? '', /^dashboard on http:\/\/127\.0\.0\.1:\d+$/);
        const e = new Keys().sign({ kind: 1, content: 'timmy start' });
        const c = await RawClient.connect(r.url);
        assert.deepEqual(await c.publish(e), { ok: true, message: '' });
        assert.deepEqual((await c.req('x', { ids: [e.id] })).events, [e]);
        c.close();
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('timmy relay export / import', () => {
  it('round-trips every stored event: export A > file, import B < file, B serves the same events', async () => {
    const work = emptyDir();
    const dirA = join(work, 'A');
    const dirB = join(work, 'B');
    const file = join(work, 'events.jsonl');
    try {
      const alice = new Keys();
      const bob = new Keys();
      const t = Math.floor(Date.now() / 1000) - 1000;
      const a = await startTestRelay({}, { dataDir: dirA });
      const c = await RawClient.connect(a.url);
      const evs: NostrEvent[] = [];
      for (let i = 0; i < 60; i++) evs.push((i % 2 ? alice : bob).sign({ kind: 1, content: `export ${i} "quoted" \u2028 🎉`, created_at: t + i, tags: [['t', 'x']] }));
      evs.push(alice.sign({ kind: 0, content: '{"name":"old"}', created_at: t }));
      evs.push(alice.sign({ kind: 0, content: '{"name":"new"}', created_at: t + 1 }));
      evs.push(alice.sign({ kind: 30023, content: 'post', tags: [['d', 'p']], created_at: t }));
      evs.push(alice.sign({ kind: 5, content: '', tags: [['e', evs[1]!.id]], created_at: t + 100 }));
      for (const e of evs) assert.equal((await c.publish(e)).ok, true, e.content);
      c.close();
      const servedA = await allEvents(a.url);
      assert.equal(servedA.length, evs.length - 2, 'less the replaced profile and the deleted note');
      await a.stop(true);

      const out = openSync(file, 'w');
      const exp = await runCli(['relay', 'export', '--data-dir', dirA], { stdout: out });
      closeSync(out);
      assert.equal(exp.code, 0, exp.stderr);
      assert.match(exp.stderr, new RegExp(`exported ${servedA.length} events`));
      const exported = lines(readFileSync(file, 'utf8'));
      assert.equal(exported.length, servedA.length);
      assert.deepEqual(exported.map((l) => (JSON.parse(l) as NostrEvent).id).sort(), ids(servedA));

      const inp = openSync(file, 'r');
      const imp = await runCli(['relay', 'import', '--data-dir', dirB], { stdin: inp });
      closeSync(inp);
      assert.equal(imp.code, 0, imp.stderr);
      assert.match(imp.stderr, new RegExp(`imported: read ${servedA.length}, stored ${servedA.length}, duplicate 0, rejected 0`));

      // Importing the same file again stores nothing new.
      const again = await runCli(['relay', 'import', '--data-dir', dirB, '--in', file]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, new RegExp(`imported: read ${servedA.length}, stored 0, duplicate ${servedA.length}, rejected 0`));

      await withCliRelay(['relay', '--port', '0', '--data-dir', dirB], {}, async (r) => {
        const servedB = await allEvents(r.url);
        assert.deepEqual(servedB, servedA, 'the same events, in the same order, byte for byte');
        // The deletion record came along: the deleted note is refused by B.
        const c2 = await RawClient.connect(r.url);
        const res = await c2.publish(evs[1]!);
        assert.equal(res.ok, false);
        c2.close();
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('import counts a line with a bad signature (or bad JSON) as rejected and stores the others', async () => {
    const work = emptyDir();
    const dir = join(work, 'data');
    const file = join(work, 'events.jsonl');
    try {
      const alice = new Keys();
      const good = Array.from({ length: 10 }, (_, i) => alice.sign({ kind: 1, content: `good ${i}` }));
      const bad = alice.sign({ kind: 1, content: 'forged' });
      const forged = { ...bad, sig: bad.sig.slice(0, -2) + (bad.sig.endsWith('00') ? '11' : '00') };
      const text = [...good.slice(0, 5).map((e) => JSON.stringify(e)), JSON.stringify(forged), '', '{"not": "an event"}', ...good.slice(5).map((e) => JSON.stringify(e))].join('\n') + '\n';
      writeFileSync(file, text);
      const inp = openSync(file, 'r');
      const imp = await runCli(['relay', 'import', '--data-dir', dir], { stdin: inp });
      closeSync(inp);
      assert.equal(imp.code, 0, imp.stderr);
      assert.match(imp.stderr, /imported: read 12, stored 10, duplicate 0, rejected 2/);
      assert.match(imp.stderr, /^line 6: .*signature/m);
      assert.match(imp.stderr, /^line 8: /m, 'line numbers count blank lines too');
      await withCliRelay(['relay', '--port', '0', '--data-dir', dir], {}, async (r) => {
        const served = await allEvents(r.url);
        assert.deepEqual(ids(served), ids(good));
      });

      // A file of nothing but bad lines is a failure.
      writeFileSync(file, JSON.stringify(forged) + '\n');
      const inp2 = openSync(file, 'r');
      const imp2 = await runCli(['relay', 'import', '--data-dir', join(work, 'other')], { stdin: inp2 });
      closeSync(inp2);
      assert.notEqual(imp2.code, 0);
      assert.match(imp2.stderr, /rejected 1/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
