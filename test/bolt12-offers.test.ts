// BOLT12 offers between Timmy instances: every agent's offer in its kind 0 profile and NIP-89
// announcement decodes with our codec; an invoice_request travels over Nostr (21282 → 21283,
// NIP-44) from one instance to the other and comes back as a verified BOLT12 invoice with a
// payable BOLT11 twin; forged or mismatched invoices and requests for someone else's offer fail.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { CHAIN_HASHES, decodeBolt12, decodeInvoice, decodeOffer, encodeBolt12String, publicKeyHex, writeTlvStream, Bolt12Error } from '../wallet/bolt12/index.js';
import { signMerkle } from '../wallet/bolt12/merkle.js';
import { NostrBolt12Payer, OfferRefusedError, verifyInvoiceReply, type FetchedInvoice } from '../wallet/offers/index.js';
import { offerKeyName } from '../agents/identity/offer.js';
import * as nip44 from '../nostr/nip44.js';
import { finalizeEvent } from '../nostr/verify.js';
import { INVOICE_REPLY_KIND, parseReplyMessage, requestTemplate } from '../wallet/offers/wire.js';
import { Keys, startTestInstance, until, type TestInstance } from './support/dvm.js';

const profileOf = async (t: TestInstance, pubkey: string, kind: number): Promise<Record<string, unknown>> => {
  const [e]: NostrEvent[] = await t.inst.client.query([{ kinds: [kind], authors: [pubkey], limit: 1 }]);
  assert.ok(e, `kind ${kind} of ${pubkey.slice(0, 8)} is on the relay`);
  return JSON.parse(e.content) as Record<string, unknown>;
};

async function expectError(p: Promise<unknown>, type: new (...a: never[]) => Error, rule: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.match(err.message, rule);
    return true;
  });
}

describe('BOLT12 offers between instances', () => {
  let a: TestInstance;
  let b: TestInstance;

  before(async () => {
    a = await startTestInstance();
    b = await startTestInstance({ relays: [a.inst.relayUrl] });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  it('publishes each agent\'s offer in its kind 0 profile and NIP-89 announcement, and the offer decodes and verifies', async () => {
    const agents = a.inst.services!.swarm.agents;
    assert.ok(agents.length > 0);
    for (const agent of agents) {
      const profile = await profileOf(a, agent.pubkey, 0);
      const handler = await profileOf(a, agent.pubkey, 31990);
      assert.equal(profile.bolt12, agent.offer, `${agent.name}: profile carries the offer`);
      assert.equal(handler.bolt12, agent.offer, `${agent.name}: handler announcement carries the offer`);
      const offer = decodeOffer(String(profile.bolt12), { chains: [CHAIN_HASHES.regtest], now: Math.floor(Date.now() / 1000) });
      assert.equal(decodeBolt12(agent.offer).kind, 'offer');
      assert.equal(offer.issuerId, publicKeyHex(a.inst.services!.keystore.secret(offerKeyName(agent.name))));
      assert.deepEqual([offer.description, offer.issuer, offer.amount, offer.chains], [agent.persona.about, agent.persona.displayName, null, [CHAIN_HASHES.regtest]]);
    }
    // The dashboard shows it as a copyable field.
    const url = /dashboard on (\S+)/.exec(a.inst.listeners.join('\n'))![1]!;
    const agent = agents[0]!;
    const html = await (await fetch(`${url}/agents/${agent.name}`)).text();
    assert.match(html, new RegExp(`<textarea readonly rows="3" id="offer" data-offer="${agent.name}">${agent.offer}</textarea>`));
    assert.match(html, /data-copy="#offer"/);
  });

  it('keeps the same offer across restarts (the offer key is a keystore secret)', async () => {
    const t = await startTestInstance();
    const before = t.inst.services!.swarm.agents.map((x) => x.offer);
    await t.close(true);
    const again = await startTestInstance({}, t.dir);
    try {
      assert.deepEqual(again.inst.services!.swarm.agents.map((x) => x.offer), before);
    } finally {
      await again.close();
    }
  });

  describe('invoice_request → invoice over Nostr', () => {
    let fetched: FetchedInvoice;
    let other: FetchedInvoice;

    it('fetches a verified BOLT12 invoice from the other instance, whose hash the owner\'s wallet holds', async () => {
      const agent = a.inst.services!.swarm.agents[0]!;
      // B found the offer in A's agent's profile (B reads A's relay).
      const [profile] = await b.inst.client.query([{ kinds: [0], authors: [agent.pubkey], limit: 1 }]);
      const lno = String((JSON.parse(profile!.content) as { bolt12: string }).bolt12);
      fetched = await b.inst.services!.offers.payer.fetchInvoice({ to: agent.pubkey, offer: lno, amountMsat: 21_000, payerNote: 'for a poem' });
      const inv = fetched.decoded;
      assert.equal(inv.amountMsat, 21_000n);
      assert.equal(inv.nodeId, fetched.offer.issuerId);
      assert.equal(inv.invoiceRequest.payerNote, 'for a poem');
      assert.equal(decodeInvoice(fetched.invoice, { invoiceRequest: fetched.invoiceRequest }).paymentHash, inv.paymentHash);
      const record = await a.wallet.lookupInvoice(inv.paymentHash);
      assert.ok(record, 'the payment hash is an invoice of the owner\'s wallet');
      assert.deepEqual([record.status, record.account, record.amountMsat, record.bolt11], ['open', agent.account, 21_000, fetched.bolt11]);
      assert.equal(await b.wallet.lookupInvoice(inv.paymentHash), null, 'the payer\'s wallet did not mint it');
      other = await b.inst.services!.offers.payer.fetchInvoice({ to: agent.pubkey, offer: lno, amountMsat: 21_000 });
      assert.notEqual(other.decoded.paymentHash, inv.paymentHash);
    });

    it('pays the invoice (on the owner\'s ledger, as the stand-in for Lightning) and the preimage opens the BOLT12 payment hash', async () => {
      const agent = a.inst.services!.swarm.agents[0]!;
      // The payer's own built-in wallet cannot reach the other instance's invoices.
      await assert.rejects(b.inst.services!.offers.payer.pay(fetched, 'user:payer'));
      await a.wallet.fund('user:payer', 100_000, 'test funds');
      const before = await a.wallet.balance(agent.account);
      const onOwnersLedger = new NostrBolt12Payer({ client: b.inst.client, wallet: a.wallet });
      const paid = await onOwnersLedger.pay(fetched, 'user:payer');
      assert.equal(bytesToHex(sha256(hexToBytes(paid.preimage))), fetched.decoded.paymentHash);
      assert.equal((await a.wallet.lookupInvoice(fetched.decoded.paymentHash))?.status, 'paid');
      assert.equal(await a.wallet.balance(agent.account), before + 21_000);
    });

    it('rejects forged and mismatched invoices', () => {
      const now = Math.floor(Date.now() / 1000);
      const req = fetched.invoiceRequest;
      assert.equal(verifyInvoiceReply(req, fetched, now).paymentHash, fetched.decoded.paymentHash);
      const fails = (reply: { invoice: string; bolt11: string }, rule: RegExp, what: string): void =>
        assert.throws(() => verifyInvoiceReply(req, reply, now), (err: unknown) => err instanceof Bolt12Error && rule.test(err.message), what);
      fails({ invoice: other.invoice, bolt11: other.bolt11 }, /invoice request fields do not exactly match/, 'an invoice for another request');
      fails({ invoice: fetched.invoice, bolt11: other.bolt11 }, /bolt11 payment hash is not invoice_payment_hash/, 'a BOLT11 twin with another hash');
      // Signed by another key, which names itself as the node: not the offer's issuer.
      const mallory = new Uint8Array(32).fill(7);
      const unsigned = fetched.decoded.records.filter((r) => r.type !== 240n).map((r) => (r.type === 176n ? { type: r.type, value: hexToBytes(publicKeyHex(mallory)) } : r));
      const forged = encodeBolt12String('lni', writeTlvStream([...unsigned, { type: 240n, value: signMerkle(unsigned, 'invoice', mallory) }]));
      fails({ invoice: forged, bolt11: fetched.bolt11 }, /invoice_node_id is not offer_issuer_id/, 'an invoice signed by another node');
      // The right signature over a changed amount.
      const changed = fetched.decoded.records.map((r) => (r.type === 170n ? { type: r.type, value: Uint8Array.of(0x01, 0x00) } : r));
      fails({ invoice: encodeBolt12String('lni', writeTlvStream(changed)), bolt11: fetched.bolt11 }, /signature is not valid/, 'a tampered amount');
    });

    it('answers a request for someone else\'s offer with an invoice_error, and ignores requests to keys it does not serve', async () => {
      const [x, y] = a.inst.services!.swarm.agents;
      assert.ok(x && y, 'the default swarm has two agents or more');
      const payer = b.inst.services!.offers.payer;
      await expectError(payer.fetchInvoice({ to: x.pubkey, offer: y.offer, amountMsat: 1000 }), OfferRefusedError, /invoice_request rejected: the offer fields do not exactly match/);
      const bAgent = b.inst.services!.swarm.agents[0]!;
      await expectError(payer.fetchInvoice({ to: x.pubkey, offer: bAgent.offer, amountMsat: 1000 }), OfferRefusedError, /offer fields do not exactly match/);
      const quick = new NostrBolt12Payer({ client: b.inst.client, wallet: b.wallet, timeoutMs: 1500 });
      await expectError(quick.fetchInvoice({ to: new Keys().pk, offer: x.offer, amountMsat: 1000 }), OfferRefusedError, /no answer/);
      // Content that is not an invoice request, sent raw: answered with an invoice_error.
      const k = new Keys();
      const conv = nip44.getConversationKey(k.sk, x.pubkey);
      const raw = finalizeEvent(requestTemplate(x.pubkey, nip44.encrypt(JSON.stringify({ hello: 1 }), conv), Math.floor(Date.now() / 1000)), k.sk);
      const replies: NostrEvent[] = [];
      await new Promise<void>((resolve) => {
        b.inst.client.subscribe([{ kinds: [INVOICE_REPLY_KIND], '#e': [raw.id] }], { onEvent: (e) => replies.push(e), onEose: resolve });
      });
      assert.ok((await b.inst.client.publish(raw)).ok);
      const reply = await until('the invoice_error', () => replies[0]);
      assert.equal(reply.pubkey, x.pubkey);
      assert.deepEqual(parseReplyMessage(nip44.decrypt(reply.content, conv)), { invoice_error: { error: 'invoice_request: not an lnr1 string' } });
      // An offer without an amount needs one in the request: refused before anything is sent.
      await expectError(payer.fetchInvoice({ to: x.pubkey, offer: x.offer }), Bolt12Error, /neither offer_amount nor invreq_amount/);
    });
  });
});
