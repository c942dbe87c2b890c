// Word error rate: (substitutions + deletions + insertions) / reference words, by Levenshtein
// distance over words after normalising case and punctuation. Used by the tests and the
// benchmark to compare engines on the same fixed set.

/** Lowercase words with punctuation removed ("Don't!" → "don't"; hyphens split words). */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[‘’]/g, "'")
    .replace(/[^\p{L}\p{N}'\s-]/gu, ' ')
    .replace(/-/g, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean);
}

export interface WerResult {
  /** Edits / reference words (can exceed 1 with many insertions); 0 for two empty texts. */
  readonly wer: number;
  readonly substitutions: number;
  readonly deletions: number;
  readonly insertions: number;
  readonly referenceWords: number;
}

export function wordErrors(reference: string, hypothesis: string): WerResult {
  const r = normalizeWords(reference);
  const h = normalizeWords(hypothesis);
  // dp[j] = [cost, sub, del, ins] for r[0..i) vs h[0..j); one row at a time.
  type Cell = readonly [number, number, number, number];
  let prev: Cell[] = Array.from({ length: h.length + 1 }, (_, j) => [j, 0, 0, j] as const);
  for (let i = 1; i <= r.length; i++) {
    const row: Cell[] = [[i, 0, i, 0]];
    for (let j = 1; j <= h.length; j++) {
      const diag = prev[j - 1]!;
      const up = prev[j]!;
      const left = row[j - 1]!;
      const same = r[i - 1] === h[j - 1];
      const options: Cell[] = [
        same ? diag : [diag[0] + 1, diag[1] + 1, diag[2], diag[3]],
        [up[0] + 1, up[1], up[2] + 1, up[3]],
        [left[0] + 1, left[1], left[2], left[3] + 1],
      ];
      row.push(options.reduce((a, b) => (b[0] < a[0] ? b : a)));
    }
    prev = row;
  }
  const [cost, substitutions, deletions, insertions] = prev[h.length]!;
  return { wer: r.length === 0 ? (h.length === 0 ? 0 : 1) : cost / r.length, substitutions, deletions, insertions, referenceWords: r.length };
}

/** Word error rate of a hypothesis against a reference. */
export function wer(reference: string, hypothesis: string): number {
  return wordErrors(reference, hypothesis).wer;
}
