import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { finalizeEvent as ntFinalize, verifyEvent as ntVerify } from 'nostr-tools/pure';
import { getEventHash, type NostrEvent } from './nip01.js';
import {
  BAD_ID,
  BAD_SIG,
  checkEvent,
  defaultVerifier,
  finalizeEvent,
  generateSecretKey,
  getPublicKey,
  makeWasmVerifier,
  pureVerifier,
  verifyEvent,
  wasmVerifier,
  type SchnorrVerifier,
} from './verify.js';

interface Bip340Vector {
  index: number;
  secretKey: string | null;
  publicKey: string;
  auxRand: string | null;
  message: string;
  signature: string;
  valid: boolean;
  comment: string;
}
const bip340: { vectors: Bip340Vector[] } = JSON.parse(
  readFileSync(new URL('../../nostr/vectors/bip340.json', import.meta.url), 'utf8'),
);

const wasm: SchnorrVerifier = wasmVerifier ?? assert.fail('tiny-secp256k1 should load in this environment');
const verifiers: SchnorrVerifier[] = [pureVerifier, wasm];

// Fixed key so failures are reproducible.
const SK = hexToBytes('5c0c523f52a5b6fad39ed2403092df8cebc36318b39383bca6c00808626fab3a');
const PK = getPublicKey(SK);
const good: NostrEvent = finalizeEvent({ kind: 1, created_at: 1700000000, tags: [['t', 'timmy']], content: 'hello "nostr"\n' }, SK);

const flipHex = (h: string, i: number): string => h.slice(0, i) + (h[i] === '0' ? '1' : '0') + h.slice(i + 1);
const P = 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f'; // field size
const N = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'; // curve order

/** [description, sig, msg, pubkey, expected] cases every verifier must agree on. */
function cases(): [string, string, string, string, boolean][] {
  const { id, sig, pubkey } = good;
  const r = sig.slice(0, 64);
  const s = sig.slice(64);
  return [
    ['valid', sig, id, pubkey, true],
    ['tampered msg', sig, flipHex(id, 10), pubkey, false],
    ['tampered r', flipHex(sig, 5), id, pubkey, false],
    ['tampered s', flipHex(sig, 100), id, pubkey, false],
    ['wrong pubkey', sig, id, getPublicKey(hexToBytes('01'.repeat(32))), false],
    ['pubkey not on curve', sig, id, '0'.repeat(63) + '5', false], // x=5: 5^3+7=132 is not a square mod p
    ['pubkey x = p', sig, id, P, false],
    ['pubkey all ff', sig, id, 'f'.repeat(64), false],
    ['pubkey zero', sig, id, '0'.repeat(64), false],
    ['r = p', P + s, id, pubkey, false],
    ['r = n (tiny-secp256k1 rejects r >= n outright, noble computes and fails)', N + s, id, pubkey, false],
    ['s = n', r + N, id, pubkey, false],
    ['s = 2^256-1', r + 'f'.repeat(64), id, pubkey, false],
    ['all-zero sig', '0'.repeat(128), id, pubkey, false],
    ['uppercase sig', sig.toUpperCase(), id, pubkey, false],
    ['uppercase pubkey', sig, id, pubkey.toUpperCase(), false],
    ['short sig', sig.slice(2), id, pubkey, false],
    ['long sig', sig + '00', id, pubkey, false],
    ['short msg', sig, id.slice(2), pubkey, false],
    ['short pubkey', sig, id, pubkey.slice(2), false],
    ['non-hex sig', 'zz' + sig.slice(2), id, pubkey, false],
    ['non-hex msg', sig, 'g' + id.slice(1), pubkey, false],
    ['empty strings', '', '', '', false],
    ['whitespace', ` ${sig}`, id, pubkey, false],
  ];
}

for (const v of verifiers) {
  test(`${v.name}: edge cases`, () => {
    for (const [what, sig, msg, pub, want] of cases()) assert.equal(v.verify(sig, msg, pub), want, what);
  });

  test(`${v.name}: never throws on non-strings`, () => {
    const junk: unknown[] = [undefined, null, 42, {}, [], new Uint8Array(64), Symbol('x')];
    for (const j of junk) {
      assert.equal(v.verify(j as string, good.id, good.pubkey), false);
      assert.equal(v.verify(good.sig, j as string, good.pubkey), false);
      assert.equal(v.verify(good.sig, good.id, j as string), false);
    }
    // and still works afterwards (tiny-secp256k1 keeps scratch buffers in WASM memory)
    assert.equal(v.verify(good.sig, good.id, good.pubkey), true);
  });

  test(`${v.name}: BIP-340 vectors 0-14`, () => {
    for (const t of bip340.vectors) {
      const got = v.verify(t.signature.toLowerCase(), t.message.toLowerCase(), t.publicKey.toLowerCase());
      assert.equal(got, t.valid, `vector ${t.index}: ${t.comment || 'valid'}`);
    }
  });

  test(`${v.name}: events`, () => {
    assert.equal(verifyEvent(good, v), true);
    assert.deepEqual(checkEvent(good, v), { ok: true });
    assert.deepEqual(checkEvent({ ...good, id: flipHex(good.id, 0) }, v), { ok: false, reason: BAD_ID });
    assert.deepEqual(checkEvent({ ...good, content: 'hello' }, v), { ok: false, reason: BAD_ID });
    assert.deepEqual(checkEvent({ ...good, sig: flipHex(good.sig, 127) }, v), { ok: false, reason: BAD_SIG });
    // Swapping the pubkey changes the id too; re-hash so the signature check is what fails.
    const other = getPublicKey(hexToBytes('02'.repeat(32)));
    const moved = { ...good, pubkey: other };
    assert.deepEqual(checkEvent({ ...moved, id: getEventHash(moved) }, v), { ok: false, reason: BAD_SIG });
    assert.equal(verifyEvent({ ...good, sig: 'nope' }, v), false);
    assert.equal(verifyEvent(null as unknown as NostrEvent, v), false);
  });
}

test('BIP-340 vectors: the signing ones reproduce byte for byte (checks the vector file itself)', () => {
  for (const t of bip340.vectors) {
    if (!t.secretKey || !t.auxRand) continue;
    const sk = hexToBytes(t.secretKey.toLowerCase());
    assert.equal(getPublicKey(sk), t.publicKey.toLowerCase(), `vector ${t.index} pubkey`);
    const sig = schnorr.sign(hexToBytes(t.message.toLowerCase()), sk, hexToBytes(t.auxRand.toLowerCase()));
    assert.equal(bytesToHex(sig), t.signature.toLowerCase(), `vector ${t.index} sig`);
  }
});

test('both verifiers agree on random valid and corrupted signatures', () => {
  for (let i = 0; i < 20; i++) {
    const sk = generateSecretKey();
    const e = finalizeEvent({ kind: i, created_at: 1700000000 + i, tags: [], content: `n${i}` }, sk);
    const bad = flipHex(e.sig, i * 6);
    for (const [sig, want] of [[e.sig, true], [bad, false]] as const) {
      assert.equal(pureVerifier.verify(sig, e.id, e.pubkey), want);
      assert.equal(wasm.verify(sig, e.id, e.pubkey), want);
    }
  }
});

test('defaultVerifier is the WASM one here; fallback yields undefined instead of throwing', () => {
  assert.equal(defaultVerifier, wasmVerifier);
  assert.equal(
    makeWasmVerifier(() => {
      throw new Error('CompileError: WebAssembly.Module()');
    }),
    undefined,
  );
  assert.equal(makeWasmVerifier(() => ({}) as never), undefined);
  const fake = makeWasmVerifier(() => ({
    verifySchnorr: () => {
      throw new Error('Expected Point');
    },
  }));
  assert.equal(fake?.verify(good.sig, good.id, good.pubkey), false);
});

test('finalizeEvent interoperates with nostr-tools', () => {
  assert.equal(good.pubkey, PK);
  assert.equal(good.id, getEventHash(good));
  assert.equal(ntVerify({ ...good, tags: good.tags.map((t) => [...t]) }), true);
  const theirs = ntFinalize({ kind: 7, created_at: 1700000001, tags: [['e', good.id]], content: '+' }, SK);
  assert.equal(verifyEvent(theirs), true);
  assert.equal(theirs.pubkey, PK);
  assert.deepEqual(Object.keys(good), ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig']);
});

test('signing rejects bad keys and templates', () => {
  assert.throws(() => getPublicKey(new Uint8Array(32)), TypeError);
  assert.throws(() => getPublicKey(hexToBytes(N)), TypeError);
  assert.throws(() => getPublicKey(new Uint8Array(31).fill(1)), TypeError);
  assert.throws(() => finalizeEvent({ kind: 1.5, created_at: 1, tags: [], content: '' }, SK), /kind/);
  assert.throws(() => finalizeEvent({ kind: 1, created_at: -1, tags: [], content: '' }, SK), /created_at/);
  const sk = generateSecretKey();
  assert.equal(sk.length, 32);
  assert.notDeepEqual(sk, generateSecretKey());
});
