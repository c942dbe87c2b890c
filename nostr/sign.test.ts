// Signing goes through libsecp256k1 (WASM) when it loads: its signatures must verify with the pure
// @noble verifier too, and a signer that reuses its derived pubkey must produce the same events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finalizeEvent, generateSecretKey, getPublicKey, pureVerifier, wasmVerifier, verifyEvent } from './verify.js';
import { secretKeySigner } from './signer.js';

test('signatures verify with both verifiers, and differ each time (fresh aux randomness)', async () => {
  const sk = generateSecretKey();
  const t = { kind: 1, created_at: 1_700_000_000, tags: [['t', 'x']], content: 'signed' };
  const a = finalizeEvent(t, sk);
  const b = await secretKeySigner(sk).signEvent(t);
  assert.equal(a.id, b.id);
  assert.equal(a.pubkey, getPublicKey(sk));
  assert.notEqual(a.sig, b.sig);
  for (const e of [a, b]) {
    assert.ok(verifyEvent(e, pureVerifier));
    if (wasmVerifier) assert.ok(verifyEvent(e, wasmVerifier));
  }
});
