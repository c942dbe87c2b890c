// Zaps (NIP-57) end to end: a zap-enabled LNURL-pay endpoint per agent on the instance's HTTP
// server, zap requests made by nostr-tools (a client we did not write), the description-hash
// invoice, the zap receipt on the relay after payment, and a NIP-90 job paid by a zap instead of
// its bolt11 (docs/wallet.md, "Zaps (NIP-57)").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { makeZapRequest } from 'nostr-tools/nip57';
import type { NostrEvent } from '../nostr/nip01.js';
import { finalizeEvent, verifyEvent, type EventTemplate } from '../nostr/verify.js';
import { SAMPLE_TEXT, status, until, untilState, withInstance, type Customer, type TestInstance } from './support/dvm.js';

const DOMAIN = 'zaps.example';
const hash = (s: string): string => bytesToHex(sha256(new TextEncoder().encode(s)));
const tag = (e: NostrEvent, n: string): string | undefined => e.tags.find((t) => t[0] === n)?.[1];

function dashboard(t: TestInstance): string {
  const l = t.inst.listeners.find((x) => x.startsWith('dashboard on '));
  assert.ok(l, 'the instance serves HTTP');
  return l.slice('dashboard on '.length);
}

interface PayRequest {
  tag: string;
  callback: string;
  minSendable: number;
  maxSendable: number;
  metadata: string;
  allowsNostr: boolean;
  nostrPubkey: string;
}

async function get(url: string): Promise<{ status: number; body: Record<string, unknown>; cors: string | null }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as Record<string, unknown>, cors: r.headers.get('access-control-allow-origin') };
}

/** A zap request as nostr-tools makes it, signed by the customer; extra tags appended. */
function zapRequest(c: Customer, recipient: string, amount: number, relays: string[], extra: string[][] = []): NostrEvent {
  const t = makeZapRequest({ pubkey: recipient, amount, relays, comment: 'thanks' }) as EventTemplate;
  return finalizeEvent({ ...t, tags: [...t.tags, ...extra] }, c.keys.sk);
}

const callback = (pr: PayRequest, amount: number, zap?: NostrEvent | string): string =>
  `${pr.callback}?amount=${amount}${zap === undefined ? '' : `&nostr=${encodeURIComponent(typeof zap === 'string' ? zap : JSON.stringify(zap))}`}`;

async function receiptFor(t: TestInstance, bolt11: string): Promise<NostrEvent> {
  return until('zap receipt', async () => (await t.inst.client.query([{ kinds: [9735] }], { timeoutMs: 1000 })).find((e) => tag(e, 'bolt11') === bolt11));
}

describe('zaps (NIP-57)', () => {
  it('serves LNURL-pay per agent, invoices a nostr-tools zap request, publishes the receipt when paid', async () => {
    await withInstance({ agents: { nip05Domain: DOMAIN } }, async (t, c, account) => {
      const agent = t.inst.services!.swarm.agents[0]!;
      const web = dashboard(t);

      // The agent's profile names its lightning address, and so does the coordinator's.
      const profile = await until('profile', async () => (await t.inst.client.query([{ kinds: [0], authors: [agent.pubkey] }], { timeoutMs: 1000 }))[0]);
      assert.equal(JSON.parse(profile.content).lud16, `${agent.name}@${DOMAIN}`);
      const coordinator = t.inst.services!.coordinatorPubkey;
      const coordProfile = await until('coordinator profile', async () => (await t.inst.client.query([{ kinds: [0], authors: [coordinator] }], { timeoutMs: 1000 }))[0]);
      assert.equal(JSON.parse(coordProfile.content).lud16, `coordinator@${DOMAIN}`);

      const wk = await get(`${web}/.well-known/lnurlp/${agent.name}`);
      assert.equal(wk.status, 200);
      assert.equal(wk.cors, '*');
      const pr = wk.body as unknown as PayRequest;
      assert.equal(pr.tag, 'payRequest');
      assert.equal(pr.allowsNostr, true);
      assert.equal(pr.nostrPubkey, agent.pubkey);
      assert.ok(pr.minSendable >= 1 && pr.maxSendable >= pr.minSendable);
      assert.equal(pr.callback, `${web}/lnurlp/${agent.name}/callback`);
      assert.deepEqual(JSON.parse(pr.metadata)[1], ['text/identifier', `${agent.name}@${DOMAIN}`]);

      const zap = zapRequest(c, pr.nostrPubkey, 21_000, [t.inst.relayUrl!]);
      const json = JSON.stringify(zap);
      const cb = await get(callback(pr, 21_000, zap));
      assert.equal(cb.status, 200, JSON.stringify(cb.body));
      assert.equal(cb.cors, '*');
      assert.deepEqual(cb.body.routes, []);
      const bolt11 = cb.body.pr as string;
      const inv = await t.wallet.decode(bolt11);
      assert.equal(inv.amountMsat, 21_000);
      assert.equal(inv.descriptionHash, hash(json), 'the invoice commits to the zap request');

      const before = await t.wallet.balance(agent.account);
      const paid = await t.wallet.pay({ bolt11, fromAccount: account });
      const receipt = await receiptFor(t, bolt11);
      // Appendix F, and the tags of Appendix E.
      assert.ok(verifyEvent(receipt));
      assert.equal(receipt.pubkey, pr.nostrPubkey);
      assert.equal(receipt.content, '');
      assert.equal(tag(receipt, 'p'), agent.pubkey);
      assert.equal(tag(receipt, 'P'), c.pk);
      assert.equal(tag(receipt, 'e'), undefined);
      assert.equal(tag(receipt, 'description'), json);
      assert.equal(hash(tag(receipt, 'description')!), inv.descriptionHash);
      assert.equal(bytesToHex(sha256(hexToBytes(tag(receipt, 'preimage')!))), inv.paymentHash);
      assert.equal(receipt.created_at, paid.settledAt);
      assert.equal((await t.wallet.balance(agent.account)) - before, 21_000, 'the agent is credited');

      // A plain LNURL payment (no nostr): the invoice commits to the metadata, and no receipt.
      const plain = await get(callback(pr, 5000));
      assert.equal(plain.status, 200);
      assert.equal((await t.wallet.decode(plain.body.pr as string)).descriptionHash, hash(pr.metadata));
      await t.wallet.pay({ bolt11: plain.body.pr as string, fromAccount: account });
      assert.equal((await t.wallet.balance(agent.account)) - before, 26_000);
      const receipts = await t.inst.client.query([{ kinds: [9735], authors: [agent.pubkey] }], { timeoutMs: 1000 });
      assert.equal(receipts.length, 1);
    });
  });

  it('refuses invalid zap requests with a LUD-06 error', async () => {
    await withInstance({}, async (t, c) => {
      const [agent, other] = t.inst.services!.swarm.agents;
      const web = dashboard(t);
      const pr = (await get(`${web}/.well-known/lnurlp/${agent!.name}`)).body as unknown as PayRequest;
      const relays = [t.inst.relayUrl!];
      const good = zapRequest(c, agent!.pubkey, 2000, relays);
      const cases: [string, string, RegExp][] = [
        ['amount differs from the zap request', callback(pr, 3000, good), /does not match/],
        ['bad signature', callback(pr, 2000, { ...good, sig: 'ab'.repeat(64) }), /signature/],
        ['two p tags', callback(pr, 2000, zapRequest(c, agent!.pubkey, 2000, relays, [['p', other!.pubkey]])), /exactly one p tag/],
        ['two e tags', callback(pr, 2000, zapRequest(c, agent!.pubkey, 2000, relays, [['e', 'aa'.repeat(32)], ['e', 'bb'.repeat(32)]])), /0 or 1 e tags/],
        ['zapped to someone else', callback(pr, 2000, zapRequest(c, other!.pubkey, 2000, relays)), /p tag is not/],
        ['P is not the receipt signer', callback(pr, 2000, zapRequest(c, agent!.pubkey, 2000, relays, [['P', c.pk]])), /P tag/],
        ['not JSON', callback(pr, 2000, '{nope'), /not JSON/],
        ['amount below minSendable', callback(pr, pr.minSendable - 1, good), /amount must be between/],
        ['no amount', `${pr.callback}?nostr=${encodeURIComponent(JSON.stringify(good))}`, /amount/],
      ];
      for (const [what, url, reason] of cases) {
        const r = await get(url);
        assert.equal(r.status, 400, what);
        assert.equal(r.body.status, 'ERROR', what);
        assert.match(String(r.body.reason), reason, what);
      }
      const unknown = await get(`${web}/.well-known/lnurlp/nobody`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.status, 'ERROR');
      assert.equal((await get(`${web}/lnurlp/nobody/callback?amount=1000`)).status, 404);
      assert.equal((await get(`${web}/.well-known/lnurlp/%E0%A4%A`)).status, 400);
      const preflight = await fetch(`${web}/lnurlp/${agent!.name}/callback`, { method: 'OPTIONS' });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    });
  });

  it('a zap naming a job waiting for payment pays it, and the job runs to delivered', async () => {
    await withInstance({}, async (t, c, account) => {
      const agent = t.inst.services!.swarm.agents[0]!;
      const coordinator = t.inst.services!.coordinatorPubkey;
      const agentPr = (await get(`${dashboard(t)}/.well-known/lnurlp/${agent.name}`)).body as unknown as PayRequest;
      const coordPr = (await get(`${dashboard(t)}/.well-known/lnurlp/coordinator`)).body as unknown as PayRequest;
      assert.equal(coordPr.nostrPubkey, coordinator);
      const relays = [t.inst.relayUrl!];
      // To an agent naming the job request, to an agent naming the payment-required feedback, and as
      // nostr-tools zaps an event (NIP-90: "zap the event requesting the payment"): the feedback, to its author.
      for (const by of ['request', 'feedback', 'event zap'] as const) {
        const req = await c.request({ kind: 5001, content: by, tags: [['i', SAMPLE_TEXT, 'text'], ['param', 'max_sentences', '2']] });
        const fb = await until('payment-required', () => c.feedback(req.id, 'payment-required')[0]);
        assert.equal(fb.pubkey, coordinator);
        const price = Number(tag(fb, 'amount'));
        const first = t.jobs.get(req.id)!.paymentHash!;
        const target = by === 'request' ? req.id : fb.id;
        const pr = by === 'event zap' ? coordPr : agentPr;
        const make = (amount: number): NostrEvent =>
          by === 'event zap'
            ? finalizeEvent(makeZapRequest({ event: { ...fb, tags: fb.tags.map((x) => [...x]) }, amount, relays }) as EventTemplate, c.keys.sk)
            : zapRequest(c, agent.pubkey, amount, relays, [['e', target]]);

        const short = await get(callback(pr, price - 1, make(price - 1)));
        assert.equal(short.status, 400);
        assert.match(String(short.body.reason), /costs/);

        const zap = make(price);
        const cb = await get(callback(pr, price, zap));
        assert.equal(cb.status, 200, JSON.stringify(cb.body));
        const paid = await t.wallet.pay({ bolt11: cb.body.pr as string, fromAccount: account });

        const job = await untilState(t.jobs, req.id, 'delivered', 30_000);
        assert.equal(job.paymentHash, paid.paymentHash, 'the job records the zap invoice that paid it');
        assert.equal((await t.wallet.lookupInvoice(first))?.status, 'cancelled', 'the bolt11 can no longer be paid');
        await assert.rejects(t.wallet.pay({ bolt11: fb.tags.find((x) => x[0] === 'amount')![2]!, fromAccount: account }), /cancelled/);
        assert.equal((await t.wallet.getEscrow(req.id))?.status, 'released');
        assert.ok(t.jobs.transitions(req.id).some((x) => x.reason === 'paid by a zap'));
        await until('result', () => c.results(req.id)[0]);
        const receipt = await receiptFor(t, cb.body.pr as string);
        assert.equal(tag(receipt, 'e'), target);
        assert.equal(receipt.pubkey, pr.nostrPubkey);
        assert.ok(verifyEvent(receipt));

        // The job is paid: a second zap for it is refused.
        const again = await get(callback(pr, price, make(price)));
        assert.equal(again.status, 400);
        assert.match(String(again.body.reason), /not waiting for payment/);
        assert.ok(c.feedback(req.id).some((e) => status(e) === 'success'));
      }
    });
  });
});
