/**
 * The segment router of SignBind-LLM §3.4: pooled backbone features → MLP → logits over {sign, fingerspell, rest};
 * soft probabilities (inference) or a Gumbel-softmax sample (training) become the weights r_sign, r_fs, r_null that
 * gate the manual experts in fusion.
 */
import { add, dotMultiply, erf, map, matrix, multiply, transpose, type Matrix } from 'mathjs';
import { SignweaveInputError } from '../errors.js';
import type { Sequence } from '../types.js';
import { mulberry32 } from '../util/random.js';
import { argmax, checkTau, gumbelSoftmax, softmaxRows, type RouterEngine } from './gumbel.js';
import { checkFeatures, checkPoolingOptions, poolSegments, type PoolingOptions, type Segment } from './pooling.js';
import { erf as erfApprox } from '../graph/ops.js';

export const ROUTER_CLASSES = ['sign', 'fingerspell', 'rest'] as const;
export type RouterClass = (typeof ROUTER_CLASSES)[number];

/** A fully connected layer, PyTorch `nn.Linear` layout: `weights` row-major `[out, in]`, y = W·x + b. */
export interface LinearLayer {
  weights: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
}

/** `gelu` is the exact erf form (PyTorch `nn.GELU()` default, ONNX `Gelu`), not the tanh approximation. */
export type Activation = 'relu' | 'gelu';

/**
 * Seeded layers for demo bundles and tests, initialised like PyTorch's `nn.Linear`: weights and biases uniform in
 * (−1/√in, 1/√in). `sizes` = [input, hidden…, output].
 */
export function initLinearLayers(sizes: readonly number[], seed: number): LinearLayer[] {
  if (sizes.length < 2) throw new SignweaveInputError(`router: sizes needs an input and an output size, got [${sizes.join(', ')}]`);
  for (const n of sizes) if (!Number.isInteger(n) || n < 1) throw new SignweaveInputError(`router: layer sizes must be integers ≥ 1, got ${n}`);
  const rand = mulberry32(seed);
  return sizes.slice(1).map((out, i) => {
    const n = sizes[i];
    const bound = 1 / Math.sqrt(n);
    const uniform = (): number => (2 * rand() - 1) * bound;
    return { weights: Float32Array.from({ length: out * n }, uniform), bias: Float32Array.from({ length: out }, uniform), in: n, out };
  });
}

// The loop engine's GELU uses the op table's erf (Numerical Recipes' erfc fit, fractional error < 1.2e-7); mathjs's
// `erf` is exact to double precision, so the two GELUs differ by < 1e-7·|x|, well inside the engines' 1e-6 agreement.

/** A multilayer perceptron: the activation between layers, none after the last (it emits logits). */
export class Mlp {
  readonly layers: readonly LinearLayer[];
  readonly activation: Activation;
  /** Per layer Wᵀ `[in, out]` and the bias `[out]` as mathjs matrices, built once: inputs multiply on the left. */
  private readonly mathLayers: { wt: Matrix; bias: Matrix }[];

  constructor(layers: readonly LinearLayer[], activation: Activation = 'gelu') {
    if (layers.length === 0) throw new SignweaveInputError('router: layers must hold at least one layer');
    if (activation !== 'relu' && activation !== 'gelu') throw new SignweaveInputError(`router: activation must be 'relu' or 'gelu', got '${activation}'`);
    layers.forEach((layer, i) => {
      const field = `layers[${i}]`;
      if (!Number.isInteger(layer.in) || layer.in < 1 || !Number.isInteger(layer.out) || layer.out < 1) {
        throw new SignweaveInputError(`router: ${field}.in and .out must be integers ≥ 1, got ${layer.in} and ${layer.out}`);
      }
      if (layer.weights.length !== layer.in * layer.out) {
        throw new SignweaveInputError(`router: ${field}.weights has ${layer.weights.length} values, [out ${layer.out}, in ${layer.in}] needs ${layer.in * layer.out}`);
      }
      if (layer.bias.length !== layer.out) throw new SignweaveInputError(`router: ${field}.bias has ${layer.bias.length} values, out is ${layer.out}`);
      if (!layer.weights.every(Number.isFinite) || !layer.bias.every(Number.isFinite)) {
        throw new SignweaveInputError(`router: ${field} holds a non-finite weight or bias`);
      }
      if (i > 0 && layers[i - 1].out !== layer.in) {
        throw new SignweaveInputError(`router: ${field}.in is ${layer.in} but layers[${i - 1}].out is ${layers[i - 1].out}`);
      }
    });
    this.layers = layers;
    this.activation = activation;
    this.mathLayers = layers.map((layer) => {
      const w = Array.from({ length: layer.out }, (_, o) => Array.from(layer.weights.subarray(o * layer.in, (o + 1) * layer.in)));
      return { wt: transpose(matrix(w, 'dense', 'number')), bias: matrix(Array.from(layer.bias), 'dense', 'number') };
    });
  }

  get inputSize(): number {
    return this.layers[0].in;
  }

  get outputSize(): number {
    return this.layers[this.layers.length - 1].out;
  }

  /** The outputs of `rows` input rows (`x` row-major `[rows, in]`), one array per row. */
  forward(x: Float32Array, rows: number, engine: RouterEngine = 'mathjs'): number[][] {
    if (x.length !== rows * this.inputSize) {
      throw new SignweaveInputError(`router: MLP input has ${x.length} values, [${rows}, ${this.inputSize}] needs ${rows * this.inputSize}`);
    }
    if (rows === 0) return [];
    return engine === 'mathjs' ? this.forwardMathjs(x, rows) : this.forwardLoop(x, rows);
  }

  private forwardMathjs(x: Float32Array, rows: number): number[][] {
    const D = this.inputSize;
    let h: Matrix = matrix(
      Array.from({ length: rows }, (_, r) => Array.from(x.subarray(r * D, (r + 1) * D))),
      'dense',
      'number',
    );
    this.mathLayers.forEach(({ wt, bias }, i) => {
      h = add(multiply(h, wt), bias);
      if (i === this.mathLayers.length - 1) return;
      // GELU(x) = x · (1 + erf(x/√2)) / 2
      h = this.activation === 'relu' ? map(h, (v: number) => (v > 0 ? v : 0)) : dotMultiply(h, map(erf(multiply(h, Math.SQRT1_2)), (e: number) => (1 + e) / 2));
    });
    return h.toArray() as number[][];
  }

  private forwardLoop(x: Float32Array, rows: number): number[][] {
    // one array type in the hot loop keeps its element loads monomorphic; plain for-loops keep `h` out of a closure
    let h: Float64Array = Float64Array.from(x);
    const last = this.layers.length - 1;
    for (let i = 0; i <= last; i++) {
      h = linearLoop(h, rows, this.layers[i]);
      if (i === last) break;
      if (this.activation === 'relu') for (let j = 0; j < h.length; j++) h[j] = h[j] > 0 ? h[j] : 0;
      else for (let j = 0; j < h.length; j++) h[j] = 0.5 * h[j] * (1 + erfApprox(h[j] * Math.SQRT1_2));
    }
    const out = this.outputSize;
    return Array.from({ length: rows }, (_, r) => Array.from(h.subarray(r * out, (r + 1) * out)));
  }
}

/** y = x·Wᵀ + b over `rows` rows, accumulated in float64. */
function linearLoop(x: Float64Array, rows: number, layer: LinearLayer): Float64Array {
  const { weights, bias, in: n, out } = layer;
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    const xo = r * n;
    for (let o = 0; o < out; o++) {
      const wo = o * n;
      let s = bias[o];
      for (let k = 0; k < n; k++) s += weights[wo + k] * x[xo + k];
      y[r * out + o] = s;
    }
  }
  return y;
}

export interface RouterConfig<L extends string = RouterClass> {
  /** MLP layers; the first takes the feature dimension D, the last emits one logit per class. */
  layers: readonly LinearLayer[];
  activation?: Activation;
  /** Class names in logit order (default sign, fingerspell, rest — the r_sign, r_fs, r_null of fusion). */
  classes?: readonly L[];
  /** Segment length in frames, or 'sequence' for one segment per video (default 16). */
  window?: number | 'sequence';
  /** Frames between segment starts, ≤ window (default window / 2, rounded up). */
  hop?: number;
  /** Default 'mathjs'; 'loop' computes the same with plain loops. */
  engine?: RouterEngine;
}

export interface RouteOptions {
  /** 'inference': deterministic, weights = softmax(logits). 'train': weights = a Gumbel-softmax sample. */
  mode: 'inference' | 'train';
  /** Gumbel-softmax temperature (train mode; default 1). */
  tau?: number;
  /** Seed of the Gumbel noise; required in train mode, so a training step repeats exactly. */
  seed?: number;
  /** Train mode: straight-through one-hot weights (the gradient path is the soft sample's). */
  hard?: boolean;
}

export interface RouterDecision<L extends string = RouterClass> {
  segment: Segment;
  logits: number[];
  /** softmax(logits). */
  probs: number[];
  /** The routing weights fusion uses, in class order: `probs` in inference, the Gumbel sample's value in training. */
  weights: number[];
  /** Inference: argmax of the logits. Train: the sampled class (argmax of the Gumbel sample). */
  label: L;
  /** probs[label]: the model's probability of the chosen class. */
  confidence: number;
  /** Train mode only: the soft and one-hot Gumbel samples, both needed for the straight-through gradient. */
  sample?: { soft: number[]; hard: number[] };
}

/** Per-frame routing weights, row-major `[T, classes]`. */
export interface FrameWeights<L extends string = RouterClass> {
  data: Float32Array;
  shape: [number, number];
  classes: readonly L[];
}

export class Router<L extends string = RouterClass> {
  readonly mlp: Mlp;
  readonly classes: readonly L[];
  readonly pooling: PoolingOptions;
  readonly engine: RouterEngine;

  constructor(config: RouterConfig<L>) {
    this.mlp = new Mlp(config.layers, config.activation);
    this.classes = config.classes ?? (ROUTER_CLASSES as unknown as readonly L[]);
    if (this.classes.length < 2 || new Set(this.classes).size !== this.classes.length) {
      throw new SignweaveInputError(`router: classes must be at least two distinct names, got [${this.classes.join(', ')}]`);
    }
    if (this.mlp.outputSize !== this.classes.length) {
      throw new SignweaveInputError(`router: the last layer emits ${this.mlp.outputSize} logits but classes has ${this.classes.length} names`);
    }
    const window = config.window ?? 16;
    this.pooling = window === 'sequence' ? { window } : { window, hop: config.hop ?? Math.ceil(window / 2) };
    checkPoolingOptions(this.pooling);
    this.engine = config.engine ?? 'mathjs';
    if (this.engine !== 'mathjs' && this.engine !== 'loop') throw new SignweaveInputError(`router: engine must be 'mathjs' or 'loop', got '${this.engine}'`);
  }

  /** One decision per segment of `features` (`[T, D]` backbone features, D = the MLP's input size). */
  route(features: Sequence, options: RouteOptions): RouterDecision<L>[] {
    checkFeatures(features);
    if (features.shape[1] !== this.mlp.inputSize) {
      throw new SignweaveInputError(`router: features.shape[1] (feature dim) is ${features.shape[1]} but the MLP takes ${this.mlp.inputSize}`);
    }
    if (options.mode !== 'inference' && options.mode !== 'train') throw new SignweaveInputError(`router: mode must be 'inference' or 'train', got '${options.mode}'`);
    const tau = options.tau ?? 1;
    checkTau(tau);
    let rng: (() => number) | undefined;
    if (options.mode === 'train') {
      if (options.seed === undefined || !Number.isFinite(options.seed)) throw new SignweaveInputError(`router: seed is required in train mode, got ${options.seed}`);
      rng = mulberry32(options.seed);
    }

    const pooled = poolSegments(features, this.pooling);
    const logits = this.mlp.forward(pooled.data, pooled.segments.length, this.engine);
    logits.forEach((row, s) => {
      if (!row.every(Number.isFinite)) {
        const { startFrame, endFrame } = pooled.segments[s];
        throw new SignweaveInputError(`router: non-finite logits for frames ${startFrame}..${endFrame} (are the features finite?)`);
      }
    });
    const probs = softmaxRows(logits, this.engine);
    return pooled.segments.map((segment, s) => {
      if (rng === undefined) {
        const label = argmax(logits[s], this.engine);
        return { segment, logits: logits[s], probs: probs[s], weights: probs[s], label: this.classes[label], confidence: probs[s][label] };
      }
      const sample = gumbelSoftmax(logits[s], { tau, rng, hard: options.hard, engine: this.engine });
      return {
        segment,
        logits: logits[s],
        probs: probs[s],
        weights: sample.value,
        label: this.classes[sample.index],
        confidence: probs[s][sample.index],
        sample: { soft: sample.soft, hard: sample.hard },
      };
    });
  }

  /** `frameWeights` with this router's class names. */
  frameWeights(decisions: readonly RouterDecision<L>[], T: number): FrameWeights<L> {
    return frameWeights(decisions, T, this.classes);
  }
}

/**
 * Spreads segment decisions over frames: row t is the mean of the weights of every segment covering frame t
 * (overlapping windows are averaged, each with equal say). Each segment's weights sum to 1, so each row does too.
 * A frame no segment covers is an error: fusion needs a weight for every frame.
 */
export function frameWeights<L extends string>(decisions: readonly RouterDecision<L>[], T: number, classes: readonly L[]): FrameWeights<L> {
  if (!Number.isInteger(T) || T < 1) throw new SignweaveInputError(`router: T must be an integer ≥ 1, got ${T}`);
  const C = classes.length;
  const sums = new Float64Array(T * C);
  const counts = new Uint32Array(T);
  decisions.forEach(({ segment, weights }, s) => {
    if (weights.length !== C) throw new SignweaveInputError(`router: decisions[${s}].weights has ${weights.length} values, classes has ${C}`);
    const { startFrame, endFrame } = segment;
    if (!Number.isInteger(startFrame) || !Number.isInteger(endFrame) || startFrame < 0 || endFrame < startFrame || endFrame >= T) {
      throw new SignweaveInputError(`router: decisions[${s}].segment frames ${startFrame}..${endFrame} are not inside 0..${T - 1}`);
    }
    for (let t = startFrame; t <= endFrame; t++) {
      counts[t]++;
      for (let c = 0; c < C; c++) sums[t * C + c] += weights[c];
    }
  });
  const uncovered = counts.indexOf(0);
  if (uncovered !== -1) throw new SignweaveInputError(`router: frame ${uncovered} is covered by no decision`);
  const data = new Float32Array(T * C);
  for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) data[t * C + c] = sums[t * C + c] / counts[t];
  return { data, shape: [T, C], classes };
}
