// The reputation book: every job label seen, kept per agent with running sums, so a score is O(1)
// to read as labels arrive (docs/reputation.md). Sums are kept per (agent, rater) too, so when a
// rater's standing moves, each agent it rated is corrected by a delta, not recomputed. Rare
// changes (a newer label replacing an older one for the same job, a deletion, a contested payment
// proof) mark the agent dirty and its sums are rebuilt from its observations on the next read.
import { compareNewestFirst, type NostrEvent } from '../nostr/nip01.js';
import { readJobLabel, type IgnoreReason, type Observation, type Outcome, type ReadOptions } from './labels.js';
import { DEFAULT_SCORE_PARAMS, scoreOf, standingFactor, wilsonLower, type ScoreParams, type ScoreValue } from './score.js';

export interface BookOptions {
  readonly params?: ScoreParams;
  readonly readInvoice: ReadOptions['readInvoice'];
  /** Check ids and signatures (for events from sources that did not). */
  readonly verify?: (e: NostrEvent) => boolean;
  /** Unix seconds. */
  readonly now?: () => number;
}

export type AddResult =
  | { readonly counted: true; readonly subjects: readonly string[] }
  | { readonly counted: false; readonly reason: IgnoreReason | 'duplicate' };

export interface LabelSummary {
  readonly id: string;
  readonly rater: string;
  readonly createdAt: number;
  readonly job: string | null;
  readonly rating: number | null;
  readonly outcome: Outcome | null;
  readonly paid: boolean;
}

export interface ReputationReport extends ScoreValue {
  readonly pubkey: string;
  /** Unix seconds the decay was computed for. */
  readonly asOf: number;
  /** The agent's paid-only record, which sets the weight of the labels it gives others (0..1). */
  readonly standing: number;
  readonly counts: {
    readonly labels: number;
    readonly paid: number;
    readonly unpaid: number;
    readonly raters: number;
    readonly ratings: Readonly<Record<'1' | '2' | '3' | '4' | '5', number>>;
    readonly outcomes: Readonly<Record<Outcome, number>>;
  };
  readonly last: readonly LabelSummary[];
}

/** Exponents are kept below this many half-lives from the reference time (2^600 is far from overflow). */
const REBASE_HALF_LIVES = 600;

/** Decayed evidence of one rater about one agent, before the rater's standing is applied. */
interface RaterSums {
  pg: number;
  pb: number;
  ug: number;
  ub: number;
  n: number;
}

class Subject {
  /** Every observation, by (rater, job): the newest counts (NIP-01 order), older ones wait in case it is deleted. */
  readonly byKey = new Map<string, Observation[]>();
  // Standing part: depends on this agent's own labels only, never on another agent's state.
  /** rater|paymentHash -> the oldest label holding that payment proof (the one that counts as paid). */
  claims = new Map<string, Observation>();
  paidIds = new Set<string>();
  /** Paid evidence without decay or standing: the agent's record as a rater. */
  sg = 0;
  sb = 0;
  standDirty = false;
  /** The standing value the sums of the agents this one rated were last brought to. */
  standingShown = 0;
  // Score part: decayed sums relative to `ref`, weighted by each rater's standing.
  ref = 0;
  empty = true;
  pg = 0;
  pb = 0;
  ug = 0;
  ub = 0;
  byRater = new Map<string, RaterSums>();
  dirty = false;
  /** Bumped whenever the set of observations or of paid ones changes (for the report cache). */
  version = 0;
  cached: { version: number; counts: ReputationReport['counts']; ordered: Observation[] } | undefined;

  current(): Observation[] {
    const out: Observation[] = [];
    for (const list of this.byKey.values()) if (list[0]) out.push(list[0]);
    return out;
  }
}

const keyOf = (o: Observation): string => `${o.rater}|${o.job ?? `#${o.id}`}`;
const newestFirst = (a: Observation, b: Observation): number => compareNewestFirst({ created_at: a.createdAt, id: a.id }, { created_at: b.createdAt, id: b.id });
const oldestFirst = (a: Observation, b: Observation): number => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class ReputationBook {
  readonly params: ScoreParams;
  private readonly subjects = new Map<string, Subject>();
  /** Label id -> its author and the agents it is about (for deletions). */
  private readonly labels = new Map<string, { readonly author: string; readonly subjects: readonly string[]; readonly job: string | null }>();
  /** Agents invalidated since the last read (their standing is brought up to date before the next). */
  private readonly pending = new Set<string>();
  /** Rater -> agents it labelled (their sums depend on its standing). */
  private readonly ratedBy = new Map<string, Set<string>>();
  /** Label ids deleted by their author (NIP-09), also before the label itself arrives. */
  private readonly deleted = new Map<string, string>();
  private readonly ignored = new Map<string, number>();
  private counted = 0;
  private badProofs = 0;
  private readonly halfLifeSeconds: number;

  constructor(private readonly o: BookOptions) {
    this.params = o.params ?? DEFAULT_SCORE_PARAMS;
    this.halfLifeSeconds = this.params.halfLifeDays * 86400;
  }

  private now(): number {
    return this.o.now ? this.o.now() : Math.floor(Date.now() / 1000);
  }

  private ignore(reason: IgnoreReason): AddResult {
    this.ignored.set(reason, (this.ignored.get(reason) ?? 0) + 1);
    return { counted: false, reason };
  }

  /** Takes in any event: job labels count, other label events are counted as ignored with a reason. */
  add(e: NostrEvent): AddResult {
    if (this.labels.has(e.id)) return { counted: false, reason: 'duplicate' };
    const r = readJobLabel(e, { readInvoice: this.o.readInvoice, now: this.now(), ...(this.o.verify ? { verify: this.o.verify } : {}) });
    if (!r.ok) return this.ignore(r.reason);
    if (this.deleted.get(e.id) === e.pubkey) return this.ignore('deleted');
    if (r.badProof) this.badProofs++;
    const subjects = r.observations.map((ob) => ob.subject);
    this.labels.set(e.id, { author: e.pubkey, subjects, job: r.observations[0]?.job ?? null });
    for (const ob of r.observations) this.observe(ob);
    this.counted++;
    return { counted: true, subjects };
  }

  /** A NIP-09 deletion: labels it names lose their effect if it comes from their author. Returns how many. */
  remove(deletion: NostrEvent): number {
    if (deletion.kind !== 5) return 0;
    let n = 0;
    for (const t of deletion.tags) {
      if (t[0] !== 'e' || typeof t[1] !== 'string') continue;
      const id = t[1];
      const label = this.labels.get(id);
      if (label === undefined) {
        this.deleted.set(id, deletion.pubkey);
        continue;
      }
      if (label.author !== deletion.pubkey) continue;
      this.deleted.set(id, deletion.pubkey);
      this.labels.delete(id);
      for (const s of label.subjects) this.unobserve(s, id, `${label.author}|${label.job ?? `#${id}`}`);
      n++;
    }
    return n;
  }

  private subject(pubkey: string): Subject {
    let s = this.subjects.get(pubkey);
    if (!s) this.subjects.set(pubkey, (s = new Subject()));
    return s;
  }

  private observe(ob: Observation): void {
    const s = this.subject(ob.subject);
    let rated = this.ratedBy.get(ob.rater);
    if (!rated) this.ratedBy.set(ob.rater, (rated = new Set()));
    rated.add(ob.subject);
    s.version++;
    const key = keyOf(ob);
    const list = s.byKey.get(key);
    if (list) {
      // Another label of the same rater for the same job: the newest counts.
      const before = list[0];
      list.push(ob);
      list.sort(newestFirst);
      if (list[0] === before) return; // an older one arrived late: kept in case the newer is deleted
      // Without payment proofs the swap is a delta; with one, claims may move: rebuild (rare).
      if (before && before.paymentHash === null && ob.paymentHash === null && !s.dirty && !s.standDirty) {
        this.accumulate(s, before, -1);
        this.accumulate(s, ob, 1);
        return;
      }
      return this.invalidate(ob.subject, s);
    }
    s.byKey.set(key, [ob]);
    if (s.standDirty || s.dirty) return this.invalidate(ob.subject, s);
    if (ob.paymentHash !== null) {
      const claim = `${ob.rater}|${ob.paymentHash}`;
      const holder = s.claims.get(claim);
      if (holder === undefined) {
        s.claims.set(claim, ob);
        this.markPaid(ob.subject, s, ob, 1);
      } else if (oldestFirst(ob, holder) < 0) {
        // The oldest label holding a payment proof owns it: the newcomer takes it over, the holder counts unpaid.
        this.accumulate(s, holder, -1);
        this.markPaid(ob.subject, s, holder, -1);
        this.accumulate(s, holder, 1);
        s.claims.set(claim, ob);
        this.markPaid(ob.subject, s, ob, 1);
      }
    }
    this.accumulate(s, ob, 1);
  }

  /** Adds (sign 1) or removes (-1) a paid observation from the agent's paid record; its standing moves with it. */
  private markPaid(pubkey: string, s: Subject, ob: Observation, sign: 1 | -1): void {
    if (sign > 0) s.paidIds.add(ob.id);
    else s.paidIds.delete(ob.id);
    s.sg += sign * ob.x;
    s.sb += sign * (1 - ob.x);
    // Its standing moved: the labels it gave others weigh differently now.
    this.restand(pubkey, s);
  }

  private unobserve(subject: string, labelId: string, key: string): void {
    const s = this.subjects.get(subject);
    const list = s?.byKey.get(key);
    if (!s || !list) return;
    const i = list.findIndex((o) => o.id === labelId);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) s.byKey.delete(key);
    s.version++;
    this.invalidate(subject, s);
  }

  /**
   * The agent's sums are rebuilt on its next read; its standing (and the deltas to the agents it
   * rated) is brought up to date before any read. Many invalidations between two reads cost one rebuild.
   */
  private invalidate(pubkey: string, s: Subject): void {
    s.standDirty = true;
    s.dirty = true;
    this.pending.add(pubkey);
  }

  /** Brings every pending standing up to date (before any read, so no score is read stale). */
  private flush(): void {
    if (this.pending.size === 0) return;
    const pks = [...this.pending];
    this.pending.clear();
    for (const pk of pks) {
      const s = this.subjects.get(pk);
      if (s) this.restand(pk, s);
    }
  }

  /**
   * Brings the sums of every agent `rater` labelled up to its current standing: each gets
   * (new − old standing) × its evidence from that rater. O(agents it rated), no recomputation.
   */
  private restand(rater: string, r: Subject): void {
    if (r.standDirty) this.rebuildStanding(r);
    const now = wilsonLower(r.sg, r.sb, this.params.z);
    const d = now - r.standingShown;
    if (d === 0) return;
    r.standingShown = now;
    for (const t of this.ratedBy.get(rater) ?? []) {
      const ts = this.subjects.get(t);
      const e = ts?.byRater.get(rater);
      if (!ts || !e || ts.dirty) continue;
      ts.pg += d * e.pg;
      ts.pb += d * e.pb;
      ts.ug += d * e.ug;
      ts.ub += d * e.ub;
    }
  }

  /** The agent's standing as a rater: the Wilson lower bound of its paid record, no prior, no decay. */
  standing(pubkey: string): number {
    this.flush();
    const s = this.subjects.get(pubkey);
    if (!s) return 0;
    if (s.standDirty) this.restand(pubkey, s);
    return s.standingShown;
  }

  /** Payment claims and the paid record, from the agent's own labels, oldest first. */
  private rebuildStanding(s: Subject): void {
    s.claims = new Map();
    s.paidIds = new Set();
    s.sg = s.sb = 0;
    for (const ob of s.current().sort(oldestFirst)) {
      if (ob.paymentHash === null) continue;
      const claim = `${ob.rater}|${ob.paymentHash}`;
      if (s.claims.has(claim)) continue;
      s.claims.set(claim, ob);
      s.paidIds.add(ob.id);
      s.sg += ob.x;
      s.sb += 1 - ob.x;
    }
    s.standDirty = false;
    s.version++;
  }

  /** Adds (sign 1) or takes back (-1) one observation in the decayed sums, per rater and weighted by the rater's standing. */
  private accumulate(s: Subject, ob: Observation, sign: 1 | -1 = 1): void {
    const H = this.halfLifeSeconds;
    if (s.empty) {
      s.ref = ob.createdAt;
      s.empty = false;
    } else if ((ob.createdAt - s.ref) / H > REBASE_HALF_LIVES) {
      const f = 2 ** (-(ob.createdAt - s.ref) / H);
      s.pg *= f;
      s.pb *= f;
      s.ug *= f;
      s.ub *= f;
      for (const e of s.byRater.values()) {
        e.pg *= f;
        e.pb *= f;
        e.ug *= f;
        e.ub *= f;
      }
      s.ref = ob.createdAt;
    }
    let e = s.byRater.get(ob.rater);
    if (!e) s.byRater.set(ob.rater, (e = { pg: 0, pb: 0, ug: 0, ub: 0, n: 0 }));
    const decay = sign * 2 ** ((ob.createdAt - s.ref) / H);
    const w = standingFactor(this.standing(ob.rater));
    e.n += sign;
    if (s.paidIds.has(ob.id)) {
      e.pg += decay * ob.x;
      e.pb += decay * (1 - ob.x);
      s.pg += w * decay * ob.x;
      s.pb += w * decay * (1 - ob.x);
    } else {
      const u = this.params.unpaidWeight * decay;
      e.ug += u * ob.x;
      e.ub += u * (1 - ob.x);
      s.ug += w * u * ob.x;
      s.ub += w * u * (1 - ob.x);
    }
  }

  /** Rebuilds an agent's sums from its current observations (standings of its raters as they are now). */
  private rebuild(s: Subject): void {
    if (s.standDirty) this.rebuildStanding(s);
    s.empty = true;
    s.ref = s.pg = s.pb = s.ug = s.ub = 0;
    s.byRater = new Map();
    s.dirty = false;
    for (const ob of s.current()) this.accumulate(s, ob);
  }

  /** The score alone (what the auction compares), at `now`. */
  score(pubkey: string, now = this.now()): number {
    return this.value(pubkey, now).score;
  }

  private value(pubkey: string, now: number): ScoreValue {
    this.flush();
    const s = this.subjects.get(pubkey);
    if (s?.dirty || s?.standDirty) this.rebuild(s);
    if (!s || s.empty) return scoreOf({ paidGood: 0, paidBad: 0, unpaidGood: 0, unpaidBad: 0 }, this.params);
    const f = 2 ** (-(now - s.ref) / this.halfLifeSeconds);
    return scoreOf({ paidGood: s.pg * f, paidBad: s.pb * f, unpaidGood: s.ug * f, unpaidBad: s.ub * f }, this.params);
  }

  /** Score and evidence: counts by rating and outcome, and the newest labels (cached until the labels change). */
  report(pubkey: string, o: { now?: number; last?: number } = {}): ReputationReport {
    const now = o.now ?? this.now();
    const v = this.value(pubkey, now);
    const s = this.subjects.get(pubkey);
    let cache = s?.cached;
    if (s && (!cache || cache.version !== s.version)) {
      const ratings = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
      const outcomes: Record<Outcome, number> = { delivered: 0, late: 0, failed: 0 };
      const ordered = s.current().sort(newestFirst);
      let paid = 0;
      for (const ob of ordered) {
        if (s.paidIds.has(ob.id)) paid++;
        if (ob.rating !== null) ratings[String(ob.rating) as keyof typeof ratings]++;
        if (ob.outcome !== null) outcomes[ob.outcome]++;
      }
      const raters = new Set(ordered.map((ob) => ob.rater)).size;
      cache = s.cached = { version: s.version, ordered, counts: { labels: ordered.length, paid, unpaid: ordered.length - paid, raters, ratings, outcomes } };
    }
    const last = (cache?.ordered ?? [])
      .slice(0, o.last ?? 10)
      .map((ob) => ({ id: ob.id, rater: ob.rater, createdAt: ob.createdAt, job: ob.job, rating: ob.rating, outcome: ob.outcome, paid: s!.paidIds.has(ob.id) }));
    const empty = { labels: 0, paid: 0, unpaid: 0, raters: 0, ratings: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 }, outcomes: { delivered: 0, late: 0, failed: 0 } };
    return { pubkey, asOf: now, ...v, standing: this.standing(pubkey), counts: cache?.counts ?? empty, last };
  }

  /** Agents with at least one counted label. */
  agents(): string[] {
    return [...this.subjects.keys()];
  }

  /** For metrics: labels counted, ignored by reason, payment proofs that did not check out. */
  stats(): { counted: number; ignored: Readonly<Record<string, number>>; badProofs: number; labels: number; agents: number } {
    return { counted: this.counted, ignored: Object.fromEntries(this.ignored), badProofs: this.badProofs, labels: this.labels.size, agents: this.subjects.size };
  }
}
