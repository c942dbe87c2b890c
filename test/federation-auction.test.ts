// Cross-instance auctions for free jobs (docs/federation.md): three instances meet on a shared
// relay. A (auctions "peers") auctions a 5400 job; C (bidOnPeers) bids with its cheaper agent,
// wins, does the work and publishes the result signed by its agent; A checks it and marks the job
// delivered. A rogue peer (announced, its agent vouching for it) that commits and never reveals
// cannot stall the auction; when it wins and never delivers, or delivers an invalid result, A
// labels it failed and reassigns the job. B keeps its auctions closed: outside bids are ignored.
// D's auctions are open to any agent with a score of at least 0.05: C's agent bids there too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import { randomBytes } from 'node:crypto';
import { Customer, checkBooks, path, startTestInstance, until, untilState, type TestInstance } from './support/dvm.js';
import { startTestRelay, Keys, now, sleep } from './support/relay.js';
import { WsClient } from '../nostr/ws-client.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { buildHandlerInfo } from '../nostr/nip89.js';
import { buildInstanceAnnouncement } from '../nostr/timmy-instance.js';
import { AUCTION_OPEN_KIND, AUCTION_RESULT_KIND, bidCommitmentTemplate, bidRevealTemplate, commitmentHash, parseAuctionOpen, parseAuctionResult, type AuctionOpen } from '../nostr/auction.js';
import { fetchAuctionEvents, recheck } from '../dvm/auction/recheck.js';
import { buildJobResult, parseJobRequest } from '../nostr/nip90.js';

const COUNT = 5400;

function personas(baseMsat: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-personas-'));
  writeFileSync(
    join(dir, 'tally.json'),
    JSON.stringify({ name: 'tally', displayName: 'Tally', about: 'counts', kinds: [COUNT], pricing: { baseMsat, perUnitMsat: 0 }, bidding: { exploration: 0 } }),
  );
  return dir;
}

type RogueMode = 'off' | 'silent' | 'cheap' | 'cheap-invalid';

/**
 * A malicious peer: an instance key announcing one agent, whose handler vouches for it, so it is
 * a peer with a vouched agent in every directory. Its agent bids in every 5400 auction on the
 * shared relay as `mode` says: commit and never reveal, or win at 1 msat (and deliver nothing, or
 * an empty result).
 */
async function startRogue(url: string): Promise<{ agent: Keys; instance: Keys; mode: RogueMode; commits: string[]; close(): Promise<void> }> {
  const instance = new Keys();
  const agent = new Keys();
  const client = new WsClient(url);
  const sign = (k: Keys, t: { kind: number; content: string; tags: string[][]; created_at: number }): NostrEvent => k.sign(t);
  const handler = buildHandlerInfo({ d: 'rogue', kinds: [COUNT], instance: instance.pk, metadata: { name: 'rogue' } });
  assert.ok((await client.publish(sign(agent, { ...handler, tags: handler.tags.map((t) => [...t]) }))).ok);
  const info = { name: 'rogue', software: 'timmy', version: '0', relays: [url], agents: [{ pubkey: agent.pk, name: 'rogue', kinds: [COUNT] }], auctions: 'closed' as const, forwarding: false };
  const ann = buildInstanceAnnouncement(info, { createdAt: now(), ttlSeconds: 600 });
  assert.ok((await client.publish(sign(instance, { ...ann, tags: ann.tags.map((t) => [...t]) }))).ok);
  const rogue = { agent, instance, mode: 'off' as RogueMode, commits: [] as string[], close: () => client.close() };
  const bid = async (open: AuctionOpen): Promise<void> => {
    const mode = rogue.mode;
    if (mode === 'off') return;
    const salt = bytesToHex(randomBytes(32));
    const price = 1;
    const ct = bidCommitmentTemplate({ auctionId: open.id, commit: commitmentHash(open.id, price, agent.pk, salt), created_at: now() });
    const commit = sign(agent, { ...ct, tags: ct.tags.map((t) => [...t]) });
    rogue.commits.push(commit.id);
    await client.publish(commit);
    if (mode === 'silent') return;
    await sleep(Math.max(0, open.commitDeadline - Date.now()) + 50);
    const r = bidRevealTemplate({ auctionId: open.id, commitId: commit.id, price, salt, created_at: now() });
    await client.publish(sign(agent, { ...r, tags: r.tags.map((t) => [...t]) }));
    if (mode !== 'cheap-invalid') return;
    // Once the result names it winner: a result with the right tags but no content.
    await sleep(Math.max(0, open.revealDeadline - Date.now()) + 300);
    const [req] = await client.query([{ ids: [open.jobId] }], { timeoutMs: 3000 });
    const parsed = req ? parseJobRequest(req) : undefined;
    if (!parsed?.ok) return;
    const t = buildJobResult({ request: parsed.value, content: ' ' });
    await client.publish(sign(agent, { ...t, tags: t.tags.map((x) => [...x]) }));
  };
  client.subscribe([{ kinds: [AUCTION_OPEN_KIND], '#k': [String(COUNT)], since: now() - 5 }], {
    onEvent: (e) => {
      const o = parseAuctionOpen(e);
      if (o.ok) void bid(o.value).catch(() => undefined);
    },
  });
  return rogue;
}

const agentOf = (t: TestInstance): string => t.inst.services!.swarm.agents[0]!.pubkey;
const coordinatorOf = (t: TestInstance): string => t.inst.services!.coordinatorPubkey;

async function labels(client: WsClient, coordinator: string, job: string): Promise<{ agent: string; outcome: string }[]> {
  const ls = await client.query([{ kinds: [1985], authors: [coordinator], '#e': [job] }], { timeoutMs: 3000 });
  return ls.map((l) => ({ agent: l.tags.find((t) => t[0] === 'p')?.[1] ?? '', outcome: l.tags.find((t) => t[0] === 'l')?.[1] ?? '' }));
}

describe('cross-instance auctions (free jobs)', { timeout: 240_000 }, () => {
  it('an outside agent wins and delivers; rogue bidders are voided, failed and ignored', async () => {
    const shared = await startTestRelay();
    const dirs = [personas(1_000_000), personas(1_000_000), personas(300), personas(1_000_000)];
    const windows = { commitMs: 500, revealMs: 500 };
    const a = await startTestInstance({ relays: [shared.url], agents: { personasDir: dirs[0] }, federation: { name: 'alpha', auctions: 'peers' }, dvm: { jobTimeoutSeconds: 4, auction: windows } });
    const b = await startTestInstance({ relays: [shared.url], agents: { personasDir: dirs[1] }, federation: { name: 'beta' }, dvm: { jobTimeoutSeconds: 4, auction: windows } });
    const c = await startTestInstance({ relays: [shared.url], agents: { personasDir: dirs[2] }, federation: { name: 'gamma', bidOnPeers: true }, dvm: { auction: windows } });
    // D opens its auctions to anyone with a score of 0.05 (an unlabelled agent scores about 0.09).
    const d = await startTestInstance({ relays: [shared.url], agents: { personasDir: dirs[3] }, federation: { name: 'delta', auctions: 'open', minScore: 0.05 }, dvm: { jobTimeoutSeconds: 4, auction: windows } });
    const rogue = await startRogue(shared.url);
    const customer = new Customer(shared.url);
    const watcher = new WsClient(shared.url);
    try {
      const dir = (t: TestInstance) => t.inst.services!.federation!.directory;
      // A knows C's agent and the rogue's (vouched); C knows A admits peers; B knows the rogue.
      await until('A sees C and the rogue', () => (dir(a).instanceOf(agentOf(c)) && dir(a).instanceOf(rogue.agent.pk) ? true : undefined), 30_000);
      await until('C sees A', () => (dir(c).get(coordinatorOf(a))?.announcement.auctions === 'peers' ? true : undefined), 30_000);
      await until('B sees the rogue', () => (dir(b).instanceOf(rogue.agent.pk) ? true : undefined), 30_000);
      await until('C sees D open', () => (dir(c).get(coordinatorOf(d))?.announcement.minScore === 0.05 ? true : undefined), 30_000);
      const filters = JSON.stringify([{ kinds: [1] }]);
      const ask = (to: TestInstance) => customer.request({ kind: COUNT, tags: [['i', filters, 'text'], ['p', agentOf(to)]] });

      // 1. C's cheaper agent wins A's auction; the rogue commits and never reveals (void, no stall).
      rogue.mode = 'silent';
      const r1 = await ask(a);
      const j1 = await untilState(a.jobs, r1.id, ['delivered', 'failed'], 30_000);
      assert.equal(j1.state, 'delivered', JSON.stringify(a.jobs.transitions(r1.id)));
      assert.equal(j1.agent, agentOf(c));
      const res1 = await until('the customer has the result', () => customer.results(r1.id)[0], 10_000);
      assert.equal(res1.pubkey, agentOf(c), 'the result is signed by C\'s agent');
      assert.equal(res1.kind, COUNT + 1000);
      assert.equal(j1.resultId, res1.id);
      const done1 = await until('C\'s agent says success', () => customer.feedback(r1.id, 'success')[0], 10_000);
      assert.equal(done1.pubkey, agentOf(c));
      const [ev1] = await watcher.query([{ kinds: [AUCTION_RESULT_KIND], ids: [j1.auctionId!] }], { timeoutMs: 3000 });
      const out1 = parseAuctionResult(ev1!);
      assert.ok(out1.ok);
      assert.equal(out1.value.winner, agentOf(c));
      assert.ok(out1.value.void.some((v) => rogue.commits.includes(v.id) && v.reason === 'unrevealed'), JSON.stringify(out1.value.void));
      const check = recheck(ev1!, await fetchAuctionEvents(watcher, out1.value.auctionId));
      assert.ok(check.ok, check.problems.join('; '));
      const l1 = await until('A labels C\'s agent', async () => (await labels(watcher, coordinatorOf(a), r1.id)).find((l) => l.agent === agentOf(c)), 10_000);
      assert.equal(l1.outcome, 'delivered');

      // 2. The rogue wins at 1 msat and never delivers: labelled failed after dvm.jobTimeoutSeconds,
      //    the job goes to the next bidder A can run (its own agent).
      rogue.mode = 'cheap';
      const r2 = await ask(a);
      const j2 = await untilState(a.jobs, r2.id, ['delivered', 'failed'], 30_000);
      assert.equal(j2.state, 'delivered', JSON.stringify(a.jobs.transitions(r2.id)));
      assert.equal(j2.agent, agentOf(a));
      assert.deepEqual(path(a.jobs, r2.id), ['received', 'bidding', 'assigned', 'executing', 'assigned', 'executing', 'delivered']);
      assert.match(a.jobs.transitions(r2.id)[4]!.reason, /outside agent .* failed \(no result within 4 s\); reassigned/);
      const l2 = await until('A labels the rogue failed', async () => (await labels(watcher, coordinatorOf(a), r2.id)).find((l) => l.agent === rogue.agent.pk), 10_000);
      assert.equal(l2.outcome, 'failed');

      // 3. The rogue wins and publishes a result with no content: failed at once, reassigned.
      rogue.mode = 'cheap-invalid';
      const r3 = await ask(a);
      const j3 = await untilState(a.jobs, r3.id, ['delivered', 'failed'], 30_000);
      assert.equal(j3.state, 'delivered');
      assert.equal(j3.agent, agentOf(a));
      assert.match(a.jobs.transitions(r3.id)[4]!.reason, /invalid result .*empty content/);

      // 4. B's auctions are closed: the rogue's bids are dropped, C does not bid, B's own agent wins.
      rogue.mode = 'cheap';
      const r4 = await ask(b);
      const j4 = await untilState(b.jobs, r4.id, ['delivered', 'failed'], 30_000);
      assert.equal(j4.state, 'delivered');
      assert.equal(j4.agent, agentOf(b));
      const [ev4] = await watcher.query([{ kinds: [AUCTION_RESULT_KIND], ids: [j4.auctionId!] }], { timeoutMs: 3000 });
      const out4 = parseAuctionResult(ev4!);
      assert.ok(out4.ok);
      assert.deepEqual(out4.value.ranking.map((x) => x.agent), [agentOf(b)]);
      const check4 = recheck(ev4!, await fetchAuctionEvents(watcher, out4.value.auctionId));
      assert.ok(check4.ok, check4.problems.join('; '));
      assert.ok(check4.unlisted.length > 0, 'the rogue\'s ignored bids are on the relay, unlisted');

      // 5. D's auctions are open to scores >= 0.05: C's agent (score about 0.1) bids and wins.
      rogue.mode = 'off';
      const r5 = await ask(d);
      const j5 = await untilState(d.jobs, r5.id, ['delivered', 'failed'], 30_000);
      assert.equal(j5.state, 'delivered', JSON.stringify(d.jobs.transitions(r5.id)));
      assert.equal(j5.agent, agentOf(c));
      assert.equal((await until('the customer has D\'s result', () => customer.results(r5.id)[0], 10_000)).pubkey, agentOf(c));

      for (const t of [a, b, c, d]) await checkBooks(t);
    } finally {
      rogue.mode = 'off';
      await watcher.close();
      await customer.close();
      await rogue.close();
      for (const t of [d, c, b, a]) await t.close();
      await shared.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});
