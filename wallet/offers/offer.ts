// The persistent offer of a payee (an agent): built from fixed inputs, so the same key and fields
// give the same `lno1…` string on every start. No blinded paths: the offer names its issuer key
// (`offer_issuer_id`), and invoice requests reach the issuer over Nostr (wallet/offers/wire.ts).
import { CHAIN_HASHES, decodeOffer, encodeOffer, publicKeyHex, type Offer } from '../bolt12/index.js';
import type { Network } from '../bolt11.js';

export interface PayeeOfferParams {
  /** The 32-byte secret key that signs this offer's invoices; its public key is `offer_issuer_id`. */
  readonly issuerKey: Uint8Array;
  /** `offer_description`, e.g. what the agent does. */
  readonly description: string;
  /** `offer_issuer`, e.g. `name@domain`. */
  readonly issuer?: string;
  /** Fixed price per payment in msat; absent: the payer chooses the amount. */
  readonly amountMsat?: bigint | number | null;
  /** The wallet's network: anything but mainnet is written as `offer_chains`. */
  readonly network: Network;
}

/** The BOLT12 chain hash of a wallet network. */
export function chainHash(network: Network): string {
  return network === 'mainnet' ? CHAIN_HASHES.bitcoin : CHAIN_HASHES[network];
}

/** Encodes the offer (deterministic: no metadata, no expiry). */
export function buildPayeeOffer(p: PayeeOfferParams): string {
  const amount = p.amountMsat === undefined || p.amountMsat === null ? null : BigInt(p.amountMsat);
  return encodeOffer({
    chains: p.network === 'mainnet' ? null : [chainHash(p.network)],
    description: p.description,
    amount,
    issuer: p.issuer ?? null,
    issuerId: publicKeyHex(p.issuerKey),
  });
}

/** Decodes one of our offers, checking it is for `network`. */
export function readPayeeOffer(lno: string, network: Network, now?: number): Offer {
  return decodeOffer(lno, { chains: [chainHash(network)], ...(now !== undefined ? { now } : {}) });
}
