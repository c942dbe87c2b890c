// Two LND nodes for the LND backend's tests: `a` (Timmy's) and `b` (a customer's), with a channel
// from b to a. By default two test LNDs on an in-memory network; with these variables set, two
// real regtest LND nodes instead (docs/wallet.md, "LND"):
//   TIMMY_TEST_LND_A_SOCKET, TIMMY_TEST_LND_A_CERT (path to tls.cert), TIMMY_TEST_LND_A_MACAROON (path to admin.macaroon)
//   TIMMY_TEST_LND_B_SOCKET, TIMMY_TEST_LND_B_CERT, TIMMY_TEST_LND_B_MACAROON
// Tests that need to control a node (stop it, lock it, mine blocks, bake macaroons) skip on real nodes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { LndWallet } from '../../../wallet/lnd/wallet.js';
import type { WalletConfig } from '../../../wallet/config.js';
import type { WalletLog } from '../../../wallet/lnd/invoices.js';
import { testNetwork, type TestNetwork } from './index.js';
import type { TestLnd } from './server.js';

export interface Connection {
  readonly socket: string;
  readonly cert: string;
  readonly macaroon: string;
}

export interface LndNode {
  readonly name: 'a' | 'b';
  connection(): Connection;
  /** The stand-in, when the node is one (null on a real node). */
  readonly testLnd: TestLnd | null;
}

export interface LndPair {
  readonly a: LndNode;
  readonly b: LndNode;
  /** The in-memory network (null with real nodes). */
  readonly net: TestNetwork<'a' | 'b'> | null;
  readonly real: boolean;
  close(): Promise<void>;
}

function fromEnv(name: 'A' | 'B'): Connection | null {
  const socket = process.env[`TIMMY_TEST_LND_${name}_SOCKET`];
  if (!socket) return null;
  const cert = readFileSync(process.env[`TIMMY_TEST_LND_${name}_CERT`] ?? '', 'utf8');
  const macaroon = readFileSync(process.env[`TIMMY_TEST_LND_${name}_MACAROON`] ?? '').toString('hex');
  return { socket, cert, macaroon };
}

/** True when the tests run against real LND nodes (the variables above are set). */
export const REAL_LND = !!process.env.TIMMY_TEST_LND_A_SOCKET;

/** Starts the pair: b has 0.05 BTC on its side of a channel to a, a has 0.01 BTC on its side. */
export async function lndPair(): Promise<LndPair> {
  const ra = fromEnv('A');
  const rb = fromEnv('B');
  if (ra && rb) {
    return {
      a: { name: 'a', connection: () => ra, testLnd: null },
      b: { name: 'b', connection: () => rb, testLnd: null },
      net: null,
      real: true,
      close: async () => {},
    };
  }
  const net = await testNetwork(['a', 'b'], [['b', 'a', 5_000_000_000, 1_000_000_000]]);
  return {
    a: { name: 'a', connection: () => net.nodes.a.connection(), testLnd: net.nodes.a },
    b: { name: 'b', connection: () => net.nodes.b.connection(), testLnd: net.nodes.b },
    net,
    real: false,
    close: () => net.close(),
  };
}

export interface TempLndWallet {
  readonly wallet: LndWallet;
  readonly dir: string;
  readonly path: string;
  readonly logs: { level: string; message: string }[];
  /** Opens another LndWallet on the same file (a restart). */
  reopen(o?: { connection?: Connection; config?: Partial<WalletConfig> }): Promise<LndWallet>;
  cleanup(): Promise<void>;
}

/** An LndWallet on a temporary wallet.sqlite, connected to `node` (regtest, fast polling). */
export async function tempLndWallet(node: LndNode, o: { config?: Partial<WalletConfig>; connection?: Connection } = {}): Promise<TempLndWallet> {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-lnd-'));
  const path = join(dir, 'wallet.sqlite');
  const nodeKey = secp256k1.utils.randomSecretKey();
  const logs: { level: string; message: string }[] = [];
  const log: WalletLog = (level, message) => logs.push({ level, message });
  const opened: LndWallet[] = [];
  const open = async (x: { connection?: Connection; config?: Partial<WalletConfig> } = {}) => {
    const w = await LndWallet.connect({
      path,
      nodeKey,
      lnd: x.connection ?? o.connection ?? node.connection(),
      log,
      config: { network: 'regtest', pollIntervalMs: 50, ...o.config, ...x.config, lnd: { timeoutMs: 2000, ...o.config?.lnd, ...x.config?.lnd } as WalletConfig['lnd'] },
    });
    opened.push(w);
    return w;
  };
  try {
    const wallet = await open();
    return {
      wallet,
      dir,
      path,
      logs,
      reopen: open,
      async cleanup() {
        for (const w of opened) await w.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
