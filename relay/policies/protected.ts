// NIP-70: an event with a `["-"]` tag may only be published by its author, proven by AUTH.
import type { EventPolicy } from '../hooks.js';

export function protectedEvents(): EventPolicy {
  return (e, conn) => {
    if (!e.tags.some((t) => t.length === 1 && t[0] === '-')) return undefined;
    if (!conn) return undefined; // published in-process by the instance itself
    if (conn.authed.has(e.pubkey)) return undefined;
    if (conn.authed.size === 0) return 'auth-required: this event may only be published by its author';
    return 'restricted: this event may only be published by its author';
  };
}
