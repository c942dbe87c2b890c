// Signed events for the load bench: deterministic keys, fast signing (tiny-secp256k1, as in
// bench/lib/events.ts), and the stored set the REQ attacks read.
import { createHash, randomBytes } from 'node:crypto';
import { xOnlyPointFromScalar } from 'tiny-secp256k1';
import { signEvent, type BenchEvent } from './lib/events.js';

export interface LoadKey {
  readonly sk: Uint8Array;
  readonly pk: string;
}

/** `n` keys derived from `label` (the same label gives the same keys). */
export function loadKeys(n: number, label: string): LoadKey[] {
  const out: LoadKey[] = [];
  for (let i = 0; i < n; i++) {
    const sk = new Uint8Array(createHash('sha256').update(`timmy-load/${label}/${i}`).digest());
    out.push({ sk, pk: Buffer.from(xOnlyPointFromScalar(sk)).toString('hex') });
  }
  return out;
}

const now = (): number => Math.floor(Date.now() / 1000);

export function sign(k: LoadKey, t: { kind?: number; tags?: string[][]; content?: string; created_at?: number }): BenchEvent {
  return signEvent(k.sk, k.pk, t.created_at ?? now(), t.kind ?? 1, t.tags ?? [], t.content ?? '');
}

export const randomHex = (bytes = 32): string => randomBytes(bytes).toString('hex');

/** The `t` tag values of stored events (the REQ attacks ask for all of them at once). */
export const TOPICS = Array.from({ length: 50 }, (_, i) => `topic${i}`);
const WORDS = 'relay load bench nostr agent memory wallet voice market job result timmy sovereign network event filter'.split(' ');

function content(i: number): string {
  const w: string[] = [];
  for (let k = 0; k < 30; k++) w.push(WORDS[(i * 7 + k * 13) % WORDS.length]!);
  return `${w.join(' ')} #${i}`;
}

/** Kind-1 events from 200 authors over the last 30 days, each with a `t`, a `p` and an `e` tag (~600 bytes). */
export function seedEvents(count: number): BenchEvent[] {
  const authors = loadKeys(200, 'seed');
  const t0 = now();
  const out: BenchEvent[] = [];
  for (let i = 0; i < count; i++) {
    const a = authors[i % authors.length]!;
    const tags = [
      ['t', TOPICS[i % TOPICS.length]!],
      ['p', authors[(i * 31) % authors.length]!.pk],
      ['e', createHash('sha256').update(`e${i % 1000}`).digest('hex')],
    ];
    out.push(sign(a, { created_at: t0 - 60 - ((i * 2_654_435) % (30 * 86_400)), tags, content: content(i) }));
  }
  return out;
}

/** `n` fresh kind-1 events spread over `keys`, for floods (a pool that is sent round and round). */
export function floodPool(n: number, keys: readonly LoadKey[], label: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = sign(keys[i % keys.length]!, { content: `${label} flood ${i} ${randomHex(8)}`, tags: [['t', 'flood']] });
    out.push(JSON.stringify(['EVENT', e]));
  }
  return out;
}
