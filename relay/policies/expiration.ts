// NIP-40: an event that has already expired is refused (it would never be served anyway).
import { expirationOf } from '../store/event-writer.js';
import type { EventPolicy } from '../hooks.js';

export function refuseExpired(now: () => number): EventPolicy {
  return (e) => {
    const exp = expirationOf(e);
    return exp !== null && exp <= now() ? 'invalid: event has expired' : undefined;
  };
}
