// Who bids in whose auctions across instances, and what an outside winner's result must be.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { finalizeEvent, generateSecretKey, getPublicKey } from '../../nostr/verify.js';
import { buildJobRequest, buildJobResult, parseJobRequest } from '../../nostr/nip90.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import type { Peer } from './directory.js';
import { admitsOutsider, peerAuctionsFor, type Admission } from './admission.js';
import { checkOutsideResult } from './outside-result.js';

const peer = (pubkey: string, auctions: 'closed' | 'peers' | 'open', agents: string[] = [], minScore?: number): Peer =>
  ({
    pubkey,
    announcement: { auctions, ...(minScore !== undefined ? { minScore } : {}) },
    agents: agents.map((a) => ({ pubkey: a, name: 'x', kinds: [5400] })),
    firstSeen: 0,
    lastSeen: 0,
  }) as unknown as Peer;

describe('admission', () => {
  const p = peer('p1', 'peers', ['vouched']);
  const base = { minScore: 0.5, instanceOf: (a: string) => (a === 'vouched' ? p : undefined), score: (a: string) => (a === 'good' ? 0.7 : 0.1) };
  const with_ = (auctions: Admission['auctions']): Admission => ({ ...base, auctions });

  it('closed admits no outsider; peers admits vouched peer agents; open admits by score', () => {
    assert.equal(admitsOutsider(with_('closed'), 'vouched'), false);
    assert.equal(admitsOutsider(with_('peers'), 'vouched'), true);
    assert.equal(admitsOutsider(with_('peers'), 'good'), false);
    assert.equal(admitsOutsider(with_('open'), 'good'), true);
    assert.equal(admitsOutsider(with_('open'), 'vouched'), false);
  });

  it('our agents bid with peers announcing peers, or open with a minScore they meet', () => {
    const peers = [peer('closed', 'closed'), peer('peers', 'peers'), peer('open-low', 'open', [], 0.3), peer('open-high', 'open', [], 0.9), peer('open-unknown', 'open')];
    assert.deepEqual(peerAuctionsFor(peers, 0.5), ['peers', 'open-low']);
    assert.deepEqual(peerAuctionsFor(peers, 0.95), ['peers', 'open-low', 'open-high']);
  });
});

describe('an outside winner\'s result', () => {
  const customerSk = generateSecretKey();
  const agentSk = generateSecretKey();
  const agent = getPublicKey(agentSk);
  const reqEvent = finalizeEvent(buildJobRequest({ kind: 5400, inputs: [{ data: '[{"kinds":[1]}]', type: 'text' }] }), customerSk);
  const parsed = parseJobRequest(reqEvent);
  assert.ok(parsed.ok);
  const req = parsed.value;
  const result = (content = '3', tags?: (t: string[][]) => string[][], kind?: number): NostrEvent => {
    const t = buildJobResult({ request: req, content });
    const ts = t.tags.map((x) => [...x]);
    return finalizeEvent({ ...t, kind: kind ?? t.kind, tags: tags ? tags(ts) : ts }, agentSk);
  };

  it('is valid when signed by the winner, of the result kind, tagging request and customer, with content', () => {
    assert.equal(checkOutsideResult(result(), req, agent).ok, true);
  });

  it('is refused otherwise, with the reason', () => {
    const reason = (e: NostrEvent, who = agent): string => {
      const r = checkOutsideResult(e, req, who);
      return r.ok ? 'ok' : r.reason;
    };
    assert.equal(reason(result(), getPublicKey(generateSecretKey())), 'not signed by the winner');
    assert.equal(reason({ ...result(), content: 'changed' }), 'bad id or signature');
    assert.match(reason(result('3', undefined, 6050)), /kind 6050 is not 6400/);
    assert.equal(reason(result('  ')), 'empty content');
    const other = getPublicKey(generateSecretKey());
    assert.equal(reason(result('3', (ts) => ts.map((t) => (t[0] === 'p' ? ['p', other] : t)))), 'its p tag is not the customer');
    assert.notEqual(reason(result('3', (ts) => ts.map((t) => (t[0] === 'e' ? ['e', 'ab'.repeat(32)] : t)))), 'ok');
  });
});
