// NIP-11 relay information document, built from config so that advertised limits are the enforced ones.
import type { RelayConfig } from './config.js';

export const SUPPORTED_NIPS = [1, 9, 11, 40, 42, 45, 50, 70, 77] as const;

export function relayInfo(cfg: RelayConfig, version: string): Record<string, unknown> {
  return {
    name: cfg.name,
    description: cfg.description,
    ...(cfg.pubkey ? { pubkey: cfg.pubkey } : {}),
    ...(cfg.contact ? { contact: cfg.contact } : {}),
    supported_nips: [...SUPPORTED_NIPS],
    version,
    limitation: {
      max_message_length: cfg.maxMessageLength,
      max_subscriptions: cfg.maxSubscriptions,
      max_filters: cfg.maxFilters,
      max_limit: cfg.maxLimit,
      max_subid_length: cfg.maxSubidLength,
      max_event_tags: cfg.maxEventTags,
      max_content_length: cfg.maxContentLength,
      min_pow_difficulty: 0,
      auth_required: cfg.auth.required,
      payment_required: false,
      restricted_writes: cfg.auth.required || cfg.auth.writeKinds.length > 0,
      created_at_lower_limit: cfg.createdAtLowerLimit,
      created_at_upper_limit: cfg.createdAtUpperLimit,
      default_limit: cfg.defaultLimit,
    },
  };
}
