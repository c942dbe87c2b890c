// NIP-19: bech32 entities for display and copy-paste: npub, nsec, note (bare 32 bytes) and
// nprofile, nevent, naddr (TLV). Only for humans; events and filters always carry hex.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { bech32Decode, bech32Encode, Bech32Error } from './bech32.js';
import { isHex64 } from './nip01.js';

export class Nip19Error extends Error {
  override name = 'Nip19Error';
}

export type NPub = `npub1${string}`;
export type NSec = `nsec1${string}`;
export type Note = `note1${string}`;
export type NProfile = `nprofile1${string}`;
export type NEvent = `nevent1${string}`;
export type NAddr = `naddr1${string}`;

export interface ProfilePointer {
  pubkey: string;
  relays: string[];
}

export interface EventPointer {
  id: string;
  relays: string[];
  author?: string;
  kind?: number;
}

export interface AddressPointer {
  /** The `d` tag; "" for a plain replaceable event. */
  identifier: string;
  pubkey: string;
  kind: number;
  relays: string[];
}

export type Decoded =
  | { type: 'npub'; data: string }
  | { type: 'nsec'; data: Uint8Array }
  | { type: 'note'; data: string }
  | { type: 'nprofile'; data: ProfilePointer }
  | { type: 'nevent'; data: EventPointer }
  | { type: 'naddr'; data: AddressPointer };

export type DecodedType = Decoded['type'];
export type DecodedOf<T extends DecodedType> = Extract<Decoded, { type: T }>;

// TLV types (NIP-19 "Shareable identifiers with extra metadata").
const T_SPECIAL = 0;
const T_RELAY = 1;
const T_AUTHOR = 2;
const T_KIND = 3;

const utf8 = new TextEncoder();
// fatal: a relay URL or d-tag that is not valid UTF-8 is a corrupt entity, not something to render as U+FFFD.
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

// ---- encoding ----

function hex32(hex: string, what: string): Uint8Array {
  if (!isHex64(hex)) throw new Nip19Error(`${what} must be 64 lowercase hex characters`);
  return hexToBytes(hex);
}

function u32(n: number, what: string): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Nip19Error(`${what} must be a 32-bit unsigned integer`);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

function encodeTlv(items: readonly [number, Uint8Array][]): Uint8Array {
  let len = 0;
  for (const [t, v] of items) {
    // L is one byte, so a value longer than 255 bytes cannot be represented at all.
    if (v.length > 255) throw new Nip19Error(`TLV ${t} value longer than 255 bytes`);
    len += 2 + v.length;
  }
  const out = new Uint8Array(len);
  let i = 0;
  for (const [t, v] of items) {
    out[i++] = t;
    out[i++] = v.length;
    out.set(v, i);
    i += v.length;
  }
  return out;
}

function encode(prefix: string, data: Uint8Array): string {
  try {
    return bech32Encode(prefix, data);
  } catch (err) {
    throw err instanceof Bech32Error ? new Nip19Error(err.message) : err;
  }
}

const relayItems = (relays: readonly string[] | undefined): [number, Uint8Array][] =>
  (relays ?? []).map((r) => [T_RELAY, utf8.encode(r)]);

export const npubEncode = (pubkeyHex: string): NPub => encode('npub', hex32(pubkeyHex, 'pubkey')) as NPub;
export const noteEncode = (idHex: string): Note => encode('note', hex32(idHex, 'event id')) as Note;

export function nsecEncode(sk: Uint8Array): NSec {
  if (!(sk instanceof Uint8Array) || sk.length !== 32) throw new Nip19Error('secret key must be 32 bytes');
  return encode('nsec', sk) as NSec;
}

export function nprofileEncode(p: { pubkey: string; relays?: readonly string[] }): NProfile {
  return encode('nprofile', encodeTlv([[T_SPECIAL, hex32(p.pubkey, 'pubkey')], ...relayItems(p.relays)])) as NProfile;
}

export function neventEncode(p: { id: string; relays?: readonly string[]; author?: string; kind?: number }): NEvent {
  const items: [number, Uint8Array][] = [[T_SPECIAL, hex32(p.id, 'event id')], ...relayItems(p.relays)];
  if (p.author !== undefined) items.push([T_AUTHOR, hex32(p.author, 'author')]);
  if (p.kind !== undefined) items.push([T_KIND, u32(p.kind, 'kind')]);
  return encode('nevent', encodeTlv(items)) as NEvent;
}

export function naddrEncode(p: { identifier: string; pubkey: string; kind: number; relays?: readonly string[] }): NAddr {
  if (typeof p.identifier !== 'string') throw new Nip19Error('identifier must be a string');
  const items: [number, Uint8Array][] = [
    [T_SPECIAL, utf8.encode(p.identifier)],
    ...relayItems(p.relays),
    [T_AUTHOR, hex32(p.pubkey, 'pubkey')],
    [T_KIND, u32(p.kind, 'kind')],
  ];
  return encode('naddr', encodeTlv(items)) as NAddr;
}

// ---- decoding ----

/** TLV values by type, in order of appearance. Truncation anywhere is an error. */
function parseTlv(data: Uint8Array): Map<number, Uint8Array[]> {
  const out = new Map<number, Uint8Array[]>();
  let i = 0;
  while (i < data.length) {
    if (i + 2 > data.length) throw new Nip19Error('truncated TLV header');
    const t = data[i]!;
    const l = data[i + 1]!;
    if (i + 2 + l > data.length) throw new Nip19Error(`truncated TLV ${t}`);
    const list = out.get(t) ?? [];
    list.push(data.subarray(i + 2, i + 2 + l));
    out.set(t, list);
    i += 2 + l;
  }
  return out;
}

function text(b: Uint8Array, what: string): string {
  try {
    return utf8Strict.decode(b);
  } catch {
    throw new Nip19Error(`${what} is not valid UTF-8`);
  }
}

/** The first value of TLV type `t`; later repeats of a single-valued type are ignored. */
function first(tlv: Map<number, Uint8Array[]>, t: number, len: number | null, what: string, required: true): Uint8Array;
function first(tlv: Map<number, Uint8Array[]>, t: number, len: number | null, what: string, required: false): Uint8Array | undefined;
function first(tlv: Map<number, Uint8Array[]>, t: number, len: number | null, what: string, required: boolean): Uint8Array | undefined {
  const v = tlv.get(t)?.[0];
  if (v === undefined) {
    if (required) throw new Nip19Error(`missing ${what}`);
    return undefined;
  }
  if (len !== null && v.length !== len) throw new Nip19Error(`${what} must be ${len} bytes`);
  return v;
}

const relaysOf = (tlv: Map<number, Uint8Array[]>): string[] => (tlv.get(T_RELAY) ?? []).map((r) => text(r, 'relay'));
const readU32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);

export function decode(s: NPub): DecodedOf<'npub'>;
export function decode(s: NSec): DecodedOf<'nsec'>;
export function decode(s: Note): DecodedOf<'note'>;
export function decode(s: NProfile): DecodedOf<'nprofile'>;
export function decode(s: NEvent): DecodedOf<'nevent'>;
export function decode(s: NAddr): DecodedOf<'naddr'>;
export function decode(s: string): Decoded;
export function decode(s: string): Decoded {
  let prefix: string;
  let data: Uint8Array;
  try {
    ({ prefix, data } = bech32Decode(s));
  } catch (err) {
    throw err instanceof Bech32Error ? new Nip19Error(err.message) : err;
  }
  switch (prefix) {
    case 'npub':
    case 'note':
      if (data.length !== 32) throw new Nip19Error(`${prefix} must hold 32 bytes`);
      return { type: prefix, data: bytesToHex(data) };
    case 'nsec':
      if (data.length !== 32) throw new Nip19Error('nsec must hold 32 bytes');
      return { type: 'nsec', data: Uint8Array.from(data) };
    case 'nprofile': {
      const tlv = parseTlv(data);
      return { type: 'nprofile', data: { pubkey: bytesToHex(first(tlv, T_SPECIAL, 32, 'pubkey', true)), relays: relaysOf(tlv) } };
    }
    case 'nevent': {
      const tlv = parseTlv(data);
      const ptr: EventPointer = { id: bytesToHex(first(tlv, T_SPECIAL, 32, 'event id', true)), relays: relaysOf(tlv) };
      const author = first(tlv, T_AUTHOR, 32, 'author', false);
      const kind = first(tlv, T_KIND, 4, 'kind', false);
      if (author) ptr.author = bytesToHex(author);
      if (kind) ptr.kind = readU32(kind);
      return { type: 'nevent', data: ptr };
    }
    case 'naddr': {
      const tlv = parseTlv(data);
      return {
        type: 'naddr',
        data: {
          identifier: text(first(tlv, T_SPECIAL, null, 'identifier', true), 'identifier'),
          pubkey: bytesToHex(first(tlv, T_AUTHOR, 32, 'pubkey', true)),
          kind: readU32(first(tlv, T_KIND, 4, 'kind', true)),
          relays: relaysOf(tlv),
        },
      };
    }
    default:
      throw new Nip19Error(`unknown prefix ${prefix}`);
  }
}

/** Decodes and insists on one entity type, e.g. `decodeAs(input, 'npub')` for a pubkey field. */
export function decodeAs<T extends DecodedType>(s: string, type: T): DecodedOf<T>['data'] {
  const d = decode(s);
  if (d.type !== type) throw new Nip19Error(`expected ${type}, got ${d.type}`);
  return d.data as DecodedOf<T>['data'];
}

/** Accepts a pubkey as hex or npub, as NIP-19 asks clients to ("accept keys in both hex and npub format"). */
export function pubkeyFromInput(s: string): string {
  let t = s.trim();
  if (t.startsWith('nostr:')) t = t.slice(6); // NIP-21 URI form, common in pasted text
  if (/^[0-9a-fA-F]{64}$/.test(t)) return t.toLowerCase();
  return decodeAs(t, 'npub');
}
