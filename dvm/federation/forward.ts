// Forwarding (docs/federation.md, "Forwarding"): a job of a kind no agent here serves goes to a
// peer instance whose vouched agents serve it (a paid one only to a peer announcing Lightning,
// when our wallet can pay it: see quote()). The coordinator becomes the peer's customer: it signs
// a NIP-90 request of its own with the same inputs and params, chained to the original
// (`["e", <id>, <relay>, "forwarded-from"]`, one per request up the chain, nearest first) and counted
// (`["timmy-hops", "<n>"]`), sends it to the peer's announced relays and waits for its result.
//
// Loops are impossible: a request forwarded `maxHops` times is not forwarded again, and a request
// whose chain holds a job this instance already has (the job store is the seen-set) is refused.
import type { NostrClient } from '../../nostr/client.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import { normalizeFeedbackStatus, parseJobResult, resultKind, type JobRequest } from '../../nostr/nip90.js';
import type { Signer } from '../../nostr/signer.js';
import type { ForwardConfig } from './config.js';
import type { Peer } from './directory.js';

export const FORWARDED_FROM = 'forwarded-from';
export const HOPS_TAG = 'timmy-hops';
/** On the result delivered to the customer: `["forwarded", <peer instance>, <peer's result id>, <agent that did the work>]`. */
export const FORWARDED_TAG = 'forwarded';

export const PAID_NOT_FORWARDED = 'the peer asks for payment, and this job is forwarded as a free one';
export const NO_LIGHTNING = 'a paid job is forwarded only by a wallet that pays other Lightning nodes (wallet.backend "lnd")';

/** How long the first answer of a peer to a paid forward (its invoice) may take. */
export const QUOTE_TIMEOUT_MS = 30_000;

export class ForwardError extends Error {
  override name = 'ForwardError';
  constructor(
    message: string,
    /** The peer itself failed the job (its `error` feedback): nothing to withdraw. */
    readonly byPeer = false,
  ) {
    super(message);
  }
}

/** What the forwarder needs to know of the peer directory. */
export interface PeerLookup {
  peers(): Peer[];
  serving(kind: number): Peer[];
  get(pubkey: string): Peer | undefined;
}

export interface ForwarderOptions {
  readonly directory: PeerLookup;
  /** The coordinator (instance key): it signs the forwarded requests. */
  readonly signer: Signer;
  /** A client to the peer's relays (a WsClient in production and in tests); closed after each job. */
  readonly connect: (relays: readonly string[]) => NostrClient;
  readonly config: ForwardConfig;
  /** This instance's free kinds (dvm.freeKinds): others are paid jobs, forwarded only with `payExternal`. */
  readonly freeKinds: readonly number[];
  /** Our wallet pays other Lightning nodes: paid jobs may be forwarded (to peers announcing Lightning). */
  readonly payExternal?: boolean;
  /** A peer agent's reputation score (0..1): among peers asking the same, the best agents' instance is chosen. */
  readonly score?: (pubkey: string) => number;
  /** The seen-set: whether this instance already has a job with this request id. */
  readonly known: (id: string) => boolean;
  /** Where the original requests can be found (the `e` tags' relay hint). */
  readonly relayHint?: string;
  readonly now?: () => number;
}

/** The record of a forward, kept with the job's transition so a restart can wait for the same result. */
export interface ForwardRecord {
  readonly peer: string;
  readonly name: string;
  readonly request: string;
  readonly relays: readonly string[];
  /** Who may answer: the peer's instance key and its vouched agents. */
  readonly answerers: readonly string[];
}

export interface Forwarded {
  readonly result: NostrEvent;
  readonly record: ForwardRecord;
}

/** The chain a request carries: the requests it forwards (nearest first) and how many hops it made. */
export function forwardChain(e: NostrEvent): { ids: string[]; hops: number } {
  const ids = e.tags.filter((t) => t[0] === 'e' && t[3] === FORWARDED_FROM && t[1]).map((t) => t[1]!);
  const declared = Number(e.tags.find((t) => t[0] === HOPS_TAG)?.[1]);
  return { ids, hops: Math.max(ids.length, Number.isSafeInteger(declared) && declared > 0 ? declared : 0) };
}

export interface WaitOptions {
  /** Aborted when the customer cancels or the instance stops. */
  readonly signal: AbortSignal;
  /** True when giving up must not withdraw the request (the instance is stopping: a restart waits again). */
  readonly keep?: () => boolean;
  /** A paid forward: the peer's payment-required feedback is expected, not a reason to give up. */
  readonly paid?: boolean;
}

/** The peer's answer to a paid forward: its invoice, or null when it takes the job for free. */
export interface Quote {
  readonly record: ForwardRecord;
  readonly invoice: { readonly amountMsat: number; readonly bolt11: string } | null;
}

/** The cheapest announced ask of a peer's agents for `kind` (unknown: none announced). */
function askOf(p: Peer, kind: number): number {
  const asks = p.agents.filter((a) => a.kinds.includes(kind)).map((a) => a.askMsat?.[String(kind)] ?? Number.POSITIVE_INFINITY);
  return Math.min(Number.POSITIVE_INFINITY, ...asks);
}

export type Plan = { ok: true; peer: Peer } | { ok: false; reason: string };

export class Forwarder {
  private readonly now: () => number;

  constructor(private readonly o: ForwarderOptions) {
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Request kinds some peer serves (the DVM listens for them on its own relay). */
  peerKinds(): number[] {
    if (!this.o.config.enabled) return [];
    return [...new Set(this.o.directory.peers().flatMap((p) => p.agents.flatMap((a) => a.kinds)))].sort((a, b) => a - b);
  }

  /** federation.forward.feePct: our fee on a forwarded paid job, in percent of what the peer asks. */
  get feePct(): number {
    return this.o.config.feePct;
  }

  peer(pubkey: string): Peer | undefined {
    return this.o.directory.get(pubkey);
  }

  /** Whether and where `req` may be forwarded; the reason when not. */
  plan(req: JobRequest): Plan {
    const c = this.o.config;
    if (!c.enabled) return { ok: false, reason: 'forwarding is off (federation.forward.enabled)' };
    if (req.encryption) return { ok: false, reason: 'an encrypted request is not forwarded' };
    const chain = forwardChain(req.event);
    if (chain.hops >= c.maxHops) return { ok: false, reason: `the request was already forwarded ${chain.hops} time(s), and federation.forward.maxHops is ${c.maxHops}` };
    if (chain.ids.some((id) => this.o.known(id))) return { ok: false, reason: 'it forwards a job this instance already has (a loop): not forwarded again' };
    const serving = this.o.directory.serving(req.kind).filter((p) => p.announcement.relays.length > 0);
    if (serving.length === 0) return { ok: false, reason: `no known peer instance serves kind ${req.kind} either` };
    const paid = !this.o.freeKinds.includes(req.kind);
    if (paid && !this.o.payExternal) return { ok: false, reason: NO_LIGHTNING };
    const score = this.o.score;
    const best = (p: Peer): number => (score ? Math.max(0, ...p.agents.filter((a) => a.kinds.includes(req.kind)).map((a) => score(a.pubkey))) : 0);
    // The instance that forwarded the request to us goes last: asking it back is a last resort.
    // Then the cheapest announced ask, then the best reputation among the agents serving the kind.
    const peers = serving
      .filter((p) => !paid || p.announcement.lightning === true)
      .sort((a, b) => Number(a.pubkey === req.customer) - Number(b.pubkey === req.customer) || askOf(a, req.kind) - askOf(b, req.kind) || best(b) - best(a));
    const peer = peers[0];
    if (!peer) return { ok: false, reason: `no peer instance serving kind ${req.kind} can be paid over Lightning` };
    return { ok: true, peer };
  }

  /** The request the coordinator sends to `peer` for `req` (unsigned). */
  subRequest(req: JobRequest, peer: Peer, bidMsat?: number): { kind: number; created_at: number; tags: string[][]; content: string } {
    const chain = forwardChain(req.event);
    const copied = req.event.tags.filter((t) => t[0] === 'i' || t[0] === 'param' || t[0] === 'output').map((t) => [...t]);
    const providers = peer.agents.filter((a) => a.kinds.includes(req.kind)).map((a) => ['p', a.pubkey]);
    const hint = this.o.relayHint ?? '';
    const ancestors = req.event.tags.filter((t) => t[0] === 'e' && t[3] === FORWARDED_FROM).map((t) => [...t]);
    return {
      kind: req.kind,
      created_at: this.now(),
      content: '',
      tags: [
        ...copied,
        ...providers,
        ['e', req.id, hint, FORWARDED_FROM],
        ...ancestors,
        [HOPS_TAG, String(chain.hops + 1)],
        ...(bidMsat !== undefined ? [['bid', String(bidMsat)]] : []),
      ],
    };
  }

  /**
   * Sends the forwarded request and waits for the peer's result. `onSent` is called once the peer's
   * relays took it (persist the record there). Rejects with ForwardError on the peer's error or
   * payment-required feedback, a timeout, or when no relay of the peer takes the request.
   */
  async forward(req: JobRequest, peer: Peer, o: WaitOptions & { onSent: (sub: NostrEvent, record: ForwardRecord) => void }): Promise<Forwarded> {
    const sub = await this.o.signer.signEvent(this.subRequest(req, peer));
    const record = recordOf(sub, peer);
    return this.wait(req.kind, record, o, async (client) => {
      const r = await client.publish(sub);
      if (!r.ok) throw new ForwardError(`no relay of the peer instance ${record.name} took the forwarded request: ${r.relays.map((x) => x.message).join('; ')}`);
      o.onSent(sub, record);
    });
  }

  /**
   * A paid forward, first step: sends the request with our `bid` and waits for the peer's answer:
   * its invoice (payment-required), or null when it takes the job for free (processing or a
   * result). Rejects with ForwardError on the peer's error, a timeout, or no relay taking the
   * request; given up, the request is withdrawn.
   */
  async quote(req: JobRequest, peer: Peer, o: { bidMsat?: number; signal: AbortSignal; timeoutMs?: number }): Promise<Quote> {
    const sub = await this.o.signer.signEvent(this.subRequest(req, peer, o.bidMsat));
    const record = recordOf(sub, peer);
    const answerers = new Set(record.answerers);
    const client = this.o.connect(record.relays);
    const ms = o.timeoutMs ?? QUOTE_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(ms);
    const both = AbortSignal.any([o.signal, timeout]);
    let sent = false;
    try {
      return await new Promise<Quote>((resolve, reject) => {
        const onAbort = () => reject(timeout.aborted && !o.signal.aborted ? new ForwardError(`the peer instance ${record.name} did not answer within ${Math.round(ms / 1000)} s`) : o.signal.reason);
        if (both.aborted) return onAbort();
        both.addEventListener('abort', onAbort, { once: true });
        const done = (f: () => void) => {
          both.removeEventListener('abort', onAbort);
          f();
        };
        client.subscribe([{ kinds: [resultKind(req.kind), 7000], '#e': [sub.id] }], {
          onEvent: (e) => {
            if (!answerers.has(e.pubkey) || !e.tags.some((t) => t[0] === 'e' && t[1] === sub.id)) return;
            if (e.kind === resultKind(req.kind)) return done(() => resolve({ record, invoice: null }));
            const st = e.tags.find((t) => t[0] === 'status');
            const status = normalizeFeedbackStatus(st?.[1]);
            if (status === 'payment-required') {
              const amount = e.tags.find((t) => t[0] === 'amount');
              const msat = Number(amount?.[1]);
              const bolt11 = amount?.[2];
              if (!bolt11 || !Number.isSafeInteger(msat) || msat <= 0) return done(() => reject(new ForwardError(`the peer instance ${record.name} asked for payment without an invoice`)));
              return done(() => resolve({ record, invoice: { amountMsat: msat, bolt11 } }));
            }
            if (status === 'processing') return done(() => resolve({ record, invoice: null }));
            if (status === 'error') return done(() => reject(new ForwardError(`the peer instance ${record.name} refused the job: ${st?.[2] || 'no reason given'}`, true)));
          },
          onEose: () =>
            void client.publish(sub).then(
              (r) => {
                sent = true;
                if (!r.ok) done(() => reject(new ForwardError(`no relay of the peer instance ${record.name} took the forwarded request: ${r.relays.map((x) => x.message).join('; ')}`)));
              },
              (err: unknown) => done(() => reject(err)),
            ),
        });
      });
    } catch (err) {
      if (sent && !(err instanceof ForwardError && err.byPeer)) await this.withdraw(client, req.kind, sub.id, err).catch(() => undefined);
      throw err;
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  /** Withdraws a forwarded request (its job here ended before the peer's): a NIP-09 deletion on the peer's relays. */
  async withdrawRecord(kind: number, record: ForwardRecord, why: string): Promise<void> {
    const client = this.o.connect(record.relays);
    try {
      await this.withdraw(client, kind, record.request, new Error(why));
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  /** Waits (again, after a restart) for the result of a request already forwarded. */
  resume(kind: number, record: ForwardRecord, o: WaitOptions): Promise<Forwarded> {
    return this.wait(kind, record, o);
  }

  /** Waits for the result of `record.request`, sent first with `send` (none: it was sent before a restart). */
  private async wait(kind: number, record: ForwardRecord, o: WaitOptions, send?: (client: NostrClient) => Promise<void>): Promise<Forwarded> {
    const signal = o.signal;
    const client = this.o.connect(record.relays);
    const timeout = AbortSignal.timeout(this.o.config.timeoutSeconds * 1000);
    const both = AbortSignal.any([signal, timeout]);
    const answerers = new Set(record.answerers);
    // Whether the peer may have the request (a publish was attempted): then giving up withdraws it.
    let out = send === undefined;
    try {
      return await new Promise<Forwarded>((resolve, reject) => {
        const onAbort = () =>
          reject(timeout.aborted && !signal.aborted ? new ForwardError(`the peer instance ${record.name} sent no result within ${this.o.config.timeoutSeconds} s`) : signal.reason);
        if (both.aborted) return onAbort();
        both.addEventListener('abort', onAbort, { once: true });
        const done = (f: () => void) => {
          both.removeEventListener('abort', onAbort);
          f();
        };
        // A result that comes before the peer's relays acknowledged the request waits for onSent.
        let sent = false;
        let early: Forwarded | undefined;
        const onEvent = (e: NostrEvent) => {
          if (!answerers.has(e.pubkey) || !e.tags.some((t) => t[0] === 'e' && t[1] === record.request)) return;
          if (e.kind === resultKind(kind)) {
            const r = parseJobResult(e);
            if (!r.ok || r.value.requestId !== record.request || r.value.encrypted) return;
            if (sent) done(() => resolve({ result: e, record }));
            else early ??= { result: e, record };
            return;
          }
          const st = e.tags.find((t) => t[0] === 'status');
          const status = normalizeFeedbackStatus(st?.[1]);
          if (status === 'payment-required' && !o.paid) done(() => reject(new ForwardError(PAID_NOT_FORWARDED)));
          if (status === 'error') done(() => reject(new ForwardError(`the peer instance ${record.name} failed the job: ${st?.[2] || 'no reason given'}`, true)));
        };
        client.subscribe([{ kinds: [resultKind(kind), 7000], '#e': [record.request] }], {
          onEvent,
          onEose: () =>
            void (async () => {
              out = true;
              await send?.(client);
            })().then(
              () => {
                sent = true;
                const r = early;
                if (r) done(() => resolve(r));
              },
              (err: unknown) => done(() => reject(err)),
            ),
        });
      });
    } catch (err) {
      // Given up (the peer asks for payment, no result in time, the customer cancelled): the peer's
      // job is withdrawn with a NIP-09 deletion, which its DVM reads as the customer cancelling.
      if (out && !(err instanceof ForwardError && err.byPeer) && !o.keep?.()) await this.withdraw(client, kind, record.request, err).catch(() => undefined);
      throw err;
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  private async withdraw(client: NostrClient, kind: number, id: string, why: unknown): Promise<void> {
    const reason = why instanceof Error ? why.message : 'given up';
    const del = await this.o.signer.signEvent({ kind: 5, created_at: this.now(), tags: [['e', id], ['k', String(kind)]], content: `forward withdrawn: ${reason}` });
    await client.publish(del);
  }
}

function recordOf(sub: NostrEvent, peer: Peer): ForwardRecord {
  return {
    peer: peer.pubkey,
    name: peer.announcement.name,
    request: sub.id,
    relays: [...peer.announcement.relays],
    answerers: [peer.pubkey, ...peer.agents.map((a) => a.pubkey)],
  };
}
