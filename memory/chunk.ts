// Splits long text into chunks of at most `max` characters at the most natural boundary that
// fits: paragraphs, then sentences, then words, and only as a last resort inside a word.
// Chunks are packed greedily so that short sentences share a chunk (fewer, fuller vectors).

export const DEFAULT_MAX_CHUNK_CHARS = 2000;

export function chunkText(text: string, max = DEFAULT_MAX_CHUNK_CHARS): string[] {
  if (!(max >= 1)) throw new RangeError('max chunk size must be >= 1');
  const t = text.trim();
  if (t.length <= max) return t ? [t] : [];
  const out: string[] = [];
  let cur = '';
  const flush = (): void => {
    if (cur.trim()) out.push(cur.trim());
    cur = '';
  };
  const push = (piece: string, sep: string): void => {
    if (!piece) return;
    if (!cur) cur = piece;
    else if (cur.length + sep.length + piece.length <= max) cur += sep + piece;
    else {
      flush();
      cur = piece;
    }
  };
  for (const para of t.split(/\n\s*\n/)) {
    const p = para.trim();
    if (!p) continue;
    if (p.length <= max) {
      push(p, '\n\n');
      continue;
    }
    flush();
    for (const sentence of p.split(/(?<=[.!?;:])\s+/)) {
      if (sentence.length <= max) {
        push(sentence, ' ');
        continue;
      }
      for (const word of sentence.split(/\s+/)) {
        if (word.length <= max) push(word, ' ');
        else for (let i = 0; i < word.length; i += max) push(word.slice(i, i + max), ' ');
      }
    }
    flush();
  }
  flush();
  return out;
}

/** The first sentence (or the first `max` characters) of a text; used by extractive summaries. */
export function firstSentence(text: string, max = 300): string {
  const t = text.trim().replace(/\s+/g, ' ');
  const m = /^.*?[.!?](?=\s|$)/.exec(t);
  const s = m ? m[0] : t;
  return s.length <= max ? s : s.slice(0, max - 1).trimEnd() + '…';
}
