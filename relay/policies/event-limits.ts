// Size and time limits on incoming events (advertised in NIP-11 `limitation`).
import type { EventPolicy } from '../hooks.js';

export function eventLimits(o: {
  maxEventTags: number;
  maxContentLength: number;
  createdAtLowerLimit: number;
  createdAtUpperLimit: number;
  now: () => number;
}): EventPolicy {
  return (e) => {
    if (e.tags.length > o.maxEventTags) return `invalid: too many tags (max ${o.maxEventTags})`;
    if (e.content.length > o.maxContentLength) return `invalid: content too long (max ${o.maxContentLength} characters)`;
    const now = o.now();
    if (e.created_at > now + o.createdAtUpperLimit) return `invalid: created_at is too far in the future (max ${o.createdAtUpperLimit} s ahead)`;
    if (e.created_at < now - o.createdAtLowerLimit) return `invalid: created_at is too far in the past`;
    return undefined;
  };
}
