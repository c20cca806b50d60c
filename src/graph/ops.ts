/**
 * The op table: every op the graph builder can emit, each defined in one place — its ports, its shape rule, the ONNX
 * nodes it becomes, and a plain-TypeScript reference implementation that the tests hold ONNX Runtime to.
 *
 * Semantics are ONNX opset 17 (ONNX Runtime implements them); attribute names are ONNX's. A table entry is the unit the
 * backward pass (src/train/autodiff.ts) works on, so each differentiable entry also declares its vector-Jacobian
 * product (`vjp`) as ONNX nodes. Composite entries (Gelu) emit several ONNX nodes but are one op to shape inference, to
 * the reference interpreter and to differentiation.
 */
import {
  broadcastConcrete,
  broadcastIndex,
  formatShape,
  fromNumbers,
  int64,
  sizeOf,
  stridesOf,
  toNumbers,
  type DType,
  type Dim,
  type HostTensor,
} from './tensor.js';

/** The ONNX opset the builder writes, and the IR version that goes with it (ONNX 1.12: IR 8, opset 17). */
export const OPSET = 17;
export const IR_VERSION = 8;

/** What shape inference knows of a value. */
export interface ValueInfo {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  /**
   * The elements of a small scalar or 1-D value when they are known at build time — a number when constant, a symbol
   * when an element equals a symbolic dim (from `Shape`), null when unknown — so shape-valued inputs (Reshape's shape,
   * Resize's sizes, Slice's ends) give static or symbolic output shapes.
   */
  readonly content?: readonly Dim[];
}

/** A shape rule's complaint; the builder adds the module scope, the op and the inputs' names and shapes. */
export class ShapeError extends Error {}

function fail(message: string): never {
  throw new ShapeError(message);
}

/** One ONNX attribute value, typed explicitly because a JS number does not say whether it is an INT or a FLOAT. */
export type OnnxAttr =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { string: string }
  | { tensor: HostTensor };

/** What an op's `emit` writes through: ONNX nodes, fresh value names, constants. */
export interface Emitter {
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs?: Record<string, OnnxAttr | undefined>): void;
  temp(hint: string): string;
  constant(value: HostTensor, hint: string): string;
}

/** An input port. `'T'` is the op's type variable: every `'T'` port of one node has the same dtype, one of `types`. */
export interface Port {
  readonly name: string;
  readonly type: 'T' | DType;
  readonly optional?: boolean;
  /** Takes any number (≥ 1) of inputs; only the last port may be variadic. */
  readonly variadic?: boolean;
}

export interface OpDef<A> {
  readonly summary: string;
  /** Dtypes the type variable `'T'` may take (default float32 only). */
  readonly types?: readonly DType[];
  readonly inputs: readonly Port[];
  /** Number of outputs (Split's depends on its attributes). */
  outputCount(attrs: A): number;
  /** Output dtypes and shapes from the inputs' (already dtype-checked); throws ShapeError. */
  infer(ins: readonly (ValueInfo | undefined)[], attrs: A): ValueInfo[];
  /** Writes the ONNX node(s); `ins` has '' for an omitted optional input. */
  emit(e: Emitter, ins: readonly string[], outs: readonly string[], attrs: A): void;
  /** The forward computation on host tensors (float math in float64, stored as float32). */
  reference(ins: readonly (HostTensor | undefined)[], attrs: A): HostTensor[];
  /**
   * The vector-Jacobian product as ONNX nodes: from the gradients of the outputs, the gradient of every input the
   * backward pass asks for (`wants`), each with that input's shape; undefined for the others. Ops without it
   * (Shape, Constant) cannot be differentiated through.
   */
  vjp?(e: Emitter, a: VjpArgs, attrs: A): (string | undefined)[];
}

/** What a VJP sees of one forward node. */
export interface VjpArgs {
  /** Forward input names ('' for an omitted optional input) and what shape inference knew of them. */
  readonly ins: readonly string[];
  readonly inInfos: readonly (ValueInfo | undefined)[];
  readonly outs: readonly string[];
  readonly outInfos: readonly ValueInfo[];
  /** The gradient of each output; undefined where nothing downstream depends on that output. */
  readonly grads: readonly (string | undefined)[];
  /** Which inputs need a gradient. */
  readonly wants: readonly boolean[];
}

/** Ops without attributes. */
export type NoAttrs = Record<string, never>;

function defineOp<A>(def: OpDef<A>): OpDef<A> {
  return def;
}

const one = (): number => 1;

/** The common case: one ONNX node of the same name, attributes mapped by `attrs`. */
function single<A>(opType: string, attrs?: (a: A) => Record<string, OnnxAttr | undefined>): OpDef<A>['emit'] {
  return (e, ins, outs, a) => e.node(opType, ins, outs, attrs?.(a));
}

// ---------------------------------------------------------------------------------------------------------------
// Shape-rule helpers (symbolic dims)

function normAxis(axis: number, rank: number, what: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) fail(`${what} ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** numpy broadcasting of declared shapes; a symbol against a number takes the number, two symbols give unknown. */
function broadcastDims(shapes: readonly (readonly Dim[])[], names: readonly string[]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = new Array<Dim>(rank).fill(1);
  for (let a = 0; a < rank; a++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const i = a - (rank - s.length);
      if (i < 0) continue;
      const e = s[i];
      if (e === d || e === 1) continue;
      if (d === 1) d = e;
      else if (typeof d === 'number' && typeof e === 'number') {
        const shown = shapes.map((sh, k) => `${names[k]} ${formatShape(sh)}`).join(', ');
        fail(`shapes do not broadcast (dimension ${a - rank}: ${d} vs ${e}): ${shown}`);
      } else if (typeof e === 'number') d = e;
      else if (typeof d !== 'number') d = null;
    }
    out[a] = d;
  }
  return out;
}

/** Two declared dims that must be equal: fails only when both are known numbers and differ. */
function sameDim(a: Dim, b: Dim): boolean {
  return !(typeof a === 'number' && typeof b === 'number' && a !== b);
}

/** The elements of a constant-valued input when all are known numbers, or undefined. */
function knownValues(info: ValueInfo | undefined): number[] | undefined {
  const c = info?.content;
  if (!c || !c.every((d) => typeof d === 'number')) return undefined;
  return c as number[];
}

/** Elements of a small value worth tracking (shapes, axes, sizes). */
const CONTENT_LIMIT = 64;

function contentOf(t: HostTensor): Dim[] | undefined {
  if (t.shape.length > 1 || sizeOf(t.shape) > CONTENT_LIMIT) return undefined;
  return Array.from(toNumbers(t));
}

function vectorLength(info: ValueInfo, what: string): Dim {
  if (info.shape.length !== 1) fail(`${what} must be 1-D, got ${formatShape(info.shape)}`);
  return info.shape[0];
}

// ---------------------------------------------------------------------------------------------------------------
// Reference helpers

function f32(t: HostTensor | undefined): Float32Array {
  if (!t || t.dtype !== 'float32') throw new ShapeError(`expected a float32 tensor, got ${t ? t.dtype : 'nothing'}`);
  return t.data;
}

function intsOf(t: HostTensor): number[] {
  return Array.from(toNumbers(t));
}

function sameData(t: HostTensor, shape: readonly number[]): HostTensor {
  return { ...t, shape: [...shape] } as HostTensor;
}

function mapFloat(t: HostTensor | undefined, fn: (x: number) => number): HostTensor {
  const x = f32(t);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = fn(x[i]);
  return { dtype: 'float32', shape: [...t!.shape], data: out };
}

/** The flat source index of every element when an `outShape` block is read from `shape` with per-axis start/step. */
function strided(shape: readonly number[], outShape: readonly number[], start: readonly number[], step: readonly number[]): Int32Array {
  const strides = stridesOf(shape);
  const n = sizeOf(outShape);
  const map = new Int32Array(n);
  const idx = new Array<number>(outShape.length).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let a = 0; a < outShape.length; a++) off += (start[a] + idx[a] * step[a]) * strides[a];
    map[k] = off;
    for (let a = outShape.length - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return map;
}

/** A tensor of `shape` whose element k is element `map[k]` of `t`. */
function pick(t: HostTensor, shape: readonly number[], map: Int32Array): HostTensor {
  const src = t.data;
  if (t.dtype === 'int64') return { dtype: 'int64', shape: [...shape], data: BigInt64Array.from(map, (i) => (src as BigInt64Array)[i]) };
  const out = t.dtype === 'float32' ? new Float32Array(map.length) : new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = (src as Float32Array | Uint8Array)[map[i]];
  return { dtype: t.dtype, shape: [...shape], data: out } as HostTensor;
}

/** Error function, Numerical Recipes' erfc rational approximation (fractional error < 1.2e-7). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc : erfc - 1;
}

/** ONNX Slice's per-axis range: first index, element count, step (after negative indices and clamping). */
function sliceRange(dim: number, start: number, end: number, step: number): { first: number; count: number } {
  if (step === 0) fail('Slice step must not be 0');
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = Math.min(Math.max(start, 0), dim);
    end = Math.min(Math.max(end, 0), dim);
  } else {
    start = Math.min(Math.max(start, 0), dim - 1);
    end = Math.min(Math.max(end, -1), dim - 1);
  }
  return { first: start, count: Math.max(0, Math.ceil((end - start) / step)) };
}

/** Slice's parameters per axis of the data, with defaults (all axes, step 1). */
function slicePlan(rank: number, starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined): { start: number; end: number; step: number }[] {
  if (starts.length !== ends.length) fail(`Slice starts (${starts.length}) and ends (${ends.length}) differ in length`);
  const ax = axes ?? starts.map((_, i) => i);
  const st = steps ?? starts.map(() => 1);
  if (ax.length !== starts.length || st.length !== starts.length) fail('Slice starts, ends, axes and steps must have one entry per sliced axis');
  const plan: ({ start: number; end: number; step: number } | undefined)[] = new Array(rank).fill(undefined);
  ax.forEach((a, i) => {
    const axis = normAxis(a, rank, 'Slice axis');
    if (plan[axis]) fail(`Slice axis ${a} repeats`);
    plan[axis] = { start: starts[i], end: ends[i], step: st[i] };
  });
  return plan.map((p) => p ?? { start: 0, end: Number.MAX_SAFE_INTEGER, step: 1 });
}

type ResizeCoordinateMode = 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric';
type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export interface ResizeAttrs {
  /** `nearest` or (multi)`linear`; default nearest. */
  mode?: 'nearest' | 'linear';
  /** Default half_pixel (PyTorch `align_corners=False`); `asymmetric` + `floor` is PyTorch's `nearest`. */
  coordinate_transformation_mode?: ResizeCoordinateMode;
  /** Default round_prefer_floor. */
  nearest_mode?: NearestMode;
}

function resizeAttrs(a: ResizeAttrs): Record<string, OnnxAttr | undefined> {
  return {
    mode: a.mode && { string: a.mode },
    coordinate_transformation_mode: a.coordinate_transformation_mode && { string: a.coordinate_transformation_mode },
    nearest_mode: a.nearest_mode && { string: a.nearest_mode },
  };
}

/** Output-to-input coordinate along one axis, in float32 steps as ONNX Runtime computes it. */
function resizeCoordinate(x: number, scale: number, inLen: number, outLen: number, mode: ResizeCoordinateMode): number {
  const f = Math.fround;
  switch (mode) {
    case 'half_pixel':
      return f(f(f(x + 0.5) / scale) - 0.5);
    case 'pytorch_half_pixel':
      return outLen > 1 ? f(f(f(x + 0.5) / scale) - 0.5) : 0;
    case 'align_corners':
      return outLen === 1 ? 0 : f(f(x * (inLen - 1)) / (outLen - 1));
    case 'asymmetric':
      return f(x / scale);
  }
}

function nearestIndex(x: number, mode: NearestMode): number {
  switch (mode) {
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'round_prefer_floor':
      return x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.sign(x) * Math.round(Math.abs(x));
    case 'round_prefer_ceil':
      return x === Math.floor(x) + 0.5 ? Math.ceil(x) : Math.sign(x) * Math.round(Math.abs(x));
  }
}

/** Resizes one axis of a float64 row-major buffer. */
function resizeAxis(data: Float64Array, shape: number[], axis: number, outLen: number, scale: number, a: Required<ResizeAttrs>): Float64Array {
  const inLen = shape[axis];
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const out = new Float64Array(outer * outLen * inner);
  const taps: { i0: number; i1: number; w: number }[] = [];
  for (let x = 0; x < outLen; x++) {
    const c = resizeCoordinate(x, scale, inLen, outLen, a.coordinate_transformation_mode);
    if (a.mode === 'nearest') {
      const i = Math.min(Math.max(nearestIndex(c, a.nearest_mode), 0), inLen - 1);
      taps.push({ i0: i, i1: i, w: 0 });
    } else {
      const clamped = Math.min(Math.max(c, 0), inLen - 1);
      const i0 = Math.floor(clamped);
      taps.push({ i0, i1: Math.min(i0 + 1, inLen - 1), w: clamped - i0 });
    }
  }
  for (let o = 0; o < outer; o++) {
    for (let x = 0; x < outLen; x++) {
      const { i0, i1, w } = taps[x];
      const src0 = (o * inLen + i0) * inner;
      const src1 = (o * inLen + i1) * inner;
      const dst = (o * outLen + x) * inner;
      for (let k = 0; k < inner; k++) out[dst + k] = data[src0 + k] * (1 - w) + data[src1 + k] * w;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Vector-Jacobian product helpers: small ONNX-writing steps the VJPs are made of

/** One ONNX node with one fresh output; returns its name. */
function put(e: Emitter, opType: string, ins: readonly string[], attrs?: Record<string, OnnxAttr | undefined>): string {
  const out = e.temp(opType);
  e.node(opType, ins, [out], attrs);
  return out;
}

function intsConst(e: Emitter, values: readonly number[], hint = 'ints'): string {
  return e.constant(int64(values, [values.length]), hint);
}

function floatConst(e: Emitter, v: number, hint = 'scalar'): string {
  return e.constant({ dtype: 'float32', shape: [], data: Float32Array.of(v) }, hint);
}

/** A value's shape as an int64 vector: a constant when static, else a Shape node (dims start..end−1). */
function shapeVector(e: Emitter, name: string, info: ValueInfo, start = 0, end = info.shape.length): string {
  const dims = info.shape.slice(start, end);
  if (dims.every((d) => typeof d === 'number')) return intsConst(e, dims as number[], 'shape');
  return put(e, 'Shape', [name], { start: { int: start }, end: { int: end } });
}

/** The permutation that swaps the last two axes. */
function swapLast(rank: number): number[] {
  return [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
}

/**
 * Sums a gradient of the broadcast shape `outShape` down to the shape of input `x` (numpy broadcasting backwards).
 * The reduced axes come from the declared shapes; where those cannot tell (a symbolic input dim against another
 * dim), they are found at run time from the two shapes.
 */
function unbroadcast(e: Emitter, g: string, outShape: readonly Dim[], x: string, xInfo: ValueInfo): string {
  const lead = outShape.length - xInfo.shape.length;
  const axes: number[] = [];
  let ambiguous = false;
  outShape.forEach((yd, a) => {
    if (a < lead) return axes.push(a);
    const xd = xInfo.shape[a - lead];
    if (xd === 1) {
      if (yd !== 1) axes.push(a);
    } else if (!(typeof xd === 'number' || (xd !== null && xd === yd) || yd === 1)) ambiguous = true;
  });
  if (ambiguous) {
    const one = intsConst(e, [1], 'one');
    let xs = put(e, 'Shape', [x]);
    if (lead > 0) xs = put(e, 'Concat', [intsConst(e, new Array<number>(lead).fill(1), 'lead'), xs], { axis: { int: 0 } });
    const ys = put(e, 'Shape', [g]);
    const mask = put(e, 'And', [put(e, 'Equal', [xs, one]), put(e, 'Not', [put(e, 'Equal', [ys, one])])]);
    const dynamicAxes = put(e, 'Reshape', [put(e, 'NonZero', [mask]), intsConst(e, [-1])]);
    const summed = put(e, 'ReduceSum', [g, dynamicAxes], { keepdims: { int: 1 }, noop_with_empty_axes: { int: 1 } });
    return put(e, 'Reshape', [summed, put(e, 'Shape', [x])]);
  }
  if (axes.length === 0) return g;
  const summed = put(e, 'ReduceSum', [g, intsConst(e, axes, 'axes')], { keepdims: { int: 1 } });
  return lead > 0 ? put(e, 'Squeeze', [summed, intsConst(e, axes.slice(0, lead), 'axes')]) : summed;
}

/**
 * The gradient of an op that only moves elements (Slice, Gather): the same op applied to the element numbers of x
 * says where each output element came from; the output gradient is scatter-added back there.
 */
function scatterBack(e: Emitter, g: string, x: string, xInfo: ValueInfo, pickIndices: (grid: string) => string, duplicates: boolean): string {
  const size = put(e, 'Size', [x]);
  const iota = put(e, 'Range', [e.constant(int64([0], []), 'zero'), size, e.constant(int64([1], []), 'one')]);
  const xShape = shapeVector(e, x, xInfo);
  const picked = pickIndices(put(e, 'Reshape', [iota, xShape]));
  const zeros = put(e, 'ConstantOfShape', [put(e, 'Shape', [iota])]);
  const scattered = put(e, 'ScatterND', [zeros, put(e, 'Reshape', [picked, intsConst(e, [-1, 1])]), put(e, 'Reshape', [g, intsConst(e, [-1])])], {
    reduction: duplicates ? { string: 'add' } : undefined,
  });
  return put(e, 'Reshape', [scattered, xShape]);
}

function zerosLike(e: Emitter, name: string, info: ValueInfo): string {
  return put(e, 'ConstantOfShape', [shapeVector(e, name, info)]);
}

// ---------------------------------------------------------------------------------------------------------------
// Elementwise families

function binary(opType: string, vjp: OpDef<NoAttrs>['vjp'], fn: (x: number, y: number) => number, intFn: (x: number, y: number) => number = fn): OpDef<NoAttrs> {
  return defineOp<NoAttrs>({
    summary: `${opType}(A, B) elementwise with numpy broadcasting`,
    types: ['float32', 'int64'],
    inputs: [
      { name: 'A', type: 'T' },
      { name: 'B', type: 'T' },
    ],
    outputCount: one,
    infer: ([a, b]) => {
      const shape = broadcastDims([a!.shape, b!.shape], ['A', 'B']);
      const ca = a!.content;
      const cb = b!.content;
      // Shape arithmetic (e.g. a length times a factor) stays known when both sides are.
      let content: Dim[] | undefined;
      if (ca && cb && shape.length <= 1 && ca.every((d) => typeof d === 'number') && cb.every((d) => typeof d === 'number')) {
        const n = Math.max(ca.length, cb.length);
        const g = a!.dtype === 'int64' ? intFn : fn;
        content = Array.from({ length: n }, (_, i) => g(ca[ca.length === 1 ? 0 : i] as number, cb[cb.length === 1 ? 0 : i] as number));
      }
      return [{ dtype: a!.dtype, shape, content }];
    },
    emit: single(opType),
    vjp,
    reference: ([a, b]) => {
      const shape = broadcastConcrete([a!.shape, b!.shape]) ?? fail(`${opType}: ${formatShape(a!.shape)} and ${formatShape(b!.shape)} do not broadcast`);
      const ia = broadcastIndex(shape, a!.shape);
      const ib = broadcastIndex(shape, b!.shape);
      const x = toNumbers(a!);
      const y = toNumbers(b!);
      const g = a!.dtype === 'int64' ? intFn : fn;
      const out = new Float64Array(ia.length);
      for (let i = 0; i < out.length; i++) out[i] = g(x[ia[i]], y[ib[i]]);
      return [fromNumbers(a!.dtype, shape, out)];
    },
  });
}

function unary(opType: string, fn: (x: number) => number, vjp: OpDef<NoAttrs>['vjp']): OpDef<NoAttrs> {
  return defineOp<NoAttrs>({
    summary: `${opType}(X) elementwise`,
    inputs: [{ name: 'X', type: 'T' }],
    outputCount: one,
    infer: ([x]) => [{ dtype: 'float32', shape: x!.shape }],
    emit: single(opType),
    vjp,
    reference: ([x]) => [mapFloat(x, fn)],
  });
}

const ALL_TYPES: readonly DType[] = ['float32', 'int64', 'bool'];

// ---------------------------------------------------------------------------------------------------------------
// The table

export interface GemmAttrs {
  alpha?: number;
  beta?: number;
  transA?: 0 | 1;
  transB?: 0 | 1;
}

export interface LayerNormAttrs {
  /** First normalised axis (default -1): statistics are taken over `axis..rank-1`. */
  axis?: number;
  epsilon?: number;
}

export interface ConvAttrs {
  strides?: number[];
  /** `[begin, end]` zero padding of the time axis. */
  pads?: number[];
  dilations?: number[];
  group?: number;
}

export const OPS = {
  MatMul: defineOp<NoAttrs>({
    summary: 'numpy matmul: [..., M, K] × [..., K, N] → [..., M, N], batch dims broadcast, 1-D operands promoted',
    inputs: [
      { name: 'A', type: 'T' },
      { name: 'B', type: 'T' },
    ],
    outputCount: one,
    infer: ([a, b]) => {
      if (a!.shape.length === 0 || b!.shape.length === 0) fail('MatMul operands must have rank ≥ 1');
      const as = a!.shape.length === 1 ? [1, a!.shape[0]] : a!.shape;
      const bs = b!.shape.length === 1 ? [b!.shape[0], 1] : b!.shape;
      const ka = as[as.length - 1];
      const kb = bs[bs.length - 2];
      if (!sameDim(ka, kb)) fail(`inner dimensions differ: A ${formatShape(a!.shape)} has K = ${ka}, B ${formatShape(b!.shape)} has K = ${kb}`);
      const batch = broadcastDims([as.slice(0, -2), bs.slice(0, -2)], ['A batch', 'B batch']);
      const shape: Dim[] = [...batch];
      if (a!.shape.length > 1) shape.push(as[as.length - 2]);
      if (b!.shape.length > 1) shape.push(bs[bs.length - 1]);
      return [{ dtype: 'float32', shape }];
    },
    emit: single('MatMul'),
    vjp: (e, { ins: [a, b], inInfos: [ai, bi], outInfos: [y], grads: [g], wants }) => {
      // 1-D operands are promoted as in the forward: A [K] → [1, K], B [K] → [K, 1].
      const [ra, rb] = [ai!.shape.length, bi!.shape.length];
      const as = ra === 1 ? [1, ai!.shape[0]] : ai!.shape;
      const bs = rb === 1 ? [bi!.shape[0], 1] : bi!.shape;
      const a2 = ra === 1 ? put(e, 'Unsqueeze', [a, intsConst(e, [0])]) : a;
      const b2 = rb === 1 ? put(e, 'Unsqueeze', [b, intsConst(e, [1])]) : b;
      let g2 = g!;
      if (ra === 1 && rb === 1) g2 = put(e, 'Reshape', [g2, intsConst(e, [1, 1])]);
      else if (ra === 1) g2 = put(e, 'Unsqueeze', [g2, intsConst(e, [-2])]);
      else if (rb === 1) g2 = put(e, 'Unsqueeze', [g2, intsConst(e, [-1])]);
      const batch = y.shape.slice(0, y.shape.length - (ra > 1 ? 1 : 0) - (rb > 1 ? 1 : 0));
      let ga: string | undefined;
      let gb: string | undefined;
      if (wants[0]) {
        const full = put(e, 'MatMul', [g2, put(e, 'Transpose', [b2], { perm: { ints: swapLast(bs.length) } })]);
        ga = unbroadcast(e, full, [...batch, ...as.slice(-2)], a2, { dtype: 'float32', shape: as });
        if (ra === 1) ga = put(e, 'Squeeze', [ga, intsConst(e, [0])]);
      }
      if (wants[1]) {
        const full = put(e, 'MatMul', [put(e, 'Transpose', [a2], { perm: { ints: swapLast(as.length) } }), g2]);
        gb = unbroadcast(e, full, [...batch, ...bs.slice(-2)], b2, { dtype: 'float32', shape: bs });
        if (rb === 1) gb = put(e, 'Squeeze', [gb, intsConst(e, [1])]);
      }
      return [ga, gb];
    },
    reference: ([a, b]) => {
      const as = a!.shape.length === 1 ? [1, a!.shape[0]] : [...a!.shape];
      const bs = b!.shape.length === 1 ? [b!.shape[0], 1] : [...b!.shape];
      const M = as[as.length - 2];
      const K = as[as.length - 1];
      const N = bs[bs.length - 1];
      if (bs[bs.length - 2] !== K) fail(`MatMul: inner dimensions differ (${K} vs ${bs[bs.length - 2]})`);
      const batch = broadcastConcrete([as.slice(0, -2), bs.slice(0, -2)]) ?? fail('MatMul: batch dimensions do not broadcast');
      const ia = broadcastIndex(batch, as.slice(0, -2));
      const ib = broadcastIndex(batch, bs.slice(0, -2));
      const x = f32(a);
      const y = f32(b);
      const out = new Float32Array(ia.length * M * N);
      for (let p = 0; p < ia.length; p++) {
        const ao = ia[p] * M * K;
        const bo = ib[p] * K * N;
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += x[ao + i * K + k] * y[bo + k * N + j];
            out[(p * M + i) * N + j] = s;
          }
        }
      }
      const shape = [...batch];
      if (a!.shape.length > 1) shape.push(M);
      if (b!.shape.length > 1) shape.push(N);
      return [{ dtype: 'float32', shape, data: out }];
    },
  }),

  Gemm: defineOp<GemmAttrs>({
    summary: 'alpha · op(A) · op(B) + beta · C for 2-D A and B (op = optional transpose); C broadcasts to [M, N]',
    inputs: [
      { name: 'A', type: 'T' },
      { name: 'B', type: 'T' },
      { name: 'C', type: 'T', optional: true },
    ],
    outputCount: one,
    infer: ([a, b, c], attrs) => {
      if (a!.shape.length !== 2 || b!.shape.length !== 2) fail(`Gemm needs 2-D A and B, got ${formatShape(a!.shape)} and ${formatShape(b!.shape)}`);
      const [m, ka] = attrs.transA ? [a!.shape[1], a!.shape[0]] : a!.shape;
      const [kb, n] = attrs.transB ? [b!.shape[1], b!.shape[0]] : b!.shape;
      if (!sameDim(ka, kb)) fail(`inner dimensions differ: op(A) has K = ${ka}, op(B) has K = ${kb}`);
      const shape = [m, n];
      if (c) {
        const bc = broadcastDims([shape, c.shape], ['A·B', 'C']);
        if (bc.length !== 2 || !sameDim(bc[0], m) || !sameDim(bc[1], n)) fail(`C ${formatShape(c.shape)} does not broadcast to [M, N] = ${formatShape(shape)}`);
      }
      return [{ dtype: 'float32', shape }];
    },
    emit: single<GemmAttrs>('Gemm', (a) => ({
      alpha: a.alpha === undefined ? undefined : { float: a.alpha },
      beta: a.beta === undefined ? undefined : { float: a.beta },
      transA: a.transA === undefined ? undefined : { int: a.transA },
      transB: a.transB === undefined ? undefined : { int: a.transB },
    })),
    vjp: (e, { ins: [a, b, c], inInfos: [, , ci], outInfos: [y], grads: [g], wants }, attrs) => {
      // op(A) = A or Aᵀ: dA = α·g·op(B)ᵀ (transposed back when transA), dB = α·op(A)ᵀ·g (likewise), dC = β·g summed to C.
      const alpha = { float: attrs.alpha ?? 1 };
      const [ta, tb] = [attrs.transA ?? 0, attrs.transB ?? 0];
      const gemm = (p: string, q: string, transA: number, transB: number): string => put(e, 'Gemm', [p, q], { alpha, transA: { int: transA }, transB: { int: transB } });
      return [
        wants[0] ? (ta ? gemm(b, g!, tb, 1) : gemm(g!, b, 0, tb ? 0 : 1)) : undefined,
        wants[1] ? (tb ? gemm(g!, a, 1, ta) : gemm(a, g!, ta ? 0 : 1, 0)) : undefined,
        wants[2] ? unbroadcast(e, put(e, 'Mul', [g!, floatConst(e, attrs.beta ?? 1, 'beta')]), y.shape, c, ci!) : undefined,
      ];
    },
    reference: ([a, b, c], attrs) => {
      const x = f32(a);
      const y = f32(b);
      const [M, K] = attrs.transA ? [a!.shape[1], a!.shape[0]] : a!.shape;
      const N = attrs.transB ? b!.shape[0] : b!.shape[1];
      const alpha = attrs.alpha ?? 1;
      const beta = attrs.beta ?? 1;
      const ci = c ? broadcastIndex([M, N], c.shape) : undefined;
      const cd = c ? f32(c) : undefined;
      const out = new Float32Array(M * N);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += x[attrs.transA ? k * M + i : i * K + k] * y[attrs.transB ? j * K + k : k * N + j];
          out[i * N + j] = alpha * s + (cd ? beta * cd[ci![i * N + j]] : 0);
        }
      }
      return [{ dtype: 'float32', shape: [M, N], data: out }];
    },
  }),

  Add: binary('Add', (e, { ins: [a, b], inInfos: [ai, bi], outInfos: [y], grads: [g], wants }) => [
    wants[0] ? unbroadcast(e, g!, y.shape, a, ai!) : undefined,
    wants[1] ? unbroadcast(e, g!, y.shape, b, bi!) : undefined,
  ], (x, y) => x + y),
  Sub: binary('Sub', (e, { ins: [a, b], inInfos: [ai, bi], outInfos: [y], grads: [g], wants }) => [
    wants[0] ? unbroadcast(e, g!, y.shape, a, ai!) : undefined,
    wants[1] ? unbroadcast(e, put(e, 'Neg', [g!]), y.shape, b, bi!) : undefined,
  ], (x, y) => x - y),
  Mul: binary('Mul', (e, { ins: [a, b], inInfos: [ai, bi], outInfos: [y], grads: [g], wants }) => [
    wants[0] ? unbroadcast(e, put(e, 'Mul', [g!, b]), y.shape, a, ai!) : undefined,
    wants[1] ? unbroadcast(e, put(e, 'Mul', [g!, a]), y.shape, b, bi!) : undefined,
  ], (x, y) => x * y),
  Div: binary(
    'Div',
    // d(a/b)/db = −(a/b)/b: the output is reused.
    (e, { ins: [a, b], inInfos: [ai, bi], outs: [q], outInfos: [y], grads: [g], wants }) => [
      wants[0] ? unbroadcast(e, put(e, 'Div', [g!, b]), y.shape, a, ai!) : undefined,
      wants[1] ? unbroadcast(e, put(e, 'Neg', [put(e, 'Mul', [g!, put(e, 'Div', [q, b])])]), y.shape, b, bi!) : undefined,
    ],
    (x, y) => x / y,
    (x, y) => Math.trunc(x / y),
  ),

  LayerNormalization: defineOp<LayerNormAttrs>({
    summary: '(X − mean) / sqrt(var + epsilon) · Scale + B, statistics over axes axis..rank−1',
    inputs: [
      { name: 'X', type: 'T' },
      { name: 'Scale', type: 'T' },
      { name: 'B', type: 'T', optional: true },
    ],
    outputCount: one,
    infer: ([x, scale, bias], attrs) => {
      const axis = normAxis(attrs.axis ?? -1, x!.shape.length, 'LayerNormalization axis');
      const normalized = x!.shape.slice(axis);
      for (const [name, p] of [
        ['Scale', scale],
        ['B', bias],
      ] as const) {
        if (!p) continue;
        const bc = p.shape.length <= normalized.length ? broadcastDims([normalized, p.shape], ['normalized X', name]) : undefined;
        if (!bc || !bc.every((d, i) => sameDim(d, normalized[i]))) {
          fail(`${name} ${formatShape(p.shape)} does not match the normalised dims ${formatShape(normalized)} of X ${formatShape(x!.shape)}`);
        }
      }
      return [{ dtype: 'float32', shape: x!.shape }];
    },
    emit: single<LayerNormAttrs>('LayerNormalization', (a) => ({
      axis: a.axis === undefined ? undefined : { int: a.axis },
      epsilon: a.epsilon === undefined ? undefined : { float: a.epsilon },
    })),
    vjp: (e, { ins: [x, scale, bias], inInfos: [xi, si, bi], grads: [g], wants }, attrs) => {
      // x̂ = (x − μ)·r, r = 1/√(var + ε): dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·Scale; dScale = Σ g·x̂, dB = Σ g.
      const rank = xi!.shape.length;
      const axis = normAxis(attrs.axis ?? -1, rank, 'LayerNormalization axis');
      const mean = (v: string): string => put(e, 'ReduceMean', [v], { axes: { ints: Array.from({ length: rank - axis }, (_, i) => axis + i) }, keepdims: { int: 1 } });
      const centred = put(e, 'Sub', [x, mean(x)]);
      const variance = mean(put(e, 'Mul', [centred, centred]));
      const r = put(e, 'Reciprocal', [put(e, 'Sqrt', [put(e, 'Add', [variance, floatConst(e, Math.fround(attrs.epsilon ?? 1e-5), 'epsilon')])])]);
      const xhat = put(e, 'Mul', [centred, r]);
      let gx: string | undefined;
      if (wants[0]) {
        const gh = put(e, 'Mul', [g!, scale]);
        const inner = put(e, 'Sub', [put(e, 'Sub', [gh, mean(gh)]), put(e, 'Mul', [xhat, mean(put(e, 'Mul', [gh, xhat]))])]);
        gx = put(e, 'Mul', [r, inner]);
      }
      return [
        gx,
        wants[1] ? unbroadcast(e, put(e, 'Mul', [g!, xhat]), xi!.shape, scale, si!) : undefined,
        wants[2] ? unbroadcast(e, g!, xi!.shape, bias, bi!) : undefined,
      ];
    },
    reference: ([x, scale, bias], attrs) => {
      const data = f32(x);
      const axis = normAxis(attrs.axis ?? -1, x!.shape.length, 'LayerNormalization axis');
      const eps = Math.fround(attrs.epsilon ?? 1e-5);
      const normShape = x!.shape.slice(axis);
      const inner = sizeOf(normShape);
      const si = broadcastIndex(normShape, scale!.shape);
      const sd = f32(scale);
      const bi = bias ? broadcastIndex(normShape, bias.shape) : undefined;
      const bd = bias ? f32(bias) : undefined;
      const out = new Float32Array(data.length);
      for (let o = 0; o < data.length; o += inner) {
        let mean = 0;
        for (let i = 0; i < inner; i++) mean += data[o + i];
        mean /= inner;
        let v = 0;
        for (let i = 0; i < inner; i++) v += (data[o + i] - mean) ** 2;
        const inv = 1 / Math.sqrt(v / inner + eps);
        for (let i = 0; i < inner; i++) out[o + i] = (data[o + i] - mean) * inv * sd[si[i]] + (bd ? bd[bi![i]] : 0);
      }
      return [{ dtype: 'float32', shape: [...x!.shape], data: out }];
    },
  }),

  Softmax: defineOp<{ axis?: number }>({
    summary: 'exp(X) / Σ exp(X) along one axis (default -1), max-subtracted',
    inputs: [{ name: 'X', type: 'T' }],
    outputCount: one,
    infer: ([x], attrs) => {
      normAxis(attrs.axis ?? -1, x!.shape.length, 'Softmax axis');
      return [{ dtype: 'float32', shape: x!.shape }];
    },
    emit: single<{ axis?: number }>('Softmax', (a) => ({ axis: a.axis === undefined ? undefined : { int: a.axis } })),
    vjp: (e, { inInfos: [xi], outs: [y], grads: [g] }, attrs) => {
      // dx = y·(g − Σ g·y) along the axis.
      const axis = normAxis(attrs.axis ?? -1, xi!.shape.length, 'Softmax axis');
      const dot = put(e, 'ReduceSum', [put(e, 'Mul', [g!, y]), intsConst(e, [axis], 'axes')], { keepdims: { int: 1 } });
      return [put(e, 'Mul', [y, put(e, 'Sub', [g!, dot])])];
    },
    reference: ([x], attrs) => {
      const data = f32(x);
      const shape = x!.shape;
      const axis = normAxis(attrs.axis ?? -1, shape.length, 'Softmax axis');
      const dim = shape[axis];
      const inner = sizeOf(shape.slice(axis + 1));
      const outer = sizeOf(shape.slice(0, axis));
      const out = new Float32Array(data.length);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * dim * inner + i;
          let max = -Infinity;
          for (let k = 0; k < dim; k++) max = Math.max(max, data[base + k * inner]);
          let sum = 0;
          for (let k = 0; k < dim; k++) sum += Math.exp(data[base + k * inner] - max);
          for (let k = 0; k < dim; k++) out[base + k * inner] = Math.exp(data[base + k * inner] - max) / sum;
        }
      }
      return [{ dtype: 'float32', shape: [...shape], data: out }];
    },
  }),

  Relu: unary('Relu', (x) => Math.max(x, 0), (e, { ins: [x], grads: [g] }) => [put(e, 'Where', [put(e, 'Greater', [x, floatConst(e, 0, 'zero')]), g!, floatConst(e, 0, 'zero')])]),
  // σ′ = y(1 − y), tanh′ = 1 − y²: both from the output.
  Sigmoid: unary('Sigmoid', (x) => 1 / (1 + Math.exp(-x)), (e, { outs: [y], grads: [g] }) => [put(e, 'Mul', [g!, put(e, 'Mul', [y, put(e, 'Sub', [floatConst(e, 1, 'one'), y])])])]),
  Tanh: unary('Tanh', Math.tanh, (e, { outs: [y], grads: [g] }) => [put(e, 'Mul', [g!, put(e, 'Sub', [floatConst(e, 1, 'one'), put(e, 'Mul', [y, y])])])]),
  // √′ = 1 / (2y), from the output (RMSNorm's root mean square).
  Sqrt: unary('Sqrt', Math.sqrt, (e, { outs: [y], grads: [g] }) => [put(e, 'Div', [put(e, 'Mul', [g!, floatConst(e, 0.5, 'half')]), y])]),

  Gelu: defineOp<{ approximate?: 'none' | 'tanh' }>({
    summary: 'x · Φ(x): exact 0.5·x·(1 + erf(x/√2)), or the tanh approximation; written as Erf/Tanh arithmetic (Gelu is opset 20)',
    inputs: [{ name: 'X', type: 'T' }],
    outputCount: one,
    infer: ([x]) => [{ dtype: 'float32', shape: x!.shape }],
    emit: (e, [x], [y], attrs) => {
      const scalar = (v: number, hint: string): string => e.constant({ dtype: 'float32', shape: [], data: Float32Array.of(v) }, hint);
      let phi2: string; // 1 + erf(x/√2)  or  1 + tanh(√(2/π)·(x + 0.044715·x³))
      if (attrs.approximate === 'tanh') {
        const x2 = e.temp('gelu_x2');
        const x3 = e.temp('gelu_x3');
        const cubic = e.temp('gelu_cubic');
        const inner = e.temp('gelu_inner');
        const scaled = e.temp('gelu_scaled');
        const th = e.temp('gelu_tanh');
        e.node('Mul', [x, x], [x2]);
        e.node('Mul', [x2, x], [x3]);
        e.node('Mul', [x3, scalar(0.044715, 'gelu_c')], [cubic]);
        e.node('Add', [x, cubic], [inner]);
        e.node('Mul', [inner, scalar(Math.sqrt(2 / Math.PI), 'gelu_k')], [scaled]);
        e.node('Tanh', [scaled], [th]);
        phi2 = e.temp('gelu_phi2');
        e.node('Add', [th, scalar(1, 'gelu_one')], [phi2]);
      } else {
        const scaled = e.temp('gelu_scaled');
        const er = e.temp('gelu_erf');
        e.node('Mul', [x, scalar(Math.SQRT1_2, 'gelu_k')], [scaled]);
        e.node('Erf', [scaled], [er]);
        phi2 = e.temp('gelu_phi2');
        e.node('Add', [er, scalar(1, 'gelu_one')], [phi2]);
      }
      const xphi = e.temp('gelu_xphi2');
      e.node('Mul', [x, phi2], [xphi]);
      e.node('Mul', [xphi, scalar(0.5, 'gelu_half')], [y]);
    },
    vjp: (e, { ins: [x], grads: [g] }, attrs) => {
      const c = (v: number): string => floatConst(e, v, 'c');
      const mul = (...vs: string[]): string => vs.reduce((p, q) => put(e, 'Mul', [p, q]));
      const x2 = mul(x, x);
      let slope: string;
      if (attrs.approximate === 'tanh') {
        // y = ½x(1 + t), t = tanh(k(x + 0.044715x³)): y′ = ½(1 + t) + ½x(1 − t²)·k(1 + 3·0.044715x²).
        const k = Math.sqrt(2 / Math.PI);
        const t = put(e, 'Tanh', [mul(put(e, 'Add', [x, mul(x2, x, c(0.044715))]), c(k))]);
        const dt = put(e, 'Sub', [c(1), mul(t, t)]);
        const du = mul(put(e, 'Add', [c(1), mul(x2, c(3 * 0.044715))]), c(k));
        slope = put(e, 'Add', [mul(put(e, 'Add', [t, c(1)]), c(0.5)), mul(x, c(0.5), dt, du)]);
      } else {
        // y = x·Φ(x): y′ = Φ(x) + x·φ(x).
        const cdf = mul(put(e, 'Add', [put(e, 'Erf', [mul(x, c(Math.SQRT1_2))]), c(1)]), c(0.5));
        const pdf = mul(put(e, 'Exp', [mul(x2, c(-0.5))]), c(1 / Math.sqrt(2 * Math.PI)));
        slope = put(e, 'Add', [cdf, mul(x, pdf)]);
      }
      return [mul(g!, slope)];
    },
    reference: ([x], attrs) =>
      attrs.approximate === 'tanh'
        ? [mapFloat(x, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))))]
        : [mapFloat(x, (v) => 0.5 * v * (1 + erf(v * Math.SQRT1_2)))],
  }),

  Transpose: defineOp<{ perm?: number[] }>({
    summary: 'permutes the axes (default: reverses them)',
    types: ALL_TYPES,
    inputs: [{ name: 'data', type: 'T' }],
    outputCount: one,
    infer: ([x], attrs) => {
      const rank = x!.shape.length;
      const perm = attrs.perm ?? x!.shape.map((_, i) => rank - 1 - i);
      if (perm.length !== rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) fail(`perm [${perm.join(', ')}] is not a permutation of the ${rank} axes`);
      return [{ dtype: x!.dtype, shape: perm.map((p) => x!.shape[p]) }];
    },
    emit: single<{ perm?: number[] }>('Transpose', (a) => ({ perm: a.perm && { ints: a.perm } })),
    vjp: (e, { inInfos: [xi], grads: [g] }, attrs) => {
      const rank = xi!.shape.length;
      const perm = attrs.perm ?? xi!.shape.map((_, i) => rank - 1 - i);
      const inverse = new Array<number>(rank);
      perm.forEach((p, i) => (inverse[p] = i));
      return [put(e, 'Transpose', [g!], { perm: { ints: inverse } })];
    },
    reference: ([x], attrs) => {
      const shape = x!.shape;
      const perm = attrs.perm ?? shape.map((_, i) => shape.length - 1 - i);
      const outShape = perm.map((p) => shape[p]);
      const inStrides = stridesOf(shape);
      const n = sizeOf(outShape);
      const map = new Int32Array(n);
      const idx = new Array<number>(outShape.length).fill(0);
      for (let k = 0; k < n; k++) {
        let off = 0;
        for (let a = 0; a < perm.length; a++) off += idx[a] * inStrides[perm[a]];
        map[k] = off;
        for (let a = outShape.length - 1; a >= 0; a--) {
          if (++idx[a] < outShape[a]) break;
          idx[a] = 0;
        }
      }
      return [pick(x!, outShape, map)];
    },
  }),

  Reshape: defineOp<NoAttrs>({
    summary: 'same data, new shape; 0 copies the input dim at that position, -1 is inferred',
    types: ALL_TYPES,
    inputs: [
      { name: 'data', type: 'T' },
      { name: 'shape', type: 'int64' },
    ],
    outputCount: one,
    infer: ([x, shapeIn]) => {
      const len = vectorLength(shapeIn!, 'Reshape shape');
      const target = shapeIn!.content;
      if (!target) return [{ dtype: x!.dtype, shape: typeof len === 'number' ? new Array<Dim>(len).fill(null) : fail('Reshape shape must have a known length') }];
      const inShape = x!.shape;
      const out: Dim[] = target.map((d, i) => (d === 0 ? (i < inShape.length ? inShape[i] : fail(`shape entry ${i} is 0 but the input has rank ${inShape.length}`)) : d));
      const minus = out.flatMap((d, i) => (d === -1 ? [i] : []));
      if (minus.length > 1) fail('at most one shape entry may be -1');
      // Sizes known up to symbols: cancel symbols present on both sides, then the numbers must agree.
      const inSyms = inShape.filter((d): d is string => typeof d === 'string');
      const outSyms = out.filter((d): d is string => typeof d === 'string');
      const unknown = inShape.includes(null) || out.includes(null);
      const matched = !unknown && inSyms.length === outSyms.length && [...inSyms].sort().every((s, i) => s === [...outSyms].sort()[i]);
      const inNum = sizeOf(inShape.filter((d): d is number => typeof d === 'number'));
      const outNum = sizeOf(out.filter((d): d is number => typeof d === 'number' && d !== -1));
      if (minus.length === 1) {
        if (matched && (outNum === 0 || inNum % outNum !== 0)) fail(`cannot infer -1: ${formatShape(inShape)} is not a multiple of ${outNum}`);
        out[minus[0]] = matched ? inNum / outNum : null;
      } else if (matched && inNum !== outNum) {
        fail(`cannot reshape ${formatShape(inShape)} to ${formatShape(out)}: ${inNum} vs ${outNum} values`);
      }
      if (out.some((d) => typeof d === 'number' && d < 0)) fail(`invalid target shape ${formatShape(target)}`);
      return [{ dtype: x!.dtype, shape: out }];
    },
    emit: single('Reshape'),
    vjp: (e, { ins: [x], inInfos: [xi], grads: [g] }) => [put(e, 'Reshape', [g!, shapeVector(e, x, xi!)])],
    reference: ([x, shapeIn]) => {
      const target = intsOf(shapeIn!).map((d, i) => (d === 0 ? x!.shape[i] : d));
      const known = sizeOf(target.filter((d) => d !== -1));
      const total = sizeOf(x!.shape);
      const shape = target.map((d) => (d === -1 ? total / known : d));
      if (sizeOf(shape) !== total || !shape.every(Number.isInteger)) fail(`Reshape: cannot reshape ${formatShape(x!.shape)} to ${formatShape(target)}`);
      return [sameData(x!, shape)];
    },
  }),

  Concat: defineOp<{ axis: number }>({
    summary: 'joins inputs along an axis; other dims must agree',
    types: ALL_TYPES,
    inputs: [{ name: 'inputs', type: 'T', variadic: true }],
    outputCount: one,
    infer: (ins, attrs) => {
      const rank = ins[0]!.shape.length;
      const axis = normAxis(attrs.axis, rank, 'Concat axis');
      const shape = [...ins[0]!.shape];
      let total: Dim = 0;
      ins.forEach((v, k) => {
        if (v!.shape.length !== rank) fail(`input ${k} has rank ${v!.shape.length}, input 0 has rank ${rank}`);
        v!.shape.forEach((d, a) => {
          if (a !== axis && !sameDim(d, shape[a])) fail(`input ${k} ${formatShape(v!.shape)} differs from input 0 ${formatShape(ins[0]!.shape)} in dimension ${a}`);
          if (a !== axis && shape[a] === null) shape[a] = d;
        });
        const d = v!.shape[axis];
        total = typeof total === 'number' && typeof d === 'number' ? total + d : null;
      });
      shape[axis] = total;
      const content = rank === 1 && ins.every((v) => v!.content) ? ins.flatMap((v) => [...v!.content!]) : undefined;
      return [{ dtype: ins[0]!.dtype, shape, content }];
    },
    emit: single<{ axis: number }>('Concat', (a) => ({ axis: { int: a.axis } })),
    vjp: (e, { ins, inInfos, grads: [g] }, attrs) => {
      const axis = normAxis(attrs.axis, inInfos[0]!.shape.length, 'Concat axis');
      const lengths = inInfos.map((i) => i!.shape[axis]);
      const sizes = lengths.every((d) => typeof d === 'number')
        ? intsConst(e, lengths as number[], 'sizes')
        : put(
            e,
            'Concat',
            ins.map((x, k) => shapeVector(e, x, inInfos[k]!, axis, axis + 1)),
            { axis: { int: 0 } },
          );
      const parts = ins.map(() => e.temp('Split'));
      e.node('Split', [g!, sizes], parts, { axis: { int: axis } });
      return parts;
    },
    reference: (ins, attrs) => {
      const shape0 = ins[0]!.shape;
      const axis = normAxis(attrs.axis, shape0.length, 'Concat axis');
      const outer = sizeOf(shape0.slice(0, axis));
      const shape = [...shape0];
      shape[axis] = ins.reduce((s, t) => s + t!.shape[axis], 0);
      const map = new Int32Array(sizeOf(shape));
      const owner = new Int32Array(map.length);
      let k = 0;
      for (let o = 0; o < outer; o++) {
        ins.forEach((t, j) => {
          const chunk = sizeOf(t!.shape.slice(axis));
          for (let i = 0; i < chunk; i++, k++) {
            map[k] = o * chunk + i;
            owner[k] = j;
          }
        });
      }
      const values = new Float64Array(map.length);
      const nums = ins.map((t) => toNumbers(t!));
      for (let i = 0; i < map.length; i++) values[i] = nums[owner[i]][map[i]];
      return [fromNumbers(ins[0]!.dtype, shape, values)];
    },
  }),

  Split: defineOp<{ axis?: number; outputs: number }>({
    summary: 'cuts one axis into `outputs` parts: equal parts, or the sizes given by the `split` input',
    types: ALL_TYPES,
    inputs: [
      { name: 'input', type: 'T' },
      { name: 'split', type: 'int64', optional: true },
    ],
    outputCount: (a) => a.outputs,
    infer: ([x, split], attrs) => {
      const axis = normAxis(attrs.axis ?? 0, x!.shape.length, 'Split axis');
      const dim = x!.shape[axis];
      let sizes: Dim[];
      if (split) {
        const known = knownValues(split) ?? fail('Split sizes must be constant');
        if (known.length !== attrs.outputs) fail(`${known.length} split sizes for ${attrs.outputs} outputs`);
        const total = known.reduce((s, d) => s + d, 0);
        if (typeof dim === 'number' && total !== dim) fail(`split sizes [${known.join(', ')}] sum to ${total}, but dimension ${axis} of ${formatShape(x!.shape)} is ${dim}`);
        sizes = known;
      } else {
        if (typeof dim === 'number' && dim % attrs.outputs !== 0) fail(`dimension ${axis} of ${formatShape(x!.shape)} (${dim}) does not split into ${attrs.outputs} equal parts`);
        sizes = new Array<Dim>(attrs.outputs).fill(typeof dim === 'number' ? dim / attrs.outputs : null);
      }
      return sizes.map((d) => ({ dtype: x!.dtype, shape: x!.shape.map((s, a) => (a === axis ? d : s)) }));
    },
    emit: single<{ axis?: number; outputs: number }>('Split', (a) => ({ axis: a.axis === undefined ? undefined : { int: a.axis } })),
    vjp: (e, { inInfos: [xi], outs, outInfos, grads }, attrs) => {
      const axis = normAxis(attrs.axis ?? 0, xi!.shape.length, 'Split axis');
      const parts = grads.map((g, k) => g ?? zerosLike(e, outs[k], outInfos[k]));
      return [put(e, 'Concat', parts, { axis: { int: axis } }), undefined];
    },
    reference: ([x, split], attrs) => {
      const axis = normAxis(attrs.axis ?? 0, x!.shape.length, 'Split axis');
      const dim = x!.shape[axis];
      const sizes = split ? intsOf(split) : new Array<number>(attrs.outputs).fill(dim / attrs.outputs);
      let start = 0;
      return sizes.map((n) => {
        const outShape = x!.shape.map((s, a) => (a === axis ? n : s));
        const starts = x!.shape.map((_, a) => (a === axis ? start : 0));
        start += n;
        return pick(x!, outShape, strided(x!.shape, outShape, starts, outShape.map(() => 1)));
      });
    },
  }),

  Slice: defineOp<NoAttrs>({
    summary: 'data[starts:ends:steps] along `axes` (negative indices count from the end, out-of-range ends clamp)',
    types: ALL_TYPES,
    inputs: [
      { name: 'data', type: 'T' },
      { name: 'starts', type: 'int64' },
      { name: 'ends', type: 'int64' },
      { name: 'axes', type: 'int64', optional: true },
      { name: 'steps', type: 'int64', optional: true },
    ],
    outputCount: one,
    infer: ([x, starts, ends, axes, steps]) => {
      const rank = x!.shape.length;
      const s = knownValues(starts);
      const a = axes ? knownValues(axes) : undefined;
      const st = steps ? knownValues(steps) : undefined;
      if (!s || (axes && !a) || (steps && !st)) fail('Slice starts, axes and steps must be constant');
      // Ends may be symbolic (e.g. the length T of another value): data[0:T] has length T.
      const endsLength = vectorLength(ends!, 'Slice ends');
      const e = ends!.content ?? new Array<Dim>(typeof endsLength === 'number' ? endsLength : s!.length).fill(null);
      const numericEnds = e.map((d) => (typeof d === 'number' ? d : 0));
      const plan = slicePlan(rank, s!, numericEnds, a, st);
      const endIndex = new Map<number, Dim>();
      (a ?? s!.map((_, i) => i)).forEach((ax, i) => endIndex.set(normAxis(ax, rank, 'Slice axis'), e[i]));
      const shape = plan.map((p, ax) => {
        const dim = x!.shape[ax];
        const end = endIndex.has(ax) ? endIndex.get(ax)! : p.end;
        if (typeof end !== 'number') return p.start === 0 && p.step === 1 ? end : null;
        if (typeof dim === 'number') return sliceRange(dim, p.start, end, p.step).count;
        return p.start === 0 && p.step === 1 && end >= Number.MAX_SAFE_INTEGER ? dim : null;
      });
      let content: Dim[] | undefined;
      if (rank === 1 && x!.content && typeof shape[0] === 'number') {
        const r = sliceRange(x!.content.length, plan[0].start, endIndex.has(0) ? (endIndex.get(0) as number) : plan[0].end, plan[0].step);
        content = Array.from({ length: r.count }, (_, i) => x!.content![r.first + i * plan[0].step]);
      }
      return [{ dtype: x!.dtype, shape, content }];
    },
    emit: single('Slice'),
    vjp: (e, { ins: [x, ...range], inInfos: [xi], grads: [g] }) => [scatterBack(e, g!, x, xi!, (grid) => put(e, 'Slice', [grid, ...range]), false)],
    reference: ([x, starts, ends, axes, steps]) => {
      const plan = slicePlan(x!.shape.length, intsOf(starts!), intsOf(ends!), axes && intsOf(axes), steps && intsOf(steps));
      const ranges = plan.map((p, a) => sliceRange(x!.shape[a], p.start, p.end, p.step));
      const outShape = ranges.map((r) => r.count);
      return [
        pick(
          x!,
          outShape,
          strided(
            x!.shape,
            outShape,
            ranges.map((r) => r.first),
            plan.map((p) => p.step),
          ),
        ),
      ];
    },
  }),

  Gather: defineOp<{ axis?: number }>({
    summary: 'picks entries of one axis by int64 indices (negative from the end): data[..., indices, ...]',
    types: ALL_TYPES,
    inputs: [
      { name: 'data', type: 'T' },
      { name: 'indices', type: 'int64' },
    ],
    outputCount: one,
    infer: ([x, idx], attrs) => {
      const axis = normAxis(attrs.axis ?? 0, x!.shape.length, 'Gather axis');
      const shape = [...x!.shape.slice(0, axis), ...idx!.shape, ...x!.shape.slice(axis + 1)];
      const known = knownValues(idx);
      const dim = x!.shape[axis];
      if (known && typeof dim === 'number') {
        for (const i of known) if (i < -dim || i >= dim) fail(`index ${i} is out of range for dimension ${axis} of size ${dim}`);
      }
      const content = x!.shape.length === 1 && x!.content && known ? known.map((i) => x!.content![i < 0 ? i + x!.content!.length : i]) : undefined;
      return [{ dtype: x!.dtype, shape, content }];
    },
    emit: single<{ axis?: number }>('Gather', (a) => ({ axis: a.axis === undefined ? undefined : { int: a.axis } })),
    vjp: (e, { ins: [x, indices], inInfos: [xi], grads: [g] }, attrs) => [
      scatterBack(e, g!, x, xi!, (grid) => put(e, 'Gather', [grid, indices], { axis: { int: attrs.axis ?? 0 } }), true),
      undefined,
    ],
    reference: ([x, idx], attrs) => {
      const axis = normAxis(attrs.axis ?? 0, x!.shape.length, 'Gather axis');
      const dim = x!.shape[axis];
      const outer = sizeOf(x!.shape.slice(0, axis));
      const inner = sizeOf(x!.shape.slice(axis + 1));
      const indices = intsOf(idx!).map((i) => (i < -dim || i >= dim ? fail(`Gather index ${i} out of range for size ${dim}`) : i < 0 ? i + dim : i));
      const shape = [...x!.shape.slice(0, axis), ...idx!.shape, ...x!.shape.slice(axis + 1)];
      const map = new Int32Array(sizeOf(shape));
      let k = 0;
      for (let o = 0; o < outer; o++) for (const i of indices) for (let j = 0; j < inner; j++) map[k++] = (o * dim + i) * inner + j;
      return [pick(x!, shape, map)];
    },
  }),

  Unsqueeze: defineOp<NoAttrs>({
    summary: 'inserts size-1 axes at `axes` (positions in the output)',
    types: ALL_TYPES,
    inputs: [
      { name: 'data', type: 'T' },
      { name: 'axes', type: 'int64' },
    ],
    outputCount: one,
    infer: ([x, axes]) => {
      const ax = knownValues(axes) ?? fail('Unsqueeze axes must be constant');
      const rank = x!.shape.length + ax.length;
      const at = new Set(ax.map((a) => normAxis(a, rank, 'Unsqueeze axis')));
      if (at.size !== ax.length) fail(`Unsqueeze axes [${ax.join(', ')}] repeat`);
      const shape: Dim[] = [];
      let k = 0;
      for (let a = 0; a < rank; a++) shape.push(at.has(a) ? 1 : x!.shape[k++]);
      return [{ dtype: x!.dtype, shape, content: shape.length <= 1 ? x!.content : undefined }];
    },
    emit: single('Unsqueeze'),
    vjp: (e, { ins: [, axes], grads: [g] }) => [put(e, 'Squeeze', [g!, axes]), undefined],
    reference: ([x, axes]) => {
      const ax = intsOf(axes!);
      const rank = x!.shape.length + ax.length;
      const at = new Set(ax.map((a) => (a < 0 ? a + rank : a)));
      const shape: number[] = [];
      let k = 0;
      for (let a = 0; a < rank; a++) shape.push(at.has(a) ? 1 : x!.shape[k++]);
      return [sameData(x!, shape)];
    },
  }),

  Squeeze: defineOp<NoAttrs>({
    summary: 'removes size-1 axes (`axes`, or every size-1 axis when omitted)',
    types: ALL_TYPES,
    inputs: [
      { name: 'data', type: 'T' },
      { name: 'axes', type: 'int64', optional: true },
    ],
    outputCount: one,
    infer: ([x, axes]) => {
      const rank = x!.shape.length;
      let drop: Set<number>;
      if (axes) {
        const ax = knownValues(axes) ?? fail('Squeeze axes must be constant');
        drop = new Set(ax.map((a) => normAxis(a, rank, 'Squeeze axis')));
        for (const a of drop) if (typeof x!.shape[a] === 'number' && x!.shape[a] !== 1) fail(`cannot squeeze dimension ${a} of ${formatShape(x!.shape)}: it is ${x!.shape[a]}, not 1`);
      } else {
        if (x!.shape.some((d) => typeof d !== 'number')) fail(`Squeeze without axes needs a static shape, got ${formatShape(x!.shape)}`);
        drop = new Set(x!.shape.flatMap((d, a) => (d === 1 ? [a] : [])));
      }
      const shape = x!.shape.filter((_, a) => !drop.has(a));
      return [{ dtype: x!.dtype, shape, content: shape.length <= 1 ? x!.content : undefined }];
    },
    emit: single('Squeeze'),
    vjp: (e, { ins: [x], inInfos: [xi], grads: [g] }) => [put(e, 'Reshape', [g!, shapeVector(e, x, xi!)]), undefined],
    reference: ([x, axes]) => {
      const rank = x!.shape.length;
      const drop = axes ? new Set(intsOf(axes).map((a) => (a < 0 ? a + rank : a))) : new Set(x!.shape.flatMap((d, a) => (d === 1 ? [a] : [])));
      for (const a of drop) if (x!.shape[a] !== 1) fail(`Squeeze: dimension ${a} of ${formatShape(x!.shape)} is not 1`);
      return [sameData(x!, x!.shape.filter((_, a) => !drop.has(a)))];
    },
  }),

  ReduceMean: defineOp<{ axes?: number[]; keepdims?: 0 | 1 }>({
    summary: 'mean over `axes` (all when omitted); keepdims (default 1) keeps them as size 1',
    inputs: [{ name: 'data', type: 'T' }],
    outputCount: one,
    infer: ([x], attrs) => {
      const rank = x!.shape.length;
      const axes = new Set((attrs.axes ?? x!.shape.map((_, i) => i)).map((a) => normAxis(a, rank, 'ReduceMean axis')));
      const keep = (attrs.keepdims ?? 1) === 1;
      return [{ dtype: 'float32', shape: x!.shape.flatMap((d, a) => (axes.has(a) ? (keep ? [1] : []) : [d])) }];
    },
    emit: single<{ axes?: number[]; keepdims?: 0 | 1 }>('ReduceMean', (a) => ({
      axes: a.axes && { ints: a.axes },
      keepdims: a.keepdims === undefined ? undefined : { int: a.keepdims },
    })),
    vjp: (e, { ins: [x], inInfos: [xi], grads: [g] }, attrs) => {
      // Each input element gets its mean's gradient over the number of elements averaged.
      const rank = xi!.shape.length;
      const axes = [...new Set((attrs.axes ?? xi!.shape.map((_, i) => i)).map((a) => normAxis(a, rank, 'ReduceMean axis')))].sort((p, q) => p - q);
      const kept = (attrs.keepdims ?? 1) === 1 ? g! : put(e, 'Unsqueeze', [g!, intsConst(e, axes, 'axes')]);
      const dims = axes.map((a) => xi!.shape[a]);
      const count = dims.every((d) => typeof d === 'number')
        ? floatConst(e, sizeOf(dims as number[]), 'count')
        : put(e, 'Div', [put(e, 'Cast', [put(e, 'Size', [x])], { to: { int: 1 } }), put(e, 'Cast', [put(e, 'Size', [g!])], { to: { int: 1 } })]);
      return [put(e, 'Div', [put(e, 'Expand', [kept, shapeVector(e, x, xi!)]), count])];
    },
    reference: ([x], attrs) => {
      const shape = x!.shape;
      const axes = new Set((attrs.axes ?? shape.map((_, i) => i)).map((a) => normAxis(a, shape.length, 'ReduceMean axis')));
      const kept = shape.map((d, a) => (axes.has(a) ? 1 : d));
      const target = broadcastIndex(shape, kept);
      const data = f32(x);
      const sums = new Float64Array(sizeOf(kept));
      for (let i = 0; i < data.length; i++) sums[target[i]] += data[i];
      const count = data.length / sums.length;
      const out = Float32Array.from(sums, (s) => s / count);
      return [{ dtype: 'float32', shape: (attrs.keepdims ?? 1) === 1 ? kept : shape.filter((_, a) => !axes.has(a)), data: out }];
    },
  }),

  Conv: defineOp<ConvAttrs>({
    summary: '1-D convolution (cross-correlation): X [N, C, L] ⋆ W [M, C/group, k] + B [M] → [N, M, L′]',
    inputs: [
      { name: 'X', type: 'T' },
      { name: 'W', type: 'T' },
      { name: 'B', type: 'T', optional: true },
    ],
    outputCount: one,
    infer: ([x, w, b], attrs) => {
      if (x!.shape.length !== 3 || w!.shape.length !== 3) fail(`only 1-D convolution is supported: X must be [N, C, L] and W [M, C/group, k], got ${formatShape(x!.shape)} and ${formatShape(w!.shape)}`);
      const [n, c, len] = x!.shape;
      const [m, cg, k] = w!.shape;
      const group = attrs.group ?? 1;
      const [stride, dil] = [attrs.strides?.[0] ?? 1, attrs.dilations?.[0] ?? 1];
      const [pb, pe] = attrs.pads ?? [0, 0];
      if (typeof cg === 'number' && !sameDim(c, cg * group)) fail(`X has ${c} channels but W ${formatShape(w!.shape)} with group ${group} expects ${cg * group}`);
      if (typeof m === 'number' && m % group !== 0) fail(`${m} output channels do not divide into ${group} groups`);
      if (b && (b.shape.length !== 1 || !sameDim(b.shape[0], m))) fail(`B ${formatShape(b.shape)} must be [${m}]`);
      if (typeof k !== 'number') fail('the kernel size must be static');
      const span = dil * (k - 1) + 1;
      let outLen: Dim = null;
      if (typeof len === 'number') {
        outLen = Math.floor((len + pb + pe - span) / stride) + 1;
        if (outLen < 1) fail(`input length ${len} is shorter than the kernel span ${span} after padding ${pb}+${pe}`);
      } else if (stride === 1 && pb + pe === span - 1) outLen = len;
      return [{ dtype: 'float32', shape: [n, m, outLen] }];
    },
    emit: single<ConvAttrs>('Conv', (a) => ({
      strides: a.strides && { ints: a.strides },
      pads: a.pads && { ints: a.pads },
      dilations: a.dilations && { ints: a.dilations },
      group: a.group === undefined ? undefined : { int: a.group },
    })),
    vjp: (e, { ins: [x, w], inInfos: [xi, wi], grads: [g], wants }, attrs) => {
      const group = attrs.group ?? 1;
      const [stride, dil] = [attrs.strides?.[0] ?? 1, attrs.dilations?.[0] ?? 1];
      const [pb, pe] = attrs.pads ?? [0, 0];
      const [m, cg, k] = wi!.shape as number[];
      let gx: string | undefined;
      let gw: string | undefined;
      if (wants[0]) {
        // The transposed convolution spreads g back over the padded input; the stride may leave up to stride−1
        // trailing positions untouched (zero-padded here), then the input's span is cut out.
        let spread = put(e, 'ConvTranspose', [g!, w], { strides: { ints: [stride] }, dilations: { ints: [dil] }, group: { int: group } });
        if (stride > 1) spread = put(e, 'Pad', [spread, intsConst(e, [0, 0, 0, 0, 0, stride - 1], 'pads')]);
        const len = xi!.shape[2];
        const end = typeof len === 'number' ? intsConst(e, [pb + len], 'end') : put(e, 'Add', [shapeVector(e, x, xi!, 2, 3), intsConst(e, [pb], 'begin')]);
        gx = put(e, 'Slice', [spread, intsConst(e, [pb], 'begin'), end, intsConst(e, [2], 'axes')]);
      }
      if (wants[1]) {
        // dW[m, c, t] = Σₙ,ₒ g[n, m, o]·x[n, c, o·stride + t·dilation − pb]: a convolution of x with g over the
        // batch as channels (stride and dilation swap roles), cut to the kernel size.
        const swap = { perm: { ints: [1, 0, 2] } };
        const corr = put(e, 'Conv', [put(e, 'Transpose', [x], swap), put(e, 'Transpose', [g!], swap)], {
          strides: { ints: [dil] },
          dilations: { ints: [stride] },
          pads: { ints: [pb, pe] },
        });
        const full = put(e, 'Slice', [corr, intsConst(e, [0], 'begin'), intsConst(e, [k], 'end'), intsConst(e, [2], 'axes')]); // [C, M, k]
        if (group === 1) gw = put(e, 'Transpose', [full], swap);
        else {
          // Grouped: keep the blocks where the input channel's group is the output channel's group.
          const mg = m / group;
          const blocks = put(e, 'Transpose', [put(e, 'Reshape', [full, intsConst(e, [group, cg, group, mg, k])])], { perm: { ints: [0, 2, 1, 3, 4] } });
          const diagonal = put(e, 'Gather', [put(e, 'Reshape', [blocks, intsConst(e, [group * group, cg, mg, k])]), intsConst(e, Array.from({ length: group }, (_, i) => i * (group + 1)))], { axis: { int: 0 } });
          gw = put(e, 'Reshape', [put(e, 'Transpose', [diagonal], { perm: { ints: [0, 2, 1, 3] } }), intsConst(e, [m, cg, k])]);
        }
      }
      return [gx, gw, wants[2] ? put(e, 'ReduceSum', [g!, intsConst(e, [0, 2], 'axes')], { keepdims: { int: 0 } }) : undefined];
    },
    reference: ([x, w, b], attrs) => {
      const [N, C, L] = x!.shape;
      const [M, Cg, K] = w!.shape;
      const group = attrs.group ?? 1;
      const [stride, dil] = [attrs.strides?.[0] ?? 1, attrs.dilations?.[0] ?? 1];
      const [pb, pe] = attrs.pads ?? [0, 0];
      const Lout = Math.floor((L + pb + pe - dil * (K - 1) - 1) / stride) + 1;
      const xd = f32(x);
      const wd = f32(w);
      const bd = b ? f32(b) : undefined;
      const Mg = M / group;
      const out = new Float32Array(N * M * Lout);
      for (let n = 0; n < N; n++) {
        for (let m = 0; m < M; m++) {
          const g = Math.floor(m / Mg);
          for (let o = 0; o < Lout; o++) {
            let s = bd ? bd[m] : 0;
            for (let c = 0; c < Cg; c++) {
              const ci = g * Cg + c;
              for (let t = 0; t < K; t++) {
                const pos = o * stride - pb + t * dil;
                if (pos >= 0 && pos < L) s += xd[(n * C + ci) * L + pos] * wd[(m * Cg + c) * K + t];
              }
            }
            out[(n * M + m) * Lout + o] = s;
          }
        }
      }
      return [{ dtype: 'float32', shape: [N, M, Lout], data: out }];
    },
  }),

  Resize: defineOp<ResizeAttrs>({
    summary: 'nearest or (multi)linear resampling to `scales` (out = floor(in · scale)) or to `sizes`',
    inputs: [
      { name: 'X', type: 'T' },
      { name: 'roi', type: 'float32', optional: true },
      { name: 'scales', type: 'float32', optional: true },
      { name: 'sizes', type: 'int64', optional: true },
    ],
    outputCount: one,
    infer: ([x, , scales, sizes]) => {
      if (!scales === !sizes) fail('Resize takes exactly one of scales and sizes');
      const rank = x!.shape.length;
      const given = (scales ?? sizes)!;
      if (vectorLength(given, 'Resize scales/sizes') !== rank) fail(`Resize ${scales ? 'scales' : 'sizes'} needs ${rank} entries, one per axis of ${formatShape(x!.shape)}`);
      if (sizes) return [{ dtype: 'float32', shape: sizes.content ? [...sizes.content] : new Array<Dim>(rank).fill(null) }];
      const sc = knownValues(scales) ?? fail('Resize scales must be constant');
      return [{ dtype: 'float32', shape: x!.shape.map((d, a) => (sc[a] === 1 ? d : typeof d === 'number' ? Math.floor(d * Math.fround(sc[a])) : null)) }];
    },
    emit: single<ResizeAttrs>('Resize', resizeAttrs),
    vjp: (e, { ins: [x], inInfos: [xi, , si], outs: [y], outInfos: [yi], grads: [g] }, attrs) => {
      // Resampling one axis is y = R·x along it. R (as [L, L′]) is the same Resize applied to the identity, so
      // dx = R·g along that axis.
      const rank = xi!.shape.length;
      const known = si && knownValues(si);
      const changed = xi!.shape.flatMap((d, a) => {
        if (known) return known[a] === 1 ? [] : [a];
        const out = yi.shape[a];
        return typeof d === 'number' ? (out === d ? [] : [a]) : d !== null && out === d ? [] : [a];
      });
      if (changed.length === 0) return [g!];
      if (changed.length > 1) fail(`the gradient of Resize is defined for resampling one axis; axes ${changed.join(', ')} of ${formatShape(xi!.shape)} change (to ${formatShape(yi.shape)})`);
      const a = changed[0];
      const len = shapeVector(e, x, xi!, a, a + 1);
      const identity = put(e, 'EyeLike', [put(e, 'ConstantOfShape', [put(e, 'Concat', [len, len], { axis: { int: 0 } })])]);
      const target = known
        ? ['', e.constant({ dtype: 'float32', shape: [2], data: Float32Array.of(1, known[a]) }, 'scales')]
        : ['', '', put(e, 'Concat', [len, shapeVector(e, y, yi, a, a + 1)], { axis: { int: 0 } })];
      const r = put(e, 'Resize', [identity, ...target], resizeAttrs(attrs)); // [L, L′]
      if (a === rank - 1) return [put(e, 'MatMul', [g!, put(e, 'Transpose', [r], { perm: { ints: [1, 0] } })])];
      if (a === rank - 2) return [put(e, 'MatMul', [r, g!])];
      const perm = { perm: { ints: Array.from({ length: rank }, (_, i) => (i === a ? rank - 2 : i === rank - 2 ? a : i)) } };
      return [put(e, 'Transpose', [put(e, 'MatMul', [r, put(e, 'Transpose', [g!], perm)])], perm)];
    },
    reference: ([x, , scales, sizes], attrs) => {
      const a: Required<ResizeAttrs> = {
        mode: attrs.mode ?? 'nearest',
        coordinate_transformation_mode: attrs.coordinate_transformation_mode ?? 'half_pixel',
        nearest_mode: attrs.nearest_mode ?? 'round_prefer_floor',
      };
      const inShape = [...x!.shape];
      const sc = scales ? Array.from(f32(scales)) : undefined;
      const outShape = sizes ? intsOf(sizes) : inShape.map((d, i) => Math.floor(d * sc![i]));
      let data: Float64Array = Float64Array.from(f32(x));
      const shape = [...inShape];
      for (let axis = 0; axis < shape.length; axis++) {
        const scale = sc ? sc[axis] : Math.fround(outShape[axis] / inShape[axis]);
        if (scale === 1 && outShape[axis] === inShape[axis]) continue;
        data = resizeAxis(data, shape, axis, outShape[axis], scale, a);
        shape[axis] = outShape[axis];
      }
      return [{ dtype: 'float32', shape, data: Float32Array.from(data) }];
    },
  }),

  Where: defineOp<NoAttrs>({
    summary: 'condition ? X : Y elementwise, all three broadcast',
    types: ['float32', 'int64'],
    inputs: [
      { name: 'condition', type: 'bool' },
      { name: 'X', type: 'T' },
      { name: 'Y', type: 'T' },
    ],
    outputCount: one,
    infer: ([c, x, y]) => [{ dtype: x!.dtype, shape: broadcastDims([c!.shape, x!.shape, y!.shape], ['condition', 'X', 'Y']) }],
    emit: single('Where'),
    vjp: (e, { ins: [c, x, y], inInfos: [, xi, yi], outInfos: [out], grads: [g], wants }) => {
      // The condition only routes: each branch gets g where it was chosen, zero elsewhere.
      const zero = floatConst(e, 0, 'zero');
      return [
        undefined,
        wants[1] ? unbroadcast(e, put(e, 'Where', [c, g!, zero]), out.shape, x, xi!) : undefined,
        wants[2] ? unbroadcast(e, put(e, 'Where', [c, zero, g!]), out.shape, y, yi!) : undefined,
      ];
    },
    reference: ([c, x, y]) => {
      const shape = broadcastConcrete([c!.shape, x!.shape, y!.shape]) ?? fail('Where: shapes do not broadcast');
      const [ic, ix, iy] = [c!, x!, y!].map((t) => broadcastIndex(shape, t.shape));
      const [cd, xd, yd] = [c!, x!, y!].map(toNumbers);
      const out = new Float64Array(ic.length);
      for (let i = 0; i < out.length; i++) out[i] = cd[ic[i]] ? xd[ix[i]] : yd[iy[i]];
      return [fromNumbers(x!.dtype, shape, out)];
    },
  }),

  Expand: defineOp<NoAttrs>({
    summary: 'broadcasts data to `shape` (numpy rules in both directions)',
    types: ALL_TYPES,
    inputs: [
      { name: 'input', type: 'T' },
      { name: 'shape', type: 'int64' },
    ],
    outputCount: one,
    infer: ([x, shapeIn]) => {
      const len = vectorLength(shapeIn!, 'Expand shape');
      const target = shapeIn!.content;
      if (!target) return [{ dtype: x!.dtype, shape: typeof len === 'number' ? new Array<Dim>(Math.max(len, x!.shape.length)).fill(null) : fail('Expand shape must have a known length') }];
      return [{ dtype: x!.dtype, shape: broadcastDims([x!.shape, target], ['input', 'shape']) }];
    },
    emit: single('Expand'),
    vjp: (e, { ins: [x], inInfos: [xi], outInfos: [y], grads: [g] }) => [unbroadcast(e, g!, y.shape, x, xi!), undefined],
    reference: ([x, shapeIn]) => {
      const shape = broadcastConcrete([x!.shape, intsOf(shapeIn!)]) ?? fail('Expand: shapes do not broadcast');
      return [pick(x!, shape, broadcastIndex(shape, x!.shape))];
    },
  }),

  Constant: defineOp<{ value: HostTensor }>({
    summary: 'a constant tensor',
    inputs: [],
    outputCount: one,
    infer: (_, attrs) => [{ dtype: attrs.value.dtype, shape: [...attrs.value.shape], content: contentOf(attrs.value) }],
    emit: single<{ value: HostTensor }>('Constant', (a) => ({ value: { tensor: a.value } })),
    reference: (_, attrs) => [attrs.value],
  }),

  Shape: defineOp<{ start?: number; end?: number }>({
    summary: "the input's shape as an int64 vector (dims start..end−1)",
    types: ALL_TYPES,
    inputs: [{ name: 'data', type: 'T' }],
    outputCount: one,
    infer: ([x], attrs) => {
      const rank = x!.shape.length;
      const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
      const dims = x!.shape.slice(clamp(attrs.start ?? 0), clamp(attrs.end ?? rank));
      return [{ dtype: 'int64', shape: [dims.length], content: dims }];
    },
    emit: single<{ start?: number; end?: number }>('Shape', (a) => ({
      start: a.start === undefined ? undefined : { int: a.start },
      end: a.end === undefined ? undefined : { int: a.end },
    })),
    reference: ([x], attrs) => {
      const rank = x!.shape.length;
      const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
      const dims = x!.shape.slice(clamp(attrs.start ?? 0), clamp(attrs.end ?? rank));
      return [int64(dims, [dims.length])];
    },
  }),

  Identity: defineOp<NoAttrs>({
    summary: 'the input unchanged (gives one value a second name)',
    types: ALL_TYPES,
    inputs: [{ name: 'input', type: 'T' }],
    outputCount: one,
    infer: ([x]) => [{ dtype: x!.dtype, shape: x!.shape, content: x!.content }],
    emit: single('Identity'),
    vjp: (_, { grads: [g] }) => [g],
    reference: ([x]) => [x!],
  }),
};

export type OpName = keyof typeof OPS;
export type AttrsOf<K extends OpName> = (typeof OPS)[K] extends OpDef<infer A> ? A : never;
