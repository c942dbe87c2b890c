// Discovery between instances through a relay alone: an announcement (kind 31280) puts a peer in
// the directory with the agents that vouch for it (their NIP-89 handler names the instance); a
// forged announcement that lists someone else's agents gets none of them; a deletion or an
// expiry drops the peer; our own announcement is never a peer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WsClient } from '../nostr/ws-client.js';
import { secretKeySigner } from '../nostr/signer.js';
import { generateSecretKey, getPublicKey } from '../nostr/verify.js';
import { buildHandlerInfo } from '../nostr/nip89.js';
import { parseInstanceAnnouncement, type InstanceInfo } from '../nostr/timmy-instance.js';
import { InstanceAnnouncer } from '../dvm/federation/announce.js';
import { PeerDirectory } from '../dvm/federation/directory.js';
import { startTestRelay, until } from './support/relay.js';

function instance(name: string, agentKinds: number[][]) {
  const key = generateSecretKey();
  const agents = agentKinds.map((kinds, i) => ({ key: generateSecretKey(), name: `${name}-agent-${i}`, kinds }));
  const info = (relay: string): InstanceInfo => ({
    name,
    software: 'timmy',
    version: 'test',
    relays: [relay],
    agents: agents.map((a) => ({ pubkey: getPublicKey(a.key), name: a.name, kinds: a.kinds, askMsat: Object.fromEntries(a.kinds.map((k) => [String(k), 1000])) })),
    auctions: 'closed',
    forwarding: true,
  });
  return { key, pubkey: getPublicKey(key), signer: secretKeySigner(key), agents, info };
}

describe('federation discovery', () => {
  it('finds peers, believes only vouched agents, drops deleted and expired peers', async () => {
    const relay = await startTestRelay();
    const client = new WsClient([relay.url]);
    let clock = Math.floor(Date.now() / 1000);
    try {
      const a = instance('alpha', [[5001]]);
      const b = instance('beta', [[5050], [5002, 5001]]);
      // B's agents vouch for B.
      for (const ag of b.agents) {
        const h = await secretKeySigner(ag.key).signEvent(buildHandlerInfo({ d: ag.name, kinds: ag.kinds, instance: b.pubkey }));
        assert.ok((await client.publish(h)).ok);
      }
      const dirA = new PeerDirectory({ client, self: a.pubkey, now: () => clock });
      await dirA.start();
      const annA = new InstanceAnnouncer({ client, signer: a.signer, info: () => a.info(relay.url), intervalSeconds: 60, now: () => clock });
      const annB = new InstanceAnnouncer({ client, signer: b.signer, info: () => b.info(relay.url), intervalSeconds: 60, now: () => clock });
      await annA.start();
      await annB.start();
      const peer = await until('B in A’s directory', () => dirA.get(b.pubkey));
      assert.equal(peer.announcement.name, 'beta');
      assert.deepEqual(peer.agents.map((x) => x.name).sort(), ['beta-agent-0', 'beta-agent-1']);
      assert.deepEqual(dirA.serving(5002).map((p) => p.pubkey), [b.pubkey]);
      assert.equal(dirA.get(a.pubkey), undefined, 'we are not our own peer');
      assert.equal(dirA.instanceOf(getPublicKey(b.agents[0]!.key))?.pubkey, b.pubkey);

      // A forged announcement: C lists B's agents as its own. They do not vouch for C.
      const c = instance('mallory', []);
      const forged = await c.signer.signEvent({
        kind: 31280,
        created_at: clock,
        tags: [['d', 'timmy-instance'], ['expiration', String(clock + 180)]],
        content: JSON.stringify({ ...b.info(relay.url), name: 'mallory' }),
      });
      assert.ok((await client.publish(forged)).ok);
      const m = await until('C in the directory', () => dirA.get(c.pubkey));
      assert.deepEqual(m.agents, [], 'no agent vouches for the forger');
      assert.deepEqual(dirA.serving(5050).map((p) => p.pubkey), [b.pubkey]);

      // B stops: its deletion drops it at once.
      await annB.stop();
      await until('B dropped', () => (dirA.get(b.pubkey) ? undefined : true));
      // C's announcement expires (three intervals of 60 s).
      clock += 200;
      assert.equal(dirA.get(c.pubkey), undefined);
      assert.equal(parseInstanceAnnouncement(forged, clock).ok, false);
      await annA.stop();
      dirA.stop();
    } finally {
      await client.close();
      await relay.stop();
    }
  });
});
