// The instance treasury (docs/wallet.md, "Treasury"): what each agent earned, the treasury's cut
// of released jobs (wallet.treasury.feePct, taken in the release's own ledger transaction: see
// wallet/payment-port.ts), the cold-storage sweep (a withdrawal request, never a send without
// approval) and the audit that proves the books balance and, on LND, are covered by the node.
import { EXTERNAL, TREASURY, type AccountId } from './accounts.js';
import type { BuiltinWallet } from './builtin.js';
import { treasuryConfigSchema, type TreasuryConfig } from './config.js';
import { WalletConfigError } from './errors.js';
import type { Audit } from './ledger.js';
import { Withdrawals, type Withdrawal } from './withdrawals.js';

export interface AgentEarnings {
  readonly account: AccountId;
  readonly balanceMsat: number;
  /** Everything released to the agent from jobs (after the treasury's cut). */
  readonly earnedMsat: number;
  readonly jobsPaid: number;
}

export interface SweepPlan {
  readonly address: string;
  readonly balanceMsat: number;
  readonly thresholdMsat: number;
  readonly keepMsat: number;
  /** What would move: the balance above `keep`, in whole sats; 0 when the balance is not above the threshold. */
  readonly amountMsat: number;
  /** An open (requested or approved) sweep to the same address, if any: no second one is made. */
  readonly pending: Withdrawal | null;
}

export interface BackendCheck {
  /** The node's channel balance (local side). */
  readonly channelLocalMsat: number;
  readonly chainMsat: number;
  /** What the ledger owes its accounts: everything that came in from `external` and is still inside. */
  readonly ledgerOwedMsat: number;
  /** Node holdings (channels + chain) minus what the ledger owes; negative = not covered. */
  readonly surplusMsat: number;
}

export interface TreasuryAudit {
  readonly ledger: Audit;
  readonly backend: 'builtin' | 'lnd' | 'nwc';
  /** LND only: the node's balances against the ledger. */
  readonly node: BackendCheck | null;
  /** Balanced, no drift, and (LND) the node covers what the ledger owes. */
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/** What LND reports (LndWallet.nodeBalances); structural, so this module does not import the LND backend. */
interface NodeBalances {
  nodeBalances(): Promise<{ channelLocalMsat: number; channelRemoteMsat: number; chainSat: number }>;
}

export class Treasury {
  readonly withdrawals: Withdrawals;
  readonly config: TreasuryConfig;

  constructor(
    readonly wallet: BuiltinWallet,
    config: Partial<TreasuryConfig> = {},
  ) {
    this.config = treasuryConfigSchema.parse(config);
    this.withdrawals = new Withdrawals(wallet);
  }

  /** Every agent account: balance, what jobs released to it, and how many jobs paid it. */
  earnings(): AgentEarnings[] {
    return this.wallet.ledger.db
      .prepare<[], AgentEarnings>(
        `SELECT a.id AS account, a.balance_msat AS balanceMsat, COALESCE(r.earned, 0) AS earnedMsat, COALESCE(r.jobs, 0) AS jobsPaid
         FROM accounts a LEFT JOIN (
           SELECT e.account, SUM(e.amount_msat) AS earned, COUNT(DISTINCT e.tx_id) AS jobs
           FROM entries e JOIN transactions t ON t.id = e.tx_id
           WHERE t.kind = 'escrow_release' AND e.amount_msat > 0 AND e.account LIKE 'agent:%' GROUP BY e.account
         ) r ON r.account = a.id
         WHERE a.kind = 'agent' ORDER BY earnedMsat DESC, a.id`,
      )
      .all();
  }

  /** The treasury's balance and what it took from released jobs. */
  summary(): { balanceMsat: number; takenMsat: number; jobs: number } {
    const r = this.wallet.ledger.db
      .prepare<[string], { taken: number | null; jobs: number }>(
        `SELECT SUM(e.amount_msat) AS taken, COUNT(*) AS jobs FROM entries e JOIN transactions t ON t.id = e.tx_id
         WHERE t.kind = 'escrow_release' AND e.account = ? AND e.amount_msat > 0`,
      )
      .get(TREASURY);
    return { balanceMsat: this.wallet.ledger.balance(TREASURY), takenMsat: r?.taken ?? 0, jobs: r?.jobs ?? 0 };
  }

  /** What a sweep would move now (nothing is written). */
  sweepPlan(): SweepPlan {
    const { address, thresholdSats, keepSats } = this.config.sweep;
    if (!address) throw new WalletConfigError('wallet.treasury.sweep.address is not set: there is nowhere to sweep to');
    const balanceMsat = this.wallet.ledger.balance(TREASURY);
    const thresholdMsat = thresholdSats * 1000;
    const keepMsat = keepSats * 1000;
    const above = balanceMsat > thresholdMsat ? balanceMsat - keepMsat : 0;
    const amountMsat = Math.max(0, Math.floor(above / 1000) * 1000);
    const pending =
      this.withdrawals.list({ limit: 1000 }).find((w) => w.account === TREASURY && w.destination === address && (w.state === 'requested' || w.state === 'approved')) ?? null;
    return { address, balanceMsat, thresholdMsat, keepMsat, amountMsat, pending };
  }

  /** Plans the sweep and, unless `dryRun`, files it as a withdrawal request (approval sends it). */
  sweep(o: { dryRun?: boolean } = {}): { plan: SweepPlan; request: Withdrawal | null } {
    const plan = this.sweepPlan();
    if (o.dryRun || plan.amountMsat === 0 || plan.pending) return { plan, request: plan.pending };
    const request = this.withdrawals.request({
      account: TREASURY,
      amountMsat: plan.amountMsat,
      destination: plan.address,
      reason: `cold-storage sweep: treasury above ${plan.thresholdMsat / 1000} sat, keeping ${plan.keepMsat / 1000} sat`,
      requestedBy: 'sweep',
    });
    return { plan, request };
  }

  /** The ledger's own audit, plus for LND the node's balances against what the ledger owes. */
  async audit(): Promise<TreasuryAudit> {
    const ledger = this.wallet.ledger.audit();
    const problems: string[] = [];
    if (ledger.totalMsat !== 0) problems.push(`entries sum to ${ledger.totalMsat} msat, not 0`);
    if (ledger.unbalancedTxIds.length) problems.push(`unbalanced transactions: ${ledger.unbalancedTxIds.join(', ')}`);
    if (ledger.driftedAccounts.length) problems.push(`balances differ from their entries: ${ledger.driftedAccounts.join(', ')}`);
    const backend = (await this.wallet.info()).backend;
    let node: BackendCheck | null = null;
    const withNode = this.wallet as unknown as Partial<NodeBalances>;
    if (backend === 'lnd' && typeof withNode.nodeBalances === 'function') {
      const b = await withNode.nodeBalances();
      const ledgerOwedMsat = -this.wallet.ledger.balance(EXTERNAL);
      const chainMsat = b.chainSat * 1000;
      const surplusMsat = b.channelLocalMsat + chainMsat - ledgerOwedMsat;
      node = { channelLocalMsat: b.channelLocalMsat, chainMsat, ledgerOwedMsat, surplusMsat };
      if (surplusMsat < 0) problems.push(`the node holds ${-surplusMsat} msat less than the ledger owes its accounts`);
    }
    return { ledger, backend, node, ok: problems.length === 0, problems };
  }
}
