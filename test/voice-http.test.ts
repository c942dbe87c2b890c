// The voice endpoints end to end: a started instance (real relay, agents, web server, the Debian
// engines and the Silero VAD), real HTTP and a real websocket. Writes need a user (NIP-98 or a
// login cookie); unreadable audio is a 415; without an engine every endpoint answers 503 JSON.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { finalizeEvent } from '../nostr/verify.js';
import { authorizationHeader, httpAuthTemplate } from '../nostr/nip98.js';
import { FliteEngine } from '../voice/engines/flite.js';
import { PocketSphinxEngine } from '../voice/engines/pocketsphinx.js';
import { onPath } from '../voice/proc.js';
import { selectEngines } from '../voice/select.js';
import { VoiceService } from '../voice/service.js';
import { join, silence } from '../voice/testing.js';
import type { Audio } from '../voice/engine.js';
import { decodeWav, encodeWav } from '../voice/wav.js';
import { webConfigSchema } from '../web/config.js';
import { startWebServer, type WebServer } from '../web/server.js';
import { Keys, startTestInstance, type TestInstance } from './support/dvm.js';

const have = ['pocketsphinx_continuous', 'espeak-ng', 'flite', 'ffmpeg'].every((t) => onPath(t) !== undefined);

let n = 0;
/** A fresh NIP-98 header for this URL and method (NIP-98 has no nonce: an extra tag keeps each event distinct). */
const nip98 = (url: string, method: string, k: Keys, body?: string) => {
  const t = httpAuthTemplate({ url, method, ...(body !== undefined ? { body } : {}) });
  return authorizationHeader(finalizeEvent({ ...t, tags: [...t.tags, ['nonce', String(++n)]] }, k.sk));
};

async function errorOf(r: Response): Promise<string> {
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  const b = (await r.json()) as { error?: unknown };
  assert.equal(typeof b.error, 'string', 'a JSON error');
  return b.error as string;
}

/** Opens a websocket; resolves with it, or rejects with the HTTP status of a refused upgrade. */
function openWs(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

const pcm16 = (a: Audio): Buffer => {
  const b = Buffer.alloc(a.samples.length * 2);
  a.samples.forEach((x, i) => b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, x)) * 32767), i * 2));
  return b;
};

describe('voice endpoints on a running instance', { skip: have ? false : 'needs pocketsphinx, espeak-ng, flite and ffmpeg (apt)' }, () => {
  let t: TestInstance;
  let url: string;
  const alice = new Keys();
  let speech: Audio;
  let speech2: Audio;

  before(async () => {
    t = await startTestInstance({});
    url = /dashboard on (\S+)/.exec(t.inst.listeners.join('\n'))![1]!;
    speech = await new FliteEngine().synthesize('turn on the lights in the kitchen');
    speech2 = await new FliteEngine().synthesize('what time is it now');
  });
  after(async () => t?.close());

  it('GET /voice/info is public and names the engines', async () => {
    const r = await fetch(`${url}/voice/info`);
    assert.equal(r.status, 200);
    const info = (await r.json()) as { available: boolean; stt: { engine: string }; tts: { engine: string }; vad: { available: boolean } };
    assert.equal(info.available, true);
    assert.equal(info.stt.engine, 'pocketsphinx');
    assert.equal(info.tts.engine, 'system');
    assert.equal(info.vad.available, true);
  });

  it('POST /voice/transcribe: 401 without a user, the transcript for WAV and for WebM/Opus, 415 for garbage', { timeout: 120_000 }, async () => {
    const wav = encodeWav(join([silence(0.5), speech, silence(0.5)], 48000));
    const anon = await fetch(`${url}/voice/transcribe`, { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: wav });
    assert.equal(anon.status, 401);
    await errorOf(anon);

    const r = await fetch(`${url}/voice/transcribe`, { method: 'POST', headers: { 'content-type': 'audio/wav', authorization: nip98(`${url}/voice/transcribe`, 'POST', alice) }, body: wav });
    assert.equal(r.status, 200, await r.clone().text());
    const body = (await r.json()) as { text: string; segments: { start: number; end: number; text: string }[]; engine: string; language: string };
    assert.match(body.text, /lights in the kitchen/);
    assert.equal(body.engine, 'pocketsphinx');
    assert.equal(body.language, 'en');
    assert.ok(body.segments.length >= 1 && body.segments[0]!.start >= 0.2, JSON.stringify(body.segments));

    // What a browser's MediaRecorder sends: WebM with Opus, made here by ffmpeg from the WAV.
    const webm = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-c:a', 'libopus', '-f', 'webm', 'pipe:1'], { input: wav, maxBuffer: 16 << 20 }).stdout;
    const w = await fetch(`${url}/voice/transcribe`, { method: 'POST', headers: { 'content-type': 'audio/webm;codecs=opus', authorization: nip98(`${url}/voice/transcribe`, 'POST', alice) }, body: webm });
    assert.equal(w.status, 200, await w.clone().text());
    assert.match(((await w.json()) as { text: string }).text, /kitchen/);

    const garbage = await fetch(`${url}/voice/transcribe`, { method: 'POST', headers: { 'content-type': 'audio/webm', authorization: nip98(`${url}/voice/transcribe`, 'POST', alice) }, body: 'this is not audio at all, just text '.repeat(20) });
    assert.equal(garbage.status, 415);
    assert.match(await errorOf(garbage), /cannot read/);

    const empty = await fetch(`${url}/voice/transcribe`, { method: 'POST', headers: { 'content-type': 'audio/wav', authorization: nip98(`${url}/voice/transcribe`, 'POST', alice) } });
    assert.equal(empty.status, 400);
    await errorOf(empty);
  });

  it('limits each user to two recognitions at once (429 beyond)', { timeout: 120_000 }, async () => {
    const carol = new Keys();
    const wav = encodeWav(join([speech, silence(0.3), speech2, silence(0.3), speech], 16000));
    const send = () => fetch(`${url}/voice/transcribe`, { method: 'POST', headers: { 'content-type': 'audio/wav', authorization: nip98(`${url}/voice/transcribe`, 'POST', carol) }, body: wav });
    const statuses = (await Promise.all([send(), send(), send(), send()])).map((r) => r.status).sort();
    assert.ok(statuses.includes(429) && statuses.includes(200), statuses.join(','));
  });

  it('POST /voice/speak: WAV for JSON text, 400 for bad input, 401 without a user', async () => {
    const body = JSON.stringify({ text: 'Hello from Timmy.' });
    const r = await fetch(`${url}/voice/speak`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: nip98(`${url}/voice/speak`, 'POST', alice, body) }, body });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(r.headers.get('content-type'), 'audio/wav');
    const a = decodeWav(new Uint8Array(await r.arrayBuffer()));
    assert.ok(a.samples.length / a.sampleRate > 0.5);
    for (const bad of ['{not json', '{"text": 5}', JSON.stringify({ text: '' }), JSON.stringify({ text: 'x', language: 'xx-nowhere' })]) {
      const b = await fetch(`${url}/voice/speak`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: nip98(`${url}/voice/speak`, 'POST', alice, bad) }, body: bad });
      assert.ok([400, 422].includes(b.status), `${bad}: ${b.status}`);
      await errorOf(b);
    }
    assert.equal((await fetch(`${url}/voice/speak`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status, 401);
  });

  it('WS /voice/stream: refused without a user; with a login cookie, 48 kHz PCM in, a partial and a final out', { timeout: 120_000 }, async () => {
    const wsUrl = `${url.replace(/^http/, 'ws')}/voice/stream`;
    await assert.rejects(openWs(wsUrl), (e: { status?: number }) => e.status === 401);
    await assert.rejects(openWs(`${url.replace(/^http/, 'ws')}/elsewhere`), (e: { status?: number }) => e.status === 404);
    // The browser's way: a session cookie from a NIP-98 login.
    const login = await fetch(`${url}/api/login`, { method: 'POST', headers: { authorization: nip98(`${url}/api/login`, 'POST', alice) } });
    assert.equal(login.status, 200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    await assert.rejects(openWs(wsUrl, { cookie, origin: 'http://evil.example' }), (e: { status?: number }) => e.status === 403);
    const ws = await openWs(wsUrl, { cookie, origin: url });
    const messages: { type: string; text?: string; segment?: { start: number; end: number } }[] = [];
    const done = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as (typeof messages)[number]));
    ws.send(JSON.stringify({ type: 'start', sampleRate: 48000, encoding: 's16le' }));
    const pcm = pcm16(join([silence(1), speech, silence(1.5), speech2, silence(1)], 48000));
    for (let i = 0; i < pcm.length; i += 19200) ws.send(pcm.subarray(i, i + 19200)); // 200 ms frames
    ws.send(JSON.stringify({ type: 'stop' }));
    await done;
    const partials = messages.filter((m) => m.type === 'partial');
    const final = messages.find((m) => m.type === 'final');
    assert.ok(partials.length >= 1, JSON.stringify(messages));
    assert.ok(partials[0]!.segment!.start >= 0.5 && partials[0]!.segment!.end > partials[0]!.segment!.start, JSON.stringify(partials));
    assert.match(final?.text ?? '', /kitchen.*time is it/, JSON.stringify(messages));

    // NIP-98 works too (the u tag is the http URL, as for every other endpoint); a bad first frame is an error message.
    const ws2 = await openWs(wsUrl, { authorization: nip98(`${url}/voice/stream`, 'GET', alice) });
    const got = new Promise<string>((resolve) => ws2.once('message', (d) => resolve(d.toString())));
    ws2.send('not json');
    assert.match(await got, /"type":"error"/);
    ws2.close();
  });
});

describe('voice endpoints without an engine', () => {
  let web: WebServer;
  let off: WebServer;
  const bob = new Keys();
  before(async () => {
    const base = { host: '127.0.0.1', port: 0, config: webConfigSchema.parse({}), names: () => ({}), relays: () => [] };
    // Engines forced absent: a PocketSphinx that is not installed, no TTS, no VAD.
    const svc = new VoiceService(await selectEngines({ systemStt: [new PocketSphinxEngine({ binary: 'no-such-pocketsphinx' })], systemTts: [], vad: false }));
    web = await startWebServer({ ...base, voice: svc });
    off = await startWebServer({ ...base, voiceOff: 'voice.enabled is false in the config' });
  });
  after(async () => {
    await web?.close();
    await off?.close();
  });

  it('answers 503 with a JSON reason on every endpoint, and /voice/info says why', async () => {
    for (const s of [web, off]) {
      const info = (await (await fetch(`${s.url}/voice/info`)).json()) as { available: boolean; reason: string };
      assert.equal(info.available, false);
      assert.match(info.reason, s === web ? /no-such-pocketsphinx not found/ : /voice.enabled is false/);
      const tr = await fetch(`${s.url}/voice/transcribe`, { method: 'POST', headers: { 'content-type': 'audio/wav', authorization: nip98(`${s.url}/voice/transcribe`, 'POST', bob) }, body: encodeWav(silence(0.5)) });
      assert.equal(tr.status, 503);
      assert.match(await errorOf(tr), /not available/);
      const body = JSON.stringify({ text: 'hi' });
      const sp = await fetch(`${s.url}/voice/speak`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: nip98(`${s.url}/voice/speak`, 'POST', bob, body) }, body });
      assert.equal(sp.status, 503);
      await errorOf(sp);
      await assert.rejects(openWs(`${s.url.replace(/^http/, 'ws')}/voice/stream`), (e: { status?: number; body?: string }) => e.status === 503 && /not available/.test(e.body ?? ''));
    }
  });
});
