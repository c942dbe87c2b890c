// Zaps (NIP-57) to the agents: each agent has an LNURL-pay endpoint (served by web/lnurl.ts) whose
// invoices credit its account, `agent:<name>`, and commit (BOLT11 `h`) to the zap request or the
// LNURL metadata. When a zap invoice is paid, the agent signs the zap receipt (kind 9735) and it is
// published to our relays and to those the zap request lists. A zap whose `e` tag names a job
// waiting for payment (the job request, or our payment-required feedback for it) pays that job
// instead (NIP-90: "pay the included bolt11 or zap"): its invoice is the job's escrow invoice, so
// paying it is paying the job (docs/wallet.md, "Zaps (NIP-57)").
import type { NostrClient } from '../nostr/client.js';
import type { NostrEvent } from '../nostr/nip01.js';
import { descriptionHash, lnurlMetadata, parseCallbackParams, parseZapRequest, payRequest, zapReceiptTemplate, ZAP_REQUEST_KIND, type PayRequest, type ZapRequest } from '../nostr/nip57.js';
import type { Signer } from '../nostr/signer.js';
import type { EventTemplate } from '../nostr/verify.js';
import type { JobStore } from '../dvm/jobs/store.js';
import type { InvoiceUpdate, Unsubscribe, Wallet } from '../wallet/wallet.js';

export class ZapError extends Error {
  override name = 'ZapError';
}

/** Whoever can be zapped here: an agent, or the coordinator (the name is the LNURL user name). */
export interface ZapRecipient {
  readonly name: string;
  readonly pubkey: string;
  readonly signer: Signer;
  readonly account: string;
}

export interface ZapsOptions {
  readonly wallet: Pick<Wallet, 'createInvoice' | 'onInvoicePaid' | 'decode' | 'paymentProof'>;
  readonly recipients: () => readonly ZapRecipient[];
  readonly jobs: Pick<JobStore, 'get' | 'update'>;
  /** The instance's client (embedded relay first): receipts go there, and feedback events are looked up there. */
  readonly client: NostrClient;
  /** Publishes to the relays a zap request lists (best effort, short-lived connections). */
  readonly publishElsewhere?: (relays: readonly string[], e: NostrEvent) => Promise<void>;
  /** Relays that `client` already reaches (the embedded relay's URL): not published to twice. */
  readonly ownRelays?: () => readonly string[];
  readonly minSendableMsat?: number;
  readonly maxSendableMsat?: number;
  readonly log?: (level: 'info' | 'warn', msg: string, ctx?: Record<string, unknown>) => void;
}

/**
 * The LNURL name of the coordinator, whose payment-required feedback a NIP-90 client zaps (its
 * plain zaps credit the instance's `fees`). An agent of the same name would shadow it.
 */
export const COORDINATOR_NAME = 'coordinator';

/** The coordinator's kind 0: just enough for a client to find its lightning address. */
export function coordinatorProfileTemplate(domain: string, createdAt: number): EventTemplate {
  const meta = { name: COORDINATOR_NAME, about: 'Timmy DVM coordinator: prices jobs and runs their auctions', lud16: `${COORDINATOR_NAME}@${domain}`, bot: true };
  return { kind: 0, created_at: createdAt, tags: [], content: JSON.stringify(meta) };
}

/** At most this many of a zap request's relays get the receipt. */
const MAX_RELAYS = 10;

export class Zaps {
  readonly minSendable: number;
  readonly maxSendable: number;
  private unsubscribe: Unsubscribe | undefined;

  constructor(private readonly o: ZapsOptions) {
    this.minSendable = o.minSendableMsat ?? 1000;
    this.maxSendable = o.maxSendableMsat ?? 100_000_000_000;
  }

  recipient(name: string): ZapRecipient | undefined {
    const n = name.toLowerCase();
    return this.o.recipients().find((r) => r.name.toLowerCase() === n);
  }

  /** LUD-06 metadata for `<name>@<host>`. */
  metadata(r: ZapRecipient, host: string): string {
    return lnurlMetadata(`Zap ${r.name}, a Timmy agent`, `${r.name}@${host}`);
  }

  /** `GET /.well-known/lnurlp/<name>`; undefined for a name nobody here has. */
  payRequest(name: string, o: { callback: string; host: string }): PayRequest | undefined {
    const r = this.recipient(name);
    if (!r) return undefined;
    return payRequest({ callback: o.callback, minSendable: this.minSendable, maxSendable: this.maxSendable, metadata: this.metadata(r, o.host), nostrPubkey: r.pubkey });
  }

  /**
   * The callback: an invoice for `amount`, committing to the zap request (`nostr`, checked per
   * NIP-57 Appendix D) or to the metadata (a plain LNURL payment). Throws ZapError for bad input.
   */
  async invoice(name: string, query: URLSearchParams, host: string): Promise<{ pr: string; routes: [] }> {
    const r = this.recipient(name);
    if (!r) throw new ZapError(`no one here is called ${name}`);
    const params = parseCallbackParams(query, this);
    if (!params.ok) throw new ZapError(params.reason);
    const amountMsat = params.value.amountMsat;
    if (params.value.nostr === undefined) {
      const metadata = this.metadata(r, host);
      const inv = await this.o.wallet.createInvoice({ amountMsat, description: metadata, descriptionHash: descriptionHash(metadata), account: r.account });
      return { pr: inv.bolt11, routes: [] };
    }
    const z = parseZapRequest(params.value.nostr, { amountMsat, receiptPubkey: r.pubkey });
    if (!z.ok) throw new ZapError(z.reason);
    if (z.value.recipient !== r.pubkey) throw new ZapError(`the zap request's p tag is not ${r.name}'s pubkey`);
    const jobId = z.value.eventId ? await this.jobFor(z.value.eventId, amountMsat) : undefined;
    // The description is the zap request and only it (57.md, step 6); the wallet keeps it for the receipt.
    const inv = await this.o.wallet.createInvoice({
      amountMsat,
      description: z.value.json,
      descriptionHash: descriptionHash(z.value.json),
      ...(jobId !== undefined ? { jobId } : { account: r.account }),
    });
    this.o.log?.('info', 'zap invoice', { to: r.name, amountMsat, job: jobId });
    return { pr: inv.bolt11, routes: [] };
  }

  /**
   * The job a zap pays, if its `e` tag names one: the job request itself, or our payment-required
   * feedback for it. A job that is not waiting for payment, or a smaller amount, is refused (the
   * customer would pay for nothing); an event that is no job of ours is a plain zap.
   */
  private async jobFor(eventId: string, amountMsat: number): Promise<string | undefined> {
    let job = this.o.jobs.get(eventId);
    if (!job) {
      const ours = new Set(this.o.recipients().map((r) => r.pubkey));
      const [fb] = await this.o.client.query([{ ids: [eventId], kinds: [7000], limit: 1 }], { timeoutMs: 2000 }).catch(() => []);
      const status = fb?.tags.find((t) => t[0] === 'status')?.[1];
      const req = fb?.tags.find((t) => t[0] === 'e')?.[1];
      if (!fb || !ours.has(fb.pubkey) || (status !== 'payment-required' && status !== 'payment_required') || !req) return undefined;
      job = this.o.jobs.get(req);
      if (!job) return undefined;
    }
    if (job.state !== 'awaiting-payment') throw new ZapError(`job ${job.id} is not waiting for payment (it is ${job.state})`);
    if (amountMsat < job.priceMsat) throw new ZapError(`job ${job.id} costs ${job.priceMsat} msat, more than ${amountMsat}`);
    return job.id;
  }

  /** Publishes a receipt for every zap invoice paid from now on. */
  start(): void {
    this.unsubscribe ??= this.o.wallet.onInvoicePaid((u) => this.onPaid(u));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private onPaid(u: InvoiceUpdate): void {
    const inv = u.invoice;
    const z = zapOf(inv.description, inv.amountMsat);
    if (!z) return;
    // Synchronously, before the DVM hears that the job's own invoice was cancelled by this payment:
    // the job now points at the invoice that paid it (dvm/service.ts awaitPayment reads it back).
    if (inv.jobId !== null) {
      const job = this.o.jobs.get(inv.jobId);
      if (job && job.state === 'awaiting-payment') this.o.jobs.update(job.id, { invoice: inv.bolt11, paymentHash: inv.paymentHash });
    }
    this.receipt(z, u).catch((err: unknown) => this.o.log?.('warn', 'zap receipt failed', { paymentHash: inv.paymentHash, error: (err as Error).message }));
  }

  private async receipt(z: ZapRequest, u: InvoiceUpdate): Promise<void> {
    const inv = u.invoice;
    const r = this.o.recipients().find((x) => x.pubkey === z.recipient);
    if (!r) return this.o.log?.('warn', 'zap paid to nobody here', { paymentHash: inv.paymentHash });
    // Only an invoice that commits to this zap request gets a receipt (Appendix E).
    const decoded = await this.o.wallet.decode(inv.bolt11);
    if (decoded.descriptionHash !== descriptionHash(inv.description)) return;
    const proof = await this.o.wallet.paymentProof(inv.paymentHash);
    const paidAt = inv.settledAt ?? Math.floor(Date.now() / 1000);
    const e = await r.signer.signEvent(zapReceiptTemplate({ request: z, bolt11: inv.bolt11, paidAt, ...(proof ? { preimage: proof.preimage } : {}) }));
    const res = await this.o.client.publish(e);
    if (!res.ok) this.o.log?.('warn', 'zap receipt not accepted', { id: e.id, answers: res.relays });
    const own = new Set(this.o.ownRelays?.() ?? []);
    const elsewhere = z.relays.filter((x) => /^wss?:\/\//.test(x) && !own.has(x)).slice(0, MAX_RELAYS);
    if (elsewhere.length > 0 && this.o.publishElsewhere) await this.o.publishElsewhere(elsewhere, e);
  }
}

/** The zap request an invoice's description holds, if it is one (checked when the invoice was made). */
function zapOf(description: string, amountMsat: number): ZapRequest | undefined {
  if (!description.startsWith('{')) return undefined;
  let kind: unknown;
  try {
    kind = (JSON.parse(description) as { kind?: unknown }).kind;
  } catch {
    return undefined;
  }
  if (kind !== ZAP_REQUEST_KIND) return undefined;
  const z = parseZapRequest(description, { amountMsat });
  return z.ok ? z.value : undefined;
}
