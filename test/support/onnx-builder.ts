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
