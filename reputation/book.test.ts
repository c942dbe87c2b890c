import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finalizeEvent, generateSecretKey, getPublicKey } from '../nostr/verify.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { readBolt11 } from '../wallet/bolt11.js';
import { label, paidInvoice, randomJobId } from '../test/support/labels.js';
import { ReputationBook } from './book.js';
import { bookFrom } from './fetch.js';
import { jobLabelTemplate } from './labels.js';

const NOW = 1_800_000_000;
const DAY = 86400;
const newBook = () => new ReputationBook({ readInvoice: readBolt11, now: () => NOW });
const keys = (n: number) => Array.from({ length: n }, () => generateSecretKey());
const agentSk = generateSecretKey();
const agent = getPublicKey(agentSk);
const at = (daysAgo: number) => NOW - Math.round(daysAgo * DAY);

test('3 perfect paid ratings do not beat 300 mostly good ones (the lower bound, not the mean)', () => {
  const few = newBook();
  const many = newBook();
  const a2 = getPublicKey(generateSecretKey());
  for (const sk of keys(3)) few.add(label(sk, { agent, rating: 5, paid: true, created_at: at(1) }));
  keys(300).forEach((sk, i) => many.add(label(sk, { agent: a2, rating: i % 10 === 0 ? 2 : 5, paid: true, created_at: at(1) })));
  const f = few.report(agent);
  const m = many.report(a2);
  assert.equal(f.counts.ratings['5'], 3, 'the few are all perfect');
  assert.ok(m.score > f.score + 0.3, `300 mostly good (${m.score}) beat 3 perfect (${f.score})`);
  assert.equal(f.counts.paid, 3);
  assert.equal(m.counts.labels, 300);
});

test('a ring of 50 fresh keys rating each other and the agent 5 stars moves its score less than one paid rating', () => {
  const base = newBook();
  // The agent's real history: some paid work, not perfect.
  const history = keys(20).map((sk, i) => label(sk, { agent, rating: i % 4 === 0 ? 3 : 4, paid: true, created_at: at(10 + i) }));
  for (const e of history) base.add(e);
  const before = base.score(agent);

  const withPaid = bookFrom(history, [], { readInvoice: readBolt11, now: () => NOW });
  withPaid.add(label(generateSecretKey(), { agent, rating: 5, paid: true, created_at: at(0) }));
  const paidDelta = withPaid.score(agent) - before;

  const ring = keys(50);
  const ringPks = ring.map((sk) => getPublicKey(sk));
  const withRing = bookFrom(history, [], { readInvoice: readBolt11, now: () => NOW });
  for (const sk of ring) {
    withRing.add(label(sk, { agent, rating: 5, created_at: at(0) }));
    for (const other of ringPks) if (other !== getPublicKey(sk)) withRing.add(label(sk, { agent: other, rating: 5, created_at: at(0) }));
  }
  const ringDelta = withRing.score(agent) - before;
  assert.ok(paidDelta > 0, 'one paid rating helps');
  assert.ok(ringDelta >= 0);
  assert.ok(ringDelta < paidDelta, `ring moved ${ringDelta.toFixed(4)}, one paid rating ${paidDelta.toFixed(4)}`);
  // Ring members vouching for each other gain no standing: standing comes from paid labels only.
  assert.equal(withRing.standing(ringPks[0]!), 0);
});

test('a rater with a paid record of its own weighs more than a fresh one', () => {
  const established = generateSecretKey();
  const fresh = generateSecretKey();
  const b = newBook();
  for (const sk of keys(30)) b.add(label(sk, { agent: getPublicKey(established), rating: 5, paid: true, created_at: at(5) }));
  assert.ok(b.standing(getPublicKey(established)) > 0.8);
  const a1 = getPublicKey(generateSecretKey());
  const a2 = getPublicKey(generateSecretKey());
  b.add(label(established, { agent: a1, rating: 5, paid: true, created_at: at(1) }));
  b.add(label(fresh, { agent: a2, rating: 5, paid: true, created_at: at(1) }));
  assert.ok(b.score(a1) > b.score(a2));
  // ... and when its standing rises later, the label it already gave is re-weighted.
  const later = newBook();
  later.add(label(established, { agent: a1, rating: 5, paid: true, created_at: at(1) }));
  const early = later.score(a1);
  for (const sk of keys(30)) later.add(label(sk, { agent: getPublicKey(established), rating: 5, paid: true, created_at: at(5) }));
  assert.ok(later.score(a1) > early);
  assert.ok(Math.abs(later.score(a1) - b.score(a1)) < 1e-12);
});

test('old labels decay: a bad year-old record weighs less than recent good work', () => {
  const b = newBook();
  for (const sk of keys(20)) b.add(label(sk, { agent, rating: 1, paid: true, created_at: at(365) }));
  for (const sk of keys(20)) b.add(label(sk, { agent, rating: 5, paid: true, created_at: at(1) }));
  const r = b.report(agent);
  assert.ok(r.mean > 0.8, `mean ${r.mean}`);
  // After one half-life (90 days by default) a label weighs half.
  const one = newBook();
  one.add(label(generateSecretKey(), { agent, rating: 5, paid: true, created_at: at(90) }));
  assert.ok(Math.abs(one.report(agent).weight - (2 + 0.5)) < 1e-9);
  // Scores move with time even without new labels.
  assert.ok(b.score(agent, NOW + 365 * DAY) < b.score(agent, NOW));
});

test('a NIP-09 deletion by the label author removes its effect; by anyone else it does nothing', () => {
  const b = newBook();
  const sk = generateSecretKey();
  for (const k of keys(5)) b.add(label(k, { agent, rating: 4, paid: true, created_at: at(2) }));
  const before = b.score(agent);
  const bad = label(sk, { agent, rating: 1, paid: true, created_at: at(1) });
  b.add(bad);
  assert.ok(b.score(agent) < before);
  const del = (by: Uint8Array) => finalizeEvent({ kind: 5, created_at: NOW, content: '', tags: [['e', bad.id], ['k', '1985']] }, by);
  assert.equal(b.remove(del(generateSecretKey())), 0);
  assert.ok(b.score(agent) < before);
  assert.equal(b.remove(del(sk)), 1);
  assert.equal(b.score(agent), before);
  // A deleted label that arrives again (another relay kept it) stays deleted.
  assert.deepEqual(b.add(bad), { counted: false, reason: 'deleted' });
  assert.equal(b.score(agent), before);
});

test('the newest label of a rater for one job counts; deleting it brings the older one back', () => {
  const b = newBook();
  const sk = generateSecretKey();
  const job = randomJobId();
  const first = finalizeEvent(jobLabelTemplate({ agent, request: job, rating: 1, created_at: at(2) }), sk);
  const second = finalizeEvent(jobLabelTemplate({ agent, request: job, rating: 5, created_at: at(1) }), sk);
  b.add(second);
  b.add(first);
  const r = b.report(agent);
  assert.equal(r.counts.labels, 1);
  assert.equal(r.counts.ratings['5'], 1);
  b.remove(finalizeEvent({ kind: 5, created_at: NOW, content: '', tags: [['e', second.id]] }, sk));
  assert.equal(b.report(agent).counts.ratings['1'], 1);
});

test('one payment proves one job: a proof reused on another job counts unpaid', () => {
  const b = newBook();
  const sk = generateSecretKey();
  const proof = paidInvoice();
  b.add(finalizeEvent(jobLabelTemplate({ agent, request: randomJobId(), rating: 5, proof, created_at: at(2) }), sk));
  b.add(finalizeEvent(jobLabelTemplate({ agent, request: randomJobId(), rating: 5, proof, created_at: at(1) }), sk));
  const r = b.report(agent);
  assert.equal(r.counts.paid, 1);
  assert.equal(r.counts.unpaid, 1);
});

test('malformed labels are counted by reason and change nothing', () => {
  const b = newBook();
  const sk = generateSecretKey();
  const before = b.score(agent);
  const sign = (tags: string[][]) => finalizeEvent({ kind: 1985, created_at: NOW, content: '', tags }, sk);
  b.add(sign([['L', 'x'], ['l', 'spam', 'x'], ['p', agent]]));
  b.add(sign([['L', 'ai.timmy.job'], ['l', 'rating/9', 'ai.timmy.job'], ['p', agent]]));
  b.add(sign([['L', 'ai.timmy.job'], ['l', 'rating/5', 'ai.timmy.job']]));
  const verifying = new ReputationBook({ readInvoice: readBolt11, now: () => NOW, verify: () => false });
  verifying.add(label(sk, { agent, rating: 5 }));
  assert.equal(b.score(agent), before);
  assert.deepEqual(b.stats().ignored, { 'wrong-namespace': 1, 'bad-rating': 1, 'no-target': 1 });
  assert.deepEqual(verifying.stats().ignored, { 'bad-signature': 1 });
  assert.equal(b.stats().counted, 0);
});

test('incremental sums equal a recomputation from scratch, whatever the order of arrival', () => {
  // A small world: agents who also rate each other, paid and unpaid labels, replacements,
  // reused proofs and deletions.
  const sks = keys(12);
  const pks = sks.map((k) => getPublicKey(k));
  const events: NostrEvent[] = [];
  const jobs = Array.from({ length: 8 }, () => randomJobId());
  const proofs = Array.from({ length: 6 }, () => paidInvoice());
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < 400; i++) {
    const r = rnd(12);
    let s = rnd(12);
    if (s === r) s = (s + 1) % 12;
    const proof = rnd(3) === 0 ? proofs[rnd(6)] : undefined;
    events.push(
      finalizeEvent(
        jobLabelTemplate({ agent: pks[s]!, request: jobs[rnd(8)]!, ...(rnd(2) ? { rating: 1 + rnd(5) } : { outcome: (['delivered', 'late', 'failed'] as const)[rnd(3)]! }), ...(proof ? { proof } : {}), created_at: at(rnd(400)) }),
        sks[r]!,
      ),
    );
  }
  const deletions = events.filter((_, i) => i % 17 === 0).map((e) => finalizeEvent({ kind: 5, created_at: NOW, content: '', tags: [['e', e.id]] }, sks[pks.indexOf(e.pubkey)]!));
  const scratch = bookFrom(events, deletions, { readInvoice: readBolt11, now: () => NOW });
  // Arrival in another order, deletions interleaved, and reads in between (which rebuild dirty agents).
  const live = newBook();
  const shuffled = [...events].reverse();
  shuffled.forEach((e, i) => {
    live.add(e);
    if (i % 50 === 0) for (const pk of pks) live.score(pk);
    if (i === 200) for (const d of deletions.slice(0, 10)) live.remove(d);
  });
  for (const d of deletions) live.remove(d);
  for (const pk of pks) {
    const a = live.report(pk);
    const b = scratch.report(pk);
    assert.ok(Math.abs(a.score - b.score) < 1e-9, `${pk.slice(0, 8)}: ${a.score} vs ${b.score}`);
    assert.ok(Math.abs(a.standing - b.standing) < 1e-12);
    assert.deepEqual(a.counts, b.counts);
  }
});

test('a label naming several agents counts for each; the same event twice counts once', () => {
  const b = newBook();
  const other = getPublicKey(generateSecretKey());
  const e = finalizeEvent(
    { kind: 1985, created_at: NOW, content: '', tags: [['L', 'ai.timmy.job'], ['l', 'delivered', 'ai.timmy.job'], ['p', agent], ['p', other]] },
    generateSecretKey(),
  );
  assert.deepEqual(b.add(e), { counted: true, subjects: [agent, other] });
  assert.deepEqual(b.add(e), { counted: false, reason: 'duplicate' });
  assert.equal(b.report(agent).counts.outcomes.delivered, 1);
  assert.equal(b.report(other).counts.outcomes.delivered, 1);
});
