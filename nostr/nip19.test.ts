import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hexToBytes } from '@noble/hashes/utils.js';
import * as nt from 'nostr-tools/nip19';
import { bech32Decode, bech32Encode, bech32EncodeWords, Bech32Error } from './bech32.js';
import {
  decode,
  decodeAs,
  naddrEncode,
  neventEncode,
  noteEncode,
  nprofileEncode,
  npubEncode,
  nsecEncode,
  Nip19Error,
  pubkeyFromInput,
  type NPub,
} from './nip19.js';

// Examples from 19.md.
const NPUB_EX = 'npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg';
const NPUB_EX_HEX = '7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e';
const NPUB_EX2 = 'npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6';
const NPUB_EX2_HEX = '3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d';
const NSEC_EX = 'nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5';
const NSEC_EX_HEX = '67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa';
const NPROFILE_EX =
  'nprofile1qqsrhuxx8l9ex335q7he0f09aej04zpazpl0ne2cgukyawd24mayt8gpp4mhxue69uhhytnc9e3k7mgpz4mhxue69uhkg6nzv9ejuumpv34kytnrdaksjlyr9p';

/** The data words of a bech32 string (between the separator and the checksum). */
const bech32WordsOf = (s: string): number[] =>
  [...s.slice(s.lastIndexOf('1') + 1, -6)].map((c) => 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'.indexOf(c));

const ID = 'b9f5441e45ca39179320e0031cfb18e34078673dcc3d3e3a3b3a981760aa5696';

test('19.md examples decode and encode back', () => {
  assert.deepEqual(decode(NPUB_EX), { type: 'npub', data: NPUB_EX_HEX });
  assert.equal(npubEncode(NPUB_EX_HEX), NPUB_EX);
  assert.deepEqual(decode(NPUB_EX2), { type: 'npub', data: NPUB_EX2_HEX });
  assert.equal(npubEncode(NPUB_EX2_HEX), NPUB_EX2);
  const sec = decode(NSEC_EX);
  assert.deepEqual(sec, { type: 'nsec', data: hexToBytes(NSEC_EX_HEX) });
  assert.equal(nsecEncode(hexToBytes(NSEC_EX_HEX)), NSEC_EX);
  const prof = { pubkey: NPUB_EX2_HEX, relays: ['wss://r.x.com', 'wss://djbas.sadkb.com'] };
  assert.deepEqual(decode(NPROFILE_EX), { type: 'nprofile', data: prof });
  // We write TLVs in type order, as the example does (nostr-tools writes them reversed; both decode).
  assert.equal(nprofileEncode(prof), NPROFILE_EX);
});

test('typed decode narrows by template literal', () => {
  const d = decode(NPUB_EX as NPub);
  const hex: string = d.data; // compiles only because the overload returns the npub variant
  assert.equal(hex, NPUB_EX_HEX);
  assert.equal(decodeAs(NPUB_EX, 'npub'), NPUB_EX_HEX);
  assert.throws(() => decodeAs(NSEC_EX, 'npub'), /expected npub, got nsec/);
});

test('round trips: note, nevent, naddr', () => {
  assert.deepEqual(decode(noteEncode(ID)), { type: 'note', data: ID });

  const full = { id: ID, relays: ['wss://a.example', 'wss://b.example/ü'], author: NPUB_EX_HEX, kind: 30023 };
  assert.deepEqual(decode(neventEncode(full)), { type: 'nevent', data: full });
  const bare = neventEncode({ id: ID });
  assert.deepEqual(decode(bare), { type: 'nevent', data: { id: ID, relays: [] } });
  // kind is a u32 on the wire, not limited to NIP-01's 0..65535
  assert.equal(decodeAs(neventEncode({ id: ID, kind: 0xffffffff }), 'nevent').kind, 0xffffffff);
  assert.equal(decodeAs(neventEncode({ id: ID, kind: 0 }), 'nevent').kind, 0);

  const addr = { identifier: 'my-article 🦄', pubkey: NPUB_EX_HEX, kind: 30023, relays: ['wss://r.x.com'] };
  assert.deepEqual(decode(naddrEncode(addr)), { type: 'naddr', data: addr });
  const replaceable = { identifier: '', pubkey: NPUB_EX_HEX, kind: 10002, relays: [] };
  assert.deepEqual(decode(naddrEncode(replaceable)), { type: 'naddr', data: replaceable });
});

test('interop with nostr-tools both ways', () => {
  const ev = { id: ID, relays: ['wss://r.x.com'], author: NPUB_EX_HEX, kind: 1 };
  assert.deepEqual(decode(nt.neventEncode(ev)), { type: 'nevent', data: ev });
  assert.deepEqual(nt.decode(neventEncode(ev)), { type: 'nevent', data: ev });
  const addr = { identifier: 'x', pubkey: NPUB_EX_HEX, kind: 30000, relays: ['wss://r.x.com', 'wss://s.x.com'] };
  assert.deepEqual(decode(nt.naddrEncode(addr)), { type: 'naddr', data: addr });
  assert.deepEqual(nt.decode(naddrEncode(addr)), { type: 'naddr', data: addr });
  assert.equal(npubEncode(NPUB_EX_HEX), nt.npubEncode(NPUB_EX_HEX));
});

test('unknown TLV types are ignored; repeated single-valued ones keep the first', () => {
  const tlv = (t: number, v: Uint8Array): number[] => [t, v.length, ...v];
  const data = Uint8Array.from([...tlv(9, Uint8Array.of(1, 2, 3)), ...tlv(0, hexToBytes(ID)), ...tlv(0, hexToBytes(NPUB_EX_HEX)), ...tlv(200, new Uint8Array(0))]);
  assert.deepEqual(decode(bech32Encode('nevent', data)), { type: 'nevent', data: { id: ID, relays: [] } });
});

test('invalid inputs', () => {
  const bad = (s: string, re: RegExp): void => {
    assert.throws(() => decode(s), (e: unknown) => e instanceof Nip19Error && e.name === 'Nip19Error' && re.test(e.message), s);
  };
  const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'q' ? 'p' : 'q') + s.slice(i + 1);
  bad(flip(NPUB_EX, 20), /checksum/);
  bad(flip(NPROFILE_EX, NPROFILE_EX.length - 1), /checksum/);
  bad('nrelay1' + NPUB_EX.slice(5), /checksum/); // the checksum covers the prefix
  bad(bech32Encode('nrelay', new Uint8Array(4)), /unknown prefix nrelay/); // deprecated, unsupported
  bad(bech32Encode('npub', new Uint8Array(31)), /32 bytes/);
  bad(bech32Encode('note', new Uint8Array(33)), /32 bytes/);
  bad(bech32Encode('nsec', new Uint8Array(0)), /32 bytes/);
  bad(NPUB_EX.slice(0, 10) + NPUB_EX.slice(10).toUpperCase(), /mixed case/);
  bad(NPUB_EX.replace('npub1', 'npub1b'), /invalid character|checksum/); // 'b' is not in the charset
  bad('npub1', /too short|missing/);
  bad('', /missing/);
  bad('x'.repeat(5001), /too long/);
  bad(NPUB_EX + ' ', /invalid character/);

  // TLV structure
  const id = hexToBytes(ID);
  bad(bech32Encode('nevent', Uint8Array.from([0, 32, ...id.slice(0, 31)])), /truncated TLV 0/);
  bad(bech32Encode('nevent', Uint8Array.from([0, 32, ...id, 1])), /truncated TLV header/);
  bad(bech32Encode('nevent', Uint8Array.from([0, 31, ...id.slice(0, 31)])), /event id must be 32 bytes/);
  bad(bech32Encode('nevent', Uint8Array.from([0, 32, ...id, 3, 2, 0, 1])), /kind must be 4 bytes/);
  bad(bech32Encode('nevent', Uint8Array.from([1, 3, 0x77, 0x73, 0x73])), /missing event id/);
  bad(bech32Encode('nprofile', new Uint8Array(0)), /missing pubkey/);
  bad(bech32Encode('naddr', Uint8Array.from([0, 0, 3, 4, 0, 0, 0, 1])), /missing pubkey/);
  bad(bech32Encode('naddr', Uint8Array.from([0, 0, 2, 32, ...id])), /missing kind/);
  bad(bech32Encode('naddr', Uint8Array.from([2, 32, ...id, 3, 4, 0, 0, 0, 1])), /missing identifier/);
  bad(bech32Encode('nprofile', Uint8Array.from([0, 32, ...id, 1, 2, 0xc3, 0x28])), /relay is not valid UTF-8/);
});

test('encoders validate their input', () => {
  const bad = (f: () => unknown, re: RegExp): void => void assert.throws(f, (e: unknown) => e instanceof Nip19Error && re.test(e.message));
  bad(() => npubEncode(NPUB_EX_HEX.toUpperCase()), /pubkey must be 64 lowercase hex/);
  bad(() => noteEncode('abc'), /event id/);
  bad(() => nsecEncode(new Uint8Array(31)), /32 bytes/);
  bad(() => neventEncode({ id: ID, kind: -1 }), /kind/);
  bad(() => neventEncode({ id: ID, kind: 2 ** 32 }), /kind/);
  bad(() => neventEncode({ id: ID, author: 'nope' }), /author/);
  bad(() => naddrEncode({ identifier: 'x'.repeat(256), pubkey: NPUB_EX_HEX, kind: 30000 }), /longer than 255/);
  bad(() => nprofileEncode({ pubkey: NPUB_EX_HEX, relays: ['wss://' + 'r'.repeat(300)] }), /longer than 255/);
  const many = Array.from({ length: 70 }, (_, i) => `wss://relay-number-${i}.example.com/with/a/long/path`);
  bad(() => nprofileEncode({ pubkey: NPUB_EX_HEX, relays: many }), /too long/); // > 5000 characters
});

test('bech32 primitives', () => {
  // BIP-173 valid test strings.
  assert.deepEqual(bech32Decode('a12uel5l').data, new Uint8Array(0));
  assert.equal(bech32Decode('A12UEL5L').prefix, 'a');
  assert.equal(bech32Decode('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw').data.length, 20);
  assert.equal(bech32Decode('split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w').prefix, 'split');
  // BIP-173 invalid strings
  for (const s of ['A12uEL5L', 'pzry9x0s0muk', '1pzry9x0s0muk', 'x1b4n0q5v', 'li1dgmt3', 'A1G7SGD8', '10a06t8', '1qzzfhee', '\x7f1axkwrx']) {
    assert.throws(() => bech32Decode(s), Bech32Error, s);
  }
  // One byte takes 2 words; the last carries 2 padding bits, which must be zero (BIP-173 convertbits).
  assert.equal(bech32Encode('x', Uint8Array.of(0xff)), bech32EncodeWords('x', [31, 28]));
  assert.deepEqual(bech32Decode(bech32EncodeWords('x', [31, 28])).data, Uint8Array.of(0xff));
  assert.throws(() => bech32Decode(bech32EncodeWords('x', [31, 29])), /invalid padding/);
  // A whole spare word (5 bits of padding) is also invalid.
  assert.throws(() => bech32Decode(bech32EncodeWords('x', [31, 28, 0])), /invalid padding/);
  assert.throws(() => decode(bech32EncodeWords('npub', [...bech32WordsOf(NPUB_EX), 0, 0])), /invalid padding/);
  for (let n = 0; n < 40; n++) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    assert.deepEqual(bech32Decode(bech32Encode('test', data)).data, data);
  }
});

test('pubkeyFromInput accepts hex, npub and nostr: URIs', () => {
  assert.equal(pubkeyFromInput(NPUB_EX), NPUB_EX_HEX);
  assert.equal(pubkeyFromInput(` nostr:${NPUB_EX}\n`), NPUB_EX_HEX);
  assert.equal(pubkeyFromInput(NPUB_EX_HEX.toUpperCase()), NPUB_EX_HEX);
  assert.throws(() => pubkeyFromInput(NSEC_EX), /expected npub/);
});
