/**
 * Host tensors and shapes: the values that flow into and out of ONNX Runtime and through the plain-TypeScript
 * reference implementations of the graph ops. Data is row-major with the typed array ONNX Runtime uses for the dtype,
 * so a host tensor is fed to a session without conversion.
 */
import { SignweaveInputError } from '../errors.js';

/** Element types the graph builder writes. */
export type DType = 'float32' | 'int64' | 'bool';

/** Element types a foreign ONNX file may declare (ONNX Runtime's names); only `DType` can be fed or built. */
export type ElementType =
  | DType
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'string'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64'
  | 'bfloat16'
  | 'unknown';

/**
 * One dimension of a declared shape: a size, a symbol (`'B'`, `'T'`) that a run binds to a size, or `null` when
 * nothing is known (ONNX writes it with neither `dim_value` nor `dim_param`).
 */
export type Dim = number | string | null;

export type HostTensor =
  | { readonly dtype: 'float32'; readonly shape: readonly number[]; readonly data: Float32Array }
  | { readonly dtype: 'int64'; readonly shape: readonly number[]; readonly data: BigInt64Array }
  | { readonly dtype: 'bool'; readonly shape: readonly number[]; readonly data: Uint8Array };

/** A named tensor slot (graph input or output) with its element type and declared shape. */
export interface TensorSpec {
  name: string;
  dtype: ElementType;
  shape: Dim[];
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

function checkLength(shape: readonly number[], length: number, what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new SignweaveInputError(`${what} tensor shape [${shape.join(', ')}] has an invalid dimension ${d}`);
  }
  if (sizeOf(shape) !== length) {
    throw new SignweaveInputError(`${what} tensor of shape [${shape.join(', ')}] needs ${sizeOf(shape)} values, got ${length}`);
  }
}

export function float32(data: ArrayLike<number>, shape: readonly number[]): HostTensor & { dtype: 'float32' } {
  checkLength(shape, data.length, 'float32');
  return { dtype: 'float32', shape: [...shape], data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

export function int64(data: ArrayLike<number> | BigInt64Array, shape: readonly number[]): HostTensor & { dtype: 'int64' } {
  checkLength(shape, data.length, 'int64');
  if (data instanceof BigInt64Array) return { dtype: 'int64', shape: [...shape], data };
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = BigInt(Math.trunc(data[i]));
  return { dtype: 'int64', shape: [...shape], data: out };
}

export function bool(data: ArrayLike<number | boolean>, shape: readonly number[]): HostTensor & { dtype: 'bool' } {
  checkLength(shape, data.length, 'bool');
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
  return { dtype: 'bool', shape: [...shape], data: out };
}

/** A host tensor of `dtype` from plain numbers (rounded to float32, truncated to integers, or tested for non-zero). */
export function fromNumbers(dtype: DType, shape: readonly number[], values: ArrayLike<number>): HostTensor {
  if (dtype === 'float32') return float32(values, shape);
  if (dtype === 'int64') return int64(values, shape);
  return bool(values, shape);
}

/** The elements as plain numbers (int64 beyond 2^53 loses precision, which no shape or index here reaches). */
export function toNumbers(t: HostTensor): ArrayLike<number> {
  if (t.dtype === 'float32') return t.data;
  if (t.dtype === 'bool') return t.data;
  return Array.from(t.data, Number);
}

export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/**
 * For every element of a tensor of shape `out`, the flat index of the element of a tensor of shape `input` that
 * numpy-style broadcasting reads (input dims align right; a dim of 1 repeats).
 */
export function broadcastIndex(out: readonly number[], input: readonly number[]): Int32Array {
  const n = sizeOf(out);
  const map = new Int32Array(n);
  const offset = out.length - input.length;
  const inStrides = stridesOf(input);
  const stride = out.map((_, i) => (i < offset || input[i - offset] === 1 ? 0 : inStrides[i - offset]));
  const idx = new Array<number>(out.length).fill(0);
  let flat = 0;
  for (let k = 0; k < n; k++) {
    map[k] = flat;
    for (let a = out.length - 1; a >= 0; a--) {
      idx[a]++;
      flat += stride[a];
      if (idx[a] < out[a]) break;
      flat -= stride[a] * idx[a];
      idx[a] = 0;
    }
  }
  return map;
}

/** The numpy broadcast of concrete shapes, or null when they do not broadcast. */
export function broadcastConcrete(shapes: readonly (readonly number[])[]): number[] | null {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const a = rank - s.length + i;
      const d = s[i];
      if (d === out[a] || d === 1) continue;
      if (out[a] !== 1) return null;
      out[a] = d;
    }
  }
  return out;
}
