// Test LND nodes on one in-memory network, for tests of the LND wallet backend (test/lnd*.test.ts).
//   const net = await testNetwork(['timmy', 'customer'], [['customer', 'timmy', 5_000_000_000]]);
//   net.nodes.timmy.connection()  -> { socket, cert (PEM), macaroon (hex) }
import { TestLnNetwork } from './network.js';
import { TestLnd } from './server.js';

export { TestLnNetwork } from './network.js';
export { TestLnd, PROTOS_DIR } from './server.js';
export { TestLndNode, HOLD_CANCEL_DELTA } from './node.js';
export { ADMIN_PERMISSIONS, INVOICE_PERMISSIONS, READONLY_PERMISSIONS, RPC_PERMISSIONS } from './macaroon.js';
export { selfSignedCert } from './cert.js';

export interface TestNetwork<N extends string> {
  readonly network: TestLnNetwork;
  readonly nodes: Record<N, TestLnd>;
  close(): Promise<void>;
}

/**
 * Starts a node per name and opens the channels [from, to, msat on from's side, msat on to's side?,
 * base fee?]. Every node gets 1 BTC on chain.
 */
export async function testNetwork<N extends string>(
  names: readonly N[],
  channels: readonly [N, N, number, number?, number?][] = [],
): Promise<TestNetwork<N>> {
  const network = new TestLnNetwork();
  const nodes = {} as Record<N, TestLnd>;
  try {
    for (const name of names) nodes[name] = await TestLnd.start({ network, alias: name, chainSat: 100_000_000 });
  } catch (err) {
    for (const n of Object.values<TestLnd>(nodes)) await n.close();
    throw err;
  }
  for (const [from, to, local, remote, fee] of channels) {
    network.openChannel(nodes[from].node.pubkey, nodes[to].node.pubkey, { localMsat: local, remoteMsat: remote ?? 0, baseFeeMsat: fee ?? 0 });
  }
  return {
    network,
    nodes,
    async close() {
      for (const n of Object.values<TestLnd>(nodes)) await n.close();
    },
  };
}
