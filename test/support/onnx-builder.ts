// Builds small ONNX models in the tests: the real neural engines (Whisper, Moonshine, Piper,
// Kokoro, sentence embedders) cannot ship their weights here, so the tests generate models with the
// same input and output names, types and shapes, random weights, and run every step of the
// pipelines on them through onnxruntime-node. Models are encoded with the `onnx-proto` package's
// generated protobuf codec, nothing hand-encoded.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto as unknown as { onnx: typeof import('onnx-proto').onnx };

export type ElemType = 'float' | 'int64' | 'int32' | 'bool';
const ELEM: Record<ElemType, number> = { float: 1, int32: 6, int64: 7, bool: 9 };

/** A dimension: a fixed size or a symbolic name ("batch", "sequence"). */
export type Dim = number | string;

export interface ValueSpec {
  name: string;
  type: ElemType;
  shape: readonly Dim[];
}

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, number | readonly number[] | string | Float32Array | { tensor: TensorSpec }>;
}

export interface TensorSpec {
  name: string;
  type: ElemType;
  dims: readonly number[];
  /** float: Float32Array or number[]; int64/int32: number[] or BigInt64Array. */
  data: Float32Array | readonly number[] | BigInt64Array | Int32Array;
}

export interface GraphSpec {
  name?: string;
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
  nodes: readonly NodeSpec[];
  initializers?: readonly TensorSpec[];
  opset?: number;
}

function valueInfo(v: ValueSpec): import('onnx-proto').onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ELEM[v.type],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensor(t: TensorSpec): import('onnx-proto').onnx.ITensorProto {
  const base = { name: t.name, dataType: ELEM[t.type], dims: [...t.dims] };
  if (t.type === 'float') return { ...base, floatData: Array.from(t.data as ArrayLike<number>) };
  if (t.type === 'int64') return { ...base, int64Data: Array.from(t.data as ArrayLike<number | bigint>, (x) => Number(x)) };
  return { ...base, int32Data: Array.from(t.data as ArrayLike<number>) };
}

function attribute(name: string, v: NonNullable<NodeSpec['attrs']>[string]): import('onnx-proto').onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (v instanceof Float32Array) return { name, type: A.FLOATS, floats: Array.from(v) };
  if ('tensor' in v) return { name, type: A.TENSOR, t: tensor(v.tensor) };
  return { name, type: A.INTS, ints: [...v] };
}

/** The serialized ModelProto, ready for `InferenceSession.create(bytes)` or writing to a file. */
export function buildModel(g: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'timmy-tests',
    opsetImport: [{ domain: '', version: g.opset ?? 17 }],
    graph: {
      name: g.name ?? 'test',
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
      initializer: (g.initializers ?? []).map(tensor),
      node: g.nodes.map((n, i) => ({
        opType: n.op,
        input: [...n.inputs],
        output: [...n.outputs],
        name: n.name ?? `${n.op}_${i}`,
        domain: n.domain ?? '',
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Deterministic pseudo-random weights (mulberry32), so a generated model is the same every run. */
export function randomWeights(n: number, seed = 1, scale = 0.1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/**
 * A stand-in for a Piper (VITS) voice: the real inputs `input` int64 [1, n], `input_lengths` int64
 * [1], `scales` float [3] and (multi-speaker) `sid` int64 [1]; the output `output` float [1, 1, samples].
 * Each id becomes `samplesPerId` samples: output[i*H + k] = tanh(E[id_i][k] * length_scale
 * + noise_scale/2 + noise_w/4 + sid/8), cut to input_lengths * H, so a test can recompute every
 * sample from the ids, scales and speaker it expects were fed. E is `piperTestEmbedding`.
 */
export function buildPiperTestModel(o: { vocab: number; samplesPerId?: number; speakers?: boolean; seed?: number }): Uint8Array {
  const H = o.samplesPerId ?? 256;
  const nodes: NodeSpec[] = [
    { op: 'Gather', inputs: ['E', 'input'], outputs: ['g'], attrs: { axis: 0 } },
    { op: 'Reshape', inputs: ['g', 'flat'], outputs: ['r'] },
    { op: 'Gather', inputs: ['scales', 'i0'], outputs: ['ns'] },
    { op: 'Gather', inputs: ['scales', 'i1'], outputs: ['ls'] },
    { op: 'Gather', inputs: ['scales', 'i2'], outputs: ['nw'] },
    { op: 'Mul', inputs: ['r', 'ls'], outputs: ['rl'] },
    { op: 'Mul', inputs: ['ns', 'half'], outputs: ['ns2'] },
    { op: 'Mul', inputs: ['nw', 'quarter'], outputs: ['nw4'] },
    { op: 'Add', inputs: ['ns2', 'nw4'], outputs: ['bias0'] },
    ...(o.speakers
      ? [
          { op: 'Cast', inputs: ['sid'], outputs: ['sidf'], attrs: { to: 1 } },
          { op: 'Mul', inputs: ['sidf', 'eighth'], outputs: ['sid8'] },
          { op: 'Add', inputs: ['bias0', 'sid8'], outputs: ['bias'] },
        ]
      : [{ op: 'Identity', inputs: ['bias0'], outputs: ['bias'] }]),
    { op: 'Add', inputs: ['rl', 'bias'], outputs: ['pre'] },
    { op: 'Tanh', inputs: ['pre'], outputs: ['wave'] },
    { op: 'Mul', inputs: ['input_lengths', 'H'], outputs: ['end'] },
    { op: 'Slice', inputs: ['wave', 'zero', 'end', 'axis2'], outputs: ['output'] },
  ];
  return buildModel({
    name: 'piper-test',
    inputs: [
      { name: 'input', type: 'int64', shape: [1, 'phonemes'] },
      { name: 'input_lengths', type: 'int64', shape: [1] },
      { name: 'scales', type: 'float', shape: [3] },
      ...(o.speakers ? [{ name: 'sid', type: 'int64' as const, shape: [1] }] : []),
    ],
    outputs: [{ name: 'output', type: 'float', shape: [1, 1, 'time'] }],
    initializers: [
      { name: 'E', type: 'float', dims: [o.vocab, H], data: piperTestEmbedding(o.vocab, H, o.seed) },
      { name: 'flat', type: 'int64', dims: [3], data: [1, 1, -1] },
      { name: 'i0', type: 'int64', dims: [], data: [0] },
      { name: 'i1', type: 'int64', dims: [], data: [1] },
      { name: 'i2', type: 'int64', dims: [], data: [2] },
      { name: 'half', type: 'float', dims: [], data: [0.5] },
      { name: 'quarter', type: 'float', dims: [], data: [0.25] },
      ...(o.speakers ? [{ name: 'eighth', type: 'float' as const, dims: [], data: [0.125] }] : []),
      { name: 'H', type: 'int64', dims: [1], data: [H] },
      { name: 'zero', type: 'int64', dims: [1], data: [0] },
      { name: 'axis2', type: 'int64', dims: [1], data: [2] },
    ],
    nodes,
  });
}

/** The embedding table inside buildPiperTestModel (row id, H samples each). */
export function piperTestEmbedding(vocab: number, samplesPerId = 256, seed = 5): Float32Array {
  return randomWeights(vocab * samplesPerId, seed, 1);
}

/**
 * A stand-in for Kokoro (onnx-community/Kokoro-82M-v1.0-ONNX): inputs `input_ids` int64 [1, n],
 * `style` float [1, 256], `speed` float [1]; output `waveform` float [1, samples]. Each token becomes
 * `samplesPerToken` samples: waveform[i*H + k] = tanh(E[id_i][k] / speed + mean(style)), so the
 * style row the engine picked can be read back from the audio. E is `kokoroTestEmbedding`.
 */
export function buildKokoroTestModel(o: { vocab: number; samplesPerToken?: number; seed?: number }): Uint8Array {
  const H = o.samplesPerToken ?? 64;
  return buildModel({
    name: 'kokoro-test',
    inputs: [
      { name: 'input_ids', type: 'int64', shape: [1, 'sequence_length'] },
      { name: 'style', type: 'float', shape: [1, 256] },
      { name: 'speed', type: 'float', shape: [1] },
    ],
    outputs: [{ name: 'waveform', type: 'float', shape: [1, 'num_samples'] }],
    initializers: [
      { name: 'E', type: 'float', dims: [o.vocab, H], data: kokoroTestEmbedding(o.vocab, H, o.seed) },
      { name: 'flat', type: 'int64', dims: [2], data: [1, -1] },
      { name: 'avg', type: 'float', dims: [256, 1], data: new Float32Array(256).fill(1 / 256) },
    ],
    nodes: [
      { op: 'Gather', inputs: ['E', 'input_ids'], outputs: ['g'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['g', 'flat'], outputs: ['r'] },
      { op: 'Div', inputs: ['r', 'speed'], outputs: ['rs'] },
      { op: 'MatMul', inputs: ['style', 'avg'], outputs: ['sm'] },
      { op: 'Add', inputs: ['rs', 'sm'], outputs: ['pre'] },
      { op: 'Tanh', inputs: ['pre'], outputs: ['waveform'] },
    ],
  });
}

/** The embedding table inside buildKokoroTestModel. */
export function kokoroTestEmbedding(vocab: number, samplesPerToken = 64, seed = 9): Float32Array {
  return randomWeights(vocab * samplesPerToken, seed, 0.5);
}

// --- Whisper / Moonshine test models (voice/whisper, voice/moonshine) ---

/**
 * A Whisper-shaped encoder: input_features float [batch, nMels, 3000] -> last_hidden_state
 * [batch, 1500, d] (pairs of frames flattened and projected, as the real conv stride 2 halves them).
 */
export function buildWhisperTestEncoder(o: { nMels?: number; d: number; seed?: number }): Uint8Array {
  const nMels = o.nMels ?? 80;
  return buildModel({
    inputs: [{ name: 'input_features', type: 'float', shape: ['batch_size', nMels, 3000] }],
    outputs: [{ name: 'last_hidden_state', type: 'float', shape: ['batch_size', 1500, o.d] }],
    initializers: [
      { name: 'shape', type: 'int64', dims: [3], data: [0, 1500, 2 * nMels] },
      { name: 'W', type: 'float', dims: [2 * nMels, o.d], data: randomWeights(2 * nMels * o.d, o.seed ?? 11) },
    ],
    nodes: [
      { op: 'Transpose', inputs: ['input_features'], outputs: ['t'], attrs: { perm: [0, 2, 1] } },
      { op: 'Reshape', inputs: ['t', 'shape'], outputs: ['pairs'] },
      { op: 'MatMul', inputs: ['pairs', 'W'], outputs: ['h'] },
      { op: 'Tanh', inputs: ['h'], outputs: ['last_hidden_state'] },
    ],
  });
}

/**
 * A Moonshine-shaped encoder: raw audio input_values float [batch, samples] -> last_hidden_state
 * [batch, samples/384, d] through a strided Conv (the real one strides 64*3*2 = 384 too).
 */
export function buildMoonshineTestEncoder(o: { d: number; seed?: number }): Uint8Array {
  return buildModel({
    inputs: [{ name: 'input_values', type: 'float', shape: ['batch_size', 'num_samples'] }],
    outputs: [{ name: 'last_hidden_state', type: 'float', shape: ['batch_size', 'encoder_sequence_length', o.d] }],
    initializers: [
      { name: 'axes', type: 'int64', dims: [1], data: [1] },
      { name: 'K', type: 'float', dims: [o.d, 1, 384], data: randomWeights(o.d * 384, o.seed ?? 12) },
    ],
    nodes: [
      { op: 'Unsqueeze', inputs: ['input_values', 'axes'], outputs: ['x'] },
      { op: 'Conv', inputs: ['x', 'K'], outputs: ['c'], attrs: { strides: [384] } },
      { op: 'Transpose', inputs: ['c'], outputs: ['last_hidden_state'], attrs: { perm: [0, 2, 1] } },
    ],
  });
}

export interface MergedDecoderSpec {
  layers: number;
  heads: number;
  headDim: number;
  /** Width of encoder_hidden_states. */
  d: number;
  vocab: number;
  /** Row-major [vocab, vocab]: the logits after token t are row t, so the test chooses the sequence. */
  table: Float32Array;
  /** Added to every logit times the past decoder length: lets the position decide (e.g. when to end). */
  stepBias?: Float32Array;
  /**
   * A token pushed to +100 when the cache is fed wrong: use_cache_branch disagrees with whether the
   * past decoder cache is empty, or the cache branch is taken without the step-one encoder cache.
   */
  poison?: number;
  seed?: number;
}

/**
 * A decoder_model_merged.onnx with the real input/output names of the optimum exports (Whisper and
 * Moonshine): input_ids, encoder_hidden_states, past_key_values.{i}.{decoder,encoder}.{key,value},
 * use_cache_branch -> logits, present.*. present.*.decoder = past ++ an embedding of input_ids (so it
 * grows by the fed length); present.*.encoder = the fed encoder cache when there is one, else a
 * projection of encoder_hidden_states (the cache branch passes it through, like the real If branch).
 */
export function buildMergedDecoderTestModel(s: MergedDecoderSpec): Uint8Array {
  const { layers, heads, headDim, d, vocab } = s;
  const hd = heads * headDim;
  const inputs: ValueSpec[] = [
    { name: 'input_ids', type: 'int64', shape: ['batch_size', 'decoder_sequence_length'] },
    { name: 'encoder_hidden_states', type: 'float', shape: ['batch_size', 'encoder_sequence_length', d] },
  ];
  const outputs: ValueSpec[] = [{ name: 'logits', type: 'float', shape: ['batch_size', 'decoder_sequence_length', vocab] }];
  const nodes: NodeSpec[] = [
    { op: 'Gather', inputs: ['table', 'input_ids'], outputs: ['base'], attrs: { axis: 0 } },
    { op: 'Gather', inputs: ['embed', 'input_ids'], outputs: ['e'], attrs: { axis: 0 } },
    { op: 'Reshape', inputs: ['e', 'kvshape'], outputs: ['e4'] },
    { op: 'Transpose', inputs: ['e4'], outputs: ['newkv'], attrs: { perm: [0, 2, 1, 3] } },
    { op: 'MatMul', inputs: ['encoder_hidden_states', 'Wenc'], outputs: ['x'] },
    { op: 'Reshape', inputs: ['x', 'kvshape'], outputs: ['x4'] },
    { op: 'Transpose', inputs: ['x4'], outputs: ['enckv'], attrs: { perm: [0, 2, 1, 3] } },
    { op: 'Shape', inputs: ['encoder_hidden_states'], outputs: ['hshape'] },
    { op: 'Slice', inputs: ['hshape', 'one', 'two'], outputs: ['encLen'] },
    { op: 'Shape', inputs: ['past_key_values.0.decoder.key'], outputs: ['pdshape'] },
    { op: 'Slice', inputs: ['pdshape', 'two', 'three'], outputs: ['pastLen'] },
    { op: 'Shape', inputs: ['past_key_values.0.encoder.key'], outputs: ['peshape'] },
    { op: 'Slice', inputs: ['peshape', 'two', 'three'], outputs: ['encPastLen'] },
    { op: 'Greater', inputs: ['pastLen', 'zero'], outputs: ['hasPast'] },
    { op: 'Xor', inputs: ['use_cache_branch', 'hasPast'], outputs: ['bad1'] },
    { op: 'Equal', inputs: ['encPastLen', 'zero'], outputs: ['noEnc'] },
    { op: 'And', inputs: ['use_cache_branch', 'noEnc'], outputs: ['bad2'] },
    { op: 'Or', inputs: ['bad1', 'bad2'], outputs: ['bad'] },
    { op: 'Cast', inputs: ['bad'], outputs: ['badf'], attrs: { to: 1 } },
    { op: 'Mul', inputs: ['badf', 'poison'], outputs: ['pvec'] },
    { op: 'Cast', inputs: ['pastLen'], outputs: ['pastf'], attrs: { to: 1 } },
    { op: 'Mul', inputs: ['pastf', 'stepBias'], outputs: ['svec'] },
    { op: 'Add', inputs: ['base', 'pvec'], outputs: ['l1'] },
    { op: 'Add', inputs: ['l1', 'svec'], outputs: ['logits'] },
  ];
  for (let i = 0; i < layers; i++) {
    for (const kv of ['key', 'value']) {
      const pd = `past_key_values.${i}.decoder.${kv}`, pe = `past_key_values.${i}.encoder.${kv}`;
      inputs.push({ name: pd, type: 'float', shape: ['batch_size', heads, 'past_decoder_sequence_length', headDim] });
      inputs.push({ name: pe, type: 'float', shape: ['batch_size', heads, 'encoder_sequence_length_out', headDim] });
      outputs.push({ name: `present.${i}.decoder.${kv}`, type: 'float', shape: ['batch_size', heads, 'present_decoder_sequence_length', headDim] });
      outputs.push({ name: `present.${i}.encoder.${kv}`, type: 'float', shape: ['batch_size', heads, 'encoder_sequence_length_out', headDim] });
      nodes.push({ op: 'Concat', inputs: [pd, 'newkv'], outputs: [`present.${i}.decoder.${kv}`], attrs: { axis: 2 } });
      nodes.push({ op: 'Concat', inputs: [pe, 'enckv'], outputs: [`cat.${i}.${kv}`], attrs: { axis: 2 } });
      nodes.push({ op: 'Slice', inputs: [`cat.${i}.${kv}`, 'zero', 'encLen', 'two'], outputs: [`present.${i}.encoder.${kv}`] });
    }
  }
  inputs.push({ name: 'use_cache_branch', type: 'bool', shape: [1] });
  const poison = new Float32Array(vocab);
  if (s.poison !== undefined) poison[s.poison] = 100;
  return buildModel({
    inputs,
    outputs,
    nodes,
    initializers: [
      { name: 'table', type: 'float', dims: [vocab, vocab], data: s.table },
      { name: 'embed', type: 'float', dims: [vocab, hd], data: randomWeights(vocab * hd, s.seed ?? 13) },
      { name: 'Wenc', type: 'float', dims: [d, hd], data: randomWeights(d * hd, (s.seed ?? 13) + 1) },
      { name: 'kvshape', type: 'int64', dims: [4], data: [0, 0, heads, headDim] },
      { name: 'zero', type: 'int64', dims: [1], data: [0] },
      { name: 'one', type: 'int64', dims: [1], data: [1] },
      { name: 'two', type: 'int64', dims: [1], data: [2] },
      { name: 'three', type: 'int64', dims: [1], data: [3] },
      { name: 'poison', type: 'float', dims: [vocab], data: poison },
      { name: 'stepBias', type: 'float', dims: [vocab], data: s.stepBias ?? new Float32Array(vocab) },
    ],
  });
}

/** A transition table for buildMergedDecoderTestModel: every logit `floor`, then the given scores. */
export function transitionTable(vocab: number, rows: Record<number, Record<number, number>>, floor = -20): Float32Array {
  const t = new Float32Array(vocab * vocab).fill(floor);
  for (const [from, next] of Object.entries(rows)) for (const [to, score] of Object.entries(next)) t[Number(from) * vocab + Number(to)] = score;
  return t;
}
