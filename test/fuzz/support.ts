// Shared machinery of the fuzz suite (test/fuzz/*.test.ts): run budgets, the per-input time bound,
// the "only documented errors" check, corpus files, and generators shared by several targets.
//
// Short mode (npm test): a fixed seed and a fixed number of runs per property, sized so the whole
// suite stays within ~2 minutes on 2 cores. Long mode (npm run fuzz, or TIMMY_FUZZ_SECONDS=N):
// each target gets N seconds, shared among its properties by weight, with a fresh seed printed
// so a failure can be replayed (TIMMY_FUZZ_SEED=<seed>).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';

const env = process.env;
/** Seconds per target in long mode; 0 = short mode. */
export const FUZZ_SECONDS = Number(env.TIMMY_FUZZ_SECONDS ?? 0) || 0;
/** Multiplies the short-mode base run counts: 6 in npm test (~35 s in all on one core); e.g. FUZZ_RUNS=30 for a deeper run without a time limit. */
const RUNS_FACTOR = Number(env.FUZZ_RUNS ?? 6) || 6;
export const SEED = env.TIMMY_FUZZ_SEED !== undefined ? Number(env.TIMMY_FUZZ_SEED) : FUZZ_SECONDS > 0 ? Date.now() & 0x7fffffff : 0x5eed;
/**
 * Per-input bound. A call over it is run again (GC pauses and a busy CI core are not hangs); only a
 * second overrun fails. Real hangs (catastrophic regex backtracking, quadratic loops on big inputs,
 * scrypt at an attacker's log_n) take seconds.
 */
export const MAX_MS = Number(env.TIMMY_FUZZ_MAX_MS ?? 250);

export const CORPUS_DIR = new URL('../../../test/fuzz/corpus/', import.meta.url).pathname;
export const REPO = new URL('../../../', import.meta.url).pathname;

export interface Budget {
  /** Short-mode runs. */
  readonly runs: number;
  /** Long-mode share of the target's seconds (0..1). */
  readonly share: number;
}

const stats: { target: string; property: string; runs: number; ms: number }[] = [];

/**
 * Runs a fast-check property under the mode's budget and records executions per second.
 * The predicate throws (assert) to fail; fast-check shrinks and reports seed and path.
 */
export function fuzz<T>(target: string, property: string, arb: fc.Arbitrary<T>, predicate: (x: T) => void, budget: Budget): void {
  let runs = 0;
  const t0 = performance.now();
  const long = FUZZ_SECONDS > 0;
  const params: fc.Parameters<[T]> = long
    ? { seed: SEED, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: Math.max(1, FUZZ_SECONDS * budget.share) * 1000, markInterruptAsFailure: false, includeErrorInReport: true }
    : { seed: SEED, numRuns: Math.ceil(budget.runs * RUNS_FACTOR), includeErrorInReport: true };
  try {
    fc.assert(
      fc.property(arb, (x) => {
        runs++;
        predicate(x);
      }),
      params,
    );
  } finally {
    const ms = performance.now() - t0;
    stats.push({ target, property, runs, ms });
    const rate = runs / (ms / 1000);
    // One line per property: the figures docs/reliability.md quotes come from these.
    console.log(`fuzz: ${target} / ${property}: ${runs} inputs in ${(ms / 1000).toFixed(1)} s (${rate.toFixed(0)}/s), seed ${SEED}`);
  }
}

export const fuzzStats = () => stats;

/** The class names a target may throw; anything else (TypeError, RangeError, ...) is a crash. */
export type Allowed = readonly (abstract new (...a: never[]) => Error)[];

export class FuzzFailure extends Error {
  override name = 'FuzzFailure';
}

const show = (x: unknown): string => {
  const s = typeof x === 'string' ? JSON.stringify(x) : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : (() => {
    try {
      return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    } catch {
      return String(x);
    }
  })();
  return s.length > 400 ? `${s.slice(0, 400)}... (${s.length} chars)` : s;
};

/**
 * Calls `f(input)` under the time bound. Returns { ok, value } or { ok: false, error } for an allowed
 * error; throws FuzzFailure for a disallowed error or an overrun.
 */
export function guarded<I, R>(what: string, input: I, f: (x: I) => R, allowed: Allowed): { ok: true; value: R } | { ok: false; error: Error } {
  const once = (): { r: { ok: true; value: R } | { ok: false; error: Error }; ms: number } => {
    const t0 = performance.now();
    let r: { ok: true; value: R } | { ok: false; error: Error };
    try {
      r = { ok: true, value: f(input) };
    } catch (err) {
      if (!(err instanceof Error) || !allowed.some((C) => err instanceof C)) {
        const e = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
        throw new FuzzFailure(`${what} threw an undocumented error on ${show(input)}:\n${e}`);
      }
      // The class alone is not enough: a subclass instance built from a TypeError message would hide a crash.
      r = { ok: false, error: err };
    }
    return { r, ms: performance.now() - t0 };
  };
  let { r, ms } = once();
  if (ms > MAX_MS) {
    ({ r, ms } = once());
    if (ms > MAX_MS) throw new FuzzFailure(`${what} took ${ms.toFixed(0)} ms (bound ${MAX_MS} ms) on ${show(input)}`);
  }
  return r;
}

/** Fails unless `f` rejects `input` with an allowed error (the "never accepts what the spec forbids" check). */
export function mustReject<I>(what: string, input: I, f: (x: I) => unknown, allowed: Allowed, why: string): void {
  const r = guarded(what, input, f, allowed);
  if (r.ok) throw new FuzzFailure(`${what} accepted ${show(input)}, which it must reject: ${why}`);
}

// ---- corpora ----

/** Every file of test/fuzz/corpus/<target>/ as [name, contents]. */
export function corpus(target: string): [string, string][] {
  const dir = join(CORPUS_DIR, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .filter((n) => !n.startsWith('.'))
    .map((n) => [n, readFileSync(join(dir, n), 'utf8')]);
}

/** The corpus as an arbitrary: seeds as they are. */
export const seeds = (target: string): string[] => corpus(target).map(([, s]) => s);

// ---- generators ----

/** Mutations of a string: substitute, insert, delete, duplicate a slice, flip case, truncate, splice another seed. */
export function mutatedString(base: fc.Arbitrary<string>, alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l1QPZ"[]{},:0\\ \u00e9\u0000'): fc.Arbitrary<string> {
  const ch = fc.constantFrom(...alphabet.split(''));
  const op = fc.oneof(
    fc.record({ k: fc.constant('sub' as const), at: fc.nat(), c: ch }),
    fc.record({ k: fc.constant('ins' as const), at: fc.nat(), c: ch }),
    fc.record({ k: fc.constant('del' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ k: fc.constant('dup' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ k: fc.constant('case' as const), at: fc.nat() }),
    fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
  );
  return fc.tuple(base, fc.array(op, { minLength: 1, maxLength: 4 })).map(([s, ops]) => {
    for (const o of ops) {
      const at = s.length === 0 ? 0 : o.at % (s.length + 1);
      switch (o.k) {
        case 'sub':
          s = s.slice(0, at) + o.c + s.slice(at + 1);
          break;
        case 'ins':
          s = s.slice(0, at) + o.c + s.slice(at);
          break;
        case 'del':
          s = s.slice(0, at) + s.slice(at + o.n);
          break;
        case 'dup':
          s = s.slice(0, at + o.n) + s.slice(at, at + o.n) + s.slice(at + o.n);
          break;
        case 'case': {
          const c = s[at] ?? '';
          s = s.slice(0, at) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + s.slice(at + 1);
          break;
        }
        case 'cut':
          s = s.slice(0, at);
          break;
      }
    }
    return s;
  });
}

/** Mutations of bytes: flip bits, set bytes, insert, delete, truncate. */
export function mutatedBytes(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const op = fc.oneof(
    fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ k: fc.constant('set' as const), at: fc.nat(), b: fc.oneof(fc.constantFrom(0, 1, 0x7f, 0x80, 0xfd, 0xfe, 0xff), fc.integer({ min: 0, max: 255 })) }),
    fc.record({ k: fc.constant('ins' as const), at: fc.nat(), b: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
    fc.record({ k: fc.constant('del' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 9 }) }),
    fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
  );
  return fc.tuple(base, fc.array(op, { minLength: 1, maxLength: 4 })).map(([b0, ops]) => {
    let b = Uint8Array.from(b0);
    for (const o of ops) {
      const at = b.length === 0 ? 0 : o.at % b.length;
      switch (o.k) {
        case 'flip':
          if (b.length > 0) b[at] = b[at]! ^ (1 << o.bit);
          break;
        case 'set':
          if (b.length > 0) b[at] = o.b;
          break;
        case 'ins':
          b = Uint8Array.from([...b.subarray(0, at), ...o.b, ...b.subarray(at)]);
          break;
        case 'del':
          b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + o.n)]);
          break;
        case 'cut':
          b = b.slice(0, at);
          break;
      }
    }
    return b;
  });
}

/** Random text of several flavours: ASCII, full unicode, and lone surrogates. */
export const anyText = (maxLength = 200): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), maxLength }),
  );

export const hex = (bytes: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
