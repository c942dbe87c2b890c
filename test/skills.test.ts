// The agents' relay-backed skills (5302 search, 5400 count, 5300 discovery), their identity events
// and heartbeats, against a real embedded relay through the in-process NostrClient.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SkillError } from '../dvm/skill.js';
import { InProcessClient } from '../relay/inprocess-client.js';
import { secretKeySigner } from '../nostr/signer.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { generateSecretKey } from '../nostr/verify.js';
import { searchSkill } from '../agents/skills/search.js';
import { countSkill } from '../agents/skills/count.js';
import { discoverySkill } from '../agents/skills/discovery.js';
import { fakeContext, fakeJob } from '../agents/skills/testing.js';
import { startHeartbeat } from '../agents/heartbeat.js';
import { announceAgent } from '../agents/identity/announce.js';
import { HEARTBEAT_KIND, isAlive, parseHeartbeat } from '../agents/events.js';
import { parsePersona } from '../agents/personas/loader.js';
import { Recorder } from './support/clients.js';
import { Keys, now, startTestRelay, type TestRelay } from './support/relay.js';

describe('agents against the embedded relay', () => {
  let relay: TestRelay;
  let client: InProcessClient;
  const alice = new Keys();
  const bob = new Keys();
  const carol = new Keys();
  const customer = new Keys();
  const fans = Array.from({ length: 4 }, () => new Keys());
  const t = now();
  const put = async (e: NostrEvent): Promise<NostrEvent> => {
    const r = await client.publish(e);
    assert.ok(r.ok, JSON.stringify(r));
    return e;
  };
  const run = async (skill: ReturnType<typeof searchSkill>, o: Parameters<typeof fakeJob>[0]) => skill.run(fakeJob(o), fakeContext(client));
  const tags = (content: string): string[][] => JSON.parse(content) as string[][];

  before(async () => {
    relay = await startTestRelay();
    client = await InProcessClient.open(relay.relay);
  });
  after(async () => {
    await client.close();
    await relay.stop();
  });

  describe('5302 search', () => {
    let aliceNote: NostrEvent, bobNote: NostrEvent, article: NostrEvent;
    before(async () => {
      aliceNote = await put(alice.sign({ kind: 1, content: 'Shipyard news: the new shipyard opened today', created_at: t - 300 }));
      bobNote = await put(bob.sign({ kind: 1, content: 'The shipyard by the river: shipyard cranes, shipyard workers.', created_at: t - 200 }));
      await put(carol.sign({ kind: 1, content: 'Nothing about boats at all', created_at: t - 100 }));
      article = await put(alice.sign({ kind: 30023, content: 'A long article about a shipyard.', tags: [['d', 'ships']], created_at: t - 400 }));
    });

    it('finds notes and articles, best match first, as e and a tags', async () => {
      const out = await run(searchSkill(), { kind: 5302, inputs: ['shipyard'] });
      assert.deepEqual(tags(out.content), [
        ['e', bobNote.id],
        ['e', aliceNote.id],
        ['a', `30023:${alice.pk}:ships`],
      ]);
    });

    it('filters by users (5302.md format), since/until and max_results', async () => {
      const users = JSON.stringify([['p', alice.pk]]);
      const out = await run(searchSkill(), { kind: 5302, inputs: ['shipyard'], params: [['users', users]] });
      assert.deepEqual(tags(out.content).map((x) => x[1]).sort(), [aliceNote.id, `30023:${alice.pk}:ships`].sort());
      const early = await run(searchSkill(), { kind: 5302, inputs: ['shipyard'], params: [['until', String(t - 250)]] });
      assert.deepEqual(tags(early.content).map((x) => x[1]).sort(), [aliceNote.id, `30023:${article.pubkey}:ships`].sort());
      const one = await run(searchSkill({ relayHint: 'wss://relay.example.com' }), { kind: 5302, inputs: ['shipyard'], params: [['max_results', '1'], ['since', String(t - 350)]] });
      const got = tags(one.content);
      assert.equal(got.length, 1);
      assert.equal(got[0]![2], 'wss://relay.example.com');
    });

    it('refuses an empty query and bad params with a readable SkillError', async () => {
      await assert.rejects(run(searchSkill(), { kind: 5302, inputs: ['  '] }), (e: unknown) => e instanceof SkillError && /nothing to search for/.test(e.message));
      await assert.rejects(run(searchSkill(), { kind: 5302, inputs: ['x'], params: [['max_results', 'lots']] }), (e: unknown) => e instanceof SkillError && /max_results/.test(e.message));
      await assert.rejects(run(searchSkill(), { kind: 5302, inputs: ['x'], params: [['users', '["nobody"]']] }), (e: unknown) => e instanceof SkillError && /users/.test(e.message));
    });
  });

  describe('5400 count', () => {
    let target: NostrEvent;
    before(async () => {
      target = await put(carol.sign({ kind: 1, content: 'count my reactions', created_at: t - 60 }));
      const reactions = ['+', '🤙', '+', '+'];
      for (let i = 0; i < fans.length; i++)
        await put(fans[i]!.sign({ kind: 7, content: reactions[i]!, tags: [['e', target.id], ['p', carol.pk]], created_at: t - 50 + i }));
    });

    it('counts matching events from the request content or a text input', async () => {
      const filters = JSON.stringify([{ kinds: [7], '#e': [target.id] }]);
      assert.equal((await run(countSkill(), { kind: 5400, content: filters })).content, '4');
      assert.equal((await run(countSkill(), { kind: 5400, inputs: [filters] })).content, '4');
      // The spec's own example spells kinds as "#kinds".
      assert.equal((await run(countSkill(), { kind: 5400, content: `[{"#kinds":[7],"#e":["${target.id}"]}]` })).content, '4');
      // Two overlapping filters: distinct events.
      const two = JSON.stringify([{ kinds: [7], '#e': [target.id] }, { authors: [fans[0]!.pk], kinds: [7] }]);
      assert.equal((await run(countSkill(), { kind: 5400, content: two })).content, '4');
    });

    it('groups by content, pubkey or tag, nested', async () => {
      const filters = JSON.stringify([{ kinds: [7], '#e': [target.id] }]);
      const byContent = await run(countSkill(), { kind: 5400, content: filters, params: [['group', 'content']] });
      assert.deepEqual(JSON.parse(byContent.content), { '+': 3, '🤙': 1 });
      const nested = await run(countSkill(), { kind: 5400, content: filters, params: [['group', 'p'], ['group', 'content']] });
      assert.deepEqual(JSON.parse(nested.content), { [carol.pk]: { '+': 3, '🤙': 1 } });
      const byReply = await run(countSkill(), { kind: 5400, content: filters, params: [['group', 'reply']] });
      assert.deepEqual(JSON.parse(byReply.content), { [target.id]: 4 });
    });

    it('pages past the page size, and marks a capped count', async () => {
      const filters = JSON.stringify([{ kinds: [7], '#e': [target.id] }]);
      const paged = await countSkill({ pageSize: 2 }).run(fakeJob({ kind: 5400, content: filters }), fakeContext(client));
      assert.equal(paged.content, '4');
      const capped = await run(countSkill({ pageSize: 2, maxEvents: 3 }), { kind: 5400, content: filters });
      assert.ok(Number(capped.content) >= 3);
      assert.deepEqual(capped.tags, [['capped', '3']]);
    });

    it('explains bad input', async () => {
      await assert.rejects(run(countSkill(), { kind: 5400, content: 'kinds 7 please' }), (e: unknown) => e instanceof SkillError && /JSON list of NIP-01 filters/.test(e.message));
      await assert.rejects(run(countSkill(), { kind: 5400, content: '[{"ids":["nothex"]}]' }), (e: unknown) => e instanceof SkillError && /filter 1: ids/.test(e.message));
      await assert.rejects(run(countSkill(), { kind: 5400 }), (e: unknown) => e instanceof SkillError && /nothing to count/.test(e.message));
    });
  });

  describe('5300 discovery', () => {
    // Its own relay: the notes and reactions of the other tests would compete for the top.
    let own: TestRelay;
    let ownClient: InProcessClient;
    before(async () => {
      own = await startTestRelay();
      ownClient = await InProcessClient.open(own.relay);
    });
    after(async () => {
      await ownClient.close();
      await own.stop();
    });

    it('ranks recent top-level notes by distinct engagement, leaving out old notes, replies and the user’s own', async () => {
      const put = async (e: NostrEvent): Promise<NostrEvent> => {
        assert.ok((await ownClient.publish(e)).ok);
        return e;
      };
      const skill = discoverySkill({ windowSec: 3600, now: () => t });
      const run = (o: Parameters<typeof fakeJob>[0]) => skill.run(fakeJob(o), fakeContext(ownClient));
      const d = new Keys();
      const old = await put(d.sign({ kind: 1, content: 'old news about gardens', created_at: t - 3 * 86400 }));
      const n1 = await put(d.sign({ kind: 1, content: 'gardens in spring', created_at: t - 3000 }));
      const n2 = await put(bob.sign({ kind: 1, content: 'sailing boats at dawn', created_at: t - 2900 }));
      const n3 = await put(carol.sign({ kind: 1, content: 'quiet gardens', created_at: t - 2800 }));
      const mine = await put(customer.sign({ kind: 1, content: 'my own gardens', created_at: t - 2700 }));
      await put(alice.sign({ kind: 1, content: 'a reply about gardens', tags: [['e', n1.id, '', 'root']], created_at: t - 2600 }));
      for (const f of fans.slice(0, 3)) await put(f.sign({ kind: 7, content: '+', tags: [['e', n2.id]], created_at: t - 2500 }));
      await put(fans[0]!.sign({ kind: 7, content: '❤️', tags: [['e', n2.id]], created_at: t - 2499 })); // the same person again: no extra point
      await put(d.sign({ kind: 7, content: '+', tags: [['e', n1.id]], created_at: t - 2400 })); // self-engagement: no point
      for (const f of fans) await put(f.sign({ kind: 7, content: '+', tags: [['e', old.id]], created_at: t - 2400 }));

      const out = await run({ kind: 5300, customer: customer.pk });
      assert.ok(tags(out.content).every((x) => x[0] === 'e'));
      // n2: three distinct people reacted (3 points); n1: one reply (2); n3: nothing yet. The reply
      // itself, the customer's own note and the note outside the window are left out.
      assert.deepEqual(
        tags(out.content).map((x) => x[1]),
        [n2.id, n1.id, n3.id],
      );

      const topic = await run({ kind: 5300, customer: customer.pk, inputs: ['gardens'], params: [['p', bob.pk]] });
      const topical = tags(topic.content).map((x) => x[1]);
      assert.equal(topical[0], n1.id);
      assert.deepEqual([...topical].sort(), [n1.id, n3.id, mine.id].sort(), 'about gardens; recommending for bob, the customer’s note is fair game');
      assert.ok(!topical.includes(old.id));
    });
  });

  describe('identity events and heartbeats', () => {
    it('announces the profile, relay list and identities', async () => {
      const persona = parsePersona({
        name: 'scribe',
        displayName: 'Scribe',
        about: 'summaries',
        kinds: [5001],
        pricing: { baseMsat: 1000, perUnitMsat: 100 },
        identities: [{ platform: 'github', identity: 'Timmy-Scribe', proof: 'abc123' }],
      });
      const signer = secretKeySigner(generateSecretKey());
      const pk = await signer.getPublicKey();
      const results = await announceAgent(persona, signer, client, { nip05Domain: 'example.com', lud16: 'scribe@example.com', defaultRelays: ['wss://relay.example.com'] });
      assert.deepEqual(results.map((r) => [r.kind, r.result.ok]), [
        [0, true],
        [10002, true],
        [10011, true],
      ]);
      const [profile] = await client.query([{ kinds: [0], authors: [pk] }]);
      assert.deepEqual(JSON.parse(profile!.content), { name: 'scribe', display_name: 'Scribe', about: 'summaries', nip05: 'scribe@example.com', lud16: 'scribe@example.com', bot: true });
      const [relays] = await client.query([{ kinds: [10002], authors: [pk] }]);
      assert.deepEqual(relays!.tags, [['r', 'wss://relay.example.com']]);
      const [ids] = await client.query([{ kinds: [10011], authors: [pk] }]);
      assert.deepEqual(ids!.tags, [['i', 'github:timmy-scribe', 'abc123']]);
    });

    it('beats at once, then says goodbye on stop', async () => {
      const signer = secretKeySigner(generateSecretKey());
      const pk = await signer.getPublicKey();
      const rec = new Recorder(client, [{ kinds: [HEARTBEAT_KIND], authors: [pk] }]);
      await rec.eose();
      let active = 1;
      const errors: unknown[] = [];
      const hb = startHeartbeat({ signer, client, kinds: [5001, 5050], intervalSec: 60, load: () => ({ active, capacity: 2 }), onError: (e) => errors.push(e) });
      await rec.until(() => rec.events.length === 1, 'first beat');
      const first = parseHeartbeat(rec.events[0]!)!;
      assert.equal(first.status, 'busy');
      assert.deepEqual(first.kinds, [5001, 5050]);
      assert.deepEqual([first.active, first.capacity], [1, 2]);
      assert.equal(first.expiresAt, first.createdAt + 180);
      assert.ok(isAlive(first, first.createdAt + 10));
      assert.ok(!isAlive(first, first.expiresAt));
      active = 0;
      await hb.beat();
      await rec.until(() => rec.events.length === 2, 'second beat');
      assert.equal(parseHeartbeat(rec.events[1]!)!.status, 'idle');
      await hb.stop();
      await hb.stop();
      await rec.until(() => rec.events.length === 3, 'goodbye');
      assert.equal(parseHeartbeat(rec.events[2]!)!.status, 'offline');
      assert.deepEqual(await client.query([{ kinds: [HEARTBEAT_KIND], authors: [pk] }]), [], 'ephemeral: not stored');
      assert.deepEqual(errors, []);
      rec.close();
    });
  });
});
