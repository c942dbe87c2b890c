// The forwarder's decisions without sockets: the chain and hop count a request carries, when a job
// is not forwarded (off, encrypted, maxHops, a loop through the seen-set, no peer, a paid kind), and
// the request it builds for the peer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Forwarder, forwardChain, NO_LIGHTNING, type ForwarderOptions } from '../dvm/federation/forward.js';
import type { Peer } from '../dvm/federation/directory.js';
import { parseJobRequest, type JobRequest } from '../nostr/nip90.js';
import { secretKeySigner } from '../nostr/signer.js';
import { generateSecretKey } from '../nostr/verify.js';
import { Keys } from './support/relay.js';

const customer = new Keys();
const agentB = new Keys().pk;

function peer(pubkey: string, kinds: number[], createdAt = 100, o: { lightning?: boolean; ask?: number; agent?: string } = {}): Peer {
  const agents = [{ pubkey: o.agent ?? agentB, name: 'tally', kinds, ...(o.ask !== undefined ? { askMsat: Object.fromEntries(kinds.map((k) => [String(k), o.ask!])) } : {}) }];
  return {
    pubkey,
    agents,
    firstSeen: 0,
    lastSeen: 0,
    announcement: { pubkey, name: `peer-${pubkey.slice(0, 4)}`, relays: ['ws://127.0.0.1:1'], agents, kinds, createdAt, ...(o.lightning ? { lightning: true } : {}) } as unknown as Peer['announcement'],
  };
}

function request(tags: string[][], kind = 5400, keys = customer): JobRequest {
  const r = parseJobRequest(keys.sign({ kind, tags }));
  assert.ok(r.ok);
  return r.value;
}

function forwarder(peers: Peer[], o: Partial<ForwarderOptions> = {}): Forwarder {
  return new Forwarder({
    directory: { peers: () => peers, serving: (k) => peers.filter((p) => p.agents.some((a) => a.kinds.includes(k))), get: (pk) => peers.find((p) => p.pubkey === pk) },
    signer: secretKeySigner(generateSecretKey()),
    connect: () => {
      throw new Error('no sockets here');
    },
    config: { enabled: true, maxHops: 2, feePct: 10, timeoutSeconds: 5 },
    freeKinds: [5400],
    known: () => false,
    relayHint: 'ws://127.0.0.1:7777',
    now: () => 1000,
    ...o,
  });
}

const B = new Keys().pk;
const input = ['i', '{"kinds":[1]}', 'text'];

describe('forwarding decisions', () => {
  it('reads the chain and counts hops as the larger of timmy-hops and the forwarded-from tags', () => {
    assert.deepEqual(forwardChain(request([input]).event), { ids: [], hops: 0 });
    const x = 'a'.repeat(64);
    const y = 'b'.repeat(64);
    assert.deepEqual(forwardChain(request([input, ['e', x, '', 'forwarded-from'], ['e', y, '', 'forwarded-from'], ['timmy-hops', '1']]).event), { ids: [x, y], hops: 2 });
    assert.deepEqual(forwardChain(request([input, ['timmy-hops', '3']]).event), { ids: [], hops: 3 });
    assert.deepEqual(forwardChain(request([input, ['e', x], ['timmy-hops', 'many']]).event), { ids: [], hops: 0 }, 'a plain e tag is no chain');
  });

  it('forwards a free kind to a peer serving it, and says why not otherwise', () => {
    const f = forwarder([peer(B, [5400, 5302])]);
    const ok = f.plan(request([input]));
    assert.ok(ok.ok && ok.peer.pubkey === B);
    assert.deepEqual(f.peerKinds(), [5302, 5400]);
    const no = (r: ReturnType<Forwarder['plan']>): string => (r.ok ? 'forwarded' : r.reason);
    assert.match(no(f.plan(request([input], 5001))), /no known peer instance serves kind 5001/);
    assert.equal(no(f.plan(request([input], 5302))), NO_LIGHTNING);
    // With a wallet that pays other nodes: paid kinds go to peers announcing Lightning only.
    const paying = forwarder([peer(B, [5302])], { payExternal: true });
    assert.match(no(paying.plan(request([input], 5302))), /no peer instance serving kind 5302 can be paid over Lightning/);
    const ln = forwarder([peer(B, [5302], 100, { lightning: true })], { payExternal: true }).plan(request([input], 5302));
    assert.ok(ln.ok && ln.peer.pubkey === B);
    assert.match(no(f.plan(request([input, ['timmy-hops', '2']]))), /already forwarded 2 time\(s\), and federation.forward.maxHops is 2/);
    const mine = 'c'.repeat(64);
    const loop = forwarder([peer(B, [5400])], { known: (id) => id === mine, config: { enabled: true, maxHops: 9, feePct: 10, timeoutSeconds: 5 } });
    assert.match(no(loop.plan(request([input, ['e', 'd'.repeat(64), '', 'forwarded-from'], ['e', mine, '', 'forwarded-from']]))), /a loop/);
    assert.match(no(forwarder([peer(B, [5400])], { config: { enabled: false, maxHops: 2, feePct: 10, timeoutSeconds: 5 } }).plan(request([input]))), /forwarding is off/);
    assert.deepEqual(forwarder([peer(B, [5400])], { config: { enabled: false, maxHops: 2, feePct: 10, timeoutSeconds: 5 } }).peerKinds(), []);
  });

  it('asks the instance that forwarded the request to us last', () => {
    const from = new Keys();
    const f = forwarder([peer(from.pk, [5400], 200), peer(B, [5400], 100)]);
    const r = f.plan(request([input, ['e', 'e'.repeat(64), '', 'forwarded-from'], ['timmy-hops', '1']], 5400, from));
    assert.ok(r.ok);
    assert.equal(r.peer.pubkey, B);
  });

  it('prefers the cheapest announced ask, then the best-reputed agents', () => {
    const [x, y, z] = [new Keys().pk, new Keys().pk, new Keys().pk];
    const [ax, ay, az] = [new Keys().pk, new Keys().pk, new Keys().pk];
    const scores = new Map([
      [ax, 0.2],
      [ay, 0.9],
      [az, 0.5],
    ]);
    const f = forwarder([peer(x, [5400], 100, { ask: 500, agent: ax }), peer(y, [5400], 100, { ask: 500, agent: ay }), peer(z, [5400], 100, { ask: 300, agent: az })], {
      score: (pk) => scores.get(pk) ?? 0,
    });
    const cheapest = f.plan(request([input]));
    assert.ok(cheapest.ok && cheapest.peer.pubkey === z, 'the cheapest ask');
    scores.set(az, 0);
    const g = forwarder([peer(x, [5400], 100, { ask: 500, agent: ax }), peer(y, [5400], 100, { ask: 500, agent: ay })], { score: (pk) => scores.get(pk) ?? 0 });
    const reputed = g.plan(request([input]));
    assert.ok(reputed.ok && reputed.peer.pubkey === y, 'same ask: the better score');
  });

  it('adds our bid for a paid forward', () => {
    const t = forwarder([peer(B, [5400])]).subRequest(request([input]), peer(B, [5400]), 2500);
    assert.deepEqual(t.tags.at(-1), ['bid', '2500']);
  });

  it('builds the peer request: inputs and params copied, the peer agents addressed, the chain extended, one more hop', () => {
    const f = forwarder([peer(B, [5400])]);
    const parent = 'f'.repeat(64);
    const req = request([input, ['param', 'group', 'author'], ['output', 'text/plain'], ['p', new Keys().pk], ['relays', 'ws://x.example'], ['bid', '1000'], ['e', parent, 'ws://b', 'forwarded-from'], ['timmy-hops', '1']]);
    const t = f.subRequest(req, peer(B, [5400]));
    assert.equal(t.kind, 5400);
    assert.deepEqual(t.tags, [
      input,
      ['param', 'group', 'author'],
      ['output', 'text/plain'],
      ['p', agentB],
      ['e', req.id, 'ws://127.0.0.1:7777', 'forwarded-from'],
      ['e', parent, 'ws://b', 'forwarded-from'],
      ['timmy-hops', '2'],
    ]);
  });
});
