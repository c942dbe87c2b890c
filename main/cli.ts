// The `timmy` command line. Every command answers --help; errors are one line and a non-zero exit.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import os from 'node:os';
import { ConfigError, loadConfig, type Config } from './config.js';
import { VERSION } from './version.js';
import { startInstance } from './instance.js';
import { createLogger, moduleLog } from './obs/logging.js';
import { startTracing } from './obs/tracing.js';
import { statusCommand } from './status-cli.js';
import { exportJsonl, importJsonl } from './transfer.js';
import { AdminError, JOB_HELP, WALLET_HELP, jobCommand, walletCommand } from './admin-cli.js';
import { AGENT_HELP, RATE_HELP, agentCommand, rateCommand } from './reputation-cli.js';
import { modelsCommand } from './models/cli.js';
import { voiceCommand, VoiceCliError } from './voice-cli.js';
import { MEMORY_HELP, memoryCommand } from './memory-cli.js';
import { PEERS_HELP, peersCommand } from './peers-cli.js';
import { SYNC_HELP, syncCommand } from './sync-cli.js';
import { BACKUP_HELP, BackupError, RESTORE_HELP, backupCommand, restoreCommand } from './backup-cli.js';

const COMMON = `
Options:
  --port <n>        relay port (default 7777; 0 = pick a free one)   env TIMMY_PORT
  --http-port <n>   dashboard, API, metrics (default 8080; 0 = free one)  env TIMMY_HTTP_PORT
  --host <addr>     address to bind (default 127.0.0.1)              env TIMMY_HOST
  --data-dir <dir>  where data lives (default ./data)                 env TIMMY_DATA_DIR
  --config <file>   JSON config file (default ./timmy.config.json if present)
  -h, --help        show this help`;

const HELP: Record<string, string> = {
  main: `timmy ${VERSION}: a sovereign, Nostr-native network of AI agents

Usage: timmy <command> [options]

Commands:
  start           start the whole instance (relay, agents, DVM, wallet, HTTP)
  relay           run the embedded relay only
  relay export    write every stored event as JSONL
  relay import    read JSONL events into the relay database
  wallet ...      the wallet: balance, fund (test money), invoice, pay, decode, earnings, withdraw, sweep, audit
  job ...         jobs: list, show, replay, approve, rate
  agent ...       agents' reputation: list, show <npub|name>
  models ...      model files for the neural engines: list, verify, install, remove, path
  voice info      speech engines: which are available, which serve, the VAD
  memory ...      the agents' semantic memory: search, add, stats, prune, reembed
  peers           other Timmy instances announced on the relays (federation)
  relay sync      NIP-77 negentropy sync of the embedded relay with another relay
  status          is the running instance up and ready (relay, wallet, agents)?
  backup <file>   an online, consistent backup of the data dir in one file
  restore <file>  restore a backup as the data dir (checked first; refuses a running instance)
  help [command]  show help for a command

Run 'timmy <command> --help' for a command's options.`,
  start: `Usage: timmy start [options]

Starts the whole Timmy instance on embedded defaults: the relay, the agent swarm, the DVM
front door with its auctions, the built-in wallet, and the dashboard (HTTP). Prints one
line per listener, e.g. "relay listening on ws://127.0.0.1:7777". Stops cleanly on SIGINT/SIGTERM.
${COMMON}`,
  status: `Usage: timmy status [options]

Asks the running instance (its HTTP server at --host and --http-port) for /healthz and /readyz
and prints the checks: the relay's writer answers and the disk has room, the wallet answers, the
agents heartbeat. Exit 0 when ready, 1 when not ready or not running.
${COMMON}`,
  relay: `Usage: timmy relay [options]
       timmy relay export [--data-dir <dir>] [--out <file>]
       timmy relay import [--data-dir <dir>] [--in <file>]

Runs only the embedded Nostr relay and prints "relay listening on ws://HOST:PORT".
${COMMON}`,
  'relay export': `Usage: timmy relay export [--data-dir <dir>] [--out <file>]

Writes every stored event, one JSON object per line (JSONL), to <file> or standard output.
The output can be imported by strfry, nostr-rs-relay or 'timmy relay import'.

Options:
  --data-dir <dir>  where data lives (default ./data)   env TIMMY_DATA_DIR
  --out <file>      write here instead of standard output
  -h, --help        show this help`,
  'relay import': `Usage: timmy relay import [--data-dir <dir>] [--in <file>]

Reads JSONL events from <file> or standard input, checks each id and signature, and stores
the valid ones under the relay's rules (replaceable, deletions). Progress goes to stderr.

Options:
  --data-dir <dir>  where data lives (default ./data)   env TIMMY_DATA_DIR
  --in <file>       read from here instead of standard input
  -h, --help        show this help`,
};

const OPTIONS = {
  port: { type: 'string' },
  'http-port': { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  in: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} satisfies ParseArgsConfig['options'];

class UsageError extends Error {
  override name = 'UsageError';
}

function portFlag(name: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--${name} must be a number from 0 to 65535, got "${v}"`);
  return Number(v);
}

function flagsToConfig(v: { port?: string; 'http-port'?: string; host?: string; 'data-dir'?: string }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (v.port !== undefined) out.port = portFlag('port', v.port);
  if (v['http-port'] !== undefined) out.httpPort = portFlag('http-port', v['http-port']);
  if (v.host !== undefined) out.host = v.host;
  if (v['data-dir'] !== undefined) out.dataDir = v['data-dir'];
  return out;
}

/** `wallet`, `job` and `agent` take their own options: only --data-dir, --config and --help are ours. */
async function adminCommand(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const ours: Record<string, string> = {};
  const theirs: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if ((a === '--data-dir' || a === '--config') && rest[i + 1] !== undefined) ours[a.slice(2)] = rest[++i]!;
    else theirs.push(a);
  }
  const help =
    cmd === 'backup' ? BACKUP_HELP : cmd === 'restore' ? RESTORE_HELP : cmd === 'wallet' ? WALLET_HELP : cmd === 'agent' ? AGENT_HELP : cmd === 'memory' ? MEMORY_HELP : cmd === 'peers' ? PEERS_HELP : cmd === 'sync' ? SYNC_HELP : theirs[0] === 'rate' ? RATE_HELP : JOB_HELP;
  // `timmy wallet nwc --help`: the nwc subcommands have their own help.
  if (cmd === 'wallet' && theirs[0] === 'nwc' && (theirs.includes('--help') || theirs.includes('-h'))) theirs.splice(1, theirs.length - 1, 'help');
  // `timmy peers` needs no subcommand; the others show their help when given none.
  if ((theirs.length === 0 && cmd !== 'peers') || theirs.includes('--help') || theirs.includes('-h')) {
    console.log(help);
    return 0;
  }
  const { config } = loadConfig({ file: ours.config, env: process.env, flags: ours['data-dir'] ? { dataDir: ours['data-dir'] } : {} });
  const lines =
    cmd === 'backup'
      ? await backupCommand(config, theirs)
      : cmd === 'restore'
        ? await restoreCommand(config, theirs)
        : cmd === 'wallet'
      ? await walletCommand(config, theirs)
      : cmd === 'agent'
        ? await agentCommand(config, theirs)
        : cmd === 'memory'
          ? await memoryCommand(config, theirs)
          : cmd === 'peers'
            ? await peersCommand(config, theirs)
            : cmd === 'sync'
              ? await syncCommand(config, theirs)
              : theirs[0] === 'rate'
          ? await rateCommand(config, theirs.slice(1))
          : jobCommand(config, theirs);
  for (const l of lines) console.log(l);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  if (['wallet', 'job', 'agent', 'memory', 'peers', 'backup', 'restore'].includes(argv[0] ?? '')) return adminCommand(argv);
  if (argv[0] === 'help' && (argv[1] === 'backup' || argv[1] === 'restore')) return (console.log(argv[1] === 'backup' ? BACKUP_HELP : RESTORE_HELP), 0);
  if (argv[0] === 'relay' && argv[1] === 'sync') return adminCommand(['sync', ...argv.slice(2)]);
  if (argv[0] === 'models') return modelsCommand(argv.slice(1));
  if (argv[0] === 'voice') return voiceCommand(argv.slice(1));
  if (argv[0] === 'help' && argv[1] === 'voice') return voiceCommand(['help', ...argv.slice(2)]);
  if (argv[0] === 'help' && argv[1] === 'models') return modelsCommand(['help', ...argv.slice(2)]);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const { values, positionals } = parsed;
  if (values.version) return (console.log(VERSION), 0);
  const [cmd, sub, ...rest] = positionals;
  if (cmd === undefined || cmd === 'help') {
    const topic = [sub, ...rest].filter(Boolean).join(' ');
    console.log(HELP[topic] ?? HELP.main);
    return 0;
  }
  const key = cmd === 'relay' && sub ? `relay ${sub}` : cmd;
  if (!(key in HELP) || key === 'main' || (cmd !== 'relay' && sub !== undefined) || rest.length > 0) {
    throw new UsageError(`unknown command "${positionals.join(' ')}"; run 'timmy --help'`);
  }
  if (values.help) return (console.log(HELP[key]), 0);

  const { config } = loadConfig({ file: values.config, env: process.env, flags: flagsToConfig(values) });
  switch (key) {
    case 'start':
      return run(config);
    case 'status': {
      const st = await statusCommand(config);
      for (const l of st.lines) console.log(l);
      return st.code;
    }
    case 'relay':
      return run({ ...config, agents: { ...config.agents, enabled: false } });
    case 'relay export': {
      const n = await exportJsonl(config.dataDir, values.out, (k) => console.error(`exported ${k} events…`));
      console.error(`exported ${n} events`);
      return 0;
    }
    case 'relay import': {
      const s = await importJsonl(config.dataDir, values.in, {
        workers: Math.max(1, os.availableParallelism()),
        progress: (p) => console.error(`read ${p.read}, stored ${p.stored}, duplicate ${p.duplicate}, rejected ${p.rejected}…`),
        onReject: (line, why) => console.error(`line ${line}: ${why}`),
      });
      console.error(`imported: read ${s.read}, stored ${s.stored}, duplicate ${s.duplicate}, rejected ${s.rejected}`);
      return s.rejected > 0 && s.stored === 0 && s.read > 0 ? 1 : 0;
    }
  }
  return 0;
}

async function run(config: Config): Promise<number> {
  // Listener lines go to stdout (scripts read them); everything else is a log line on stderr.
  const logger = createLogger(config.log);
  const mainLog = moduleLog(logger, 'main');
  // Before the instance, so every job's spans are recorded; off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
  const tracing = await startTracing(process.env);
  if (tracing) mainLog.info('tracing.on', { text: `traces to ${tracing.target}` });
  const instance = await startInstance(config, { logger }).catch(async (err: unknown) => {
    await tracing?.shutdown();
    throw err;
  });
  for (const l of instance.listeners) console.log(l);
  for (const n of instance.notes) mainLog.info('instance.note', { text: n });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      mainLog.info('instance.stopping', { signal, text: 'committing accepted events…' });
      instance.close().finally(() => tracing?.shutdown()).then(
        () => {
          mainLog.info('instance.stopped', { text: 'stopped cleanly' });
          resolve(0);
        },
        (err: Error) => {
          mainLog.error('instance.stop-failed', { error: err.message });
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

export function describeError(err: unknown): string {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof AdminError || err instanceof VoiceCliError || err instanceof BackupError) return err.message;
  if (err instanceof Error && /^(Wallet|Bolt11|Keystore|Escrow|Invoice|Insufficient|Network)/.test(err.name)) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') return `cannot listen: address already in use (${e.message.replace(/^listen EADDRINUSE: address already in use /, '')})`;
  if (e?.code === 'EACCES') return `permission denied: ${e.message}`;
  // A SQLite file of the data dir held by another process (docs/reliability.md, "Fault injection"):
  // say so, instead of a bare "database is locked".
  if (e?.code === 'SQLITE_BUSY' || e?.code === 'SQLITE_LOCKED' || /database is locked/.test(e?.message ?? '')) {
    return `${e.message}: another process holds a database of the data dir (is another timmy running on the same --data-dir?)`;
  }
  return e?.message ?? String(err);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`timmy: ${describeError(err)}`);
    process.exit(err instanceof UsageError || err instanceof ConfigError || err instanceof VoiceCliError ? 2 : 1);
  },
);
