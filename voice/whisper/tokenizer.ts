// Whisper's tokenizer, decoding side: GPT-2 byte-level BPE (each token is a string of "printable
// stand-ins" for bytes, mapped back with the bytes_to_unicode table and UTF-8 decoded only after the
// tokens are joined, because one character may be split across tokens), plus the special tokens
// from tokenizer.json's added_tokens. Encoding is only needed for the prompt's special tokens.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { VoiceError } from '../engine.js';

/** GPT-2's bytes_to_unicode: byte -> char, printable bytes map to themselves. */
export function bytesToUnicode(): Map<number, string> {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return new Map(bs.map((b, i) => [b, String.fromCodePoint(cs[i]!)]));
}

const BYTE_OF = new Map([...bytesToUnicode()].map(([b, c]) => [c, b]));

/** The shape of the tokenizer.json parts we read. */
export interface TokenizerJson {
  model?: { vocab?: Record<string, number> };
  added_tokens?: { id: number; content: string; special?: boolean }[];
}

export interface GenerationConfig {
  decoder_start_token_id?: number;
  eos_token_id?: number;
  no_timestamps_token_id?: number;
  suppress_tokens?: number[];
  begin_suppress_tokens?: number[];
  lang_to_id?: Record<string, number>;
  task_to_id?: Record<string, number>;
  is_multilingual?: boolean;
  max_length?: number;
  max_initial_timestamp_index?: number;
}

export const TIME_PRECISION = 0.02;

export class WhisperTokenizer {
  readonly eot: number;
  readonly sot: number;
  readonly transcribe: number;
  readonly translate: number;
  readonly noTimestamps: number;
  /** The id of <|0.00|>: every id from here up is a timestamp, 0.02 s apart. */
  readonly timestampBegin: number;
  /** ISO 639-1 code ("en") -> its language token id, empty for English-only models. */
  readonly languages: ReadonlyMap<string, number>;
  readonly #tokens = new Map<number, string>();
  readonly #ids = new Map<string, number>();
  readonly #added = new Set<number>();

  constructor(vocab: Record<string, number>, added: TokenizerJson['added_tokens'] = [], gen: GenerationConfig = {}) {
    for (const [tok, id] of Object.entries(vocab)) {
      this.#tokens.set(id, tok);
      this.#ids.set(tok, id);
    }
    for (const a of added) {
      this.#tokens.set(a.id, a.content);
      this.#ids.set(a.content, a.id);
      this.#added.add(a.id);
    }
    const need = (tok: string, fallback?: number): number => {
      const id = this.#ids.get(tok) ?? fallback;
      if (id === undefined) throw new VoiceError(`whisper tokenizer: no ${tok} token`, 503);
      return id;
    };
    this.eot = gen.eos_token_id ?? need('<|endoftext|>');
    this.sot = gen.decoder_start_token_id ?? need('<|startoftranscript|>');
    this.transcribe = gen.task_to_id?.['transcribe'] ?? need('<|transcribe|>');
    this.translate = gen.task_to_id?.['translate'] ?? need('<|translate|>');
    this.noTimestamps = gen.no_timestamps_token_id ?? need('<|notimestamps|>');
    // older exports do not list the timestamp tokens; they follow <|notimestamps|> directly
    this.timestampBegin = this.#ids.get('<|0.00|>') ?? this.noTimestamps + 1;
    const langs = new Map<string, number>();
    const src = gen.lang_to_id ?? Object.fromEntries([...this.#ids].filter(([t, id]) => this.#added.has(id) && /^<\|[a-z]{2,3}\|>$/.test(t)));
    if (gen.is_multilingual !== false) for (const [t, id] of Object.entries(src)) langs.set(t.slice(2, -2), id);
    this.languages = langs;
  }

  /** Reads tokenizer.json, or vocab.json + added_tokens.json, and generation_config.json if present (or `override`). */
  static async fromDir(dir: string, override?: GenerationConfig): Promise<WhisperTokenizer> {
    const gen = override ?? (existsSync(join(dir, 'generation_config.json'))
      ? (JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8')) as GenerationConfig)
      : {});
    if (existsSync(join(dir, 'tokenizer.json'))) {
      const tj = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as TokenizerJson;
      return new WhisperTokenizer(tj.model?.vocab ?? {}, tj.added_tokens ?? [], gen);
    }
    const vocab = JSON.parse(await readFile(join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
    const addedPath = join(dir, 'added_tokens.json');
    const added = existsSync(addedPath)
      ? Object.entries(JSON.parse(await readFile(addedPath, 'utf8')) as Record<string, number>).map(([content, id]) => ({ id, content, special: true }))
      : [];
    return new WhisperTokenizer(vocab, added, gen);
  }

  id(token: string): number | undefined {
    return this.#ids.get(token);
  }

  token(id: number): string | undefined {
    return this.#tokens.get(id) ?? (this.isTimestamp(id) ? `<|${this.timestampSeconds(id).toFixed(2)}|>` : undefined);
  }

  /** Special tokens (end of text, prompt, language, task, timestamps) are never spoken text. */
  isSpecial(id: number): boolean {
    return id >= this.eot || this.#added.has(id);
  }

  isTimestamp(id: number): boolean {
    return id >= this.timestampBegin;
  }

  timestampSeconds(id: number): number {
    return Math.round((id - this.timestampBegin) * TIME_PRECISION * 100) / 100;
  }

  languageToken(lang: string): number | undefined {
    return this.languages.get(lang.toLowerCase().split(/[-_]/)[0]!);
  }

  /** The ids of the tokens that are a lone space, which Whisper suppresses as the first token. */
  blankIds(): number[] {
    const id = this.#ids.get('Ġ');
    return id === undefined ? [] : [id];
  }

  decode(ids: readonly number[], opts: { skipSpecial?: boolean } = {}): string {
    const skip = opts.skipSpecial ?? true;
    const bytes: number[] = [];
    const dec = new TextDecoder();
    let out = '';
    const flush = () => {
      out += dec.decode(Uint8Array.from(bytes));
      bytes.length = 0;
    };
    for (const id of ids) {
      if (this.isSpecial(id)) {
        if (skip) continue;
        flush();
        out += this.token(id) ?? '';
        continue;
      }
      const tok = this.#tokens.get(id);
      if (tok === undefined) continue;
      for (const ch of tok) {
        const b = BYTE_OF.get(ch);
        if (b !== undefined) bytes.push(b);
      }
    }
    flush();
    return out;
  }
}
