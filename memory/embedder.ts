// The one interface every embedder implements (the default offline one, the ONNX sentence
// embedders, Ollama). The store records `id` and `version` beside every vector, so a change of
// embedder is seen and the re-embed job migrates the rows (memory/reembed.ts).

export interface Embedder {
  /** Stable name, e.g. "hash-ngram-wordnet", "onnx:all-MiniLM-L6-v2", "ollama:nomic-embed-text". */
  readonly id: string;
  /** Bumped whenever the same id would produce different vectors (features, tokenizer, weights). */
  readonly version: number;
  /** Length of every vector this embedder returns. */
  readonly dimensions: number;
  /** Unit-length (L2-normalised) vectors, one per text, in order. Throws EmbedderError when it cannot. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** Frees native resources (ONNX sessions). */
  close?(): Promise<void>;
}

/** An embedder could not run (model files missing, Ollama unreachable, wrong dimension). */
export class EmbedderError extends Error {
  override name = 'EmbedderError';
}

/** Scales v to unit length in place (a zero vector stays zero) and returns it. */
export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (s > 0) {
    const k = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i]! *= k;
  }
  return v;
}
