// One client connection as the core sees it: no sockets here, only send/close (see server.ts).
import { randomBytes } from 'node:crypto';
import type { LiveFilter } from './subscriptions.js';

export interface Transport {
  send(message: string): void;
  close(code?: number, reason?: string): void;
  /** Bytes queued but not yet written to the socket (0 for in-process transports). */
  bufferedAmount(): number;
  /** Closes at once, dropping queued output (a client that does not read never takes it). */
  terminate?(code: number, reason: string): void;
  /** Holds sends back until uncork, to write many messages to the socket at once (one write, not one per message). */
  cork?(): void;
  uncork?(): void;
}

export interface Subscription {
  readonly conn: Connection;
  readonly subId: string;
  readonly filters: readonly LiveFilter[];
  /** Live events that arrived while the history query ran: sent after EOSE. */
  pending: string[] | null;
}

export interface NegSync {
  /** Answers the client's next message; throws NegentropyError on a malformed one. */
  respond(message: Uint8Array): Uint8Array;
  lastUsed: number;
}

export class Connection {
  readonly challenge = randomBytes(16).toString('hex');
  readonly authed = new Set<string>();
  readonly subs = new Map<string, Subscription>();
  /** NIP-77 syncs in progress, by their subscription id (a namespace apart from REQ's). */
  readonly negs = new Map<string, NegSync>();
  closed = false;
  /** Set when the send queue overflowed: nothing more is sent; the core disconnects it. */
  overflowed = false;

  constructor(
    readonly id: number,
    readonly ip: string,
    readonly transport: Transport,
    /** Host header of the upgrade request, used to check the relay tag of AUTH events. */
    readonly host: string,
    readonly worker: number,
    /** Bytes the transport may hold unsent before `onOverflow` (Infinity: no bound). */
    private readonly maxBuffered = Infinity,
    private readonly onOverflow: (c: Connection) => void = () => undefined,
  ) {}

  /**
   * Sends unless closed. Every message (EVENT, OK, NOTICE, CLOSED, ...) counts against the
   * connection's send queue: past `maxBuffered` the client is not reading, so it is cut off
   * instead of letting its queue grow without bound.
   */
  send(message: string): void {
    if (this.closed || this.overflowed) return;
    this.transport.send(message);
    if (this.transport.bufferedAmount() > this.maxBuffered) {
      this.overflowed = true;
      this.onOverflow(this);
    }
  }
}
