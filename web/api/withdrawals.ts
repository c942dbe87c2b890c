// Withdrawal approvals (admins): the queue of payouts that wait for approval (docs/wallet.md,
// "Treasury"). GET lists them; approve sends (idempotent), reject closes a requested one.
// 401/403 from auth, 400 for a bad id or body, 404 for an unknown id, 409 for a forbidden move.
import type { WebContext } from '../context.js';
import { HttpError, sendJson, type Router } from '../http.js';
import { Withdrawals, WithdrawalNotFoundError, WithdrawalStateError, type WithdrawalState } from '../../wallet/withdrawals.js';
import { npubEncode } from '../../nostr/nip19.js';
import { needApp } from './reputation.js';
import { limitParam } from './wallet.js';

const STATES: readonly string[] = ['requested', 'approved', 'sent', 'rejected', 'failed'];

function withdrawalId(v: string | undefined): number {
  if (v === undefined || !/^\d{1,12}$/.test(v)) throw new HttpError(400, 'a withdrawal id is a positive whole number');
  return Number(v);
}

function reasonOf(text: string): string {
  if (text.trim() === '') return '';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `invalid JSON: ${(err as Error).message}`);
  }
  const reason = (body as { reason?: unknown } | null)?.reason;
  if (reason !== undefined && typeof reason !== 'string') throw new HttpError(400, 'reason must be a string');
  return reason ?? '';
}

function httpError(err: unknown): never {
  if (err instanceof HttpError) throw err;
  if (err instanceof WithdrawalNotFoundError) throw new HttpError(404, err.message);
  if (err instanceof WithdrawalStateError) throw new HttpError(409, err.message);
  throw new HttpError(400, (err as Error).message);
}

export function registerWithdrawalsApi(r: Router, ctx: WebContext): void {
  r.get('/api/withdrawals', (c) => {
    ctx.auth.requireAdmin(c.req);
    const app = needApp(ctx);
    const state = c.url.searchParams.get('state');
    if (state !== null && !STATES.includes(state)) throw new HttpError(400, `state must be one of ${STATES.join(', ')}`);
    const limit = limitParam(c.url, 100, 1000);
    sendJson(c.res, 200, { withdrawals: new Withdrawals(app.wallet).list({ limit, ...(state ? { state: state as WithdrawalState } : {}) }) });
  });

  r.post('/api/withdrawals/:id/approve', async (c) => {
    const text = await c.body();
    const user = ctx.auth.requireAdmin(c.req, text);
    const app = needApp(ctx);
    const id = withdrawalId(c.params.id);
    reasonOf(text);
    const w = await new Withdrawals(app.wallet).approve(id, `${npubEncode(user.pubkey)} on the dashboard`).catch(httpError);
    sendJson(c.res, 200, { withdrawal: w });
  });

  r.post('/api/withdrawals/:id/reject', async (c) => {
    const text = await c.body();
    const user = ctx.auth.requireAdmin(c.req, text);
    const app = needApp(ctx);
    const id = withdrawalId(c.params.id);
    const reason = reasonOf(text);
    let w;
    try {
      w = new Withdrawals(app.wallet).reject(id, `${npubEncode(user.pubkey)} on the dashboard`, reason);
    } catch (err) {
      httpError(err);
    }
    sendJson(c.res, 200, { withdrawal: w });
  });
}
