// Errors of the NWC service and client. A RequestError carries the NIP-47 code the service answers
// with; the client turns an error response back into one.
import type { Nip47ErrorCode } from '../../nostr/nip47.js';

export class NwcError extends Error {
  override name = 'NwcError';
}

/** A request the service answers with an error: the code goes on the wire as is. */
export class NwcRequestError extends NwcError {
  override name = 'NwcRequestError';
  constructor(
    readonly code: Nip47ErrorCode | (string & {}),
    message: string,
  ) {
    super(message);
  }
}

/** Adding, finding or removing connections (duplicate name, unknown name, bad arguments). */
export class NwcConnectionError extends NwcError {
  override name = 'NwcConnectionError';
}

/** The client gave up waiting for a response. */
export class NwcTimeoutError extends NwcError {
  override name = 'NwcTimeoutError';
}
