import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeZapRequest, makeZapReceipt, validateZapRequest } from 'nostr-tools/nip57';
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent, type EventTemplate } from './verify.js';
import type { NostrEvent } from './nip01.js';
import {
  descriptionHash,
  lnurlMetadata,
  parseCallbackParams,
  parseZapRequest,
  payRequest,
  zapReceiptTemplate,
  ZAP_RECEIPT_KIND,
} from './nip57.js';

const sender = generateSecretKey();
const recipientKey = generateSecretKey();
const RECIPIENT = getPublicKey(recipientKey);
const NOTE = 'ab'.repeat(32);
const RELAY = 'wss://relay.example.com';

const sign = (t: EventTemplate, sk = sender): NostrEvent => finalizeEvent(t, sk);
const profileZap = (amount = 21_000): NostrEvent => sign(makeZapRequest({ pubkey: RECIPIENT, amount, relays: [RELAY], comment: 'for the scribe' }) as EventTemplate);
const withTags = (tags: string[][], kind = 9734): NostrEvent => sign({ kind, created_at: 1_700_000_000, content: '', tags });

test('a zap request made by nostr-tools passes, and the values are read', () => {
  const e = profileZap();
  const json = JSON.stringify(e);
  assert.equal(validateZapRequest(json), null); // nostr-tools agrees
  const r = parseZapRequest(json, { amountMsat: 21_000, receiptPubkey: RECIPIENT });
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.equal(r.value.recipient, RECIPIENT);
  assert.deepEqual(r.value.relays, [RELAY]);
  assert.equal(r.value.amountMsat, 21_000);
  assert.equal(r.value.json, json);
  assert.equal(r.value.eventId, undefined);
});

test('an event zap (nostr-tools) carries its e and k tags into the receipt', () => {
  const target = sign({ kind: 5100, created_at: 1_700_000_000, content: '', tags: [] }, recipientKey);
  const e = sign(makeZapRequest({ event: { ...target, tags: [] }, amount: 5000, relays: [RELAY] }) as EventTemplate);
  const json = JSON.stringify(e);
  const r = parseZapRequest(json, { amountMsat: 5000 });
  assert.ok(r.ok);
  assert.equal(r.value.eventId, target.id);
  const receipt = sign(zapReceiptTemplate({ request: r.value, bolt11: 'lnbcrt50n1xyz', paidAt: 1_700_000_100, preimage: '11'.repeat(32) }), recipientKey);
  assert.equal(receipt.kind, ZAP_RECEIPT_KIND);
  assert.equal(receipt.created_at, 1_700_000_100);
  assert.equal(receipt.content, '');
  const tag = (n: string) => receipt.tags.find((t) => t[0] === n)?.[1];
  assert.equal(tag('p'), RECIPIENT);
  assert.equal(tag('P'), e.pubkey);
  assert.equal(tag('e'), target.id);
  assert.equal(tag('k'), '5100');
  assert.equal(tag('bolt11'), 'lnbcrt50n1xyz');
  assert.equal(tag('description'), json);
  assert.equal(tag('preimage'), '11'.repeat(32));
  assert.ok(verifyEvent(receipt));
  // The same tags as nostr-tools' receipt builder (its order differs).
  const theirs = makeZapReceipt({ zapRequest: json, bolt11: 'lnbcrt50n1xyz', paidAt: new Date(1_700_000_100_000), preimage: '11'.repeat(32) });
  const norm = (tags: readonly (readonly string[])[]) => tags.map((t) => JSON.stringify(t)).sort();
  assert.deepEqual(norm(receipt.tags.filter((t) => t[0] !== 'k')), norm(theirs.tags));
});

test('Appendix D: each invalid zap request is refused with its reason', () => {
  const good = [['p', RECIPIENT], ['relays', RELAY], ['amount', '1000']];
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{', /not JSON/],
    ['not an event', '{"kind":9734}', /not a nostr event/],
    ['wrong kind', JSON.stringify(withTags(good, 1)), /kind 9734/],
    ['bad signature', JSON.stringify({ ...withTags(good), sig: 'aa'.repeat(64) }), /signature/],
    ['changed after signing', JSON.stringify({ ...withTags(good), content: 'x' }), /id/],
    ['no tags', JSON.stringify(withTags([])), /no tags/],
    ['no p tag', JSON.stringify(withTags([['relays', RELAY]])), /exactly one p tag, not 0/],
    ['two p tags', JSON.stringify(withTags([...good, ['p', NOTE]])), /exactly one p tag, not 2/],
    ['p not hex', JSON.stringify(withTags([['p', 'npub1x'], ['relays', RELAY]])), /p tag is not a hex pubkey/],
    ['two e tags', JSON.stringify(withTags([...good, ['e', NOTE], ['e', NOTE]])), /0 or 1 e tags/],
    ['e not hex', JSON.stringify(withTags([...good, ['e', 'xyz']])), /e tag is not a hex/],
    ['no relays', JSON.stringify(withTags([['p', RECIPIENT]])), /relays tag/],
    ['amount differs', JSON.stringify(withTags([['p', RECIPIENT], ['relays', RELAY], ['amount', '999']])), /does not match/],
    ['amount not a number', JSON.stringify(withTags([['p', RECIPIENT], ['relays', RELAY], ['amount', '1e3']])), /does not match/],
    ['bad coordinate', JSON.stringify(withTags([...good, ['a', 'not-a-coordinate']])), /coordinate/],
    ['two P tags', JSON.stringify(withTags([...good, ['P', RECIPIENT], ['P', RECIPIENT]])), /0 or 1 P tags/],
    ['P not the receipt signer', JSON.stringify(withTags([...good, ['P', NOTE]])), /P tag/],
  ];
  for (const [what, json, reason] of cases) {
    const r = parseZapRequest(json, { amountMsat: 1000, receiptPubkey: RECIPIENT });
    assert.equal(r.ok, false, what);
    if (!r.ok) assert.match(r.reason, reason, what);
  }
  // Optional ones: no amount tag, a valid coordinate, a P equal to the receipt signer.
  const ok = parseZapRequest(JSON.stringify(withTags([['p', RECIPIENT], ['relays', RELAY], ['a', `30023:${RECIPIENT}:post`], ['P', RECIPIENT]])), {
    amountMsat: 1234,
    receiptPubkey: RECIPIENT,
  });
  assert.ok(ok.ok);
  assert.equal(ok.value.address, `30023:${RECIPIENT}:post`);
  assert.equal(ok.value.amountMsat, undefined);
});

test('LNURL-pay: metadata, pay request and callback parameters', () => {
  const metadata = lnurlMetadata('Zap scribe', 'scribe@example.com');
  assert.deepEqual(JSON.parse(metadata), [['text/plain', 'Zap scribe'], ['text/identifier', 'scribe@example.com']]);
  const pr = payRequest({ callback: 'https://example.com/lnurlp/scribe/callback', minSendable: 1000, maxSendable: 10_000, metadata, nostrPubkey: RECIPIENT });
  assert.equal(pr.tag, 'payRequest');
  assert.equal(pr.allowsNostr, true);
  assert.throws(() => payRequest({ ...pr, nostrPubkey: 'x' }), TypeError);
  const bounds = { minSendable: 1000, maxSendable: 10_000 };
  const ok = parseCallbackParams(new URLSearchParams({ amount: '5000', nostr: '{}' }), bounds);
  assert.deepEqual(ok, { ok: true, value: { amountMsat: 5000, nostr: '{}' } });
  for (const amount of ['', '5.5', '-1', '999', '10001', 'abc']) {
    assert.equal(parseCallbackParams(new URLSearchParams({ amount }), bounds).ok, false, amount);
  }
  assert.equal(parseCallbackParams(new URLSearchParams(), bounds).ok, false);
  assert.equal(descriptionHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
