// NIP-50: the `search` filter field. Relays interpret the query; we treat it as words that must all
// appear (case-insensitive), and drop `key:value` extensions we do not support, as the NIP asks.

export interface SearchQuery {
  readonly terms: readonly string[];
  readonly extensions: ReadonlyMap<string, string>;
}

const EXTENSION = /^([a-z_]+):(\S+)$/i;

export function parseSearch(q: string): SearchQuery {
  const terms: string[] = [];
  const extensions = new Map<string, string>();
  for (const word of q.normalize('NFKC').split(/\s+/)) {
    if (!word) continue;
    const m = EXTENSION.exec(word);
    if (m && m[1] && m[2]) {
      extensions.set(m[1].toLowerCase(), m[2]);
      continue;
    }
    // Keep letters, digits and marks; punctuation does not carry meaning for word search.
    for (const part of word.toLowerCase().split(/[^\p{L}\p{N}\p{M}_]+/u)) if (part) terms.push(part);
  }
  return { terms, extensions };
}

/** Live-matching counterpart of the relay's full-text index: every term occurs in the content. */
export function matchSearch(q: SearchQuery, content: string): boolean {
  if (q.terms.length === 0) return false;
  const hay = content.normalize('NFKC').toLowerCase();
  return q.terms.every((t) => hay.includes(t));
}
