// NIP-90 interop with NDK (a client we did not write): its encrypted job requests and its feedback,
// including the `payment_required` spelling. No relays: NDK only builds, encrypts and signs here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import NDK, { NDKDVMJobFeedback, NDKDVMRequest, NDKDvmJobFeedbackStatus, NDKPrivateKeySigner } from '@nostr-dev-kit/ndk';
import type { NostrEvent } from './nip01.js';
import * as nip04 from './nip04.js';
import * as nip44 from './nip44.js';
import { buildFeedback, parseFeedback, parseJobRequest, type DecryptFn } from './nip90.js';
import { checkEvent, getPublicKey } from './verify.js';

const customerSk = sha256(utf8ToBytes('nip90 ndk customer'));
const providerSk = sha256(utf8ToBytes('nip90 ndk provider'));
const providerPk = getPublicKey(providerSk);

// No explicit relays and no outbox pool: NDK creates no relay objects (and so none of their timers).
const ndkFor = (sk: Uint8Array) => {
  const signer = new NDKPrivateKeySigner(bytesToHex(sk));
  const ndk = new NDK({ signer, enableOutboxModel: false, autoConnectUserRelays: false, autoFetchUserMutelist: false });
  return { ndk, signer };
};

const decryptFor =
  (customer: string): DecryptFn =>
  (ct, scheme) =>
    scheme === 'nip44' ? nip44.decrypt(ct, nip44.getConversationKey(providerSk, customer)) : nip04.decrypt(providerSk, customer, ct);

async function ndkRequest(): Promise<NostrEvent> {
  const { ndk, signer } = ndkFor(customerSk);
  const req = new NDKDVMRequest(ndk);
  req.kind = 5050;
  req.addInput('what is the capital of France? ', 'text');
  req.addParam('model', 'LLaMA-2');
  req.addParam('max_tokens', '512');
  req.output = 'text/plain';
  req.bid = 2000;
  // NDK moves i, param, output, relays and bid into the encrypted content, adds p and encrypted (NIP-44).
  await req.encryption(ndk.getUser({ pubkey: providerPk }), signer);
  await req.sign(signer);
  return req.rawEvent() as unknown as NostrEvent;
}

test("NDK's encrypted job request parses with a decrypt callback", async () => {
  const e = await ndkRequest();
  assert.ok(checkEvent(e).ok);
  assert.deepEqual(
    e.tags.map((t) => t[0]),
    ['p', 'encrypted'],
  );
  const r = parseJobRequest(e, decryptFor(e.pubkey));
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.equal(r.value.encryption, 'nip44');
  assert.deepEqual(r.value.inputs, [{ data: 'what is the capital of France? ', type: 'text' }]);
  assert.deepEqual(r.value.params, [
    ['model', 'LLaMA-2'],
    ['max_tokens', '512'],
  ]);
  assert.equal(r.value.output, 'text/plain');
  assert.equal(r.value.bidMsat, 2000);
  assert.deepEqual(r.value.providers, [providerPk]);
  assert.deepEqual(parseJobRequest(e), { ok: false, reason: 'encrypted request (nip44) but no decrypt function' });
});

test("NDK's payment_required feedback is read as payment-required; ours carries the spec's spelling", async () => {
  const e = await ndkRequest();
  const { ndk, signer } = ndkFor(providerSk);
  const fb = new NDKDVMRequest(ndk, e as never).createFeedback(NDKDvmJobFeedbackStatus.PayReq);
  await fb.sign(signer);
  const raw = fb.rawEvent() as unknown as NostrEvent;
  assert.ok(raw.tags.some((t) => t[0] === 'status' && t[1] === 'payment_required'));
  const r = parseFeedback(raw);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.equal(r.value.status, 'payment-required');
  assert.equal(r.value.requestId, e.id);
  assert.equal(r.value.customer, e.pubkey);

  const req = parseJobRequest(e, decryptFor(e.pubkey));
  assert.ok(req.ok);
  const ours = new NDKDVMJobFeedback(ndk, { ...buildFeedback({ request: req.value, status: 'payment-required', amountMsat: 2000 }), pubkey: providerPk } as never);
  assert.equal(ours.status, 'payment-required');
});
