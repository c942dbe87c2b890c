// Paid endpoints over L402 (web/l402.ts; docs/web.md, "L402"). POST /api/paid/jobs takes a signed
// NIP-90 job request from anyone, without an account: the first call answers 402 with a macaroon
// and an invoice (web.l402.priceMsat, credited to the signer's `user:<pubkey>` account); the retry
// with `Authorization: L402 <macaroon>:<preimage>` publishes the request and pays the job's
// invoice from that account. A token is good once, for this request only, until it expires.
import { userAccount } from '../../wallet/accounts.js';
import type { WebContext } from '../context.js';
import type { AppDeps } from '../deps.js';
import { jobRequestEvent } from './events.js';
import { HttpError, sendJson, type Router } from '../http.js';
import { L402, L402Error } from '../l402.js';
import { needApp } from './reputation.js';

export const PAID_JOBS = 'POST /api/paid/jobs';

/** Redemptions live in the wallet database (its meta table), so a token stays used across restarts. */
function l402For(ctx: WebContext, app: AppDeps): L402 {
  const rootKey = ctx.deps.l402RootKey;
  if (!rootKey) throw new HttpError(503, 'paid endpoints are not configured here');
  const ledger = app.wallet.ledger;
  return new L402({
    rootKey,
    now: () => ledger.clock.now(),
    redeem: (hash) =>
      ledger.atomic(() => {
        const key = `l402_redeemed:${hash}`;
        if (ledger.getMeta(key) !== undefined) return false;
        ledger.setMeta(key, String(ledger.clock.now()));
        return true;
      }),
  });
}

const jobRequest = jobRequestEvent;

export function registerPaidApi(r: Router, ctx: WebContext): void {
  r.post('/api/paid/jobs', async (c) => {
    const app = needApp(ctx);
    const e = jobRequest(app, await c.body());
    const l402 = l402For(ctx, app);
    const cfg = ctx.deps.config.l402;
    const auth = c.req.headers.authorization;
    if (auth === undefined || auth === '') {
      const inv = await app.wallet.createInvoice({
        amountMsat: cfg.priceMsat,
        account: userAccount(e.pubkey),
        description: `L402: job request ${e.id}`,
        expirySeconds: cfg.expirySeconds,
      });
      const ch = l402.mint({ bolt11: inv.bolt11, paymentHash: inv.paymentHash }, PAID_JOBS, inv.expiresAt, e.id);
      sendJson(c.res, 402, { error: 'payment required', macaroon: ch.macaroon, invoice: ch.invoice, amountMsat: cfg.priceMsat }, { 'www-authenticate': ch.header });
      return;
    }
    try {
      l402.check(auth, PAID_JOBS, e.id);
    } catch (err) {
      if (err instanceof L402Error) throw new HttpError(401, err.message);
      throw err;
    }
    const p = await app.publish(e);
    if (!p.ok && !p.message.startsWith('duplicate:')) throw new HttpError(p.message.includes('rate-limited:') ? 429 : 400, p.message);
    // The DVM hears the request through the relay: once it asks for payment, pay from the credit.
    let paid = false;
    for (let i = 0; i < 60; i++) {
      const job = app.jobs.get(e.id);
      if (job && job.state !== 'received') {
        if (job.state === 'awaiting-payment' && job.invoice) {
          paid = await app.wallet
            .pay({ bolt11: job.invoice, fromAccount: userAccount(e.pubkey) })
            .then(() => true)
            .catch(() => false);
        }
        break;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    sendJson(c.res, 202, { id: e.id, state: app.jobs.get(e.id)?.state ?? 'received', paid, account: userAccount(e.pubkey) });
  });
}
