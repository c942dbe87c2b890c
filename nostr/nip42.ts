// NIP-42: the kind 22242 authentication event, built by clients and checked by relays.
import type { NostrEvent, UnsignedEvent } from './nip01.js';
import { tagValue } from './nip01.js';

export const AUTH_KIND = 22242;
/** How far created_at may be from the relay's clock (the NIP suggests about 10 minutes). */
export const AUTH_WINDOW_SECONDS = 600;

export function authTemplate(relayUrl: string, challenge: string, created_at: number): Omit<UnsignedEvent, 'pubkey'> {
  return { kind: AUTH_KIND, created_at, tags: [['relay', relayUrl], ['challenge', challenge]], content: '' };
}

/** host[:port] of a ws/wss/http(s) URL, lowercased; undefined when it does not parse. */
export function urlHost(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Checks a signed AUTH event (signature already verified) against the connection's challenge.
 * The relay tag must name this relay: its host must be one of `hosts` (scheme and path are not
 * compared, since TLS is often terminated by a proxy in front of the relay).
 * Returns a reason with its NIP-01 prefix, or undefined when the event authenticates its pubkey.
 */
export function checkAuthEvent(e: NostrEvent, o: { challenge: string; hosts: readonly string[]; now: number }): string | undefined {
  if (e.kind !== AUTH_KIND) return `invalid: AUTH event must be kind ${AUTH_KIND}`;
  if (tagValue(e, 'challenge') !== o.challenge) return 'invalid: challenge does not match';
  const relay = tagValue(e, 'relay');
  const host = relay === undefined ? undefined : urlHost(relay);
  if (host === undefined || !o.hosts.map((h) => h.toLowerCase()).includes(host)) return 'invalid: relay tag does not name this relay';
  if (Math.abs(e.created_at - o.now) > AUTH_WINDOW_SECONDS) return 'invalid: AUTH event created_at is too far from now';
  return undefined;
}
