export type RelayKind = 'timmy' | 'peer';

export interface Plan {
  quick: boolean;
  only?: RelayKind;
  /** Stored-event counts at which REQ latency is measured, ascending; the relay is filled in stages. */
  sizes: number[];
  /** Queries per filter type per size (sequential, one connection). */
  queries: number;
  /** Fresh events per ingest run; one run per entry of `ingestConns`. */
  ingest: number;
  ingestConns: number[];
  ingestWindow: number;
  subscribers: number;
  fanoutEvents: number;
  fanoutSpacingMs: number;
  idleConns: number;
  verifyEvents: number;
  peerPreload: 'bulk' | 'upsert';
  keepData: boolean;
}

const USAGE = `usage: node dist/bench/relay.js [--quick] [--only timmy|peer] [--sizes 100000,1000000]
       [--queries N] [--ingest N] [--ingest-conns 8,32] [--window N] [--subscribers N]
       [--fanout-events N] [--fanout-spacing MS] [--idle-conns N] [--verify N]
       [--peer-preload bulk|upsert] [--keep-data]`;

export function parsePlan(argv: readonly string[]): Plan {
  const quick = argv.includes('--quick');
  const plan: Plan = quick
    ? {
        quick,
        sizes: [20_000],
        queries: 100,
        ingest: 2_000,
        ingestConns: [8, 32],
        ingestWindow: 100,
        subscribers: 200,
        fanoutEvents: 50,
        fanoutSpacingMs: 50,
        idleConns: 500,
        verifyEvents: 5_000,
        peerPreload: 'bulk',
        keepData: false,
      }
    : {
        quick,
        sizes: [100_000, 1_000_000],
        queries: 500,
        ingest: 30_000,
        ingestConns: [8, 32],
        ingestWindow: 100,
        subscribers: 1_000,
        fanoutEvents: 200,
        fanoutSpacingMs: 50,
        idleConns: 5_000,
        verifyEvents: 20_000,
        peerPreload: 'bulk',
        keepData: false,
      };
  const posInt = (k: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${k} needs a positive integer, got ${v}\n${USAGE}`);
    return n;
  };
  const list = (k: string, v: string | undefined): number[] => (v ?? '').split(',').map((x) => posInt(k, x.trim()));
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i] as string;
    const next = (): string | undefined => argv[++i];
    switch (k) {
      case '--quick':
        break;
      case '--only': {
        const v = next();
        if (v !== 'timmy' && v !== 'peer') throw new Error(`--only is timmy or peer\n${USAGE}`);
        plan.only = v;
        break;
      }
      case '--sizes':
        plan.sizes = [...new Set(list(k, next()))].sort((a, b) => a - b);
        break;
      case '--queries':
        plan.queries = posInt(k, next());
        break;
      case '--ingest':
        plan.ingest = posInt(k, next());
        break;
      case '--ingest-conns':
        plan.ingestConns = list(k, next());
        break;
      case '--window':
        plan.ingestWindow = posInt(k, next());
        break;
      case '--subscribers':
        plan.subscribers = posInt(k, next());
        break;
      case '--fanout-events':
        plan.fanoutEvents = posInt(k, next());
        break;
      case '--fanout-spacing':
        plan.fanoutSpacingMs = posInt(k, next());
        break;
      case '--idle-conns':
        plan.idleConns = posInt(k, next());
        break;
      case '--verify':
        plan.verifyEvents = posInt(k, next());
        break;
      case '--peer-preload': {
        const v = next();
        if (v !== 'bulk' && v !== 'upsert') throw new Error(`--peer-preload is bulk or upsert\n${USAGE}`);
        plan.peerPreload = v;
        break;
      }
      case '--keep-data':
        plan.keepData = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${k}\n${USAGE}`);
    }
  }
  return plan;
}
