import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import * as nt04 from 'nostr-tools/nip04';
import { v2 as nt44 } from 'nostr-tools/nip44';
import type { NostrEvent } from './nip01.js';
import * as nip04 from './nip04.js';
import * as nip44 from './nip44.js';
import { buildJobRequest, detectEncryption, Nip90Error, parseJobRequest, type DecryptFn, type JobRequest } from './nip90.js';
import { finalizeEvent, generateSecretKey, getPublicKey } from './verify.js';

// The dvm-kinds examples, copied as JSON (see each file's `fixes` and `notes`).
const vector = (name: string) => JSON.parse(readFileSync(new URL(`../../nostr/vectors/dvm/${name}`, import.meta.url), 'utf8'));
const KIND_FILES = ['5000.json', '5001.json', '5002.json', '5050.json', '5250.json', '5300.json', '5302.json'];
const NIP90 = vector('nip90.json');

/** The examples are unsigned: parseJobRequest does not verify, so fake id/pubkey/sig are enough. */
const CUSTOMER = '22'.repeat(32);
const fake = (e: { kind: number; tags: string[][]; content?: string }): NostrEvent => ({
  id: '11'.repeat(32),
  pubkey: CUSTOMER,
  created_at: 1700000000,
  content: '',
  sig: '33'.repeat(64),
  ...e,
});
const HEX = 'ab'.repeat(32);

function parsed(e: NostrEvent, decrypt?: DecryptFn) {
  const r = parseJobRequest(e, decrypt);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.value;
}
function rejected(e: NostrEvent, reason: RegExp, decrypt?: DecryptFn): void {
  const r = parseJobRequest(e, decrypt);
  assert.equal(r.ok, false, `expected rejection ${reason}`);
  if (!r.ok) assert.match(r.reason, reason);
}

test('every request example in dvm-kinds parses as its vector says', () => {
  let n = 0;
  for (const file of KIND_FILES) {
    for (const c of vector(file).cases) {
      n++;
      const r = parseJobRequest(fake(c.request));
      const what = `${file}: ${c.name}`;
      if (!c.expect.ok) {
        assert.deepEqual(r, { ok: false, reason: c.expect.reason }, what);
        continue;
      }
      assert.ok(r.ok, `${what}: ${r.ok ? '' : r.reason}`);
      assert.equal(r.value.kind, c.request.kind, what);
      assert.equal(r.value.customer, CUSTOMER, what);
      assert.deepEqual(r.value.inputs, c.expect.inputs, what);
      assert.deepEqual(r.value.params, c.expect.params, what);
      if (c.expect.paramTags) assert.deepEqual(r.value.paramTags, c.expect.paramTags, what);
      assert.equal(r.value.output, c.expect.output, what);
      assert.equal(r.value.bidMsat, undefined, what);
      assert.deepEqual(r.value.relays, [], what);
      assert.deepEqual(r.value.providers, [], what);
      assert.equal(r.value.encryption, undefined, what);
    }
  }
  assert.equal(n, 10);
});

test('the 90.md request shape: i with relay and marker, output, relays, bid, p, other tags ignored', () => {
  const e = fake({
    kind: 5001,
    tags: [
      ['i', HEX, 'event', 'wss://relay.example.com', 'source'],
      ['i', 'https://example.com/a.txt', 'url', '', 'text/plain'],
      ['output', 'text/plain'],
      ['relays', 'wss://a.example.com', 'wss://b.example.com'],
      ['relays', 'wss://b.example.com', '', 'wss://c.example.com'],
      ['bid', '5000'],
      ['t', 'bitcoin'],
      ['p', HEX],
      ['p', HEX],
    ],
  });
  const r = parsed(e);
  assert.deepEqual(r.inputs, [
    { data: HEX, type: 'event', relay: 'wss://relay.example.com', marker: 'source' },
    { data: 'https://example.com/a.txt', type: 'url', marker: 'text/plain' },
  ]);
  assert.equal(r.output, 'text/plain');
  assert.deepEqual(r.relays, ['wss://a.example.com', 'wss://b.example.com', 'wss://c.example.com']);
  assert.equal(r.bidMsat, 5000);
  assert.deepEqual(r.providers, [HEX]);
  assert.equal(r.id, e.id);
  assert.equal(r.event, e);
  assert.equal(parsed(fake({ kind: 5000, tags: [['bid', '0']] })).bidMsat, 0);
  assert.deepEqual(parsed(fake({ kind: 5999, tags: [] })).inputs, []);
});

test('invalid requests are rejected with a reason', () => {
  const cases: [number, string[][], RegExp][] = [
    [4999, [], /kind 4999 is not a job request kind/],
    [6000, [], /kind 6000 is not a job request kind/],
    [5000, [['i', 'x', 'nonsense']], /unknown input type "nonsense"/],
    [5000, [['i', 'x']], /i tag needs an input type/],
    [5000, [['i']], /i tag needs data/],
    [5000, [['i', 'not-hex', 'event']], /event input must be a 64-character lowercase hex event id/],
    [5000, [['i', HEX.toUpperCase(), 'event']], /event input must be/],
    [5000, [['i', HEX.slice(2), 'job']], /job input must be/],
    [5000, [['i', 'not a url', 'url']], /url input is not a URL/],
    [5000, [['bid', '-1']], /bid must be a non-negative integer/],
    [5000, [['bid', '1.5']], /bid must be a non-negative integer/],
    [5000, [['bid', '']], /bid must be/],
    [5000, [['bid', '99999999999999999']], /bid must be/],
    [5000, [['bid', '1'], ['bid', '2']], /more than one bid tag/],
    [5000, [['param', 'model']], /param tag needs a name and a value/],
    [5000, [['param', '', 'x']], /param tag needs a name/],
    [5000, [['output']], /output tag needs a MIME type/],
    [5000, [['output', 'a'], ['output', 'b']], /more than one output tag/],
    [5000, [['relays', 'https://example.com']], /not a ws:\/\/ or wss:\/\/ URL/],
    [5000, [['p', 'npub1xyz']], /p tag must hold a 64-character lowercase hex pubkey/],
  ];
  for (const [kind, tags, reason] of cases) rejected(fake({ kind, tags }), reason);
});

test('detectEncryption: ?iv= means NIP-04, anything else NIP-44', () => {
  assert.equal(detectEncryption('YWJj?iv=ZGVm'), 'nip04');
  assert.equal(detectEncryption('AgAAAA=='), 'nip44');
  assert.equal(detectEncryption('garbage'), 'nip44');
});

// ---- encrypted requests (90.md "Encrypted Params") ----

// Fixed keys, so the garbage-ciphertext outcomes below are deterministic.
const customerSk = sha256(utf8ToBytes('nip90 test customer'));
const providerSk = sha256(utf8ToBytes('nip90 test provider'));
const providerPk = getPublicKey(providerSk);
const PRIVATE_TAGS: string[][] = NIP90.encryptedParamsPlaintext;

/** The provider's side: decrypt with its key and the customer's pubkey, in whichever scheme the request used. */
const providerDecrypt =
  (e: Pick<NostrEvent, 'pubkey'>): DecryptFn =>
  (ct, scheme) =>
    scheme === 'nip44' ? nip44.decrypt(ct, nip44.getConversationKey(providerSk, e.pubkey)) : nip04.decrypt(providerSk, e.pubkey, ct);

function checkPrivate(r: JobRequest, scheme: 'nip04' | 'nip44'): void {
  assert.equal(r.encryption, scheme);
  assert.deepEqual(r.inputs, [{ data: 'what is the capital of France? ', type: 'text' }]);
  assert.deepEqual(
    r.params,
    PRIVATE_TAGS.slice(1).map((t) => [t[1], t[2]]),
  );
  assert.deepEqual(r.providers, [providerPk]);
}

function encryptedRequest(encrypt: (plaintext: string) => string): NostrEvent {
  const t = buildJobRequest({
    kind: 5050,
    inputs: [{ data: 'what is the capital of France? ', type: 'text' }],
    params: PRIVATE_TAGS.slice(1).map((t) => [t[1]!, t[2]!] as const),
    providers: [providerPk],
    bidMsat: 1000,
    encrypt,
    created_at: 1700000000,
  });
  return finalizeEvent(t, customerSk);
}

test('encrypted request, NIP-44: built with nip44.ts, parsed with a decrypt callback', () => {
  const e = encryptedRequest((pt) => nip44.encrypt(pt, nip44.getConversationKey(customerSk, providerPk)));
  assert.deepEqual(e.tags, [['bid', '1000'], ['p', providerPk], ['encrypted']]);
  assert.ok(!e.content.includes('France'));
  assert.equal(nt44.decrypt(e.content, nt44.utils.getConversationKey(providerSk, e.pubkey)), JSON.stringify(PRIVATE_TAGS));
  const r = parsed(e, providerDecrypt(e));
  checkPrivate(r, 'nip44');
  assert.equal(r.bidMsat, 1000);
});

test('encrypted request, NIP-04: built with nip04.ts, parsed with a decrypt callback', () => {
  const e = encryptedRequest((pt) => nip04.encrypt(customerSk, providerPk, pt));
  assert.match(e.content, /\?iv=/);
  assert.equal(nt04.decrypt(providerSk, e.pubkey, e.content), JSON.stringify(PRIVATE_TAGS));
  checkPrivate(parsed(e, providerDecrypt(e)), 'nip04');
});

test('encrypted request from nostr-tools (NIP-04 and NIP-44) parses', () => {
  const tags = [['p', providerPk], ['encrypted']];
  const pt = JSON.stringify(PRIVATE_TAGS);
  const e04 = finalizeEvent({ kind: 5050, created_at: 1700000000, tags, content: nt04.encrypt(customerSk, providerPk, pt) }, customerSk);
  checkPrivate(parsed(e04, providerDecrypt(e04)), 'nip04');
  const ck = nt44.utils.getConversationKey(customerSk, providerPk);
  const e44 = finalizeEvent({ kind: 5050, created_at: 1700000000, tags, content: nt44.encrypt(pt, ck) }, customerSk);
  checkPrivate(parsed(e44, providerDecrypt(e44)), 'nip44');
});

test('encrypted requests that cannot be read are rejected with a clear reason', () => {
  const e = encryptedRequest((pt) => nip44.encrypt(pt, nip44.getConversationKey(customerSk, providerPk)));
  rejected(e, /^encrypted request \(nip44\) but no decrypt function$/);
  // A provider it was not encrypted to: NIP-44's MAC fails.
  const other = generateSecretKey();
  rejected(e, /^encrypted request: nip44 decryption failed: invalid MAC$/, (ct) => nip44.decrypt(ct, nip44.getConversationKey(other, e.pubkey)));
  rejected(e, /^encrypted request: nip44 decryption failed$/, () => undefined);
  rejected(e, /decrypted content is not JSON/, () => 'not json');
  rejected(e, /decrypted content is not an array of tags/, () => '{"i":"x"}');
  rejected(e, /decrypted content is not an array of tags/, () => '[["i", 5]]');
  rejected(e, /unknown input type "nonsense"/, () => '[["i","x","nonsense"]]');
  const garbage = (content: string) => fake({ kind: 5050, tags: [['p', providerPk], ['encrypted']], content });
  const realDecrypt = providerDecrypt({ pubkey: getPublicKey(customerSk) });
  rejected(garbage('!!not base64!!'), /^encrypted request: nip44 decryption failed: invalid payload length/, realDecrypt);
  rejected(garbage('A'.repeat(200)), /^encrypted request: nip44 decryption failed: unknown encryption version 0$/, realDecrypt);
  rejected(garbage('AAAA?iv=BBBB'), /^encrypted request: nip04 decryption failed: invalid iv length$/, realDecrypt);
  rejected(garbage('AAAAAAAAAAAAAAAAAAAAAA==?iv=AAAAAAAAAAAAAAAAAAAAAA=='), /^encrypted request: nip04 decryption failed: (invalid padding|invalid utf-8 in plaintext)$/, realDecrypt);
  rejected(garbage(''), /encrypted request has empty content/, () => '[]');
  rejected(fake({ kind: 5050, tags: [['encrypted']], content: 'abc' }), /encrypted request has no p tag/, () => '[]');
  // Only the public p and encrypted tags count: a p hidden in the payload is not a provider.
  const r = parsed(garbage('x'), () => JSON.stringify([['p', HEX], ['output', 'text/plain']]));
  assert.deepEqual(r.providers, [providerPk]);
  assert.equal(r.output, 'text/plain');
});

// ---- buildJobRequest ----

test('buildJobRequest -> parseJobRequest round trip', () => {
  const t = buildJobRequest({
    kind: 5000,
    inputs: [
      { data: 'https://example.com/a.mp3', type: 'url', marker: 'audio/mpeg' },
      { data: HEX, type: 'job', relay: 'wss://r.example.com' },
    ],
    params: [['range', '300', '360'], ['alignment', 'raw']],
    output: 'text/vtt',
    bidMsat: 21000,
    relays: ['wss://a.example.com', 'wss://b.example.com'],
    providers: [providerPk],
    extraTags: [['t', 'bitcoin']],
    created_at: 1700000001,
  });
  assert.deepEqual(t.tags, [
    ['i', 'https://example.com/a.mp3', 'url', '', 'audio/mpeg'],
    ['i', HEX, 'job', 'wss://r.example.com'],
    ['param', 'range', '300', '360'],
    ['param', 'alignment', 'raw'],
    ['output', 'text/vtt'],
    ['bid', '21000'],
    ['relays', 'wss://a.example.com', 'wss://b.example.com'],
    ['p', providerPk],
    ['t', 'bitcoin'],
  ]);
  assert.equal(t.content, '');
  assert.equal(t.created_at, 1700000001);
  const r = parsed(finalizeEvent(t, customerSk));
  assert.deepEqual(r.params, [['range', '300'], ['alignment', 'raw']]);
  assert.deepEqual(r.paramTags, [['param', 'range', '300', '360'], ['param', 'alignment', 'raw']]);
  assert.equal(r.bidMsat, 21000);
  assert.equal(r.customer, getPublicKey(customerSk));
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(buildJobRequest({ kind: 5000 }).created_at - now) <= 2);
});

test('buildJobRequest refuses what parseJobRequest would reject', () => {
  const bad: [Parameters<typeof buildJobRequest>[0], RegExp][] = [
    [{ kind: 4000 }, /not a job request kind/],
    [{ kind: 5000.5 }, /not a job request kind/],
    [{ kind: 5000, inputs: [{ data: 'x', type: 'event' }] }, /event input must be/],
    [{ kind: 5000, inputs: [{ data: 'x', type: 'nonsense' as 'text' }] }, /unknown input type/],
    [{ kind: 5000, bidMsat: -1 }, /bidMsat must be a non-negative integer/],
    [{ kind: 5000, bidMsat: 0.5 }, /bidMsat/],
    [{ kind: 5000, output: '' }, /output needs a MIME type/],
    [{ kind: 5000, relays: ['http://x.example.com'] }, /not a ws/],
    [{ kind: 5000, providers: ['nope'] }, /provider must be/],
    [{ kind: 5000, params: [['', 'x']] }, /param needs a name/],
    [{ kind: 5000, extraTags: [['p', HEX]] }, /extraTags may not set p/],
    [{ kind: 5000, encrypt: (s) => s }, /encrypted request needs a provider/],
  ];
  for (const [t, reason] of bad) assert.throws(() => buildJobRequest(t), (err: Error) => err instanceof Nip90Error && err.name === 'Nip90Error' && reason.test(err.message));
});
