/**
 * A typed ONNX graph builder. Values carry their dtype and inferred shape (static numbers, symbols such as 'B' and
 * 'T', or unknown), so every op and module checks its inputs when the graph is built and names the mismatching dims.
 * Parameters are float32 initializers, initialised from a seed or taken from a record of trained weights by name.
 *
 * ```ts
 * const g = new GraphBuilder({ seed: 1 });
 * const x = g.input('features', 'float32', ['B', 'T', 384]);
 * g.output(linear('head', 384, 10).apply(g, x), 'logits');
 * const model = g.build();              // OnnxModel: toBytes(), save(path), evaluateReference(feeds)
 * ```
 */
import { SignweaveInputError } from '../errors.js';
import { mulberry32 } from '../util/random.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { SIGNWEAVE_VERSION } from '../version.js';
import { IR_VERSION, OPS, OPSET, ShapeError, type AttrsOf, type ConvAttrs, type Emitter, type GemmAttrs, type LayerNormAttrs, type OnnxAttr, type OpDef, type OpName, type ResizeAttrs, type ValueInfo } from './ops.js';
import { attributeProto, encodeModel, tensorProto, valueInfoProto, type OnnxProto } from './proto.js';
import { float32, formatShape, int64, sizeOf, type DType, type Dim, type HostTensor, type TensorSpec } from './tensor.js';

/** A symbolic tensor in a graph under construction. */
export class Value {
  /** @internal */
  constructor(
    /** @internal */ readonly owner: GraphBuilder,
    private currentName: string,
    readonly info: ValueInfo,
    readonly kind: 'input' | 'parameter' | 'node',
  ) {}

  get name(): string {
    return this.currentName;
  }

  /** @internal the builder renames a node's value when it becomes a graph output */
  rename(name: string): void {
    this.currentName = name;
  }

  get dtype(): DType {
    return this.info.dtype;
  }

  get shape(): readonly Dim[] {
    return this.info.shape;
  }

  get rank(): number {
    return this.info.shape.length;
  }

  /** `'name' [B, T, 384]`, for error messages. */
  describe(): string {
    return `'${this.currentName}' ${formatShape(this.info.shape)}`;
  }
}

/** One op applied in the graph: the unit the reference interpreter evaluates and a backward pass will differentiate. */
export interface GraphNode {
  readonly op: OpName;
  readonly attrs: object;
  readonly inputs: readonly (Value | undefined)[];
  readonly outputs: readonly Value[];
  /** Unique node name, `scope/Op_n`. */
  readonly name: string;
}

/**
 * How a parameter is initialised when no trained weight is given. `uniform` draws U(−bound, bound), `normal` draws
 * N(0, std²) (Box–Muller), `constant` fills one value. Each parameter has its own mulberry32 stream, seeded from the
 * builder's seed and the parameter's name, so a parameter's initial values do not depend on what else the graph holds.
 */
export type Init = { kind: 'uniform'; bound: number } | { kind: 'normal'; std: number } | { kind: 'constant'; value: number };

export interface ParamSpec {
  /** Full parameter name, e.g. `encoder.0.attn.q.weight`. */
  name: string;
  shape: number[];
  init: Init;
}

export interface GraphBuilderOptions {
  /** Seed for parameters that are not in `weights` (default 0). */
  seed?: number;
  /** Trained parameters by name (e.g. from `readOnnxWeights` or a checkpoint). */
  weights?: Record<string, Float32Array>;
  /**
   * `'all'` (default): every parameter must be in `weights` and every entry of `weights` must be used, so a bundle
   * cannot silently run with half-random weights. `'partial'`: parameters missing from `weights` are initialised
   * from the seed (e.g. a new head on trained layers); unused entries are still an error.
   */
  weightsMode?: 'all' | 'partial';
  /** Graph name written into the model (default 'signweave'). */
  name?: string;
}

/** Attributes are optional exactly when the op has no required attribute. */
type AttrArgs<A> = Record<never, never> extends A ? [attrs?: A] : [attrs: A];

/** FNV-1a of the name mixed with the seed: the per-parameter PRNG seed. */
function paramSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function initialValues(spec: ParamSpec, seed: number): Float32Array {
  const n = sizeOf(spec.shape);
  const out = new Float32Array(n);
  const init = spec.init;
  if (init.kind === 'constant') return out.fill(init.value);
  const rng = mulberry32(paramSeed(seed, spec.name));
  for (let i = 0; i < n; i++) {
    if (init.kind === 'uniform') out[i] = (2 * rng() - 1) * init.bound;
    else out[i] = init.std * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  }
  return out;
}

interface ParamEntry {
  spec: ParamSpec;
  value: Value;
  data: Float32Array;
  owner: object | undefined;
}

export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private readonly params = new Map<string, ParamEntry>();
  private readonly names = new Set<string>();
  private readonly usedWeights = new Set<string>();
  private readonly seed: number;
  private counter = 0;
  private currentScope = '';

  constructor(private readonly options: GraphBuilderOptions = {}) {
    this.seed = options.seed ?? 0;
  }

  /** Runs `fn` with node names and error messages under `scope` (modules pass their full name). */
  scope<T>(scope: string, fn: () => T): T {
    const saved = this.currentScope;
    this.currentScope = scope;
    try {
      return fn();
    } finally {
      this.currentScope = saved;
    }
  }

  private claim(name: string, what: string): void {
    if (!name) throw new SignweaveInputError(`${what} needs a name`);
    if (this.names.has(name)) throw new SignweaveInputError(`${what} name '${name}' is already used in this graph`);
    this.names.add(name);
  }

  private fresh(hint: string): string {
    let name: string;
    do name = `${this.currentScope ? `${this.currentScope}/` : ''}${hint}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private own(v: Value | undefined, what: string): void {
    if (v && v.owner !== this) throw new SignweaveInputError(`${what}: value ${v.describe()} belongs to another graph`);
  }

  /** A graph input. Dims may be numbers or symbols ('B', 'T') bound at run time. */
  input(name: string, dtype: DType, shape: readonly (number | string)[]): Value {
    this.claim(name, 'graph input');
    const v = new Value(this, name, { dtype, shape: [...shape] }, 'input');
    this.inputs.push(v);
    return v;
  }

  /**
   * A float32 parameter. Values come from the builder's `weights` when present there (length-checked), else from
   * `spec.init`. Asking again for the same name from the same `owner` (a module applied twice) returns the same value;
   * from another owner it is an error, so two modules cannot share weights by accident of naming.
   */
  parameter(spec: ParamSpec, owner?: object): Value {
    const known = this.params.get(spec.name);
    if (known) {
      if (known.owner === owner && owner !== undefined && known.spec.shape.join() === spec.shape.join()) return known.value;
      throw new SignweaveInputError(`parameter '${spec.name}' is defined twice (give each module its own name)`);
    }
    this.claim(spec.name, 'parameter');
    const n = sizeOf(spec.shape);
    const given = this.options.weights?.[spec.name];
    let data: Float32Array;
    if (given) {
      if (!(given instanceof Float32Array)) throw new SignweaveInputError(`weight '${spec.name}' must be a Float32Array`);
      if (given.length !== n) {
        throw new SignweaveInputError(`weight '${spec.name}' has ${given.length} values, but the parameter has shape ${formatShape(spec.shape)} (${n} values)`);
      }
      data = given;
      this.usedWeights.add(spec.name);
    } else {
      if (this.options.weights && (this.options.weightsMode ?? 'all') === 'all') {
        throw new SignweaveInputError(`weight '${spec.name}' ${formatShape(spec.shape)} is missing from the given weights (weightsMode 'partial' initialises missing ones)`);
      }
      data = initialValues(spec, this.seed);
    }
    const value = new Value(this, spec.name, { dtype: 'float32', shape: [...spec.shape] }, 'parameter');
    this.params.set(spec.name, { spec: { ...spec, shape: [...spec.shape] }, value, data, owner });
    return value;
  }

  /** Applies one op of the table; checks input count and dtypes, infers output shapes (errors name scope and inputs). */
  op<K extends OpName>(op: K, inputs: readonly (Value | undefined)[], ...[attrs]: AttrArgs<AttrsOf<K>>): Value[] {
    const def = OPS[op] as unknown as OpDef<AttrsOf<K>>;
    const a = (attrs ?? {}) as AttrsOf<K>;
    const where = `${this.currentScope ? `${this.currentScope}: ` : ''}${op}`;
    inputs.forEach((v) => this.own(v, where));
    this.checkPorts(def, inputs, where);
    let infos: ValueInfo[];
    try {
      infos = def.infer(
        inputs.map((v) => v?.info),
        a,
      );
    } catch (err) {
      if (!(err instanceof ShapeError)) throw err;
      const shown = inputs.flatMap((v, i) => (v ? [`${portName(def, i)} = ${v.describe()}`] : [])).join(', ');
      throw new SignweaveInputError(`${where}: ${err.message}${shown ? ` (inputs: ${shown})` : ''}`);
    }
    const base = this.fresh(op);
    const outputs = infos.map((info, i) => new Value(this, i === 0 ? base : this.fresh(`${op}_out${i}`), info, 'node'));
    this.nodes.push({ op, attrs: a as object, inputs: [...inputs], outputs, name: base });
    return outputs;
  }

  private checkPorts(def: OpDef<unknown>, inputs: readonly (Value | undefined)[], where: string): void {
    const ports = def.inputs;
    const variadic = ports.length > 0 && ports[ports.length - 1].variadic;
    if (variadic ? inputs.length < ports.length : inputs.length > ports.length) {
      throw new SignweaveInputError(`${where}: takes ${variadic ? 'at least ' : 'at most '}${ports.length} inputs, got ${inputs.length}`);
    }
    let typeVar: DType | undefined;
    const allowed = def.types ?? ['float32'];
    inputs.forEach((v, i) => {
      const port = ports[Math.min(i, ports.length - 1)];
      if (!v) {
        if (!port.optional) throw new SignweaveInputError(`${where}: input ${port.name} is required`);
        return;
      }
      if (port.type === 'T') {
        if (!allowed.includes(v.dtype)) throw new SignweaveInputError(`${where}: input ${port.name} ${v.describe()} is ${v.dtype}; ${allowed.join(' or ')} expected`);
        if (typeVar && v.dtype !== typeVar) throw new SignweaveInputError(`${where}: input ${port.name} ${v.describe()} is ${v.dtype} but an earlier input is ${typeVar}`);
        typeVar = v.dtype;
      } else if (v.dtype !== port.type) {
        throw new SignweaveInputError(`${where}: input ${port.name} ${v.describe()} is ${v.dtype}; ${port.type} expected`);
      }
    });
    ports.forEach((p, i) => {
      if (!p.optional && !p.variadic && i >= inputs.length) throw new SignweaveInputError(`${where}: input ${p.name} is required`);
    });
  }

  /**
   * Marks a value as a graph output under `name` (default: its own name). An input, a parameter or a value that is
   * already an output is passed through an Identity node, which then needs a name.
   */
  output(v: Value, name?: string): Value {
    this.own(v, 'output');
    const reuse = v.kind === 'node' && !this.outputs.includes(v);
    if (!reuse && !name) throw new SignweaveInputError(`value ${v.describe()} is ${v.kind === 'node' ? 'already a graph output' : `a graph ${v.kind}`}: give this output its own name`);
    const out = reuse ? v : this.identity(v);
    if (name && name !== out.name) {
      this.claim(name, 'graph output');
      this.names.delete(out.name);
      out.rename(name);
    }
    this.outputs.push(out);
    return out;
  }

  /** Snapshot of the graph as a model; the builder may keep growing afterwards. */
  build(): OnnxModel {
    if (this.outputs.length === 0) throw new SignweaveInputError('the graph has no outputs');
    if (this.options.weights) {
      const unused = Object.keys(this.options.weights).filter((k) => !this.usedWeights.has(k));
      if (unused.length > 0) throw new SignweaveInputError(`given weights not used by any parameter: ${unused.slice(0, 10).join(', ')}${unused.length > 10 ? ` (+${unused.length - 10})` : ''}`);
    }
    return new OnnxModel(
      this.options.name ?? 'signweave',
      [...this.nodes],
      [...this.inputs],
      [...this.outputs],
      [...this.params.values()].map((p) => ({ spec: p.spec, value: p.value, data: p.data })),
    );
  }

  /** Parameters created so far, in creation order. */
  get parameters(): ParamSpec[] {
    return [...this.params.values()].map((p) => p.spec);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Constants and sugar over `op`

  constant(value: HostTensor): Value {
    return this.op('Constant', [], { value })[0];
  }

  /** A 0-D constant. */
  scalar(v: number, dtype: DType = 'float32'): Value {
    return this.constant(dtype === 'float32' ? float32([v], []) : dtype === 'int64' ? int64([v], []) : { dtype: 'bool', shape: [], data: Uint8Array.of(v ? 1 : 0) });
  }

  /** A 1-D int64 constant (shapes, axes, indices). */
  ints(values: readonly number[]): Value {
    return this.constant(int64(values, [values.length]));
  }

  private operand(v: Value | number, like: Value): Value {
    return typeof v === 'number' ? this.scalar(v, like.dtype) : v;
  }

  private intsOrValue(v: readonly number[] | Value): Value {
    return v instanceof Value ? v : this.ints(v);
  }

  matmul(a: Value, b: Value): Value {
    return this.op('MatMul', [a, b])[0];
  }
  gemm(a: Value, b: Value, c?: Value, attrs: GemmAttrs = {}): Value {
    return this.op('Gemm', [a, b, c], attrs)[0];
  }
  add(a: Value, b: Value | number): Value {
    return this.op('Add', [a, this.operand(b, a)])[0];
  }
  sub(a: Value, b: Value | number): Value {
    return this.op('Sub', [a, this.operand(b, a)])[0];
  }
  mul(a: Value, b: Value | number): Value {
    return this.op('Mul', [a, this.operand(b, a)])[0];
  }
  div(a: Value, b: Value | number): Value {
    return this.op('Div', [a, this.operand(b, a)])[0];
  }
  layerNormalization(x: Value, scale: Value, bias?: Value, attrs: LayerNormAttrs = {}): Value {
    return this.op('LayerNormalization', [x, scale, bias], attrs)[0];
  }
  softmax(x: Value, axis = -1): Value {
    return this.op('Softmax', [x], { axis })[0];
  }
  relu(x: Value): Value {
    return this.op('Relu', [x])[0];
  }
  sigmoid(x: Value): Value {
    return this.op('Sigmoid', [x])[0];
  }
  tanh(x: Value): Value {
    return this.op('Tanh', [x])[0];
  }
  gelu(x: Value, approximate: 'none' | 'tanh' = 'none'): Value {
    return this.op('Gelu', [x], { approximate })[0];
  }
  transpose(x: Value, perm?: number[]): Value {
    return this.op('Transpose', [x], { perm })[0];
  }
  /** `shape` entries: 0 copies the input dim, -1 is inferred. */
  reshape(x: Value, shape: readonly number[] | Value): Value {
    return this.op('Reshape', [x, this.intsOrValue(shape)])[0];
  }
  concat(xs: readonly Value[], axis: number): Value {
    return this.op('Concat', xs, { axis })[0];
  }
  /** Equal parts (`parts` a count) or the given sizes. */
  split(x: Value, parts: number | readonly number[], axis = 0): Value[] {
    return typeof parts === 'number' ? this.op('Split', [x], { axis, outputs: parts }) : this.op('Split', [x, this.ints(parts)], { axis, outputs: parts.length });
  }
  slice(x: Value, s: { starts: readonly number[] | Value; ends: readonly number[] | Value; axes?: readonly number[]; steps?: readonly number[] }): Value {
    return this.op('Slice', [x, this.intsOrValue(s.starts), this.intsOrValue(s.ends), s.axes && this.ints(s.axes), s.steps && this.ints(s.steps)])[0];
  }
  /** A number index drops the axis; an array keeps it. */
  gather(x: Value, indices: Value | number | readonly number[], axis = 0): Value {
    const idx = indices instanceof Value ? indices : typeof indices === 'number' ? this.scalar(indices, 'int64') : this.ints(indices);
    return this.op('Gather', [x, idx], { axis })[0];
  }
  unsqueeze(x: Value, axes: readonly number[]): Value {
    return this.op('Unsqueeze', [x, this.ints(axes)])[0];
  }
  squeeze(x: Value, axes?: readonly number[]): Value {
    return this.op('Squeeze', [x, axes && this.ints(axes)])[0];
  }
  reduceMean(x: Value, axes?: number[], keepdims = true): Value {
    return this.op('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 })[0];
  }
  conv(x: Value, w: Value, b?: Value, attrs: ConvAttrs = {}): Value {
    return this.op('Conv', [x, w, b], attrs)[0];
  }
  resize(x: Value, target: { scales: readonly number[] } | { sizes: readonly number[] | Value }, attrs: ResizeAttrs = {}): Value {
    if ('scales' in target) return this.op('Resize', [x, undefined, this.constant(float32(target.scales, [target.scales.length]))], attrs)[0];
    return this.op('Resize', [x, undefined, undefined, this.intsOrValue(target.sizes)], attrs)[0];
  }
  /** Numbers become scalars of the other branch's dtype (float32 when both are numbers). */
  where(condition: Value, x: Value | number, y: Value | number): Value {
    const dtype = x instanceof Value ? x.dtype : y instanceof Value ? y.dtype : 'float32';
    const branch = (v: Value | number): Value => (v instanceof Value ? v : this.scalar(v, dtype));
    return this.op('Where', [condition, branch(x), branch(y)])[0];
  }
  expand(x: Value, shape: readonly number[] | Value): Value {
    return this.op('Expand', [x, this.intsOrValue(shape)])[0];
  }
  /** The input's dims start..end−1 as an int64 vector (symbolic dims stay symbolic to shape inference). */
  shapeOf(x: Value, start?: number, end?: number): Value {
    return this.op('Shape', [x], { start, end })[0];
  }
  identity(x: Value): Value {
    return this.op('Identity', [x])[0];
  }
}

function portName(def: OpDef<unknown>, i: number): string {
  const ports = def.inputs;
  const p = ports[Math.min(i, ports.length - 1)];
  return p.variadic ? `${p.name}[${i - ports.length + 1}]` : p.name;
}

export interface ParameterInfo {
  name: string;
  shape: number[];
}

export interface ToBytesOptions {
  /**
   * `'initializers'` (default): weights are stored in the model, as bundles ship it. `'inputs'`: parameters become
   * graph inputs without data (a training graph feeds the current weights every step).
   */
  parametersAs?: 'initializers' | 'inputs';
  /** ONNX doc_string of the model. */
  docString?: string;
}

/** A built graph: ONNX bytes, the files it is saved to, and the plain-TypeScript evaluation it is checked against. */
export class OnnxModel {
  readonly opset = OPSET;
  readonly irVersion = IR_VERSION;

  /** @internal */
  constructor(
    readonly name: string,
    readonly nodes: readonly GraphNode[],
    private readonly inputValues: readonly Value[],
    private readonly outputValues: readonly Value[],
    private readonly params: readonly { spec: ParamSpec; value: Value; data: Float32Array }[],
  ) {}

  get inputs(): TensorSpec[] {
    return this.inputValues.map((v) => ({ name: v.name, dtype: v.dtype, shape: [...v.shape] }));
  }

  get outputs(): TensorSpec[] {
    return this.outputValues.map((v) => ({ name: v.name, dtype: v.dtype, shape: [...v.shape] }));
  }

  get parameters(): ParameterInfo[] {
    return this.params.map((p) => ({ name: p.spec.name, shape: [...p.spec.shape] }));
  }

  /** Copies of the parameter values by name (what a builder's `weights` option takes back). */
  weights(): Record<string, Float32Array> {
    return Object.fromEntries(this.params.map((p) => [p.spec.name, p.data.slice()]));
  }

  /** Total number of parameter values. */
  get parameterCount(): number {
    return this.params.reduce((s, p) => s + p.data.length, 0);
  }

  toProto(options: ToBytesOptions = {}): OnnxProto.IModelProto {
    const nodes: OnnxProto.INodeProto[] = [];
    const used = new Set<string>([...this.inputValues, ...this.params.map((p) => p.value)].map((v) => v.name));
    for (const n of this.nodes) for (const o of n.outputs) used.add(o.name);
    const unique = (hint: string): string => {
      let name = hint;
      for (let k = 1; used.has(name); k++) name = `${hint}_${k}`;
      used.add(name);
      return name;
    };
    for (const node of this.nodes) {
      let part = 0;
      const e: Emitter = {
        node: (opType, inputs, outputs, attrs) => {
          const attribute = Object.entries(attrs ?? {})
            .filter((entry): entry is [string, OnnxAttr] => entry[1] !== undefined)
            .map(([k, v]) => attributeProto(k, v));
          nodes.push({ name: part++ === 0 ? node.name : `${node.name}/${opType}_${part}`, opType, input: [...inputs], output: [...outputs], attribute });
        },
        temp: (hint) => unique(`${node.name}/${hint}`),
        constant: (value, hint) => {
          const out = unique(`${node.name}/${hint}`);
          nodes.push({ name: out, opType: 'Constant', input: [], output: [out], attribute: [attributeProto('value', { tensor: value })] });
          return out;
        },
      };
      const ins = node.inputs.map((v) => v?.name ?? '');
      while (ins.length > 0 && ins[ins.length - 1] === '') ins.pop();
      (OPS[node.op] as OpDef<object>).emit(
        e,
        ins,
        node.outputs.map((v) => v.name),
        node.attrs,
      );
    }
    const asInputs = options.parametersAs === 'inputs';
    const paramSpecs = this.params.map((p) => ({ name: p.spec.name, dtype: 'float32' as const, shape: p.spec.shape }));
    return {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'signweave',
      producerVersion: SIGNWEAVE_VERSION,
      docString: options.docString,
      graph: {
        name: this.name,
        node: nodes,
        input: [...this.inputValues.map((v) => valueInfoProto(v)), ...(asInputs ? paramSpecs.map(valueInfoProto) : [])],
        output: this.outputValues.map((v) => valueInfoProto(v)),
        initializer: asInputs ? [] : this.params.map((p) => tensorProto(p.spec.name, { dtype: 'float32', shape: p.spec.shape, data: p.data })),
      },
    };
  }

  /** The serialised ONNX model. */
  toBytes(options: ToBytesOptions = {}): Uint8Array {
    return encodeModel(this.toProto(options));
  }

  /** Writes the model atomically (readers see the old file or the whole new one). */
  save(path: string, options: ToBytesOptions = {}): void {
    writeFileAtomic(path, this.toBytes(options));
  }

  /**
   * Runs the graph with the op table's plain-TypeScript references — the ground truth ONNX Runtime is tested
   * against. Every intermediate shape is checked against what inference predicted (symbols bound consistently).
   * `weights` overrides parameter values by name (e.g. a training step's current weights).
   */
  evaluateReference(feeds: Record<string, HostTensor>, weights: Record<string, Float32Array> = {}): Record<string, HostTensor> {
    const env = new Map<Value, HostTensor>();
    const symbols = new Map<string, number>();
    const check = (v: Value, t: HostTensor): void => {
      const bad = (): never => {
        throw new Error(`reference: ${v.describe()} came out as ${formatShape(t.shape)}, not as inferred (bindings: ${JSON.stringify(Object.fromEntries(symbols))})`);
      };
      if (t.dtype !== v.dtype || t.shape.length !== v.rank) bad();
      v.shape.forEach((d, i) => {
        if (typeof d === 'number' && d !== t.shape[i]) bad();
        if (typeof d === 'string') {
          const bound = symbols.get(d);
          if (bound === undefined) symbols.set(d, t.shape[i]);
          else if (bound !== t.shape[i]) bad();
        }
      });
      env.set(v, t);
    };
    for (const v of this.inputValues) {
      const t = feeds[v.name];
      if (!t) throw new SignweaveInputError(`missing input '${v.name}' ${formatShape(v.shape)}`);
      if (t.dtype !== v.dtype || t.shape.length !== v.rank || v.shape.some((d, i) => typeof d === 'number' && d !== t.shape[i])) {
        throw new SignweaveInputError(`input '${v.name}' is ${t.dtype} ${formatShape(t.shape)}; ${v.dtype} ${formatShape(v.shape)} expected`);
      }
      check(v, t);
    }
    for (const p of this.params) env.set(p.value, { dtype: 'float32', shape: p.spec.shape, data: weights[p.spec.name] ?? p.data });
    for (const node of this.nodes) {
      const def = OPS[node.op] as OpDef<object>;
      const outs = def.reference(
        node.inputs.map((v) => (v ? env.get(v) : undefined)),
        node.attrs,
      );
      node.outputs.forEach((v, i) => check(v, outs[i]));
    }
    return Object.fromEntries(this.outputValues.map((v) => [v.name, env.get(v)!]));
  }
}
