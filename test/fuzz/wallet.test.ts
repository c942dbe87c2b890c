// Fuzzing the BOLT11 and BOLT12 decoders: random text, mutated official vectors, invoices built and
// signed with random fields (then tampered with), random TLV streams (signed, so the reader rules
// past the signature are reached), and a differential of the TLV reader against BOLT #1's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bech32ToWords, wordsToBech32 } from '../../wallet/bolt11-words.js';
import { decodeBolt11, encodeBolt11, nodePublicKey, Bolt11Error, type Bolt11Tag, type Network } from '../../wallet/bolt11.js';
import {
  Bolt12Error, decodeBolt12, decodeBolt12String, encodeBolt12String, publicKeyHex, readTlvStream, signatureMessage, merkleRoot, writeBigSize, type TlvRecord,
} from '../../wallet/bolt12/index.js';
import { anyText, fuzz, guarded, hex, mustReject, mutatedBytes, mutatedString, seeds } from './support.js';
import { bolt11Decode, bolt12Decode } from './targets.js';

const SK = new Uint8Array(32).fill(0x11);
const OTHER = new Uint8Array(32).fill(0x22);
const PAYEE = nodePublicKey(SK);

// ---------------------------------------------------------------- BOLT11

const words = (n: number) => fc.array(fc.integer({ min: 0, max: 31 }), { minLength: n, maxLength: n });
const tagArb: fc.Arbitrary<Bolt11Tag> = fc.oneof(
  hex(32).map((value) => ({ tag: 'p' as const, value })),
  hex(32).map((value) => ({ tag: 's' as const, value })),
  hex(32).map((value) => ({ tag: 'h' as const, value })),
  fc.constantFrom(PAYEE, nodePublicKey(OTHER)).map((value) => ({ tag: 'n' as const, value })),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map((value) => ({ tag: 'd' as const, value })),
  fc.oneof(fc.nat(), fc.constant(2 ** 50 - 1)).map((value) => ({ tag: 'x' as const, value })),
  fc.nat(1000).map((value) => ({ tag: 'c' as const, value })),
  fc.array(fc.oneof(fc.constantFrom(8, 9, 14, 15, 16, 17, 24, 25, 48, 49), fc.nat(300)), { maxLength: 4 }).map((value) => ({ tag: '9' as const, value: [...new Set(value)] })),
  fc.tuple(fc.integer({ min: 0, max: 31 }), fc.oneof(words(52), words(53), fc.array(fc.integer({ min: 0, max: 31 }), { maxLength: 70 }))).map(([code, w]) => ({ tag: 'raw' as const, code, words: w })),
);
const invoiceArb = fc.record({
  network: fc.constantFrom<Network>('mainnet', 'testnet', 'signet', 'regtest'),
  amountMsat: fc.option(fc.oneof(fc.integer({ min: 1, max: 10 ** 12 }), fc.constant(Number.MAX_SAFE_INTEGER)), { nil: null }),
  timestamp: fc.integer({ min: 0, max: 2 ** 35 - 1 }),
  tags: fc.array(tagArb, { maxLength: 7 }),
  signer: fc.constantFrom(SK, OTHER),
});

/** Builds an invoice; null when the encoder itself refuses the fields (a field too long, say). */
function build(inv: { network: Network; amountMsat: number | null; timestamp: number; tags: Bolt11Tag[]; signer: Uint8Array }): string | null {
  const r = guarded('encodeBolt11', inv, (i) => encodeBolt11(i, i.signer), [Bolt11Error]);
  return r.ok ? r.value : null;
}

test('bolt11: arbitrary text and mutated vectors are refused with Bolt11Error or verify', () => {
  const valid = fc.oneof(fc.constantFrom(...seeds('bolt11')), invoiceArb.map((i) => build(i) ?? ''));
  fuzz('bolt11', 'arbitrary and mutated strings', fc.oneof(anyText(200), mutatedString(valid)), bolt11Decode, { runs: 2000, share: 0.35 });
});

test('bolt11: invoices with random fields decode to what was signed, by whom it was signed', () => {
  let accepted = 0;
  fuzz('bolt11', 'random fields', invoiceArb, (inv) => {
    const s = build(inv);
    if (s === null) return;
    bolt11Decode(s);
    const r = guarded('decodeBolt11', s, decodeBolt11, [Bolt11Error]);
    if (!r.ok) return;
    accepted++;
    const signer = nodePublicKey(inv.signer);
    assert.equal(r.value.payee, signer, 'the payee is not the key that signed');
    const n = inv.tags.find((t) => t.tag === 'n');
    if (n && n.tag === 'n') assert.equal(n.value, signer, 'accepted an n field that did not sign the invoice');
    assert.equal(r.value.amountMsat, inv.amountMsat);
    assert.equal(r.value.timestamp, inv.timestamp);
    // BOLT 11: "if the 9 field contains unknown even bits that are non-zero: MUST fail the payment" (in any 9 field).
    const unknownEven = inv.tags.some((t) => t.tag === '9' && t.value.some((b) => b % 2 === 0 && ![8, 14, 16, 24, 48].includes(b)));
    assert.ok(!unknownEven, 'accepted an unknown even (required) feature bit');
  }, { runs: 600, share: 0.35 });
  console.log(`bolt11 random fields: ${accepted} invoices accepted`);
  assert.ok(accepted > 0, 'the generator never reaches a valid invoice');
});

test('bolt11: a changed data word, re-checksummed, never passes as the same payee', () => {
  const arb = fc.record({ inv: invoiceArb, at: fc.nat(), w: fc.integer({ min: 0, max: 31 }) });
  fuzz('bolt11', 'tampered and re-checksummed', arb, ({ inv, at, w }) => {
    const s = build({ ...inv, signer: SK });
    if (s === null) return;
    const before = guarded('decodeBolt11', s, decodeBolt11, [Bolt11Error]);
    if (!before.ok) return;
    const { hrp, words: ws } = bech32ToWords(s);
    const i = at % ws.length;
    if (ws[i] === w) return;
    const t = wordsToBech32(hrp, ws.map((x, j) => (j === i ? w : x)));
    const after = guarded('decodeBolt11', t, decodeBolt11, [Bolt11Error]);
    if (after.ok) {
      // (A change that turns the n field into another field is accepted, with a recovered payee: not the original one.)
      assert.notEqual(after.value.payee, PAYEE, `tampered invoice (word ${i}: ${ws[i]} -> ${w}) still verifies for the original payee`);
    }
  }, { runs: 600, share: 0.3 });
});

// ---------------------------------------------------------------- BOLT12

/** BOLT #1's TLV stream rules, transcribed: the records, or null where the reader must fail. */
function referenceTlv(b: Uint8Array): { type: bigint; len: number }[] | null {
  const out: { type: bigint; len: number }[] = [];
  let i = 0;
  const bigSize = (): bigint | null => {
    const f = b[i];
    if (f === undefined) return null;
    const n = f < 0xfd ? 0 : f === 0xfd ? 2 : f === 0xfe ? 4 : 8;
    if (i + 1 + n > b.length) return null;
    let v = n === 0 ? BigInt(f) : 0n;
    for (let k = 1; k <= n; k++) v = v * 256n + BigInt(b[i + k]!);
    const min = n === 2 ? 0xfdn : n === 4 ? 0x10000n : n === 8 ? 0x100000000n : 0n;
    if (v < min) return null; // "MUST fail ... non-minimal"
    i += 1 + n;
    return v;
  };
  while (i < b.length) {
    const type = bigSize();
    if (type === null) return null;
    if (out.length > 0 && type <= out[out.length - 1]!.type) return null; // strictly increasing
    const len = bigSize();
    if (len === null || len > BigInt(b.length - i)) return null;
    out.push({ type, len: Number(len) });
    i += Number(len);
  }
  return out;
}

const TYPES = [0n, 2n, 4n, 6n, 8n, 10n, 12n, 14n, 16n, 18n, 20n, 22n, 80n, 82n, 84n, 86n, 88n, 89n, 90n, 91n, 160n, 162n, 164n, 166n, 168n, 170n, 172n, 174n, 176n];
const typeArb: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...TYPES) },
  { weight: 1, arbitrary: fc.constantFrom(1n, 3n, 23n, 24n, 79n, 81n, 159n, 177n, 178n, 239n, 241n, 1000n, 1001n, 999_999_999n, 1_000_000_000n, 1_000_000_001n, 2_000_000_001n, 3_000_000_000n, (1n << 64n) - 1n) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
);
const pointArb = fc.constantFrom(publicKeyHex(SK), publicKeyHex(OTHER), '02' + '00'.repeat(32), '04' + '11'.repeat(32)).map((h) => Buffer.from(h, 'hex'));
const valueArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  pointArb.map((b) => Uint8Array.from(b)),
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
  fc.uint8Array({ minLength: 64, maxLength: 64 }),
  fc.constantFrom(new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(0, 1), Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)),
  // A blinded path: first node, path key, one hop.
  fc.tuple(pointArb, pointArb, fc.integer({ min: 0, max: 3 }), pointArb, fc.uint8Array({ maxLength: 4 })).map(([a, b, n, c, d]) => Uint8Array.from([...a, ...b, n, ...c, 0, d.length, ...d])),
);
const recordsArb = fc.array(fc.record({ type: typeArb, value: valueArb }), { maxLength: 14 });

/** Writes records in order (unsorted and duplicate types allowed), optionally signing them as `key`. */
function stream(records: readonly TlvRecord[], sign: 'invoice' | 'invoice_request' | null, key: Uint8Array): Uint8Array {
  const parts: number[] = [];
  const put = (r: TlvRecord) => parts.push(...writeBigSize(r.type), ...writeBigSize(BigInt(r.value.length)), ...r.value);
  for (const r of records) put(r);
  if (sign) {
    const rs = guarded('readTlvStream', Uint8Array.from(parts), readTlvStream, [Bolt12Error]);
    if (rs.ok && rs.value.length > 0 && rs.value.every((r) => r.type < 240n)) {
      put({ type: 240n, value: schnorr.sign(signatureMessage(sign, merkleRoot(rs.value)), key, new Uint8Array(32)) });
    }
  }
  return Uint8Array.from(parts);
}

test('bolt12: arbitrary text and mutated vectors are refused with Bolt12Error or pass the reader rules', () => {
  fuzz('bolt12', 'arbitrary and mutated strings', fc.oneof(anyText(200), mutatedString(fc.constantFrom(...seeds('bolt12')), 'qpzry9x8gf2tvdw0s3jn54khce6mua7l1+ \nLNORI')), bolt12Decode, { runs: 2500, share: 0.2 });
});

test('bolt12: mutated bytes of every valid vector are refused with Bolt12Error or pass the reader rules', () => {
  const valid = seeds('bolt12').flatMap((s) => {
    try {
      return [decodeBolt12String(s)];
    } catch {
      return [];
    }
  });
  const arb = fc.tuple(fc.constantFrom(...valid), fc.nat()).chain(([v]) => fc.tuple(fc.constant(v.prefix), mutatedBytes(fc.constant(v.bytes))));
  fuzz('bolt12', 'mutated vector bytes', arb, ([prefix, bytes]) => bolt12Decode(encodeBolt12String(prefix, bytes)), { runs: 2500, share: 0.2 });
});

test('bolt12: random signed TLV streams are refused with Bolt12Error or pass the reader rules', () => {
  const accepted = { offer: 0, invoice_request: 0, invoice: 0 };
  // Valid streams from the corpus (signature dropped), edited: records added, removed, or given random values.
  const bases = seeds('bolt12').flatMap((x) => {
    try {
      const { prefix, bytes } = decodeBolt12String(x);
      return [{ prefix, records: readTlvStream(bytes).filter((r) => r.type < 240n || r.type > 1000n) }];
    } catch {
      return [];
    }
  });
  const edit = fc.oneof(
    fc.record({ k: fc.constant('add' as const), r: fc.record({ type: typeArb, value: valueArb }) }),
    fc.record({ k: fc.constant('del' as const), at: fc.nat() }),
    fc.record({ k: fc.constant('set' as const), at: fc.nat(), value: valueArb }),
  );
  const arb = fc.record({
    // One prefix first, then a stream of it: the offers would otherwise crowd out the two requests and the invoice.
    base: fc.constantFrom('lno', 'lnr', 'lni').chain((p) => fc.constantFrom(...bases.filter((b) => b.prefix === p))),
    random: fc.option(recordsArb, { freq: 4 }),
    edits: fc.array(edit, { maxLength: 3 }),
    sorted: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    signer: fc.constantFrom(SK, OTHER),
  });
  fuzz('bolt12', 'random signed streams', arb, ({ base, random, edits, sorted, signer }) => {
    const prefix = base.prefix;
    let rs: TlvRecord[] = random ?? [...base.records];
    for (const e of edits) {
      if (e.k === 'add') rs.push(e.r);
      else if (rs.length > 0 && e.k === 'del') rs.splice(e.at % rs.length, 1);
      else if (rs.length > 0 && e.k === 'set') rs[e.at % rs.length] = { type: rs[e.at % rs.length]!.type, value: e.value };
    }
    if (sorted) {
      const seen = new Set<bigint>();
      rs = [...rs].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)).filter((r) => !seen.has(r.type) && (seen.add(r.type), true));
      // The signing key where the stream names one, so signatures can verify.
      const keyType = prefix === 'lni' ? 176n : 88n;
      if (prefix !== 'lno') rs = [...rs.filter((r) => r.type !== keyType), { type: keyType, value: Uint8Array.from(Buffer.from(publicKeyHex(signer), 'hex')) }].sort((a, b) => (a.type < b.type ? -1 : 1));
    }
    const bytes = stream(rs, prefix === 'lno' ? null : prefix === 'lnr' ? 'invoice_request' : 'invoice', signer);
    bolt12Decode(encodeBolt12String(prefix, bytes));
    const r = guarded('decodeBolt12', encodeBolt12String(prefix, bytes), (x) => decodeBolt12(x), [Bolt12Error]);
    if (r.ok) accepted[r.value.kind]++;
  }, { runs: 1200, share: 0.3 });
  console.log(`bolt12 random streams accepted: ${JSON.stringify(accepted)}`);
  assert.ok(accepted.offer > 0 && accepted.invoice_request > 0, 'the generator never reaches a valid offer or request');
});

test('bolt12: the TLV reader accepts exactly the streams BOLT #1 allows', () => {
  const raw = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.array(fc.oneof(fc.uint8Array({ maxLength: 6 }), fc.constantFrom([0xfd, 0, 0xfc], [0xfd, 0, 0xfd], [0xfe, 0, 0, 0xff, 0xff], [0xfe, 0, 1, 0, 0], [0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], [0xff, 0, 0, 0, 1, 0, 0, 0, 0]).map((a) => Uint8Array.from(a))), { maxLength: 8 }).map((ps) => Uint8Array.from(ps.flatMap((p) => [...p]))),
    recordsArb.map((rs) => stream(rs, null, SK)),
  );
  fuzz('bolt12', 'TLV differential', raw, (b) => {
    const want = referenceTlv(b);
    const got = guarded('readTlvStream', b, readTlvStream, [Bolt12Error]);
    if (want === null) assert.ok(!got.ok, `readTlvStream accepted ${Buffer.from(b).toString('hex')}`);
    else {
      assert.ok(got.ok, `readTlvStream refused ${Buffer.from(b).toString('hex')}: ${got.ok ? '' : got.error.message}`);
      assert.deepEqual(got.value.map((r) => ({ type: r.type, len: r.value.length })), want);
    }
  }, { runs: 3000, share: 0.15 });
});

test('bolt12: an unknown even type or out-of-order records are refused in every stream', () => {
  const base = seeds('bolt12').filter((s) => /^lno1|^lnr1|^lni1/.test(s) && !s.includes('+')).flatMap((s) => {
    try {
      return [{ s, ...decodeBolt12String(s), records: readTlvStream(decodeBolt12String(s).bytes) }];
    } catch {
      return [];
    }
  });
  const arb = fc.record({ v: fc.constantFrom(...base), even: fc.constantFrom(24n, 78n, 92n, 158n, 178n, 1_000_000_002n), swap: fc.nat() });
  fuzz('bolt12', 'unknown even and order', arb, ({ v, even, swap }) => {
    if (v.records.length === 0) return;
    const withEven = [...v.records.filter((r) => r.type !== even), { type: even, value: Uint8Array.of(1) }].sort((a, b) => (a.type < b.type ? -1 : 1));
    mustReject('decodeBolt12', encodeBolt12String(v.prefix, stream(withEven, null, SK)), (x) => decodeBolt12(x), [Bolt12Error], `unknown even type ${even}`);
    if (v.records.length >= 2) {
      const i = swap % (v.records.length - 1);
      const swapped = [...v.records];
      [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
      mustReject('decodeBolt12', encodeBolt12String(v.prefix, stream(swapped, null, SK)), (x) => decodeBolt12(x), [Bolt12Error], 'records out of order');
    }
  }, { runs: 500, share: 0.15 });
});
