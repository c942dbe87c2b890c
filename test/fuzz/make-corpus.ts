// Writes the seed corpora under test/fuzz/corpus/<target>/ (valid examples from the specs' vectors and
// from our encoders, plus a few near misses). Run once after a change: `node dist/test/fuzz/make-corpus.js`.
// Regression inputs (crashes the fuzzer found) are added by hand as `regress-*` files and never rewritten.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hexToBytes } from '@noble/hashes/utils.js';
import { finalizeEvent, type EventTemplate } from '../../nostr/verify.js';
import { canonicalJson, type NostrEvent } from '../../nostr/nip01.js';
import * as nip19 from '../../nostr/nip19.js';
import * as nip44 from '../../nostr/nip44.js';
import * as nip49 from '../../nostr/nip49.js';
import { authorizationHeader, httpAuthTemplate } from '../../nostr/nip98.js';
import { CHAIN_HASHES, decodeInvoiceRequest, decodeOffer, encodeOffer, publicKeyHex, signInvoice, signInvoiceRequest } from '../../wallet/bolt12/index.js';
import { encodeBolt11 } from '../../wallet/bolt11.js';
import { CORPUS_DIR, REPO } from './support.js';
import { NIP44_KEY, NIP49_PASSWORD, NIP98_METHOD, NIP98_NOW, NIP98_URL } from './targets.js';

export const SK = hexToBytes('0b4e2ea4b4a8c0d7a2d4ba7d0ec0c3c0f0e6b7b5f53c0f8e3c6ad3e0c1d2e3f4');
export const sign = (t: Partial<EventTemplate>): NostrEvent =>
  finalizeEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'hello', ...t }, SK);

const files: Record<string, Record<string, string>> = {};
const put = (target: string, name: string, text: string) => ((files[target] ??= {})[name] = text);
const json = (p: string): unknown => JSON.parse(readFileSync(join(REPO, p), 'utf8'));

function main(): void {
  // relay-message
  const ev = sign({ tags: [['e', 'ab'.repeat(32)], ['t', 'nostr']] });
  put('relay-message', 'event.json', JSON.stringify(['EVENT', ev]));
  put('relay-message', 'event-bad-sig.json', JSON.stringify(['EVENT', { ...ev, sig: ev.sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) }]));
  put('relay-message', 'event-bad-id.json', JSON.stringify(['EVENT', { ...ev, content: 'hellO' }]));
  put('relay-message', 'event-extra-field.json', JSON.stringify(['EVENT', { ...ev, extra: 1 }]));
  put('relay-message', 'auth.json', JSON.stringify(['AUTH', sign({ kind: 22242, tags: [['relay', 'wss://r.example'], ['challenge', 'c']], content: '' })]));
  put('relay-message', 'req.json', JSON.stringify(['REQ', 'sub1', { kinds: [1, 5000], authors: [ev.pubkey], '#t': ['nostr'], since: 1, until: 2, limit: 10 }, { ids: [ev.id] }]));
  put('relay-message', 'req-search.json', JSON.stringify(['REQ', 's', { search: 'hello world lang:en' }]));
  put('relay-message', 'count.json', JSON.stringify(['COUNT', 'c', { kinds: [1] }]));
  put('relay-message', 'close.json', JSON.stringify(['CLOSE', 'sub1']));
  put('relay-message', 'neg-open.json', JSON.stringify(['NEG-OPEN', 'n', { kinds: [1] }, '6100000200']));
  put('relay-message', 'neg-msg.json', JSON.stringify(['NEG-MSG', 'n', '61']));
  put('relay-message', 'neg-close.json', JSON.stringify(['NEG-CLOSE', 'n']));
  put('relay-message', 'req-bad-filter.json', JSON.stringify(['REQ', 'x', { ids: ['AB'] }]));
  put('relay-message', 'not-json.txt', '["EVENT",');

  // filter: {filters, events}
  const evs = [ev, sign({ kind: 7, tags: [['p', 'cd'.repeat(32)], ['e', 'ab'.repeat(32), 'wss://r'], ['E', 'x']], created_at: 5 }), sign({ kind: 30023, tags: [['d', 'post'], ['t']] })];
  put('filter', 'basic.json', JSON.stringify({ filters: [{ kinds: [1] }, { '#e': ['ab'.repeat(32)] }, { since: 6, until: 1_800_000_000 }, { authors: [ev.pubkey], kinds: [7] }, { '#E': ['x'] }, {}], events: evs }));
  put('filter', 'empty-lists.json', JSON.stringify({ filters: [{ ids: [] }, { kinds: [] }, { '#t': [] }], events: evs }));

  // nip19: 19.md examples and each entity type from our encoders
  put('nip19', 'npub-spec.txt', 'npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg');
  put('nip19', 'nsec-spec.txt', 'nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5');
  put('nip19', 'nprofile-spec.txt', 'nprofile1qqsrhuxx8l9ex335q7he0f09aej04zpazpl0ne2cgukyawd24mayt8gpp4mhxue69uhhytnc9e3k7mgpz4mhxue69uhkg6nzv9ejuumpv34kytnrdaksjlyr9p');
  put('nip19', 'note.txt', nip19.noteEncode(ev.id));
  put('nip19', 'nevent.txt', nip19.neventEncode({ id: ev.id, relays: ['wss://r.example'], author: ev.pubkey, kind: 1 }));
  put('nip19', 'naddr.txt', nip19.naddrEncode({ identifier: 'post', pubkey: ev.pubkey, kind: 30023, relays: ['wss://r.example'] }));
  put('nip19', 'naddr-empty-d.txt', nip19.naddrEncode({ identifier: '', pubkey: ev.pubkey, kind: 10002 }));

  // nip44: payloads under NIP44_KEY, and the vectors' invalid payloads
  const nonce = (n: number) => hexToBytes(n.toString(16).padStart(64, '0'));
  put('nip44', 'short.txt', nip44.encrypt('a', NIP44_KEY, nonce(1)));
  put('nip44', 'unicode.txt', nip44.encrypt('🔥 nostr ✓', NIP44_KEY, nonce(2)));
  put('nip44', 'len-33.txt', nip44.encrypt('x'.repeat(33), NIP44_KEY, nonce(3)));
  put('nip44', 'len-300.txt', nip44.encrypt('y'.repeat(300), NIP44_KEY, nonce(4)));
  const v44 = (json('nostr/vectors/nip44.vectors.json') as { v2: { invalid: { decrypt: { payload: string; note: string }[] } } }).v2.invalid.decrypt;
  v44.forEach((v, i) => put('nip44', `vector-invalid-${i}.txt`, v.payload));

  // nip49: the spec's string, and low-log_n strings under NIP49_PASSWORD
  put('nip49', 'spec.txt', 'ncryptsec1qgg9947rlpvqu76pj5ecreduf9jxhselq2nae2kghhvd5g7dgjtcxfqtd67p9m0w57lspw8gsq6yphnm8623nsl8xn9j4jdzz84zm3frztj3z7s35vpzmqf6ksu8r89qk5z2zxfmu5gv8th8wclt0h4p');
  for (const logN of [1, 4, 6]) put('nip49', `log-n-${logN}.txt`, nip49.encrypt(SK, NIP49_PASSWORD, logN, 0x01));
  put('nip49', 'wrong-password.txt', nip49.encrypt(SK, 'other', 2, 0x00));

  // bolt11: the BOLT 11 examples, valid and invalid
  const b11 = json('wallet/vectors/bolt11.json') as { valid: { name: string; invoice: string }[]; invalid: { name: string; invoice: string }[] };
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 50);
  b11.valid.forEach((v, i) => put('bolt11', `valid-${i}-${slug(v.name)}.txt`, v.invoice));
  b11.invalid.forEach((v, i) => put('bolt11', `invalid-${i}-${slug(v.name)}.txt`, v.invoice));
  put('bolt11', 'ours-regtest.txt', encodeBolt11({ network: 'regtest', amountMsat: 1000, timestamp: 1_700_000_000, tags: [{ tag: 'p', value: '11'.repeat(32) }, { tag: 's', value: '22'.repeat(32) }, { tag: 'd', value: 'x' }, { tag: '9', value: [8, 14] }] }, SK));

  // bolt12: the official vectors, and a request and invoice signed by our codec
  const offers = json('test/vectors/bolt12/offers-test.json') as { description: string; valid: boolean; bolt12: string }[];
  offers.forEach((v, i) => put('bolt12', `offer-${v.valid ? 'valid' : 'invalid'}-${i}-${slug(v.description)}.txt`, v.bolt12));
  const fmt = json('test/vectors/bolt12/format-string-test.json') as { comment: string; valid: boolean; string: string }[];
  fmt.forEach((v, i) => put('bolt12', `format-${v.valid ? 'valid' : 'invalid'}-${i}-${slug(v.comment)}.txt`, v.string));
  const sigs = json('test/vectors/bolt12/signature-test.json') as { bolt12?: string }[];
  sigs.forEach((v, i) => v.bolt12 && put('bolt12', `signature-${i}.txt`, v.bolt12));
  const alice = new Uint8Array(32).fill(0x41);
  const bob = new Uint8Array(32).fill(0x42);
  const path = { firstNode: { kind: 'node_id' as const, nodeId: publicKeyHex(bob) }, pathKey: publicKeyHex(bob), hops: [{ blindedNodeId: publicKeyHex(alice), encryptedRecipientData: '00ff' }] };
  const offer = decodeOffer(encodeOffer({ description: 'tea', amount: 21_000n, issuerId: publicKeyHex(alice), quantityMax: 3n, paths: [path] }));
  put('bolt12', 'ours-offer.txt', encodeOffer({ description: 'tea', amount: 21_000n, issuerId: publicKeyHex(alice), quantityMax: 3n, paths: [path] }));
  const lnr = signInvoiceRequest(offer, { metadata: '01'.repeat(16), quantity: 2n, payerNote: 'hi' }, bob, { auxRand: new Uint8Array(32) });
  put('bolt12', 'ours-invoice-request.txt', lnr);
  const req = decodeInvoiceRequest(lnr);
  const blindedPay = [{ feeBaseMsat: 1, feeProportionalMillionths: 100, cltvExpiryDelta: 144, htlcMinimumMsat: 1n, htlcMaximumMsat: 10n ** 9n, features: [] }];
  put('bolt12', 'ours-invoice.txt', signInvoice(req, { paths: [path], blindedPay, createdAt: 1_700_000_000, paymentHash: 'ab'.repeat(32), fallbacks: [{ version: 0, address: '11'.repeat(20) }] }, alice, { auxRand: new Uint8Array(32) }));
  void CHAIN_HASHES;

  // nip90: job requests (event JSON); encrypted ones carry base64 JSON tags (see fakeDecrypt)
  const job = sign({ kind: 5050, tags: [['i', 'What is nostr?', 'text'], ['param', 'model', 'x'], ['output', 'text/plain'], ['bid', '1000'], ['relays', 'wss://r.example'], ['p', 'cd'.repeat(32)]] });
  put('nip90', 'text-job.json', canonicalJson(job));
  put('nip90', 'event-input.json', canonicalJson(sign({ kind: 5000, tags: [['i', ev.id, 'event', 'wss://r'], ['i', 'https://x.example/a.mp3', 'url'], ['param', 'range', '300', '360']] })));
  put('nip90', 'prompt-type.json', canonicalJson(sign({ kind: 5050, tags: [['i', 'hi', 'prompt']] })));
  const hidden = Buffer.from(JSON.stringify([['i', 'secret', 'text'], ['param', 'a', 'b']])).toString('base64');
  put('nip90', 'encrypted.json', canonicalJson(sign({ kind: 5050, tags: [['p', 'cd'.repeat(32)], ['encrypted']], content: hidden })));
  put('nip90', 'bad-bid.json', canonicalJson(sign({ kind: 5050, tags: [['bid', '1e3']] })));

  // nip98: headers for the target's URL, method and clock
  const auth = (t: Partial<{ url: string; method: string; body: string; created_at: number }>) =>
    authorizationHeader(finalizeEvent(httpAuthTemplate({ url: NIP98_URL, method: NIP98_METHOD, created_at: NIP98_NOW, body: '{"a":1}', ...t }), SK));
  put('nip98', 'valid.txt', auth({}));
  put('nip98', 'no-payload.txt', authorizationHeader(finalizeEvent(httpAuthTemplate({ url: NIP98_URL, method: NIP98_METHOD, created_at: NIP98_NOW }), SK)));
  put('nip98', 'wrong-url.txt', auth({ url: 'https://timmy.example/api/jobs' }));
  put('nip98', 'stale.txt', auth({ created_at: NIP98_NOW - 61 }));
  put('nip98', 'wrong-body.txt', auth({ body: 'other' }));

  for (const [target, entries] of Object.entries(files)) {
    const dir = join(CORPUS_DIR, target);
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(entries)) writeFileSync(join(dir, name), text);
    console.log(`${target}: ${Object.keys(entries).length} seeds`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) main();
