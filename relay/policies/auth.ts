// NIP-42 rules from config: which writes and reads need an authenticated client, and which
// kinds (DMs, gift wraps) only their parties may read.
import type { EventPolicy, FilterPolicy } from '../hooks.js';

export function authForWrites(o: { required: boolean; writeKinds: readonly number[] }): EventPolicy {
  return (e, conn) => {
    if (!conn || conn.authed.size > 0) return undefined;
    if (o.required) return 'auth-required: this relay only accepts events from authenticated users';
    if (o.writeKinds.includes(e.kind)) return `auth-required: kind ${e.kind} needs authentication to publish`;
    return undefined;
  };
}

export function authForReads(o: { required: boolean; readKinds: readonly number[]; privateKinds: readonly number[] }): FilterPolicy {
  return (filters, conn) => {
    if (!conn || conn.authed.size > 0) return undefined;
    if (o.required) return 'auth-required: this relay only serves authenticated users';
    for (const f of filters) {
      if (!f.kinds) continue;
      if (f.kinds.some((k) => o.readKinds.includes(k))) return 'auth-required: these kinds need authentication to read';
      if (f.kinds.length > 0 && f.kinds.every((k) => o.privateKinds.includes(k)))
        return 'auth-required: direct messages are only served to their parties';
    }
    return undefined;
  };
}

export function refuseAuthEventsAsEvents(): EventPolicy {
  return (e) => (e.kind === 22242 ? 'invalid: kind 22242 is sent with AUTH, not EVENT' : undefined);
}
