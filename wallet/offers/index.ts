// BOLT12 offers between Timmy instances, over Nostr (docs/wallet.md, "BOLT12 offers").
export { buildPayeeOffer, chainHash, readPayeeOffer, type PayeeOfferParams } from './offer.js';
export { answerInvoiceRequest, OfferService, type OfferLog, type OfferOwner, type OfferServiceOptions } from './issuer.js';
export { NostrBolt12Payer, OfferRefusedError, verifyInvoiceReply, type Bolt12Payer, type FetchedInvoice, type InvoiceForOffer, type NostrBolt12PayerOptions } from './payer.js';
export * from './wire.js';
