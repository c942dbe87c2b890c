// MultiClient: the embedded relay and remote relays as one NostrClient.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MultiClient } from '../nostr/multi-client.js';
import { WsClient } from '../nostr/ws-client.js';
import { InProcessClient } from '../relay/inprocess-client.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { Keys, RawClient, startTestRelay, until, type TestRelay } from './support/relay.js';

describe('MultiClient', () => {
  let a: TestRelay;
  let b: TestRelay;
  const k = new Keys();
  before(async () => {
    [a, b] = await Promise.all([startTestRelay(), startTestRelay()]);
  });
  after(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  it('publishes to every client, merges queries, and delivers each live event once', async () => {
    const multi = new MultiClient([await InProcessClient.open(a.relay), new WsClient(b.url)]);
    try {
      const e = k.sign({ kind: 1, content: 'to both', tags: [['t', 'multi']] });
      const r = await multi.publish(e);
      assert.equal(r.ok, true);
      assert.equal(r.relays.length, 2);
      const onlyB = k.sign({ kind: 1, content: 'only on b', tags: [['t', 'multi']] });
      const rb = await RawClient.connect(b.url);
      await rb.publish(onlyB);
      const got = await multi.query([{ '#t': ['multi'] }]);
      assert.deepEqual(got.map((x) => x.id).sort(), [e.id, onlyB.id].sort());

      const live: NostrEvent[] = [];
      let eose = 0;
      const sub = multi.subscribe([{ '#t': ['live-multi'] }], { onEvent: (x) => live.push(x), onEose: () => eose++ });
      await until('eose', () => (eose === 1 ? true : undefined));
      const l = k.sign({ kind: 1, content: 'live', tags: [['t', 'live-multi']] });
      await multi.publish(l); // lands on both relays: delivered once
      const ra = await RawClient.connect(a.url);
      const l2 = k.sign({ kind: 1, content: 'live on a only', tags: [['t', 'live-multi']] });
      await ra.publish(l2);
      await until('two live events', () => (live.length >= 2 ? true : undefined));
      await new Promise((w) => setTimeout(w, 100));
      assert.deepEqual(live.map((x) => x.id).sort(), [l.id, l2.id].sort());
      sub.close();
      ra.close();
      rb.close();
    } finally {
      await multi.close();
    }
  });
});
