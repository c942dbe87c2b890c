// The payer side of the offer flow. `Bolt12Payer` is the hand-off point: this implementation asks
// the offer's owner for an invoice over Nostr (21282 → 21283, NIP-44), checks the BOLT12 invoice
// against the offer and its own request, checks that the BOLT11 twin carries the same payment
// hash and amount, and pays the twin through the wallet backend. A BOLT12 node (CLN, or LND with
// LNDK) would implement the same interface with onion messages and pay the BOLT12 invoice itself.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import type { NostrClient } from '../../nostr/client.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import * as nip44 from '../../nostr/nip44.js';
import { finalizeEvent, generateSecretKey, getPublicKey } from '../../nostr/verify.js';
import { decodeBolt11 } from '../bolt11.js';
import { Bolt12Error, decodeInvoice, decodeInvoiceRequest, decodeOffer, signInvoiceRequest, type Invoice, type InvoiceRequest, type Offer } from '../bolt12/index.js';
import type { AccountId, PaymentResult, Wallet } from '../wallet.js';
import { INVOICE_REPLY_KIND, parseReplyMessage, requestTemplate } from './wire.js';

export interface InvoiceForOffer {
  /** The offer's owner on Nostr (the author of the profile that carries the offer). */
  readonly to: string;
  /** `lno1…` */
  readonly offer: string;
  /** Required when the offer has no amount. */
  readonly amountMsat?: bigint | number;
  readonly quantity?: bigint | number;
  readonly payerNote?: string;
}

/** A verified invoice: the BOLT12 invoice, the request it answers, and its payable BOLT11 twin. */
export interface FetchedInvoice {
  readonly offer: Offer;
  readonly invoiceRequest: InvoiceRequest;
  /** `lni1…` */
  readonly invoice: string;
  readonly decoded: Invoice;
  readonly bolt11: string;
}

export interface Bolt12Payer {
  fetchInvoice(p: InvoiceForOffer): Promise<FetchedInvoice>;
  pay(inv: FetchedInvoice, fromAccount: AccountId): Promise<PaymentResult>;
}

/** The offer's owner answered with an `invoice_error`, or not at all. */
export class OfferRefusedError extends Error {
  override name = 'OfferRefusedError';
}

/**
 * The payer's checks on a reply: the BOLT12 invoice mirrors our request, is signed by the offer's
 * issuer key and not expired; the BOLT11 twin has the same payment hash and amount. Throws
 * Bolt12Error naming the failed rule.
 */
export function verifyInvoiceReply(req: InvoiceRequest, reply: { invoice: string; bolt11: string }, now: number): Invoice {
  const inv = decodeInvoice(reply.invoice, { invoiceRequest: req, now });
  if (req.offer.issuerId === null || inv.nodeId !== req.offer.issuerId) throw new Bolt12Error('invoice_node_id is not offer_issuer_id');
  let twin;
  try {
    twin = decodeBolt11(reply.bolt11);
  } catch (err) {
    throw new Bolt12Error(`bolt11: ${(err as Error).message}`);
  }
  if (twin.paymentHash !== inv.paymentHash) throw new Bolt12Error('bolt11 payment hash is not invoice_payment_hash');
  if (twin.amountMsat === null || BigInt(twin.amountMsat) !== inv.amountMsat) throw new Bolt12Error('bolt11 amount is not invoice_amount');
  if (twin.expiresAt < now) throw new Bolt12Error('bolt11 has expired');
  return inv;
}

export interface NostrBolt12PayerOptions {
  readonly client: NostrClient;
  /** Pays the BOLT11 twin. */
  readonly wallet: Pick<Wallet, 'pay'>;
  /** How long to wait for the owner's reply (default 10 s). */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

export class NostrBolt12Payer implements Bolt12Payer {
  private readonly now: () => number;

  constructor(private readonly o: NostrBolt12PayerOptions) {
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
  }

  async fetchInvoice(p: InvoiceForOffer): Promise<FetchedInvoice> {
    const offer = decodeOffer(p.offer, { now: this.now() });
    const payerKey = randomBytes(32); // transient invreq_payer_id, as BOLT12 recommends
    let lnr: string;
    try {
      lnr = signInvoiceRequest(offer, {
        metadata: bytesToHex(randomBytes(16)),
        chain: offer.chains?.[0] ?? null,
        amountMsat: p.amountMsat === undefined ? null : BigInt(p.amountMsat),
        quantity: p.quantity === undefined ? null : BigInt(p.quantity),
        payerNote: p.payerNote ?? null,
      }, payerKey);
    } finally {
      payerKey.fill(0);
    }
    const invoiceRequest = decodeInvoiceRequest(lnr, { offer });
    // A transient Nostr key too: the relay sees one request from a key used once.
    const sk = generateSecretKey();
    const conv = nip44.getConversationKey(sk, p.to);
    const event = finalizeEvent(requestTemplate(p.to, nip44.encrypt(JSON.stringify({ invoice_request: lnr }), conv), this.now()), sk);
    const reply = await this.roundTrip(event, getPublicKey(sk), p.to);
    const msg = parseReplyMessage(nip44.decrypt(reply.content, conv));
    if ('invoice_error' in msg) throw new OfferRefusedError(msg.invoice_error.error);
    const decoded = verifyInvoiceReply(invoiceRequest, msg, this.now());
    return { offer, invoiceRequest, invoice: msg.invoice, decoded, bolt11: msg.bolt11 };
  }

  /** Pays the BOLT11 twin and checks that its preimage opens the BOLT12 invoice's payment hash. */
  async pay(inv: FetchedInvoice, fromAccount: AccountId): Promise<PaymentResult> {
    const r = await this.o.wallet.pay({ bolt11: inv.bolt11, fromAccount });
    if (bytesToHex(sha256(hexToBytes(r.preimage))) !== inv.decoded.paymentHash) throw new Bolt12Error('the preimage does not match invoice_payment_hash');
    return r;
  }

  /** Subscribes for the reply first (the kinds are ephemeral), then publishes the request. */
  private roundTrip(request: NostrEvent, self: string, owner: string): Promise<NostrEvent> {
    return new Promise<NostrEvent>((resolve, reject) => {
      let done = false;
      const finish = (f: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sub.close();
        f();
      };
      const timer = setTimeout(() => finish(() => reject(new OfferRefusedError('no answer from the offer owner'))), this.o.timeoutMs ?? 10_000);
      const sub = this.o.client.subscribe([{ kinds: [INVOICE_REPLY_KIND], authors: [owner], '#p': [self], '#e': [request.id] }], {
        onEvent: (e) => finish(() => resolve(e)),
        onEose: () => {
          void this.o.client.publish(request).then((r) => {
            if (!r.ok) finish(() => reject(new OfferRefusedError(`no relay took the request: ${r.relays.map((x) => x.message).join('; ')}`)));
          });
        },
      });
    });
  }
}
