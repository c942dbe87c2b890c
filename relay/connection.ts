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

export class Connection {
  readonly challenge = randomBytes(16).toString('hex');
  readonly authed = new Set<string>();
  readonly subs = new Map<string, Subscription>();
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
