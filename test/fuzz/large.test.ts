// Large inputs, at the size limits the decoders or the relay enforce: each must finish within the
// per-input bound (support.ts MAX_MS). Random generators rarely build these (a quadratic loop only
// shows at tens of thousands of items), so they are written out here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bech32EncodeWords } from '../../nostr/bech32.js';
import { checkFilter, matchFilter, type NostrEvent } from '../../nostr/nip01.js';
import { encodeBolt12String, merkleRoot, publicKeyHex, signatureMessage, writeTlvStream, type TlvRecord } from '../../wallet/bolt12/index.js';
import { wordsToBech32 } from '../../wallet/bolt11-words.js';
import { MAX_MS } from './support.js';
import { sign } from './make-corpus.js';
import { TARGETS } from './targets.js';

const RELAY_MAX_MESSAGE = 512 * 1024; // relay/config.ts maxMessageLength default
const RELAY_MAX_TAGS = 2500; // maxEventTags default

function bounded(name: string, input: string): void {
  const run = TARGETS[name]!;
  // The targets enforce the bound themselves; this also times the whole target (its checks included, so 4x).
  const t0 = performance.now();
  run(input);
  const ms = performance.now() - t0;
  assert.ok(ms < 4 * MAX_MS, `${name}: ${(input.length / 1024).toFixed(0)} KB input took ${ms.toFixed(0)} ms`);
}

const ev = (n: number, f: (i: number) => string[]): NostrEvent => ({ id: 'aa'.repeat(32), pubkey: 'bb'.repeat(32), created_at: 1, kind: 5050, tags: Array.from({ length: n }, (_, i) => f(i)), content: '', sig: '00'.repeat(64) });

test('relay parser: messages at the size limit', () => {
  const depth = 50_000;
  bounded('relay-message', '['.repeat(depth) + ']'.repeat(depth));
  bounded('relay-message', `["EVENT",${'['.repeat(depth)}]`);
  bounded('relay-message', JSON.stringify(['EVENT', sign({ tags: Array.from({ length: RELAY_MAX_TAGS }, (_, i) => ['t', `v${i}`]), content: 'x'.repeat(200_000) })]));
  const ids = Array.from({ length: 1000 }, (_, i) => i.toString(16).padStart(64, '0'));
  bounded('relay-message', JSON.stringify(['REQ', 's', ...Array.from({ length: 10 }, () => ({ ids, '#t': ids.slice(0, 100) }))]));
  bounded('relay-message', JSON.stringify(['REQ', 's', { '#t': Array.from({ length: 40_000 }, (_, i) => `v${i}`) }]));
  bounded('relay-message', JSON.stringify(['NEG-OPEN', 's', {}, 'ab'.repeat(RELAY_MAX_MESSAGE / 2 - 20)]));
  bounded('relay-message', `["REQ","s",{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(',')}}]`);
});

test('filter matcher: the largest filters against the largest events', () => {
  // 10,000 values in all (parse.ts MAX_FILTER_ITEMS) spread over tag filters, and an event with 2500 matching-name tags.
  const letters = 'abcdfghijklmnoqrstuvwxyzA'; // not e and p: those must be hex
  const raw: Record<string, string[]> = {};
  for (const l of letters) raw[`#${l}`] = Array.from({ length: 400 }, (_, i) => `${l}${i}`);
  const f = checkFilter(raw);
  assert.ok(f.ok);
  const e = ev(RELAY_MAX_TAGS, (i) => [letters[i % 25]!, `${letters[i % 25]}${i + 1000}`]);
  const t0 = performance.now();
  assert.equal(matchFilter(f.value, e), false);
  const ms = performance.now() - t0;
  assert.ok(ms < MAX_MS, `matchFilter took ${ms.toFixed(0)} ms`);
  bounded('filter', JSON.stringify({ filters: [raw], events: [e] }));
  // The worst single condition: 10,000 values of one tag against 2500 tags of that name, none matching.
  const t = checkFilter({ '#t': Array.from({ length: 10_000 }, (_, i) => `value-${i}`) });
  assert.ok(t.ok);
  const te = ev(RELAY_MAX_TAGS, (i) => ['t', `value-${i}-x`]);
  // The faster of two runs: the bound is for hangs, not for a GC pause on a busy CI core.
  let ms1 = Infinity;
  for (let k = 0; k < 2; k++) {
    const t1 = performance.now();
    assert.equal(matchFilter(t.value, te), false);
    ms1 = Math.min(ms1, performance.now() - t1);
  }
  assert.ok(ms1 < MAX_MS, `matchFilter (10,000 values x 2500 tags) took ${ms1.toFixed(0)} ms`);
  console.log(`matchFilter, 10,000 tag values x 2500 tags: ${ms1.toFixed(1)} ms`);
});

test('nip19, nip49: strings at the 5000-character bech32 limit', () => {
  const words = Array.from({ length: 4980 }, (_, i) => i % 32);
  for (const prefix of ['nprofile', 'naddr', 'nevent', 'npub', 'ncryptsec']) {
    const s = bech32EncodeWords(prefix, words.slice(0, 4990 - prefix.length - 7 - ((4990 - prefix.length - 7) % 8)));
    bounded(prefix === 'ncryptsec' ? 'nip49' : 'nip19', s);
  }
  bounded('nip19', 'npub1' + 'q'.repeat(4995));
  bounded('nip19', '1'.repeat(5000));
  bounded('nip49', 'ncryptsec1' + 'q'.repeat(100_000));
});

test('nip44: a 1 MB payload', () => {
  const b = Buffer.alloc(768 * 1024, 7);
  b[0] = 2;
  bounded('nip44', b.toString('base64'));
  bounded('nip44', 'A'.repeat(1024 * 1024));
});

test('bolt11: 10,000-character invoices', () => {
  // Many tagged fields (type 31, unknown, 1023 words each would not fit: short ones instead) and a valid checksum.
  const words: number[] = Array.from({ length: 7 }, () => 0);
  while (words.length < 9_000) words.push(31, 0, 10, ...Array.from({ length: 10 }, () => 3));
  bounded('bolt11', wordsToBech32('lnbc', [...words, ...Array.from({ length: 104 }, () => 0)]));
  bounded('bolt11', 'lnbc1' + 'q'.repeat(9_990));
});

test('bolt12: 120,000-character streams with thousands of records, signed', () => {
  const sk = new Uint8Array(32).fill(0x11);
  const base: TlvRecord[] = [
    { type: 10n, value: new TextEncoder().encode('big') },
    { type: 22n, value: Buffer.from(publicKeyHex(sk), 'hex') },
  ];
  // Unknown odd types are kept, not refused: as many as fit.
  const many: TlvRecord[] = Array.from({ length: 11_000 }, (_, i) => ({ type: 1_000_000_001n + 2n * BigInt(i), value: new Uint8Array(0) }));
  const offer = writeTlvStream([...base, ...many]);
  bounded('bolt12', encodeBolt12String('lno', offer));
  const inv = [...base, ...many.map((r) => ({ type: r.type + 2_000_000_000n, value: r.value }))];
  const unsigned = [...inv, { type: 176n, value: Buffer.from(publicKeyHex(sk), 'hex') }].sort((a, b) => (a.type < b.type ? -1 : 1));
  const sig = schnorr.sign(signatureMessage('invoice', merkleRoot(unsigned)), sk, new Uint8Array(32));
  bounded('bolt12', encodeBolt12String('lni', writeTlvStream([...unsigned, { type: 240n, value: sig }])));
  bounded('bolt12', 'lno1' + 'q+'.repeat(59_000) + 'q');
});

test('nip90: a job request of 512 KB: one relays tag with 40,000 URLs, 2500 p tags', () => {
  const urls = Array.from({ length: 40_000 }, (_, i) => `ws://a${i}`);
  bounded('nip90', JSON.stringify(ev(1, () => ['relays', ...urls])));
  bounded('nip90', JSON.stringify(ev(RELAY_MAX_TAGS, (i) => ['p', i.toString(16).padStart(64, '0')])));
  bounded('nip90', JSON.stringify(ev(RELAY_MAX_TAGS, (i) => ['i', `https://x.example/${i}`, 'url'])));
});

test('nip98: a 64 KB header', () => {
  bounded('nip98', 'Nostr ' + 'A'.repeat(64 * 1024));
  bounded('nip98', 'Nostr ' + Buffer.from(JSON.stringify(ev(RELAY_MAX_TAGS, (i) => ['u', `${i}`]))).toString('base64'));
  bounded('nip98', 'Nostr' + ' '.repeat(64 * 1024) + 'x');
});
