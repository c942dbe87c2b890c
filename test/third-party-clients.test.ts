// Clients we did not write, against our relay: nostr-tools' Relay and NDK. Whatever they expect
// of a NIP-01 relay, ours must do.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import { finalizeEvent, type Event as NtEvent, type EventTemplate as NtTemplate } from 'nostr-tools/pure';
import NDK, { NDKEvent, type NDKFilter } from '@nostr-dev-kit/ndk';
import { disconnectNdk, ndkFor } from './support/ndk.js';
import { Keys, RawClient, now, startTestRelay, type TestRelay } from './support/relay.js';

useWebSocketImplementation(WebSocket);

/** Resolves with the value `register` hands to its callback, or rejects after the timeout. */
function waitFor<T>(what: string, register: (done: (v: T) => void) => void, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

describe('third-party clients', () => {
  let open: TestRelay;
  let closed: TestRelay; // NIP-42: every EVENT and REQ needs AUTH
  const alice = new Keys();
  const bob = new Keys();
  before(async () => {
    [open, closed] = await Promise.all([startTestRelay(), startTestRelay({ auth: { required: true } })]);
  });
  after(async () => {
    await Promise.all([open.stop(), closed.stop()]);
  });

  describe('nostr-tools Relay', () => {
    const sign = (sk: Uint8Array, t: Partial<NtTemplate> & { kind: number }): NtEvent =>
      finalizeEvent({ created_at: now(), tags: [], content: '', ...t }, sk);

    it('publishes, subscribes with oneose, gets a live event after EOSE, and counts', async () => {
      const relay = await Relay.connect(open.url);
      try {
        const e = sign(alice.sk, { kind: 1, content: 'from nostr-tools', tags: [['t', 'nt']] });
        assert.equal(await relay.publish(e), '');
        await assert.rejects(relay.publish({ ...e, id: e.id.replace(/^./, (c) => (c === '0' ? '1' : '0')) }), /^Error: invalid: /);

        const got: NtEvent[] = [];
        let live: (e: NtEvent) => void = () => undefined;
        await waitFor<void>('EOSE', (done) => {
          relay.subscribe([{ kinds: [1], '#t': ['nt'] }], {
            onevent: (ev) => {
              got.push(ev);
              live(ev);
            },
            oneose: () => done(),
          });
        });
        assert.deepEqual(got.map((x) => x.id), [e.id]);

        const l = sign(bob.sk, { kind: 1, content: 'live', tags: [['t', 'nt']] });
        const arrived = waitFor<NtEvent>('live event', (done) => (live = (ev) => ev.id === l.id && done(ev)));
        const other = await RawClient.connect(open.url);
        assert.equal((await other.publish(l)).ok, true);
        other.close();
        assert.equal((await arrived).content, 'live');

        assert.equal(await relay.count([{ kinds: [1], '#t': ['nt'] }], {}), 2); // NIP-45
      } finally {
        relay.close();
      }
    });

    it('authenticates with relay.auth() on an auth-required relay', async () => {
      const relay = await Relay.connect(closed.url);
      try {
        const e = sign(alice.sk, { kind: 1, content: 'after auth' });
        await assert.rejects(relay.publish(e), /auth-required:/);
        const closedWhy = await waitFor<string>('CLOSED', (done) => {
          relay.subscribe([{ kinds: [1] }], { onevent: () => undefined, onclose: (reason) => done(reason) });
        });
        assert.match(closedWhy, /^auth-required:/);

        await relay.auth(async (t) => finalizeEvent(t, alice.sk));
        assert.equal(await relay.publish(e), '');
        const got = await waitFor<NtEvent[]>('EOSE', (done) => {
          const evs: NtEvent[] = [];
          const sub = relay.subscribe([{ ids: [e.id] }], {
            onevent: (ev) => evs.push(ev),
            oneose: () => {
              sub.close();
              done(evs);
            },
          });
        });
        assert.deepEqual(got.map((x) => x.id), [e.id]);
      } finally {
        relay.close();
      }
    });

    it('authenticates on its own with onauth, answering the challenge we send at connect', async () => {
      const relay = new Relay(closed.url);
      relay.onauth = async (t) => finalizeEvent(t, bob.sk);
      await relay.connect();
      try {
        const e = sign(bob.sk, { kind: 1, content: 'eager auth' });
        // The AUTH round trip may still be in flight: retry once, as an application would.
        const first = await relay.publish(e).catch((err: Error) => err.message);
        if (first !== '') {
          assert.match(first, /^auth-required:/);
          assert.equal(await relay.publish(e), '');
        }
      } finally {
        relay.close();
      }
    });
  });

  describe('NDK', () => {
    const disconnect = disconnectNdk;

    it('publishes an NDKEvent, fetches it with fetchEvents, and receives a live event in a subscription', async () => {
      const ndk = ndkFor(open.url, alice);
      try {
        await ndk.connect(3000);
        assert.equal(ndk.pool.connectedRelays().length, 1);
        const ev = new NDKEvent(ndk, { kind: 1, content: 'from NDK', tags: [['t', 'ndk']] } as never);
        const relays = await ev.publish();
        assert.equal(relays.size, 1);
        assert.ok(ev.id && ev.sig);

        const fetched = await ndk.fetchEvents({ kinds: [1], '#t': ['ndk'], authors: [alice.pk] } as NDKFilter);
        assert.deepEqual([...fetched].map((x) => x.id), [ev.id]);

        const seen: string[] = [];
        let onLive: (id: string) => void = () => undefined;
        const sub = ndk.subscribe({ kinds: [1], '#t': ['ndk'] } as NDKFilter, { closeOnEose: false, groupable: false });
        sub.on('event', (x: NDKEvent) => {
          seen.push(x.id);
          onLive(x.id);
        });
        await waitFor<void>('EOSE', (done) => sub.on('eose', () => done()));
        const l = bob.sign({ kind: 1, content: 'live for NDK', tags: [['t', 'ndk']] });
        const arrived = waitFor<string>('live event', (done) => (onLive = (id) => id === l.id && done(id)));
        const other = await RawClient.connect(open.url);
        assert.equal((await other.publish(l)).ok, true);
        other.close();
        await arrived;
        assert.ok(seen.includes(ev.id));
        sub.stop();
      } finally {
        disconnect(ndk);
      }
    });

    it('signs in with the signIn auth policy on an auth-required relay', async () => {
      const ndk = ndkFor(closed.url, bob, true);
      try {
        await ndk.connect(3000);
        const relay = [...ndk.pool.relays.values()][0]!;
        if (relay.status < 8) await waitFor<void>('authed', (done) => relay.once('authed', () => done()));
        const ev = new NDKEvent(ndk, { kind: 1, content: 'NDK, signed in' } as never);
        assert.equal((await ev.publish()).size, 1);
        const fetched = await ndk.fetchEvents({ ids: [ev.id] });
        assert.deepEqual([...fetched].map((x) => x.content), ['NDK, signed in']);
      } finally {
        disconnect(ndk);
      }
    });
  });
});
