// Small helpers the skills share: reading inputs and `param` tags, turning bad values into
// SkillErrors the customer can read, and writing NIP-90 tag-list results (5300, 5302).
import { SkillError, type SkillContext, type SkillJob } from '../../dvm/skill.js';
import { eventAddress, isAddressable, isReplaceable, type Filter, type NostrEvent } from '../../nostr/nip01.js';
import { pubkeyFromInput } from '../../nostr/nip19.js';

/** The text of every input, in order (the DVM resolved events, jobs and URLs to text already). */
export const inputTexts = (job: SkillJob): string[] => job.inputs.map((i) => i.text);

/** An integer param within [min, max], or `fallback` when absent. */
export function intParam(job: SkillJob, name: string, min: number, max: number, fallback?: number): number | undefined {
  const raw = job.param(name);
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < min || n > max) throw new SkillError(`param ${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/** A number param within [min, max]; `names` are alternative spellings (`top_k`, `top-k`). */
export function numberParam(job: SkillJob, names: readonly string[], min: number, max: number): number | undefined {
  for (const name of names) {
    const raw = job.param(name);
    if (raw === undefined || raw.trim() === '') continue;
    const n = Number(raw.trim());
    if (!Number.isFinite(n) || n < min || n > max) throw new SkillError(`param ${name} must be a number between ${min} and ${max}, got ${JSON.stringify(raw)}`);
    return n;
  }
  return undefined;
}

/** A pubkey given as hex, npub or nostr:npub. */
export function pubkeyParam(value: string, what: string): string {
  try {
    return pubkeyFromInput(value);
  } catch {
    throw new SkillError(`${what} is not a pubkey (hex or npub): ${JSON.stringify(value.slice(0, 80))}`);
  }
}

/**
 * A list of pubkeys: the 5302 spec's JSON list of `["p", <hex>]` tags, a JSON list of hex/npub
 * strings, or hex/npub separated by commas or spaces.
 */
export function pubkeyListParam(raw: string, what: string): string[] {
  const t = raw.trim();
  let items: unknown[];
  if (t.startsWith('[')) {
    try {
      items = JSON.parse(t) as unknown[];
    } catch {
      throw new SkillError(`${what} is not valid JSON`);
    }
    if (!Array.isArray(items)) throw new SkillError(`${what} must be a JSON list`);
  } else {
    items = t.split(/[\s,]+/).filter(Boolean);
  }
  return items.map((x) => {
    const v = Array.isArray(x) && x[0] === 'p' ? x[1] : x;
    if (typeof v !== 'string') throw new SkillError(`${what}: each entry must be a pubkey or a ["p", <pubkey>] tag`);
    return pubkeyParam(v, what);
  });
}

/** The tag that points at an event: `a` for replaceable and addressable events, `e` for the others. */
export function pointerTag(e: NostrEvent, relayHint?: string): string[] {
  const tag = isAddressable(e.kind) || isReplaceable(e.kind) ? ['a', eventAddress(e)] : ['e', e.id];
  if (relayHint) tag.push(relayHint);
  return tag;
}

/** NIP-90 content for 5300/5302: a JSON-stringified list of tags. */
export const tagListContent = (events: readonly NostrEvent[], relayHint?: string): string => JSON.stringify(events.map((e) => pointerTag(e, relayHint)));

/** Work units by size: one per started 1,000 characters, at least one. */
export const unitsByChars = (chars: number): number => Math.max(1, Math.ceil(chars / 1000));

/** ctx.client.query, honouring the job's signal; a relay that cannot answer becomes a SkillError. */
export async function queryEvents(ctx: SkillContext, filters: Filter[], timeoutMs = 15_000): Promise<NostrEvent[]> {
  ctx.signal.throwIfAborted();
  let found: NostrEvent[];
  try {
    found = await ctx.client.query(filters, { timeoutMs });
  } catch (err) {
    throw new SkillError(`the relay could not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
  ctx.signal.throwIfAborted();
  return found;
}
