// The speech skills' pure parts and the DVM's media inputs: WebVTT layout, `range` parsing and
// cutting, word cues, the quote in audio minutes; `data:` URLs decoded without a network and an
// http URL with an audio body handed over as bytes (a real HTTP server on 127.0.0.1).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SkillJob } from '../../dvm/skill.js';
import { decodeDataUrl, resolveInputs } from '../../dvm/inputs.js';
import type { NostrClient } from '../../nostr/client.js';
import type { JobInput, ParsedJobRequest } from '../../nostr/nip90.js';
import { encodeWav } from '../../voice/wav.js';
import { rangeOf, sliceAudio, sttSkill, toVtt, vttTime, wordCues } from './stt.js';
import type { VoicePort } from './voice-port.js';

const job = (tags: string[][], inputs: JobInput[] = [], output?: string): SkillJob => {
  const paramTags = tags.filter((t) => t[0] === 'param');
  const request = { params: paramTags.map((t) => [t[1]!, t[2] ?? ''] as const), paramTags, inputs, ...(output ? { output } : {}) } as unknown as ParsedJobRequest;
  return { request, inputs: inputs.map((i) => ({ ...i, text: i.data })), param: (n) => paramTags.find((t) => t[1] === n)?.[2] };
};

const tone = (seconds: number, rate = 16_000) => ({ sampleRate: rate, samples: Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.3 * Math.sin(i / 5)) });

describe('speech-to-text skill parts', () => {
  it('writes WebVTT with HH:MM:SS.mmm cues, numbered, empty cues dropped', () => {
    assert.equal(vttTime(3723.4567), '01:02:03.457');
    assert.equal(toVtt([{ start: 0, end: 1.5, text: 'hello' }, { start: 2, end: 2, text: 'a --> b' }, { start: 3, end: 4, text: ' ' }]), 'WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.500\nhello\n\n2\n00:00:02.000 --> 00:00:02.001\na -> b\n');
    assert.equal(toVtt([]), 'WEBVTT\n\n');
  });

  it('reads range as the spec writes it (two values) and as one value; refuses nonsense', () => {
    assert.deepEqual(rangeOf(job([['param', 'range', '300', '360']])), { start: 300, end: 360 });
    assert.deepEqual(rangeOf(job([['param', 'range', '1.5-4']])), { start: 1.5, end: 4 });
    assert.deepEqual(rangeOf(job([['param', 'range', '10']])), { start: 10, end: Infinity });
    assert.equal(rangeOf(job([])), undefined);
    assert.throws(() => rangeOf(job([['param', 'range', '5', '2']])), /start < end/);
    assert.throws(() => rangeOf(job([['param', 'range', 'soon', 'later']])), /param range/);
  });

  it('cuts audio by seconds and spreads segment times over words', () => {
    const a = tone(3);
    assert.equal(sliceAudio(a, { start: 1, end: 2 }).samples.length, 16_000);
    assert.equal(sliceAudio(a, { start: 2.5, end: Infinity }).samples.length, 8000);
    const w = wordCues([{ start: 1, end: 2, text: 'ab cd' }]);
    assert.deepEqual(w, [{ start: 1, end: 1.5, text: 'ab' }, { start: 1.5, end: 2, text: 'cd' }]);
  });

  it('quotes in audio minutes from a data: WAV, bounded by range', () => {
    const unused = () => Promise.reject(new Error('unused'));
    const skill = sttSkill({ decode: unused, transcribe: unused, speak: unused, audioSink: unused });
    const url = `data:audio/wav;base64,${Buffer.from(encodeWav(tone(30))).toString('base64')}`;
    assert.ok(Math.abs(skill.units(job([], [{ type: 'url', data: url }])) - 0.5) < 0.01);
    assert.ok(Math.abs(skill.units(job([['param', 'range', '0', '6']], [{ type: 'url', data: url }])) - 0.1) < 0.01);
    assert.equal(skill.units(job([], [{ type: 'url', data: 'https://example.com/a.mp3' }])), 1);
  });

  it('runs through a VoicePort: range offsets the cues; output and alignment are checked', async () => {
    const seen: number[] = [];
    const port: VoicePort = {
      decode: async () => tone(10),
      transcribe: async (a) => {
        seen.push(a.samples.length / a.sampleRate);
        return { text: 'hello there world', segments: [{ start: 0.5, end: 1.5, text: 'hello there' }, { start: 2, end: 3, text: 'world' }], engine: 'test' };
      },
      speak: () => Promise.reject(new Error('unused')),
      audioSink: () => Promise.reject(new Error('unused')),
    };
    const ctx = { signal: new AbortController().signal, client: {} as NostrClient, progress: () => undefined };
    const input = { type: 'url' as const, data: 'https://x/a.wav', text: '', bytes: new Uint8Array(8), contentType: 'audio/wav' };
    const j = (tags: string[][], output?: string): SkillJob => ({ ...job(tags, [], output), inputs: [input] });
    const skill = sttSkill(port);
    assert.equal((await skill.run(j([]), ctx)).content, 'hello there world');
    assert.equal((await skill.run(j([['param', 'alignment', 'segment']]), ctx)).content, 'hello there\nworld');
    const vtt = (await skill.run(j([['param', 'range', '4', '8']], 'text/vtt'), ctx)).content;
    assert.deepEqual(seen.at(-1), 4);
    assert.match(vtt, /^WEBVTT\n\n1\n00:00:04\.500 --> 00:00:05\.500\nhello there\n\n2\n00:00:06\.000 --> 00:00:07\.000\nworld\n$/);
    const words = (await skill.run(j([['param', 'alignment', 'word']], 'text/vtt'), ctx)).content;
    assert.equal(words.match(/-->/g)?.length, 3);
    await assert.rejects(skill.run(j([], 'audio/mpeg'), ctx), /output audio\/mpeg is not offered/);
    await assert.rejects(skill.run(j([['param', 'alignment', 'letters']]), ctx), /param alignment/);
    await assert.rejects(skill.run(j([['param', 'range', '20', '30']]), ctx), /audio is 10\.0 s long/);
    await assert.rejects(skill.run({ ...job([]), inputs: [{ type: 'url', data: 'https://x/page.html', text: '<html>' }] }, ctx), /is not audio/);
  });
});

describe('media inputs', () => {
  let server: Server;
  let base: string;
  const wav = encodeWav(tone(0.5));
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/a.wav') res.writeHead(200, { 'content-type': 'audio/wav' }).end(wav);
      else if (req.url === '/big.wav') res.writeHead(200, { 'content-type': 'audio/wav' }).end(Buffer.alloc(4096));
      else res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('just text');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  const opts = (mediaMaxBytes = 1_000_000) => ({ client: {} as NostrClient, chainTimeoutMs: 1000, urlTimeoutMs: 5000, urlMaxBytes: 1024, mediaMaxBytes, signal: new AbortController().signal });

  it('decodes data: URLs: media as bytes, text as text, too large refused', () => {
    const d = decodeDataUrl(`data:audio/wav;base64,${Buffer.from(wav).toString('base64')}`, 1_000_000);
    assert.ok('bytes' in d);
    assert.equal(d.contentType, 'audio/wav');
    assert.deepEqual(Buffer.from(d.bytes), Buffer.from(wav));
    assert.deepEqual(decodeDataUrl('data:,hello%20there', 100), { text: 'hello there' });
    assert.deepEqual(decodeDataUrl('data:text/plain;base64,aGk=', 100), { text: 'hi' });
    assert.throws(() => decodeDataUrl(`data:audio/wav;base64,${'A'.repeat(400)}`, 100), /larger than 100 bytes/);
  });

  it('fetches an audio URL as bytes (media limit), a text URL as text (text limit)', async () => {
    const [a, t] = await resolveInputs([{ type: 'url', data: `${base}/a.wav` }, { type: 'url', data: `${base}/t.txt` }], opts());
    assert.equal(a!.text, '');
    assert.equal(a!.contentType, 'audio/wav');
    assert.equal(a!.bytes?.length, wav.length);
    assert.equal(t!.text, 'just text');
    assert.equal(t!.bytes, undefined);
    await assert.rejects(resolveInputs([{ type: 'url', data: `${base}/big.wav` }], opts(2048)), /larger than 2048 bytes/);
    await assert.rejects(resolveInputs([{ type: 'url', data: 'ftp://x/a.wav' }], opts()), /http\(s\) or data:/);
  });
});
