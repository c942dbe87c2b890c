// Extractive summarization with TextRank (Mihalcea & Tarau, 2004) over sentences: split the text
// into paragraphs and sentences, link every two sentences by how many content words they share
// (normalized by their lengths), run weighted PageRank on that graph, keep the top sentences and
// give them back in their original order. Pure functions; no I/O.

export interface Sentence {
  /** The sentence, whitespace collapsed. */
  readonly text: string;
  /** Index of its source paragraph. */
  readonly paragraph: number;
  /** Position in the whole text. */
  readonly index: number;
  /** Its content words (lowercased, stopwords dropped, crudely stemmed). */
  readonly words: ReadonlySet<string>;
  /** All words, for word-count budgets. */
  readonly wordCount: number;
}

export type LengthUnit = 'sentences' | 'words' | 'paragraphs';
export interface SummaryLength {
  readonly n: number;
  readonly unit: LengthUnit;
}

// A short English stopword list: enough to keep "the"/"of" from linking every sentence to every other.
const STOPWORDS = new Set(
  ('a about above after again against all also am an and any are as at be because been before being below between both but by can ' +
    'could did do does doing down during each few for from further had has have having he her here hers herself him himself his how ' +
    'i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours ourselves out ' +
    'over own same she should so some such than that the their theirs them themselves then there these they this those through to ' +
    'too under until up very was we were what when where which while who whom why will with would you your yours yourself ' +
    'yourselves one two may might must shall us many much every via per')
    .split(' '),
);

const sentenceSeg = new Intl.Segmenter('en', { granularity: 'sentence' });
const wordSeg = new Intl.Segmenter('en', { granularity: 'word' });

function stem(w: string): string {
  let s = w.replace(/['’]s$/, '');
  if (s.length > 4 && s.endsWith('ies')) s = s.slice(0, -3) + 'y';
  else if (s.length > 3 && s.endsWith('s') && !s.endsWith('ss') && !s.endsWith('us') && !s.endsWith('is')) s = s.slice(0, -1);
  return s;
}

export function tokenize(text: string): { words: Set<string>; count: number } {
  const words = new Set<string>();
  let count = 0;
  for (const seg of wordSeg.segment(text.normalize('NFKC').toLowerCase())) {
    if (!seg.isWordLike) continue;
    count++;
    const w = seg.segment;
    if (w.length < 2 || STOPWORDS.has(w) || /^\d+$/.test(w)) continue;
    words.add(stem(w));
  }
  return { words, count };
}

/** Paragraphs are separated by blank lines; each is cut into sentences (Intl.Segmenter). Duplicates are dropped. */
export function splitSentences(documents: readonly string[]): Sentence[] {
  const out: Sentence[] = [];
  const seen = new Set<string>();
  let paragraph = 0;
  for (const doc of documents) {
    for (const para of doc.split(/\n\s*\n/)) {
      let any = false;
      for (const seg of sentenceSeg.segment(para)) {
        const text = seg.segment.replace(/\s+/g, ' ').trim();
        if (!text) continue;
        const key = text.toLowerCase();
        if (seen.has(key)) continue;
        seen.add(key);
        const { words, count } = tokenize(text);
        if (count === 0) continue;
        out.push({ text, paragraph, index: out.length, words, wordCount: count });
        any = true;
      }
      if (any) paragraph++;
    }
  }
  return out;
}

/** TextRank's similarity: shared words over the log of the lengths (log(1+n), so one-word sentences do not divide by zero). */
export function similarity(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const w of small) if (large.has(w)) shared++;
  return shared === 0 ? 0 : shared / (Math.log(1 + a.size) + Math.log(1 + b.size));
}

export interface RankOptions {
  damping?: number;
  maxIterations?: number;
  tolerance?: number;
  /** Called between iterations; throw from it to stop (e.g. signal.throwIfAborted). */
  check?(): void;
}

/** Weighted PageRank scores over the sentence similarity graph, one per sentence. */
export function rankSentences(sentences: readonly Sentence[], o: RankOptions = {}): number[] {
  const n = sentences.length;
  const d = o.damping ?? 0.85;
  // Sparse, symmetric graph: for each sentence, its neighbours and edge weights.
  const nbr: number[][] = Array.from({ length: n }, () => []);
  const wt: number[][] = Array.from({ length: n }, () => []);
  const outSum = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (i % 200 === 0) o.check?.();
    for (let j = i + 1; j < n; j++) {
      const s = similarity(sentences[i]!.words, sentences[j]!.words);
      if (s === 0) continue;
      nbr[i]!.push(j);
      wt[i]!.push(s);
      nbr[j]!.push(i);
      wt[j]!.push(s);
      outSum[i]! += s;
      outSum[j]! += s;
    }
  }
  let score = new Float64Array(n).fill(1);
  for (let iter = 0; iter < (o.maxIterations ?? 100); iter++) {
    o.check?.();
    const next = new Float64Array(n).fill(1 - d);
    for (let j = 0; j < n; j++) {
      if (outSum[j] === 0) continue;
      const share = (d * score[j]!) / outSum[j]!;
      const ns = nbr[j]!;
      const ws = wt[j]!;
      for (let k = 0; k < ns.length; k++) next[ns[k]!]! += share * ws[k]!;
    }
    let delta = 0;
    for (let i = 0; i < n; i++) delta = Math.max(delta, Math.abs(next[i]! - score[i]!));
    score = next;
    if (delta < (o.tolerance ?? 1e-6)) break;
  }
  return [...score];
}

/** `length` param of 5001: "N words", "N paragraphs", and (ours) "N sentences" or a bare N (sentences). */
export function parseLength(raw: string): SummaryLength | undefined {
  const m = /^\s*(\d{1,5})\s*(words?|paragraphs?|sentences?)?\s*$/i.exec(raw);
  if (!m || Number(m[1]) < 1) return undefined;
  const unit = (m[2] ?? 'sentences').toLowerCase();
  return { n: Number(m[1]), unit: (unit.endsWith('s') ? unit : unit + 's') as LengthUnit };
}

/** A default length: about a fifth of the sentences, between 1 and 5. */
export const defaultLength = (sentenceCount: number): SummaryLength => ({ n: Math.min(5, Math.max(1, Math.round(sentenceCount / 5))), unit: 'sentences' });

/** Picks sentences by score (ties: earlier first) within the length budget; returns them in text order. */
export function select(sentences: readonly Sentence[], scores: readonly number[], len: SummaryLength): Sentence[] {
  const byRank = sentences.map((s, i) => ({ s, score: scores[i] ?? 0 })).sort((a, b) => b.score - a.score || a.s.index - b.s.index);
  const chosen: Sentence[] = [];
  if (len.unit === 'words') {
    let words = 0;
    for (const { s } of byRank) {
      if (chosen.length > 0 && words + s.wordCount > len.n) continue;
      chosen.push(s);
      words += s.wordCount;
    }
  } else {
    const k = len.unit === 'paragraphs' ? len.n * 3 : len.n;
    for (const { s } of byRank.slice(0, k)) chosen.push(s);
  }
  return chosen.sort((a, b) => a.index - b.index);
}

/**
 * Lays the chosen sentences out as text. By sentences or words: sentences from the same source
 * paragraph share a paragraph. By paragraphs: the sentences are dealt into N paragraphs in order.
 */
export function layout(chosen: readonly Sentence[], len: SummaryLength): string {
  const groups: Sentence[][] = [];
  if (len.unit === 'paragraphs') {
    const p = Math.min(len.n, chosen.length);
    for (let g = 0; g < p; g++) groups.push(chosen.slice(Math.floor((g * chosen.length) / p), Math.floor(((g + 1) * chosen.length) / p)));
  } else {
    for (const s of chosen) {
      const last = groups[groups.length - 1];
      if (last && last[0]!.paragraph === s.paragraph) last.push(s);
      else groups.push([s]);
    }
  }
  return groups.map((g) => g.map((s) => s.text).join(' ')).join('\n\n');
}

/** The whole pipeline for a list of documents. */
export function summarizeText(documents: readonly string[], len?: SummaryLength, o: RankOptions & { maxSentences?: number } = {}): string {
  const all = splitSentences(documents);
  const sentences = all.slice(0, o.maxSentences ?? all.length);
  if (sentences.length === 0) return '';
  const scores = rankSentences(sentences, o);
  const l = len ?? defaultLength(sentences.length);
  return layout(select(sentences, scores, l), l);
}
