// `timmy wallet ...`: each command is a function of an open BuiltinWallet and its arguments that
// returns the lines to print. main/cli.ts opens the wallet (with the node key) and prints them;
// errors are WalletError / Bolt11Error / WalletUsageError, one line each.
import { parseArgs } from 'node:util';
import { formatSats, parseSats } from './accounts.js';
import { decodeBolt11 } from './bolt11.js';
import type { BuiltinWallet } from './builtin.js';
import { runNwcCommand, type NwcCliContext } from './nwc/cli.js';
import type { TreasuryConfig } from './config.js';
import { TREASURY_HELP, runTreasuryCommand } from './treasury-cli.js';

export class WalletUsageError extends Error {
  override name = 'WalletUsageError';
}

export const WALLET_HELP = `Usage: timmy wallet <command> [options]

Commands:
  balance [account]                        one account's balance, or every account and the total (0)
  fund <account> <sats> [--note <text>]    test money from 'external' (regtest/signet, or wallet.allowFunding)
  invoice <sats> --account <account> [--description <text>] [--expiry <seconds>]
                                           mint a BOLT11 invoice that credits <account> when paid
  pay <bolt11> --from <account>            pay an invoice this wallet issued, from <account>
  decode <bolt11>                          show an invoice's fields and check its signature
  nwc add|list|remove ...                  Nostr Wallet Connect connections (timmy wallet nwc help)
${TREASURY_HELP}

Accounts: external, treasury, fees, agent:<name>, customer:<id>, user:<name>, escrow:<job id>.
Amounts are in sats, with up to 3 decimals (millisatoshis).`;

const sat = (msat: number) => `${formatSats(msat)} sat`;

export async function walletBalance(w: BuiltinWallet, account?: string): Promise<string[]> {
  if (account !== undefined) return [`${account}  ${sat(await w.balance(account))}`];
  const all = await w.accounts();
  if (all.length === 0) return ['no accounts yet'];
  const width = Math.max(...all.map((a) => a.account.length));
  const total = all.reduce((t, a) => t + a.balanceMsat, 0);
  return [...all.map((a) => `${a.account.padEnd(width)}  ${sat(a.balanceMsat)}`), `${'total'.padEnd(width)}  ${sat(total)}`];
}

export async function walletFund(w: BuiltinWallet, account: string, sats: string, note = ''): Promise<string[]> {
  const msat = parseSats(sats);
  const r = await w.fund(account, msat, note || 'funded from the command line');
  return [`funded ${account} with ${sat(msat)}; balance ${sat(r.balanceMsat)}`];
}

export async function walletInvoice(
  w: BuiltinWallet,
  sats: string,
  o: { account: string; description?: string; expirySeconds?: number },
): Promise<string[]> {
  const inv = await w.createInvoice({
    amountMsat: parseSats(sats),
    account: o.account,
    description: o.description ?? '',
    ...(o.expirySeconds !== undefined ? { expirySeconds: o.expirySeconds } : {}),
  });
  return [
    inv.bolt11,
    `payment hash ${inv.paymentHash}`,
    `${sat(inv.amountMsat)} to ${inv.account}, expires ${new Date(inv.expiresAt * 1000).toISOString()}`,
  ];
}

export async function walletPay(w: BuiltinWallet, bolt11: string, fromAccount: string): Promise<string[]> {
  const r = await w.pay({ bolt11, fromAccount });
  return [
    `${r.replayed ? 'already paid' : 'paid'} ${sat(r.amountMsat)} from ${fromAccount}`,
    `payment hash ${r.paymentHash}`,
    `preimage ${r.preimage}`,
    `balance of ${fromAccount} ${sat(await w.balance(fromAccount))}`,
  ];
}

export function walletDecode(bolt11: string): string[] {
  const d = decodeBolt11(bolt11);
  return [
    `network ${d.network}`,
    `amount ${d.amountMsat === null ? 'any' : sat(d.amountMsat)}`,
    `payee ${d.payee} (signature checked)`,
    `payment hash ${d.paymentHash}`,
    d.description !== null ? `description ${JSON.stringify(d.description)}` : `description hash ${d.descriptionHash}`,
    `created ${new Date(d.timestamp * 1000).toISOString()}, expires ${new Date(d.expiresAt * 1000).toISOString()}`,
  ];
}

function needs(v: string | undefined, what: string): string {
  if (v === undefined || v === '') throw new WalletUsageError(`missing ${what}\n\n${WALLET_HELP}`);
  return v;
}

export interface WalletCommandOptions {
  /** Opens what `wallet nwc ...` needs (the connection store, the service pubkey, default relays); closed after the command. */
  readonly nwc?: () => NwcCliContext;
  /** wallet.treasury (fee, sweep address and threshold). */
  readonly treasury?: Partial<TreasuryConfig>;
}

/** Runs `timmy wallet <argv...>` (argv without "wallet"; --data-dir and --config are accepted and ignored); returns the lines to print. */
export async function runWalletCommand(w: BuiltinWallet, argv: readonly string[], o: WalletCommandOptions = {}): Promise<string[]> {
  if (argv[0] === 'nwc') {
    if (!o.nwc) throw new WalletUsageError('timmy wallet nwc needs the instance\'s data dir');
    const ctx = o.nwc();
    try {
      return runNwcCommand(ctx, argv.slice(1));
    } finally {
      ctx.close();
    }
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        from: { type: 'string' },
        account: { type: 'string' },
        description: { type: 'string' },
        expiry: { type: 'string' },
        note: { type: 'string' },
        reason: { type: 'string' },
        state: { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        // The instance's own flags; main/cli.ts reads them to open the wallet, here they are ignored.
        'data-dir': { type: 'string' },
        config: { type: 'string' },
      },
    });
  } catch (err) {
    throw new WalletUsageError(`${(err as Error).message}\n\n${WALLET_HELP}`);
  }
  const { values: v, positionals: [cmd, ...rest] } = parsed;
  if (v.help || cmd === undefined || cmd === 'help') return WALLET_HELP.split('\n');
  const extra = (n: number) => {
    if (rest.length > n) throw new WalletUsageError(`unexpected argument ${JSON.stringify(rest[n])}\n\n${WALLET_HELP}`);
  };
  switch (cmd) {
    case 'balance':
      extra(1);
      return walletBalance(w, rest[0]);
    case 'fund':
      extra(2);
      return walletFund(w, needs(rest[0], '<account>'), needs(rest[1], '<sats>'), v.note);
    case 'invoice': {
      extra(1);
      let expirySeconds: number | undefined;
      if (v.expiry !== undefined) {
        if (!/^\d+$/.test(v.expiry)) throw new WalletUsageError(`--expiry must be a number of seconds, got ${JSON.stringify(v.expiry)}`);
        expirySeconds = Number(v.expiry);
      }
      return walletInvoice(w, needs(rest[0], '<sats>'), {
        account: needs(v.account, '--account <account>'),
        ...(v.description !== undefined ? { description: v.description } : {}),
        ...(expirySeconds !== undefined ? { expirySeconds } : {}),
      });
    }
    case 'pay':
      extra(1);
      return walletPay(w, needs(rest[0], '<bolt11>'), needs(v.from, '--from <account>'));
    case 'decode':
      extra(1);
      return walletDecode(needs(rest[0], '<bolt11>'));
    case 'earnings':
    case 'withdraw':
    case 'sweep':
    case 'audit':
      if (cmd !== 'withdraw') extra(0);
      return runTreasuryCommand(
        w,
        o.treasury ?? {},
        cmd,
        { rest, ...(v.reason !== undefined ? { reason: v.reason } : {}), ...(v.state !== undefined ? { state: v.state } : {}), dryRun: v['dry-run'] ?? false },
        (m) => new WalletUsageError(`${m}\n\n${WALLET_HELP}`),
      );
    default:
      throw new WalletUsageError(`unknown wallet command ${JSON.stringify(cmd)}\n\n${WALLET_HELP}`);
  }
}
