// Budget periods of an NWC connection: calendar periods in UTC (a week starts on Monday, ISO 8601),
// or `never` (one budget for the connection's whole life). Pure.
import type { BudgetRenewal } from '../../nostr/nip47.js';

const DAY = 86_400;

/** Start (unix seconds) of the period that holds `now`; 0 for `never`. */
export function periodStart(renewal: BudgetRenewal, now: number): number {
  const d = new Date(now * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (renewal) {
    case 'daily':
      return Math.floor(now / DAY) * DAY;
    case 'weekly': {
      const day = Math.floor(now / DAY) * DAY;
      const weekday = (d.getUTCDay() + 6) % 7; // Monday = 0
      return day - weekday * DAY;
    }
    case 'monthly':
      return Date.UTC(y, m, 1) / 1000;
    case 'yearly':
      return Date.UTC(y, 0, 1) / 1000;
    case 'never':
      return 0;
  }
}

/** When the budget starts again (the next period's start); undefined for `never`. */
export function renewsAt(renewal: BudgetRenewal, now: number): number | undefined {
  const d = new Date(now * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (renewal) {
    case 'daily':
      return periodStart('daily', now) + DAY;
    case 'weekly':
      return periodStart('weekly', now) + 7 * DAY;
    case 'monthly':
      return Date.UTC(y, m + 1, 1) / 1000;
    case 'yearly':
      return Date.UTC(y + 1, 0, 1) / 1000;
    case 'never':
      return undefined;
  }
}
