// The wallet's errors. Each has a correct `name`; callers translate them to NIP-90 feedback, HTTP
// statuses or CLI messages at the edges (STYLE.md, convention 5).

export class WalletError extends Error {
  override name = 'WalletError';
}

/** A malformed account id, or an account that cannot do what was asked (e.g. pay from an escrow). */
export class InvalidAccountError extends WalletError {
  override name = 'InvalidAccountError';
}

/** An amount that is not a positive safe integer of msat (or not allowed here). */
export class InvalidAmountError extends WalletError {
  override name = 'InvalidAmountError';
}

export class InsufficientFundsError extends WalletError {
  override name = 'InsufficientFundsError';
  constructor(
    readonly account: string,
    readonly balanceMsat: number,
    readonly neededMsat: number,
  ) {
    super(`insufficient funds in ${account}: balance ${balanceMsat} msat, needs ${neededMsat} msat`);
  }
}

/** The same idempotency key was used before for different ledger entries. */
export class IdempotencyConflictError extends WalletError {
  override name = 'IdempotencyConflictError';
}

/** A ledger transaction whose entries do not sum to zero (a bug in the caller). */
export class UnbalancedTransactionError extends WalletError {
  override name = 'UnbalancedTransactionError';
}

export class InvoiceNotFoundError extends WalletError {
  override name = 'InvoiceNotFoundError';
}

export class InvoiceExpiredError extends WalletError {
  override name = 'InvoiceExpiredError';
}

export class InvoiceAlreadyPaidError extends WalletError {
  override name = 'InvoiceAlreadyPaidError';
}

export class InvoiceCancelledError extends WalletError {
  override name = 'InvoiceCancelledError';
}

/** The invoice is for another network than the wallet's (e.g. `lnbc` on a regtest wallet). */
export class NetworkMismatchError extends WalletError {
  override name = 'NetworkMismatchError';
}

/** The backend cannot do this (e.g. the built-in wallet paying a foreign invoice, or hold invoices). */
export class WalletUnsupportedError extends WalletError {
  override name = 'WalletUnsupportedError';
}

/** `fund` was called on a network where minting test money is not allowed. */
export class FundingDisabledError extends WalletError {
  override name = 'FundingDisabledError';
}

export class EscrowNotFoundError extends WalletError {
  override name = 'EscrowNotFoundError';
}

/** An escrow move that its state forbids (release after refund, a second hold, another winner). */
export class EscrowStateError extends WalletError {
  override name = 'EscrowStateError';
}

/** The database was created for another network or node key than the one configured. */
export class WalletConfigError extends WalletError {
  override name = 'WalletConfigError';
}
