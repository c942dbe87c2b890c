// Voice as DVM jobs, end to end through the real relay, auction and wallet: a 5000 job with a
// `data:` audio input and one with an http URL (a local server) return transcripts, text/vtt has
// cues, `range` picks the part; a 5250 job returns a URL on the instance whose WAV decodes.
// The audio is synthesized here with flite (its 16 kHz "rms" voice, which PocketSphinx reads well;
// espeak-ng's formant voice it mostly does not); only a few robust words are asserted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav, encodeWav } from '../voice/wav.js';
import { onPath } from '../voice/proc.js';
import { POCKETSPHINX_MODEL_DIR } from '../voice/engines/pocketsphinx.js';
import type { Audio } from '../voice/engine.js';
import { Customer, FUNDS, checkBooks, startTestInstance, until, type TestInstance } from './support/dvm.js';

const missing = [
  ...['flite', 'espeak-ng', 'pocketsphinx_continuous'].filter((c) => !onPath(c)),
  ...(existsSync(POCKETSPHINX_MODEL_DIR) ? [] : ['pocketsphinx-en-us']),
];
const skip = missing.length > 0 ? `Debian tools missing: ${missing.join(', ')} (apt install flite espeak-ng pocketsphinx pocketsphinx-en-us)` : false;

const FOX = 'the quick brown fox jumped over the lazy dog';
const HELLO = 'hello world';

function flite(text: string, dir: string): Audio {
  const out = join(dir, `${text.length}-${Date.now()}.wav`);
  execFileSync('flite', ['-voice', 'rms', '-t', text, '-o', out]);
  return decodeWav(readFileSync(out));
}

const concat = (parts: Audio[], gapSec: number): Audio => {
  const rate = parts[0]!.sampleRate;
  const gap = Math.round(gapSec * rate);
  const out = new Float32Array(parts.reduce((n, p) => n + p.samples.length + gap, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.samples, at);
    at += p.samples.length + gap;
  }
  return { sampleRate: rate, samples: out };
};

describe('voice jobs through the DVM', { skip }, () => {
  let dir: string;
  let t: TestInstance;
  let c: Customer;
  let account: string;
  let files: Server;
  let filesUrl: string;
  let fox: Uint8Array;
  let both: Uint8Array;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'timmy-voice-dvm-'));
    const foxAudio = flite(FOX, dir);
    fox = encodeWav(foxAudio);
    both = encodeWav(concat([flite(HELLO, dir), foxAudio], 1.5));
    // The customer's audio on an ordinary web server.
    files = createServer((req, res) => {
      if (req.url === '/fox.wav') res.writeHead(200, { 'content-type': 'audio/wav' }).end(both);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    // PocketSphinx on a loaded 2-core machine: give the skill time.
    t = await startTestInstance({ dvm: { jobTimeoutSeconds: 120 } });
    c = new Customer(t.inst.relayUrl!);
    account = `customer:${c.pk.slice(0, 16)}`;
    await t.wallet.fund(account, FUNDS, 'test funds');
  });
  after(async () => {
    if (t) await checkBooks(t).finally(async () => {
      await c.close();
      await t.close();
    });
    files?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = async (tags: string[][], kind = 5000) => {
    const req = await c.request({ kind, tags });
    await c.pay(t.wallet, req.id, account);
    const result = await until(`result of ${kind}`, () => c.results(req.id)[0] ?? c.feedback(req.id, 'error')[0], 180_000);
    assert.equal(result.kind, kind + 1000, `an error instead of a result: ${result.tags.find((x) => x[0] === 'status')?.[2]}`);
    return result;
  };

  it('an agent serves 5000 and 5250 (an engine is available here)', () => {
    const echo = t.inst.services!.swarm.agents.find((a) => a.name === 'echo');
    assert.ok(echo, 'the echo agent runs');
    assert.ok(echo.skill(5000) && echo.skill(5250));
  });

  it('transcribes a data: audio URL to text/plain', async () => {
    const dataUrl = `data:audio/wav;base64,${Buffer.from(fox).toString('base64')}`;
    const r = await run([['i', dataUrl, 'url']]);
    for (const w of ['quick', 'brown', 'fox']) assert.match(r.content, new RegExp(`\\b${w}\\b`), r.content);
    assert.ok(!r.content.startsWith('WEBVTT'));
  });

  it('transcribes an http URL to text/vtt with cues at the right times', async () => {
    const r = await run([['i', `${filesUrl}/fox.wav`, 'url'], ['output', 'text/vtt'], ['param', 'alignment', 'segment']]);
    assert.match(r.content, /^WEBVTT\n\n/);
    const cues = [...r.content.matchAll(/(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n(.+)/g)];
    assert.ok(cues.length >= 1, r.content);
    const secs = (m: RegExpMatchArray, i: number) => Number(m[i]) * 3600 + Number(m[i + 1]) * 60 + Number(m[i + 2]) + Number(m[i + 3]) / 1000;
    for (const m of cues) assert.ok(secs(m, 1) < secs(m, 5), m[0]);
    const foxCue = cues.find((m) => /\bfox\b/.test(m[9]!));
    assert.ok(foxCue, r.content);
    // The fox sentence starts after "hello world" and the 1.5 s of silence.
    assert.ok(secs(foxCue, 5) > 1.5, foxCue[0]);
  });

  it('param range transcribes only that part, cue times in the whole file', async () => {
    const hello = decodeWav(both);
    const foxStart = (hello.samples.length - decodeWav(fox).samples.length) / hello.sampleRate;
    // From inside the silence before the fox sentence (PocketSphinx needs some silence to start with).
    const r = await run([['i', `${filesUrl}/fox.wav`, 'url'], ['output', 'text/vtt'], ['param', 'range', (foxStart - 1.2).toFixed(2), '60']]);
    assert.match(r.content, /\b(fox|lazy|dog)\b/, r.content);
    assert.doesNotMatch(r.content, /\bhello\b/, r.content);
    const first = /(\d\d):(\d\d):(\d\d)\.(\d{3}) -->/.exec(r.content)!;
    assert.ok(Number(first[3]) + Number(first[4]) / 1000 >= foxStart - 1.2, `cue times are in the whole file: ${first[0]}`);
  });

  it('speaks text (5250): the result is a URL on the instance whose WAV decodes', async () => {
    const r = await run([['i', 'Mic check, one, two.', 'text'], ['param', 'language', 'en']], 5250);
    const url = r.content.trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/voice\/audio\/[0-9a-f]{64}\.wav$/);
    assert.deepEqual(r.tags.find((x) => x[0] === 'm'), ['m', 'audio/wav']);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'audio/wav');
    assert.match(res.headers.get('cache-control') ?? '', /immutable/);
    const audio = decodeWav(new Uint8Array(await res.arrayBuffer()));
    const seconds = audio.samples.length / audio.sampleRate;
    assert.ok(seconds > 0.5 && seconds < 10, `${seconds} s`);
    assert.ok(audio.samples.some((s) => Math.abs(s) > 0.05), 'not silence');
    // Only content names are served.
    const base = url.slice(0, url.indexOf('/voice/audio/'));
    for (const p of ['/voice/audio/' + '0'.repeat(64) + '.wav', '/voice/audio/..%2F..%2Fdvm.sqlite', '/voice/audio/../dvm.sqlite', '/voice/audio/']) {
      const bad = await fetch(base + p);
      assert.equal(bad.status, 404, p);
    }
  });
});
