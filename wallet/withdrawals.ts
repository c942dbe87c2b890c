// Withdrawals that wait for approval: an agent's earnings, the treasury's sweep to cold storage, or
// an operator's payout leave the ledger only after someone approved them. States:
//   requested -> approved -> sent | failed        requested -> rejected
// Nothing moves on request. On approval a bolt11 is paid from the account through the wallet (`pay`
// posts its own balanced transaction); an on-chain address needs a backend that can (LND's
// sendToChain): the ledger posts `withdrawal:<id>:send` (account -> external) first and
// `withdrawal:<id>:revert` if the node refuses. Approve and reject are idempotent: only the call
// that moves the row out of `requested` sends.
import { EXTERNAL, assertMsat, assertSpendable, formatSats, type AccountId } from './accounts.js';
import { decodeBolt11 } from './bolt11.js';
import type { BuiltinWallet } from './builtin.js';
import { InsufficientFundsError, InvalidAmountError, WalletError } from './errors.js';

export type WithdrawalState = 'requested' | 'approved' | 'sent' | 'rejected' | 'failed';
export type WithdrawalKind = 'bolt11' | 'onchain';

export interface Withdrawal {
  readonly id: number;
  readonly account: AccountId;
  readonly amountMsat: number;
  readonly destination: string;
  readonly kind: WithdrawalKind;
  readonly reason: string;
  readonly requestedBy: string;
  readonly state: WithdrawalState;
  readonly decidedBy: string | null;
  /** Why it failed (or the note of a rejection). */
  readonly failure: string | null;
  /** The on-chain transaction id (on-chain withdrawals that were sent). */
  readonly txid: string | null;
  /** The paid invoice's hash (bolt11 withdrawals that were sent). */
  readonly paymentHash: string | null;
  readonly createdAt: number;
  readonly decidedAt: number | null;
  readonly finishedAt: number | null;
}

export interface WithdrawalRequest {
  readonly account: AccountId;
  readonly amountMsat: number;
  /** A bolt11 invoice or an on-chain address. */
  readonly destination: string;
  readonly reason?: string;
  /** Who asked (an agent's name, `operator`, `sweep`, a pubkey). */
  readonly requestedBy?: string;
}

/** A move the withdrawal's state forbids (approve after reject, reject after send). */
export class WithdrawalStateError extends WalletError {
  override name = 'WithdrawalStateError';
}

export class WithdrawalNotFoundError extends WalletError {
  override name = 'WithdrawalNotFoundError';
}

const COLS = `id, account, amount_msat AS amountMsat, destination, kind, reason, requested_by AS requestedBy, state,
  decided_by AS decidedBy, failure, txid, payment_hash AS paymentHash, created_at AS createdAt, decided_at AS decidedAt, finished_at AS finishedAt`;

/** Bech32 (bc1/tb1/bcrt1) or base58 (1, 3, m, n, 2) addresses, by shape only: the node checks the rest. */
const CHAIN_ADDRESS = /^(?:(?:bc|tb|bcrt)1[02-9ac-hj-np-z]{8,87}|[13mn2][1-9A-HJ-NP-Za-km-z]{25,39})$/i;

/** Tells a bolt11 invoice from an on-chain address; throws WalletError for anything else. */
export function destinationKind(destination: string): WithdrawalKind {
  const d = destination.trim();
  if (/^ln/i.test(d) && !CHAIN_ADDRESS.test(d)) {
    decodeBolt11(d); // throws on a bad invoice
    return 'bolt11';
  }
  if (CHAIN_ADDRESS.test(d)) return 'onchain';
  throw new WalletError(`not a bolt11 invoice or an on-chain address: ${JSON.stringify(destination.slice(0, 80))}`);
}

export class Withdrawals {
  constructor(private readonly w: BuiltinWallet) {}

  private get db() {
    return this.w.ledger.db;
  }

  get(id: number): Withdrawal | undefined {
    return this.db.prepare<[number], Withdrawal>(`SELECT ${COLS} FROM withdrawals WHERE id = ?`).get(id);
  }

  /** Newest first; optionally only those in `state`. */
  list(o: { state?: WithdrawalState; limit?: number } = {}): Withdrawal[] {
    const limit = Math.min(1000, Math.max(1, Math.floor(o.limit ?? 100) || 1));
    return o.state
      ? this.db.prepare<[string, number], Withdrawal>(`SELECT ${COLS} FROM withdrawals WHERE state = ? ORDER BY id DESC LIMIT ?`).all(o.state, limit)
      : this.db.prepare<[number], Withdrawal>(`SELECT ${COLS} FROM withdrawals ORDER BY id DESC LIMIT ?`).all(limit);
  }

  /** Records a request (nothing moves). Refuses a bad destination, an amount the account does not have, and amounts a bolt11 disagrees with. */
  request(r: WithdrawalRequest): Withdrawal {
    assertSpendable(r.account);
    assertMsat(r.amountMsat);
    const destination = r.destination.trim();
    const kind = destinationKind(destination);
    if (kind === 'bolt11') {
      const inv = decodeBolt11(destination);
      if (inv.amountMsat !== null && inv.amountMsat !== r.amountMsat) {
        throw new InvalidAmountError(`the invoice asks for ${formatSats(inv.amountMsat)} sat, not ${formatSats(r.amountMsat)}`);
      }
    } else if (r.amountMsat % 1000 !== 0) {
      throw new InvalidAmountError('an on-chain withdrawal is whole sats');
    }
    const ledger = this.w.ledger;
    return ledger.atomic(() => {
      const bal = ledger.balance(r.account);
      if (bal < r.amountMsat) throw new InsufficientFundsError(r.account, bal, r.amountMsat);
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO withdrawals (account, amount_msat, destination, kind, reason, requested_by, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'requested', ?)`,
          )
          .run(r.account, r.amountMsat, destination, kind, r.reason ?? '', r.requestedBy ?? '', ledger.clock.now()).lastInsertRowid,
      );
      return this.get(id)!;
    });
  }

  private must(id: number): Withdrawal {
    const row = this.get(id);
    if (!row) throw new WithdrawalNotFoundError(`no withdrawal ${id}`);
    return row;
  }

  /** Rejects a requested withdrawal; a second reject returns it. */
  reject(id: number, by: string, note = ''): Withdrawal {
    return this.w.ledger.atomic(() => {
      const row = this.must(id);
      if (row.state === 'rejected') return row;
      if (row.state !== 'requested') throw new WithdrawalStateError(`withdrawal ${id} is ${row.state}; only a requested one can be rejected`);
      this.db
        .prepare(`UPDATE withdrawals SET state = 'rejected', decided_by = ?, decided_at = ?, failure = ? WHERE id = ?`)
        .run(by, this.w.ledger.clock.now(), note || null, id);
      return this.must(id);
    });
  }

  /**
   * Approves and sends. Idempotent: approving one already approved, sent or failed returns it
   * without sending again; a rejected one throws WithdrawalStateError.
   */
  async approve(id: number, by: string): Promise<Withdrawal> {
    const ledger = this.w.ledger;
    const mine = ledger.atomic(() => {
      const row = this.must(id);
      if (row.state === 'rejected') throw new WithdrawalStateError(`withdrawal ${id} was rejected`);
      if (row.state !== 'requested') return false;
      this.db.prepare(`UPDATE withdrawals SET state = 'approved', decided_by = ?, decided_at = ? WHERE id = ?`).run(by, ledger.clock.now(), id);
      return true;
    });
    if (!mine) return this.must(id);
    const row = this.must(id);
    try {
      if (row.kind === 'bolt11') {
        const inv = decodeBolt11(row.destination);
        const paid = await this.w.pay({ bolt11: row.destination, fromAccount: row.account, ...(inv.amountMsat === null ? { amountMsat: row.amountMsat } : {}) });
        this.finish(id, 'sent', { paymentHash: paid.paymentHash });
      } else {
        await this.sendOnChain(row);
      }
    } catch (err) {
      this.finish(id, 'failed', { failure: `${(err as Error).name}: ${(err as Error).message}` });
    }
    return this.must(id);
  }

  private async sendOnChain(row: Withdrawal): Promise<void> {
    if (!this.w.capabilities.onChain) {
      const backend = (await this.w.info()).backend;
      throw new WalletError(`the ${backend === 'builtin' ? 'built-in' : backend} wallet cannot send on chain (on-chain withdrawals need the LND backend); nothing moved`);
    }
    const memo = `withdrawal #${row.id} to ${row.destination}${row.reason ? ': ' + row.reason : ''}`;
    const ledger = this.w.ledger;
    ledger.post({
      key: `withdrawal:${row.id}:send`,
      kind: 'transfer',
      memo,
      entries: [
        { account: row.account, amountMsat: -row.amountMsat },
        { account: EXTERNAL, amountMsat: row.amountMsat },
      ],
    });
    let txid: string;
    try {
      txid = await this.w.sendToChain(row.destination, row.amountMsat / 1000, `timmy withdrawal #${row.id}`);
    } catch (err) {
      ledger.post({
        key: `withdrawal:${row.id}:revert`,
        kind: 'transfer',
        memo: `revert ${memo}: ${(err as Error).message}`,
        entries: [
          { account: EXTERNAL, amountMsat: -row.amountMsat },
          { account: row.account, amountMsat: row.amountMsat },
        ],
      });
      throw err;
    }
    this.finish(row.id, 'sent', { txid });
  }

  private finish(id: number, state: 'sent' | 'failed', o: { failure?: string; txid?: string; paymentHash?: string }): void {
    this.db
      .prepare(`UPDATE withdrawals SET state = ?, failure = ?, txid = ?, payment_hash = ?, finished_at = ? WHERE id = ? AND state = 'approved'`)
      .run(state, o.failure ?? null, o.txid ?? null, o.paymentHash ?? null, this.w.ledger.clock.now(), id);
  }
}
