// Word splitting, stop words and light stemming shared by the offline embedders. Deterministic and
// dependency-free: a change here changes vectors, so the embedders' `version` must be bumped with it.

const APOSTROPHE_S = /['’]s\b/g;
const APOSTROPHE = /['’]/g;
const MARKS = /\p{M}+/gu;
const WORD = /[\p{L}\p{N}]+/gu;

/** Lowercased words with accents stripped; "don't" is one word, a possessive "'s" is dropped. */
export function words(text: string): string[] {
  const t = text.toLowerCase().normalize('NFKD').replace(MARKS, '').replace(APOSTROPHE_S, '').replace(APOSTROPHE, '');
  return t.match(WORD) ?? [];
}

const CAPITALISED = /^\p{Lu}/u;
const RAW_WORD = /[\p{L}\p{M}\p{N}'’]+/gu;

/**
 * The same words, each with whether it was capitalised in the text: a capitalised word may be a
 * name ("Jenna"), which the default embedder must not read as a typo (of "Jena"). At a sentence
 * start it may not be, but a name there is as likely as anywhere.
 */
export function wordsWithCase(text: string): { words: string[]; capitalised: boolean[] } {
  const out: string[] = [];
  const capitalised: boolean[] = [];
  for (const m of text.matchAll(RAW_WORD)) {
    const cap = CAPITALISED.test(m[0]);
    for (const w of words(m[0])) {
      out.push(w);
      capitalised.push(cap);
    }
  }
  return { words: out, capitalised };
}

/** Function words: they carry little meaning, so the default embedder weights them down (not out: "to be or not to be"). */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  ('a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while who whom why will ' +
    'with would you your yours yourself yourselves dont doesnt didnt isnt arent wasnt werent cant wont also us let shall may might must').split(' '),
);

// --- Light stemming: Porter's steps 1a-1c and 5 (plurals, -ed/-ing, final -e/-ll). The result is not
// always a word ("happi"), but the forms of one word meet: running/runs/run -> run, shoes -> shoe. ---

function isConsonant(w: string, i: number): boolean {
  const c = w.charCodeAt(i);
  if (c === 97 || c === 101 || c === 105 || c === 111 || c === 117) return false; // aeiou
  if (c === 121) return i === 0 ? true : !isConsonant(w, i - 1); // y after a consonant is a vowel
  return true;
}

/** Porter's m: the number of vowel-consonant sequences in w[0, end). */
function measure(w: string, end: number): number {
  let m = 0;
  let i = 0;
  while (i < end && isConsonant(w, i)) i++;
  while (i < end) {
    while (i < end && !isConsonant(w, i)) i++;
    if (i >= end) break;
    m++;
    while (i < end && isConsonant(w, i)) i++;
  }
  return m;
}

function hasVowel(w: string, end: number): boolean {
  for (let i = 0; i < end; i++) if (!isConsonant(w, i)) return true;
  return false;
}

function doubleConsonant(w: string): boolean {
  const n = w.length;
  return n >= 2 && w[n - 1] === w[n - 2] && isConsonant(w, n - 1);
}

/** Ends consonant-vowel-consonant, the last not w, x or y ("hop", not "box"). */
function cvc(w: string, end: number): boolean {
  if (end < 3 || !isConsonant(w, end - 1) || isConsonant(w, end - 2) || !isConsonant(w, end - 3)) return false;
  const c = w[end - 1];
  return c !== 'w' && c !== 'x' && c !== 'y';
}

const LETTERS = /^[a-z]+$/;

/** Light Porter stem of a lowercased word; words of 1-2 letters, digits and non-Latin words pass unchanged. */
export function stem(word: string): string {
  if (word.length <= 2 || !LETTERS.test(word)) return word;
  let w = word;
  // 1a: plurals
  if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('ies')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  // 1b: -eed, -ed, -ing
  let fixup = false;
  if (w.endsWith('eed')) {
    if (measure(w, w.length - 3) > 0) w = w.slice(0, -1);
  } else if (w.endsWith('ed') && hasVowel(w, w.length - 2)) {
    w = w.slice(0, -2);
    fixup = true;
  } else if (w.endsWith('ing') && hasVowel(w, w.length - 3)) {
    w = w.slice(0, -3);
    fixup = true;
  }
  if (fixup) {
    if (w.endsWith('at') || w.endsWith('bl') || w.endsWith('iz')) w += 'e';
    else if (doubleConsonant(w) && !/[lsz]$/.test(w)) w = w.slice(0, -1);
    else if (measure(w, w.length) === 1 && cvc(w, w.length)) w += 'e';
  }
  // 1c: y -> i after a vowel-bearing stem (happy/happiness meet)
  if (w.endsWith('y') && hasVowel(w, w.length - 1)) w = w.slice(0, -1) + 'i';
  // 5a: final e
  if (w.endsWith('e')) {
    const m = measure(w, w.length - 1);
    if (m > 1 || (m === 1 && !cvc(w, w.length - 1))) w = w.slice(0, -1);
  }
  // 5b: -ll
  if (w.endsWith('ll') && measure(w, w.length) > 1) w = w.slice(0, -1);
  return w;
}

// --- Hashing: 32-bit FNV-1a over UTF-16 code units with murmur3's finaliser, seeded per feature
// kind so a word and a character trigram that spell the same never collide on purpose. ---

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of s[start, end) under a seed; unsigned 32-bit. */
export function hashRange(s: string, start: number, end: number, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix(h);
}

export function hashString(s: string, seed: number): number {
  return hashRange(s, 0, s.length, seed);
}

/** Combines two hashes into one (ordered: pair(a, b) != pair(b, a)). */
export function hashPair(a: number, b: number, seed: number): number {
  return fmix((Math.imul(a, 0x9e3779b1) ^ b ^ Math.imul(seed, 0x85ebca6b)) >>> 0);
}
