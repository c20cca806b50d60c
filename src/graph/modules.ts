/**
 * Module builders: the layers signweave's light networks are made of, written with the op table's primitives so the
 * same definition gives the inference graph and (later) the training graph.
 *
 * Conventions:
 * - A module is created with a name; its parameters are named `<name>.<part>` (`enc.0.attn.q.weight`) and listed
 *   in `params` with shape and initialisation, so trainers and bundle exporters can enumerate them.
 * - `apply(g, x, …)` adds the module to a graph and returns its output. Sequences are `[T, d]` or `[B, T, d]`
 *   (time on the second-to-last axis, features last, as in signweave's `Sequence`); dims may be symbolic.
 * - Input dims are checked when the graph is built; errors name the module and both dims.
 * - Initialisation follows PyTorch's defaults (documented per module); weights given to the `GraphBuilder` by
 *   parameter name replace it.
 * - Linear weights are stored `[in, out]` (y = x·W + b): the transpose of PyTorch's `nn.Linear.weight`.
 */
import { SignweaveInputError } from '../errors.js';
import type { GraphBuilder, Init, ParamSpec, Value } from './builder.js';
import { float32, formatShape } from './tensor.js';

export type Activation = 'relu' | 'gelu' | 'gelu-tanh' | 'tanh' | 'sigmoid';

export interface Module<Args extends unknown[] = []> {
  /** What kind of module it is ('linear', 'multiHeadAttention', …), for error messages. */
  readonly kind: string;
  readonly name: string;
  /** Every parameter of the module and its sub-modules: full name, shape, initialisation. */
  readonly params: readonly ParamSpec[];
  apply(g: GraphBuilder, x: Value, ...args: Args): Value;
}

/** The additive attention bias of padded keys: float32's lowest value, so a fully padded row stays finite. */
const MASKED = -3.4028234663852886e38;

function moduleError(m: { kind: string; name: string }, message: string): SignweaveInputError {
  return new SignweaveInputError(`${m.kind} '${m.name}': ${message}`);
}

/** Fails when a known dim differs from what the module was built for. */
function expectDim(m: { kind: string; name: string }, x: Value, axis: number, expected: number, what: string): void {
  const d = x.shape.at(axis);
  if (typeof d === 'number' && d !== expected) {
    throw moduleError(m, `input ${x.describe()} has ${axis === -1 ? 'last dimension' : `dimension ${axis}`} ${d}, but ${what} is ${expected}`);
  }
}

function expectRank(m: { kind: string; name: string }, x: Value, ranks: number[], layout: string): void {
  if (!ranks.includes(x.rank)) throw moduleError(m, `input ${x.describe()} has rank ${x.rank}; ${layout} expected`);
}

function checkPositive(m: { kind: string; name: string }, values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v < 1) throw moduleError(m, `${k} must be a positive integer, got ${v}`);
  }
}

export function activate(g: GraphBuilder, x: Value, activation: Activation): Value {
  switch (activation) {
    case 'relu':
      return g.relu(x);
    case 'gelu':
      return g.gelu(x, 'none');
    case 'gelu-tanh':
      return g.gelu(x, 'tanh');
    case 'tanh':
      return g.tanh(x);
    case 'sigmoid':
      return g.sigmoid(x);
  }
}

const uniform = (bound: number): Init => ({ kind: 'uniform', bound });
const zeros: Init = { kind: 'constant', value: 0 };
const ones: Init = { kind: 'constant', value: 1 };

// ---------------------------------------------------------------------------------------------------------------

export interface LinearOptions {
  bias?: boolean;
  /** Default U(±1/√in), PyTorch's kaiming_uniform(a=√5) on nn.Linear. */
  weightInit?: Init;
  /** Default U(±1/√in), as PyTorch. */
  biasInit?: Init;
}

/** y = x·W + b over the last axis: `[..., in]` → `[..., out]`. Parameters `weight` [in, out], `bias` [out]. */
export class Linear implements Module {
  readonly kind = 'linear';
  readonly weight: ParamSpec;
  readonly bias: ParamSpec | undefined;

  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    checkPositive(this, { in_features: inFeatures, out_features: outFeatures });
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = { name: `${name}.weight`, shape: [inFeatures, outFeatures], init: options.weightInit ?? uniform(bound) };
    this.bias = options.bias === false ? undefined : { name: `${name}.bias`, shape: [outFeatures], init: options.biasInit ?? uniform(bound) };
  }

  get params(): ParamSpec[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  apply(g: GraphBuilder, x: Value): Value {
    if (x.rank < 1) throw moduleError(this, `input ${x.describe()} is a scalar`);
    expectDim(this, x, -1, this.inFeatures, 'in_features');
    return g.scope(this.name, () => {
      const y = g.matmul(x, g.parameter(this.weight, this));
      return this.bias ? g.add(y, g.parameter(this.bias, this)) : y;
    });
  }
}

export function linear(name: string, inFeatures: number, outFeatures: number, options?: LinearOptions): Linear {
  return new Linear(name, inFeatures, outFeatures, options);
}

export interface MlpOptions {
  /** Between layers (default 'relu'). */
  activation?: Activation;
  /** Also after the last layer (default false). */
  finalActivation?: boolean;
  bias?: boolean;
}

/** Linear layers `<name>.0`, `<name>.1`, … through `dims` = [in, hidden…, out], with an activation between them. */
export class Mlp implements Module {
  readonly kind = 'mlp';
  readonly layers: Linear[];

  constructor(
    readonly name: string,
    readonly dims: readonly number[],
    readonly options: MlpOptions = {},
  ) {
    if (dims.length < 2) throw moduleError(this, `needs at least [in, out] dims, got [${dims.join(', ')}]`);
    this.layers = dims.slice(1).map((d, i) => new Linear(`${name}.${i}`, dims[i], d, { bias: options.bias }));
  }

  get params(): ParamSpec[] {
    return this.layers.flatMap((l) => l.params);
  }

  apply(g: GraphBuilder, x: Value): Value {
    expectDim(this, x, -1, this.dims[0], 'its input size');
    const act = this.options.activation ?? 'relu';
    return g.scope(this.name, () =>
      this.layers.reduce((h, layer, i) => {
        const y = layer.apply(g, h);
        return i < this.layers.length - 1 || this.options.finalActivation ? activate(g, y, act) : y;
      }, x),
    );
  }
}

export function mlp(name: string, dims: readonly number[], options?: MlpOptions): Mlp {
  return new Mlp(name, dims, options);
}

/** Layer normalisation over the last axis (ε default 1e-5). Parameters `weight` [d] = 1, `bias` [d] = 0, as PyTorch. */
export class LayerNorm implements Module {
  readonly kind = 'layerNorm';
  readonly weight: ParamSpec;
  readonly bias: ParamSpec;

  constructor(
    readonly name: string,
    readonly d: number,
    readonly epsilon = 1e-5,
  ) {
    checkPositive(this, { d });
    this.weight = { name: `${name}.weight`, shape: [d], init: ones };
    this.bias = { name: `${name}.bias`, shape: [d], init: zeros };
  }

  get params(): ParamSpec[] {
    return [this.weight, this.bias];
  }

  apply(g: GraphBuilder, x: Value): Value {
    if (x.rank < 1) throw moduleError(this, `input ${x.describe()} is a scalar`);
    expectDim(this, x, -1, this.d, 'the normalised size');
    return g.scope(this.name, () => g.layerNormalization(x, g.parameter(this.weight, this), g.parameter(this.bias, this), { axis: -1, epsilon: this.epsilon }));
  }
}

export function layerNorm(name: string, d: number, options: { epsilon?: number } = {}): LayerNorm {
  return new LayerNorm(name, d, options.epsilon);
}

/** Vaswani et al.'s table: PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)). */
export function sinusoidalTable(maxLen: number, d: number): Float32Array {
  const table = new Float32Array(maxLen * d);
  for (let p = 0; p < maxLen; p++) {
    for (let i = 0; i < d; i += 2) {
      const angle = p / 10000 ** (i / d);
      table[p * d + i] = Math.sin(angle);
      if (i + 1 < d) table[p * d + i + 1] = Math.cos(angle);
    }
  }
  return table;
}

/**
 * Adds a position embedding to `[T, d]` or `[B, T, d]`: rows 0..T−1 of a `[maxLen, d]` table, T read from the input
 * at run time. `learned` (default): parameter `weight` [maxLen, d] ~ N(0, 0.02²), the BERT/ViT convention.
 * `sinusoidal`: the fixed Vaswani table, no parameters. A static T above maxLen is a build error; a longer input at
 * run time fails in ONNX Runtime (the table has no rows for it).
 */
export class PositionalEmbedding implements Module {
  readonly kind = 'positionalEmbedding';
  readonly table: ParamSpec | undefined;

  constructor(
    readonly name: string,
    readonly maxLen: number,
    readonly d: number,
    readonly type: 'learned' | 'sinusoidal' = 'learned',
  ) {
    checkPositive(this, { maxLen, d });
    this.table = type === 'learned' ? { name: `${name}.weight`, shape: [maxLen, d], init: { kind: 'normal', std: 0.02 } } : undefined;
  }

  get params(): ParamSpec[] {
    return this.table ? [this.table] : [];
  }

  apply(g: GraphBuilder, x: Value): Value {
    expectRank(this, x, [2, 3], '[T, d] or [B, T, d]');
    expectDim(this, x, -1, this.d, 'd');
    const t = x.shape[x.rank - 2];
    if (typeof t === 'number' && t > this.maxLen) throw moduleError(this, `input ${x.describe()} has ${t} time steps, more than maxLen ${this.maxLen}`);
    return g.scope(this.name, () => {
      const table = this.table ? g.parameter(this.table, this) : g.constant(float32(sinusoidalTable(this.maxLen, this.d), [this.maxLen, this.d]));
      const rows = g.slice(table, { starts: [0], ends: g.shapeOf(x, x.rank - 2, x.rank - 1), axes: [0] });
      return g.add(x, rows);
    });
  }
}

export function positionalEmbedding(name: string, maxLen: number, d: number, options: { type?: 'learned' | 'sinusoidal' } = {}): PositionalEmbedding {
  return new PositionalEmbedding(name, maxLen, d, options.type);
}

export interface AttentionInputs {
  /** Keys and values `[S, d]` / `[B, S, d]` for cross-attention (default: the query itself, self-attention). */
  keyValue?: Value;
  /** bool `[S]` / `[B, S]`, true where a key is padding and must get no attention (PyTorch's key_padding_mask). */
  keyPaddingMask?: Value;
}

/**
 * Multi-head scaled dot-product attention from primitives: Q/K/V projections, split into heads, softmax(QKᵀ/√dₕ + mask)
 * V, heads merged, output projection. Parameters `q`, `k`, `v`, `out` (each `weight` [d, d], `bias` [d]); Q/K/V
 * weights are Xavier-uniform over PyTorch's stacked [3d, d] in_proj (bound √(6/4d)), the output weight is nn.Linear's
 * default, all biases start at 0 — as nn.MultiheadAttention.
 */
export class MultiHeadAttention implements Module<[inputs?: AttentionInputs]> {
  readonly kind = 'multiHeadAttention';
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;
  readonly headDim: number;

  constructor(
    readonly name: string,
    readonly d: number,
    readonly heads: number,
    options: { bias?: boolean } = {},
  ) {
    checkPositive(this, { d, heads });
    if (d % heads !== 0) throw moduleError(this, `d = ${d} does not divide into ${heads} heads`);
    this.headDim = d / heads;
    const inProj = { weightInit: uniform(Math.sqrt(6 / (4 * d))), biasInit: zeros, bias: options.bias };
    this.q = new Linear(`${name}.q`, d, d, inProj);
    this.k = new Linear(`${name}.k`, d, d, inProj);
    this.v = new Linear(`${name}.v`, d, d, inProj);
    this.out = new Linear(`${name}.out`, d, d, { biasInit: zeros, bias: options.bias });
  }

  get params(): ParamSpec[] {
    return [this.q, this.k, this.v, this.out].flatMap((l) => l.params);
  }

  apply(g: GraphBuilder, x: Value, inputs: AttentionInputs = {}): Value {
    expectRank(this, x, [2, 3], 'query [T, d] or [B, T, d]');
    expectDim(this, x, -1, this.d, 'd');
    const kv = inputs.keyValue ?? x;
    if (kv !== x) {
      if (kv.rank !== x.rank) throw moduleError(this, `keys/values ${kv.describe()} and query ${x.describe()} differ in rank`);
      expectDim(this, kv, -1, this.d, 'd');
      if (x.rank === 3 && typeof x.shape[0] === 'number' && typeof kv.shape[0] === 'number' && x.shape[0] !== kv.shape[0]) {
        throw moduleError(this, `query ${x.describe()} and keys/values ${kv.describe()} have different batch sizes`);
      }
    }
    const mask = inputs.keyPaddingMask;
    if (mask) {
      if (mask.dtype !== 'bool') throw moduleError(this, `key padding mask ${mask.describe()} is ${mask.dtype}; bool expected (true = padding)`);
      const expected = kv.shape.slice(0, -1);
      const mismatch = mask.rank !== expected.length || mask.shape.some((dim, i) => typeof dim === 'number' && typeof expected[i] === 'number' && dim !== expected[i]);
      if (mismatch) throw moduleError(this, `key padding mask ${mask.describe()} does not match the keys ${kv.describe()}: ${formatShape(expected)} expected`);
    }
    return g.scope(this.name, () => {
      if (x.rank === 2) {
        const batched = this.attend(g, g.unsqueeze(x, [0]), kv === x ? undefined : g.unsqueeze(kv, [0]), mask && g.unsqueeze(mask, [0]));
        return g.squeeze(batched, [0]);
      }
      return this.attend(g, x, kv === x ? undefined : kv, mask);
    });
  }

  /** [B, T, d] query, optional [B, S, d] keys/values, optional [B, S] mask → [B, T, d]. */
  private attend(g: GraphBuilder, x: Value, kvIn: Value | undefined, mask: Value | undefined): Value {
    const kv = kvIn ?? x;
    const { heads, headDim } = this;
    const split = (t: Value, perm: number[]): Value => g.transpose(g.reshape(t, [0, 0, heads, headDim]), perm);
    const q = split(this.q.apply(g, x), [0, 2, 1, 3]); // [B, h, T, dh]
    const k = split(this.k.apply(g, kv), [0, 2, 3, 1]); // [B, h, dh, S]
    const v = split(this.v.apply(g, kv), [0, 2, 1, 3]); // [B, h, S, dh]
    let scores = g.matmul(g.mul(q, 1 / Math.sqrt(headDim)), k); // [B, h, T, S]
    if (mask) scores = g.add(scores, g.unsqueeze(g.where(mask, MASKED, 0), [1, 2]));
    const context = g.matmul(g.softmax(scores, -1), v); // [B, h, T, dh]
    const merged = g.reshape(g.transpose(context, [0, 2, 1, 3]), [0, 0, this.d]);
    return this.out.apply(g, merged);
  }
}

export function multiHeadAttention(name: string, d: number, heads: number, options?: { bias?: boolean }): MultiHeadAttention {
  return new MultiHeadAttention(name, d, heads, options);
}

export interface TransformerEncoderLayerOptions {
  /** 'post' (default, PyTorch's norm_first=False): x = norm(x + f(x)); 'pre': x = x + f(norm(x)). */
  norm?: 'pre' | 'post';
  /** Feed-forward activation (default 'relu', as PyTorch). */
  activation?: Activation;
  /** LayerNorm ε (default 1e-5). */
  epsilon?: number;
}

/**
 * PyTorch's nn.TransformerEncoderLayer at inference (no dropout): self-attention `attn`, feed-forward `ff1` (d → ff),
 * `ff2` (ff → d), norms `norm1` (attention block) and `norm2` (feed-forward block).
 */
export class TransformerEncoderLayer implements Module<[inputs?: { keyPaddingMask?: Value }]> {
  readonly kind = 'transformerEncoderLayer';
  readonly attn: MultiHeadAttention;
  readonly ff1: Linear;
  readonly ff2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;

  constructor(
    readonly name: string,
    readonly d: number,
    readonly heads: number,
    readonly ff: number,
    readonly options: TransformerEncoderLayerOptions = {},
  ) {
    this.attn = new MultiHeadAttention(`${name}.attn`, d, heads);
    this.ff1 = new Linear(`${name}.ff1`, d, ff);
    this.ff2 = new Linear(`${name}.ff2`, ff, d);
    this.norm1 = new LayerNorm(`${name}.norm1`, d, options.epsilon);
    this.norm2 = new LayerNorm(`${name}.norm2`, d, options.epsilon);
  }

  get params(): ParamSpec[] {
    return [...this.attn.params, ...this.ff1.params, ...this.ff2.params, ...this.norm1.params, ...this.norm2.params];
  }

  apply(g: GraphBuilder, x: Value, inputs: { keyPaddingMask?: Value } = {}): Value {
    expectRank(this, x, [2, 3], '[T, d] or [B, T, d]');
    expectDim(this, x, -1, this.d, 'd');
    const act = this.options.activation ?? 'relu';
    const attention = (h: Value): Value => this.attn.apply(g, h, { keyPaddingMask: inputs.keyPaddingMask });
    const feedForward = (h: Value): Value => this.ff2.apply(g, activate(g, this.ff1.apply(g, h), act));
    return g.scope(this.name, () => {
      if (this.options.norm === 'pre') {
        const h = g.add(x, attention(this.norm1.apply(g, x)));
        return g.add(h, feedForward(this.norm2.apply(g, h)));
      }
      const h = this.norm1.apply(g, g.add(x, attention(x)));
      return this.norm2.apply(g, g.add(h, feedForward(h)));
    });
  }
}

export function transformerEncoderLayer(name: string, d: number, heads: number, ff: number, options?: TransformerEncoderLayerOptions): TransformerEncoderLayer {
  return new TransformerEncoderLayer(name, d, heads, ff, options);
}

export interface Conv1dOptions {
  stride?: number;
  /** Zeros added on both sides, `[left, right]`, or 'same' (stride 1: output length = input length). Default 0. */
  padding?: number | [number, number] | 'same';
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

/**
 * 1-D convolution over time: `[T, in]` / `[B, T, in]` → `[T′, out]` / `[B, T′, out]`, T′ = ⌊(T + pads − dilation·(k−1) − 1)
 * / stride⌋ + 1. Parameters `weight` [out, in/groups, k] (PyTorch's layout), `bias` [out], both U(±1/√(in/groups·k)) as
 * nn.Conv1d.
 */
export class Conv1d implements Module {
  readonly kind = 'conv1d';
  readonly weight: ParamSpec;
  readonly bias: ParamSpec | undefined;
  readonly stride: number;
  readonly dilation: number;
  readonly groups: number;
  readonly pads: [number, number];

  constructor(
    readonly name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    options: Conv1dOptions = {},
  ) {
    this.stride = options.stride ?? 1;
    this.dilation = options.dilation ?? 1;
    this.groups = options.groups ?? 1;
    checkPositive(this, { in_channels: inChannels, out_channels: outChannels, kernel, stride: this.stride, dilation: this.dilation, groups: this.groups });
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) throw moduleError(this, `channels ${inChannels} → ${outChannels} do not divide into ${this.groups} groups`);
    const padding = options.padding ?? 0;
    if (padding === 'same') {
      if (this.stride !== 1) throw moduleError(this, "padding 'same' needs stride 1");
      const total = this.dilation * (kernel - 1);
      this.pads = [Math.floor(total / 2), total - Math.floor(total / 2)];
    } else {
      this.pads = typeof padding === 'number' ? [padding, padding] : [padding[0], padding[1]];
      if (!this.pads.every((p) => Number.isInteger(p) && p >= 0)) throw moduleError(this, `padding must be non-negative integers, got ${JSON.stringify(padding)}`);
    }
    const bound = 1 / Math.sqrt((inChannels / this.groups) * kernel);
    this.weight = { name: `${name}.weight`, shape: [outChannels, inChannels / this.groups, kernel], init: uniform(bound) };
    this.bias = options.bias === false ? undefined : { name: `${name}.bias`, shape: [outChannels], init: uniform(bound) };
  }

  get params(): ParamSpec[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  apply(g: GraphBuilder, x: Value): Value {
    expectRank(this, x, [2, 3], '[T, channels] or [B, T, channels]');
    expectDim(this, x, -1, this.inChannels, 'in_channels');
    const t = x.shape[x.rank - 2];
    const span = this.dilation * (this.kernel - 1) + 1;
    if (typeof t === 'number' && t + this.pads[0] + this.pads[1] < span) {
      throw moduleError(this, `input ${x.describe()} has ${t} time steps, fewer than the kernel span ${span} after padding`);
    }
    return g.scope(this.name, () => {
      const batched = x.rank === 2 ? g.unsqueeze(x, [0]) : x;
      const y = g.conv(g.transpose(batched, [0, 2, 1]), g.parameter(this.weight, this), this.bias && g.parameter(this.bias, this), {
        strides: [this.stride],
        pads: this.pads,
        dilations: [this.dilation],
        group: this.groups,
      });
      const out = g.transpose(y, [0, 2, 1]);
      return x.rank === 2 ? g.squeeze(out, [0]) : out;
    });
  }
}

export function conv1d(name: string, inChannels: number, outChannels: number, kernel: number, options?: Conv1dOptions): Conv1d {
  return new Conv1d(name, inChannels, outChannels, kernel, options);
}

export type UpsampleTarget = { factor: number } | { length: number } | 'like';

export interface TemporalUpsampleOptions {
  /** 'nearest' = PyTorch's 'nearest' (source ⌊t·T/T′⌋); 'linear' (default) = PyTorch's linear interpolation. */
  mode?: 'nearest' | 'linear';
  /** Linear only: PyTorch's align_corners=True (end frames map to end frames). Default false. */
  alignCorners?: boolean;
}

/**
 * Resamples the time axis of `[T, C]` / `[B, T, C]`: by a factor (T′ = ⌊T·factor⌋), to a fixed length, or (`'like'`)
 * to the time length of a second value given to `apply` — e.g. the lip stream brought to the manual stream's frames.
 * No parameters.
 */
export class TemporalUpsample implements Module<[like?: Value]> {
  readonly kind = 'temporalUpsample';
  readonly params: ParamSpec[] = [];

  constructor(
    readonly name: string,
    readonly target: UpsampleTarget,
    readonly options: TemporalUpsampleOptions = {},
  ) {
    if (typeof target === 'object' && 'factor' in target && !(target.factor > 0)) throw moduleError(this, `factor must be positive, got ${target.factor}`);
    if (typeof target === 'object' && 'length' in target) checkPositive(this, { length: target.length });
    if (options.alignCorners && options.mode === 'nearest') throw moduleError(this, 'alignCorners applies to linear mode only');
  }

  apply(g: GraphBuilder, x: Value, like?: Value): Value {
    expectRank(this, x, [2, 3], '[T, C] or [B, T, C]');
    if ((this.target === 'like') !== (like !== undefined)) throw moduleError(this, this.target === 'like' ? "target 'like' needs the value whose length to match" : 'a length reference is only taken with target "like"');
    if (like && like.rank < 2) throw moduleError(this, `length reference ${like.describe()} has no time axis (rank ≥ 2 expected)`);
    const axis = x.rank - 2;
    const attrs =
      this.options.mode === 'nearest'
        ? ({ mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } as const)
        : ({ mode: 'linear', coordinate_transformation_mode: this.options.alignCorners ? 'align_corners' : 'half_pixel' } as const);
    return g.scope(this.name, () => {
      if (typeof this.target === 'object' && 'factor' in this.target) {
        return g.resize(x, { scales: x.shape.map((_, a) => (a === axis ? (this.target as { factor: number }).factor : 1)) }, attrs);
      }
      const length = like ? g.shapeOf(like, like.rank - 2, like.rank - 1) : g.ints([(this.target as { length: number }).length]);
      const parts = [...(axis > 0 ? [g.shapeOf(x, 0, axis)] : []), length, g.shapeOf(x, axis + 1)];
      return g.resize(x, { sizes: g.concat(parts, 0) }, attrs);
    });
  }
}

export function temporalUpsample(name: string, target: UpsampleTarget, options?: TemporalUpsampleOptions): TemporalUpsample {
  return new TemporalUpsample(name, target, options);
}
