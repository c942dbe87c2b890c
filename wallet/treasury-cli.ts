// `timmy wallet earnings|withdraw|sweep|audit`: the treasury's commands (docs/wallet.md,
// "Treasury"). Each returns the lines to print; a failed audit throws WalletAuditError (exit 1).
import { formatSats, parseSats } from './accounts.js';
import type { BuiltinWallet } from './builtin.js';
import type { TreasuryConfig } from './config.js';
import { WalletError } from './errors.js';
import { Treasury, type TreasuryAudit } from './treasury.js';
import type { Withdrawal, WithdrawalState } from './withdrawals.js';

/** The audit found the books unbalanced or not covered by the backend; the message holds the report. */
export class WalletAuditError extends WalletError {
  override name = 'WalletAuditError';
}

export const TREASURY_HELP = `  earnings                                 per agent: balance, total earned from jobs, jobs paid; and the treasury
  withdraw request <account> <sats> <bolt11|address> [--reason <text>]
                                           ask to pay out (nothing moves until approved)
  withdraw list [--state <state>]          withdrawals, newest first (requested|approved|sent|rejected|failed)
  withdraw approve <id>                    approve and send (idempotent)
  withdraw reject <id> [--reason <text>]   reject a requested withdrawal
  sweep [--dry-run]                        treasury above wallet.treasury.sweep.thresholdSats: request a sweep to cold storage
  audit                                    prove the ledger balances (and, on LND, is covered by the node); exit 1 if not`;

const sat = (msat: number) => `${formatSats(msat)} sat`;

export function withdrawalLine(w: Withdrawal): string {
  const extra = w.txid ? ` txid ${w.txid}` : w.paymentHash ? ` payment ${w.paymentHash}` : '';
  const why = w.failure ? ` (${w.failure})` : '';
  const dest = w.destination.length > 48 ? `${w.destination.slice(0, 45)}...` : w.destination;
  return `#${w.id}  ${w.state.padEnd(9)}  ${w.account}  ${sat(w.amountMsat)} -> ${w.kind} ${dest}${w.reason ? `  "${w.reason}"` : ''}${extra}${why}`;
}

export function auditLines(a: TreasuryAudit): string[] {
  const lines = [
    `backend ${a.backend}`,
    `ledger: ${a.ledger.transactions} transactions, entries sum to ${a.ledger.totalMsat} msat, ${a.ledger.unbalancedTxIds.length} unbalanced, ${a.ledger.driftedAccounts.length} drifted`,
  ];
  if (a.node) {
    lines.push(
      `node: channels ${sat(a.node.channelLocalMsat)}, on chain ${sat(a.node.chainMsat)}; the ledger owes its accounts ${sat(a.node.ledgerOwedMsat)}; surplus ${sat(a.node.surplusMsat)}`,
    );
  }
  lines.push(...a.problems.map((p) => `problem: ${p}`), a.ok ? 'audit ok' : 'audit FAILED');
  return lines;
}

const STATES: readonly WithdrawalState[] = ['requested', 'approved', 'sent', 'rejected', 'failed'];

function id(v: string | undefined): number {
  if (v === undefined || !/^\d{1,12}$/.test(v)) throw new WalletError(`a withdrawal id is a number, got ${JSON.stringify(v ?? '')}`);
  return Number(v);
}

export interface TreasuryArgs {
  readonly rest: readonly string[];
  readonly reason?: string;
  readonly state?: string;
  readonly dryRun?: boolean;
}

/** Runs one treasury command; `usage` builds the caller's usage error. */
export async function runTreasuryCommand(
  w: BuiltinWallet,
  cfg: Partial<TreasuryConfig>,
  cmd: string,
  a: TreasuryArgs,
  usage: (m: string) => Error,
): Promise<string[]> {
  const t = new Treasury(w, cfg);
  switch (cmd) {
    case 'earnings': {
      const rows = t.earnings();
      const s = t.summary();
      const width = Math.max(8, ...rows.map((r) => r.account.length));
      return [
        `${'account'.padEnd(width)}  ${'balance'.padStart(14)}  ${'earned'.padStart(14)}  jobs`,
        ...rows.map((r) => `${r.account.padEnd(width)}  ${sat(r.balanceMsat).padStart(14)}  ${sat(r.earnedMsat).padStart(14)}  ${r.jobsPaid}`),
        `treasury: balance ${sat(s.balanceMsat)}, taken from ${s.jobs} jobs ${sat(s.takenMsat)} (wallet.treasury.feePct ${t.config.feePct}%)`,
      ];
    }
    case 'withdraw': {
      const [sub, ...args] = a.rest;
      if (sub === 'request') {
        const [account, sats, destination] = args;
        if (!account || !sats || !destination) throw usage('withdraw request needs <account> <sats> <bolt11|address>');
        const r = t.withdrawals.request({ account, amountMsat: parseSats(sats), destination, reason: a.reason ?? '', requestedBy: 'operator' });
        return [`requested ${withdrawalLine(r)}`, `approve with: timmy wallet withdraw approve ${r.id}`];
      }
      if (sub === 'list') {
        if (a.state !== undefined && !STATES.includes(a.state as WithdrawalState)) throw usage(`--state must be one of ${STATES.join(', ')}`);
        const rows = t.withdrawals.list(a.state ? { state: a.state as WithdrawalState } : {});
        return rows.length ? rows.map(withdrawalLine) : ['no withdrawals'];
      }
      if (sub === 'approve') return [withdrawalLine(await t.withdrawals.approve(id(args[0]), 'operator'))];
      if (sub === 'reject') return [withdrawalLine(t.withdrawals.reject(id(args[0]), 'operator', a.reason ?? ''))];
      throw usage(`withdraw needs request, list, approve or reject`);
    }
    case 'sweep': {
      const { plan, request } = t.sweep({ dryRun: a.dryRun ?? false });
      const head = `treasury ${sat(plan.balanceMsat)}, threshold ${sat(plan.thresholdMsat)}, keep ${sat(plan.keepMsat)} -> ${plan.address}`;
      if (plan.pending) return [head, `a sweep is already waiting: ${withdrawalLine(plan.pending)}`];
      if (plan.amountMsat === 0) return [head, 'nothing to sweep (not above the threshold)'];
      if (a.dryRun) return [head, `would request a sweep of ${sat(plan.amountMsat)} (dry run: nothing written)`];
      return [head, `requested ${withdrawalLine(request!)}`, `approve with: timmy wallet withdraw approve ${request!.id}`];
    }
    case 'audit': {
      const report = await t.audit();
      const lines = auditLines(report);
      if (!report.ok) throw new WalletAuditError(lines.join('\n'));
      return lines;
    }
    default:
      throw usage(`unknown treasury command ${cmd}`);
  }
}
