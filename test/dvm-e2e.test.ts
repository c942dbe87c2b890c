// The whole loop through the real relay: an NDK customer (a client we did not write) posts a
// NIP-90 5001 request, gets payment-required, pays from a funded test account, gets processing and
// the 6001 result; the auction events are on the relay and re-check; the ledger balances to zero.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import NDK, { NDKEvent, type NDKFilter } from '@nostr-dev-kit/ndk';
import { configSchema } from '../main/config.js';
import { startInstance, type Instance } from '../main/instance.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { recheck, fetchAuctionEvents } from '../dvm/auction/recheck.js';
import { Keys, until } from './support/relay.js';
import { disconnectNdk, ndkFor } from './support/ndk.js';
import { SAMPLE_TEXT } from './support/dvm.js';

const TEXT = SAMPLE_TEXT;

function collect(ndk: NDK, filter: NDKFilter): NostrEvent[] {
  const got: NostrEvent[] = [];
  const sub = ndk.subscribe(filter, { closeOnEose: false });
  sub.on('event', (e: NDKEvent) => got.push(e.rawEvent() as NostrEvent));
  return got;
}


const status = (e: NostrEvent) => e.tags.find((t) => t[0] === 'status')?.[1];

describe('DVM end to end', () => {
  let dir: string;
  let inst: Instance;
  let ndk: NDK;
  const customer = new Keys();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'timmy-dvm-'));
    inst = await startInstance(configSchema.parse({ port: 0, httpPort: 0, dataDir: dir, agents: { heartbeatSeconds: 2 } }));
    ndk = ndkFor(inst.relayUrl!, customer);
    await ndk.connect(3000);
  });
  after(async () => {
    disconnectNdk(ndk);
    await inst.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a paid 5001 job: payment-required, pay, processing, result; auction re-checks; ledger balances', async () => {
    const wallet = inst.services!.wallet;
    await wallet.fund('customer:alice', 10_000_000, 'test funds');

    const req = new NDKEvent(ndk, { kind: 5001, content: '', tags: [['i', TEXT, 'text'], ['param', 'max_sentences', '2']] } as never);
    await req.sign();
    const feedback = collect(ndk, { kinds: [7000], '#e': [req.id] } as unknown as NDKFilter);
    const results = collect(ndk, { kinds: [6001], '#e': [req.id] } as unknown as NDKFilter);
    await req.publish();

    const pay = await until('payment-required', () => feedback.find((e) => status(e) === 'payment-required'));
    const amount = pay.tags.find((t) => t[0] === 'amount')!;
    assert.ok(Number(amount[1]) > 0);
    assert.match(amount[2] ?? '', /^lnbcrt/);
    await wallet.pay({ bolt11: amount[2]!, fromAccount: 'customer:alice' });

    await until('processing', () => feedback.find((e) => status(e) === 'processing'));
    const result = await until('result', () => results[0]);
    assert.equal(result.tags.find((t) => t[0] === 'e')?.[1], req.id);
    assert.equal(result.tags.find((t) => t[0] === 'p')?.[1], customer.pk);
    assert.ok(result.content.length > 0 && TEXT.includes(result.content.split('\n')[0]!.slice(0, 20)));
    assert.equal(JSON.parse(result.tags.find((t) => t[0] === 'request')![1]!).id, req.id);

    // The auction is on the relay and a third party can re-check it.
    const [auctionResult] = await inst.client.query([{ kinds: [7283], '#e': [req.id] }]);
    assert.ok(auctionResult, 'auction result event on the relay');
    const auctionId = auctionResult.tags.find((t) => t[0] === 'e' && t[3] === 'auction')?.[1];
    assert.ok(auctionId);
    const events = await fetchAuctionEvents(inst.client, auctionId);
    assert.equal(recheck(auctionResult, events).ok, true);
    // The result was signed by the winner of the auction.
    const winner = auctionResult.tags.find((t) => t[0] === 'p')?.[1];
    assert.equal(result.pubkey, winner);

    // Money: the ledger balances and the winner's account was paid.
    await until('winner paid', () => (wallet.ledger.balance(`agent:${inst.services!.swarm.agents.find((a) => a.pubkey === winner)!.name}`) > 0 ? true : undefined));
    const audit = wallet.ledger.audit();
    assert.equal(audit.totalMsat, 0);
    assert.deepEqual(audit.unbalancedTxIds, []);
    assert.deepEqual(audit.driftedAccounts, []);
  });

  it('announces every agent as a NIP-89 handler of its kinds, and each has a profile and NIP-05 name', async () => {
    for (const a of inst.services!.swarm.agents) {
      const [h] = await inst.client.query([{ kinds: [31990], authors: [a.pubkey], '#d': [a.name] }]);
      assert.ok(h, `handler for ${a.name}`);
      assert.deepEqual(
        h.tags.filter((t) => t[0] === 'k').map((t) => Number(t[1])),
        a.persona.kinds,
      );
      const [profile] = await inst.client.query([{ kinds: [0], authors: [a.pubkey] }]);
      assert.ok(profile && (JSON.parse(profile.content) as { bot?: boolean }).bot === true);
    }
  });

  it('serves NIP-05 for the agents with CORS and no redirect', async () => {
    const web = /^dashboard on (http:\/\/\S+)$/.exec(inst.listeners.find((l) => l.startsWith('dashboard')) ?? '')?.[1];
    assert.ok(web);
    const scribe = inst.services!.swarm.agents.find((a) => a.name === 'scribe')!;
    const res = await fetch(`${web}/.well-known/nostr.json?name=scribe`, { redirect: 'manual' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const doc = (await res.json()) as { names: Record<string, string>; relays?: Record<string, string[]> };
    assert.deepEqual(doc.names, { scribe: scribe.pubkey });
    assert.deepEqual(doc.relays?.[scribe.pubkey], [inst.relayUrl]);
    const none = (await (await fetch(`${web}/.well-known/nostr.json?name=nobody`)).json()) as { names: Record<string, string> };
    assert.deepEqual(none.names, {});
  });

  it('refuses a job above the customer\'s bid with error feedback', async () => {
    const req = new NDKEvent(ndk, { kind: 5001, content: '', tags: [['i', TEXT, 'text'], ['bid', '1']] } as never);
    await req.sign();
    const feedback = collect(ndk, { kinds: [7000], '#e': [req.id] } as unknown as NDKFilter);
    await req.publish();
    const err = await until('error feedback', () => feedback.find((e) => status(e) === 'error'));
    assert.match(err.tags.find((t) => t[0] === 'status')?.[2] ?? '', /above your bid/);
  });

  it('answers a malformed request with error feedback', async () => {
    const req = new NDKEvent(ndk, { kind: 5001, content: '', tags: [['i', 'abc', 'event']] } as never);
    await req.sign();
    const feedback = collect(ndk, { kinds: [7000], '#e': [req.id] } as unknown as NDKFilter);
    await req.publish();
    const err = await until('error feedback', () => feedback.find((e) => status(e) === 'error'));
    assert.match(err.tags.find((t) => t[0] === 'status')?.[2] ?? '', /invalid request/);
  });

  it('serves a free 5400 count job without payment', async () => {
    const req = new NDKEvent(ndk, { kind: 5400, content: '', tags: [['i', JSON.stringify({ kinds: [5001] }), 'text']] } as never);
    await req.sign();
    const results = collect(ndk, { kinds: [6400], '#e': [req.id] } as unknown as NDKFilter);
    await req.publish();
    const r = await until('count result', () => results[0]);
    assert.ok(Number(r.content) >= 2, r.content);
  });
});
