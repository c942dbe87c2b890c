// One client connection as the core sees it: no sockets here, only send/close (see server.ts).
import { randomBytes } from 'node:crypto';
import type { LiveFilter } from './subscriptions.js';

export interface Transport {
  send(message: string): void;
  close(code?: number, reason?: string): void;
  /** Bytes queued but not yet written to the socket (0 for in-process transports). */
  bufferedAmount(): number;
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

  constructor(
    readonly id: number,
    readonly ip: string,
    readonly transport: Transport,
    /** Host header of the upgrade request, used to check the relay tag of AUTH events. */
    readonly host: string,
    readonly worker: number,
  ) {}

  send(message: string): void {
    if (!this.closed) this.transport.send(message);
  }
}
