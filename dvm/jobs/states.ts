// The job state machine. Every transition is persisted with a reason (dvm/jobs/store.ts), so a
// restart resumes unfinished jobs and `timmy job replay` can show each step.
export const JOB_STATES = [
  'received',
  'awaiting-approval',
  'awaiting-payment',
  'bidding',
  'assigned',
  'executing',
  'delivered',
  'failed',
  'cancelled',
  'refunded',
] as const;
export type JobState = (typeof JOB_STATES)[number];

/** Allowed moves. Anything else is a bug and throws (IllegalTransition). */
const NEXT: Record<JobState, readonly JobState[]> = {
  received: ['awaiting-approval', 'awaiting-payment', 'bidding', 'failed', 'cancelled'],
  'awaiting-approval': ['awaiting-payment', 'bidding', 'failed', 'cancelled'],
  'awaiting-payment': ['bidding', 'failed', 'cancelled'],
  // bidding -> bidding: the auction is re-run (after a restart mid-auction).
  bidding: ['bidding', 'assigned', 'failed', 'cancelled'],
  // assigned -> assigned: reassigned to the next bidder after the winner died.
  assigned: ['assigned', 'executing', 'failed', 'cancelled'],
  executing: ['assigned', 'executing', 'delivered', 'failed', 'cancelled'],
  delivered: [],
  failed: ['refunded'],
  cancelled: ['refunded'],
  refunded: [],
};

export const TERMINAL: ReadonlySet<JobState> = new Set(['delivered', 'failed', 'cancelled', 'refunded']);
/** Terminal once nothing is owed back: failed/cancelled jobs that were paid move on to refunded. */
export const isTerminal = (s: JobState): boolean => s === 'delivered' || s === 'refunded' || s === 'failed' || s === 'cancelled';

export class IllegalTransition extends Error {
  override name = 'IllegalTransition';
}

export function checkTransition(from: JobState, to: JobState): void {
  if (!NEXT[from].includes(to)) throw new IllegalTransition(`job cannot go from ${from} to ${to}`);
}
