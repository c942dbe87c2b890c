import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { decrypt as ntDecrypt, encrypt as ntEncrypt } from 'nostr-tools/nip49';
import { bech32Decode, bech32Encode } from './bech32.js';
import { decrypt, encrypt, Nip49Error, normalizePassword, parse } from './nip49.js';

// 49.md "Decryption" test data.
const SPEC_NCRYPTSEC =
  'ncryptsec1qgg9947rlpvqu76pj5ecreduf9jxhselq2nae2kghhvd5g7dgjtcxfqtd67p9m0w57lspw8gsq6yphnm8623nsl8xn9j4jdzz84zm3frztj3z7s35vpzmqf6ksu8r89qk5z2zxfmu5gv8th8wclt0h4p';
const SPEC_KEY = '3501454135014541350145413501453fefb02227e449e57cf4d3a3ce05378683';

const SK = hexToBytes('0b4e2ea4b4a8c0d7a2d4ba7d0ec0c3c0f0e6b7b5f53c0f8e3c6ad3e0c1d2e3f4');

test('49.md vector: decrypts with password "nostr" at the log_n it carries (16)', () => {
  const info = parse(SPEC_NCRYPTSEC);
  assert.equal(info.logN, 16);
  assert.equal(bytesToHex(decrypt(SPEC_NCRYPTSEC, 'nostr')), SPEC_KEY);
});

test('49.md password normalization example', () => {
  const input = '\u212B\u2126\u1E9B\u0323';
  assert.deepEqual([...Buffer.from(input, 'utf8')], [0xe2, 0x84, 0xab, 0xe2, 0x84, 0xa6, 0xe1, 0xba, 0x9b, 0xcc, 0xa3]);
  const norm = normalizePassword(input);
  assert.deepEqual([...norm].map((c) => c.codePointAt(0)), [0x00c5, 0x03a9, 0x1e69]);
  assert.deepEqual([...Buffer.from(norm, 'utf8')], [0xc3, 0x85, 0xce, 0xa9, 0xe1, 0xb9, 0xa9]);
  // So either spelling of the password opens the same ncryptsec.
  const enc = encrypt(SK, input, 4);
  assert.deepEqual(decrypt(enc, norm), SK);
});

test('round trip at low log_n, every key security byte', () => {
  for (const ksb of [0x00, 0x01, 0x02] as const) {
    const enc = encrypt(SK, 'correct horse', 8, ksb);
    assert.match(enc, /^ncryptsec1[02-9ac-hj-np-z]+$/);
    assert.equal(bech32Decode(enc).data.length, 91);
    const info = parse(enc);
    assert.equal(info.logN, 8);
    assert.equal(info.keySecurity, ksb);
    assert.deepEqual(decrypt(enc, 'correct horse'), SK);
  }
  // fresh salt and nonce every time
  assert.notEqual(encrypt(SK, 'pw', 4), encrypt(SK, 'pw', 4));
});

test('wrong password and tampering fail with Nip49Error', () => {
  const enc = encrypt(SK, 'right', 6, 0x01);
  const fails = (s: string, pw: string, re: RegExp): void => {
    assert.throws(() => decrypt(s, pw), (e: unknown) => e instanceof Nip49Error && e.name === 'Nip49Error' && re.test(e.message));
  };
  fails(enc, 'wrong', /wrong password/);
  fails(enc, 'Right', /wrong password/);
  fails(enc, '', /wrong password/);
  const raw = bech32Decode(enc).data;
  const with_ = (i: number, v: number): string => {
    const b = Uint8Array.from(raw);
    b[i] = v;
    return bech32Encode('ncryptsec', b);
  };
  fails(with_(42, 0x02), 'right', /wrong password/); // key security byte is the AAD: authenticated
  fails(with_(60, raw[60]! ^ 1), 'right', /wrong password/); // ciphertext
  fails(with_(0, 0x01), 'right', /unsupported version 1/);
  fails(with_(1, 0), 'right', /log_n 0/);
  fails(with_(1, 21), 'right', /log_n 21 outside/); // DoS guard: 2 GiB of scrypt memory from an untrusted byte
  fails(bech32Encode('ncryptsec', raw.subarray(0, 90)), 'right', /expected 91 bytes/);
  fails(bech32Encode('nsec', raw), 'right', /expected ncryptsec, got nsec/);
  fails(enc.slice(0, -1) + (enc.endsWith('q') ? 'p' : 'q'), 'right', /checksum/);
});

test('encrypt validates its arguments', () => {
  const bad = (f: () => unknown, re: RegExp): void => void assert.throws(f, (e: unknown) => e instanceof Nip49Error && re.test(e.message));
  bad(() => encrypt(new Uint8Array(32), 'pw', 4), /secret key/);
  bad(() => encrypt(new Uint8Array(31).fill(1), 'pw', 4), /secret key/);
  bad(() => encrypt(SK, 'pw', 0), /log_n/);
  bad(() => encrypt(SK, 'pw', 23), /log_n/);
  bad(() => encrypt(SK, 'pw', 4.5), /log_n/);
  bad(() => encrypt(SK, 'pw', 4, 3 as 0), /key security/);
  bad(() => encrypt(SK, undefined as unknown as string, 4), /password/);
});

test('interoperates with nostr-tools nip49', () => {
  assert.deepEqual(ntDecrypt(encrypt(SK, 'pässword', 5, 0x01), 'pässword'), SK);
  assert.deepEqual(decrypt(ntEncrypt(SK, 'pässword', 5, 0x00), 'pässword'), SK);
});
