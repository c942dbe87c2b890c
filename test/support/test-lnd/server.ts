// A test LND: a gRPC server built from LND's own .proto files (the copies the `lightning` library
// ships), over TLS with a self-signed P-256 certificate made at start, checking a macaroon and the
// permission of every call, serving what the `lightning` library calls for invoices, hold
// invoices, payments and balances. Its node lives on as long as the object: stop() and start()
// take only the RPC interface down and up again (same port, certificate and macaroons), as when
// LND restarts or the connection to it breaks.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { selfSignedCert } from './cert.js';
import { ADMIN_PERMISSIONS, RPC_PERMISSIONS, bakeMacaroon, checkMacaroon, newRootKey } from './macaroon.js';
import { Code, RpcError, TestLndNode, type NodeInvoice, type NodePayment, type TestLndNodeOptions } from './node.js';
import { invoiceMessage, payReqMessage, paymentMessage, FEATURE_MAP } from './rpc.js';

const require = createRequire(import.meta.url);
/** LND's protos as shipped with the `lightning` package. */
export const PROTOS_DIR = join(dirname(require.resolve('lightning/package.json')), 'grpc', 'protos');

type Req = Record<string, unknown>;
type Unary = (req: Req) => Req | Promise<Req>;
type Streaming = (req: Req, call: grpc.ServerWritableStream<Req, Req>) => void;

function services(): { Lightning: grpc.ServiceDefinition; Invoices: grpc.ServiceDefinition; Router: grpc.ServiceDefinition } {
  const def = protoLoader.loadSync(['lightning.proto', 'invoices.proto', 'router.proto'], {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [PROTOS_DIR],
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as Record<string, Record<string, { service: grpc.ServiceDefinition }>>;
  return { Lightning: pkg.lnrpc!.Lightning!.service, Invoices: pkg.invoicesrpc!.Invoices!.service, Router: pkg.routerrpc!.Router!.service };
}

const toServiceError = (err: unknown): Partial<grpc.ServiceError> =>
  err instanceof RpcError ? { code: err.code, details: err.details, message: err.details } : { code: grpc.status.UNKNOWN, details: (err as Error).message, message: (err as Error).message };

const hex = (b: unknown) => (Buffer.isBuffer(b) ? b.toString('hex') : '');
const int = (s: unknown) => Number(s ?? 0);
const amount = (msat: number) => ({ sat: String(Math.floor(msat / 1000)), msat: String(msat) });

export interface TestLndOptions extends Omit<TestLndNodeOptions, 'network'> {
  readonly network: TestLndNodeOptions['network'];
}

export class TestLnd {
  readonly node: TestLndNode;
  readonly rootKey = newRootKey();
  readonly cert: string;
  private readonly key: string;
  /** admin.macaroon (hex). */
  readonly adminMacaroon: string;
  /** While true every RPC answers as a locked LND does. */
  locked = false;
  /** Every RPC path called, in order (what the `lightning` library actually uses). */
  readonly calls: string[] = [];
  private server: grpc.Server | null = null;
  private port = 0;

  private constructor(o: TestLndOptions) {
    this.node = new TestLndNode(o);
    const c = selfSignedCert({ commonName: this.node.alias });
    this.cert = c.cert;
    this.key = c.key;
    this.adminMacaroon = bakeMacaroon(this.rootKey, ADMIN_PERMISSIONS);
  }

  static async start(o: TestLndOptions): Promise<TestLnd> {
    const t = new TestLnd(o);
    await t.start();
    return t;
  }

  /** host:port of the gRPC interface. */
  get socket(): string {
    return `localhost:${this.port}`;
  }

  get running(): boolean {
    return this.server !== null;
  }

  /** What a client needs: socket, the certificate (PEM) and a macaroon (hex; admin unless given). */
  connection(macaroon = this.adminMacaroon): { socket: string; cert: string; macaroon: string } {
    return { socket: this.socket, cert: this.cert, macaroon };
  }

  /** A macaroon with these LND permissions (e.g. ['info:read', 'invoices:read']). */
  macaroon(permissions: readonly string[]): string {
    return bakeMacaroon(this.rootKey, permissions);
  }

  /** Starts (or restarts) the RPC interface, on the same port as before. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = new grpc.Server();
    const s = services();
    server.addService(s.Lightning, this.lightning());
    server.addService(s.Invoices, this.invoices());
    server.addService(s.Router, this.router());
    const creds = grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(this.key), cert_chain: Buffer.from(this.cert) }], false);
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(`localhost:${this.port}`, creds, (err, port) => (err ? reject(err) : resolve(port))));
    this.server = server;
  }

  /** Takes the RPC interface down (open streams end with an error); the node keeps its state. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.forceShutdown();
  }

  /** Stops the RPC interface and the node (its timers; it leaves the network). */
  async close(): Promise<void> {
    await this.stop();
    this.node.close();
  }

  private check(path: string, metadata: grpc.Metadata): RpcError | null {
    this.calls.push(path);
    if (this.locked) return new RpcError(Code.UNKNOWN, 'wallet locked, unlock it to enable full RPC access');
    const need = RPC_PERMISSIONS[path];
    if (!need) return new RpcError(Code.UNIMPLEMENTED, `unknown method ${path}`);
    const err = checkMacaroon(this.rootKey, metadata.get('macaroon'), need);
    return err ? new RpcError(Code.UNKNOWN, err) : null;
  }

  private unary(path: string, fn: Unary): grpc.handleUnaryCall<Req, Req> {
    return (call, callback) => {
      const denied = this.check(path, call.metadata);
      if (denied) return callback(toServiceError(denied));
      Promise.resolve()
        .then(() => fn(call.request))
        .then(
          (res) => callback(null, res),
          (err: unknown) => callback(toServiceError(err)),
        );
    };
  }

  private stream(path: string, fn: Streaming): grpc.handleServerStreamingCall<Req, Req> {
    return (call) => {
      const denied = this.check(path, call.metadata);
      if (denied) return void call.emit('error', toServiceError(denied));
      try {
        fn(call.request, call);
      } catch (err) {
        call.emit('error', toServiceError(err));
      }
    };
  }

  private lightning(): grpc.UntypedServiceImplementation {
    const n = this.node;
    const L = '/lnrpc.Lightning/';
    return {
      GetInfo: this.unary(L + 'GetInfo', () => {
        const chans = n.network.channels.filter((c) => c.a === n.pubkey || c.b === n.pubkey);
        const peers = new Set(chans.map((c) => (c.a === n.pubkey ? c.b : c.a)));
        return {
          version: '0.18.5-beta test-lnd',
          commit_hash: '',
          identity_pubkey: n.pubkey,
          alias: n.alias,
          color: '#3399ff',
          num_pending_channels: 0,
          num_active_channels: chans.length,
          num_inactive_channels: 0,
          num_peers: peers.size,
          block_height: n.network.height,
          block_hash: n.network.height.toString(16).padStart(64, '0'),
          best_header_timestamp: String(Math.floor(Date.now() / 1000)),
          synced_to_chain: true,
          synced_to_graph: true,
          chains: [{ chain: 'bitcoin', network: 'regtest' }],
          uris: [],
          features: FEATURE_MAP,
        };
      }),
      ChannelBalance: this.unary(L + 'ChannelBalance', () => {
        const b = n.network.balances(n.pubkey);
        return {
          balance: String(Math.floor(b.localMsat / 1000)),
          pending_open_balance: '0',
          local_balance: amount(b.localMsat),
          remote_balance: amount(b.remoteMsat),
          unsettled_local_balance: amount(0),
          unsettled_remote_balance: amount(0),
          pending_open_local_balance: amount(0),
          pending_open_remote_balance: amount(0),
        };
      }),
      WalletBalance: this.unary(L + 'WalletBalance', () => ({
        total_balance: String(n.chainSat),
        confirmed_balance: String(n.chainSat),
        unconfirmed_balance: '0',
        locked_balance: '0',
        reserved_balance_anchor_chan: '0',
        account_balance: {},
      })),
      AddInvoice: this.unary(L + 'AddInvoice', (r) => {
        const inv = n.addInvoice({
          valueMsat: int(r.value_msat) || int(r.value) * 1000,
          memo: String(r.memo ?? ''),
          descriptionHash: hex(r.description_hash) || null,
          expiry: int(r.expiry),
          cltv: int(r.cltv_expiry),
          ...(hex(r.r_preimage) ? { preimage: hex(r.r_preimage) } : {}),
        });
        return { r_hash: Buffer.from(inv.hash, 'hex'), payment_request: inv.request, add_index: String(inv.addIndex), payment_addr: Buffer.from(inv.paymentAddr, 'hex') };
      }),
      LookupInvoice: this.unary(L + 'LookupInvoice', (r) => invoiceMessage(n.lookup(hex(r.r_hash) || String(r.r_hash_str ?? '')))),
      DecodePayReq: this.unary(L + 'DecodePayReq', (r) => payReqMessage(n.decode(String(r.pay_req ?? '')))),
      SendCoins: this.unary(L + 'SendCoins', (r) => ({ txid: n.sendCoins(String(r.addr ?? ''), r.send_all ? n.chainSat : int(r.amount)) })),
      NewAddress: this.unary(L + 'NewAddress', () => ({ address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080' })),
    };
  }

  private invoices(): grpc.UntypedServiceImplementation {
    const n = this.node;
    const I = '/invoicesrpc.Invoices/';
    return {
      AddHoldInvoice: this.unary(I + 'AddHoldInvoice', (r) => {
        const inv = n.addInvoice({
          hash: hex(r.hash),
          valueMsat: int(r.value_msat) || int(r.value) * 1000,
          memo: String(r.memo ?? ''),
          descriptionHash: hex(r.description_hash) || null,
          expiry: int(r.expiry),
          cltv: int(r.cltv_expiry),
        });
        return { payment_request: inv.request, add_index: String(inv.addIndex), payment_addr: Buffer.from(inv.paymentAddr, 'hex') };
      }),
      SettleInvoice: this.unary(I + 'SettleInvoice', (r) => (n.settle(hex(r.preimage)), {})),
      CancelInvoice: this.unary(I + 'CancelInvoice', (r) => (n.cancel(hex(r.payment_hash)), {})),
      LookupInvoiceV2: this.unary(I + 'LookupInvoiceV2', (r) => invoiceMessage(n.lookup(hex(r.payment_hash)))),
      SubscribeSingleInvoice: this.stream(I + 'SubscribeSingleInvoice', (r, call) => {
        const off = n.subscribeInvoice(hex(r.r_hash), (inv: NodeInvoice) => {
          if (call.writableEnded) return;
          call.write(invoiceMessage(inv));
          if (inv.state === 'SETTLED' || inv.state === 'CANCELED') {
            off();
            call.end();
          }
        });
        call.on('cancelled', off);
        call.on('close', off);
      }),
    };
  }

  private router(): grpc.UntypedServiceImplementation {
    const n = this.node;
    const R = '/routerrpc.Router/';
    const follow = (hash: string, call: grpc.ServerWritableStream<Req, Req>) => {
      const off = n.subscribePayment(hash, (p: NodePayment) => {
        if (call.writableEnded) return;
        call.write(paymentMessage(p));
        if (p.status !== 'IN_FLIGHT') {
          off();
          call.end();
        }
      });
      call.on('cancelled', off);
      call.on('close', off);
    };
    return {
      SendPaymentV2: this.stream(R + 'SendPaymentV2', (r, call) => {
        const feeLimitMsat = int(r.fee_limit_msat) || int(r.fee_limit_sat) * 1000;
        const p = n.sendPayment({ request: String(r.payment_request ?? ''), amtMsat: int(r.amt_msat) || int(r.amt) * 1000, feeLimitMsat });
        follow(p.hash, call);
      }),
      TrackPaymentV2: this.stream(R + 'TrackPaymentV2', (r, call) => follow(hex(r.payment_hash), call)),
    };
  }
}
