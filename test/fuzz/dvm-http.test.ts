// Fuzzing NIP-90 job request parsing (nostr/nip90.ts parseJobRequest, with encrypted requests through
// a decrypt callback) and the NIP-98 Authorization header (nostr/nip98.ts parseAuthorization and
// checkHttpAuth): random text, events with random tags, and mutated signed headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson, type NostrEvent } from '../../nostr/nip01.js';
import { finalizeEvent } from '../../nostr/verify.js';
import { parseJobRequest } from '../../nostr/nip90.js';
import { authorizationHeader, checkHttpAuth, httpAuthTemplate, parseAuthorization, HTTP_AUTH_KIND } from '../../nostr/nip98.js';
import { anyText, fuzz, guarded, hex, mutatedString, seeds } from './support.js';
import { fakeDecrypt, nip90Request, nip98Header, NIP98_METHOD, NIP98_NOW, NIP98_URL } from './targets.js';
import { SK } from './make-corpus.js';

// ---------------------------------------------------------------- NIP-90

const tagValue = fc.oneof(
  fc.constantFrom('', 'text', 'url', 'event', 'job', 'prompt', 'wss://r.example', 'ws://x', 'https://x.example/a', 'wss://', 'http://r', '1000', '-1', '1e3', '99999999999999999', '0', 'ab'.repeat(32), 'AB'.repeat(32)),
  fc.string({ maxLength: 12 }),
  hex(32),
);
const tagArb = fc.tuple(fc.constantFrom('i', 'param', 'output', 'bid', 'relays', 'p', 'encrypted', 't', 'e', ''), fc.array(tagValue, { maxLength: 4 })).map(([n, vs]) => [n, ...vs]);

/** A job request event (unsigned: parseJobRequest does not check signatures; the relay did). */
const jobArb: fc.Arbitrary<NostrEvent> = fc.record({
  id: hex(32),
  pubkey: hex(32),
  created_at: fc.nat(),
  kind: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 5000, max: 5999 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 65535 }) }),
  tags: fc.array(tagArb, { maxLength: 8 }),
  // Encrypted requests: the fake decrypt callback reads base64 of whatever JSON (or not) is here.
  content: fc.oneof(
    fc.constantFrom('', 'throw', 'undefined'),
    fc.array(tagArb, { maxLength: 4 }).map((ts) => Buffer.from(JSON.stringify(ts)).toString('base64')),
    fc.jsonValue({ maxDepth: 2 }).map((j) => Buffer.from(JSON.stringify(j) ?? 'x').toString('base64')),
    anyText(30),
  ),
  sig: fc.constant('00'.repeat(64)),
});

test('nip90: job requests with random tags are parsed or refused, never crash', () => {
  fuzz('nip90', 'random tags', jobArb, (e) => nip90Request(JSON.stringify(e)), { runs: 3000, share: 0.5 });
});

test('nip90: arbitrary text and mutated requests never crash', () => {
  fuzz('nip90', 'arbitrary and mutated', fc.oneof(anyText(200), mutatedString(fc.oneof(fc.constantFrom(...seeds('nip90')), jobArb.map(canonicalJson)))), nip90Request, { runs: 2000, share: 0.3 });
});

test('nip90: encrypted tags never override the public p and encrypted tags', () => {
  fuzz('nip90', 'encrypted overrides', fc.tuple(jobArb, fc.array(tagArb, { maxLength: 4 })), ([e, hidden]) => {
    const pub = { ...e, kind: 5050, tags: [['p', 'cd'.repeat(32)], ['encrypted'], ...e.tags.filter((t) => t[0] !== 'p' && t[0] !== 'encrypted')] };
    const content = Buffer.from(JSON.stringify([...hidden, ['p', 'ef'.repeat(32)]])).toString('base64');
    const r = guarded('parseJobRequest', { ...pub, content }, (x) => parseJobRequest(x, fakeDecrypt), []);
    if (!r.ok || !r.value.ok) return;
    assert.deepEqual(r.value.value.providers, ['cd'.repeat(32)], 'a p tag from the encrypted content became a provider');
    assert.equal(r.value.value.encryption, 'nip44');
  }, { runs: 1000, share: 0.2 });
});

// ---------------------------------------------------------------- NIP-98

const signedHeader = fc.record({
  url: fc.constantFrom(NIP98_URL, NIP98_URL + '&y=2', 'https://timmy.example/api/jobs'),
  method: fc.constantFrom('POST', 'post', 'GET'),
  dt: fc.integer({ min: -90, max: 90 }),
  body: fc.option(fc.constantFrom('{"a":1}', 'other'), { nil: undefined }),
  kind: fc.constantFrom(HTTP_AUTH_KIND, HTTP_AUTH_KIND, 1),
}).map(({ url, method, dt, body, kind }) => {
  const t = httpAuthTemplate({ url, method, created_at: NIP98_NOW + dt, ...(body !== undefined ? { body } : {}) });
  return authorizationHeader(finalizeEvent({ ...t, kind }, SK));
});
// A small pool signed once: mutations of these reach the signature check.
const SIGNED = fc.sample(signedHeader, { numRuns: 40, seed: 98 });

test('nip98: arbitrary and mutated headers never crash, and only valid signed events pass', () => {
  const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \t';
  fuzz('nip98', 'arbitrary and mutated headers', fc.oneof(anyText(200), fc.string({ unit: fc.constantFrom(...b64.split('')), maxLength: 300 }).map((s) => `Nostr ${s}`), mutatedString(fc.oneof(fc.constantFrom(...SIGNED), fc.constantFrom(...seeds('nip98'))), b64)), nip98Header, {
    runs: 3000,
    share: 0.6,
  });
});

test('nip98: a header decodes to the same event it encodes, and checks by NIP-98 rules', () => {
  fuzz('nip98', 'structured headers', fc.oneof(fc.constantFrom(...SIGNED), signedHeader), (h) => {
    nip98Header(h);
    const p = parseAuthorization(h);
    assert.ok(p.ok);
    const e = p.value;
    const c = checkHttpAuth(e, { url: NIP98_URL, method: NIP98_METHOD, now: NIP98_NOW, body: '{"a":1}' });
    // 98.md, read independently: kind, a 60 s window, the absolute URL, the method, the payload hash when present.
    const tag = (n: string) => e.tags.find((t) => t[0] === n)?.[1];
    const payload = tag('payload');
    const expect = e.kind === HTTP_AUTH_KIND && Math.abs(e.created_at - NIP98_NOW) <= 60 && tag('u') === NIP98_URL &&
      tag('method')?.toUpperCase() === 'POST' && (payload === undefined || payload === createHash('sha256').update('{"a":1}').digest('hex'));
    assert.equal(c.ok, expect, `checkHttpAuth ${c.ok ? 'accepted' : `refused (${c.ok ? '' : c.reason})`} ${JSON.stringify(e).slice(0, 300)}`);
  }, { runs: 300, share: 0.4 });
});
