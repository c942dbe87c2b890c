// The LND backend's errors (STYLE.md, convention 5: a correct `name`; translated at the edges).
// Messages name the operation and LND's own words, never the macaroon.
import { WalletError } from '../errors.js';

/** LND cannot be reached, or its wallet is locked: nothing was done; try again later. */
export class LndUnavailableError extends WalletError {
  override name = 'LndUnavailableError';
}

/** LND refused the macaroon (another node's, or damaged). A configuration error. */
export class LndAuthError extends WalletError {
  override name = 'LndAuthError';
}

/** The macaroon lacks the permission the call needs (e.g. invoices:write). */
export class LndPermissionError extends WalletError {
  override name = 'LndPermissionError';
  constructor(
    message: string,
    readonly permission: string,
  ) {
    super(message);
  }
}

/** Any other refusal by LND (its text is in the message). */
export class LndError extends WalletError {
  override name = 'LndError';
}

/** The payment failed for good (no route, not enough balance, rejected by the payee); the ledger debit was returned. */
export class PaymentFailedError extends WalletError {
  override name = 'PaymentFailedError';
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/**
 * The payment may be on its way: LND did not say how it ended (e.g. the connection broke). The
 * ledger keeps the debit until LND reports the outcome; the wallet asks it again in the background.
 */
export class PaymentPendingError extends WalletError {
  override name = 'PaymentPendingError';
}
