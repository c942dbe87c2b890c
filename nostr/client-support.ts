// Small pieces shared by the NostrClient adapters (nostr/ws-client.ts, relay/inprocess-client.ts).
import { compareNewestFirst, type NostrEvent } from './nip01.js';

/** A set of event ids that forgets the oldest ones beyond `max` (live subscriptions run for days). */
export class SeenIds {
  private readonly ids = new Set<string>();
  constructor(private readonly max = 50_000) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Adds the id; false when it was already there. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.max) {
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
    return true;
  }
}

/** Events in NIP-01 order: newest first, ties by lowest id. Sorts in place and returns the array. */
export const sortNewestFirst = (events: NostrEvent[]): NostrEvent[] => events.sort(compareNewestFirst);

export type ErrorReporter = (err: unknown, where: string) => void;

export const defaultReporter: ErrorReporter = (err, where) => {
  console.warn(`[nostr client] ${where}:`, err);
};

/** Runs a caller's handler; what it throws is reported, never propagated into a socket callback. */
export function safeCall(report: ErrorReporter, where: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    report(err, where);
  }
}
