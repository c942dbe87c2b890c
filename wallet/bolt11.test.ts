// BOLT #11: the spec's examples (decode, and re-encode to the identical string: RFC 6979
// signatures are deterministic), round trips, and invalid invoices.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { Bolt11Error, decodeBolt11, encodeBolt11, nodePublicKey, type Bolt11Tag, type Network } from './bolt11.js';
import { bech32ToWords, bytesToWords, formatAmount, parseAmount, wordsToBech32 } from './bolt11-words.js';

interface Vector {
  name: string;
  invoice: string;
  network: Network;
  amountMsat: number | null;
  timestamp: number;
  paymentHash: string;
  description?: string;
  descriptionPreimage?: string;
  expirySeconds: number;
  minFinalCltvExpiry?: number;
  paymentSecret?: string;
  features?: number[];
  signature?: string;
  recoveryId?: number;
}
const V = JSON.parse(readFileSync(new URL('../../wallet/vectors/bolt11.json', import.meta.url), 'utf8')) as {
  privateKey: string;
  payee: string;
  valid: Vector[];
  invalid: { name: string; invoice: string; error: string }[];
};
const key = hexToBytes(V.privateKey);

describe('BOLT #11 examples', () => {
  it('the example key is the example payee', () => assert.equal(nodePublicKey(key), V.payee));

  for (const v of V.valid) {
    it(`decodes: ${v.name}`, () => {
      const d = decodeBolt11(v.invoice);
      assert.equal(d.network, v.network);
      assert.equal(d.amountMsat, v.amountMsat);
      assert.equal(d.timestamp, v.timestamp);
      assert.equal(d.paymentHash, v.paymentHash);
      assert.equal(d.payee, V.payee);
      assert.equal(d.expirySeconds, v.expirySeconds);
      assert.equal(d.expiresAt, v.timestamp + v.expirySeconds);
      assert.equal(d.minFinalCltvExpiry, v.minFinalCltvExpiry ?? 18);
      assert.equal(d.description, v.description ?? null);
      const dh = v.descriptionPreimage === undefined ? null : bytesToHex(sha256(new TextEncoder().encode(v.descriptionPreimage)));
      assert.equal(d.descriptionHash, dh);
      assert.equal(d.paymentSecret, v.paymentSecret ?? null);
      assert.deepEqual(d.features, v.features ?? []);
      if (v.signature !== undefined) assert.equal(d.signature, v.signature);
      if (v.recoveryId !== undefined) assert.equal(d.recoveryId, v.recoveryId);
    });

    it(`re-encodes to the same string: ${v.name}`, () => {
      const d = decodeBolt11(v.invoice);
      const again = encodeBolt11({ network: d.network, amountMsat: d.amountMsat, timestamp: d.timestamp, tags: d.tags }, key);
      assert.equal(again, v.invoice.toLowerCase());
    });
  }

  for (const v of V.invalid) {
    it(`rejects: ${v.name}`, () => {
      assert.throws(() => decodeBolt11(v.invoice), (err: Error) => err instanceof Bolt11Error && err.message.includes(v.error));
    });
  }
});

describe('BOLT #11 round trips and tampering', () => {
  const sk = sha256(new TextEncoder().encode('timmy test node'));
  const pub = nodePublicKey(sk);
  const hash = bytesToHex(sha256(new TextEncoder().encode('preimage')));
  const tags: Bolt11Tag[] = [
    { tag: 'p', value: hash },
    { tag: 's', value: 'ab'.repeat(32) },
    { tag: 'd', value: 'job 5050: summarize ✓' },
    { tag: 'x', value: 600 },
    { tag: 'c', value: 80 },
    { tag: '9', value: [8, 14] },
  ];

  for (const [network, prefix] of [
    ['regtest', 'lnbcrt'],
    ['signet', 'lntbs'],
    ['testnet', 'lntb'],
    ['mainnet', 'lnbc'],
  ] as const) {
    it(`${network} invoices start with ${prefix} and decode to what was encoded`, () => {
      for (const amountMsat of [1, 10, 1000, 21_000, 150_000_000, 100_000_000_000, 123_456_789_012, null]) {
        const s = encodeBolt11({ network, amountMsat, timestamp: 1_700_000_000, tags }, sk);
        assert.ok(s.startsWith(prefix + (amountMsat === null ? '1' : formatAmount(amountMsat))), s);
        const d = decodeBolt11(s);
        assert.equal(d.network, network);
        assert.equal(d.amountMsat, amountMsat);
        assert.equal(d.payee, pub);
        assert.equal(d.description, 'job 5050: summarize ✓');
        assert.equal(d.expiresAt, 1_700_000_600);
        assert.equal(d.minFinalCltvExpiry, 80);
        assert.deepEqual(d.features, [8, 14]);
        assert.deepEqual(d.tags, tags);
      }
    });
  }

  it('amounts: shortest multiplier, msat precision', () => {
    assert.equal(formatAmount(250_000_000), '2500u');
    assert.equal(formatAmount(2_000_000_000), '20m');
    assert.equal(formatAmount(967_878_534), '9678785340p');
    assert.equal(formatAmount(100_000_000_000), '1');
    assert.equal(formatAmount(1000), '10n');
    assert.equal(parseAmount('10n'), 1000);
    assert.equal(parseAmount('10p'), 1);
    assert.throws(() => parseAmount('01m'), Bolt11Error);
    assert.throws(() => parseAmount('0'), Bolt11Error);
    assert.throws(() => parseAmount('1p'), /sub-millisatoshi/);
    assert.throws(() => parseAmount('100000000000'), /too large/); // 100 billion BTC
    assert.throws(() => formatAmount(0), Bolt11Error);
    assert.throws(() => formatAmount(1.5), Bolt11Error);
  });

  it('a changed character fails the checksum', () => {
    const s = encodeBolt11({ network: 'regtest', amountMsat: 5000, timestamp: 1_700_000_000, tags }, sk);
    const i = s.length - 20;
    const bad = s.slice(0, i) + (s[i] === 'q' ? 'p' : 'q') + s.slice(i + 1);
    assert.throws(() => decodeBolt11(bad), /invalid checksum/);
  });

  it('a field changed under a valid checksum recovers another payee; with an n field it fails verification', () => {
    const base = { network: 'regtest' as const, timestamp: 1_700_000_000 };
    const good = decodeBolt11(encodeBolt11({ ...base, amountMsat: 5000, tags }, sk));
    // Forge: the signature of a 5000 msat invoice under a 9000 msat prefix.
    const words = reencodeWithSignature('lnbcrt90n', { ...base, tags }, good.signature, good.recoveryId);
    assert.notEqual(decodeBolt11(words).payee, pub);

    const withN: Bolt11Tag[] = [...tags, { tag: 'n', value: pub }];
    const signed = decodeBolt11(encodeBolt11({ ...base, amountMsat: 5000, tags: withN }, sk));
    assert.equal(signed.payee, pub);
    const tampered = reencodeWithSignature('lnbcrt90n', { ...base, tags: withN }, signed.signature, signed.recoveryId);
    assert.throws(() => decodeBolt11(tampered), /invalid signature/);
  });

  it('a wrong recovery id recovers another key, or fails against n', () => {
    const inv = decodeBolt11(V.valid[0]!.invoice);
    const flipped = reencodeWithSignature(inv.hrp, { network: 'mainnet', timestamp: inv.timestamp, tags: inv.tags }, inv.signature, inv.recoveryId ^ 1);
    assert.notEqual(decodeBolt11(flipped).payee, V.payee);
    const bad = reencodeWithSignature(inv.hrp, { network: 'mainnet', timestamp: inv.timestamp, tags: inv.tags }, inv.signature, 7);
    assert.throws(() => decodeBolt11(bad), /recovery id/);
  });

  it('requires a payment hash and a description, and checks sizes', () => {
    assert.throws(() => decodeBolt11(encodeBolt11({ network: 'regtest', timestamp: 1, tags: [{ tag: 'd', value: 'x' }] }, sk)), /payment hash/);
    assert.throws(() => decodeBolt11(encodeBolt11({ network: 'regtest', timestamp: 1, tags: [{ tag: 'p', value: hash }] }, sk)), /description/);
    assert.throws(() => encodeBolt11({ network: 'regtest', timestamp: 1, tags: [{ tag: 'd', value: 'x'.repeat(640) }] }, sk), /too long/);
    assert.throws(() => encodeBolt11({ network: 'regtest', timestamp: 2 ** 35, tags }, sk), /35 bits/);
    assert.throws(() => encodeBolt11({ network: 'regtest', timestamp: 1, tags: [{ tag: 'p', value: 'AB' }] }, sk), /hex/);
    assert.throws(() => decodeBolt11('lnbc1' + 'q'.repeat(10_000)), /too long/);
  });
});

/** An invoice string with `u`'s fields under `hrp` and the given signature (the checksum is valid, the signature need not be). */
function reencodeWithSignature(hrp: string, u: { timestamp: number; tags: readonly Bolt11Tag[]; network: Network }, sigHex: string, recoveryId: number): string {
  const body = bech32ToWords(encodeBolt11({ ...u, amountMsat: null }, new Uint8Array(32).fill(1))).words.slice(0, -104);
  const sig = new Uint8Array(65);
  sig.set(hexToBytes(sigHex));
  sig[64] = recoveryId;
  return wordsToBech32(hrp, [...body, ...bytesToWords(sig)]);
}
