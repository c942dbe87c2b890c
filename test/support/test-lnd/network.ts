// The in-memory Lightning network the test LND nodes share: channels with a balance on each side,
// a block height, routes found breadth-first (fewest hops; each forwarding node charges its
// channel's base fee), and HTLCs that lock the balance on every hop until the payee settles (the
// preimage must hash to the payment hash) or fails them. No gossip, no onion, no real HTLC
// scripts: see docs/wallet.md, "LND", for what only a real node can confirm.
import { createHash } from 'node:crypto';

export interface Channel {
  /** Short channel id, LND's numeric form (as a string). */
  readonly id: string;
  readonly a: string;
  readonly b: string;
  readonly capacityMsat: number;
  /** Settled balance per side (pubkey -> msat); HTLCs in flight are in neither. */
  readonly balance: Map<string, number>;
  /** What a node charges to forward a payment over this channel. */
  readonly baseFeeMsat: number;
}

export interface RouteHop {
  readonly channel: Channel;
  readonly from: string;
  readonly to: string;
  /** What crosses this channel (what `to` forwards, plus its fee). */
  readonly amountMsat: number;
  /** What `to` forwards (the final amount on the last hop). */
  readonly forwardMsat: number;
  /** What `to` keeps (0 on the last hop). */
  readonly feeMsat: number;
  /** The HTLC's CLTV expiry on this hop. */
  readonly expiry: number;
}

export interface Route {
  readonly hops: readonly RouteHop[];
  readonly totalMsat: number;
  readonly feeMsat: number;
  readonly timeLock: number;
}

export type RouteFailure = 'FAILURE_REASON_NO_ROUTE' | 'FAILURE_REASON_INSUFFICIENT_BALANCE';

/** What a payee receives. Exactly one of settle or fail takes effect. */
export interface IncomingHtlc {
  readonly id: number;
  readonly paymentHash: string;
  readonly amountMsat: number;
  readonly paymentAddr: string;
  readonly totalMsat: number;
  readonly expiryHeight: number;
  readonly acceptHeight: number;
  readonly chanId: string;
  settle(preimage: string): boolean;
  fail(): void;
}

export type HtlcOutcome = { readonly preimage: string } | { readonly failed: 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS' };

/** A node as the network sees it. */
export interface NetworkNode {
  readonly pubkey: string;
  receiveHtlc(h: IncomingHtlc): void;
  onBlock(height: number): void;
}

/** LND's `BlockPadding`: added to the final CLTV so a block mined while paying does not fail the payment. */
export const BLOCK_PADDING = 3;
const CLTV_DELTA = 40;
const MAX_HOPS = 4;

export class TestLnNetwork {
  height = 1000;
  readonly channels: Channel[] = [];
  private readonly nodes = new Map<string, NetworkNode>();
  private nextTx = 1;
  private nextHtlc = 1;

  register(node: NetworkNode): void {
    this.nodes.set(node.pubkey, node);
  }

  unregister(pubkey: string): void {
    this.nodes.delete(pubkey);
  }

  /** Opens a channel from `a` (holding `localMsat`) to `b` (holding `remoteMsat`). */
  openChannel(a: string, b: string, o: { localMsat: number; remoteMsat?: number; baseFeeMsat?: number }): Channel {
    const remote = o.remoteMsat ?? 0;
    const ch: Channel = {
      id: ((BigInt(this.height) << 40n) | (BigInt(this.nextTx++) << 16n)).toString(),
      a,
      b,
      capacityMsat: o.localMsat + remote,
      balance: new Map([
        [a, o.localMsat],
        [b, remote],
      ]),
      baseFeeMsat: o.baseFeeMsat ?? 0,
    };
    this.channels.push(ch);
    return ch;
  }

  /** Mines `n` blocks; nodes see each new height (hold invoices near their HTLC expiry are cancelled). */
  mine(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.height++;
      for (const node of this.nodes.values()) node.onBlock(this.height);
    }
  }

  /** Sum of a node's side of its channels, and of the other sides. */
  balances(pubkey: string): { localMsat: number; remoteMsat: number } {
    let localMsat = 0;
    let remoteMsat = 0;
    for (const ch of this.channels) {
      if (ch.a !== pubkey && ch.b !== pubkey) continue;
      const other = ch.a === pubkey ? ch.b : ch.a;
      localMsat += ch.balance.get(pubkey) ?? 0;
      remoteMsat += ch.balance.get(other) ?? 0;
    }
    return { localMsat, remoteMsat };
  }

  /** The first route with the liquidity (fewest hops first) whose fees stay within the limit. */
  findRoute(from: string, to: string, amountMsat: number, feeLimitMsat: number, finalCltv: number): Route | RouteFailure {
    if (this.balances(from).localMsat < amountMsat) return 'FAILURE_REASON_INSUFFICIENT_BALANCE';
    if (from === to) return 'FAILURE_REASON_NO_ROUTE';
    const paths: { node: string; via: Channel[] }[] = [{ node: from, via: [] }];
    for (let depth = 0; depth < MAX_HOPS && paths.length > 0; depth++) {
      const next: typeof paths = [];
      for (const p of paths) {
        for (const ch of this.channels) {
          if (ch.a !== p.node && ch.b !== p.node) continue;
          const peer = ch.a === p.node ? ch.b : ch.a;
          if (peer === from || p.via.some((c) => c.a === peer || c.b === peer)) continue;
          const via = [...p.via, ch];
          if (peer === to) {
            const r = this.price(from, via, amountMsat, finalCltv);
            if (r && r.feeMsat <= feeLimitMsat) return r;
          } else if (this.nodes.has(peer)) next.push({ node: peer, via });
        }
      }
      paths.splice(0, paths.length, ...next);
    }
    return 'FAILURE_REASON_NO_ROUTE';
  }

  /** Amounts and expiries along a path, or null where a channel lacks the balance. */
  private price(from: string, via: readonly Channel[], amountMsat: number, finalCltv: number): Route | null {
    const nodes = [from];
    for (const ch of via) nodes.push(ch.a === nodes.at(-1) ? ch.b : ch.a);
    const hops: RouteHop[] = [];
    let forward = amountMsat;
    let expiry = this.height + finalCltv + BLOCK_PADDING;
    for (let i = via.length - 1; i >= 0; i--) {
      const ch = via[i]!;
      const fee = i === via.length - 1 ? 0 : via[i + 1]!.baseFeeMsat;
      const amount = forward + fee;
      if ((ch.balance.get(nodes[i]!) ?? 0) < amount) return null;
      hops.unshift({ channel: ch, from: nodes[i]!, to: nodes[i + 1]!, amountMsat: amount, forwardMsat: forward, feeMsat: fee, expiry });
      forward = amount;
      if (i > 0) expiry += CLTV_DELTA;
    }
    return { hops, totalMsat: forward, feeMsat: forward - amountMsat, timeLock: expiry };
  }

  /**
   * Sends an HTLC along the route: the balance on each hop is locked; the payee gets the HTLC on
   * the next tick. Resolves with the preimage once the payee settles, or with the failure.
   */
  sendHtlc(route: Route, paymentHash: string, paymentAddr: string, totalMsat: number): Promise<HtlcOutcome> {
    for (const h of route.hops) h.channel.balance.set(h.from, (h.channel.balance.get(h.from) ?? 0) - h.amountMsat);
    const last = route.hops.at(-1)!;
    const payee = this.nodes.get(last.to);
    return new Promise<HtlcOutcome>((resolve) => {
      let done = false;
      const htlc: IncomingHtlc = {
        id: this.nextHtlc++,
        paymentHash,
        amountMsat: last.forwardMsat,
        paymentAddr,
        totalMsat,
        expiryHeight: last.expiry,
        acceptHeight: this.height,
        chanId: last.channel.id,
        settle: (preimage) => {
          if (done || createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex') !== paymentHash) return false;
          done = true;
          for (const h of route.hops) h.channel.balance.set(h.to, (h.channel.balance.get(h.to) ?? 0) + h.amountMsat);
          resolve({ preimage });
          return true;
        },
        fail: () => {
          if (done) return;
          done = true;
          for (const h of route.hops) h.channel.balance.set(h.from, (h.channel.balance.get(h.from) ?? 0) + h.amountMsat);
          resolve({ failed: 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS' });
        },
      };
      setImmediate(() => (payee ? payee.receiveHtlc(htlc) : htlc.fail()));
    });
  }
}
