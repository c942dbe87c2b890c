// POST /api/voice/command: what the dashboard's microphone button does with a transcript. The NLU
// (voice/nlu.ts) names the intent; this module performs it with the same rules as the rest of the
// dashboard and answers with a sentence to speak and, when the browser must act, an action:
// - status: a one-sentence summary (agents online, jobs by state; one job's state when named);
// - submit: an unsigned NIP-90 request the browser's NIP-07 signer signs and posts to /api/jobs,
//   exactly like the submit page (the server never signs for a user);
// - show-agent: a link to the agent's page;
// - approve: admins only, a job awaiting approval (the approvals page's checks), by id prefix or "latest";
// - help: what can be said.
import { npubEncode } from '../../nostr/nip19.js';
import type { JobRow } from '../../dvm/jobs/store.js';
import { parseIntent, ruleIntentRouter, type Intent, type IntentRouter } from '../../voice/nlu.js';
import type { User } from '../auth.js';
import type { WebContext } from '../context.js';
import type { AppDeps } from '../deps.js';
import { HttpError, sendJson, type Router } from '../http.js';
import { kindName } from '../pages/common.js';
import { needApp } from './reputation.js';

export type VoiceAction =
  | { readonly type: 'navigate'; readonly href: string }
  | { readonly type: 'sign-and-submit'; readonly template: { kind: number; content: string; tags: string[][] } };

export interface VoiceAnswer {
  readonly intent: Intent;
  /** The sentence the dashboard shows and speaks. */
  readonly say: string;
  readonly action?: VoiceAction;
}

export const HELP_TEXT =
  'You can say: what is the status; summarize this, then your text; translate, your text, to French; generate text about a topic; search notes for a topic; show agent, then a name; approve job, then its first characters, or approve the latest job.';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function statusText(app: AppDeps): string {
  const agents = app.swarm.agents;
  const alive = agents.filter((a) => a.alive()).length;
  const busy = agents.reduce((n, a) => n + a.active, 0);
  const counts = Object.entries(app.jobs.countByState()).filter(([, n]) => (n ?? 0) > 0);
  const jobs = counts.length ? counts.map(([s, n]) => `${n} ${s}`).join(', ') : 'none yet';
  return `${alive} of ${plural(agents.length, 'agent')} online, ${busy} working. Jobs: ${jobs}.`;
}

/** A job by id prefix among `rows`, or the newest of them for "latest"; undefined when none or ambiguous. */
function pickJob(rows: readonly JobRow[], ref: string): JobRow | undefined {
  if (ref === 'latest') return [...rows].sort((a, b) => b.createdAt - a.createdAt)[0];
  const found = rows.filter((j) => j.id.startsWith(ref));
  return found.length === 1 ? found[0] : undefined;
}

/** Edit distance, for agent names the recognizer got nearly right ("scribes" for scribe). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

export function performIntent(app: AppDeps, user: User | undefined, intent: Intent): VoiceAnswer {
  const s = intent.slots;
  switch (intent.intent) {
    case 'help':
      return { intent, say: HELP_TEXT };
    case 'status': {
      if (s.job && user) {
        const mine = user.admin ? app.jobs.list(500) : app.jobs.listByCustomer(user.pubkey, 500);
        const job = pickJob(mine, s.job);
        if (job) return { intent, say: `Job ${job.id.slice(0, 8)}, ${kindName(job.kind)}, is ${job.state}.`, action: { type: 'navigate', href: `/jobs/${job.id}` } };
        return { intent, say: `I found no single job of yours starting with ${s.job}. ${statusText(app)}` };
      }
      return { intent, say: statusText(app) };
    }
    case 'show-agent': {
      const agents = app.swarm.agents;
      if (!s.agent) return { intent, say: `Which agent? They are ${agents.map((a) => a.name).join(', ')}.` };
      const name = s.agent.toLowerCase();
      const scored = agents.map((a) => ({ a, d: a.name === name ? 0 : a.name.startsWith(name) || name.startsWith(a.name) ? 1 : distance(a.name, name) })).sort((x, y) => x.d - y.d);
      const best = scored[0];
      if (!best || best.d > 2) return { intent, say: `There is no agent called ${s.agent}. They are ${agents.map((a) => a.name).join(', ')}.` };
      return { intent, say: `Opening ${best.a.name}.`, action: { type: 'navigate', href: `/agents/${best.a.name}` } };
    }
    case 'submit': {
      if (!user) return { intent, say: 'Sign in first: your signer signs the job request.' };
      const kind = s.kind;
      if (kind === undefined) return { intent, say: 'Which kind of job? Say summarize, translate, generate text or search notes, then the text.' };
      if (!app.dvm.kinds().includes(kind)) return { intent, say: `No agent here does ${kindName(kind)} (kind ${kind}).` };
      if (!s.text) return { intent, say: `What should the ${kindName(kind)} job work on? Say it after the command.` };
      const tags = [['i', s.text, 'text'], ...(s.language ? [['param', 'language', s.language]] : [])];
      return { intent, say: `Submitting a ${kindName(kind)} job. Please confirm in your signer.`, action: { type: 'sign-and-submit', template: { kind, content: '', tags } } };
    }
    case 'approve': {
      if (!user?.admin) return { intent, say: 'Only an admin can approve jobs.' };
      const waiting = app.jobs.unfinished().filter((j) => j.state === 'awaiting-approval');
      if (waiting.length === 0) return { intent, say: 'No job is waiting for approval.' };
      if (!s.job) return { intent, say: `Which job? ${plural(waiting.length, 'job is', 'jobs are')} waiting: say approve the latest job, or approve job and its first characters.`, action: { type: 'navigate', href: '/approvals' } };
      const job = pickJob(waiting, s.job);
      if (!job) return { intent, say: `No single waiting job starts with ${s.job}.`, action: { type: 'navigate', href: '/approvals' } };
      app.dvm.approve(job.id, `${npubEncode(user.pubkey)} by voice on the dashboard`);
      return { intent, say: `Approved job ${job.id.slice(0, 8)}, ${kindName(job.kind)}. It is ${app.jobs.get(job.id)?.state ?? 'moving on'}.` };
    }
    case 'unknown':
      return { intent, say: 'Sorry, I did not understand that. Say help to hear what you can say.' };
  }
}

export function registerVoiceApi(r: Router, ctx: WebContext): void {
  const rules = ruleIntentRouter();
  r.post('/api/voice/command', async (c) => {
    const app = needApp(ctx);
    const router: IntentRouter = app.intents ?? rules;
    // A signed-in user, with the same-origin check of every cookie write: a command can approve a job.
    const user = ctx.auth.require(c.req, await c.body());
    const body = await c.json<{ text?: unknown }>();
    if (typeof body?.text !== 'string') throw new HttpError(400, 'the body must be {"text": "<what was said>"}');
    const text = body.text.trim().slice(0, 2000);
    const intent = text ? await router.detect(text).catch(() => parseIntent(text)) : parseIntent('');
    const answer = performIntent(app, user, intent);
    sendJson(c.res, 200, { transcript: text, ...answer });
  });
}
