// `timmy agent list|show` (scores and their evidence) and `timmy job rate` (a customer's label).
// They read the embedded relay's SQLite file directly, or any relays given with --relay, so an
// instance that never saw a job computes the same score from another relay's labels.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NostrClient } from '../nostr/client.js';
import { MultiClient } from '../nostr/multi-client.js';
import { WsClient } from '../nostr/ws-client.js';
import { decode as nip19decode, npubEncode } from '../nostr/nip19.js';
import { decrypt as nip49decrypt } from '../nostr/nip49.js';
import { finalizeEvent, getPublicKey } from '../nostr/verify.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { readBolt11 } from '../wallet/bolt11.js';
import { BuiltinWallet } from '../wallet/builtin.js';
import type { ReputationReport } from '../reputation/book.js';
import { fetchReputation } from '../reputation/fetch.js';
import { jobLabelTemplate, OUTCOMES, type Outcome } from '../reputation/labels.js';
import { scoreParams } from '../reputation/config.js';
import { JobStore } from '../dvm/jobs/store.js';
import { Keystore } from '../agents/identity/keystore.js';
import { StoreQueryClient } from './store-client.js';
import { AdminError } from './admin-cli.js';
import { one, parseFlags, type Flags } from './flags.js';
import type { Config } from './config.js';

export const AGENT_HELP = `Usage: timmy agent <command> [options]

Commands:
  list                       this instance's agents with their reputation scores
  show <npub|hex|name>       an agent's score and its evidence: label counts by rating and
                             outcome, paid and unpaid, and the newest labels

Options:
  --relay <url>              read labels from this relay (repeatable) instead of the embedded
                             relay's database; any agent, from any instance
  --json                     the full report as JSON
  --data-dir <dir>           where data lives (default ./data)   env TIMMY_DATA_DIR
  --config <file>            JSON config file`;

export const RATE_HELP = `Usage: timmy job rate <request-id> <1-5> --key-file <file> [options]

Publishes your NIP-32 label (kind 1985, namespace ai.timmy.job) for a job you asked for: a
rating from 1 to 5 and, optionally, an outcome. When the job is in this instance's records and
was paid by the key you sign with, the label carries the payment proof (invoice and preimage),
which makes it count fully in the agent's score (docs/reputation.md).

Options:
  --key-file <file>          your key: nsec1..., 64 hex characters, or ncryptsec1... (password in
                             $TIMMY_KEY_PASSWORD)
  --outcome <o>              delivered, late or failed
  --comment <text>           why (the label's content)
  --agent <npub|hex>         the agent (needed when the job is not in this instance's records)
  --bolt11 <invoice> --preimage <hex>
                             your own proof of payment (a job paid elsewhere)
  --relay <url>              where to publish (repeatable; default: this instance's relay)`;

/** A pubkey from npub or hex. */
const HEX64 = /^[0-9a-fA-F]{64}$/;

function pubkeyOf(s: string): string | undefined {
  if (HEX64.test(s)) return s.toLowerCase();
  if (s.startsWith('npub1')) {
    try {
      return nip19decode(s as `npub1${string}`).data;
    } catch {
      throw new AdminError(`${s} is not a valid npub`);
    }
  }
  return undefined;
}

function keystore(config: Config): Keystore {
  return Keystore.open({ dataDir: config.dataDir, ...(process.env.TIMMY_SECRET ? { masterSecret: process.env.TIMMY_SECRET } : {}), warn: (m) => console.error(`warn: ${m}`) });
}

/** The relays to read from: --relay URLs, else the embedded relay's database. */
function readClient(config: Config, f: Flags): NostrClient {
  const relays = f.values.get('relay') ?? [];
  if (relays.length > 0) return new WsClient(relays, { publishTimeoutMs: 5000 });
  const local = new StoreQueryClient(join(config.dataDir, 'relay.sqlite'));
  const remote = [...config.relays, ...config.reputation.relays];
  return remote.length > 0 ? new MultiClient([local, new WsClient(remote, { publishTimeoutMs: 5000 })]) : local;
}

const stars = (r: ReputationReport['counts']['ratings']) => (['5', '4', '3', '2', '1'] as const).map((k) => `${k}★ ${r[k]}`).join(' · ');

export function formatReport(r: ReputationReport, name?: string): string[] {
  const when = (s: number) => new Date(s * 1000).toISOString().replace('.000', '');
  return [
    `agent ${name ? `${name} ` : ''}${npubEncode(r.pubkey)}`,
    `  score ${r.score.toFixed(4)}  (posterior mean ${r.mean.toFixed(4)}, weight ${r.weight.toFixed(2)}, as of ${when(r.asOf)})`,
    `  standing as a rater ${r.standing.toFixed(4)}`,
    `  labels ${r.counts.labels}: paid ${r.counts.paid}, unpaid ${r.counts.unpaid} (counted as ${r.unpaidCounted.toFixed(2)} paid), from ${r.counts.raters} raters`,
    `  ratings   ${stars(r.counts.ratings)}`,
    `  outcomes  delivered ${r.counts.outcomes.delivered} · late ${r.counts.outcomes.late} · failed ${r.counts.outcomes.failed}`,
    ...(r.last.length ? ['  newest labels:'] : []),
    ...r.last.map(
      (l) =>
        `    ${when(l.createdAt)}  ${[l.rating !== null ? `rating/${l.rating}` : '', l.outcome ?? ''].filter(Boolean).join(' ').padEnd(18)} ${l.paid ? 'paid  ' : 'unpaid'}  by ${npubEncode(l.rater).slice(0, 16)}…${l.job ? `  job ${l.job.slice(0, 12)}` : ''}`,
    ),
  ];
}

export async function agentCommand(config: Config, argv: readonly string[]): Promise<string[]> {
  const f = parseFlags(argv, ['relay'], ['json']);
  const [cmd, who] = f.positional;
  const opts = { params: scoreParams(config.reputation), readInvoice: readBolt11 };
  switch (cmd) {
    case 'show': {
      if (!who) throw new AdminError(`missing agent (npub, hex or name)\n\n${AGENT_HELP}`);
      let pubkey = pubkeyOf(who);
      let name: string | undefined;
      if (!pubkey) {
        const ks = keystore(config);
        if (!ks.agents().includes(who)) throw new AdminError(`no agent named ${who} here (agents: ${ks.agents().join(', ') || 'none'}); give an npub for another instance's agent`);
        pubkey = ks.publicKey(who);
        name = who;
      }
      const client = readClient(config, f);
      try {
        const r = await fetchReputation(client, pubkey, opts);
        return f.bools.has('json') ? [JSON.stringify(r, null, 2)] : formatReport(r, name);
      } finally {
        await client.close();
      }
    }
    case 'list': {
      const ks = keystore(config);
      const client = readClient(config, f);
      try {
        const rows: string[] = [];
        for (const name of ks.agents()) {
          const r = await fetchReputation(client, ks.publicKey(name), opts);
          rows.push(`${name.padEnd(16)} ${npubEncode(r.pubkey)}  score ${r.score.toFixed(4)}  labels ${r.counts.labels} (paid ${r.counts.paid})`);
        }
        return rows.length ? rows : ['no agents yet'];
      } finally {
        await client.close();
      }
    }
    case undefined:
    case 'help':
      return [AGENT_HELP];
    default:
      throw new AdminError(`unknown agent command "${cmd}"\n\n${AGENT_HELP}`);
  }
}

function readKey(file: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new AdminError(`cannot read --key-file ${file}: ${(err as Error).message}`);
  }
  if (HEX64.test(text)) return hexToBytes(text.toLowerCase());
  if (text.startsWith('nsec1')) return nip19decode(text as `nsec1${string}`).data;
  if (text.startsWith('ncryptsec1')) {
    const pw = process.env.TIMMY_KEY_PASSWORD;
    if (!pw) throw new AdminError('the key file holds an ncryptsec: set TIMMY_KEY_PASSWORD');
    try {
      return nip49decrypt(text, pw);
    } catch {
      throw new AdminError('wrong TIMMY_KEY_PASSWORD for the ncryptsec in the key file');
    }
  }
  throw new AdminError(`${file} holds no key (nsec1..., 64 hex characters or ncryptsec1...)`);
}

/** `timmy job rate`: the customer's label for a job. */
export async function rateCommand(config: Config, argv: readonly string[]): Promise<string[]> {
  const f = parseFlags(argv, ['key-file', 'outcome', 'comment', 'agent', 'bolt11', 'preimage', 'relay'], []);
  const [id, ratingText] = f.positional;
  if (!id || !HEX64.test(id)) throw new AdminError(`missing or invalid request id (64 hex characters)\n\n${RATE_HELP}`);
  const rating = Number(ratingText);
  if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new AdminError('the rating must be a whole number from 1 to 5');
  const outcome = one(f, 'outcome');
  if (outcome !== undefined && !(OUTCOMES as readonly string[]).includes(outcome)) throw new AdminError(`--outcome must be one of ${OUTCOMES.join(', ')}`);
  const keyFile = one(f, 'key-file');
  if (!keyFile) throw new AdminError(`--key-file is required\n\n${RATE_HELP}`);
  const sk = readKey(keyFile);
  const me = getPublicKey(sk);

  let agent = one(f, 'agent') !== undefined ? pubkeyOf(one(f, 'agent')!) : undefined;
  let result: string | undefined;
  let kind: number | undefined;
  let proof: { bolt11: string; preimage: string } | undefined;
  const notes: string[] = [];
  const dvmPath = join(config.dataDir, 'dvm.sqlite');
  if (existsSync(dvmPath)) {
    const store = new JobStore(dvmPath);
    try {
      const job = store.get(id.toLowerCase());
      if (job) {
        agent ??= job.agent ?? undefined;
        result = job.resultId ?? undefined;
        kind = job.kind;
        if (job.paymentHash && job.customer === me) {
          const w = BuiltinWallet.open({ path: join(config.dataDir, 'wallet.sqlite'), nodeKey: keystore(config).secret('wallet-node'), config: config.wallet });
          try {
            proof = (await w.paymentProof(job.paymentHash)) ?? undefined;
          } finally {
            await w.close();
          }
        } else if (job.paymentHash) notes.push('note: you did not send this request, so the label carries no payment proof');
      }
    } finally {
      store.close();
    }
  }
  const b11 = one(f, 'bolt11');
  const pre = one(f, 'preimage');
  if ((b11 === undefined) !== (pre === undefined)) throw new AdminError('--bolt11 and --preimage go together');
  if (b11 !== undefined && pre !== undefined) proof = { bolt11: b11, preimage: pre.toLowerCase() };
  if (!agent) throw new AdminError('the job is not in this instance\'s records: give --agent <npub|hex>');

  const comment = one(f, 'comment');
  const event = finalizeEvent(
    jobLabelTemplate({ agent, request: id.toLowerCase(), ...(result ? { result } : {}), ...(kind ? { kind } : {}), rating, ...(outcome ? { outcome: outcome as Outcome } : {}), ...(comment ? { comment } : {}), ...(proof ? { proof } : {}) }),
    sk,
  );
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const relays = f.values.get('relay') ?? [`ws://${host.includes(':') ? `[${host}]` : host}:${config.port}`];
  const client = new WsClient(relays, { publishTimeoutMs: 5000 });
  try {
    const r = await client.publish(event);
    if (!r.ok) throw new AdminError(`no relay took the label: ${r.relays.map((a) => `${a.relay}: ${a.message}`).join('; ')}`);
    return [...notes, `label ${event.id} published (${proof ? 'with' : 'without'} payment proof) to ${r.relays.filter((a) => a.ok).map((a) => a.relay).join(', ')}`];
  } finally {
    await client.close();
  }
}
