// Each agent's persistent BOLT12 offer. Its issuer key is a keystore secret of its own, named
// after the agent (`offer-<name>`, or `offer-<sha256 prefix>` for names too long for a key name),
// so the offer is the same string on every start while the persona's fields stay the same.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Network } from '../../wallet/bolt11.js';
import { buildPayeeOffer } from '../../wallet/offers/offer.js';
import type { Persona } from '../personas/schema.js';

/** The keystore secret that signs the agent's BOLT12 invoices. */
export function offerKeyName(agent: string): string {
  const name = `offer-${agent}`;
  return name.length <= 64 ? name : `offer-${bytesToHex(sha256(new TextEncoder().encode(agent))).slice(0, 58)}`;
}

/** The agent's offer: description = about (else display name), issuer = name@domain (else display name), no fixed amount. */
export function agentOffer(persona: Persona, issuerKey: Uint8Array, o: { network: Network; nip05Domain?: string | undefined }): string {
  return buildPayeeOffer({
    issuerKey,
    description: persona.about.trim() || persona.displayName,
    issuer: o.nip05Domain ? `${persona.name}@${o.nip05Domain}` : persona.displayName,
    network: o.network,
  });
}
