// Sentence embeddings through onnxruntime-node, for the exports of all-MiniLM-L6-v2,
// bge-small-en-v1.5 and nomic-embed-text-v1.5 that `timmy models install` puts in a directory:
// model.onnx (or onnx/model.onnx), vocab.txt or tokenizer.json, optionally config.json,
// sentence_bert_config.json and 1_Pooling/config.json. Texts are WordPiece-encoded, batched with
// padding (sorted by length so a batch pads little), run, pooled over the attention mask (mean) or
// from [CLS] (bge), and L2-normalised. A model that already outputs `sentence_embedding` is only
// normalised.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import { type Embedder, EmbedderError, l2normalize } from '../embedder.js';
import { WordPiece } from './wordpiece.js';

export interface OnnxOptions {
  /** Default `onnx:<directory name>`. */
  id?: string;
  /** Default: 1_Pooling/config.json if present, else 'cls' for bge models, else 'mean'. */
  pooling?: 'mean' | 'cls';
  /** Prepended to every text (nomic: "search_document: "; its default when the directory name says nomic). */
  prefix?: string;
  /** Tokens per text, [CLS] and [SEP] included. Default sentence_bert_config.json's, at most 512. */
  maxLength?: number;
  /** Texts per run (default 16). */
  batch?: number;
}

/** An ONNX embedder; `withPrefix` gives a view on the same session with another prefix (nomic queries). */
export interface OnnxEmbedder extends Embedder {
  readonly prefix: string;
  withPrefix(prefix: string): Embedder;
}

const INSTALL_HINT = 'install the model with `timmy models install <name>`';

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new EmbedderError(`cannot parse ${path}: ${(e as Error).message}`);
  }
}

function firstExisting(dir: string, names: readonly string[]): string | undefined {
  return names.map((n) => join(dir, n)).find((p) => existsSync(p));
}

export async function onnxEmbedder(dir: string, o: OnnxOptions = {}): Promise<OnnxEmbedder> {
  dir = resolve(dir);
  const name = basename(dir);
  const modelPath = firstExisting(dir, ['model.onnx', 'onnx/model.onnx']);
  if (!modelPath) throw new EmbedderError(`ONNX model missing: ${join(dir, 'model.onnx')} (or onnx/model.onnx); ${INSTALL_HINT}`);
  const vocabPath = firstExisting(dir, ['vocab.txt', 'tokenizer.json']);
  if (!vocabPath) throw new EmbedderError(`tokenizer missing: ${join(dir, 'vocab.txt')} (or tokenizer.json); ${INSTALL_HINT}`);

  const config = readJson(join(dir, 'config.json'));
  const sbert = readJson(join(dir, 'sentence_bert_config.json'));
  const poolingConfig = readJson(join(dir, '1_Pooling', 'config.json'));
  const positions = typeof config?.['max_position_embeddings'] === 'number' ? config['max_position_embeddings'] : 512;
  const trained = typeof sbert?.['max_seq_length'] === 'number' ? sbert['max_seq_length'] : 512;
  const maxLength = o.maxLength ?? Math.min(trained, positions, 512);
  const pooling =
    o.pooling ?? (poolingConfig ? (poolingConfig['pooling_mode_cls_token'] === true ? 'cls' : 'mean') : /bge/i.test(name) ? 'cls' : 'mean');
  const batchSize = Math.max(1, o.batch ?? 16);
  const tokenizer = WordPiece.fromFile(vocabPath, { maxLength });

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new EmbedderError(`cannot load ONNX model ${modelPath}: ${(e as Error).message}`);
  }
  for (const required of ['input_ids', 'attention_mask']) {
    if (!session.inputNames.includes(required)) {
      throw new EmbedderError(`${modelPath} has no ${required} input (inputs: ${session.inputNames.join(', ')}): not a sentence embedding model`);
    }
  }
  const pooled = session.outputNames.includes('sentence_embedding');
  const output = pooled
    ? 'sentence_embedding'
    : (['last_hidden_state', 'token_embeddings'].find((n) => session.outputNames.includes(n)) ?? session.outputNames[0]!);

  // One run at a time: the session is not meant to be raced, and a queue bounds memory.
  let queue: Promise<unknown> = Promise.resolve();

  async function runBatch(encs: { ids: number[] }[]): Promise<Float32Array[]> {
    const seq = Math.max(...encs.map((e) => e.ids.length));
    const n = encs.length;
    const ids = new BigInt64Array(n * seq).fill(BigInt(tokenizer.padId));
    const mask = new BigInt64Array(n * seq);
    encs.forEach((e, b) => {
      e.ids.forEach((id, t) => {
        ids[b * seq + t] = BigInt(id);
        mask[b * seq + t] = 1n;
      });
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [n, seq]),
      attention_mask: new ort.Tensor('int64', mask, [n, seq]),
    };
    if (session.inputNames.includes('token_type_ids')) feeds['token_type_ids'] = new ort.Tensor('int64', new BigInt64Array(n * seq), [n, seq]);
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await session.run(feeds, [output]);
    } catch (e) {
      throw new EmbedderError(`ONNX run failed (${name}): ${(e as Error).message}`);
    }
    const t = result[output]!;
    const data = t.data as Float32Array;
    const vecs: Float32Array[] = [];
    if (t.dims.length === 2) {
      const dim = t.dims[1]!;
      for (let b = 0; b < n; b++) vecs.push(l2normalize(data.slice(b * dim, (b + 1) * dim)));
      return vecs;
    }
    if (t.dims.length !== 3) throw new EmbedderError(`ONNX output ${output} has shape [${t.dims.join(', ')}], expected [batch, seq, dim]`);
    const outSeq = t.dims[1]!;
    const dim = t.dims[2]!;
    for (let b = 0; b < n; b++) {
      const v = new Float32Array(dim);
      if (pooling === 'cls') {
        v.set(data.subarray(b * outSeq * dim, b * outSeq * dim + dim));
      } else {
        const len = encs[b]!.ids.length; // the mask is 1 exactly for the first len tokens
        for (let s = 0; s < len; s++) {
          const row = (b * outSeq + s) * dim;
          for (let d = 0; d < dim; d++) v[d]! += data[row + d]!;
        }
        for (let d = 0; d < dim; d++) v[d]! /= len;
      }
      vecs.push(l2normalize(v));
    }
    return vecs;
  }

  async function embedWith(prefix: string, texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    signal?.throwIfAborted();
    const encs = texts.map((t) => tokenizer.encode(prefix + t));
    const order = encs.map((_, i) => i).sort((a, b) => encs[a]!.ids.length - encs[b]!.ids.length);
    const out = new Array<Float32Array>(texts.length);
    for (let i = 0; i < order.length; i += batchSize) {
      signal?.throwIfAborted();
      const idx = order.slice(i, i + batchSize);
      const run = queue.then(() => runBatch(idx.map((j) => encs[j]!)));
      queue = run.catch(() => undefined);
      const vecs = await run;
      idx.forEach((j, k) => (out[j] = vecs[k]!));
    }
    return out;
  }

  const [probe] = await embedWith('', ['dimension probe']);
  const dimensions = probe!.length;
  const id = o.id ?? `onnx:${name}`;
  // Views made by withPrefix share the session; only the embedder returned here closes it.
  const make = (prefix: string, owner: boolean): OnnxEmbedder => ({
    id,
    version: 1,
    dimensions,
    prefix,
    embed: (texts, signal) => embedWith(prefix, texts, signal),
    withPrefix: (p) => make(p, false),
    ...(owner ? { close: () => session.release() } : {}),
  });
  return make(o.prefix ?? (/nomic/i.test(name) ? 'search_document: ' : ''), true);
}
