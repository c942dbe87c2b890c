// Macaroons for the test LND. Not the real macaroon format: a JSON payload (an id and LND
// permission names like `invoices:write`) followed by HMAC-SHA256(root key, payload). What matters
// to the client is the same as with LND: opaque bytes sent as hex in the `macaroon` metadata,
// checked against the node's root key and the permission each RPC needs, refused with LND's words.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The RPCs the test LND serves and the permission LND requires for each (lnd's rpcserver.go and sub-servers). */
export const RPC_PERMISSIONS: Readonly<Record<string, string>> = {
  '/lnrpc.Lightning/GetInfo': 'info:read',
  '/lnrpc.Lightning/ChannelBalance': 'offchain:read',
  '/lnrpc.Lightning/WalletBalance': 'onchain:read',
  '/lnrpc.Lightning/AddInvoice': 'invoices:write',
  '/lnrpc.Lightning/LookupInvoice': 'invoices:read',
  '/lnrpc.Lightning/DecodePayReq': 'offchain:read',
  '/lnrpc.Lightning/SendCoins': 'onchain:write',
  '/lnrpc.Lightning/NewAddress': 'address:write',
  '/invoicesrpc.Invoices/AddHoldInvoice': 'invoices:write',
  '/invoicesrpc.Invoices/SettleInvoice': 'invoices:write',
  '/invoicesrpc.Invoices/CancelInvoice': 'invoices:write',
  '/invoicesrpc.Invoices/SubscribeSingleInvoice': 'invoices:read',
  '/invoicesrpc.Invoices/LookupInvoiceV2': 'invoices:read',
  '/routerrpc.Router/SendPaymentV2': 'offchain:write',
  '/routerrpc.Router/TrackPaymentV2': 'offchain:read',
};

/** admin.macaroon's rights, as far as the RPCs above go. */
export const ADMIN_PERMISSIONS = [
  'info:read',
  'address:write',
  'invoices:read',
  'invoices:write',
  'offchain:read',
  'offchain:write',
  'onchain:read',
  'onchain:write',
] as const;

/** invoice.macaroon: invoices and on-chain addresses, no payments. */
export const INVOICE_PERMISSIONS = ['invoices:read', 'invoices:write', 'address:read', 'address:write', 'onchain:read'] as const;

/** readonly.macaroon. */
export const READONLY_PERMISSIONS = ['info:read', 'invoices:read', 'offchain:read', 'onchain:read', 'address:read'] as const;

const SIG = 32;

export function newRootKey(): Buffer {
  return randomBytes(32);
}

/** A macaroon (hex) granting `permissions`, signed with `rootKey`. */
export function bakeMacaroon(rootKey: Buffer, permissions: readonly string[]): string {
  const payload = Buffer.from(JSON.stringify({ v: 1, id: randomBytes(8).toString('hex'), permissions: [...permissions] }), 'utf8');
  const sig = createHmac('sha256', rootKey).update(payload).digest();
  return Buffer.concat([payload, sig]).toString('hex');
}

/**
 * Checks the macaroon metadata values of a call against the permission it needs. Returns LND's
 * error text, or null when the call may go ahead.
 */
export function checkMacaroon(rootKey: Buffer, values: readonly unknown[], permission: string): string | null {
  if (values.length !== 1) return `expected 1 macaroon, got ${values.length}`;
  const v = values[0];
  const hex = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : '';
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) return 'unable to decode macaroon: invalid hex';
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length <= SIG) return 'unable to decode macaroon: macaroon too short';
  const payload = bytes.subarray(0, bytes.length - SIG);
  const want = createHmac('sha256', rootKey).update(payload).digest();
  if (!timingSafeEqual(want, bytes.subarray(bytes.length - SIG))) return 'verification failed: signature mismatch after caveat verification';
  let perms: unknown;
  try {
    perms = (JSON.parse(payload.toString('utf8')) as { permissions?: unknown }).permissions;
  } catch {
    return 'unable to decode macaroon: bad payload';
  }
  if (!Array.isArray(perms) || !perms.includes(permission)) return 'permission denied';
  return null;
}
