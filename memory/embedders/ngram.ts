// The default offline embedder: no model files, no network, deterministic. A text becomes a bag of
// hashed features folded into `dimensions` floats (signed hashing trick), sublinear tf, no idf (no
// corpus statistics to keep in step with the store), L2-normalised:
//   - the light stem of each word (stop words weighted down, not out; words WordNet does not know,
//     such as names and ids, weighted up: they are rare, so telling),
//   - bigrams of consecutive content-word stems ("machine learning" is more than its words),
//   - character 3- to 5-grams of each content word with boundary marks ("<car", "car>"), so typos
//     and unseen inflections still meet,
//   - with WordNet, each content word's meaning block: its first three synsets ("automobile" meets
//     "car") and the synsets up to three steps away (hypernyms, and derivational relatives at the
//     first step: engine -> motor, payment -> pay), so siblings meet; scaled to a fixed norm, each
//     feature below the word itself. Two adjacent words that WordNet lists as one lemma ("ice
//     cream") add that lemma's synsets; a lowercase word WordNet does not know but one edit from a
//     lemma it knows ("recieve") gets that lemma's features, weighted down.
// The weights were chosen on bench/data/memory (queries whose relevant documents share few words
// with them, some anchored on a name): nDCG@10 0.22 against plain hashing's 0.09 there.
// Any change to these features or their weights changes vectors: bump VERSION.
import { type Embedder, EmbedderError } from '../embedder.js';
import { checkDimensions, FeatureBag } from './hashing.js';
import { hashPair, hashRange, hashString, STOP_WORDS, stem, wordsWithCase } from './tokenize.js';
import { loadWordNet, relationsOf, spellingNeighbour, synsetsOf } from './wordnet.js';

const VERSION = 1;

const SEED = { word: 11, bigram: 12, char: 13, synset: 14 } as const;
const STOP_WEIGHT = 0.15;
const BIGRAM_WEIGHT = 0.3;
/** Norm of one word's character n-gram block (each gram gets CHAR_WEIGHT / sqrt(grams)). */
const CHAR_WEIGHT = 0.4;
/** The same for a word without synsets, where spelling is the only clue beyond the exact word. */
const CHAR_WEIGHT_UNKNOWN = 0.8;
/** The word feature of a word WordNet does not know (1 for the others). */
const UNKNOWN_WORD_WEIGHT = 3;
/** Relative weights of a word's first, second and third synsets. */
const SYNSET_WEIGHTS = [0.9, 0.7, 0.5] as const;
/** Norm of a word's meaning block (its synsets and their neighbourhood); the word itself weighs 1. */
const MEANING_NORM = 2;
/** Cap of one meaning feature: a synonym never counts as much as the word itself. */
const MEANING_MAX = 0.9;
const COMPOUND_WEIGHT = 0.8;
/** An unknown word one edit from a WordNet lemma also gets that lemma's features at this weight. */
const TYPO_WEIGHT = 0.6;
/**
 * Synsets one, two and three steps from a word's synset (a step: a hypernym, or a derivationally
 * related synset) count this fraction of the synset's weight: paraphrases often use a more general,
 * a sibling or a derived word (engine/motor, loaf/bread, yeast/leavening, pay/payment).
 */
const RELATED_FACTORS = [0.8, 0.7, 0.6] as const;
/** Words (and word pairs) whose features are cached: ~50 features a word, ~0.5 kB each. */
const CACHE_LIMIT = 50_000;
/** Texts embedded between yields to the event loop (and abort checks). */
const SLICE = 64;

export interface NgramOptions {
  /** Default 384, the size of the common small sentence models, so a later switch keeps the table shape. */
  dimensions?: number;
  /** Add WordNet synset features (default true). */
  wordnet?: boolean;
}

/** One word's features, computed once and cached: the same words recur across texts. */
interface WordFeatures {
  readonly stemHash: number;
  readonly stop: boolean;
  readonly hashes: Uint32Array;
  readonly weights: Float32Array;
}

export function defaultEmbedder(o: NgramOptions = {}): Embedder {
  const dimensions = checkDimensions(o.dimensions ?? 384);
  const useWordNet = o.wordnet ?? true;
  const cache = new Map<string, WordFeatures>();
  const compounds = new Map<string, readonly string[]>();

  function wordFeatures(word: string, capital: boolean): WordFeatures {
    const key = capital ? `^${word}` : word;
    const hit = cache.get(key);
    if (hit) return hit;
    const stop = STOP_WORDS.has(word);
    const stemHash = hashString(stem(word), SEED.word);
    const hashes = [stemHash];
    const weights = [stop ? STOP_WEIGHT : 1];
    if (!stop && word.length > 1) {
      let synsets = useWordNet && !/\d/.test(word) ? synsetsOf(word, SYNSET_WEIGHTS.length) : [];
      let scale = 1;
      // Capitalised words may be names, and names are not typos: "Jenna" must not become Jena.
      const neighbour = useWordNet && synsets.length === 0 && !capital ? spellingNeighbour(word) : undefined;
      if (neighbour) {
        // Probably a typo: the word it is one edit from counts, weighted down.
        scale = TYPO_WEIGHT;
        hashes.push(hashString(stem(neighbour), SEED.word));
        weights.push(TYPO_WEIGHT);
        synsets = synsetsOf(neighbour, SYNSET_WEIGHTS.length);
      }
      // The meaning block: the synsets and their neighbourhood, summed per synset (where the senses
      // agree is likelier the meaning), then scaled to a fixed norm, so a word with many senses
      // spreads the same weight thinner and no word's meaning outweighs the words themselves.
      const meaning = new Map<number, number>();
      const put = (id: string, w: number): void => {
        const h = hashString(id, SEED.synset);
        meaning.set(h, (meaning.get(h) ?? 0) + w);
      };
      synsets.forEach((id, rank) => {
        const w = SYNSET_WEIGHTS[rank]!;
        put(id, w);
        // Walk outwards: one step is a hypernym or a derivational relative (pay -> payment).
        let level = [id];
        for (let depth = 0; depth < RELATED_FACTORS.length; depth++) {
          // Derivational relatives only at the first step: followed further they fan out into hundreds.
          level = level.flatMap((s) => {
            const r = relationsOf(s);
            return depth === 0 ? [...r.hypernyms, ...r.derived] : r.hypernyms;
          });
          level = [...new Set(level)];
          for (const h of level) put(h, w * RELATED_FACTORS[depth]!);
        }
      });
      let norm = 0;
      for (const w of meaning.values()) norm += w * w;
      const k = norm > 0 ? (MEANING_NORM * scale) / Math.sqrt(norm) : 0;
      for (const [h, w] of meaning) {
        hashes.push(h);
        weights.push(Math.min(w * k, MEANING_MAX * scale)); // each below the word itself
      }
      // A word WordNet does not know (a name, jargon, an id) is rare, so telling: with no idf to
      // say so, it weighs more, and its spelling is the only clue beyond the exact word.
      if (useWordNet && synsets.length === 0) weights[0] = UNKNOWN_WORD_WEIGHT;
      const marked = `<${word}>`;
      let grams = 0;
      for (let n = 3; n <= 5; n++) grams += Math.max(0, marked.length - n + 1);
      const w = (useWordNet && synsets.length === 0 ? CHAR_WEIGHT_UNKNOWN : CHAR_WEIGHT) / Math.sqrt(grams);
      for (let n = 3; n <= 5; n++) {
        for (let i = 0; i + n <= marked.length; i++) {
          hashes.push(hashRange(marked, i, i + n, SEED.char));
          weights.push(w);
        }
      }
    }
    // One entry per feature. A synset reached from several senses sums its weights: where the
    // senses agree is likelier the meaning (and word-internal repeats are not term frequency).
    const merged = new Map<number, number>();
    hashes.forEach((h, i) => merged.set(h, (merged.get(h) ?? 0) + weights[i]!));
    const f = { stemHash, stop, hashes: Uint32Array.from(merged.keys()), weights: Float32Array.from(merged.values()) };
    if (word.length <= 32) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(key, f);
    }
    return f;
  }

  function compoundSynsets(a: string, b: string): readonly string[] {
    const key = `${a}_${b}`;
    let ids = compounds.get(key);
    if (!ids) {
      ids = synsetsOf(key, 2);
      if (compounds.size >= CACHE_LIMIT) compounds.clear();
      compounds.set(key, ids);
    }
    return ids;
  }

  const bag = new FeatureBag(); // reused: embedOne runs to completion without awaiting

  function embedOne(text: string): Float32Array {
    bag.reset();
    const { words: ws, capitalised } = wordsWithCase(text);
    let prevContent: WordFeatures | undefined;
    let prevWord: string | undefined;
    for (let k = 0; k < ws.length; k++) {
      const word = ws[k]!;
      const f = wordFeatures(word, capitalised[k]!);
      for (let i = 0; i < f.hashes.length; i++) bag.add(f.hashes[i]!, f.weights[i]!);
      if (!f.stop) {
        if (prevContent) bag.add(hashPair(prevContent.stemHash, f.stemHash, SEED.bigram), BIGRAM_WEIGHT);
        if (useWordNet && prevWord !== undefined) {
          for (const id of compoundSynsets(prevWord, word)) bag.add(hashString(id, SEED.synset), COMPOUND_WEIGHT);
        }
        prevContent = f;
        prevWord = word;
      } else {
        prevWord = undefined; // "ice cream" is a compound, "ice the cream" is not
      }
    }
    return bag.fold(dimensions, true);
  }

  return {
    id: useWordNet ? 'ngram-wordnet' : 'ngram',
    version: VERSION,
    dimensions,
    async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
      if (useWordNet) {
        try {
          loadWordNet();
        } catch (e) {
          throw e instanceof EmbedderError ? e : new EmbedderError(`WordNet failed to load: ${(e as Error).message}`);
        }
      }
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i++) {
        if (i % SLICE === 0) {
          signal?.throwIfAborted();
          if (i > 0) await new Promise((r) => setImmediate(r));
        }
        out.push(embedOne(texts[i]!));
      }
      return out;
    },
  };
}
