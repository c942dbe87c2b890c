// The JSON API. Reads are open where the data is public on the relay anyway (agents, scores);
// jobs are their customer's (and the admins'); every write needs a user (401 otherwise) and
// answers bad input with 400 and a JSON error.
import type { WebContext } from '../context.js';
import { HttpError, sendJson, type Router } from '../http.js';
import { registerJobsApi } from './jobs.js';
import { registerReputationApi } from './reputation.js';
import { registerWalletApi } from './wallet.js';
import { registerWithdrawalsApi } from './withdrawals.js';
import { registerPaidApi } from './paid.js';
import { registerRelayApi } from './relay.js';
import { registerSwarmApi } from '../pages/swarm.js';
import { registerVoiceApi } from './voice.js';
import { registerMemoryApi } from './memory.js';
import { registerPeersApi } from './peers.js';

export function registerApi(r: Router, ctx: WebContext): void {
  const { auth, live, deps } = ctx;
  r.post('/api/login', async (c) => {
    const body = await c.body();
    const u = auth.login(c.req, c.res, body);
    sendJson(c.res, 200, { pubkey: u.pubkey, admin: u.admin });
  });
  r.post('/api/logout', (c) => {
    auth.require(c.req);
    auth.logout(c.req, c.res);
    sendJson(c.res, 200, { ok: true });
  });
  r.get('/api/me', (c) => {
    const u = auth.user(c.req);
    if (!u) throw new HttpError(401, 'not signed in');
    sendJson(c.res, 200, { pubkey: u.pubkey, admin: u.admin, via: u.via, account: `customer:${u.pubkey}` });
  });
  r.get('/api/live', (c) => {
    let user;
    try {
      user = auth.user(c.req);
    } catch {
      user = undefined; // a bad header on an EventSource (which cannot send one) is just anonymous
    }
    live.open(c.req, c.res, user);
  });
  r.get('/api/overview', async (c) => {
    const app = deps.app;
    const relay = deps.relayStats ? await deps.relayStats() : undefined;
    sendJson(c.res, 200, {
      relay: relay ?? null,
      agents: app ? app.swarm.agents.map((a) => ({ name: a.name, pubkey: a.pubkey, alive: a.alive(), active: a.active })) : [],
      jobs: app ? app.jobs.countByState() : {},
      wallet: app ? { fees: await app.wallet.balance('fees'), escrowMsat: escrowHeld(await app.wallet.ledger.balances()) } : null,
      live: live.size,
    });
  });
  registerReputationApi(r, ctx);
  registerJobsApi(r, ctx);
  registerWalletApi(r, ctx);
  registerWithdrawalsApi(r, ctx);
  registerPaidApi(r, ctx);
  registerRelayApi(r, ctx);
  registerSwarmApi(r, ctx);
  registerVoiceApi(r, ctx);
  registerMemoryApi(r, ctx);
  registerPeersApi(r, ctx);
}

export const escrowHeld = (balances: readonly { account: string; balanceMsat: number }[]): number =>
  balances.filter((b) => b.account.startsWith('escrow:')).reduce((s, b) => s + b.balanceMsat, 0);
