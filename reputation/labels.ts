// Timmy's job labels (docs/protocol.md, "Job labels"): NIP-32 kind 1985 events in the namespace
// `ai.timmy.job` that say how a job went for the agent that did it. Builds them, and reads any
// label event into the observations a score is made of, or the reason it does not count.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { isHex64, type NostrEvent } from '../nostr/nip01.js';
import { LABEL_KIND, labelTemplate, parseLabelEvent, type LabelTarget } from '../nostr/nip32.js';
import type { EventTemplate } from '../nostr/verify.js';

export const JOB_NAMESPACE = 'ai.timmy.job';
export const OUTCOMES = ['delivered', 'late', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const RATING_PREFIX = 'rating/';
export const MIN_RATING = 1;
export const MAX_RATING = 5;

/** Why a label event does not count (a metric label: a bounded set). */
export const IGNORE_REASONS = [
  'not-a-label', // another kind, or NIP-32 rules broken (no target, unmarked l)
  'wrong-namespace', // a label, but not in ai.timmy.job
  'no-target', // no p tag naming the agent
  'bad-signature',
  'bad-rating', // rating/N outside 1..5 or not an integer
  'conflicting', // two ratings or two outcomes in one event
  'no-known-label', // only labels this namespace does not define
  'self-label', // an agent labelling itself
  'future', // created_at more than an hour ahead
  'deleted', // removed by a NIP-09 deletion from its author
] as const;
export type IgnoreReason = (typeof IGNORE_REASONS)[number];

/** How far in the future a label may be dated and still count (clocks drift; relays bound it too). */
export const MAX_FUTURE_SECONDS = 3600;

/** One label's statement about one agent: the unit a score is made of. */
export interface Observation {
  readonly id: string;
  readonly rater: string;
  readonly subject: string;
  /** The job request the label is about (first `e` marked `request`, else the first `e`), if any. */
  readonly job: string | null;
  readonly createdAt: number;
  /** 1 = all good, 0 = all bad: rating (r-1)/4, else delivered 1, late 0.5, failed 0. */
  readonly x: number;
  readonly rating: number | null;
  readonly outcome: Outcome | null;
  /** Payment hash of a valid proof of payment (bolt11 + preimage), else null. */
  readonly paymentHash: string | null;
}

export type LabelReading = { readonly ok: true; readonly observations: readonly Observation[]; readonly badProof: boolean } | { readonly ok: false; readonly reason: IgnoreReason };

export interface ReadOptions {
  /** Reads an invoice's payment hash and amount (the wallet's BOLT11 reader); null if it is not one. */
  readonly readInvoice: (bolt11: string) => { paymentHash: string; amountMsat: number | null } | null;
  /** Id and signature check; leave out for events that were verified on the way in (relay, client). */
  readonly verify?: (e: NostrEvent) => boolean;
  /** Unix seconds, for the future bound. */
  readonly now: number;
}

export const outcomeValue: Record<Outcome, number> = { delivered: 1, late: 0.5, failed: 0 };
export const ratingValue = (r: number): number => (r - MIN_RATING) / (MAX_RATING - MIN_RATING);

/** The payment hash a `bolt11` + `preimage` pair proves paid, or null. */
function paymentProof(e: NostrEvent, readInvoice: ReadOptions['readInvoice']): { hash: string | null; present: boolean } {
  const bolt11 = e.tags.find((t) => t[0] === 'bolt11')?.[1];
  const preimage = e.tags.find((t) => t[0] === 'preimage')?.[1];
  if (bolt11 === undefined && preimage === undefined) return { hash: null, present: false };
  if (bolt11 === undefined || !isHex64(preimage)) return { hash: null, present: true };
  const inv = readInvoice(bolt11);
  if (!inv || !inv.amountMsat || inv.amountMsat <= 0) return { hash: null, present: true };
  const hash = bytesToHex(sha256(hexToBytes(preimage)));
  return { hash: hash === inv.paymentHash ? hash : null, present: true };
}

/** Reads a label event into observations (one per agent it names), or says why it does not count. */
export function readJobLabel(e: NostrEvent, o: ReadOptions): LabelReading {
  if (e.kind !== LABEL_KIND) return { ok: false, reason: 'not-a-label' };
  if (o.verify && !o.verify(e)) return { ok: false, reason: 'bad-signature' };
  const p = parseLabelEvent(e);
  if (!p.ok) return { ok: false, reason: p.reason.startsWith('no target') ? 'no-target' : 'not-a-label' };
  const ours = p.value.labels.filter((l) => l.namespace === JOB_NAMESPACE).map((l) => l.value);
  if (ours.length === 0) return { ok: false, reason: 'wrong-namespace' };
  if (e.created_at > o.now + MAX_FUTURE_SECONDS) return { ok: false, reason: 'future' };

  const ratings = ours.filter((v) => v.startsWith(RATING_PREFIX)).map((v) => v.slice(RATING_PREFIX.length));
  const outcomes = ours.filter((v): v is Outcome => (OUTCOMES as readonly string[]).includes(v));
  if (ratings.length > 1 || outcomes.length > 1) return { ok: false, reason: 'conflicting' };
  let rating: number | null = null;
  if (ratings.length === 1) {
    const r = ratings[0]!;
    if (!/^[1-9][0-9]*$/.test(r) || Number(r) < MIN_RATING || Number(r) > MAX_RATING) return { ok: false, reason: 'bad-rating' };
    rating = Number(r);
  }
  const outcome = outcomes[0] ?? null;
  if (rating === null && outcome === null) return { ok: false, reason: 'no-known-label' };

  const subjects = [...new Set(p.value.targets.filter((t) => t.type === 'p' && isHex64(t.value)).map((t) => t.value))];
  if (subjects.length === 0) return { ok: false, reason: 'no-target' };
  const others = subjects.filter((s) => s !== e.pubkey);
  if (others.length === 0) return { ok: false, reason: 'self-label' };

  const es = p.value.targets.filter((t) => t.type === 'e' && isHex64(t.value));
  const job = (es.find((t) => t.marker === 'request') ?? es.find((t) => t.marker !== 'result'))?.value ?? null;
  const proof = paymentProof(e, o.readInvoice);
  const x = rating !== null ? ratingValue(rating) : outcomeValue[outcome!];
  const observations = others.map((subject) => ({ id: e.id, rater: e.pubkey, subject, job, createdAt: e.created_at, x, rating, outcome, paymentHash: proof.hash }));
  return { ok: true, observations, badProof: proof.present && proof.hash === null };
}

export interface JobLabelInput {
  /** The agent the label is about. */
  readonly agent: string;
  readonly request?: string;
  readonly result?: string;
  /** The request's kind, as a `k` tag (lets clients filter labels by job kind). */
  readonly kind?: number;
  readonly outcome?: Outcome;
  readonly rating?: number;
  readonly comment?: string;
  /** Proof that the job was paid: the invoice and its preimage. */
  readonly proof?: { readonly bolt11: string; readonly preimage: string };
  /** Relay hint for the p and e tags. */
  readonly relay?: string;
  readonly created_at?: number;
}

/** A job label template (sign it with the customer's or the coordinator's key). */
export function jobLabelTemplate(i: JobLabelInput): EventTemplate {
  if (i.rating === undefined && i.outcome === undefined) throw new RangeError('a job label needs a rating or an outcome');
  if (i.rating !== undefined && (!Number.isInteger(i.rating) || i.rating < MIN_RATING || i.rating > MAX_RATING)) throw new RangeError(`rating must be an integer from ${MIN_RATING} to ${MAX_RATING}`);
  const hint = i.relay ?? '';
  const targets: LabelTarget[] = [{ type: 'p', value: i.agent, ...(i.relay ? { hint: i.relay } : {}) }];
  if (i.request) targets.push({ type: 'e', value: i.request, hint, marker: 'request' });
  if (i.result) targets.push({ type: 'e', value: i.result, hint, marker: 'result' });
  const extra: string[][] = [];
  if (i.kind !== undefined) extra.push(['k', String(i.kind)]);
  if (i.proof) extra.push(['bolt11', i.proof.bolt11], ['preimage', i.proof.preimage]);
  return labelTemplate({
    namespace: JOB_NAMESPACE,
    labels: [...(i.outcome ? [i.outcome] : []), ...(i.rating !== undefined ? [`${RATING_PREFIX}${i.rating}`] : [])],
    targets,
    content: i.comment ?? '',
    extraTags: extra,
    ...(i.created_at !== undefined ? { created_at: i.created_at } : {}),
  });
}
