// The LLM intent router: sure rules skip the model; the model's JSON is checked; anything wrong
// with the model (down, prose, unknown intent) falls back to the rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GenerateRequest } from './llm/provider.js';
import { firstJsonObject, llmIntentRouter } from './voice-intents.js';

/** A language model that answers `reply` (or fails with it) and records what it was asked. */
const model = (reply: string | Error) => {
  const asked: GenerateRequest[] = [];
  return {
    asked,
    generate: async (req: GenerateRequest) => {
      asked.push(req);
      if (reply instanceof Error) throw reply;
      return { text: reply, provider: 'test', model: 'test' };
    },
  };
};

describe('LLM intent router', () => {
  it('takes sure rules without asking the model', async () => {
    const m = model('{"intent":"help"}');
    const r = await llmIntentRouter(m).detect('what is the status');
    assert.equal(r.intent, 'status');
    assert.equal(m.asked.length, 0);
  });

  it("uses the model's checked JSON for what the rules are unsure of", async () => {
    const m = model('Sure! ```json\n{"intent":"submit","slots":{"kind":5050,"text":"a limerick about relays"},"confidence":0.8}\n```');
    const r = await llmIntentRouter(m).detect('could you maybe come up with a limerick about relays');
    assert.deepEqual([r.intent, r.slots, r.source], ['submit', { kind: 5050, text: 'a limerick about relays' }, 'llm']);
    assert.equal(m.asked.length, 1);
    assert.match(m.asked[0]!.messages[0]!.content, /ONE JSON object/);
  });

  it('falls back to the rules when the model is down, rambles, or invents an intent', async () => {
    for (const reply of [new Error('connection refused'), 'I think you want the status.', '{"intent":"launch"}', '{"intent":"unknown"}']) {
      const r = await llmIntentRouter(model(reply)).detect('uh status please');
      assert.equal(r.intent, 'status', String(reply));
      assert.equal(r.source, 'rules');
    }
    assert.equal(firstJsonObject('no json here'), undefined);
  });
});
