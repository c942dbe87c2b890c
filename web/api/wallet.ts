// Wallet API (admins): balances per account, escrows, ledger entries, and the books' audit.
// Times are unix seconds, as the ledger keeps them; amounts are integer msat.
import type { WebContext } from '../context.js';
import { HttpError, sendJson, type Router } from '../http.js';
import type { AppDeps, WalletStatus } from '../deps.js';
import type { AccountBalance, Audit, LedgerEntry } from '../../wallet/ledger.js';
import type { EscrowRecord, WalletInfo } from '../../wallet/wallet.js';
import { needApp } from './reputation.js';

export const ESCROWS_LIMIT = 100;
export const ENTRIES_DEFAULT = 100;
export const ENTRIES_MAX = 1000;

export interface WalletView {
  /** Configured and serving backend; `reason` when the instance fell back to the built-in wallet. */
  readonly backend: WalletStatus;
  readonly info: WalletInfo;
  readonly balances: readonly AccountBalance[];
  readonly escrows: readonly EscrowRecord[];
  readonly entries: readonly LedgerEntry[];
  readonly audit: Audit;
}

/** `?limit=`: a positive whole number, at most `max` (more is cut to `max`); 400 otherwise. */
export function limitParam(url: URL, dflt: number, max: number): number {
  const v = url.searchParams.get('limit');
  if (v === null || v === '') return dflt;
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1) throw new HttpError(400, `limit must be a whole number from 1 to ${max}`);
  return Math.min(max, Number(v));
}

/** The backend block: from the composition root, else the wallet's own backend as both configured and serving. */
export function walletStatus(app: AppDeps, info: WalletInfo): WalletStatus {
  const s = app.walletStatus;
  if (!s) return { configured: info.backend, serving: info.backend };
  return { configured: s.configured, serving: s.serving, ...(s.reason ? { reason: s.reason } : s.configured !== s.serving ? { reason: 'unknown' } : {}) };
}

/** Everything the wallet page and GET /api/wallet show (the caller checks that the user is an admin). */
export async function walletView(app: AppDeps, entriesLimit = ENTRIES_DEFAULT): Promise<WalletView> {
  const w = app.wallet;
  const info = await w.info();
  return {
    backend: walletStatus(app, info),
    info,
    balances: w.ledger.balances(),
    escrows: await w.escrows(ESCROWS_LIMIT),
    entries: w.ledger.recentEntries(entriesLimit),
    audit: w.ledger.audit(),
  };
}

export function registerWalletApi(r: Router, ctx: WebContext): void {
  r.get('/api/wallet', async (c) => {
    ctx.auth.requireAdmin(c.req);
    const app = needApp(ctx);
    const limit = limitParam(c.url, ENTRIES_DEFAULT, ENTRIES_MAX);
    sendJson(c.res, 200, await walletView(app, limit));
  });
}
