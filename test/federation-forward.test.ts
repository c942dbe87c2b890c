// Forwarding between instances (docs/federation.md, "Forwarding"): three instances and a shared
// relay. A has no agent for kind 5400; B and C do. A customer's 5400 request sent to A is forwarded
// (a request of A's coordinator, chained and hop-counted) and the result comes back from A. A request
// at maxHops is not forwarded; a peer that never answers makes the job fail in time; two
// instances that each think the other serves the kind cannot make a job loop; and a job whose
// local agents are all busy goes to a peer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBooks, Customer, sleep, startTestInstance, statusText, until, untilState, type TestInstance } from './support/dvm.js';
import { startTestRelay } from './support/relay.js';
import { runCli, ROOT } from './support/cli.js';
import { WsClient } from '../nostr/ws-client.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { buildJobResult, parseJobRequest } from '../nostr/nip90.js';
import { AGENT_CAPACITY } from '../agents/swarm.js';

/** A persona folder holding copies of some default personas. */
function personas(...names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-personas-'));
  for (const n of names) copyFileSync(join(ROOT, 'agents/personas/default', `${n}.json`), join(dir, `${n}.json`));
  return dir;
}

const coordinator = (t: TestInstance): string => t.inst.services!.coordinatorPubkey;
const tag = (e: NostrEvent, name: string): readonly string[] | undefined => e.tags.find((t) => t[0] === name);

async function requestsBy(relay: string, author: string, kind = 5400): Promise<NostrEvent[]> {
  const c = new WsClient(relay);
  try {
    return await c.query([{ kinds: [kind], authors: [author] }], { timeoutMs: 3000 });
  } finally {
    await c.close();
  }
}

async function deletionsBy(relay: string, author: string, id: string): Promise<NostrEvent[]> {
  const c = new WsClient(relay);
  try {
    return await c.query([{ kinds: [5], authors: [author], '#e': [id] }], { timeoutMs: 3000 });
  } finally {
    await c.close();
  }
}

/** Waits until `t` knows each of `peers` with an agent serving 5400, and its DVM has had time to listen for 5400. */
async function knows(t: TestInstance, peers: readonly TestInstance[]): Promise<void> {
  const dir = t.inst.services!.federation!.directory;
  for (const p of peers) await until(`a peer serving 5400 known`, () => (dir.serving(5400).some((x) => x.pubkey === coordinator(p)) ? true : undefined), 30_000);
  await sleep(1200);
}

describe('forwarding jobs between instances', { timeout: 240_000 }, () => {
  it('forwards a job no local agent serves to a peer, refuses one at maxHops, and fails one whose peer never answers', async () => {
    const shared = await startTestRelay();
    const dirA = personas('scribe');
    const a = await startTestInstance({ relays: [shared.url], agents: { personasDir: dirA }, dvm: { freeKinds: [5400, 5302] }, federation: { name: 'alpha', forward: { timeoutSeconds: 4 } } });
    const b = await startTestInstance({ relays: [shared.url], federation: { name: 'beta' } });
    const c = await startTestInstance({ relays: [shared.url], federation: { name: 'gamma' } });
    const customer = new Customer(a.inst.relayUrl!);
    try {
      assert.ok(!a.inst.services!.swarm.agents.some((x) => x.persona.kinds.includes(5400)), 'A has no agent for 5400');
      await knows(a, [b, c]);

      // 1. Forwarded: the customer's result comes from A's coordinator, with the peer's count.
      const req = await customer.request({ kind: 5400, tags: [['i', JSON.stringify({ kinds: [31280] }), 'text']] });
      const result = await until('the result from A', () => customer.results(req.id)[0], 30_000);
      assert.equal(result.pubkey, coordinator(a), 'signed by A');
      assert.equal(result.kind, 6400);
      assert.equal(tag(result, 'e')?.[1], req.id);
      assert.equal(tag(result, 'p')?.[1], customer.pk);
      assert.ok(tag(result, 'request'), 'the request is echoed');
      const fwd = tag(result, 'forwarded')!;
      assert.ok(fwd, 'the result says who did the work');
      const peers = [coordinator(b), coordinator(c)];
      assert.ok(peers.includes(fwd[1]!), 'forwarded to B or C');
      const worker = fwd[1] === coordinator(b) ? b : c;
      const tally = worker.inst.services!.swarm.agents.find((x) => x.name === 'tally')!;
      assert.ok(customer.feedback(req.id).some((e) => e.pubkey === coordinator(a) && /forwarded to the instance/.test(statusText(e))), 'processing feedback');
      await until('success feedback', () => customer.feedback(req.id, 'success')[0]);

      // The sub-request: A's own, chained to the original, one hop, addressed to the peer's agent.
      const [sub, ...more] = await requestsBy(shared.url, coordinator(a));
      assert.ok(sub);
      assert.equal(more.length, 0);
      assert.deepEqual(sub.tags.find((t) => t[0] === 'e'), ['e', req.id, a.inst.relayUrl!, 'forwarded-from']);
      assert.deepEqual(tag(sub, 'timmy-hops'), ['timmy-hops', '1']);
      assert.ok(sub.tags.some((t) => t[0] === 'p' && t[1] === tally.pubkey));
      assert.deepEqual(tag(sub, 'i'), ['i', JSON.stringify({ kinds: [31280] }), 'text']);
      // The peer's result (by its agent) carries the same content as ours.
      const r = new WsClient(shared.url);
      const [theirs] = await r.query([{ kinds: [6400], '#e': [sub.id] }], { timeoutMs: 3000 });
      await r.close();
      assert.ok(theirs);
      assert.equal(theirs.pubkey, tally.pubkey);
      assert.equal(fwd[2], theirs.id);
      assert.equal(result.content, theirs.content);
      assert.equal(result.content, '3', 'the three instance announcements, counted by the peer');

      const job = await untilState(a.jobs, req.id, 'delivered');
      assert.equal(job.forwardedTo, fwd[1]);
      assert.equal(job.forwardId, sub.id);
      const show = await runCli(['job', 'show', req.id, '--data-dir', a.dir]);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, new RegExp(`forwarded to peer instance ${fwd[1]} as request ${sub.id}`));
      assert.match(show.stdout, /sent to (beta|gamma) as request/);

      // 2. A request already at maxHops (2) is not forwarded.
      const far = await customer.request({ kind: 5400, tags: [['i', JSON.stringify({ kinds: [1] }), 'text'], ['timmy-hops', '2']] });
      await untilState(a.jobs, far.id, 'failed');
      const err = await until('error feedback', () => customer.feedback(far.id, 'error')[0]);
      assert.match(statusText(err), /not forwarded: the request was already forwarded 2 time\(s\), and federation.forward.maxHops is 2/);

      // 3. With built-in wallets, paid kinds are not forwarded: not free here (5050), or not free at the peer (5302: its payment-required).
      const paidHere = await customer.request({ kind: 5050, tags: [['i', 'hello', 'text']] });
      const e1 = await until('error feedback', () => customer.feedback(paidHere.id, 'error')[0]);
      assert.match(statusText(e1), /not forwarded: a paid job is forwarded only by a wallet that pays other Lightning nodes \(wallet.backend "lnd"\)/);
      const paidThere = await customer.request({ kind: 5302, tags: [['i', 'nostr', 'text']] });
      const e2 = await until('error feedback', () => customer.feedback(paidThere.id, 'error')[0], 20_000);
      assert.equal(statusText(e2), 'the peer asks for payment, and this job is forwarded as a free one');
      const gaveUp = await untilState(a.jobs, paidThere.id, 'failed');
      // A withdrew its request (NIP-09), so the peer's job waits for no payment.
      const peerOf = gaveUp.forwardedTo === coordinator(b) ? b : c;
      await untilState(peerOf.jobs, gaveUp.forwardId!, 'cancelled');

      // 4. Peers whose results never come: the job fails when the forward times out.
      await b.inst.services!.dvm.stop();
      await c.inst.services!.dvm.stop();
      // The customer cancels a forwarded job (NIP-09): A withdraws its own request from the peer.
      const gone = await customer.request({ kind: 5400, tags: [['i', JSON.stringify({ kinds: [2] }), 'text']] });
      const out = await until('forwarded', () => a.jobs.get(gone.id)?.forwardId ?? undefined);
      await customer.publish({ kind: 5, tags: [['e', gone.id], ['k', '5400']] });
      await untilState(a.jobs, gone.id, 'cancelled');
      await until('withdrawn', async () => ((await deletionsBy(shared.url, coordinator(a), out)).length === 1 ? true : undefined));

      const lost = await customer.request({ kind: 5400, tags: [['i', JSON.stringify({ kinds: [1] }), 'text']] });
      await untilState(a.jobs, lost.id, 'failed', 20_000);
      const late = await until('error feedback', () => customer.feedback(lost.id, 'error')[0]);
      assert.match(statusText(late), /sent no result within 4 s/);
      // None for the refused job; the one that timed out was withdrawn (NIP-09), so the relay dropped it.
      assert.equal((await untilState(a.jobs, far.id, 'failed')).forwardedTo, null);
      const lostJob = await untilState(a.jobs, lost.id, 'failed');
      assert.ok(lostJob.forwardId);
      assert.equal((await deletionsBy(shared.url, coordinator(a), lostJob.forwardId)).length, 1, 'the forward that timed out is withdrawn');
      assert.deepEqual((await requestsBy(shared.url, coordinator(a))).map((e) => e.id), [sub.id]);
      await checkBooks(a);
    } finally {
      await customer.close();
      await c.close();
      await b.close();
      await a.close();
      await shared.stop();
      rmSync(dirA, { recursive: true, force: true });
    }
  });

  it('cannot loop: two instances that each forward to the other fail the job cleanly, forwarding once each', async () => {
    const shared = await startTestRelay();
    const dirs = [personas('tally'), personas('tally')];
    const cfg = (name: string, dir: string) => ({ relays: [shared.url], agents: { personasDir: dir }, federation: { name, forward: { maxHops: 5, timeoutSeconds: 15 } } });
    const a = await startTestInstance(cfg('alpha', dirs[0]!));
    const b = await startTestInstance(cfg('beta', dirs[1]!));
    const customer = new Customer(a.inst.relayUrl!);
    try {
      await knows(a, [b]);
      await knows(b, [a]);
      // Both still announce tally (kind 5400), but neither has it running: each forwards to the other.
      for (const t of [a, b]) await t.inst.services!.swarm.agents.find((x) => x.name === 'tally')!.stop();
      const req = await customer.request({ kind: 5400, tags: [['i', JSON.stringify({ kinds: [1] }), 'text']] });
      const job = await untilState(a.jobs, req.id, 'failed', 30_000);
      assert.equal(job.forwardedTo, coordinator(b));
      const err = await until('error feedback', () => customer.feedback(req.id, 'error')[0]);
      assert.match(statusText(err), /beta failed the job: .*alpha failed the job: .*a loop/);
      assert.equal(customer.results(req.id).length, 0);
      // One forward by each: A -> B, then B -> A, which A refused (its chain holds A's own job).
      const byA = await requestsBy(shared.url, coordinator(a));
      const byB = await requestsBy(shared.url, coordinator(b));
      assert.equal(byA.length, 1);
      assert.equal(byB.length, 1);
      assert.deepEqual(tag(byB[0]!, 'timmy-hops'), ['timmy-hops', '2']);
      assert.deepEqual(byB[0]!.tags.filter((t) => t[3] === 'forwarded-from').map((t) => t[1]), [byA[0]!.id, req.id]);
      const back = await untilState(a.jobs, byB[0]!.id, 'failed');
      assert.equal(back.forwardedTo, null, 'A did not forward the request that came back');
      await sleep(500);
      assert.equal((await requestsBy(shared.url, coordinator(a))).length, 1, 'still one forward by A');
      // Both are still up.
      assert.ok(a.inst.services!.federation!.directory.get(coordinator(b)));
      await checkBooks(a);
      await checkBooks(b);
    } finally {
      await customer.close();
      await b.close();
      await a.close();
      await shared.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  it('forwards while every local agent serving the kind is busy, and keeps the job once one is free', async () => {
    const shared = await startTestRelay();
    const dirs = [personas('tally'), personas('tally')];
    const a = await startTestInstance({ relays: [shared.url], agents: { personasDir: dirs[0] }, federation: { name: 'alpha' } });
    const b = await startTestInstance({ relays: [shared.url], agents: { personasDir: dirs[1] }, federation: { name: 'beta' } });
    const customer = new Customer(a.inst.relayUrl!);
    try {
      await knows(a, [b]);
      const tally = a.inst.services!.swarm.agents.find((x) => x.name === 'tally')!;
      tally.active = AGENT_CAPACITY; // as if it were running that many jobs
      assert.ok(tally.busy());
      const busy = await customer.request({ kind: 5400, tags: [['i', JSON.stringify({ kinds: [31280] }), 'text']] });
      const j1 = await untilState(a.jobs, busy.id, ['delivered', 'failed'], 30_000);
      assert.equal(j1.state, 'delivered', JSON.stringify(a.jobs.transitions(busy.id).map((t) => t.reason)));
      assert.equal(j1.forwardedTo, coordinator(b));
      assert.match(a.jobs.transitions(busy.id)[1]!.reason, /every agent here serving kind 5400 is busy: to be forwarded/);
      const r1 = await until('result', () => customer.results(busy.id)[0]);
      assert.equal(r1.pubkey, coordinator(a));
      tally.active = 0;
      const free = await customer.request({ kind: 5400, tags: [['i', JSON.stringify({ kinds: [31280, 1] }), 'text']] });
      const j2 = await untilState(a.jobs, free.id, ['delivered', 'failed'], 30_000);
      assert.equal(j2.state, 'delivered');
      assert.equal(j2.forwardedTo, null, JSON.stringify(a.jobs.transitions(free.id).map((t) => t.reason)));
      assert.equal(j2.agent, tally.pubkey, 'our own agent did it');
      await checkBooks(a);
    } finally {
      await customer.close();
      await b.close();
      await a.close();
      await shared.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  it('a forwarded job still out when the instance stops waits for the same result after a restart', async () => {
    const shared = await startTestRelay();
    const dirA = personas('scribe');
    const cfg = { relays: [shared.url], agents: { personasDir: dirA }, federation: { name: 'alpha', forward: { timeoutSeconds: 30 } } };
    let a = await startTestInstance(cfg);
    const b = await startTestInstance({ relays: [shared.url], federation: { name: 'beta' } });
    let customer = new Customer(a.inst.relayUrl!);
    try {
      await knows(a, [b]);
      await b.inst.services!.dvm.stop(); // B hears the request but does not answer (yet)
      const req = await customer.request({ kind: 5400, tags: [['i', JSON.stringify({ kinds: [1] }), 'text']] });
      const job = await untilState(a.jobs, req.id, 'executing');
      const [sub] = await requestsBy(shared.url, coordinator(a));
      assert.equal(sub?.id, job.forwardId);
      await customer.close();
      await a.close(true);
      assert.equal((await deletionsBy(shared.url, coordinator(a), sub.id)).length, 0, 'not withdrawn when the instance stops');

      // While A is down, B's agent answers A's request.
      const tally = b.inst.services!.swarm.agents.find((x) => x.name === 'tally')!;
      const parsed = parseJobRequest(sub);
      assert.ok(parsed.ok);
      const theirs = await tally.signer.signEvent(buildJobResult({ request: parsed.value, content: '42' }));
      const w = new WsClient(shared.url);
      assert.ok((await w.publish(theirs)).ok);
      await w.close();

      a = await startTestInstance(cfg, a.dir);
      customer = new Customer(a.inst.relayUrl!);
      await customer.listen(req.id);
      const result = await until('the result from A after its restart', () => customer.results(req.id)[0], 30_000);
      assert.equal(result.pubkey, coordinator(a));
      assert.equal(result.content, '42');
      assert.deepEqual(tag(result, 'forwarded'), ['forwarded', coordinator(b), theirs.id, tally.pubkey]);
      const done = await untilState(a.jobs, req.id, 'delivered');
      assert.ok(a.jobs.transitions(req.id).some((t) => t.from === 'executing' && t.to === 'executing' && /resumed/.test(t.reason)));
      assert.equal(done.forwardId, sub.id);
      await checkBooks(a);
    } finally {
      await customer.close();
      await b.close();
      await a.close();
      await shared.stop();
      rmSync(dirA, { recursive: true, force: true });
    }
  });
});
