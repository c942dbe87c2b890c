// `timmy wallet nwc add | list | remove`: the operator's side of NWC connections. `add` draws the
// client's key, stores only its pubkey, and returns the connection URI once: it holds the secret,
// so it goes to stdout and nowhere else (no log, no database).
import { parseArgs } from 'node:util';
import { bytesToHex } from '@noble/hashes/utils.js';
import { BUDGET_RENEWALS, buildConnectionUri, isNip47Method, type BudgetRenewal } from '../../nostr/nip47.js';
import { generateSecretKey, getPublicKey } from '../../nostr/verify.js';
import { assertSpendable, formatSats, parseSats } from '../accounts.js';
import { renewsAt } from './budget.js';
import { NwcConnectionError } from './errors.js';
import type { NwcConnectionRecord, NwcStore } from './store.js';

export const NWC_HELP = `Usage: timmy wallet nwc <command> [options]

Commands:
  add <name> --account <account> [--budget <sats>] [--period daily|weekly|monthly|yearly|never]
      [--methods a,b,...] [--relay <url>]... [--lud16 <address>]
                      create a connection; prints its URI once (it is a spending key: keep it secret)
  list                every connection with its account, budget, use and methods
  remove <name>       revoke a connection (its URI stops working at once)

--budget: the most the connection may pay per --period (default monthly; without --budget only the
account's balance limits it). --methods: what it may call (default: everything the service offers),
e.g. get_info,get_balance,make_invoice,lookup_invoice,notifications for a receive-only app.
--relay: the relays in the URI (default: wallet.nwc.relays, else this instance's relay).`;

export interface NwcCliContext {
  readonly store: NwcStore;
  /** The wallet service's pubkey (the keystore's `nwc-service`). */
  readonly servicePubkey: string;
  /** Relays written into new URIs when --relay is not given. */
  readonly relays: readonly string[];
  close(): void;
}

export interface CreateConnectionOptions {
  readonly name: string;
  readonly account: string;
  readonly budgetMsat?: number | null;
  readonly renewal?: BudgetRenewal;
  readonly methods?: readonly string[] | null;
  readonly servicePubkey: string;
  readonly relays: readonly string[];
  readonly lud16?: string;
  readonly now?: number;
}

const EXTRA_CAPABILITIES = ['get_budget', 'notifications'];

/** Creates a connection with a fresh client key; returns it and its URI (the only copy of the secret). */
export function createConnection(store: NwcStore, o: CreateConnectionOptions): { connection: NwcConnectionRecord; uri: string } {
  assertSpendable(o.account);
  for (const m of o.methods ?? []) {
    if (!isNip47Method(m) && !EXTRA_CAPABILITIES.includes(m)) throw new NwcConnectionError(`unknown method ${JSON.stringify(m)}`);
  }
  if (o.relays.length === 0) throw new NwcConnectionError('no relay for the URI: give --relay <url> or set wallet.nwc.relays');
  const sk = generateSecretKey();
  try {
    // Build (and so check) the URI before storing anything.
    const uri = buildConnectionUri({ walletPubkey: o.servicePubkey, relays: o.relays, secret: bytesToHex(sk), ...(o.lud16 ? { lud16: o.lud16 } : {}) });
    const budgetMsat = o.budgetMsat ?? null;
    const connection = store.add(
      {
        name: o.name,
        pubkey: getPublicKey(sk),
        account: o.account,
        budgetMsat,
        renewal: o.renewal ?? (budgetMsat === null ? 'never' : 'monthly'),
        methods: o.methods ?? null,
      },
      o.now ?? Math.floor(Date.now() / 1000),
    );
    return { connection, uri };
  } finally {
    sk.fill(0);
  }
}

const sat = (msat: number) => `${formatSats(msat)} sat`;
const date = (t: number | null) => (t === null ? 'never' : new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' '));

function describe(store: NwcStore, c: NwcConnectionRecord, now: number): string[] {
  const used = store.spent(c, now);
  const renews = renewsAt(c.renewal, now);
  const budget =
    c.budgetMsat === null ? `no budget (spent ${sat(used)})` : `${sat(used)} of ${sat(c.budgetMsat)} ${c.renewal}${renews ? `, renews ${date(renews)}` : ''}`;
  return [
    `${c.name}  ${c.account}  ${budget}`,
    `  methods ${c.methods === null ? 'all' : c.methods.join(' ')}; client ${c.pubkey}; created ${date(c.createdAt)}, last used ${date(c.lastUsedAt)}`,
  ];
}

/** Runs `timmy wallet nwc <argv...>`; returns the lines to print. */
export function runNwcCommand(ctx: NwcCliContext, argv: readonly string[], now = Math.floor(Date.now() / 1000)): string[] {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        account: { type: 'string' },
        budget: { type: 'string' },
        period: { type: 'string' },
        methods: { type: 'string' },
        relay: { type: 'string', multiple: true },
        lud16: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        'data-dir': { type: 'string' },
        config: { type: 'string' },
      },
    });
  } catch (err) {
    throw new NwcConnectionError(`${(err as Error).message}\n\n${NWC_HELP}`);
  }
  const { values: v, positionals: [cmd, ...rest] } = parsed;
  if (v.help || cmd === undefined || cmd === 'help') return NWC_HELP.split('\n');
  const name = (): string => {
    if (rest.length !== 1 || !rest[0]) throw new NwcConnectionError(`${cmd} needs exactly one <name>\n\n${NWC_HELP}`);
    return rest[0];
  };
  switch (cmd) {
    case 'add': {
      const n = name();
      if (!v.account) throw new NwcConnectionError(`missing --account <account>\n\n${NWC_HELP}`);
      const period = v.period;
      if (period !== undefined && !(BUDGET_RENEWALS as readonly string[]).includes(period)) throw new NwcConnectionError(`--period must be one of ${BUDGET_RENEWALS.join(', ')}`);
      const methods = v.methods?.split(',').map((s) => s.trim()).filter(Boolean);
      const { connection, uri } = createConnection(ctx.store, {
        name: n,
        account: v.account,
        budgetMsat: v.budget !== undefined ? parseSats(v.budget) : null,
        ...(period !== undefined ? { renewal: period as BudgetRenewal } : {}),
        methods: methods && methods.length > 0 ? methods : null,
        servicePubkey: ctx.servicePubkey,
        relays: v.relay && v.relay.length > 0 ? v.relay : ctx.relays,
        ...(v.lud16 ? { lud16: v.lud16 } : {}),
        now,
      });
      return [
        uri,
        '',
        ...describe(ctx.store, connection, now),
        'This URI is shown once and is a spending key: anyone who has it can spend from',
        `${connection.account}${connection.budgetMsat === null ? '' : ' up to the budget'}. Give it only to the app; revoke with \`timmy wallet nwc remove ${connection.name}\`.`,
      ];
    }
    case 'list': {
      if (rest.length > 0) throw new NwcConnectionError(`unexpected argument ${JSON.stringify(rest[0])}`);
      const all = ctx.store.list();
      return all.length === 0 ? [`no NWC connections (wallet service ${ctx.servicePubkey})`] : [`wallet service ${ctx.servicePubkey}`, ...all.flatMap((c) => describe(ctx.store, c, now))];
    }
    case 'remove': {
      const n = name();
      if (!ctx.store.remove(n)) throw new NwcConnectionError(`no NWC connection named ${JSON.stringify(n)}`);
      return [`removed ${n}: its URI no longer works`];
    }
    default:
      throw new NwcConnectionError(`unknown nwc command ${JSON.stringify(cmd)}\n\n${NWC_HELP}`);
  }
}
