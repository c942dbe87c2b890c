// POST /api/voice/command over HTTP on a real instance: what the dashboard's voice button does with
// a transcript. Signed-in users only; status summarizes; submit hands back an unsigned request for
// the browser's signer; show-agent finds a nearly-right name; approve needs an admin and a job
// awaiting approval, by id prefix or "latest". No speech engine is needed: the input is text.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { finalizeEvent } from '../nostr/verify.js';
import { authorizationHeader, httpAuthTemplate } from '../nostr/nip98.js';
import { Keys, startTestInstance, untilState, type TestInstance } from './support/dvm.js';

interface Answer {
  transcript: string;
  intent: { intent: string; slots: Record<string, unknown> };
  say: string;
  action?: { type: string; href?: string; template?: { kind: number; content: string; tags: string[][] } };
}

describe('voice commands API', () => {
  let t: TestInstance;
  let url: string;
  const admin = new Keys();
  const alice = new Keys();

  before(async () => {
    t = await startTestInstance({ web: { admins: [admin.pk] }, dvm: { approvalKinds: [5300] }, voice: { enabled: false } });
    url = /dashboard on (\S+)/.exec(t.inst.listeners.join('\n'))![1]!;
  });
  after(async () => t?.close());

  let n = 0;
  const post = (path: string, body: string, as?: Keys) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (as) headers.authorization = authorizationHeader(finalizeEvent(httpAuthTemplate({ url: url + path, method: 'POST', created_at: Math.floor(Date.now() / 1000) - (n++ % 40), body }), as.sk));
    return fetch(url + path, { method: 'POST', headers, body });
  };
  const say = async (text: string, as: Keys = alice): Promise<Answer> => {
    const r = await post('/api/voice/command', JSON.stringify({ text }), as);
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as Answer;
  };

  it('refuses anonymous commands and bad bodies', async () => {
    assert.equal((await post('/api/voice/command', JSON.stringify({ text: 'status' }))).status, 401);
    assert.equal((await post('/api/voice/command', JSON.stringify({ words: 'status' }), alice)).status, 400);
  });

  it('status and help answer with a sentence', async () => {
    const s = await say('what is the status');
    assert.equal(s.intent.intent, 'status');
    assert.match(s.say, /^\d+ of 5 agents online, \d+ working\. Jobs: /);
    const h = await say('what can I say');
    assert.equal(h.intent.intent, 'help');
    assert.match(h.say, /summarize/);
    const u = await say('the weather is nice');
    assert.equal(u.intent.intent, 'unknown');
    assert.match(u.say, /did not understand/);
  });

  it('show agent finds a nearly-right name and links to its page', async () => {
    const a = await say('show agent scribes');
    assert.deepEqual(a.action, { type: 'navigate', href: '/agents/scribe' });
    const none = await say('show agent zebra');
    assert.equal(none.action, undefined);
    assert.match(none.say, /no agent called zebra/);
  });

  it('submit hands back an unsigned request for the browser signer; kinds nobody serves are refused', async () => {
    const a = await say('summarize this: the relay stores events and the agents bid for jobs');
    assert.equal(a.action?.type, 'sign-and-submit');
    assert.deepEqual(a.action?.template, { kind: 5001, content: '', tags: [['i', 'the relay stores events and the agents bid for jobs', 'text']] });
    // Without a voice engine (voice.enabled false) nobody speaks, and nobody translates here.
    const tr = await say('translate good morning to french');
    assert.equal(tr.action, undefined);
    assert.match(tr.say, /No agent here does/);
  });

  it('approve: admins only, a job awaiting approval, by prefix or latest', async () => {
    const req = finalizeEvent({ kind: 5300, created_at: Math.floor(Date.now() / 1000), content: '', tags: [['i', 'nostr', 'text']] }, alice.sk);
    const r = await post('/api/jobs', JSON.stringify(req), alice);
    assert.equal(r.status, 202, await r.clone().text());
    await untilState(t.jobs, req.id, 'awaiting-approval');

    assert.match((await say('approve the latest job', alice)).say, /Only an admin/);
    assert.equal(t.jobs.get(req.id)?.state, 'awaiting-approval');
    assert.match((await say('approve job ffff0000', admin)).say, /No single waiting job/);
    const ok = await say(`approve job ${req.id.slice(0, 6).split('').join(' ')}`, admin);
    assert.equal(ok.intent.intent, 'approve');
    assert.match(ok.say, new RegExp(`Approved job ${req.id.slice(0, 8)}`));
    assert.notEqual(t.jobs.get(req.id)?.state, 'awaiting-approval');
    assert.match((await say('approve the latest job', admin)).say, /No job is waiting/);
  });
});
