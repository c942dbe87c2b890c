// `timmy wallet ...` and `timmy job ...`: operator commands that work on the data dir directly,
// whether or not the instance is running (SQLite WAL lets them read and write beside it; the
// running instance picks up payments and approvals within a second).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Keystore } from '../agents/identity/keystore.js';
import { BuiltinWallet } from '../wallet/builtin.js';
import { openWallet } from '../wallet/select.js';
import { runWalletCommand, WALLET_HELP } from '../wallet/cli-commands.js';
import { NwcStore, nwcStorePath, type NwcCliContext } from '../wallet/nwc/index.js';
import { getPublicKey } from '../nostr/verify.js';
import { JobStore } from '../dvm/jobs/store.js';
import { formatReplay, replayLines } from '../dvm/replay.js';
import { openDatabase } from '../relay/store/open.js';
import { EventReader } from '../relay/store/event-reader.js';
import type { NostrEvent } from '../nostr/nip01.js';
import type { Config } from './config.js';

export const JOB_HELP = `Usage: timmy job <command> [options]

Commands:
  list [--limit <n>]   the newest jobs with their state and price
  show <id>            one job and every state transition with its reason
  replay <id>          the job's history re-derived from its transitions and the events on the
                       relay that reference it (request, feedback, auction, result), in order
  approve <id>         let a job that waits for operator approval go on (to payment or bidding)
  rate <id> <1-5>      publish your rating of a job you asked for (timmy job rate --help)

Options:
  --data-dir <dir>     where data lives (default ./data)   env TIMMY_DATA_DIR
  --config <file>      JSON config file`;

export { WALLET_HELP };

export class AdminError extends Error {
  override name = 'AdminError';
}

/** Relays for new NWC connection URIs: wallet.nwc.relays, else the embedded relay, else `relays`. */
export function nwcRelays(config: Config): string[] {
  if (config.wallet.nwc.relays.length > 0) return config.wallet.nwc.relays;
  if (!config.embeddedRelay) return config.relays;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return [`ws://${host}:${config.port}`];
}

export async function walletCommand(config: Config, argv: readonly string[]): Promise<string[]> {
  const keystore = Keystore.open({ dataDir: config.dataDir, ...(process.env.TIMMY_SECRET ? { masterSecret: process.env.TIMMY_SECRET } : {}), warn: (m) => console.error(`warn: ${m}`) });
  const path = join(config.dataDir, 'wallet.sqlite');
  // What touches money outside the ledger opens the configured backend (LND or an NWC wallet):
  // invoices others pay over Lightning, paying out, the audit's node balances, sending an approved
  // withdrawal. Everything else works on the ledger alone (and also while the backend is down).
  const needsNode =
    config.wallet.backend !== 'builtin' &&
    (argv[0] === 'invoice' || argv[0] === 'pay' || (argv[0] === 'audit' && config.wallet.backend === 'lnd') || (argv[0] === 'withdraw' && argv[1] === 'approve'));
  const opened = needsNode
    ? await openWallet({ path, nodeKey: keystore.secret('wallet-node'), config: config.wallet, log: (_l, m) => console.error(m) })
    : undefined;
  const w = opened?.wallet ?? BuiltinWallet.open({ path, nodeKey: keystore.secret('wallet-node'), config: config.wallet });
  const nwc = (): NwcCliContext => {
    const store = NwcStore.open(nwcStorePath(config.dataDir));
    return { store, servicePubkey: getPublicKey(keystore.secret('nwc-service')), relays: nwcRelays(config), close: () => store.close() };
  };
  try {
    return await runWalletCommand(w, argv, { nwc, treasury: config.wallet.treasury });
  } finally {
    await (opened ? opened.close() : w.close());
  }
}

function jobStore(config: Config): JobStore {
  const path = join(config.dataDir, 'dvm.sqlite');
  if (!existsSync(path)) throw new AdminError(`no jobs in ${config.dataDir} (no dvm.sqlite): has the instance run there?`);
  return new JobStore(path);
}

function relayEvents(config: Config, jobId: string, auctionId: string | null): NostrEvent[] {
  const path = join(config.dataDir, 'relay.sqlite');
  if (!existsSync(path)) return [];
  const db = openDatabase(path, { readonly: true, durability: 'normal' });
  try {
    const reader = new EventReader(db);
    const ctx = { now: Math.floor(Date.now() / 1000), privateKinds: [], viewers: [], defaultLimit: 5000, maxLimit: 5000, budgetMs: 5000 };
    const first = reader.query([{ ids: [jobId] }, { '#e': [jobId] }], ctx).events.map((j) => JSON.parse(j) as NostrEvent);
    // The auction's commitments and reveals reference the auction, not the job.
    const auctions = new Set(first.filter((e) => e.kind === 7280).map((e) => e.id));
    if (auctionId) auctions.add(auctionId);
    const more = auctions.size ? reader.query([{ '#e': [...auctions] }], ctx).events.map((j) => JSON.parse(j) as NostrEvent) : [];
    const byId = new Map([...first, ...more].map((e) => [e.id, e]));
    return [...byId.values()];
  } finally {
    db.close();
  }
}

export function jobCommand(config: Config, argv: readonly string[]): string[] {
  const [cmd, ...rest] = argv;
  const arg = (i: number, what: string): string => {
    const v = rest[i];
    if (!v || v.startsWith('--')) throw new AdminError(`missing ${what}\n\n${JOB_HELP}`);
    return v;
  };
  const store = cmd && cmd !== 'help' ? jobStore(config) : undefined;
  try {
    switch (cmd) {
      case 'list': {
        const li = rest.indexOf('--limit');
        const limit = li >= 0 ? Number(rest[li + 1]) : 20;
        if (!Number.isInteger(limit) || limit < 1) throw new AdminError('--limit must be a positive whole number');
        const rows = store!.list(limit);
        if (rows.length === 0) return ['no jobs yet'];
        return rows.map((j) => `${j.id}  kind ${j.kind}  ${j.state.padEnd(17)}  ${String(j.priceMsat).padStart(9)} msat  ${new Date(j.createdAt).toISOString()}`);
      }
      case 'show': {
        const id = arg(0, 'job id');
        const j = store!.get(id);
        if (!j) throw new AdminError(`no job ${id}`);
        const head = [
          `job ${j.id}`,
          `  kind ${j.kind}, customer ${j.customer}`,
          `  state ${j.state}, price ${j.priceMsat} msat${j.agent ? `, agent ${j.agent} paid ${j.agentPriceMsat} msat` : ''}`,
          ...(j.invoice ? [`  invoice ${j.invoice}`] : []),
          ...(j.forwardedTo ? [`  forwarded to peer instance ${j.forwardedTo}${j.forwardId ? ` as request ${j.forwardId}` : ''}`] : []),
          ...(j.resultId ? [`  result ${j.resultId}`] : []),
        ];
        return [...head, ...store!.transitions(id).map((t) => `  ${new Date(t.at).toISOString()}  ${t.from ?? '∅'} -> ${t.to}: ${t.reason}`)];
      }
      case 'replay': {
        const id = arg(0, 'job id');
        const j = store!.get(id);
        if (!j) throw new AdminError(`no job ${id}`);
        return formatReplay(id, replayLines(store!.transitions(id), relayEvents(config, id, j.auctionId))).split('\n');
      }
      case 'approve': {
        const id = arg(0, 'job id');
        const j = store!.get(id);
        if (!j) throw new AdminError(`no job ${id}`);
        if (j.state !== 'awaiting-approval') throw new AdminError(`job ${id} is ${j.state}, not awaiting-approval`);
        const next = j.priceMsat > 0 ? 'awaiting-payment' : 'bidding';
        store!.transition(id, next, 'approved by the operator (timmy job approve)');
        return [`job ${id} approved: now ${next}`];
      }
      case undefined:
      case 'help':
        return [JOB_HELP];
      default:
        throw new AdminError(`unknown job command "${cmd}"\n\n${JOB_HELP}`);
    }
  } finally {
    store?.close();
  }
}
