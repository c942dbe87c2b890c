// BERT's WordPiece tokenizer, as the sentence models (all-MiniLM-L6-v2, bge-small-en-v1.5,
// nomic-embed-text-v1.5) were trained with it: basic tokenization (clean control characters,
// spaces around CJK characters, optional lowercase + accent stripping, punctuation split), then
// greedy longest-match-first subwords with the "##" continuation prefix, wrapped in [CLS] ... [SEP]
// and truncated to the model's maximum length. Vocabulary from vocab.txt (one token a line, id =
// line number) or tokenizer.json (model.vocab).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { EmbedderError } from '../embedder.js';

export interface WordPieceOptions {
  /** Lowercase and strip accents (uncased models). Default: tokenizer.json's normalizer, else true. */
  lowercase?: boolean;
  /** Tokens per sequence including [CLS] and [SEP] (default 512). */
  maxLength?: number;
}

export interface Encoding {
  ids: number[];
  attentionMask: number[];
  typeIds: number[];
}

/** Words longer than this become [UNK] whole, as in BERT. */
const MAX_WORD_CHARS = 100;

function isControl(c: number): boolean {
  if (c === 9 || c === 10 || c === 13) return false;
  return c < 32 || (c >= 0x7f && c < 0xa0) || /\p{Cc}|\p{Cf}/u.test(String.fromCodePoint(c));
}

function isWhitespace(ch: string): boolean {
  return /\s/u.test(ch);
}

/** BERT counts all non-alphanumeric ASCII as punctuation ("$", "^", "`"), plus Unicode P*. */
function isPunctuation(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return /\p{P}/u.test(ch);
}

/** The CJK Unified Ideographs blocks BERT splits into one token per character. */
function isCjk(c: number): boolean {
  return (
    (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x20000 && c <= 0x2a6df) ||
    (c >= 0x2a700 && c <= 0x2b73f) || (c >= 0x2b740 && c <= 0x2b81f) || (c >= 0x2b820 && c <= 0x2ceaf) ||
    (c >= 0xf900 && c <= 0xfaff) || (c >= 0x2f800 && c <= 0x2fa1f)
  );
}

export class WordPiece {
  readonly clsId: number;
  readonly sepId: number;
  readonly unkId: number;
  readonly padId: number;

  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    readonly lowercase = true,
    readonly maxLength = 512,
  ) {
    const special = (t: string): number => {
      const id = vocab.get(t);
      if (id === undefined) throw new EmbedderError(`WordPiece vocabulary has no ${t} token`);
      return id;
    };
    this.clsId = special('[CLS]');
    this.sepId = special('[SEP]');
    this.unkId = special('[UNK]');
    this.padId = special('[PAD]');
    if (maxLength < 2) throw new RangeError('WordPiece maxLength must be at least 2 ([CLS] and [SEP])');
  }

  /** From a vocab.txt or a tokenizer.json (its WordPiece model.vocab and normalizer settings). */
  static fromFile(path: string, o: WordPieceOptions = {}): WordPiece {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new EmbedderError(`cannot read the tokenizer vocabulary ${path}: ${(e as Error).message}`);
    }
    const vocab = new Map<string, number>();
    let lowercase = o.lowercase;
    if (basename(path).endsWith('.json')) {
      const j = JSON.parse(text) as { model?: { vocab?: Record<string, number> }; normalizer?: { lowercase?: boolean } | null };
      const v = j.model?.vocab;
      if (!v || Array.isArray(v)) throw new EmbedderError(`${path} has no WordPiece model.vocab`);
      for (const [token, id] of Object.entries(v)) vocab.set(token, id);
      lowercase ??= j.normalizer?.lowercase;
    } else {
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      lines.forEach((line, id) => {
        const token = line.replace(/\r$/, '');
        if (!vocab.has(token)) vocab.set(token, id);
      });
    }
    return new WordPiece(vocab, lowercase ?? true, o.maxLength ?? 512);
  }

  /** BERT's basic tokenizer: words and punctuation marks, before subword splitting. */
  basicTokens(text: string): string[] {
    let cleaned = '';
    for (const ch of text) {
      const c = ch.codePointAt(0)!;
      if (c === 0 || c === 0xfffd || isControl(c)) continue;
      if (isCjk(c)) cleaned += ` ${ch} `;
      else cleaned += isWhitespace(ch) ? ' ' : ch;
    }
    const out: string[] = [];
    for (let word of cleaned.split(' ')) {
      if (!word) continue;
      if (this.lowercase) word = word.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
      let cur = '';
      for (const ch of word) {
        if (isPunctuation(ch)) {
          if (cur) out.push(cur);
          out.push(ch);
          cur = '';
        } else cur += ch;
      }
      if (cur) out.push(cur);
    }
    return out;
  }

  /** Subword tokens of one word: greedy longest match first, or [UNK] when any part is unknown. */
  private pieces(word: string, out: number[]): void {
    const chars = Array.from(word);
    if (chars.length > MAX_WORD_CHARS) {
      out.push(this.unkId);
      return;
    }
    const ids: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (start < end) {
        const sub = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        found = this.vocab.get(sub);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) {
        out.push(this.unkId);
        return;
      }
      ids.push(found);
      start = end;
    }
    out.push(...ids);
  }

  /** Token strings, without [CLS]/[SEP] and without truncation (for tests and debugging). */
  tokenize(text: string): string[] {
    const byId = new Map<number, string>();
    for (const [t, id] of this.vocab) if (!byId.has(id)) byId.set(id, t);
    const ids: number[] = [];
    for (const w of this.basicTokens(text)) this.pieces(w, ids);
    return ids.map((id) => byId.get(id)!);
  }

  /** [CLS] tokens [SEP], truncated to maxLength; no padding (the batcher pads). */
  encode(text: string): Encoding {
    const ids = [this.clsId];
    const limit = this.maxLength - 1;
    for (const w of this.basicTokens(text)) {
      this.pieces(w, ids);
      if (ids.length >= limit) break;
    }
    ids.length = Math.min(ids.length, limit);
    ids.push(this.sepId);
    return { ids, attentionMask: ids.map(() => 1), typeIds: ids.map(() => 0) };
  }
}
