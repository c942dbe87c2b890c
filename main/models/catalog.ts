// The model files the neural engines can use. Nothing here ships with Timmy: the weights live on
// Hugging Face (or any mirror the user points at) and `timmy models install` puts them in
// <dataDir>/models/<id>/, keeping the upstream relative paths, because that is the directory the
// engines (voice/, memory/) open. Sizes are approximate (fp32 weights); sha256 values are filled in
// only where someone checked them against the upstream file, never guessed: an unknown hash is
// recorded at install time and checked on every later `timmy models verify`.

export type ModelEngine = 'whisper' | 'moonshine' | 'piper' | 'kokoro' | 'sentence-embedder';
export type ModelTask = 'stt' | 'tts' | 'embed';

export interface ModelFile {
  /** Path inside the upstream repository (what follows `resolve/<revision>/`). */
  readonly path: string;
  /** Path inside the model directory; the upstream path unless the repository nests it deeply. */
  readonly local?: string;
  /** An engine cannot run without it. Optional files are installed when the source has them. */
  readonly required: boolean;
  /** Lower-case hex, when known. */
  readonly sha256?: string;
}

export interface CatalogModel {
  readonly id: string;
  readonly engine: ModelEngine;
  readonly task: ModelTask;
  readonly description: string;
  /** Approximate total download, in megabytes. */
  readonly sizeMB: number;
  readonly source: { readonly repo: string; readonly revision: string };
  readonly files: readonly ModelFile[];
  /** What an engine needs to know beyond the files (pooling, prefixes, languages). */
  readonly notes?: string;
}

/** The local name of a catalog file inside its model directory. */
export const localPath = (f: ModelFile): string => f.local ?? f.path;

/** `https://huggingface.co/<repo>/resolve/<revision>/`: the base URL `--from hf` stands for. */
export const huggingFaceBase = (m: CatalogModel): string => `https://huggingface.co/${m.source.repo}/resolve/${m.source.revision}/`;

const req = (...paths: string[]): ModelFile[] => paths.map((path) => ({ path, required: true }));
const opt = (...paths: string[]): ModelFile[] => paths.map((path) => ({ path, required: false }));

/** Whisper and Moonshine exports from onnx-community share the transformers.js layout. */
const seq2seqFiles = (): ModelFile[] => [
  ...req('onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx', 'tokenizer.json', 'config.json', 'generation_config.json', 'preprocessor_config.json'),
  ...opt('tokenizer_config.json', 'special_tokens_map.json'),
];

const embedderFiles = (): ModelFile[] => [
  ...req('onnx/model.onnx', 'vocab.txt', 'tokenizer.json', 'config.json'),
  // The sentence-transformers settings: pooling mode (CLS for bge) and the trained sequence length.
  ...opt('tokenizer_config.json', 'special_tokens_map.json', '1_Pooling/config.json', 'sentence_bert_config.json'),
];

export const CATALOG: readonly CatalogModel[] = [
  {
    id: 'whisper-tiny',
    engine: 'whisper',
    task: 'stt',
    description: 'Whisper tiny (39M parameters, multilingual): fast speech-to-text, fits a Raspberry Pi',
    sizeMB: 151,
    source: { repo: 'onnx-community/whisper-tiny', revision: 'main' },
    files: [...seq2seqFiles(), ...opt('vocab.json', 'merges.txt', 'added_tokens.json', 'normalizer.json')],
  },
  {
    id: 'whisper-base',
    engine: 'whisper',
    task: 'stt',
    description: 'Whisper base (74M parameters, multilingual): better accuracy, about twice the cost of tiny',
    sizeMB: 290,
    source: { repo: 'onnx-community/whisper-base', revision: 'main' },
    files: [...seq2seqFiles(), ...opt('vocab.json', 'merges.txt', 'added_tokens.json', 'normalizer.json')],
  },
  {
    id: 'moonshine-tiny',
    engine: 'moonshine',
    task: 'stt',
    description: 'Moonshine tiny (27M parameters, English): speech-to-text whose cost follows the audio length',
    sizeMB: 110,
    source: { repo: 'onnx-community/moonshine-tiny-ONNX', revision: 'main' },
    files: seq2seqFiles(),
  },
  {
    id: 'piper-en_US-lessac-medium',
    engine: 'piper',
    task: 'tts',
    description: 'Piper voice en_US lessac (medium, 22.05 kHz): VITS text-to-speech from espeak-ng phonemes',
    sizeMB: 63,
    source: { repo: 'rhasspy/piper-voices', revision: 'main' },
    // The voices repository nests each voice four folders deep; the engine wants the two files side by side.
    files: [
      { path: 'en/en_US/lessac/medium/en_US-lessac-medium.onnx', local: 'en_US-lessac-medium.onnx', required: true },
      { path: 'en/en_US/lessac/medium/en_US-lessac-medium.onnx.json', local: 'en_US-lessac-medium.onnx.json', required: true },
    ],
    notes: 'phoneme ids and sample rate are in the .onnx.json file',
  },
  {
    id: 'kokoro-82m',
    engine: 'kokoro',
    task: 'tts',
    description: 'Kokoro 82M v1.0: StyleTTS2 text-to-speech, natural voices (American and British English)',
    sizeMB: 330,
    source: { repo: 'onnx-community/Kokoro-82M-v1.0-ONNX', revision: 'main' },
    files: [
      ...req('onnx/model.onnx', 'tokenizer.json', 'voices/af_heart.bin'),
      ...opt('config.json', 'tokenizer_config.json', 'voices/af_bella.bin', 'voices/am_michael.bin', 'voices/bf_emma.bin', 'voices/bm_george.bin'),
    ],
    notes: 'voices/*.bin: float32 style vectors [510][1][256], one row per phoneme count',
  },
  {
    id: 'all-MiniLM-L6-v2',
    engine: 'sentence-embedder',
    task: 'embed',
    description: 'all-MiniLM-L6-v2 sentence embedder: 384 dimensions, small and fast',
    sizeMB: 91,
    source: { repo: 'sentence-transformers/all-MiniLM-L6-v2', revision: 'main' },
    files: embedderFiles(),
    notes: 'WordPiece (lower case), mean pooling, L2 normalisation; 384 dimensions; 256 tokens',
  },
  {
    id: 'bge-small-en-v1.5',
    engine: 'sentence-embedder',
    task: 'embed',
    description: 'BGE small English v1.5 sentence embedder: 384 dimensions, better retrieval than MiniLM',
    sizeMB: 134,
    source: { repo: 'BAAI/bge-small-en-v1.5', revision: 'main' },
    files: embedderFiles(),
    notes: 'WordPiece (lower case), CLS pooling upstream (mean pooling also works), L2 normalisation; 384 dimensions; 512 tokens',
  },
  {
    id: 'nomic-embed-text-v1.5',
    engine: 'sentence-embedder',
    task: 'embed',
    description: 'Nomic embed text v1.5: 768 dimensions, long context (8192 tokens), the largest here',
    sizeMB: 550,
    source: { repo: 'nomic-ai/nomic-embed-text-v1.5', revision: 'main' },
    files: embedderFiles(),
    notes: 'WordPiece (lower case), mean pooling, L2 normalisation; texts need a prefix: "search_query: " or "search_document: "',
  },
];

export function findModel(id: string): CatalogModel | undefined {
  return CATALOG.find((m) => m.id === id);
}
