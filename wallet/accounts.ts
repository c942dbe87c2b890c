// Ledger account ids. System accounts have fixed names; the others are `<kind>:<name>`.
//   external        the world outside the ledger: funding and (later) Lightning payments in and out.
//                   The only account that may go negative: its balance is minus what came in.
//   treasury        the instance's own money (used by the later wallet issue).
//   fees            what the instance keeps from jobs (coordinator fees, auction surplus).
//   agent:<name>    an agent's earnings.
//   customer:<id>   a customer's credit (e.g. a refund of an escrow paid from outside).
//   user:<name>     test and demo accounts (funded with `fund`).
//   escrow:<jobId>  a job's held payment, between payment and release or refund.
import { InvalidAccountError, InvalidAmountError } from './errors.js';

export type AccountKind = 'external' | 'treasury' | 'fees' | 'agent' | 'customer' | 'user' | 'escrow';
export type AccountId = string;

export const EXTERNAL = 'external';
export const TREASURY = 'treasury';
export const FEES = 'fees';

const SYSTEM: ReadonlySet<string> = new Set([EXTERNAL, TREASURY, FEES]);
const PREFIXED: ReadonlySet<string> = new Set(['agent', 'customer', 'user', 'escrow']);
const NAME = /^[\x21-\x7e]{1,200}$/;

/** The kind of a valid account id; throws InvalidAccountError otherwise. */
export function accountKind(id: string): AccountKind {
  if (typeof id !== 'string') throw new InvalidAccountError('account id must be a string');
  if (SYSTEM.has(id)) return id as AccountKind;
  const colon = id.indexOf(':');
  const kind = id.slice(0, colon);
  if (colon < 1 || !PREFIXED.has(kind) || !NAME.test(id.slice(colon + 1))) {
    throw new InvalidAccountError(
      `invalid account ${JSON.stringify(id)}: use external, treasury, fees, or agent:|customer:|user:|escrow: followed by 1-200 printable ASCII characters`,
    );
  }
  return kind as AccountKind;
}

export const agentAccount = (name: string): AccountId => checked(`agent:${name}`);
export const customerAccount = (id: string): AccountId => checked(`customer:${id}`);
export const userAccount = (name: string): AccountId => checked(`user:${name}`);
export const escrowAccount = (jobId: string): AccountId => checked(`escrow:${jobId}`);

function checked(id: string): AccountId {
  accountKind(id);
  return id;
}

/** Accounts that may be debited by `pay` and `hold`: not the world, not an escrow (those move only by release or refund). */
export function assertSpendable(id: string): void {
  const kind = accountKind(id);
  if (kind === 'external' || kind === 'escrow') throw new InvalidAccountError(`${id} cannot pay: ${kind === 'escrow' ? 'escrows move only by release or refund' : 'it is the outside world'}`);
}

/** Amounts are integer msat: positive and safe (2^53 msat is about 90,000 BTC). */
export function assertMsat(n: unknown, what = 'amount'): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidAmountError(`${what} must be a positive integer of msat, got ${String(n)}`);
  }
}

/** Formats msat as sats for people: 1500 -> "1.5", 2000 -> "2". */
export function formatSats(msat: number): string {
  const sign = msat < 0 ? '-' : '';
  const a = Math.abs(msat);
  const whole = Math.floor(a / 1000);
  const frac = a % 1000;
  return sign + String(whole) + (frac ? '.' + String(frac).padStart(3, '0').replace(/0+$/, '') : '');
}

/** Parses sats for people ("21", "0.5", "1.001") into msat. */
export function parseSats(s: string): number {
  const m = /^(\d{1,15})(?:\.(\d{1,3}))?$/.exec(s.trim());
  if (!m) throw new InvalidAmountError(`not an amount of sats (up to 3 decimals): ${JSON.stringify(s)}`);
  const msat = Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0'));
  assertMsat(msat);
  return msat;
}
