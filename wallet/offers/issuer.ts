// The payee side of the offer flow: an instance listens for invoice requests (21282) to the
// owners of its offers, checks each against the offer it answers, mints a wallet invoice (the
// payment hash whose preimage this wallet keeps), wraps the same hash in a BOLT12 invoice signed
// with the offer key, and replies (21283). Hostile input is ignored or answered; it never throws.
import type { NostrClient, Subscription } from '../../nostr/client.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import type { Signer } from '../../nostr/signer.js';
import { decodeInvoiceRequest, signInvoice, Bolt12Error, type Offer } from '../bolt12/index.js';
import { DEFAULT_MIN_FINAL_CLTV_EXPIRY, type Network } from '../bolt11.js';
import type { AccountId, Wallet } from '../wallet.js';
import { chainHash, readPayeeOffer } from './offer.js';
import {
  INVOICE_REQUEST_KIND, OfferProtocolError, parseRequestMessage, replyTemplate, requestRecipient, type InvoiceReplyMessage,
} from './wire.js';

/** One payee: the Nostr identity requests are sent to, its offer and the key that signs its invoices. */
export interface OfferOwner {
  /** The Nostr pubkey (x-only hex) that receives requests and signs replies. */
  readonly pubkey: string;
  readonly signer: Signer;
  /** NIP-44 v2 with the owner's Nostr key. */
  encrypt(peer: string, plaintext: string): string;
  decrypt(peer: string, ciphertext: string): string;
  /** The owner's `lno1…`. */
  readonly offer: string;
  /** The secret key of `offer_issuer_id`. */
  readonly offerKey: Uint8Array;
  /** Credited when an invoice is paid. */
  readonly account: AccountId;
}

export type OfferLog = (level: 'debug' | 'info' | 'warn', msg: string) => void;

export interface OfferServiceOptions {
  readonly client: NostrClient;
  readonly wallet: Wallet;
  readonly owners: readonly OfferOwner[];
  /** Of the wallet's invoices, and written as `invoice_relative_expiry` (default 600 s). */
  readonly invoiceExpirySeconds?: number;
  /** Unix seconds (default: the system clock). */
  readonly now?: () => number;
  readonly log?: OfferLog;
}

interface Entry {
  readonly owner: OfferOwner;
  readonly offer: Offer;
}

/** Answers one invoice request for `offer`: the reply's content (not yet encrypted). */
export async function answerInvoiceRequest(
  o: { readonly wallet: Wallet; readonly network: Network; readonly nodePubkey: string; readonly now: number; readonly expirySeconds: number },
  owner: OfferOwner,
  offer: Offer,
  lnr: string,
): Promise<InvoiceReplyMessage> {
  let req;
  try {
    req = decodeInvoiceRequest(lnr, { offer, now: o.now, chains: [chainHash(o.network)] });
  } catch (err) {
    if (err instanceof Bolt12Error) return { invoice_error: { error: `invoice_request rejected: ${err.message}` } };
    throw err;
  }
  const amount = req.amountMsat ?? (offer.amountMsat === null ? null : offer.amountMsat * (req.quantity ?? 1n));
  if (amount === null || amount < 1n || amount > BigInt(Number.MAX_SAFE_INTEGER)) return { invoice_error: { error: 'invoice_request rejected: no amount in msat this wallet can invoice' } };
  const inv = await o.wallet.createInvoice({
    amountMsat: Number(amount),
    account: owner.account,
    description: req.offer.description ?? '',
    expirySeconds: o.expirySeconds,
  });
  // A stand-in path: the wallet's node as introduction point, one hop, no encrypted data. A real
  // BOLT12 node writes blinded payment paths here (docs/wallet.md, "BOLT12 offers").
  const path = { firstNode: { kind: 'node_id' as const, nodeId: o.nodePubkey }, pathKey: o.nodePubkey, hops: [{ blindedNodeId: o.nodePubkey, encryptedRecipientData: '' }] };
  const payinfo = { feeBaseMsat: 0, feeProportionalMillionths: 0, cltvExpiryDelta: DEFAULT_MIN_FINAL_CLTV_EXPIRY, htlcMinimumMsat: 1n, htlcMaximumMsat: amount, features: [] };
  const invoice = signInvoice(req, {
    paths: [path],
    blindedPay: [payinfo],
    createdAt: o.now,
    relativeExpiry: o.expirySeconds,
    paymentHash: inv.paymentHash,
    amountMsat: amount,
  }, owner.offerKey);
  return { invoice, bolt11: inv.bolt11 };
}

export class OfferService {
  private readonly byPubkey = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly log: OfferLog;
  private sub: Subscription | undefined;
  private network: Network | undefined;
  private nodePubkey = '';

  constructor(private readonly o: OfferServiceOptions) {
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
    this.log = o.log ?? (() => undefined);
  }

  async start(): Promise<void> {
    const info = await this.o.wallet.info();
    this.network = info.network;
    this.nodePubkey = info.nodePubkey;
    for (const owner of this.o.owners) this.byPubkey.set(owner.pubkey, { owner, offer: readPayeeOffer(owner.offer, info.network) });
    if (this.byPubkey.size === 0) return;
    await new Promise<void>((resolve) => {
      this.sub = this.o.client.subscribe([{ kinds: [INVOICE_REQUEST_KIND], '#p': [...this.byPubkey.keys()], limit: 0 }], {
        onEvent: (e) => void this.handle(e).catch((err: unknown) => this.log('warn', `offer request ${e.id.slice(0, 12)}: ${(err as Error).message}`)),
        onEose: () => resolve(),
      });
    });
  }

  stop(): void {
    this.sub?.close();
    this.sub = undefined;
  }

  private async handle(e: NostrEvent): Promise<void> {
    const now = this.now();
    const to = requestRecipient(e, now);
    const entry = to === undefined ? undefined : this.byPubkey.get(to);
    if (!entry || this.network === undefined) return this.log('debug', `ignored ${e.id.slice(0, 12)}: expired, malformed or not for us`);
    let plaintext: string;
    try {
      plaintext = entry.owner.decrypt(e.pubkey, e.content);
    } catch {
      return this.log('debug', `ignored ${e.id.slice(0, 12)}: does not decrypt`);
    }
    let reply: InvoiceReplyMessage;
    try {
      const msg = parseRequestMessage(plaintext);
      reply = await answerInvoiceRequest(
        { wallet: this.o.wallet, network: this.network, nodePubkey: this.nodePubkey, now, expirySeconds: this.o.invoiceExpirySeconds ?? 600 },
        entry.owner,
        entry.offer,
        msg.invoice_request,
      );
    } catch (err) {
      if (err instanceof OfferProtocolError || err instanceof Bolt12Error) reply = { invoice_error: { error: err.message } };
      else {
        // A wallet failure: the payer learns that much, the log the details.
        this.log('warn', `offer request ${e.id.slice(0, 12)}: ${(err as Error).message}`);
        reply = { invoice_error: { error: 'the wallet could not create an invoice' } };
      }
    }
    const signed = await entry.owner.signer.signEvent(replyTemplate(e, entry.owner.encrypt(e.pubkey, JSON.stringify(reply)), now));
    const r = await this.o.client.publish(signed);
    if (!r.ok) this.log('warn', `offer reply to ${e.id.slice(0, 12)} not accepted: ${r.relays.map((x) => x.message).join('; ')}`);
    else this.log('info', 'invoice_error' in reply ? `offer request ${e.id.slice(0, 12)} refused: ${reply.invoice_error.error}` : `offer invoice sent for ${e.id.slice(0, 12)}`);
  }
}
