// End to end through the real relay: NIP-90 encrypted requests. The `i` and `param` tags travel as
// an encrypted JSON array (NIP-44 v2, or NIP-04 from older clients) to one of our agents (its `p`
// tag); the result comes back encrypted to the customer in the same scheme, with no input in clear,
// and nothing else the DVM publishes about the job (feedback, progress, errors, auction events)
// shows the inputs or what the skill found; the job row keeps the request as it arrived.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import * as ecc from 'tiny-secp256k1';
import { buildJobRequest } from '../nostr/nip90.js';
import { getEventHash, type NostrEvent } from '../nostr/nip01.js';
import * as nip44 from '../nostr/nip44.js';
import * as nip04 from '../nostr/nip04.js';
import { closedPort, FUNDS, Keys, path, status, statusText, until, untilState, withInstance, type TestInstance, SAMPLE_TEXT } from './support/dvm.js';

const TEXT = SAMPLE_TEXT;

/** A summary's sentences (it puts the sentences of one source paragraph on one line). */
const sentencesOf = (s: string): string[] => s.split(/(?<=[.!?])\s+/).map((x) => x.trim()).filter(Boolean);

const agentByName = (t: TestInstance, name: string) => {
  const a = t.inst.services!.swarm.agents.find((x) => x.name === name);
  assert.ok(a, `agent ${name}`);
  return a;
};

/** Many kind 1 notes, signed with libsecp256k1 (WASM): finalizeEvent's pure-JS signing takes seconds for thousands. */
function notes(k: Keys, n: number): NostrEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const u = { pubkey: k.pk, created_at: 1_700_000_000 + i, kind: 1, tags: [], content: `note ${i}` };
    const id = getEventHash(u);
    return { id, ...u, sig: bytesToHex(ecc.signSchnorr(hexToBytes(id), k.sk)) };
  });
}

describe('DVM encrypted requests, end to end', () => {
  for (const scheme of ['nip44', 'nip04'] as const) {
    it(`answers an encrypted (${scheme}) request with an encrypted result and no input in clear`, async () => {
      await withInstance({}, async (t, c, account) => {
        const scribe = agentByName(t, 'scribe');
        const encrypt =
          scheme === 'nip44' ? (pt: string) => nip44.encrypt(pt, nip44.getConversationKey(c.keys.sk, scribe.pubkey)) : (pt: string) => nip04.encrypt(c.keys.sk, scribe.pubkey, pt);
        const tpl = buildJobRequest({ kind: 5001, inputs: [{ data: TEXT, type: 'text' }], params: [['max_sentences', '2']], providers: [scribe.pubkey], encrypt });
        assert.ok(tpl.tags.some((x) => x[0] === 'encrypted'));
        assert.equal(tpl.tags.filter((x) => x[0] === 'i' || x[0] === 'param').length, 0, 'no input or param in clear');
        const req = await c.request({ kind: tpl.kind, content: tpl.content, tags: tpl.tags as string[][] });

        const paid = await c.pay(t.wallet, req.id, account);
        const result = await until('result', () => c.results(req.id)[0]);
        assert.equal(result.kind, 6001);
        assert.ok(result.tags.some((x) => x[0] === 'encrypted'), 'result has the encrypted tag');
        assert.equal(result.tags.filter((x) => x[0] === 'i').length, 0, 'no i tag in clear');
        assert.equal(result.tags.find((x) => x[0] === 'p')?.[1], c.pk);
        if (scheme === 'nip04') assert.match(result.content, /\?iv=/);
        else assert.doesNotMatch(result.content, /\?iv=/);
        // The customer decrypts with the key of whoever signed the result (the auction's winner).
        const plain = scheme === 'nip44' ? nip44.decrypt(result.content, nip44.getConversationKey(c.keys.sk, result.pubkey)) : nip04.decrypt(c.keys.sk, result.pubkey, result.content);
        const sentences = sentencesOf(plain);
        assert.ok(sentences.length >= 1 && sentences.length <= 2, plain);
        for (const s of sentences) assert.ok(TEXT.includes(s), `"${s}" is a sentence of the input`);

        // Nothing the DVM published about the job, nor its job store row, carries the text in clear.
        const onRelay = await t.inst.client.query([{ '#e': [req.id] }]);
        assert.ok(onRelay.length > 3);
        for (const e of onRelay) assert.ok(!JSON.stringify(e).includes('Data vending machines'), `kind ${e.kind} leaks the input`);
        const job = await untilState(t.jobs, req.id, 'delivered');
        assert.ok(!job.request.includes('Data vending machines'), 'the stored request is the encrypted one');
        assert.deepEqual(path(t.jobs, req.id), ['received', 'awaiting-payment', 'bidding', 'assigned', 'executing', 'delivered']);
        assert.equal(t.wallet.ledger.balance(account), FUNDS - paid);
        assert.equal((await t.wallet.getEscrow(req.id))?.status, 'released');
      });
    });
  }

  it('publishes no skill progress in clear for an encrypted request (5400 over more than one page of events)', async () => {
    await withInstance({}, async (t, c) => {
      const author = new Keys();
      const evs = notes(author, 5100);
      for (let i = 0; i < evs.length; i += 500) {
        const answers = await Promise.all(evs.slice(i, i + 500).map((e) => t.inst.client.publish(e)));
        assert.ok(answers.every((a) => a.ok));
      }
      const filter = JSON.stringify({ kinds: [1], authors: [author.pk] });
      // In clear, the count skill reports its progress after the first page of 5,000 events.
      const clear = await c.request({ kind: 5400, tags: [['i', filter, 'text']] });
      const r1 = await until('clear result', () => c.results(clear.id)[0]);
      assert.equal(r1.content, '5100');
      const partial = c.feedback(clear.id, 'partial');
      assert.ok(partial.length >= 1, 'progress is published for a request in clear');
      assert.equal(partial[0]!.content, '5000');

      const tally = agentByName(t, 'tally');
      const tpl = buildJobRequest({
        kind: 5400,
        inputs: [{ data: filter, type: 'text' }],
        providers: [tally.pubkey],
        encrypt: (pt) => nip44.encrypt(pt, nip44.getConversationKey(c.keys.sk, tally.pubkey)),
      });
      const secret = await c.request({ kind: tpl.kind, content: tpl.content, tags: tpl.tags as string[][] });
      const r2 = await until('encrypted result', () => c.results(secret.id)[0]);
      assert.equal(nip44.decrypt(r2.content, nip44.getConversationKey(c.keys.sk, r2.pubkey)), '5100');
      await untilState(t.jobs, secret.id, 'delivered');
      // No feedback tells the count (or how far it got) in clear: not in its content, not in its status text.
      for (const e of c.feedback(secret.id)) {
        assert.ok(!/\d{4}/.test(`${e.content} ${statusText(e)}`), `${status(e) ?? ''} feedback shows the count in clear`);
      }
      assert.equal(c.feedback(secret.id, 'partial').length, 0);
    });
  });

  it('sends the reason of a failed encrypted job encrypted too: it can quote the hidden inputs', async () => {
    const port = await closedPort();
    await withInstance({}, async (t, c, account) => {
      const scribe = agentByName(t, 'scribe');
      const url = `http://127.0.0.1:${port}/private-document-7`;
      const tpl = buildJobRequest({
        kind: 5001,
        inputs: [{ data: url, type: 'url' }],
        providers: [scribe.pubkey],
        encrypt: (pt) => nip44.encrypt(pt, nip44.getConversationKey(c.keys.sk, scribe.pubkey)),
      });
      const req = await c.request({ kind: tpl.kind, content: tpl.content, tags: tpl.tags as string[][] });
      await c.pay(t.wallet, req.id, account);
      const err = await until('error feedback', () => c.feedback(req.id, 'error')[0]);
      await untilState(t.jobs, req.id, 'refunded');
      assert.equal(t.wallet.ledger.balance(account), FUNDS);
      // Nothing on the relay about the job shows the hidden URL...
      for (const e of await t.inst.client.query([{ '#e': [req.id] }])) assert.ok(!JSON.stringify(e).includes('private-document-7'), `kind ${e.kind} ${status(e) ?? ''} leaks the input`);
      // ...but the customer can read why the job failed.
      assert.ok(err.tags.some((x) => x[0] === 'encrypted'));
      assert.equal(err.pubkey, scribe.pubkey, 'signed by the agent the request was encrypted to');
      const reason = nip44.decrypt(err.content, nip44.getConversationKey(c.keys.sk, err.pubkey));
      assert.equal(reason, `could not fetch input url ${url}: connection refused`);
      assert.equal(t.jobs.transitions(req.id).find((x) => x.to === 'failed')?.reason, reason);
    });
  });
});
