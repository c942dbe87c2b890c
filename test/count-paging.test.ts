// 5400 counts page through a relay that clamps `limit` far below the skill's page size.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { countSkill } from '../agents/skills/count.js';
import { fakeContext, fakeJob } from '../agents/skills/testing.js';
import { InProcessClient } from '../relay/inprocess-client.js';
import { Keys, now, startTestRelay } from './support/relay.js';

it('counts every event on a relay whose max_limit is 50', async () => {
  const r = await startTestRelay({ maxLimit: 50, defaultLimit: 50 });
  const client = await InProcessClient.open(r.relay);
  try {
    const k = new Keys();
    const t = now() - 1000;
    for (let i = 0; i < 130; i++) await r.relay.publish(k.sign({ kind: 1, content: `n${i}`, created_at: t + Math.floor(i / 3) }));
    const out = await countSkill().run(fakeJob({ kind: 5400, content: JSON.stringify([{ authors: [k.pk] }]) }), fakeContext(client));
    assert.equal(out.content, '130');
  } finally {
    await client.close();
    await r.stop();
  }
});
