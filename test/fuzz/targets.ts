// The fuzz targets: one function per decoder, taking the raw text an attacker controls (a relay
// message, a bech32 string, a header...) and checking what the module promises about it:
//  - it returns, or throws only its documented error class (guarded() fails on anything else),
//  - within the time bound,
//  - and what it accepts is valid by an independent check written here from the spec's text.
// The property tests feed these random and structure-aware inputs; corpus.test.ts replays every
// file of test/fuzz/corpus/<target>/ through them.
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { checkEventShape, checkFilter, getEventHash, matchFilter, type Filter, type NostrEvent } from '../../nostr/nip01.js';
import { defaultVerifier, pureVerifier } from '../../nostr/verify.js';
import { parseClientMessage, type ClientMessage } from '../../relay/pipeline/parse.js';
import { SubscriptionIndex, toLiveFilters, type LiveFilter } from '../../relay/subscriptions.js';
import * as nip19 from '../../nostr/nip19.js';
import * as nip44 from '../../nostr/nip44.js';
import * as nip49 from '../../nostr/nip49.js';
import { parseJobRequest, isJobRequestKind, INPUT_TYPES } from '../../nostr/nip90.js';
import { checkHttpAuth, parseAuthorization, HTTP_AUTH_KIND } from '../../nostr/nip98.js';
import { decodeBolt11, readBolt11, Bolt11Error } from '../../wallet/bolt11.js';
import { decodeBolt12, Bolt12Error, readTlvStream, isSignatureType, signatureMessage, merkleRoot, type Bolt12, type TlvRecord } from '../../wallet/bolt12/index.js';
import { decodeBolt12String } from '../../wallet/bolt12/bech32-nochecksum.js';
import { FuzzFailure, guarded } from './support.js';

export const LIMITS = { maxFilters: 10, maxSubIdLength: 64 } as const;
const HEX64 = /^[0-9a-f]{64}$/;

// ---------------------------------------------------------------- relay message parser

/** NIP-01 "filters" from the spec's text, as an independent check of what checkFilter lets through. */
function filterIsValid(f: Filter): boolean {
  for (const [k, v] of Object.entries(f)) {
    if (k === 'ids' || k === 'authors' || k === '#e' || k === '#p') {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && HEX64.test(x))) return false;
    } else if (k === 'kinds') {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 65535)) return false;
    } else if (k === 'since' || k === 'until' || k === 'limit') {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return false;
    } else if (k === 'search') {
      if (typeof v !== 'string') return false;
    } else if (/^#[a-zA-Z]$/.test(k)) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return false;
    } else return false; // checkFilter drops unknown keys: none may come out
  }
  return true;
}

/** An event the relay may accept: shape, id = sha256 of the serialization, and a BIP-340 signature by the pure verifier. */
export function eventIsValid(e: NostrEvent): boolean {
  const shape = checkEventShape(e);
  if (!shape.ok) return false;
  return getEventHash(e) === e.id && pureVerifier.verify(e.sig, e.id, e.pubkey);
}

export function checkParsed(text: string, m: ClientMessage): void {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    assert.equal(m.type, 'BAD_MESSAGE', 'text that is not JSON must be BAD_MESSAGE');
    return;
  }
  const arr = Array.isArray(raw) ? (raw as unknown[]) : null;
  switch (m.type) {
    case 'EVENT':
    case 'AUTH':
      assert.ok(arr && arr.length === 2 && arr[0] === m.type, `${m.type} accepted from a message of the wrong form`);
      assert.ok(eventIsValid(m.event), `${m.type} accepted an event whose id or signature does not verify`);
      if (m.type === 'EVENT') assert.deepEqual(JSON.parse(m.json), m.event);
      break;
    case 'REQ':
    case 'COUNT':
      assert.ok(arr && arr[0] === m.type);
      assert.ok(m.subId.length >= 1 && m.subId.length <= LIMITS.maxSubIdLength, 'subscription id out of bounds');
      assert.ok(m.filters.length >= 1 && m.filters.length <= LIMITS.maxFilters, 'filter count out of bounds');
      for (const f of m.filters) assert.ok(filterIsValid(f), `accepted an invalid filter ${JSON.stringify(f).slice(0, 200)}`);
      break;
    case 'NEG-OPEN':
      assert.ok(filterIsValid(m.filter));
      assert.match(m.message, /^([0-9a-fA-F]{2})+$/);
      break;
    case 'NEG-MSG':
      assert.match(m.message, /^([0-9a-fA-F]{2})+$/);
      break;
    case 'BAD_EVENT':
      assert.ok(m.id.length <= 64);
      break;
    default:
      break;
  }
}

export function relayMessage(text: string): ClientMessage {
  const r = guarded('parseClientMessage', text, (t) => parseClientMessage(t, defaultVerifier, LIMITS), []);
  if (!r.ok) throw new FuzzFailure('unreachable');
  checkParsed(text, r.value);
  return r.value;
}

// ---------------------------------------------------------------- filter matcher

/** NIP-01's matching rules, written from 01.md's text and nothing else. */
export function referenceMatch(f: Filter, e: NostrEvent): boolean {
  // "The ids, authors, #e and #p filter lists MUST contain exact 64-character lowercase hex values."
  // "All of the conditions of a filter that are specified must match for an event for it to pass the filter."
  const conds: boolean[] = [];
  if (f.ids !== undefined) conds.push(f.ids.some((x) => x === e.id)); // "a list of event ids"
  if (f.authors !== undefined) conds.push(f.authors.some((x) => x === e.pubkey));
  if (f.kinds !== undefined) conds.push(f.kinds.some((k) => k === e.kind));
  // "since <= created_at <= until"
  if (f.since !== undefined) conds.push(f.since <= e.created_at);
  if (f.until !== undefined) conds.push(e.created_at <= f.until);
  for (const key of Object.keys(f)) {
    if (!/^#[a-zA-Z]$/.test(key)) continue;
    const values = f[key as `#${string}`];
    if (values === undefined) continue;
    // "a list of tag values ... the event must have a tag with that name whose first value is in the list"
    const letter = key[1]!;
    conds.push(e.tags.some((t) => t.length >= 2 && t[0] === letter && values.some((v) => v === t[1])));
  }
  return conds.every(Boolean);
}

export interface FilterCase {
  readonly filters: unknown[];
  readonly events: unknown[];
}

/**
 * Checks each filter; for the accepted ones, matchFilter against the reference, and the live index
 * (SubscriptionIndex) against a brute-force scan, over every event that passes the shape check.
 */
export function filterCase(c: FilterCase): void {
  const checked: Filter[] = [];
  for (const raw of c.filters) {
    const r = guarded('checkFilter', raw, checkFilter, []);
    if (!r.ok) throw new FuzzFailure('unreachable');
    if (r.value.ok) {
      assert.ok(filterIsValid(r.value.value), `checkFilter accepted an invalid filter ${JSON.stringify(raw).slice(0, 300)}`);
      checked.push(r.value.value);
    }
  }
  const events = c.events.flatMap((x) => {
    const s = checkEventShape(x);
    return s.ok ? [s.value] : [];
  });
  // Subscribers: one per filter, plus one holding all of them.
  type Sub = { id: number; filters: LiveFilter[] };
  const subs: Sub[] = checked.map((f, i) => ({ id: i, filters: toLiveFilters([stripSearch(f)]) }));
  if (checked.length > 1) subs.push({ id: -1, filters: toLiveFilters(checked.map(stripSearch)) });
  const index = new SubscriptionIndex<Sub>();
  for (const s of subs) index.add(s);
  for (const e of events) {
    for (const f of checked) {
      const r = guarded('matchFilter', [f, e] as const, ([ff, ee]) => matchFilter(ff, ee), []);
      if (!r.ok) throw new FuzzFailure('unreachable');
      assert.equal(r.value, referenceMatch(f, e), `matchFilter disagrees with NIP-01 on filter ${JSON.stringify(f).slice(0, 300)} and event ${JSON.stringify(e).slice(0, 300)}`);
    }
    const got = new Set(index.match(e).map((s) => s.id));
    const want = new Set(subs.filter((s) => s.filters.some((lf) => referenceMatch(lf.filter, e))).map((s) => s.id));
    assert.deepEqual([...got].sort(), [...want].sort(), `the live index disagrees with a full scan on event ${JSON.stringify(e).slice(0, 300)}`);
  }
  // Removing every subscriber leaves nothing behind to match.
  for (const s of subs) index.remove(s);
  for (const e of events) assert.equal(index.match(e).length, 0);
  assert.equal(index.size, 0);
}

/** NIP-50 search is evaluated by matchSearch, not by NIP-01 matching: the differential leaves it out. */
function stripSearch(f: Filter): Filter {
  const { search: _s, ...rest } = f;
  return rest;
}

export function filterText(text: string): void {
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch {
    return;
  }
  const o = (c ?? {}) as { filters?: unknown; events?: unknown };
  filterCase({ filters: Array.isArray(o.filters) ? o.filters : [], events: Array.isArray(o.events) ? o.events : [] });
}

// ---------------------------------------------------------------- NIP-19

export function nip19Decode(s: string): void {
  const r = guarded('nip19.decode', s, nip19.decode, [nip19.Nip19Error]);
  if (!r.ok) return;
  const d = r.value;
  const lower = s.toLowerCase();
  assert.ok(lower.startsWith(`${d.type}1`), 'decoded type does not match the prefix');
  switch (d.type) {
    case 'npub':
      assert.equal(nip19.npubEncode(d.data), lower, 'npub does not re-encode to itself');
      break;
    case 'note':
      assert.equal(nip19.noteEncode(d.data), lower, 'note does not re-encode to itself');
      break;
    case 'nsec':
      assert.equal(nip19.nsecEncode(d.data), lower, 'nsec does not re-encode to itself');
      break;
    case 'nprofile':
      assert.match(d.data.pubkey, HEX64);
      break;
    case 'nevent':
      assert.match(d.data.id, HEX64);
      if (d.data.author !== undefined) assert.match(d.data.author, HEX64);
      if (d.data.kind !== undefined) assert.ok(Number.isInteger(d.data.kind) && d.data.kind >= 0 && d.data.kind <= 0xffffffff);
      break;
    case 'naddr':
      assert.match(d.data.pubkey, HEX64);
      assert.ok(Number.isInteger(d.data.kind) && d.data.kind >= 0 && d.data.kind <= 0xffffffff);
      break;
  }
}

// ---------------------------------------------------------------- NIP-44

/** The conversation key of the first valid vector (sec1 = 1, sec2 = 2); corpus payloads are made with it. */
export const NIP44_KEY = hexToBytes('c41c775356fd92eadc63ff5a0dc1da211b268cbea22316767095b2871ea1412d');

export function nip44Decrypt(payload: string, key: Uint8Array = NIP44_KEY): void {
  const r = guarded('nip44.decrypt', payload, (p) => nip44.decrypt(p, key), [nip44.Nip44Error]);
  if (!r.ok) return;
  // Encryption is deterministic for a given nonce, padding and base64 are canonical: an accepted
  // payload must be exactly what encrypting its plaintext with its own nonce gives.
  const nonce = Buffer.from(payload, 'base64').subarray(1, 33);
  assert.equal(nip44.encrypt(r.value, key, Uint8Array.from(nonce)), payload, 'decrypt accepted a non-canonical payload');
}

// ---------------------------------------------------------------- NIP-49

export const NIP49_PASSWORD = 'nostr';
/** Decryption in the fuzz targets stops at this log_n: scrypt's cost is what the option bounds. */
export const NIP49_FUZZ_MAX_LOG_N = 6;

export function nip49Decode(s: string): void {
  const p = guarded('nip49.parse', s, nip49.parse, [nip49.Nip49Error]);
  if (p.ok) {
    const raw = (() => {
      try {
        return nip19Bech32(s);
      } catch {
        return null;
      }
    })();
    assert.ok(raw && raw.length === 91 && raw[0] === 0x02, 'parse accepted something that is not a 91-byte version-2 ncryptsec');
    assert.ok(p.value.keySecurity <= 2, 'parse accepted a key security byte the spec does not define');
  }
  const d = guarded('nip49.decrypt', s, (x) => nip49.decrypt(x, NIP49_PASSWORD, { maxLogN: NIP49_FUZZ_MAX_LOG_N }), [nip49.Nip49Error]);
  if (d.ok) {
    assert.ok(p.ok, 'decrypt accepted what parse rejects');
    assert.ok(p.value.logN >= 1 && p.value.logN <= NIP49_FUZZ_MAX_LOG_N, 'decrypt ran at a log_n outside the accepted range');
    assert.ok(secp256k1.utils.isValidSecretKey(d.value));
  }
}

/** A minimal bech32 reader for the check above (checksum is the decoder's business, tested elsewhere). */
function nip19Bech32(s: string): Uint8Array {
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  const CH = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const words = [...lower.slice(sep + 1, -6)].map((c) => CH.indexOf(c));
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of words) {
    acc = (acc << 5) | w;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
    acc &= 0xff;
  }
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------- BOLT11

export function bolt11Decode(s: string): void {
  const fast = guarded('readBolt11', s, readBolt11, []);
  const r = guarded('decodeBolt11', s, decodeBolt11, [Bolt11Error]);
  if (!r.ok) return;
  const inv = r.value;
  assert.ok(fast.ok && fast.value !== null && fast.value.paymentHash === inv.paymentHash, 'readBolt11 and decodeBolt11 disagree on the payment hash');
  assert.equal(fast.value.amountMsat, inv.amountMsat);
  assert.match(inv.paymentHash, HEX64);
  assert.ok(inv.description !== null || inv.descriptionHash !== null, 'accepted an invoice with neither d nor h');
  assert.ok(Number.isSafeInteger(inv.timestamp) && inv.timestamp >= 0);
  assert.ok(inv.amountMsat === null || (Number.isSafeInteger(inv.amountMsat) && inv.amountMsat > 0));
  // The signature must verify against the payee, checked here with noble directly (low-S or not, as BOLT 11 allows).
  const sig = hexToBytes(inv.signature);
  const ok = (() => {
    try {
      const { words } = bolt11Words(s);
      return secp256k1.verify(sig, bolt11SigHash(inv.hrp, words.slice(0, -104)), hexToBytes(inv.payee), { prehash: false, lowS: false });
    } catch {
      return false;
    }
  })();
  assert.ok(ok, 'accepted an invoice whose signature does not verify for its payee');
}

const B32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
function bolt11Words(s: string): { hrp: string; words: number[] } {
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  return { hrp: lower.slice(0, sep), words: [...lower.slice(sep + 1, -6)].map((c) => B32.indexOf(c)) };
}

function bolt11SigHash(hrp: string, words: readonly number[]): Uint8Array {
  const bytes: number[] = [...new TextEncoder().encode(hrp)];
  let acc = 0;
  let bits = 0;
  for (const w of words) {
    acc = ((acc << 5) | w) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  if (bits > 0) bytes.push((acc << (8 - bits)) & 0xff);
  return sha256(Uint8Array.from(bytes));
}

// ---------------------------------------------------------------- BOLT12

/** Which TLV types each stream admits (BOLT 12), as an independent check of what the decoders keep. */
const KNOWN12: Record<Bolt12['kind'], bigint[]> = {
  offer: [2n, 4n, 6n, 8n, 10n, 12n, 14n, 16n, 18n, 20n, 22n],
  invoice_request: [0n, 2n, 4n, 6n, 8n, 10n, 12n, 14n, 16n, 18n, 20n, 22n, 80n, 82n, 84n, 86n, 88n, 89n, 90n, 91n, 240n],
  invoice: [0n, 2n, 4n, 6n, 8n, 10n, 12n, 14n, 16n, 18n, 20n, 22n, 80n, 82n, 84n, 86n, 88n, 89n, 90n, 91n, 160n, 162n, 164n, 166n, 168n, 170n, 172n, 174n, 176n, 240n],
};
const RANGES12: Record<Bolt12['kind'], [bigint, bigint][]> = {
  offer: [[1n, 79n], [1_000_000_000n, 1_999_999_999n]],
  invoice_request: [[0n, 159n], [240n, 1000n], [1_000_000_000n, 2_999_999_999n]],
  invoice: [[0n, (1n << 64n) - 1n]],
};

export function bolt12Decode(s: string): void {
  const r = guarded('decodeBolt12', s, (x) => decodeBolt12(x), [Bolt12Error]);
  if (!r.ok) return;
  const d = r.value;
  const { bytes } = decodeBolt12String(s);
  const records: TlvRecord[] = readTlvStream(bytes);
  let prev = -1n;
  for (const rec of records) {
    assert.ok(rec.type > prev, 'accepted TLV types out of order');
    prev = rec.type;
    assert.ok(RANGES12[d.kind].some(([lo, hi]) => rec.type >= lo && rec.type <= hi), `${d.kind}: accepted TLV type ${rec.type} outside its ranges`);
    assert.ok(rec.type % 2n === 1n || KNOWN12[d.kind].includes(rec.type), `${d.kind}: accepted unknown even TLV type ${rec.type}`);
  }
  if (d.kind === 'offer') assert.ok(d.issuerId !== null || d.paths !== null, 'offer with neither issuer id nor paths');
  // A signature, when present, must verify for the signing key (BIP-340 over the Merkle root).
  const sig = records.find((x) => x.type === 240n);
  const key = d.kind === 'invoice_request' ? d.payerId : d.kind === 'invoice' ? d.nodeId : null;
  if (d.kind === 'invoice') assert.ok(sig, 'invoice without a signature');
  if (sig && key !== null) {
    const msg = signatureMessage(d.kind === 'invoice' ? 'invoice' : 'invoice_request', merkleRoot(records.filter((x) => !isSignatureType(x.type))));
    assert.ok(pureVerifier.verify(bytesToHex(sig.value), bytesToHex(msg), key.slice(2)), `${d.kind}: accepted a signature that does not verify`);
  }
}

// ---------------------------------------------------------------- NIP-90

/** A decrypt callback for encrypted requests: "decrypts" by reading the content as base64 of JSON tags, or throws. */
export function fakeDecrypt(ciphertext: string): string | undefined {
  if (ciphertext === 'undefined') return undefined;
  if (ciphertext === 'throw') throw new Error('cannot decrypt');
  return Buffer.from(ciphertext, 'base64').toString('utf8');
}

export function nip90Request(json: string): void {
  let x: unknown;
  try {
    x = JSON.parse(json);
  } catch {
    return;
  }
  const shape = checkEventShape(x);
  if (!shape.ok) return;
  const r = guarded('parseJobRequest', shape.value, (e) => parseJobRequest(e, fakeDecrypt), []);
  if (!r.ok || !r.value.ok) return;
  const j = r.value.value;
  assert.ok(isJobRequestKind(j.kind), 'accepted a kind outside 5000-5999');
  assert.equal(j.customer, shape.value.pubkey);
  for (const i of j.inputs) {
    assert.ok((INPUT_TYPES as readonly string[]).includes(i.type), `input type ${i.type}`);
    if (i.type === 'event' || i.type === 'job') assert.match(i.data, HEX64);
  }
  for (const p of j.providers) assert.match(p, HEX64);
  for (const u of j.relays) assert.match(u, /^wss?:\/\//i);
  if (j.bidMsat !== undefined) assert.ok(Number.isSafeInteger(j.bidMsat) && j.bidMsat >= 0);
  for (const [name, value] of j.params) assert.ok(typeof name === 'string' && name !== '' && typeof value === 'string');
  if (j.encryption) assert.ok(shape.value.tags.some((t) => t[0] === 'encrypted'));
}

// ---------------------------------------------------------------- NIP-98

export const NIP98_URL = 'https://timmy.example/api/jobs?x=1';
export const NIP98_METHOD = 'POST';
export const NIP98_NOW = 1_700_000_000;

export function nip98Header(header: string): void {
  const p = guarded('parseAuthorization', header, parseAuthorization, []);
  if (!p.ok || !p.value.ok) return;
  assert.ok(checkEventShape(p.value.value).ok);
  const e = p.value.value;
  const c = guarded('checkHttpAuth', e, (ev) => checkHttpAuth(ev, { url: NIP98_URL, method: NIP98_METHOD, now: NIP98_NOW, body: '{"a":1}' }), []);
  if (!c.ok || !c.value.ok) return;
  assert.equal(e.kind, HTTP_AUTH_KIND, 'accepted another kind');
  assert.ok(Math.abs(e.created_at - NIP98_NOW) <= 60, 'accepted an event outside the time window');
  assert.equal(e.tags.find((t) => t[0] === 'u')?.[1], NIP98_URL);
  assert.equal(e.tags.find((t) => t[0] === 'method')?.[1]?.toUpperCase(), NIP98_METHOD);
  assert.ok(eventIsValid(e), 'accepted an event whose id or signature does not verify');
  assert.equal(c.value.value, e.pubkey);
}

// ---------------------------------------------------------------- registry

export const TARGETS: Record<string, (input: string) => void> = {
  'relay-message': (s) => void relayMessage(s),
  filter: filterText,
  nip19: nip19Decode,
  nip44: (s) => nip44Decrypt(s),
  nip49: nip49Decode,
  bolt11: bolt11Decode,
  bolt12: bolt12Decode,
  nip90: nip90Request,
  nip98: nip98Header,
};
