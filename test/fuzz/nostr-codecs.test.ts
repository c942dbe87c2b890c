// Fuzzing the NIP-19 (bech32 entities), NIP-44 (encrypted payloads) and NIP-49 (ncryptsec) decoders:
// random text, mutated valid strings, structure-aware payloads with valid checksums or MACs, round
// trips, and differentials against readers written here from the NIPs' text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bech32Encode, bech32EncodeWords } from '../../nostr/bech32.js';
import * as nip19 from '../../nostr/nip19.js';
import * as nip44 from '../../nostr/nip44.js';
import * as nip49 from '../../nostr/nip49.js';
import { anyText, fuzz, guarded, hex, mustReject, mutatedBytes, mutatedString, seeds } from './support.js';
import { NIP44_KEY, NIP49_FUZZ_MAX_LOG_N, NIP49_PASSWORD, nip19Decode, nip44Decrypt, nip49Decode } from './targets.js';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

// ---------------------------------------------------------------- NIP-19

/** 19.md's TLV rules, read independently: what decode must return for these bytes, or null if it must throw. */
function referenceNip19(prefix: string, data: Uint8Array): unknown {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  if (prefix === 'npub' || prefix === 'note') return data.length === 32 ? { type: prefix, data: bytesToHex(data) } : null;
  if (prefix === 'nsec') return data.length === 32 ? { type: prefix, data: Uint8Array.from(data) } : null;
  const tlv: [number, Uint8Array][] = [];
  for (let i = 0; i < data.length; ) {
    if (i + 2 > data.length) return null;
    const l = data[i + 1]!;
    if (i + 2 + l > data.length) return null;
    tlv.push([data[i]!, data.subarray(i + 2, i + 2 + l)]);
    i += 2 + l;
  }
  const first = (t: number) => tlv.find(([x]) => x === t)?.[1];
  let relays: string[];
  try {
    relays = tlv.filter(([t]) => t === 1).map(([, v]) => utf8.decode(v));
  } catch {
    return null;
  }
  const u32 = (b: Uint8Array) => ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
  const special = first(0);
  if (prefix === 'nprofile') return special?.length === 32 ? { type: prefix, data: { pubkey: bytesToHex(special), relays } } : null;
  if (prefix === 'nevent') {
    const author = first(2);
    const kind = first(3);
    if (special?.length !== 32 || (author && author.length !== 32) || (kind && kind.length !== 4)) return null;
    return { type: prefix, data: { id: bytesToHex(special), relays, ...(author ? { author: bytesToHex(author) } : {}), ...(kind ? { kind: u32(kind) } : {}) } };
  }
  if (prefix === 'naddr') {
    const author = first(2);
    const kind = first(3);
    if (special === undefined || author?.length !== 32 || kind?.length !== 4) return null;
    let identifier: string;
    try {
      identifier = utf8.decode(special);
    } catch {
      return null;
    }
    return { type: prefix, data: { identifier, pubkey: bytesToHex(author), kind: u32(kind), relays } };
  }
  return null;
}

const PREFIXES = ['npub', 'nsec', 'note', 'nprofile', 'nevent', 'naddr'];
const tlvRecord = fc.oneof(
  fc.tuple(fc.constantFrom(0, 1, 2, 3, 4, 255), fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ maxLength: 40 }))).map(([t, v]) => [t, v.length, ...v]),
  fc.tuple(fc.constant(1), fc.string({ unit: 'grapheme', maxLength: 20 })).map(([t, s]) => {
    const v = new TextEncoder().encode(s);
    return [t, v.length, ...v];
  }),
  fc.uint8Array({ maxLength: 3 }).map((b) => [...b]), // truncation and junk
);
const tlvEntity = fc.tuple(fc.constantFrom(...PREFIXES), fc.oneof(fc.uint8Array({ minLength: 31, maxLength: 33 }), fc.array(tlvRecord, { maxLength: 6 }).map((rs) => Uint8Array.from(rs.flat()))));

test('nip19: arbitrary and mutated strings are decoded or refused with Nip19Error', () => {
  const valid = fc.oneof(fc.constantFrom(...seeds('nip19')), tlvEntity.map(([p, d]) => bech32Encode(p, d)));
  fuzz('nip19', 'arbitrary and mutated strings', fc.oneof(anyText(120), mutatedString(valid)), nip19Decode, { runs: 4000, share: 0.35 });
});

test('nip19: any TLV payload with a valid checksum decodes exactly as 19.md says, or is refused', () => {
  fuzz('nip19', 'TLV differential', tlvEntity, ([prefix, data]) => {
    const s = bech32Encode(prefix, data);
    const want = referenceNip19(prefix, data);
    const got = guarded('nip19.decode', s, nip19.decode, [nip19.Nip19Error]);
    if (want === null) assert.ok(!got.ok, `decode accepted ${s}, which 19.md's TLV rules refuse`);
    else {
      assert.ok(got.ok, `decode refused ${s}: ${got.ok ? '' : got.error.message}`);
      assert.deepEqual(got.value, want);
    }
  }, { runs: 4000, share: 0.25 });
});

test('nip19: bech32 padding and checksum: words with bad padding or one changed character are refused', () => {
  // BIP-173 via NIP-19: at most 4 padding bits, all zero. Any word count, a valid checksum.
  const words = fc.array(fc.integer({ min: 0, max: 31 }), { minLength: 50, maxLength: 54 });
  fuzz('nip19', 'padding', words, (w) => {
    const s = bech32EncodeWords('npub', w);
    const bits = w.length * 5;
    const pad = bits % 8;
    const padOk = pad <= 4 && (w[w.length - 1]! & ((1 << pad) - 1)) === 0;
    const ok = padOk && Math.floor(bits / 8) === 32;
    const got = guarded('nip19.decode', s, nip19.decode, [nip19.Nip19Error]);
    assert.equal(got.ok, ok, `padding rule: ${w.length} words, last ${w[w.length - 1]}`);
  }, { runs: 1500, share: 0.1 });
  const change = fc.record({ key: hex(32), type: fc.constantFrom('npub', 'note', 'nsec'), at: fc.nat(), c: fc.constantFrom(...CHARSET.split('')) });
  fuzz('nip19', 'one changed character', change, ({ key, type, at, c }) => {
    const s = type === 'npub' ? nip19.npubEncode(key) : type === 'note' ? nip19.noteEncode(key) : nip19.nsecEncode(Buffer.from(key, 'hex'));
    const i = type.length + 1 + (at % (s.length - type.length - 1));
    if (s[i] === c) return;
    mustReject('nip19.decode', s.slice(0, i) + c + s.slice(i + 1), nip19.decode, [nip19.Nip19Error], 'bech32 detects any single substitution');
  }, { runs: 1500, share: 0.1 });
});

test('nip19: encode -> decode round trips (or the encoder refuses with Nip19Error)', () => {
  const relay = fc.oneof(fc.constant('wss://relay.example'), fc.string({ unit: 'grapheme', maxLength: 60 }));
  const ptr = fc.record({ id: hex(32), pubkey: hex(32), relays: fc.array(relay, { maxLength: 4 }), kind: fc.oneof(fc.nat(), fc.constant(0xffffffff)), identifier: fc.string({ unit: 'grapheme', maxLength: 80 }), author: fc.option(hex(32), { nil: undefined }) });
  fuzz('nip19', 'round trips', ptr, (p) => {
    const tryEnc = (f: () => string): string | null => {
      const r = guarded('nip19 encode', null, f, [nip19.Nip19Error]);
      return r.ok ? r.value : null;
    };
    const np = tryEnc(() => nip19.nprofileEncode(p));
    if (np) assert.deepEqual(nip19.decode(np).data, { pubkey: p.pubkey, relays: p.relays });
    const ne = tryEnc(() => nip19.neventEncode({ id: p.id, relays: p.relays, kind: p.kind, ...(p.author ? { author: p.author } : {}) }));
    if (ne) assert.deepEqual(nip19.decode(ne).data, { id: p.id, relays: p.relays, kind: p.kind, ...(p.author ? { author: p.author } : {}) });
    const na = tryEnc(() => nip19.naddrEncode(p));
    if (na) assert.deepEqual(nip19.decode(na).data, { identifier: p.identifier, pubkey: p.pubkey, kind: p.kind, relays: p.relays });
    assert.equal(nip19.decode(nip19.npubEncode(p.pubkey)).data, p.pubkey);
  }, { runs: 800, share: 0.2 });
});

// ---------------------------------------------------------------- NIP-44

/** 44.md's calc_padded_len, transcribed. */
function specPaddedLen(len: number): number {
  if (len <= 32) return 32;
  const nextPower = 2 ** (Math.floor(Math.log2(len - 1)) + 1);
  const chunk = nextPower <= 256 ? 32 : nextPower / 8;
  return chunk * (Math.floor((len - 1) / chunk) + 1);
}

/** 44.md's unpad (with the extended length prefix), transcribed: the plaintext, or null where it must fail. */
function specUnpad(padded: Uint8Array): string | null {
  if (padded.length < 2) return null;
  let len = (padded[0]! << 8) | padded[1]!;
  let prefix = 2;
  if (len === 0) {
    if (padded.length < 6) return null;
    len = padded[2]! * 2 ** 24 + (padded[3]! << 16) + (padded[4]! << 8) + padded[5]!;
    if (len < 65536) return null;
    prefix = 6;
  }
  if (len < 1 || padded.length !== prefix + specPaddedLen(len)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(padded.subarray(prefix, prefix + len));
  } catch {
    return null;
  }
}

/** A payload with a correct MAC around any padded plaintext: only the padding rules can refuse it. */
function sealed(padded: Uint8Array, nonce: Uint8Array): string {
  const { chachaKey, chachaNonce, hmacKey } = nip44.getMessageKeys(NIP44_KEY, nonce);
  const ct = chacha20(chachaKey, chachaNonce, padded);
  const mac = hmac.create(sha256, hmacKey).update(nonce).update(ct).digest();
  return Buffer.from([2, ...nonce, ...ct, ...mac]).toString('base64');
}

const nonceArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const plaintextArb = fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }), fc.string({ unit: 'grapheme-ascii', minLength: 250, maxLength: 1100 }));

test('nip44: arbitrary and mutated payloads are refused with Nip44Error (or are canonical)', () => {
  const valid = fc.oneof(fc.constantFrom(...seeds('nip44')), fc.tuple(plaintextArb, nonceArb).map(([p, n]) => nip44.encrypt(p, NIP44_KEY, n)));
  fuzz('nip44', 'arbitrary and mutated payloads', fc.oneof(anyText(200), mutatedString(valid, 'AQgw+/=#abc019 \n')), (s) => nip44Decrypt(s), { runs: 3000, share: 0.3 });
});

test('nip44: any change to the bytes of a valid payload is refused', () => {
  fuzz('nip44', 'mutated bytes', fc.tuple(plaintextArb, nonceArb).chain(([p, n]) => {
    const bytes = Buffer.from(nip44.encrypt(p, NIP44_KEY, n), 'base64');
    return fc.tuple(fc.constant(Uint8Array.from(bytes)), mutatedBytes(fc.constant(Uint8Array.from(bytes))));
  }), ([orig, mutated]) => {
    if (Buffer.compare(orig, mutated) === 0) return;
    mustReject('nip44.decrypt', Buffer.from(mutated).toString('base64'), (s) => nip44.decrypt(s, NIP44_KEY), [nip44.Nip44Error], 'the MAC covers version, nonce and ciphertext');
  }, { runs: 1500, share: 0.2 });
});

test('nip44: with a correct MAC, padding is accepted exactly when 44.md accepts it', () => {
  const paddedArb = fc.oneof(
    // Well-formed, then maybe damaged in the prefix, the length or the suffix.
    fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }), fc.nat(), fc.constantFrom('none', 'len+1', 'len-1', 'suffix', 'extra', 'short', 'long-prefix')).map(([p, at, how]) => {
      const u = new TextEncoder().encode(p);
      const padded = new Uint8Array(2 + specPaddedLen(u.length));
      padded[0] = u.length >> 8;
      padded[1] = u.length & 0xff;
      padded.set(u, 2);
      if (how === 'len+1' || how === 'len-1') {
        const l = u.length + (how === 'len+1' ? 1 : -1);
        padded[0] = l >> 8;
        padded[1] = l & 0xff;
      }
      if (how === 'suffix') padded[2 + u.length + (at % (padded.length - 2 - u.length))] = 1; // 44.md: the suffix is zeros, but the MAC already covers it
      if (how === 'extra') return Uint8Array.from([...padded, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      if (how === 'short') return padded.slice(0, padded.length - 32);
      if (how === 'long-prefix') return Uint8Array.from([0, 0, 0, 0, padded[0]!, padded[1]!, ...padded.subarray(2)]);
      return padded;
    }),
    fc.uint8Array({ minLength: 32, maxLength: 300 }),
  );
  fuzz('nip44', 'padding differential', fc.tuple(paddedArb, nonceArb), ([padded, nonce]) => {
    if (padded.length === 0) return;
    const payload = sealed(padded, nonce);
    if (payload.length < 132) return; // below the minimum payload size: refused for that reason
    const want = specUnpad(padded);
    const got = guarded('nip44.decrypt', payload, (s) => nip44.decrypt(s, NIP44_KEY), [nip44.Nip44Error]);
    if (want === null) assert.ok(!got.ok, `accepted padding 44.md refuses: ${bytesToHex(padded.subarray(0, 8))}... (${padded.length} bytes)`);
    else {
      assert.ok(got.ok, `refused padding 44.md accepts: ${got.ok ? '' : got.error.message}`);
      assert.equal(got.value, want);
    }
  }, { runs: 1500, share: 0.2 });
});

test('nip44: encrypt -> decrypt round trips under random keys', () => {
  const sk = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp256k1.utils.isValidSecretKey(k));
  fuzz('nip44', 'round trips', fc.tuple(sk, sk, plaintextArb), ([a, b, p]) => {
    const pubB = bytesToHex(secp256k1.getPublicKey(b, true).subarray(1));
    const pubA = bytesToHex(secp256k1.getPublicKey(a, true).subarray(1));
    const ka = nip44.getConversationKey(a, pubB);
    assert.deepEqual(ka, nip44.getConversationKey(b, pubA));
    assert.equal(nip44.decrypt(nip44.encrypt(p, ka), ka), p);
  }, { runs: 150, share: 0.3 });
});

// ---------------------------------------------------------------- NIP-49

/** 91 raw bytes with a chosen version, log_n and key security byte (usually the valid ones). */
const ncryptsecBytes = fc.record({
  version: fc.oneof({ weight: 4, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  logN: fc.oneof(fc.integer({ min: 0, max: NIP49_FUZZ_MAX_LOG_N + 1 }), fc.integer({ min: 0, max: 255 })),
  ksb: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  body: fc.uint8Array({ minLength: 88, maxLength: 88 }),
  length: fc.oneof({ weight: 6, arbitrary: fc.constant(91) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 120 }) }),
}).map(({ version, logN, ksb, body, length }) => {
  const raw = new Uint8Array(Math.max(91, length));
  raw[0] = version;
  raw[1] = logN;
  raw.set(body.subarray(0, 40), 2);
  raw[42] = ksb;
  raw.set(body.subarray(40), 43);
  return bech32Encode('ncryptsec', raw.slice(0, length));
});

test('nip49: arbitrary, mutated and structured strings are refused with Nip49Error or decrypt to a valid key', () => {
  const valid = fc.oneof(fc.constantFrom(...seeds('nip49')), ncryptsecBytes);
  fuzz('nip49', 'arbitrary, mutated and structured', fc.oneof(anyText(200), mutatedString(valid), ncryptsecBytes), nip49Decode, { runs: 2500, share: 0.5 });
});

test('nip49: a log_n above the accepted maximum is refused before any scrypt work', () => {
  const high = fc.record({ logN: fc.integer({ min: nip49.DEFAULT_MAX_LOG_N_DECRYPT + 1, max: 255 }), body: fc.uint8Array({ minLength: 88, maxLength: 88 }) });
  fuzz('nip49', 'log_n bound', high, ({ logN, body }) => {
    const raw = Uint8Array.from([2, logN, ...body.subarray(0, 40), 2, ...body.subarray(40)]);
    mustReject('nip49.decrypt', bech32Encode('ncryptsec', raw), (s) => nip49.decrypt(s, NIP49_PASSWORD), [nip49.Nip49Error], `log_n ${logN} is above the default maximum`);
    mustReject('nip49.decrypt', bech32Encode('ncryptsec', Uint8Array.from([2, 0, ...raw.subarray(2)])), (s) => nip49.decrypt(s, NIP49_PASSWORD), [nip49.Nip49Error], 'log_n 0');
  }, { runs: 300, share: 0.1 });
});

test('nip49: encrypt -> decrypt round trips; NFKC-equivalent passwords open it, others do not', () => {
  const sk = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp256k1.utils.isValidSecretKey(k));
  const args = fc.record({ sk, pw: fc.string({ unit: 'grapheme', maxLength: 12 }), other: fc.string({ unit: 'grapheme', maxLength: 12 }), logN: fc.integer({ min: 1, max: 3 }), ksb: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2> });
  fuzz('nip49', 'round trips', args, ({ sk: key, pw, other, logN, ksb }) => {
    const enc = nip49.encrypt(key, pw, logN, ksb);
    assert.deepEqual(nip49.decrypt(enc, pw), key);
    assert.deepEqual(nip49.decrypt(enc, pw.normalize('NFKD')), key);
    assert.equal(nip49.parse(enc).keySecurity, ksb);
    if (other.normalize('NFKC') !== pw.normalize('NFKC')) mustReject('nip49.decrypt', enc, (s) => nip49.decrypt(s, other), [nip49.Nip49Error], 'wrong password');
  }, { runs: 150, share: 0.4 });
});
