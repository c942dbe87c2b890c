// Label values for /metrics, kept to small fixed sets: a label value is never a pubkey, an npub, an
// event id or any other string a stranger chooses (each new value is a new time series).

/** The machine-readable prefixes NIP-01 defines for OK and CLOSED messages. */
export const NIP01_PREFIXES = ['duplicate', 'pow', 'blocked', 'rate-limited', 'invalid', 'restricted', 'mute', 'error', 'auth-required'] as const;
const PREFIXES: ReadonlySet<string> = new Set(NIP01_PREFIXES);

/** `blocked: too many subscriptions` -> `blocked`; text without a known prefix -> `other`. */
export function rejectionReason(message: string): string {
  const colon = message.indexOf(':');
  if (colon <= 0) return 'other';
  const prefix = message.slice(0, colon);
  return PREFIXES.has(prefix) ? prefix : 'other';
}

/** Looks like a key or an id: 64 hex digits, or bech32 with a NIP-19 prefix. */
const UNBOUNDED = /[0-9a-f]{64}|\b(npub|nsec|note|nevent|nprofile|naddr)1[02-9ac-hj-np-z]{20,}/i;

/**
 * Caps the distinct values a label takes (e.g. the model names a server reports): the first `max`
 * values pass, later ones become `other`, as do values that look like keys or ids.
 */
export class LabelCap {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}

  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (value.length === 0 || value.length > 64 || UNBOUNDED.test(value) || this.seen.size >= this.max) return 'other';
    this.seen.add(value);
    return value;
  }
}

/**
 * The `account` label of a ledger account: system accounts and agents by id, customers and
 * test users summed; undefined for escrows (they have their own gauge).
 */
export function accountLabel(account: string, kind: string): string | undefined {
  switch (kind) {
    case 'escrow':
      return undefined;
    case 'customer':
      return 'customers';
    case 'user':
      return 'users';
    case 'agent':
      return account;
    default:
      return kind; // external, treasury, fees
  }
}
