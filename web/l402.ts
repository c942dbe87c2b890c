// L402 (formerly LSAT): HTTP 402 with a macaroon and a Lightning invoice; the client pays and comes
// back with `Authorization: L402 <macaroon>:<preimage>`. The macaroon (real macaroons, the
// `macaroon` package, version 2 binary, base64) is minted with a root key from the keystore
// (`keystore.secret('l402')`) and carries first-party caveats:
//   payment_hash = <hex>     the invoice's hash: sha256(preimage) must equal it
//   expires = <unix secs>    refused at or after this time
//   endpoint = <METHOD path> only good for this endpoint
//   request = <id>           optional: only for this request (e.g. the job request event's id)
// Unknown caveats are refused (fail closed). A token is redeemed once (docs/web.md, "L402").
import { createRequire } from 'node:module';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

interface Macaroon {
  addFirstPartyCaveat(caveat: Uint8Array | string): void;
  verify(rootKey: Uint8Array, check: (condition: string) => string | null): void;
  readonly identifier: Uint8Array;
  readonly location: string;
  readonly caveats: readonly { identifier: Uint8Array; location?: string; vid?: Uint8Array }[];
  readonly signature: Uint8Array;
}
interface MacaroonLib {
  newMacaroon(o: { identifier: Uint8Array | string; location?: string; rootKey: Uint8Array | string; version?: 1 | 2 }): Macaroon;
  importMacaroon(o: Uint8Array | string): Macaroon;
}
const lib = createRequire(import.meta.url)('macaroon') as MacaroonLib;

/** A token that does not authorize this request; `reason` is safe to show the client. */
export class L402Error extends Error {
  override name = 'L402Error';
}

export interface L402Invoice {
  readonly bolt11: string;
  readonly paymentHash: string;
}

export interface L402Options {
  /** The root key (32 bytes or more): keystore.secret('l402'). */
  readonly rootKey: Uint8Array;
  /** Seconds since 1970. */
  readonly now?: () => number;
  /** Marks a payment hash as redeemed; false when it already was (a replay). Durable in the instance. */
  readonly redeem: (paymentHash: string) => boolean;
  /** Written into macaroons; informational. */
  readonly location?: string;
}

export interface Challenge {
  readonly macaroon: string;
  readonly invoice: string;
  readonly paymentHash: string;
  /** The `WWW-Authenticate` header value. */
  readonly header: string;
}

export interface Granted {
  readonly paymentHash: string;
  readonly request: string | null;
}

/**
 * The version 2 binary format (libmacaroons), written here: the package's own exportBinary grows
 * its buffer by doubling on every byte written (it compares against an unset capacity) and runs
 * out of memory past a few caveats. Its importMacaroon reads this format.
 */
export function exportMacaroon(m: Macaroon): Uint8Array {
  const out: number[] = [2];
  const field = (type: number, data?: Uint8Array) => {
    out.push(type);
    if (type === 0) return;
    let n = data!.length;
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n, ...data!);
  };
  const utf8 = (s: string) => new TextEncoder().encode(s);
  if (m.location) field(1, utf8(m.location));
  field(2, m.identifier);
  field(0);
  for (const c of m.caveats) {
    if (c.location) field(1, utf8(c.location));
    field(2, c.identifier);
    if (c.vid) field(4, c.vid);
    field(0);
  }
  field(0);
  field(6, m.signature);
  return Uint8Array.from(out);
}

const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const HEX64 = /^[0-9a-f]{64}$/;

/** Parses `L402 <macaroon>:<preimage>` (or the older `LSAT`); null when the header is not L402 at all. */
export function parseAuthorization(h: string | undefined): { macaroon: string; preimage: string } | null {
  const m = /^(?:L402|LSAT)\s+([A-Za-z0-9+/_=-]+):([0-9a-fA-F]*)\s*$/.exec(h ?? '');
  if (!m) return null;
  return { macaroon: m[1]!, preimage: m[2]!.toLowerCase() };
}

export class L402 {
  private readonly now: () => number;
  constructor(private readonly o: L402Options) {
    if (!(o.rootKey instanceof Uint8Array) || o.rootKey.length < 32) throw new L402Error('the L402 root key must be at least 32 bytes');
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** A macaroon for `invoice`, good for `endpoint` until `expiresAt` (and only for `request`, when given). */
  mint(invoice: L402Invoice, endpoint: string, expiresAt: number, request?: string): Challenge {
    if (!HEX64.test(invoice.paymentHash)) throw new L402Error('payment hash must be 32 bytes of hex');
    // Identifier as in aperture: version (2 bytes, 0), payment hash (32), token id (32).
    const id = new Uint8Array(66);
    id.set(Buffer.from(invoice.paymentHash, 'hex'), 2);
    id.set(randomBytes(32), 34);
    const m = lib.newMacaroon({ identifier: id, rootKey: this.o.rootKey, version: 2, location: this.o.location ?? 'timmy' });
    m.addFirstPartyCaveat(`payment_hash = ${invoice.paymentHash}`);
    m.addFirstPartyCaveat(`expires = ${expiresAt}`);
    m.addFirstPartyCaveat(`endpoint = ${endpoint}`);
    if (request !== undefined) m.addFirstPartyCaveat(`request = ${request}`);
    const macaroon = Buffer.from(exportMacaroon(m)).toString('base64');
    return { macaroon, invoice: invoice.bolt11, paymentHash: invoice.paymentHash, header: `L402 macaroon="${macaroon}", invoice="${invoice.bolt11}"` };
  }

  /**
   * Checks the macaroon (signature and every caveat) and the preimage, then redeems the token.
   * Throws L402Error with the reason: bad header, bad macaroon, wrong preimage, expired, another
   * endpoint or request, or already used.
   */
  check(authorization: string | undefined, endpoint: string, request?: string): Granted {
    const a = parseAuthorization(authorization);
    if (!a) throw new L402Error('expected Authorization: L402 <macaroon>:<preimage>');
    if (!HEX64.test(a.preimage)) throw new L402Error('the preimage must be 32 bytes of hex');
    let m: Macaroon;
    try {
      m = lib.importMacaroon(a.macaroon);
    } catch {
      throw new L402Error('the macaroon cannot be decoded');
    }
    const hash = sha256hex(Buffer.from(a.preimage, 'hex'));
    const now = this.now();
    const seen = new Set<string>();
    let granted: string | null = null;
    let reqCaveat: string | null = null;
    const check = (cond: string): string | null => {
      const c = /^([a-z_]+) = (.+)$/.exec(cond);
      if (!c) return 'unknown caveat';
      const [, key, value] = c as unknown as [string, string, string];
      if (seen.has(key)) return 'repeated caveat';
      seen.add(key);
      switch (key) {
        case 'payment_hash':
          if (!HEX64.test(value) || !timingSafeEqual(Buffer.from(value, 'hex'), Buffer.from(hash, 'hex'))) return 'wrong preimage';
          granted = value;
          return null;
        case 'expires':
          return /^\d+$/.test(value) && now < Number(value) ? null : 'expired';
        case 'endpoint':
          return value === endpoint ? null : 'another endpoint';
        case 'request':
          reqCaveat = value;
          return request !== undefined && value === request ? null : 'another request';
        default:
          return 'unknown caveat';
      }
    };
    try {
      m.verify(this.o.rootKey, check);
    } catch (err) {
      const msg = (err as Error).message;
      const why = /\): (.+)$/.exec(msg)?.[1];
      throw new L402Error(why ? `the macaroon's caveat failed: ${why}` : 'the macaroon does not verify');
    }
    if (!seen.has('payment_hash') || !seen.has('expires') || !seen.has('endpoint') || granted === null) throw new L402Error('the macaroon lacks a required caveat');
    if (sha256hex(m.identifier.subarray(2, 34)) !== sha256hex(Buffer.from(granted, 'hex'))) throw new L402Error('the macaroon does not verify');
    if (!this.o.redeem(granted)) throw new L402Error('this L402 token was already used');
    return { paymentHash: granted, request: reqCaveat };
  }
}
