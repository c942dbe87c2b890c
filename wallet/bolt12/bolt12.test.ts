// BOLT12: every official vector (format strings, offers, signatures), round trips, invoice
// requests and invoices signed and checked, and hostile inputs that must fail fast with Bolt12Error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import {
  BITCOIN_CHAIN, Bolt12Error, branchHash, CHAIN_HASHES, decodeBolt12, decodeBolt12String, decodeInvoice, decodeInvoiceRequest, decodeOffer,
  encodeBolt12String, encodeOffer, encodeTlvRecord, leafHash, merkleRoot, nonceHash, publicKeyHex, readTlvStream, signatureMessage,
  signInvoice, signInvoiceRequest, taggedHash, writeTlvStream, type BlindedPath, type Offer, type TlvRecord,
} from './index.js';

const vectors = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../../test/vectors/bolt12/${name}`, import.meta.url), 'utf8')) as T;
const FORMAT = vectors<{ comment: string; valid: boolean; string: string }[]>('format-string-test.json');
const OFFERS = vectors<{ description: string; valid: boolean; bolt12: string; fields?: { type: number; length: number; hex: string }[] }[]>('offers-test.json');
const SIGS = vectors<Record<string, unknown>[]>('signature-test.json');

const ALICE = new Uint8Array(32).fill(0x41);
const BOB = new Uint8Array(32).fill(0x42);
const ALICE_ID = publicKeyHex(ALICE);
const BOB_ID = publicKeyHex(BOB);
const NO_AUX = new Uint8Array(32);
const hex = (records: readonly TlvRecord[]) => records.map((r) => ({ type: Number(r.type), length: r.value.length, hex: bytesToHex(r.value) }));
const utf8hex = (s: string) => bytesToHex(new TextEncoder().encode(s));

/** Runs `fn`, which must throw a Bolt12Error; returns its message (the rule that rejected the input). */
function rejects(fn: () => unknown, label: string, rule?: RegExp): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Bolt12Error, `${label}: threw ${String(e)} instead of a Bolt12Error`);
    if (rule) assert.match(e.message, rule, `${label}: rejected by "${e.message}", expected ${rule}`);
    return e.message;
  }
  return assert.fail(`${label}: accepted, but must be rejected${rule ? ` by ${rule}` : ''}`);
}

const lno = (records: TlvRecord[]) => encodeBolt12String('lno', writeTlvStream(records));
const rec = (type: number | bigint, h: string): TlvRecord => ({ type: BigInt(type), value: hexToBytes(h) });
const DESC = rec(10, utf8hex('ALICE'));
const ISSUER = rec(22, ALICE_ID);

describe('BOLT12 format strings (format-string-test.json)', () => {
  const canonical = decodeOffer(FORMAT[0]!.string).records;
  for (const v of FORMAT) {
    it(`${v.valid ? 'accepts' : 'rejects'}: ${v.comment} ${JSON.stringify(v.string.slice(0, 12))}`, (t) => {
      if (v.valid) assert.deepEqual(hex(decodeOffer(v.string).records), hex(canonical));
      else t.diagnostic(rejects(() => decodeOffer(v.string), v.comment, /mixed case|'\+' must join two bech32 characters/));
    });
  }
});

// Field values the vectors give in prose ("field info"), as typed expectations.
const PATH_HOPS = [
  { blindedNodeId: '02'.repeat(33), encryptedRecipientData: '00'.repeat(16) },
  { blindedNodeId: '02'.repeat(33), encryptedRecipientData: '11'.repeat(8) },
];
const BOB_PATH: BlindedPath = { firstNode: { kind: 'node_id', nodeId: BOB_ID }, pathKey: '02'.repeat(33), hops: PATH_HOPS };
const EXPECT: Record<string, (o: Offer) => void> = {
  'Minimal bolt12 offer': (o) => assert.deepEqual([o.issuerId, o.description, o.amount, o.chains], [ALICE_ID, null, null, null]),
  'with description (but no amount)': (o) => assert.equal(o.description, 'Test vectors'),
  'for testnet': (o) => assert.deepEqual(o.chains, [CHAIN_HASHES.testnet]),
  'for bitcoin (redundant)': (o) => assert.deepEqual(o.chains, [BITCOIN_CHAIN]),
  'for bitcoin or liquidv1': (o) => assert.deepEqual(o.chains, ['1466275836220db2944ca059a3a10ef6fd2ea684b0688d2c379296888a206003', BITCOIN_CHAIN]),
  'with metadata': (o) => assert.equal(o.metadata, '00'.repeat(16)),
  'with amount': (o) => assert.deepEqual([o.amount, o.amountMsat, o.currency], [10_000n, 10_000n, null]),
  'with currency': (o) => assert.deepEqual([o.amount, o.amountMsat, o.currency], [10_000n, null, 'USD']),
  // "2035-01-01" is midnight in Adelaide summer time (UTC+10:30): 2034-12-31T13:30:00Z.
  'with expiry': (o) => assert.equal(new Date(Number(o.absoluteExpiry) * 1000).toISOString(), '2034-12-31T13:30:00.000Z'),
  'with issuer': (o) => assert.equal(o.issuer, 'https://bolt12.org BOLT12 industries'),
  'with quantity': (o) => assert.equal(o.quantityMax, 5n),
  'with unlimited (or unknown) quantity': (o) => assert.equal(o.quantityMax, 0n),
  'with single quantity (weird but valid)': (o) => assert.equal(o.quantityMax, 1n),
  'with feature': (o) => assert.deepEqual(o.features, [99]),
  'with blinded path via Bob (0x424242...), path_key 020202...': (o) => assert.deepEqual(o.paths, [BOB_PATH]),
  'same, with blinded path first_node_id using sciddir': (o) =>
    assert.deepEqual(o.paths, [{ ...BOB_PATH, firstNode: { kind: 'sciddir', direction: 0, shortChannelId: '0x0x42' } }]),
  'with no issuer_id and blinded path via Bob (0x424242...), path_key 020202...': (o) => assert.deepEqual([o.issuerId, o.paths], [null, [BOB_PATH]]),
  '... and with second blinded path via 1x2x3 (direction 1), path_key 020202...': (o) =>
    assert.deepEqual(o.paths, [
      BOB_PATH,
      { firstNode: { kind: 'sciddir', direction: 1, shortChannelId: '1x2x3' }, pathKey: '02'.repeat(33), hops: [PATH_HOPS[0]!, { ...PATH_HOPS[1]!, encryptedRecipientData: '22'.repeat(8) }] },
    ]),
  'unknown odd field': (o) => assert.deepEqual(hex(o.unknown), [{ type: 33, length: 10, hex: utf8hex('helloworld') }]),
  'unknown odd experimental field': (o) => assert.deepEqual(hex(o.unknown), [{ type: 1000000033, length: 10, hex: utf8hex('helloworld') }]),
};

// The rule that rejects each invalid vector. Where it is not the one the description names, the
// vector's bytes do not say what its description says (see the comments).
const REJECTED_BY: Record<string, RegExp> = {
  'Malformed: fields out of order': /TLV type 10 after 22/,
  'Malformed: unknown even TLV type 78': /unknown even TLV type 72/, // the bytes say type 0x48 = 72
  'Malformed: empty': /neither offer_issuer_id nor offer_paths/,
  'Malformed: truncated at type': /truncated length of TLV 10/,
  'Malformed: truncated in length': /truncated length of TLV 10/,
  'Malformed: truncated after length': /TLV 10 truncated/,
  'Malformed: truncated in description': /TLV 10 truncated/,
  'Malformed: invalid offer_chains length': /offer_chains: length 1 is not a multiple of 32/,
  'Malformed: truncated currency UTF-8': /offer_currency: invalid UTF-8/,
  'Malformed: invalid currency UTF-8': /offer_currency: invalid UTF-8/,
  'Malformed: truncated description UTF-8': /offer_description: invalid UTF-8/,
  'Malformed: invalid description UTF-8': /offer_description: invalid UTF-8/,
  'Malformed: truncated offer_paths': /offer_paths: truncated/,
  // The next five omit offer_paths' length: the path's first byte (02/03) is read as the length,
  // and the rest of the path as further (out of order) TLVs.
  'Malformed: zero num_hops in blinded_path': /TLV type 2 after 16/,
  'Malformed: truncated onionmsg_hop in blinded_path': /TLV type 2 after 16/,
  'Malformed: bad first_node_id in blinded_path': /TLV type 3 after 16/,
  'Malformed: bad path_key in blinded_path': /TLV type 2 after 16/,
  'Malformed: bad blinded_node_id in onionmsg_hop': /TLV type 2 after 16/,
  'Malformed: truncated issuer UTF-8': /offer_issuer: invalid UTF-8/,
  'Malformed: invalid issuer UTF-8': /offer_issuer: invalid UTF-8/,
  'Malformed: invalid offer_issuer_id': /offer_issuer_id: not a point/,
  'Contains type >= 80': /TLV type 80 is outside the allowed ranges/,
  // These two write a 4-byte type after the 0xfd (2-byte) BigSize marker: types 30517 and 15258.
  'Contains type > 1999999999': /TLV 30517 truncated/,
  'Contains unknown even type (1000000002)': /TLV 15258 truncated/,
  'Contains unknown feature 122': /unknown even feature bit 122/,
  'Missing offer_description, but has offer_amount': /offer_amount is set but offer_description is not/,
  'Missing offer_amount with offer_currency': /offer_currency is set but offer_amount is not/,
  'Invalid: zero offer_amount': /offer_amount is not greater than zero/,
  'Invalid: zero offer_amount with currency': /offer_amount is not greater than zero/,
  'Missing offer_issuer_id and no offer_path': /neither offer_issuer_id nor offer_paths/,
  'Second offer_path is empty': /num_hops is 0 in path 1/,
  'offer_chains with zero entries': /offer_chains: present but has no chains/,
  'Bech32 padding exceeds 4-bit limit': /padding of 5 bits/,
};

describe('BOLT12 offers (offers-test.json)', () => {
  it('has the 53 official vectors, 20 valid', () => assert.deepEqual([OFFERS.length, OFFERS.filter((v) => v.valid).length], [53, 20]));
  for (const v of OFFERS) {
    if (v.valid) {
      it(`decodes: ${v.description}`, () => {
        const o = decodeOffer(v.bolt12);
        if (v.fields) assert.deepEqual(hex(o.records), v.fields);
        const check = EXPECT[v.description];
        assert.ok(check, `no field expectations for ${v.description}`);
        check(o);
        assert.equal(encodeOffer(o), v.bolt12, 're-encodes to the same string');
        assert.equal(decodeBolt12(v.bolt12).kind, 'offer');
      });
    } else {
      it(`rejects: ${v.description}`, (t) => t.diagnostic(rejects(() => decodeOffer(v.bolt12), v.description, REJECTED_BY[v.description])));
    }
  }
});

describe('the rules the mislabelled invalid vectors meant to test', () => {
  const path = (first: string, pathKey: string, hops: string) => rec(16, first + pathKey + hops);
  const hop = (id: string, data = '00') => id + (data.length / 2).toString(16).padStart(4, '0') + data;
  const P2 = '02'.repeat(33);
  const cases: [string, TlvRecord[], RegExp][] = [
    ['unknown even type 78', [DESC, ISSUER, rec(78, '00')], /unknown even TLV type 78/],
    ['type 2000000000', [DESC, ISSUER, rec(2_000_000_000, '00')], /outside the allowed ranges/],
    ['unknown even type 1000000002', [DESC, ISSUER, rec(1_000_000_002, '00')], /unknown even TLV type 1000000002/],
    ['zero num_hops', [DESC, path(P2, P2, '00'), ISSUER], /num_hops is 0/],
    ['truncated onionmsg_hop', [DESC, path(P2, P2, '01' + P2 + '0010' + '00'), ISSUER], /truncated encrypted_recipient_data/],
    ['bad first_node_id', [DESC, path('03'.repeat(33), P2, '01' + hop(P2)), ISSUER], /first_node_id of path 0: not a point/],
    ['first_node_id prefix 4', [DESC, path('04' + '02'.repeat(32), P2, '01' + hop(P2)), ISSUER], /first_node_id of path 0: invalid point prefix/],
    ['bad path_key', [DESC, path(P2, '03'.repeat(33), '01' + hop(P2)), ISSUER], /path_key of path 0: not a point/],
    ['bad blinded_node_id', [DESC, path(P2, P2, '01' + hop('03'.repeat(33))), ISSUER], /blinded_node_id of hop 0 of path 0: not a point/],
    ['empty offer_paths', [DESC, rec(16, '')], /offer_paths: present but contains no path/],
    ['currency not ISO 4217', [rec(6, utf8hex('usd')), rec(8, '64'), DESC, ISSUER], /not an ISO 4217 three-letter code/],
    ['tu64 with a leading zero', [rec(8, '0064'), DESC, ISSUER], /offer_amount: tu64 is not minimally encoded/],
    ['tu64 of 9 bytes', [rec(8, '010000000000000000'), DESC, ISSUER], /offer_amount: 9 bytes is too long/],
    ['signature in an offer', [DESC, ISSUER, rec(240, '00'.repeat(64))], /TLV type 240 is outside the allowed ranges/],
  ];
  for (const [name, records, rule] of cases) it(`rejects: ${name}`, (t) => t.diagnostic(rejects(() => decodeOffer(lno(records)), name, rule)));

  it('checks the clock and the chains only when asked', () => {
    const s = encodeOffer({ description: 'x', issuerId: ALICE_ID, absoluteExpiry: 1_000n, chains: [CHAIN_HASHES.testnet] });
    assert.equal(decodeOffer(s).absoluteExpiry, 1_000n);
    assert.equal(decodeOffer(s, { now: 1_000 }).kind, 'offer');
    rejects(() => decodeOffer(s, { now: 1_001 }), 'expired', /offer expired at 1000/);
    rejects(() => decodeOffer(s, { chains: [BITCOIN_CHAIN] }), 'testnet only', /chains we do not accept/);
    assert.equal(decodeOffer(s, { chains: [CHAIN_HASHES.testnet] }).kind, 'offer');
  });
});

describe('BOLT12 signatures (signature-test.json)', () => {
  const leafTlv = (k: string) => /^H\(`LnLeaf`,([0-9a-f]+)\)$/.exec(k)?.[1];
  for (const v of SIGS) {
    it(`merkle: ${String(v.comment)}`, () => {
      const leaves = v.leaves as Record<string, string>[];
      const records = v.bolt12 === undefined
        ? readTlvStream(hexToBytes(leaves.map((l) => Object.keys(l).map(leafTlv).find((x) => x)!).join('')))
        : decodeInvoiceRequest(v.bolt12 as string).records;
      const first = records[0]!;
      assert.equal(bytesToHex(encodeTlvRecord(first)), v['first-tlv']);
      leaves.forEach((l, i) => {
        const [leaf, nonce, branch] = Object.values(l);
        const r = records[i]!;
        assert.equal(bytesToHex(leafHash(r)), leaf, `leaf ${i}`);
        assert.equal(bytesToHex(nonceHash(first, r.type)), nonce, `nonce ${i}`);
        assert.equal(bytesToHex(branchHash(leafHash(r), nonceHash(first, r.type))), branch, `leaf branch ${i}`);
      });
      for (const b of v.branches as Record<string, string>[]) {
        const key = Object.keys(b).find((k) => k.startsWith('H(`LnBranch`'))!;
        const pair = /,([0-9a-f]{128})\)$/.exec(key)![1]!;
        const [lo, hi] = [hexToBytes(pair.slice(0, 64)), hexToBytes(pair.slice(64))];
        assert.equal(bytesToHex(taggedHash('LnBranch', hexToBytes(pair))), b[key], `${String(b.desc)}: H(LnBranch, lesser||greater)`);
        assert.equal(bytesToHex(branchHash(hi, lo)), b[key], `${String(b.desc)}: ordered pair`);
      }
      assert.equal(bytesToHex(merkleRoot(records)), v.merkle);
    });
  }

  it('signs the invoice_request vector exactly (BIP-340 with zero aux randomness)', () => {
    const v = SIGS[3]!;
    const req = decodeInvoiceRequest(v.bolt12 as string);
    const root = merkleRoot(req.records);
    assert.equal(bytesToHex(taggedHash(v.signature_tag as string, root)), v['H(signature_tag,merkle)']);
    assert.equal(bytesToHex(signatureMessage('invoice_request', root)), v['H(signature_tag,merkle)']);
    assert.equal(req.signature, v.signature);
    assert.deepEqual([req.offer.issuerId, req.payerId], [ALICE_ID, BOB_ID]);
    const offer = decodeOffer(encodeOffer({ issuerId: ALICE_ID, description: 'A Mathematical Treatise', amount: 100n, currency: 'USD' }));
    assert.equal(signInvoiceRequest(offer, { metadata: '0000000000000000' }, BOB, { auxRand: NO_AUX }), v.bolt12);
  });
});

/** Signs arbitrary records (for requests and invoices that break rules other than the signature). */
function signed(prefix: 'lnr' | 'lni', records: TlvRecord[], key: Uint8Array): string {
  const unsigned = readTlvStream(writeTlvStream(records));
  const sig = schnorr.sign(signatureMessage(prefix === 'lnr' ? 'invoice_request' : 'invoice', merkleRoot(unsigned)), key, NO_AUX);
  return encodeBolt12String(prefix, writeTlvStream([...unsigned, { type: 240n, value: sig }]));
}

describe('BOLT12 round trips', () => {
  const full = {
    chains: [CHAIN_HASHES.regtest], metadata: 'cafe', currency: null, amount: 21_000n, description: 'a poem ☕', features: [1, 99],
    absoluteExpiry: 2_000_000_000n, paths: [BOB_PATH], issuer: 'timmy.example', quantityMax: 3n, issuerId: ALICE_ID,
  };

  it('encodes an offer and decodes it to the same fields (and in UPPERCASE, split with +)', () => {
    const s = encodeOffer(full);
    const { kind, amountMsat, unknown, records, ...fields } = decodeOffer(s);
    assert.deepEqual(fields, full);
    assert.deepEqual([kind, amountMsat, unknown], ['offer', 21_000n, []]);
    assert.deepEqual(decodeOffer(encodeOffer(full, { uppercase: true, chunk: 40 })).records, records);
    rejects(() => encodeOffer({ ...full, description: null }), 'amount without description', /offer_description is not/);
  });

  it('requests an invoice for an offer and answers it with a signed invoice', () => {
    const offer = decodeOffer(encodeOffer(full));
    const lnr = signInvoiceRequest(offer, { metadata: '01'.repeat(16), quantity: 2n, chain: CHAIN_HASHES.regtest, payerNote: 'hi' }, BOB);
    const req = decodeInvoiceRequest(lnr, { offer, chains: [CHAIN_HASHES.regtest] });
    assert.deepEqual([req.quantity, req.payerNote, req.offer.description, req.payerId], [2n, 'hi', 'a poem ☕', BOB_ID]);
    const blindedPay = [{ feeBaseMsat: 1, feeProportionalMillionths: 100, cltvExpiryDelta: 144, htlcMinimumMsat: 1n, htlcMaximumMsat: 10n ** 9n, features: [] }];
    const input = { paths: [BOB_PATH], blindedPay, createdAt: 1_700_000_000, paymentHash: 'ab'.repeat(32), fallbacks: [{ version: 0, address: '11'.repeat(20) }, { version: 17, address: '11'.repeat(20) }] };
    const lni = signInvoice(req, input, ALICE);
    const inv = decodeInvoice(lni, { invoiceRequest: req, now: 1_700_007_200 });
    assert.deepEqual([inv.amountMsat, inv.nodeId, inv.expiresAt, inv.usablePaths, inv.usableFallbacks.length], [42_000n, ALICE_ID, 1_700_007_200n, [0], 1]);
    assert.deepEqual(inv.blindedPay, blindedPay);
    assert.equal(decodeBolt12(lni).kind, 'invoice');
    rejects(() => decodeInvoice(lni, { now: 1_700_007_201 }), 'expired invoice', /invoice expired/);
    rejects(() => signInvoice(req, input, BOB), 'wrong node key', /must be offer_issuer_id/);
    const other = decodeInvoiceRequest(signInvoiceRequest(offer, { metadata: '02'.repeat(16), quantity: 2n, chain: CHAIN_HASHES.regtest }, BOB));
    rejects(() => decodeInvoice(lni, { invoiceRequest: other }), 'answer to another request', /invoice request fields do not exactly match/);
  });

  it('applies the invoice request reader rules', () => {
    const offer = decodeOffer(encodeOffer(full));
    const base = [...offer.records, rec(0, '00'), rec(80, CHAIN_HASHES.regtest), rec(88, BOB_ID)];
    const q = (n: string) => rec(86, n);
    rejects(() => decodeInvoiceRequest(signed('lnr', [...base], BOB)), 'no quantity', /invreq_quantity is not/);
    rejects(() => decodeInvoiceRequest(signed('lnr', [...base, q('04')], BOB)), 'too many', /not within 1..3/);
    rejects(() => decodeInvoiceRequest(signed('lnr', [...base, q('02'), rec(82, '64')], BOB)), 'underpaying', /less than the expected 42000/);
    rejects(() => decodeInvoiceRequest(signed('lnr', [...base, q('02')], ALICE)), 'signed by another key', /signature is not valid/);
    rejects(() => decodeInvoiceRequest(signed('lnr', [...base, q('02'), rec(84, '0100')], BOB)), 'unknown even invreq feature', /invreq_features: unknown even feature bit 8/);
    rejects(() => decodeInvoiceRequest(signed('lnr', [...base, q('02'), rec(160, '00')], BOB)), 'invoice field in a request', /outside the allowed ranges/);
    rejects(() => decodeInvoiceRequest(signed('lnr', [...base, q('02'), rec(91, '02616201')], BOB)), 'bip353 truncated', /truncated domain/);
    rejects(() => decodeInvoiceRequest(signed('lnr', [...base, q('02'), rec(91, '0261210178')], BOB)), 'bip353 bad char', /outside 0-9 a-z/);
    assert.deepEqual(decodeInvoiceRequest(signed('lnr', [...base, q('02'), rec(91, '02616201' + '78')], BOB)).bip353Name, { name: 'ab', domain: 'x' });
    const noOffer = [DESC, rec(0, '00'), rec(88, BOB_ID)];
    rejects(() => decodeInvoiceRequest(encodeBolt12String('lnr', writeTlvStream(noOffer))), 'no offer, no amount', /has no invreq_amount/);
    assert.equal(decodeInvoiceRequest(encodeBolt12String('lnr', writeTlvStream([...noOffer, rec(82, '64')]))).signature, null);
    rejects(() => decodeInvoiceRequest(signed('lnr', [...noOffer, rec(82, '64'), rec(20, '')], BOB)), 'no offer, quantity max', /offer_quantity_max/);
    rejects(() => decodeInvoiceRequest(encodeBolt12String('lnr', writeTlvStream([DESC, rec(82, '64'), rec(88, BOB_ID)]))), 'no metadata', /invreq_metadata is not set/);
  });

  it('applies the invoice reader rules', () => {
    const req = decodeInvoiceRequest(SIGS[3]!.bolt12 as string);
    const base = [...req.records.filter((r) => r.type < 240n), rec(164, '01'), rec(168, 'ab'.repeat(32)), rec(170, '64'), rec(176, ALICE_ID)];
    const path = rec(160, BOB_ID + '02'.repeat(33) + '01' + '02'.repeat(33) + '0000');
    const pay = (features: string) => rec(162, '00000001' + '00000002' + '0003' + '00'.repeat(7) + '01' + '00'.repeat(7) + '02' + (features.length / 2).toString(16).padStart(4, '0') + features);
    const ok = [...base, path, pay('')];
    assert.equal(decodeInvoice(signed('lni', ok, ALICE), { invoiceRequest: req }).amountMsat, 100n);
    rejects(() => decodeInvoice(signed('lni', base.filter((r) => r.type !== 170n).concat(path, pay('')), ALICE)), 'no amount', /invoice_amount is not set/);
    rejects(() => decodeInvoice(signed('lni', [...base, pay('')], ALICE)), 'no paths', /invoice_paths is not set/);
    rejects(() => decodeInvoice(signed('lni', [...base, path], ALICE)), 'no payinfo', /invoice_blindedpay is not set/);
    rejects(() => decodeInvoice(signed('lni', [...base, path, rec(162, '')], ALICE)), 'payinfo count', /0 payinfos for 1 paths/);
    rejects(() => decodeInvoice(signed('lni', [...base, path, pay('01')], ALICE)), 'unusable path', /no usable invoice path/);
    rejects(() => decodeInvoice(signed('lni', [...ok, rec(174, '040000')], ALICE)), 'unknown even invoice feature', /invoice_features: unknown even feature bit 18/);
    assert.deepEqual(decodeInvoice(signed('lni', [...ok, rec(174, '020000')], ALICE)).features, [17]);
    rejects(() => decodeInvoice(signed('lni', ok, BOB)), 'wrong signer', /signature is not valid for invoice_node_id/);
    rejects(() => decodeInvoice(signed('lni', [...ok, rec(178, '00')], ALICE)), 'unknown even invoice type', /unknown even TLV type 178/);
    assert.deepEqual(hex(decodeInvoice(signed('lni', [...ok, rec(179, '00')], ALICE)).unknown), [{ type: 179, length: 1, hex: '00' }]);
    rejects(() => decodeInvoice(signed('lni', ok, ALICE), { invoiceRequest: req, expectedNodeId: BOB_ID }), 'expected node', /not the node we sent/);
    rejects(() => decodeInvoice(encodeBolt12String('lni', writeTlvStream(ok))), 'unsigned', /signature is not set/);
  });
});

describe('hostile inputs fail fast with Bolt12Error', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['a 1 MB string', () => decodeOffer('lno1' + 'q'.repeat(1_000_000)), /too long/],
    ['a 1 MB string of joins', () => decodeBolt12('lno1q' + '+ q'.repeat(333_333)), /too long/],
    ['a huge BigSize type', () => decodeOffer(encodeBolt12String('lno', hexToBytes('ff' + 'ff'.repeat(8) + '00'))), /TLV type 18446744073709551615 is outside/],
    ['a huge BigSize length', () => decodeOffer(encodeBolt12String('lno', hexToBytes('0a' + 'ff' + 'ff'.repeat(8) + '41'))), /TLV 10 truncated: length 18446744073709551615/],
    ['a truncated TLV', () => decodeOffer(encodeBolt12String('lno', hexToBytes('0a0541'))), /TLV 10 truncated/],
    ['a truncated BigSize', () => decodeOffer(encodeBolt12String('lno', hexToBytes('fe0000'))), /truncated TLV type/],
    ['a non-minimal BigSize type', () => decodeOffer(encodeBolt12String('lno', hexToBytes('fd000a0141'))), /non-minimal BigSize encoding of TLV type/],
    ['a non-minimal BigSize length', () => decodeOffer(encodeBolt12String('lno', hexToBytes('0afe0000000141'))), /non-minimal BigSize encoding of length/],
    ['a duplicate type', () => decodeOffer(encodeBolt12String('lno', hexToBytes('0a01410a0141'))), /duplicate TLV type 10/],
    ['types out of order', () => decodeOffer(encodeBolt12String('lno', hexToBytes('0c00' + '0a0141'))), /TLV type 10 after 12/],
    ['not a string', () => decodeBolt12(undefined as unknown as string), /not a string/],
    ['a bad character', () => decodeOffer('lno1qb'), /invalid bech32 character "b"/],
    ['another prefix', () => decodeOffer(lno([DESC, ISSUER]).replace('lno', 'lnr')), /expected an lno string, got lnr/],
    ['an unknown prefix', () => decodeBolt12('lnx1qq'), /unknown prefix/],
    ['non-zero padding', () => decodeOffer('lno1pgpyr'), /non-zero bech32 padding/],
  ];
  for (const [name, fn, rule] of cases) {
    it(`rejects ${name}`, (t) => {
      const start = performance.now();
      t.diagnostic(rejects(fn, name, rule));
      assert.ok(performance.now() - start < 250, `${name}: took ${performance.now() - start} ms`);
    });
  }

  it('never throws anything but Bolt12Error on mutated vectors and random bytes', () => {
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const inputs = OFFERS.flatMap((v) => {
      try {
        return [decodeBolt12String(v.bolt12).bytes];
      } catch {
        return []; // the padding vector
      }
    });
    for (let i = 0; i < 3000; i++) {
      const src = inputs[rand(inputs.length)]!;
      const b = i % 3 === 0 ? Uint8Array.from({ length: rand(80) }, () => rand(256)) : src.slice(0, rand(src.length + 1));
      if (b.length > 0 && i % 3 === 1) b[rand(b.length)] = rand(256);
      for (const prefix of ['lno', 'lnr', 'lni'] as const) {
        try {
          decodeBolt12(encodeBolt12String(prefix, b));
        } catch (e) {
          assert.ok(e instanceof Bolt12Error, `${prefix} ${bytesToHex(b)}: ${String(e)}`);
        }
      }
    }
  });
});
