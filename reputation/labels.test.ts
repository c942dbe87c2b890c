import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from '../nostr/verify.js';
import { parseLabelEvent } from '../nostr/nip32.js';
import { readBolt11 } from '../wallet/bolt11.js';
import { paidInvoice } from '../test/support/labels.js';
import { JOB_NAMESPACE, jobLabelTemplate, readJobLabel, type LabelReading } from './labels.js';

const rater = generateSecretKey();
const agent = getPublicKey(generateSecretKey());
const job = 'a'.repeat(64);
const result = 'b'.repeat(64);
const now = Math.floor(Date.now() / 1000);
const opts = { readInvoice: readBolt11, now, verify: (e: Parameters<typeof verifyEvent>[0]) => verifyEvent(e) };

const sign = (tags: string[][], content = '') => finalizeEvent({ kind: 1985, created_at: now, content, tags }, rater);
const reason = (r: LabelReading) => (r.ok ? 'ok' : r.reason);

test('a customer rating: NIP-32 shape, one observation with the job and the rating', () => {
  const e = finalizeEvent(jobLabelTemplate({ agent, request: job, result, kind: 5001, rating: 4, outcome: 'delivered', comment: 'good summary', relay: 'ws://r' }), rater);
  const p = parseLabelEvent(e);
  assert.ok(p.ok);
  assert.deepEqual(p.value.namespaces, [JOB_NAMESPACE]);
  assert.deepEqual(p.value.labels.map((l) => l.value).sort(), ['delivered', 'rating/4']);
  assert.deepEqual(e.tags.find((t) => t[0] === 'e' && t[1] === job), ['e', job, 'ws://r', 'request']);
  const r = readJobLabel(e, opts);
  assert.ok(r.ok);
  assert.equal(r.observations.length, 1);
  const o = r.observations[0]!;
  assert.equal(o.subject, agent);
  assert.equal(o.job, job);
  assert.equal(o.rating, 4);
  assert.equal(o.x, 0.75); // a rating takes precedence over the outcome
  assert.equal(o.paymentHash, null);
});

test('outcomes alone: delivered 1, late 0.5, failed 0', () => {
  for (const [outcome, x] of [['delivered', 1], ['late', 0.5], ['failed', 0]] as const) {
    const r = readJobLabel(finalizeEvent(jobLabelTemplate({ agent, request: job, outcome }), rater), opts);
    assert.ok(r.ok);
    assert.equal(r.observations[0]!.x, x);
  }
});

test('a valid payment proof gives the payment hash; a wrong preimage is no proof', () => {
  const proof = paidInvoice();
  const ok = readJobLabel(finalizeEvent(jobLabelTemplate({ agent, request: job, rating: 5, proof }), rater), opts);
  assert.ok(ok.ok);
  assert.equal(ok.observations[0]!.paymentHash, readBolt11(proof.bolt11)!.paymentHash);
  const bad = readJobLabel(finalizeEvent(jobLabelTemplate({ agent, request: job, rating: 5, proof: { ...proof, preimage: 'c'.repeat(64) } }), rater), opts);
  assert.ok(bad.ok);
  assert.equal(bad.observations[0]!.paymentHash, null);
  assert.equal(bad.badProof, true);
  const junk = readJobLabel(finalizeEvent(jobLabelTemplate({ agent, request: job, rating: 5, proof: { bolt11: 'lnbc1junk', preimage: proof.preimage } }), rater), opts);
  assert.ok(junk.ok && junk.observations[0]!.paymentHash === null);
});

test('malformed labels are ignored with a reason, never thrown', () => {
  const L = ['L', JOB_NAMESPACE];
  const p = ['p', agent];
  assert.equal(reason(readJobLabel(sign([['L', 'other.ns'], ['l', 'rating/5', 'other.ns'], p]), opts)), 'wrong-namespace');
  assert.equal(reason(readJobLabel(sign([['l', 'rating/5'], p]), opts)), 'wrong-namespace'); // unmarked: ugc
  assert.equal(reason(readJobLabel(sign([L, ['l', 'rating/5', JOB_NAMESPACE]]), opts)), 'no-target');
  assert.equal(reason(readJobLabel(sign([L, ['l', 'rating/5', JOB_NAMESPACE], ['e', job]]), opts)), 'no-target'); // no agent named
  assert.equal(reason(readJobLabel(sign([L, ['l', 'rating/5', 'elsewhere'], p]), opts)), 'not-a-label'); // mark matches no L
  for (const bad of ['rating/0', 'rating/6', 'rating/4.5', 'rating/x', 'rating/', 'rating/05'])
    assert.equal(reason(readJobLabel(sign([L, ['l', bad, JOB_NAMESPACE], p]), opts)), 'bad-rating', bad);
  assert.equal(reason(readJobLabel(sign([L, ['l', 'rating/5', JOB_NAMESPACE], ['l', 'rating/1', JOB_NAMESPACE], p]), opts)), 'conflicting');
  assert.equal(reason(readJobLabel(sign([L, ['l', 'delivered', JOB_NAMESPACE], ['l', 'failed', JOB_NAMESPACE], p]), opts)), 'conflicting');
  assert.equal(reason(readJobLabel(sign([L, ['l', 'great', JOB_NAMESPACE], p]), opts)), 'no-known-label');
  assert.equal(reason(readJobLabel(sign([L, ['l', 'rating/5', JOB_NAMESPACE], ['p', getPublicKey(rater)]]), opts)), 'self-label');
  const forged = { ...sign([L, ['l', 'rating/5', JOB_NAMESPACE], p]), content: 'changed after signing' };
  assert.equal(reason(readJobLabel(forged, opts)), 'bad-signature');
  const future = finalizeEvent({ kind: 1985, created_at: now + 7200, content: '', tags: [L, ['l', 'rating/5', JOB_NAMESPACE], p] }, rater);
  assert.equal(reason(readJobLabel(future, opts)), 'future');
  assert.equal(reason(readJobLabel(finalizeEvent({ kind: 1, created_at: now, content: '', tags: [] }, rater), opts)), 'not-a-label');
  // Hostile shapes: tags that are not strings, empty values.
  assert.equal(reason(readJobLabel(sign([L, ['l', '', JOB_NAMESPACE], p]), opts)), 'not-a-label');
});

test('jobLabelTemplate refuses what would not count', () => {
  assert.throws(() => jobLabelTemplate({ agent, request: job }), /rating or an outcome/);
  assert.throws(() => jobLabelTemplate({ agent, request: job, rating: 6 }), /rating must be/);
});

test('the docs/protocol.md examples are signed job labels that count, with valid payment proofs', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('### Job labels'));
  const events = [...section.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]!) as Parameters<typeof verifyEvent>[0]);
  assert.equal(events.length, 2);
  for (const e of events) {
    const r = readJobLabel(e, { ...opts, now: e.created_at });
    assert.ok(r.ok, `example ${e.id.slice(0, 8)}: ${reason(r)}`);
    assert.ok(r.observations[0]!.paymentHash, 'the proof checks out');
  }
});
