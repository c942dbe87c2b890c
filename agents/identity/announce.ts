// Publishes who an agent is: its kind 0 profile, its NIP-65 relay list (kind 10002) and, when the
// persona lists any, its NIP-39 identities (kind 10011). All three are replaceable, so publishing
// them on every start is harmless and keeps them current.
import type { NostrClient, PublishResult } from '../../nostr/client.js';
import type { Signer } from '../../nostr/signer.js';
import { identitiesTemplate, profileTemplate, relayListTemplate, type ProfileOptions, type RelayEntry } from '../events.js';
import type { Persona } from '../personas/schema.js';

export interface AnnounceOptions {
  /** The instance's NIP-05 domain: the agent's identifier becomes `<name>@<domain>`. */
  nip05Domain?: string;
  /** From the wallet, when it has them. */
  lud16?: string;
  offer?: string;
  /** Relays to list when the persona names none (the instance's public relay URLs). */
  defaultRelays?: readonly string[];
  /** Unix seconds (default: now). */
  createdAt?: number;
}

export interface AnnounceResult {
  readonly kind: number;
  readonly id: string;
  readonly result: PublishResult;
}

export async function announceAgent(persona: Persona, signer: Signer, client: NostrClient, o: AnnounceOptions = {}): Promise<AnnounceResult[]> {
  const at = o.createdAt ?? Math.floor(Date.now() / 1000);
  const profile: ProfileOptions = {
    ...(o.nip05Domain ? { nip05: `${persona.name}@${o.nip05Domain}` } : {}),
    ...(o.lud16 ? { lud16: o.lud16 } : {}),
    ...(o.offer ? { offer: o.offer } : {}),
  };
  const relays: RelayEntry[] = persona.relays.length > 0 ? persona.relays : (o.defaultRelays ?? []).map((url) => ({ url }));
  const templates = [profileTemplate(persona, profile, at)];
  if (relays.length > 0) templates.push(relayListTemplate(relays, at));
  if (persona.identities.length > 0) templates.push(identitiesTemplate(persona.identities, at));
  const out: AnnounceResult[] = [];
  for (const t of templates) {
    const e = await signer.signEvent(t);
    out.push({ kind: e.kind, id: e.id, result: await client.publish(e) });
  }
  return out;
}
