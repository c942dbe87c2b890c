// The composition root: the instance's own NostrClient reaches the embedded relay in-process, or
// remote relays over websockets when `embeddedRelay` is false.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../main/config.js';
import { startInstance } from '../main/instance.js';
import { Keys, startTestRelay } from './support/relay.js';

describe('instance', () => {
  it('starts the embedded relay and talks to it in-process', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'timmy-inst-'));
    const inst = await startInstance(configSchema.parse({ port: 0, dataDir, agents: { enabled: false } }));
    assert.match(inst.listeners[0] ?? '', /^relay listening on ws:\/\/127\.0\.0\.1:\d+$/);
    const e = new Keys().sign({ kind: 1, content: 'from the instance' });
    assert.equal((await inst.client.publish(e)).ok, true);
    assert.deepEqual((await inst.client.query([{ ids: [e.id] }])).map((x) => x.id), [e.id]);
    await inst.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('uses remote relays when embeddedRelay is false', async () => {
    const remote = await startTestRelay();
    const inst = await startInstance(configSchema.parse({ embeddedRelay: false, relays: [remote.url], agents: { enabled: false } }));
    assert.deepEqual(inst.listeners, []);
    assert.equal(inst.relay, undefined);
    const e = new Keys().sign({ kind: 1, content: 'to a remote relay' });
    assert.equal((await inst.client.publish(e)).ok, true);
    assert.deepEqual((await inst.client.query([{ ids: [e.id] }])).map((x) => x.id), [e.id]);
    await inst.close();
    await remote.stop();
  });

  it('refuses embeddedRelay false without relays', async () => {
    await assert.rejects(startInstance(configSchema.parse({ embeddedRelay: false, agents: { enabled: false } })), /no relays are configured/);
  });
});
