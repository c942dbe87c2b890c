// `timmy job replay <id>`: a job's history re-derived from its persisted transitions and the
// events on the relay that reference it, merged into one timeline (deterministic: same inputs,
// same lines).
import type { NostrEvent } from '../nostr/nip01.js';
import type { Transition } from './jobs/store.js';

const KIND_NAMES: Record<number, string> = {
  5: 'deletion (cancel)',
  7000: 'feedback',
  7280: 'auction open',
  7281: 'bid commitment',
  7282: 'bid reveal',
  7283: 'auction result',
};

function describe(e: NostrEvent): string {
  if (e.kind >= 5000 && e.kind < 6000) return `request kind ${e.kind}`;
  if (e.kind >= 6000 && e.kind < 7000) return `result kind ${e.kind}`;
  const name = KIND_NAMES[e.kind] ?? `kind ${e.kind}`;
  if (e.kind === 7000) {
    const st = e.tags.find((t) => t[0] === 'status');
    const amount = e.tags.find((t) => t[0] === 'amount');
    return `${name}: ${st?.[1] ?? '?'}${st?.[2] ? ` (${st[2]})` : ''}${amount ? ` amount ${amount[1]} msat` : ''}`;
  }
  const price = e.tags.find((t) => t[0] === 'price')?.[1];
  return price ? `${name} price ${price} msat` : name;
}

export interface ReplayLine {
  readonly at: number; // unix ms
  readonly source: 'state' | 'event';
  readonly text: string;
  /** Within one second (events carry second resolution), the order a job's events happen in. */
  readonly rank: number;
}

function causalRank(e: NostrEvent): number {
  if (e.kind >= 5000 && e.kind < 6000) return 0;
  const status = e.tags.find((t) => t[0] === 'status')?.[1];
  if (e.kind === 7000) return status === 'payment-required' ? 1 : status === 'processing' ? 6 : 8;
  if (e.kind >= 7280 && e.kind <= 7283) return 2 + (e.kind - 7280) * 0.25;
  if (e.kind >= 6000 && e.kind < 7000) return 7;
  return 9;
}

export function replayLines(transitions: readonly Transition[], events: readonly NostrEvent[]): ReplayLine[] {
  const lines: ReplayLine[] = [
    ...transitions.map((t) => ({ at: t.at, source: 'state' as const, rank: 0, text: `${t.from ?? '∅'} -> ${t.to}: ${t.reason}` })),
    ...events.map((e) => ({
      at: e.created_at * 1000,
      source: 'event' as const,
      rank: causalRank(e),
      text: `${describe(e)} by ${e.pubkey.slice(0, 12)} (${e.id.slice(0, 12)})`,
    })),
  ];
  // Events carry second resolution: within one second they go in causal order, and state changes
  // (millisecond resolution) come after the events of their second.
  return lines.sort(
    (a, b) => a.at - b.at || (a.source === b.source ? 0 : a.source === 'event' ? -1 : 1) || a.rank - b.rank || a.text.localeCompare(b.text),
  );
}

export function formatReplay(id: string, lines: readonly ReplayLine[]): string {
  const out = [`job ${id}`];
  for (const l of lines) out.push(`${new Date(l.at).toISOString()}  ${l.source === 'state' ? 'STATE' : 'EVENT'}  ${l.text}`);
  return out.join('\n');
}
