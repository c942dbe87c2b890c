// Text to IPA phonemes, sentence by sentence, for the neural TTS engines (Piper, Kokoro). The npm
// `phonemizer` package is espeak-ng compiled to WASM: offline, no Debian package needed, and the
// same phoneme set Piper and Kokoro were trained on. Its build only carries the English voices.
//
// espeak drops punctuation, but both models were trained with it (a comma is a short pause, "?" a
// rising contour), so we split clauses ourselves and put the punctuation back the way
// piper-phonemize does: ". ? !" appended, ", : ;" appended with a space.
import { VoiceError } from './engine.js';

type PhonemizeFn = (text: string, language?: string) => Promise<string[]>;

export interface PhonemizedSentence {
  /** The sentence as written (trimmed). */
  readonly text: string;
  /** IPA with stress marks and punctuation, words separated by spaces. */
  readonly phonemes: string;
}

export interface PhonemizerTiming {
  /** Milliseconds of the first call: module load plus WASM init plus the call itself. */
  readonly firstCallMs: number | undefined;
  readonly calls: number;
  /** Milliseconds over every call after the first. */
  readonly warmMs: number;
}

/** The espeak voices the WASM build carries (the rest of espeak-ng-data is not bundled). */
export const ESPEAK_VOICES = [
  'en-us',
  'en',
  'en-gb',
  'en-029',
  'en-gb-scotland',
  'en-gb-x-gbclan',
  'en-gb-x-gbcwmd',
  'en-gb-x-rp',
  'en-us-nyc',
] as const;

/**
 * Maps a BCP-47 language tag to an espeak voice: "en" and "en-US" -> "en-us" (American, what most
 * voices are trained on), "en-GB" -> "en" (espeak's British voice). Throws VoiceError(422) for a
 * language the WASM phonemizer has no voice for.
 */
export function espeakVoice(language = 'en'): string {
  const l = language.trim().toLowerCase().replace(/_/g, '-');
  if (l === 'en' || l === 'en-us') return 'en-us';
  if (l === 'en-gb' || l === 'en-uk') return 'en';
  if (l.startsWith('en-')) return espeakVoiceName(l, 'en-us');
  throw new VoiceError(`no phonemizer voice for language "${language}" (the WASM espeak-ng has English only)`, 422);
}

/**
 * An espeak voice name (as in a Piper config: "en-us", "en-gb-x-rp", "en") -> one the WASM build
 * switches to. "en-gb" is listed but silently keeps the previous voice, so it becomes "en", the
 * same British voice. Unknown names fall back to `otherwise` when given, else throw VoiceError(422).
 */
export function espeakVoiceName(name: string, otherwise?: string): string {
  const n = name.trim().toLowerCase();
  if (n === 'en-gb' || n === 'en-uk') return 'en';
  if ((ESPEAK_VOICES as readonly string[]).includes(n)) return n;
  if (otherwise !== undefined) return otherwise;
  throw new VoiceError(`no phonemizer voice "${name}" (the WASM espeak-ng has ${ESPEAK_VOICES.join(', ')})`, 422);
}

// Abbreviations whose period does not end a sentence.
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'st', 'prof', 'sr', 'jr', 'vs', 'etc', 'e.g', 'i.e', 'mt']);

/** Splits text at ". ? !" (and runs of them) followed by a space or the end; keeps the terminator. */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  const re = /[.!?…]+["')\]]*(?=\s|$)|\n\s*\n/g;
  let start = 0;
  for (const m of text.matchAll(re)) {
    const end = m.index + m[0].length;
    const candidate = text.slice(start, end);
    if (isAbbreviation(candidate.slice(0, -m[0].length), m[0])) continue;
    if (candidate.trim()) out.push(candidate.trim());
    start = end;
  }
  const rest = text.slice(start).trim();
  if (rest) out.push(rest);
  return out;
}

// Where espeak pauses: punctuation before a space or the end ("5.50" and "U.S" stay words), or a dash.
const BREAK = /[,;:.!?…]+["')\]]*(?=\s|$)|—/g;

function isAbbreviation(words: string, punct: string): boolean {
  const last = /(\S+)$/.exec(words)?.[1]?.toLowerCase();
  return punct === '.' && last !== undefined && (ABBREVIATIONS.has(last) || /^[a-z]$/.test(last));
}

/** A sentence as clauses: the words and the punctuation after them. */
export function splitClauses(sentence: string): { words: string; punct: string }[] {
  const out: { words: string; punct: string }[] = [];
  let start = 0;
  for (const m of sentence.matchAll(BREAK)) {
    const words = sentence.slice(start, m.index);
    // "Dr." stays with its words so espeak reads "doctor".
    if (isAbbreviation(words, m[0])) continue;
    out.push({ words: words.trim(), punct: m[0].replace(/["')\]]/g, '') });
    start = m.index + m[0].length;
  }
  const rest = sentence.slice(start).trim();
  if (rest) out.push({ words: rest, punct: '' });
  return out;
}

let loaded: Promise<PhonemizeFn> | undefined;
let firstCallMs: number | undefined;
let calls = 0;
let warmMs = 0;

function load(): Promise<PhonemizeFn> {
  loaded ??= (async () => {
    // The Emscripten glue installs process-wide uncaughtException/unhandledRejection handlers that
    // rethrow; they would change how the host process crashes, so we take them off again.
    const before = { u: process.listeners('uncaughtException'), r: process.listeners('unhandledRejection') };
    const mod = (await import('phonemizer')) as { phonemize: PhonemizeFn };
    for (const l of process.listeners('uncaughtException')) if (!before.u.includes(l)) process.off('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!before.r.includes(l)) process.off('unhandledRejection', l);
    return mod.phonemize;
  })();
  return loaded;
}

async function espeak(text: string, voice: string): Promise<string> {
  const t0 = performance.now();
  const fn = await load();
  const lines = await fn(text, voice);
  const ms = performance.now() - t0;
  if (firstCallMs === undefined) firstCallMs = ms;
  else warmMs += ms;
  calls++;
  return lines.join(' ').trim();
}

/** IPA for one sentence, with its punctuation restored between clauses. `voice` is an espeak voice name. */
export async function phonemizeSentence(sentence: string, voice = 'en-us'): Promise<string> {
  voice = espeakVoiceName(voice);
  let out = '';
  for (const { words, punct } of splitClauses(sentence)) {
    const ipa = words ? await espeak(words, voice) : '';
    if (ipa) out += (out && !out.endsWith(' ') ? ' ' : '') + ipa;
    const p = punct.replace(/\.{2,}/g, '…');
    if (p === '—') out += ' — ';
    else if (p) out += /^[,;:]/.test(p) ? `${p} ` : p;
  }
  return out.trim();
}

/** False for phonemes that are only punctuation and spaces (nothing to say). */
export function hasSpeech(phonemes: string): boolean {
  return /[^\s\p{P}]/u.test(phonemes);
}

/**
 * Splits text into sentences and phonemizes each with an espeak voice name (`espeakVoice(lang)`
 * turns a language tag into one); sentences with nothing pronounceable are dropped.
 */
export async function phonemizeText(text: string, voice = 'en-us'): Promise<PhonemizedSentence[]> {
  const out: PhonemizedSentence[] = [];
  for (const s of splitSentences(text)) {
    const phonemes = await phonemizeSentence(s, voice);
    if (hasSpeech(phonemes)) out.push({ text: s, phonemes });
  }
  return out;
}

/**
 * Runs a few sentences through espeak so V8 compiles its hot WASM functions: measured here, the
 * first call (module load + init) takes 0.1-1 s and the next ~8 sentences 50-500 ms each before
 * settling at 15-30 ms. A service calls this at startup so the first request does not pay it.
 * Returns the milliseconds it took.
 */
export async function warmUpPhonemizer(voice = 'en-us', sentences = 8): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < sentences; i++) await phonemizeSentence(`The quick brown fox number ${i + 1} jumps over the lazy dog, twice.`, voice);
  return performance.now() - t0;
}

/** How long the phonemizer took: the first call pays for loading the WASM and espeak's data. */
export function phonemizerTiming(): PhonemizerTiming {
  return { firstCallMs, calls, warmMs };
}
