// NIP-39 external identities: the replaceable kind 10011 with `i` tags `["i", "platform:identity", proof]`,
// plus where each known platform's proof lives and the text it must contain. Pure: fetching and
// checking a proof is the caller's.
import type { Checked, NostrEvent } from './nip01.js';
import type { EventTemplate } from './verify.js';

export const EXTERNAL_IDENTITIES_KIND = 10011;

export class Nip39Error extends Error {
  override name = 'Nip39Error';
}

/** The claim types 39.md defines; other platforms are allowed, just not understood by proofUrl/proofText. */
export const KNOWN_PLATFORMS = ['github', 'twitter', 'mastodon', 'telegram'] as const;
export type KnownPlatform = (typeof KNOWN_PLATFORMS)[number];

export interface ExternalIdentity {
  readonly platform: string;
  readonly identity: string;
  /** Gist id, tweet id, post id, `<channel>/<message>`... depending on the platform. */
  readonly proof: string;
  /** Values after the proof (39.md: clients SHOULD process tags with more values, for extensibility). */
  readonly extra?: readonly string[];
}

export interface ExternalIdentities {
  readonly event: NostrEvent;
  readonly identities: readonly ExternalIdentity[];
  /** `i` tags that do not follow the `platform:identity`, proof shape. */
  readonly ignored: readonly (readonly string[])[];
}

/** 39.md: provider names SHOULD use a-z 0-9 . _ - / and MUST NOT contain `:`. */
const PLATFORM = /^[a-z0-9._\-/]+$/;
const isKnown = (p: string): p is KnownPlatform => (KNOWN_PLATFORMS as readonly string[]).includes(p);

export function buildExternalIdentities(ids: readonly ExternalIdentity[], created_at: number = Math.floor(Date.now() / 1000)): EventTemplate {
  const tags: string[][] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    const platform = id.platform.toLowerCase();
    if (!PLATFORM.test(platform)) throw new Nip39Error(`invalid platform name ${JSON.stringify(id.platform)}`);
    if (id.identity === '') throw new Nip39Error('identity must not be empty');
    if (id.proof === '') throw new Nip39Error('proof must not be empty');
    // "Identity names SHOULD be normalized if possible": lowercase for the platforms we know are case-insensitive.
    const identity = isKnown(platform) ? id.identity.toLowerCase() : id.identity;
    const claim = `${platform}:${identity}`;
    if (seen.has(claim)) throw new Nip39Error(`duplicate identity ${claim}`);
    seen.add(claim);
    tags.push(['i', claim, id.proof, ...(id.extra ?? [])]);
  }
  return { kind: EXTERNAL_IDENTITIES_KIND, created_at, tags, content: '' };
}

/** Reads a kind 10011 event (not its signature). Malformed `i` tags are collected in `ignored`. */
export function parseExternalIdentities(e: NostrEvent): Checked<ExternalIdentities> {
  if (e.kind !== EXTERNAL_IDENTITIES_KIND) return { ok: false, reason: `kind ${e.kind} is not external identities (${EXTERNAL_IDENTITIES_KIND})` };
  const identities: ExternalIdentity[] = [];
  const ignored: (readonly string[])[] = [];
  for (const t of e.tags) {
    if (t[0] !== 'i') continue;
    const [, claim = '', proof = ''] = t;
    const colon = claim.indexOf(':');
    const platform = claim.slice(0, colon).toLowerCase();
    const identity = claim.slice(colon + 1);
    if (colon <= 0 || identity === '' || proof === '' || !PLATFORM.test(platform)) {
      ignored.push(t);
      continue;
    }
    identities.push({ platform, identity, proof, ...(t.length > 3 ? { extra: t.slice(3) } : {}) });
  }
  return { ok: true, value: { event: e, identities, ignored } };
}

/** Where the proof can be read, per 39.md's claim types; undefined for other platforms. */
export function proofUrl(id: Pick<ExternalIdentity, 'platform' | 'identity' | 'proof'>): string | undefined {
  switch (id.platform) {
    case 'github':
      return `https://gist.github.com/${id.identity}/${id.proof}`;
    case 'twitter':
      return `https://twitter.com/${id.identity}/status/${id.proof}`;
    case 'mastodon':
      return `https://${id.identity}/${id.proof}`;
    case 'telegram':
      return `https://t.me/${id.proof}`;
    default:
      return undefined;
  }
}

/**
 * The text the proof must contain, per 39.md. Note the spec's own inconsistency, kept verbatim: the
 * GitHub text has the npub bare, Twitter uses a different sentence, and the others quote the npub.
 */
export function proofText(platform: string, npub: string): string | undefined {
  switch (platform) {
    case 'github':
      return `Verifying that I control the following Nostr public key: ${npub}`;
    case 'twitter':
      return `Verifying my account on nostr My Public Key: "${npub}"`;
    case 'mastodon':
    case 'telegram':
      return `Verifying that I control the following Nostr public key: "${npub}"`;
    default:
      return undefined;
  }
}
