// NostrClient: how the rest of Timmy talks to relays, without knowing about sockets.
// Two adapters implement it: nostr/ws-client.ts (any NIP-01 relay over websockets) and
// relay/inprocess-client.ts (the embedded relay, through its core, no sockets).
// Pure types: no I/O here.
import type { Filter, NostrEvent } from './nip01.js';

/** One relay's answer to an EVENT (its NIP-01 OK message, or a local failure). */
export interface RelayAnswer {
  /** The relay's URL (`in-process` for the embedded relay). */
  readonly relay: string;
  /** NIP-01 OK: true when the relay accepted the event; a `duplicate:` answer is ok too. */
  readonly ok: boolean;
  /**
   * The OK message as the relay sent it, with its machine-readable prefix (`duplicate:`,
   * `blocked:`, `invalid:`, `auth-required:`, `rate-limited:`, ...). Failures on our side
   * (timeout, no connection, client closed) read `error: ...`.
   */
  readonly message: string;
}

export interface PublishResult {
  /** True when at least one relay accepted the event. */
  readonly ok: boolean;
  /** One answer per relay, in the order the client was given its relays. */
  readonly relays: readonly RelayAnswer[];
}

export interface SubscriptionHandlers {
  /**
   * A verified event that matches the filters; each event id is delivered once, even when
   * several relays send it. Stored events come first, then (after onEose) live ones.
   */
  onEvent(e: NostrEvent): void;
  /**
   * Called once, when no relay is still sending stored events: each has sent EOSE, closed the
   * subscription, or could not be reached. Events that arrive later are live (or come from a
   * relay that was reached late).
   */
  onEose?(): void;
  /**
   * A relay ended the subscription (NIP-01 CLOSED) with this reason, e.g. `auth-required: ...`
   * or `invalid: ...`. Other relays may still serve it. Not called for `close()` by the caller.
   */
  onClosed?(reason: string, relay: string): void;
}

export interface Subscription {
  /** Stops the subscription on every relay. Idempotent. */
  close(): void;
}

export interface QueryOptions {
  /** Give up waiting for EOSE after this long and return what has arrived (default 10 s). */
  timeoutMs?: number;
}

export interface NostrClient {
  /**
   * Sends the (signed) event to every relay and waits for each OK (or a timeout). Never rejects:
   * failures are answers with ok false.
   */
  publish(event: NostrEvent): Promise<PublishResult>;
  /** Opens a subscription (NIP-01 REQ) on every relay. Handlers are never called after close(). */
  subscribe(filters: Filter[], handlers: SubscriptionHandlers): Subscription;
  /**
   * Stored events matching the filters: collected until every relay has sent EOSE (or the
   * timeout), deduplicated by id, newest first (NIP-01 order). Rejects only when no relay could
   * serve the query at all (every relay closed it, e.g. `auth-required:`, or was unreachable).
   */
  query(filters: Filter[], opts?: QueryOptions): Promise<NostrEvent[]>;
  /** Closes every subscription and connection; pending publishes answer `error: client closed`. */
  close(): Promise<void>;
}

/**
 * Publishes, waiting at most `ms` for the answers: for best-effort events sent while stopping (an
 * agent's offline beat, an announcement's withdrawal), where a relay that is down would otherwise
 * hold the shutdown for the client's whole publish timeout. Resolves ok false on the deadline (the
 * publish goes on until the client closes).
 */
export function publishWithin(client: NostrClient, event: NostrEvent, ms: number): Promise<PublishResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<PublishResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, relays: [] }), ms);
  });
  return Promise.race([client.publish(event), deadline]).finally(() => clearTimeout(timer));
}
