// Reputation through the whole instance: every finished job leaves the coordinator's label on the
// relay, the customer rates with `timmy job rate` (another process), scores are the same whether
// kept incrementally, recomputed from the relay, or computed by an instance that never saw the job
// from another relay's copy; a sybil ring moves less than one paid rating; deletions undo; bad
// labels are counted and ignored; the HTTP API and `timmy agent show` give score and evidence.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { npubEncode } from '../nostr/nip19.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { WsClient } from '../nostr/ws-client.js';
import { readBolt11 } from '../wallet/bolt11.js';
import { fetchReputation } from '../reputation/fetch.js';
import { JOB_NAMESPACE } from '../reputation/labels.js';
import type { ReputationReport } from '../reputation/book.js';
import { Customer, FUNDS, Keys, SAMPLE_TEXT, checkBooks, startTestInstance, status, statusText, until, untilState, type TestInstance } from './support/dvm.js';
import { emptyDir, runCli } from './support/cli.js';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { label } from './support/labels.js';
import { finalizeEvent } from '../nostr/verify.js';
import { authorizationHeader, httpAuthTemplate } from '../nostr/nip98.js';

const labelsFor = (t: TestInstance, job: string) => t.inst.client.query([{ kinds: [1985], '#e': [job] }]);

describe('reputation from job labels', () => {
  let t: TestInstance;
  let c: Customer;
  let account: string;
  let other: TestRelay;
  let webUrl: string;
  let agent: string;
  let jobId: string;
  let keyFile: string;

  before(async () => {
    t = await startTestInstance({ reputation: { minScoreByKind: { '5400': 0.99 } } });
    webUrl = /dashboard on (\S+)/.exec(t.inst.listeners.join('\n'))![1]!;
    c = new Customer(t.inst.relayUrl!);
    account = `customer:${c.pk.slice(0, 16)}`;
    await t.wallet.fund(account, FUNDS, 'test funds');
    other = await startTestRelay();
    keyFile = join(emptyDir(), 'customer.key');
    writeFileSync(keyFile, Buffer.from(c.keys.sk).toString('hex'), { mode: 0o600 });
  });
  after(async () => {
    await c.close();
    await t.close();
    await other.stop();
  });

  it('a paid job leaves the coordinator\'s delivered label with a payment proof', async () => {
    const req = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text']] });
    jobId = req.id;
    await c.pay(t.wallet, req.id, account);
    const job = await untilState(t.jobs, req.id, 'delivered');
    agent = job.agent!;
    const lbl = await until('coordinator label', async () => (await labelsFor(t, req.id))[0]);
    assert.ok(lbl);
    assert.equal(lbl.pubkey, t.inst.services!.coordinatorPubkey);
    assert.deepEqual(lbl.tags.find((x) => x[0] === 'L'), ['L', JOB_NAMESPACE]);
    assert.deepEqual(lbl.tags.find((x) => x[0] === 'l'), ['l', 'delivered', JOB_NAMESPACE]);
    assert.equal(lbl.tags.find((x) => x[0] === 'p')?.[1], agent);
    assert.ok(lbl.tags.some((x) => x[0] === 'e' && x[1] === req.id && x[3] === 'request'));
    assert.ok(lbl.tags.some((x) => x[0] === 'e' && x[1] === job.resultId && x[3] === 'result'));
    assert.deepEqual(lbl.tags.find((x) => x[0] === 'k'), ['k', '5001']);
    assert.equal(readBolt11(lbl.tags.find((x) => x[0] === 'bolt11')![1]!)?.paymentHash, job.paymentHash);
    const book = t.inst.services!.reputation.book;
    await until('label in the book', () => (book.report(agent).counts.labels === 1 ? true : undefined));
    assert.equal(book.report(agent).counts.paid, 1);
    await checkBooks(t);
  });

  it('the customer rates with `timmy job rate` from another process; the label carries the payment proof', async () => {
    const before = t.inst.services!.reputation.book.report(agent);
    const r = await runCli(['job', 'rate', jobId, '5', '--outcome', 'delivered', '--comment', 'crisp summary', '--key-file', keyFile, '--relay', t.inst.relayUrl!, '--data-dir', t.dir], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^label [0-9a-f]{64} published \(with payment proof\)/m);
    const mine = await until('customer label', async () => (await labelsFor(t, jobId)).find((e) => e.pubkey === c.pk));
    assert.deepEqual(mine.tags.filter((x) => x[0] === 'l').map((x) => x[1]).sort(), ['delivered', 'rating/5']);
    assert.equal(mine.content, 'crisp summary');
    const book = t.inst.services!.reputation.book;
    const after = await until('rating counted', () => (book.report(agent).counts.labels === 2 ? book.report(agent) : undefined));
    assert.equal(after.counts.paid, 2);
    assert.ok(after.score > before.score);
    // Bad input: one line, non-zero exit.
    const bad = await runCli(['job', 'rate', jobId, '9', '--key-file', keyFile, '--data-dir', t.dir]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /rating must be a whole number from 1 to 5/);
  });

  it('the incremental score equals a recomputation from the relay, and `timmy agent show` agrees', async () => {
    const book = t.inst.services!.reputation.book;
    const fromRelay = await fetchReputation(t.inst.client, agent, { readInvoice: readBolt11 });
    const live = book.report(agent, { now: fromRelay.asOf });
    assert.ok(Math.abs(live.score - fromRelay.score) < 1e-9);
    assert.deepEqual(live.counts, fromRelay.counts);

    const cli = await runCli(['agent', 'show', npubEncode(agent), '--json', '--data-dir', t.dir], { timeoutMs: 30_000 });
    assert.equal(cli.code, 0, cli.stderr);
    const shown = JSON.parse(cli.stdout) as ReputationReport;
    assert.ok(Math.abs(shown.score - book.report(agent, { now: shown.asOf }).score) < 1e-9);
    assert.equal(shown.counts.paid, 2);
    const text = await runCli(['agent', 'show', npubEncode(agent), '--data-dir', t.dir], { timeoutMs: 30_000 });
    assert.match(text.stdout, /score 0\.\d{4}/);
    assert.match(text.stdout, /labels 2: paid 2, unpaid 0/);
    assert.match(text.stdout, /5★ 1/);
  });

  it('an instance that never saw the job computes the same score from another relay\'s copy of the labels', async () => {
    const labels = await t.inst.client.query([{ kinds: [1985] }]);
    const copy = new WsClient(other.url);
    for (const e of labels) assert.ok((await copy.publish(e)).ok);
    await copy.close();
    const stranger = emptyDir('timmy-stranger-');
    const cli = await runCli(['agent', 'show', npubEncode(agent), '--json', '--relay', other.url, '--data-dir', stranger], { timeoutMs: 30_000 });
    assert.equal(cli.code, 0, cli.stderr);
    const shown = JSON.parse(cli.stdout) as ReputationReport;
    const here = t.inst.services!.reputation.book.report(agent, { now: shown.asOf });
    assert.ok(Math.abs(shown.score - here.score) < 1e-9, `${shown.score} vs ${here.score}`);
    assert.deepEqual(shown.counts, here.counts);
  });

  it('a ring of 50 fresh keys rating each other 5 stars moves the score less than the one paid rating did', async () => {
    const book = t.inst.services!.reputation.book;
    const labelsBefore = (await t.inst.client.query([{ kinds: [1985], '#p': [agent] }])).filter((e) => e.pubkey !== c.pk);
    const { bookFrom } = await import('../reputation/fetch.js');
    const withoutCustomer = bookFrom(labelsBefore, [], { readInvoice: readBolt11 }).score(agent);
    const now = book.report(agent).asOf;
    const paidDelta = book.score(agent, now) - withoutCustomer;
    const before = book.score(agent, now);
    const ring = Array.from({ length: 50 }, () => new Keys());
    const ws = new WsClient(t.inst.relayUrl!);
    try {
      for (const k of ring) {
        for (const target of [agent, ...ring.filter((x) => x !== k).slice(0, 10).map((x) => x.pk)]) assert.ok((await ws.publish(label(k.sk, { agent: target, rating: 5 }))).ok);
      }
    } finally {
      await ws.close();
    }
    await until('ring counted', () => (book.report(agent).counts.unpaid >= 50 ? true : undefined));
    const ringDelta = book.score(agent, now) - before;
    assert.ok(ringDelta < paidDelta, `ring ${ringDelta} vs one paid rating ${paidDelta}`);
  });

  it('a NIP-09 deletion of the customer\'s label removes its effect', async () => {
    const book = t.inst.services!.reputation.book;
    const mine = (await labelsFor(t, jobId)).find((e) => e.pubkey === c.pk)!;
    const now = book.report(agent).asOf;
    const before = book.score(agent, now);
    await c.publish({ kind: 5, tags: [['e', mine.id], ['k', '1985']] });
    await until('deletion applied', () => (book.score(agent, now) < before ? true : undefined));
    assert.equal(book.report(agent).counts.ratings['5'], 50); // the ring's unpaid 5s remain; the paid one is gone
    assert.equal(book.report(agent).counts.paid, 1);
  });

  it('malformed labels are counted by reason and ignored; the instance keeps serving', async () => {
    const book = t.inst.services!.reputation.book;
    const before = { ...book.stats().ignored };
    const k = new Keys();
    const ws = new WsClient(t.inst.relayUrl!);
    try {
      await ws.publish(k.sign({ kind: 1985, tags: [['L', 'other.ns'], ['l', 'spam', 'other.ns'], ['p', agent]] }));
      await ws.publish(k.sign({ kind: 1985, tags: [['L', JOB_NAMESPACE], ['l', 'rating/11', JOB_NAMESPACE], ['p', agent]] }));
      await ws.publish(k.sign({ kind: 1985, tags: [['L', JOB_NAMESPACE], ['l', 'rating/5', JOB_NAMESPACE]] }));
    } finally {
      await ws.close();
    }
    const grew = (r: string) => (book.stats().ignored[r] ?? 0) > (before[r] ?? 0);
    await until('ignored counted', () => (grew('wrong-namespace') && grew('bad-rating') && grew('no-target') ? true : undefined));
    const stats = (await (await fetch(`${webUrl}/api/reputation/stats`)).json()) as { ignored: Record<string, number>; counted: number };
    assert.ok((stats.ignored['bad-rating'] ?? 0) >= 1);
    assert.ok(stats.counted >= 2);
  });

  it('the HTTP API gives score and evidence, and takes signed labels', async () => {
    const list = (await (await fetch(`${webUrl}/api/agents`)).json()) as { agents: { name: string; pubkey: string; score: number }[] };
    const mine = list.agents.find((a) => a.pubkey === agent);
    assert.ok(mine);
    const byName = (await (await fetch(`${webUrl}/api/agents/${mine.name}`)).json()) as ReputationReport;
    const byNpub = (await (await fetch(`${webUrl}/api/agents/${npubEncode(agent)}?last=3`)).json()) as ReputationReport;
    assert.equal(byName.pubkey, agent);
    assert.equal(byNpub.last.length, 3);
    assert.equal(byName.counts.labels, byNpub.counts.labels);

    const k = new Keys();
    // Writes need a user: a NIP-98 header signed by the label's author (or a dashboard session).
    const post = (body: string, signer: Keys | null = k) =>
      fetch(`${webUrl}/api/labels`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(signer ? { authorization: authorizationHeader(finalizeEvent(httpAuthTemplate({ url: `${webUrl}/api/labels`, method: 'POST', body }), signer.sk)) } : {}),
        },
        body,
      });
    const good = label(k.sk, { agent, rating: 4 });
    assert.equal((await post(JSON.stringify(good), null)).status, 401);
    const ok = await post(JSON.stringify(good));
    assert.equal(ok.status, 202);
    assert.deepEqual(((await ok.json()) as { subjects: string[] }).subjects, [agent]);
    assert.equal((await post('{not json')).status, 400);
    assert.equal((await post(JSON.stringify({ ...good, content: 'tampered' }))).status, 400);
    assert.equal((await post(JSON.stringify(label(new Keys().sk, { agent, rating: 4 })))).status, 403); // someone else's label
    const wrong = await post(JSON.stringify(k.sign({ kind: 1985, tags: [['L', JOB_NAMESPACE], ['l', 'rating/0', JOB_NAMESPACE], ['p', agent]] })));
    assert.equal(wrong.status, 422);
    assert.match(((await wrong.json()) as { error: string }).error, /bad-rating/);
    assert.equal((await fetch(`${webUrl}/api/agents/npub1nothing`)).status, 404);
    await until('posted label on the relay', async () => (await t.inst.client.query([{ ids: [good.id] }]))[0]);
  });

  it('reputation gates the auction: a kind whose minimum no agent meets is refused before payment', async () => {
    const req = await c.request({ kind: 5400, tags: [['i', '[{"kinds":[1]}]', 'text']] });
    const fb = await until('error feedback', () => c.feedback(req.id, 'error')[0]);
    assert.match(statusText(fb), /no agent here has the reputation this job asks for/);
    assert.equal(c.feedback(req.id, 'payment-required').length, 0);
    assert.equal(c.results(req.id).length, 0);
    // The customer's own min-score param does the same.
    const strict = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text'], ['param', 'min-score', '0.999']] });
    await until('error feedback', () => c.feedback(strict.id, 'error')[0]);
    const bad = await c.request({ kind: 5001, tags: [['i', SAMPLE_TEXT, 'text'], ['param', 'min-score', 'high']] });
    const e = await until('error feedback', () => c.feedback(bad.id, 'error')[0]);
    assert.match(statusText(e), /min-score must be a number from 0 to 1/);
    assert.equal(status(e), 'error');
  });

  it('the auction open lists the bidders\' scores', async () => {
    const [open] = await t.inst.client.query([{ kinds: [7280], '#e': [jobId] }]);
    assert.ok(open);
    const scores = open.tags.filter((x) => x[0] === 'score');
    assert.ok(scores.length >= 1);
    for (const s of scores) assert.match(s[2] ?? '', /^(0|1)\.\d{4}$/);
  });
});

export type { NostrEvent };
