// The voice command rules on a table of utterances, written the way PocketSphinx returns them
// (lowercase, no punctuation) and the way a person types them; each with the intent and slots expected.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkIntent, parseIntent, parseJobRef, ruleIntentRouter, type IntentName, type IntentSlots } from './nlu.js';

const TABLE: readonly [string, IntentName, IntentSlots][] = [
  // status
  ['what is the status', 'status', {}],
  ["What's the status?", 'status', {}],
  ['status', 'status', {}],
  ['show me the status', 'status', {}],
  ['how are things', 'status', {}],
  ['what is going on', 'status', {}],
  ['give me the overview', 'status', {}],
  ['what is the status of job abc123', 'status', { job: 'abc123' }],
  ['what is the status of the agents', 'status', {}],
  ['uh status please', 'status', {}],
  // submit
  ['summarize this: The relay stores events. Agents bid for jobs.', 'submit', { kind: 5001, text: 'the relay stores events agents bid for jobs' }],
  ['summarize the meeting notes from today', 'submit', { kind: 5001, text: 'the meeting notes from today' }],
  ['please give me a summary of bitcoin history', 'submit', { kind: 5001, text: 'bitcoin history' }],
  ['translate good morning my friend to French', 'submit', { kind: 5002, text: 'good morning my friend', language: 'fr' }],
  ['translate hello world into german', 'submit', { kind: 5002, text: 'hello world', language: 'de' }],
  ['translate into spanish: where is the station', 'submit', { kind: 5002, text: 'where is the station', language: 'es' }],
  ['translate this: the cat sleeps to italian', 'submit', { kind: 5002, text: 'the cat sleeps', language: 'it' }],
  ['generate text about lightning payments', 'submit', { kind: 5050, text: 'lightning payments' }],
  ['write a poem about the sea', 'submit', { kind: 5050, text: 'the sea' }],
  ['generate a story on robots', 'submit', { kind: 5050, text: 'robots' }],
  ['search notes for nostr relays', 'submit', { kind: 5302, text: 'nostr relays' }],
  ['search for posts about zaps', 'submit', { kind: 5302, text: 'zaps' }],
  ['find notes about sovereign voice', 'submit', { kind: 5302, text: 'sovereign voice' }],
  ['submit a job of kind 5001 with text the quick brown fox', 'submit', { kind: 5001, text: 'the quick brown fox' }],
  ['run job 5050 write me a haiku', 'submit', { kind: 5050, text: 'write me a haiku' }],
  ['say hello everyone', 'submit', { kind: 5250, text: 'hello everyone' }],
  // show agent
  ['show agent scribe', 'show-agent', { agent: 'scribe' }],
  ['open the agent called muse', 'show-agent', { agent: 'muse' }],
  ['show me agent tally', 'show-agent', { agent: 'tally' }],
  ['who is scout the agent', 'show-agent', { agent: 'scout' }],
  ['go to agent precis', 'show-agent', { agent: 'precis' }],
  // approve
  ['approve job 3f9a', 'approve', { job: '3f9a' }],
  ['approve job three f nine a', 'approve', { job: '3f9a' }],
  ['please approve the job number one two three four', 'approve', { job: '1234' }],
  ['approve the latest job', 'approve', { job: 'latest' }],
  ['approve job', 'approve', {}],
  ['approve the next one', 'approve', { job: 'latest' }],
  // help
  ['help', 'help', {}],
  ['what can you do', 'help', {}],
  ['What can I say?', 'help', {}],
  // unknown
  ['the weather is nice', 'unknown', {}],
  ['', 'unknown', {}],
];

describe('voice command rules', () => {
  it(`has a table of ${TABLE.length} utterances`, () => assert.ok(TABLE.length >= 30));
  for (const [utterance, want, slots] of TABLE) {
    it(`${JSON.stringify(utterance)} -> ${want} ${JSON.stringify(slots)}`, () => {
      const got = parseIntent(utterance);
      assert.equal(got.intent, want);
      assert.deepEqual(got.slots, slots);
      if (want === 'unknown') assert.equal(got.confidence, 0);
      else assert.ok(got.confidence > 0.3 && got.confidence <= 1, `confidence ${got.confidence}`);
    });
  }

  it('the router interface answers like the rules', async () => {
    const r = await ruleIntentRouter().detect('approve job ab12');
    assert.deepEqual([r.intent, r.slots, r.source], ['approve', { job: 'ab12' }, 'rules']);
  });

  it('reads job references: hex, spelled, latest; nonsense is none', () => {
    assert.equal(parseJobRef('abcdef01'), 'abcdef01');
    assert.equal(parseJobRef('the last one'), 'latest');
    assert.equal(parseJobRef('seven eight nine'), '789');
    assert.equal(parseJobRef('banana split'), undefined);
  });

  it("checks an LLM's JSON: unknown intents and badly typed slots are dropped", () => {
    assert.equal(checkIntent({ intent: 'launch-rockets' }), undefined);
    assert.equal(checkIntent('status'), undefined);
    assert.deepEqual(checkIntent({ intent: 'submit', slots: { kind: '5001', text: ' hi ', agent: 3 }, confidence: 0.7 }), { intent: 'submit', slots: { kind: 5001, text: 'hi' }, confidence: 0.7 });
    assert.deepEqual(checkIntent({ intent: 'approve', slots: { job: 'AB12' } })?.slots, { job: 'ab12' });
  });
});
