// BOLT12 codec: offers (lno), invoice requests (lnr) and invoices (lni) as pure functions over
// strings and bytes. `decodeBolt12` picks the decoder by prefix and returns a tagged union.
import { decodeBolt12String } from './bech32-nochecksum.js';
import { parseInvoice, type Invoice, type InvoiceReaderOptions } from './invoice.js';
import { parseInvoiceRequest, type InvoiceRequest } from './invoice-request.js';
import { parseOffer, type Offer } from './offer.js';

export { Bolt12Error } from './errors.js';
export { BOLT12_MAX_LENGTH, decodeBolt12String, encodeBolt12String, removeJoins, type Bolt12Prefix, type EncodeStringOptions } from './bech32-nochecksum.js';
export { readBigSize, readTlvStream, writeBigSize, writeTlvStream, encodeTlvRecord, type TlvRecord } from './tlv.js';
export { BITCOIN_CHAIN, CHAIN_HASHES } from './fields.js';
export type { BlindedHop, BlindedPath, BlindedPayInfo, FallbackAddress, FirstNode } from './paths.js';
export { branchHash, isSignatureType, leafHash, merkleRoot, nonceHash, publicKeyHex, signatureMessage, taggedHash, verifyMerkle, type MessageName } from './merkle.js';
export { decodeOffer, encodeOffer, parseOffer, type Offer, type OfferFields, type OfferInput, type ReaderOptions } from './offer.js';
export {
  decodeInvoiceRequest, parseInvoiceRequest, signInvoiceRequest,
  type Bip353Name, type InvoiceRequest, type InvoiceRequestInput, type InvoiceRequestReaderOptions, type InvreqFields, type SignOptions,
} from './invoice-request.js';
export { decodeInvoice, parseInvoice, signInvoice, type Invoice, type InvoiceInput, type InvoiceReaderOptions } from './invoice.js';

export type Bolt12 = Offer | InvoiceRequest | Invoice;

/** Decodes any bolt12 string by its prefix. Options that do not apply to the kind are ignored. */
export function decodeBolt12(s: string, opts: InvoiceReaderOptions = {}): Bolt12 {
  const { prefix, bytes } = decodeBolt12String(s);
  if (prefix === 'lno') return parseOffer(bytes, opts);
  if (prefix === 'lnr') return parseInvoiceRequest(bytes, opts);
  return parseInvoice(bytes, opts);
}
