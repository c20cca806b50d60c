/**
 * ONNX protobuf in and out (npm `onnx-proto`, the ONNX 1.10 schema on protobufjs; later ONNX versions only add
 * fields the builder does not write). Writing turns host tensors, shapes and attributes into protos; reading gives an
 * ONNX file's inputs, outputs and initializers, so bundles can check a model against their JSON, and its float32
 * weights, so trained parameters can be loaded back into a builder.
 */
import { endianness } from 'node:os';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxProto } from 'onnx-proto';
import { SignweaveInputError } from '../errors.js';
import { readInputFile } from '../util/text-files.js';
import type { OnnxAttr } from './ops.js';
import { sizeOf, type Dim, type DType, type ElementType, type HostTensor, type TensorSpec } from './tensor.js';

const { onnx } = onnxProto;
export type { OnnxProto };

const LITTLE_ENDIAN = endianness() === 'LE';

/** ONNX TensorProto.DataType codes by ONNX Runtime's element-type names. */
const ELEMENT_CODES: Record<Exclude<ElementType, 'unknown'>, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
};
const ELEMENT_NAMES = new Map<number, ElementType>(Object.entries(ELEMENT_CODES).map(([name, code]) => [code, name as ElementType]));

export function elementCode(dtype: DType): number {
  return ELEMENT_CODES[dtype];
}

/** protobufjs gives int64 fields as numbers or as `Long` objects. */
function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Little-endian bytes of a typed array, as ONNX `raw_data` requires. */
function rawBytes(data: Float32Array | BigInt64Array | Uint8Array): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return out;
}

export function tensorProto(name: string, t: HostTensor): OnnxProto.ITensorProto {
  return { name, dims: [...t.shape], dataType: ELEMENT_CODES[t.dtype], rawData: rawBytes(t.data) };
}

function dimProto(d: Dim): OnnxProto.TensorShapeProto.IDimension {
  if (typeof d === 'number') return { dimValue: d };
  if (typeof d === 'string') return { dimParam: d };
  return {};
}

export function valueInfoProto(spec: { name: string; dtype: DType; shape: readonly Dim[] }): OnnxProto.IValueInfoProto {
  return { name: spec.name, type: { tensorType: { elemType: ELEMENT_CODES[spec.dtype], shape: { dim: spec.shape.map(dimProto) } } } };
}

const AttrType = onnx.AttributeProto.AttributeType;

export function attributeProto(name: string, a: OnnxAttr): OnnxProto.IAttributeProto {
  if ('int' in a) return { name, type: AttrType.INT, i: a.int };
  if ('float' in a) return { name, type: AttrType.FLOAT, f: a.float };
  if ('ints' in a) return { name, type: AttrType.INTS, ints: [...a.ints] };
  if ('floats' in a) return { name, type: AttrType.FLOATS, floats: [...a.floats] };
  if ('string' in a) return { name, type: AttrType.STRING, s: new TextEncoder().encode(a.string) };
  return { name, type: AttrType.TENSOR, t: tensorProto('', a.tensor) };
}

export function encodeModel(model: OnnxProto.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

export interface InitializerInfo {
  name: string;
  dtype: ElementType;
  shape: number[];
}

/** What a bundle needs to check an ONNX file against its description. */
export interface OnnxFileInfo {
  irVersion: number;
  /** Operator sets by domain ('' is the default ONNX domain). */
  opsets: { domain: string; version: number }[];
  producer: string;
  /** Graph inputs a caller must feed (initializers that older IR versions also list as inputs are left out). */
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  initializers: InitializerInfo[];
}

function describeSource(source: string | Uint8Array, label: string | undefined): string {
  return label ?? (typeof source === 'string' ? source : 'ONNX model bytes');
}

/** Decodes and sanity-checks a ModelProto; anything that is not a model with a graph is an input error. */
export function decodeModel(source: string | Uint8Array, label?: string): OnnxProto.ModelProto {
  const what = describeSource(source, label);
  const bytes = typeof source === 'string' ? readInputFile(source, 'ONNX model') : source;
  let model: OnnxProto.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new SignweaveInputError(`${what} is not an ONNX model: protobuf parsing failed (${(err as Error).message})`);
  }
  if (num(model.irVersion) <= 0 || !model.graph || model.opsetImport.length === 0) {
    throw new SignweaveInputError(`${what} is not an ONNX model: no ir_version, opset or graph in ${bytes.length} bytes`);
  }
  return model;
}

function specOf(v: OnnxProto.IValueInfoProto): TensorSpec {
  const tensor = v.type?.tensorType;
  const dims = tensor?.shape?.dim ?? [];
  return {
    name: v.name ?? '',
    dtype: ELEMENT_NAMES.get(tensor?.elemType ?? 0) ?? 'unknown',
    shape: dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== null && d.dimValue !== undefined ? num(d.dimValue) : null)),
  };
}

/** Inputs, outputs and initializers of an ONNX file (path) or of ONNX bytes; `label` names bytes in errors. */
export function readOnnxInfo(source: string | Uint8Array, label?: string): OnnxFileInfo {
  const model = decodeModel(source, label);
  const graph = model.graph!;
  const initializers = graph.initializer ?? [];
  const initialized = new Set(initializers.map((t) => t.name));
  return {
    irVersion: num(model.irVersion),
    opsets: model.opsetImport.map((o) => ({ domain: o.domain ?? '', version: num(o.version) })),
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    inputs: (graph.input ?? []).filter((v) => !initialized.has(v.name)).map(specOf),
    outputs: (graph.output ?? []).map(specOf),
    initializers: initializers.map((t) => ({ name: t.name ?? '', dtype: ELEMENT_NAMES.get(t.dataType ?? 0) ?? 'unknown', shape: (t.dims ?? []).map(num) })),
  };
}

/**
 * The float32 initializers of an ONNX file or bytes by name — the parameters a builder takes back as `weights`.
 * Initializers of other types (shape constants) are not weights and are left out.
 */
export function readOnnxWeights(source: string | Uint8Array, label?: string): Record<string, Float32Array> {
  const what = describeSource(source, label);
  const model = decodeModel(source, label);
  const weights: Record<string, Float32Array> = {};
  for (const t of model.graph!.initializer ?? []) {
    if (t.dataType !== ELEMENT_CODES.float32) continue;
    const name = t.name ?? '';
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      throw new SignweaveInputError(`${what}: initializer '${name}' is stored in an external file, which signweave does not read`);
    }
    const dims = (t.dims ?? []).map(num);
    const n = sizeOf(dims);
    let data: Float32Array;
    if (t.rawData && t.rawData.length > 0) {
      if (t.rawData.length !== n * 4) throw new SignweaveInputError(`${what}: initializer '${name}' has ${t.rawData.length} bytes of data for ${n} float32 values`);
      const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(i * 4, true);
    } else {
      const values = t.floatData ?? [];
      if (values.length !== n) throw new SignweaveInputError(`${what}: initializer '${name}' has ${values.length} values for shape [${dims.join(', ')}]`);
      data = Float32Array.from(values);
    }
    weights[name] = data;
  }
  return weights;
}
