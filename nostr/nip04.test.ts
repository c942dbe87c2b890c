import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import * as nt04 from 'nostr-tools/nip04';
import { decrypt, encrypt, Nip04Error } from './nip04.js';
import { generateSecretKey, getPublicKey } from './verify.js';

const skA = sha256(utf8ToBytes('nip04 alice'));
const skB = sha256(utf8ToBytes('nip04 bob'));
const pkA = getPublicKey(skA);
const pkB = getPublicKey(skB);
const IV = Uint8Array.from({ length: 16 }, (_, i) => i);

const throwsNip04 = (fn: () => unknown, message: RegExp): void =>
  assert.throws(fn, (err: Error) => err instanceof Nip04Error && err.name === 'Nip04Error' && message.test(err.message));

test('round trip both ways, empty, multi-block and non-ASCII text', () => {
  for (const text of ['', 'hello', 'x'.repeat(16), 'x'.repeat(1000), 'Grüße, 世界 🌍', '[["i","what is the capital of France? ","text"]]']) {
    const c = encrypt(skA, pkB, text);
    assert.match(c, /^[A-Za-z0-9+/]+=*\?iv=[A-Za-z0-9+/]{22}==$/);
    assert.equal(decrypt(skB, pkA, c), text);
    assert.equal(decrypt(skA, pkB, c), text, 'the sender can read what it sent');
  }
});

test('format: base64(ciphertext)?iv=base64(iv), PKCS#7 whole blocks, a fresh iv each time', () => {
  const c = encrypt(skA, pkB, 'hello', IV);
  const [ct, iv] = c.split('?iv=');
  assert.equal(Buffer.from(iv!, 'base64').toString('hex'), '000102030405060708090a0b0c0d0e0f');
  assert.equal(Buffer.from(ct!, 'base64').length, 16);
  assert.equal(Buffer.from(encrypt(skA, pkB, 'x'.repeat(16), IV).split('?iv=')[0]!, 'base64').length, 32);
  assert.equal(encrypt(skA, pkB, 'hello', IV), c, 'deterministic with a fixed iv');
  assert.notEqual(encrypt(skA, pkB, 'hello'), encrypt(skA, pkB, 'hello'));
});

test('interop with nostr-tools nip04, both directions', () => {
  for (const text of ['hi', 'Grüße 🌍', 'y'.repeat(333)]) {
    assert.equal(nt04.decrypt(skB, pkA, encrypt(skA, pkB, text)), text);
    assert.equal(decrypt(skB, pkA, nt04.encrypt(skA, pkB, text)), text);
  }
  // Keys whose pubkey has an odd y: the x-only peer key is lifted to even y; the shared x is the same.
  for (let i = 0; i < 4; i++) {
    const a = generateSecretKey();
    const b = generateSecretKey();
    assert.equal(decrypt(b, getPublicKey(a), nt04.encrypt(a, getPublicKey(b), 'random keys')), 'random keys');
  }
});

test('malformed content is rejected with a Nip04Error naming the problem', () => {
  const good = encrypt(skA, pkB, 'hello', IV);
  const [ct, iv] = good.split('?iv=') as [string, string];
  throwsNip04(() => decrypt(skB, pkA, 'no separator'), /expected base64\?iv=base64/);
  throwsNip04(() => decrypt(skB, pkA, `${good}?iv=${iv}`), /expected base64\?iv=base64/);
  throwsNip04(() => decrypt(skB, pkA, `?iv=${iv}`), /invalid base64 in ciphertext/);
  throwsNip04(() => decrypt(skB, pkA, `${ct}?iv=`), /invalid base64 in iv/);
  throwsNip04(() => decrypt(skB, pkA, `${ct}!?iv=${iv}`), /invalid base64 in ciphertext/);
  throwsNip04(() => decrypt(skB, pkA, `${ct}?iv=${iv.slice(0, -2)}`), /invalid base64 in iv/);
  throwsNip04(() => decrypt(skB, pkA, `${ct}?iv=AAAA`), /invalid iv length/);
  throwsNip04(() => decrypt(skB, pkA, `AAAA?iv=${iv}`), /invalid ciphertext length/);
  throwsNip04(() => decrypt(skB, pkA, 42 as unknown as string), /content must be a string/);
});

test('a wrong key or a tampered last block fails as bad padding (or bad UTF-8), never as garbage text', () => {
  const c = encrypt(skA, pkB, 'hello', IV);
  const eve = sha256(utf8ToBytes('nip04 eve'));
  throwsNip04(() => decrypt(eve, pkA, c), /invalid padding|invalid utf-8/);
  const [ct, iv] = c.split('?iv=') as [string, string];
  const bytes = Buffer.from(ct, 'base64');
  bytes[15] = bytes[15]! ^ 0xff;
  throwsNip04(() => decrypt(skB, pkA, `${bytes.toString('base64')}?iv=${iv}`), /invalid padding|invalid utf-8/);
  // Valid padding around bytes that are not UTF-8: CBC's first plaintext block is D(C1) XOR iv, so
  // flipping iv[0] turns 'h' into 0x80 (a lone continuation byte) and leaves the padding intact.
  const badIv = Uint8Array.from(IV, (b, i) => (i === 0 ? b ^ 'h'.charCodeAt(0) ^ 0x80 : b));
  throwsNip04(() => decrypt(skB, pkA, `${ct}?iv=${Buffer.from(badIv).toString('base64')}`), /invalid utf-8 in plaintext/);
});

test('bad keys', () => {
  throwsNip04(() => encrypt(new Uint8Array(32), pkB, 'x'), /invalid private key/);
  throwsNip04(() => encrypt(skA, 'zz', 'x'), /invalid public key/);
  throwsNip04(() => encrypt(skA, pkB.toUpperCase(), 'x'), /invalid public key/);
  // x = 5 is not on secp256k1 (5^3 + 7 = 132 is not a square mod p).
  throwsNip04(() => encrypt(skA, '00'.repeat(31) + '05', 'x'), /invalid public key/);
  throwsNip04(() => encrypt(skA, pkB, 'x', new Uint8Array(8)), /invalid iv length/);
});
