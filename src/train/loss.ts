/**
 * Losses and training-time randomness computed in TypeScript on the outputs of a training graph (training.md): each
 * loss returns its value and the gradient w.r.t. the raw network outputs, which the backward graph takes as its seed.
 * - CTC (Graves et al. 2006) by log-space forward-backward in float64, with PyTorch's `ctc_loss` conventions.
 * - Cross-entropy with label smoothing and an ignore index (the router's segment classes), as PyTorch's.
 * - The straight-through Gumbel-softmax backward (the forward is src/router/gumbel.ts) and inverted-dropout masks.
 */
import { SignweaveInputError } from '../errors.js';
import { gumbelSoftmax, checkTau, type GumbelSample } from '../router/gumbel.js';

/** Raw network outputs, row-major (a float32 HostTensor from a session fits). */
export interface Float32Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

export type LossReduction = 'mean' | 'sum' | 'none';

export interface CtcLossOptions {
  /**
   * 'mean' (default, PyTorch's): each sample's loss divided by its target length (at least 1), then averaged over
   * the batch; 'sum': summed; 'none': one loss per sample. The gradient is that of the reduced loss (of the sum for 'none').
   */
  reduction?: LossReduction;
  /** Infeasible samples count as loss 0 (PyTorch's `zero_infinity`) instead of +∞. */
  zeroInfinity?: boolean;
  /** A [B, T, V] buffer to write the gradient into (reused across steps); a new one when absent. */
  grad?: Float32Array;
}

export interface CtcLossResult {
  /** The reduced loss, or with reduction 'none' each sample's −ln p(target | input). */
  loss: number | Float64Array;
  /** d loss / d logits, [B, T, V]; zero on frames at or beyond a sample's input length. */
  grad: Float32Array;
  /** Samples whose target needs more frames than their input length (labels plus a blank between repeats). */
  infeasible: number[];
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** Scratch buffers grown on demand and reused, so a training step allocates only the gradient. */
let logProbs = new Float64Array(0);
let alpha = new Float64Array(0);
let beta = new Float64Array(0);

function scratch(buffer: Float64Array<ArrayBuffer>, size: number): Float64Array<ArrayBuffer> {
  return buffer.length >= size ? buffer : new Float64Array(size);
}

function tensorDims(logits: Float32Tensor, what: string, rank: number): number[] {
  const { shape, data } = logits;
  if (shape.length !== rank || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new SignweaveInputError(`${what}: logits must have shape [${rank === 3 ? 'B, T, V' : 'N, C'}], got [${shape.join(', ')}]`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new SignweaveInputError(`${what}: logits hold ${data.length} values, shape [${shape.join(', ')}] needs ${size}`);
  return [...shape];
}

function gradBuffer(given: Float32Array | undefined, size: number, what: string): Float32Array {
  if (!given) return new Float32Array(size);
  if (given.length !== size) throw new SignweaveInputError(`${what}: the grad buffer holds ${given.length} values, the logits ${size}`);
  return given;
}

/** ln softmax of the `C` raw scores at `from` into `out` (float64); a non-finite score is an error saying where. */
/** The largest logit of a row, refusing non-finite ones. */
function rowMax(data: Float32Array, from: number, C: number, where: (c: number) => string): number {
  let max = -Infinity;
  for (let c = 0; c < C; c++) {
    const x = data[from + c];
    if (!Number.isFinite(x)) throw new SignweaveInputError(`${where(c)}: logit ${x} is not finite`);
    if (x > max) max = x;
  }
  return max;
}

/** The softmax of a row into `out`, one exp per logit (the cross-entropy's hot loop); returns log Σ exp. */
function softmaxRow(data: Float32Array, from: number, C: number, out: Float64Array, where: (c: number) => string): number {
  const max = rowMax(data, from, C, where);
  let sum = 0;
  for (let c = 0; c < C; c++) {
    const e = Math.exp(data[from + c] - max);
    out[c] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let c = 0; c < C; c++) out[c] *= inv;
  return max + Math.log(sum);
}

/** Frames a target needs: one per label plus a blank between equal neighbours. */
export function ctcMinFrames(target: readonly number[]): number {
  let n = target.length;
  for (let i = 1; i < target.length; i++) if (target[i] === target[i - 1]) n++;
  return n;
}

function checkCtcInputs(B: number, T: number, V: number, inputLengths: readonly number[], targets: readonly (readonly number[])[], blank: number): void {
  if (!Number.isInteger(blank) || blank < 0 || blank >= V) throw new SignweaveInputError(`CTC loss: blank ${blank} is out of range for V = ${V}`);
  if (inputLengths.length !== B || targets.length !== B) {
    throw new SignweaveInputError(`CTC loss: batch of ${B} logits but ${inputLengths.length} input lengths and ${targets.length} targets`);
  }
  for (let b = 0; b < B; b++) {
    const n = inputLengths[b];
    if (!Number.isInteger(n) || n < 0 || n > T) throw new SignweaveInputError(`CTC loss: sample ${b}: input length ${n} is not an integer in [0, ${T}]`);
    targets[b].forEach((label, i) => {
      if (!Number.isInteger(label) || label < 0 || label >= V || label === blank) {
        throw new SignweaveInputError(`CTC loss: sample ${b}: target[${i}] = ${label} is not a label id in [0, ${V}) other than the blank ${blank}`);
      }
    });
  }
}

/**
 * Batched CTC loss of raw scores `logits` [B, T, V] (log-softmax included) against `targets` (label ids, no blanks),
 * with the closed-form gradient softmax − posterior occupancy of each label per frame.
 */
export function ctcLoss(
  logits: Float32Tensor,
  inputLengths: readonly number[],
  targets: readonly (readonly number[])[],
  blank: number,
  options: CtcLossOptions = {},
): CtcLossResult {
  const [B, T, V] = tensorDims(logits, 'CTC loss', 3);
  checkCtcInputs(B, T, V, inputLengths, targets, blank);
  const reduction = options.reduction ?? 'mean';
  const grad = gradBuffer(options.grad, B * T * V, 'CTC loss');
  const losses = new Float64Array(B);
  const infeasible: number[] = [];
  const data = logits.data;
  for (let b = 0; b < B; b++) {
    const n = inputLengths[b];
    const target = targets[b];
    const base = b * T * V;
    grad.fill(0, base + n * V, base + T * V);
    if (n < ctcMinFrames(target)) {
      // No alignment exists: the loss is +∞ and no direction lowers it, so the sample contributes no gradient.
      infeasible.push(b);
      losses[b] = options.zeroInfinity ? 0 : Infinity;
      grad.fill(0, base, base + n * V);
      continue;
    }
    if (n === 0) continue; // the empty target over no frames: probability 1
    const scale = reduction === 'mean' ? 1 / (Math.max(target.length, 1) * B) : 1;
    losses[b] = ctcSample(data, base, n, V, target, blank, scale, grad, b);
  }
  let loss: number | Float64Array = losses;
  if (reduction !== 'none') {
    let sum = 0;
    for (let b = 0; b < B; b++) sum += reduction === 'mean' ? losses[b] / Math.max(targets[b].length, 1) : losses[b];
    loss = reduction === 'mean' ? sum / Math.max(B, 1) : sum;
  }
  return { loss, grad, infeasible };
}

/** −ln p(target) of one sample over its first `n` frames; writes scale · (softmax − occupancy) into its `grad` rows. */
function ctcSample(
  data: Float32Array,
  base: number,
  n: number,
  V: number,
  target: readonly number[],
  blank: number,
  scale: number,
  grad: Float32Array,
  b: number,
): number {
  const S = 2 * target.length + 1;
  const K = target.length + 1;
  // lp[t][k]: ln softmax of frame t at the blank (k = 0) and at target[k − 1], all the recursions read
  logProbs = scratch(logProbs, n * K);
  alpha = scratch(alpha, n * S);
  beta = scratch(beta, n * S);
  const lp = logProbs;
  for (let t = 0; t < n; t++) {
    const off = base + t * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) {
      const x = data[off + v];
      if (!Number.isFinite(x)) throw new SignweaveInputError(`CTC loss: sample ${b}, frame ${t}, label ${v}: logit ${x} is not finite`);
      if (x > max) max = x;
    }
    // exp(x − max) goes into the gradient row and becomes scale · softmax there: one exp per logit
    let sum = 0;
    for (let v = 0; v < V; v++) sum += grad[off + v] = Math.exp(data[off + v] - max);
    const toSoftmax = scale / sum;
    for (let v = 0; v < V; v++) grad[off + v] *= toSoftmax;
    const logZ = max + Math.log(sum);
    lp[t * K] = data[off + blank] - logZ;
    for (let k = 1; k < K; k++) lp[t * K + k] = data[off + target[k - 1]] - logZ;
  }
  // Extended labels l'(s): blanks at even s, target labels at odd s; s − 2 → s may skip a blank between different labels.
  const label = (s: number): number => (s & 1 ? target[s >> 1] : blank);
  const column = (s: number): number => (s & 1 ? (s >> 1) + 1 : 0);
  const canSkip = (s: number): boolean => s >= 2 && (s & 1) === 1 && target[s >> 1] !== target[(s >> 1) - 1];

  // alpha[t][s]: log-probability of the prefixes ending at (t, s), emission at t included.
  alpha.fill(-Infinity, 0, n * S);
  alpha[0] = lp[0];
  if (S > 1) alpha[1] = lp[1];
  for (let t = 1; t < n; t++) {
    const prev = (t - 1) * S;
    const cur = t * S;
    // Only states from which the end is still reachable and which are reachable from the start matter.
    const sFrom = Math.max(0, S - 2 * (n - t));
    const sTo = Math.min(S, 2 * (t + 1));
    for (let s = sFrom; s < sTo; s++) {
      let a = alpha[prev + s];
      if (s >= 1) a = logAddExp(a, alpha[prev + s - 1]);
      if (canSkip(s)) a = logAddExp(a, alpha[prev + s - 2]);
      alpha[cur + s] = a === -Infinity ? a : a + lp[t * K + column(s)];
    }
  }
  const last = (n - 1) * S;
  const logLik = S > 1 ? logAddExp(alpha[last + S - 1], alpha[last + S - 2]) : alpha[last];

  // beta[t][s]: log-probability of the suffixes after frame t given state s at t (emission at t excluded).
  beta.fill(-Infinity, 0, n * S);
  beta[last + S - 1] = 0;
  if (S > 1) beta[last + S - 2] = 0;
  for (let t = n - 2; t >= 0; t--) {
    const cur = t * S;
    const next = (t + 1) * S;
    const e = (t + 1) * K;
    const sFrom = Math.max(0, S - 2 * (n - t));
    const sTo = Math.min(S, 2 * (t + 1));
    for (let s = sFrom; s < sTo; s++) {
      let v = beta[next + s] + lp[e + column(s)];
      if (s + 1 < S) v = logAddExp(v, beta[next + s + 1] + lp[e + column(s + 1)]);
      if (s + 2 < S && canSkip(s + 2)) v = logAddExp(v, beta[next + s + 2] + lp[e + column(s + 2)]);
      beta[cur + s] = v;
    }
  }

  // d(−ln p)/d logit[t][v] = softmax[t][v] − Σ_{s: l'(s) = v} exp(alpha[t][s] + beta[t][s] − ln p); softmax is in place.
  for (let t = 0; t < n; t++) {
    const g = base + t * V;
    const cur = t * S;
    for (let s = 0; s < S; s++) {
      const occ = alpha[cur + s] + beta[cur + s];
      if (occ !== -Infinity) grad[g + label(s)] -= scale * Math.exp(occ - logLik);
    }
  }
  return -logLik;
}

// -----------------------------------------------------------------------------------------------------------------
// Cross-entropy

export interface CrossEntropyOptions {
  /** ε: the target distribution is (1 − ε) · one-hot + ε / C, as PyTorch's `label_smoothing` (default 0). */
  labelSmoothing?: number;
  /** Rows with this target add nothing to the loss or the mean's count (default −100, PyTorch's). */
  ignoreIndex?: number;
  /** 'mean' (default): over the rows not ignored (0 when all are); 'sum'. */
  reduction?: Exclude<LossReduction, 'none'>;
  /** An [N, C] buffer to write the gradient into. */
  grad?: Float32Array;
}

export interface CrossEntropyResult {
  loss: number;
  /** d loss / d logits, [N, C]; zero on ignored rows. */
  grad: Float32Array;
  /** Rows that counted (not ignored). */
  count: number;
}

/** Softmax cross-entropy of raw scores `logits` [N, C] against class ids `targets` [N]. */
export function crossEntropy(logits: Float32Tensor, targets: ArrayLike<number>, options: CrossEntropyOptions = {}): CrossEntropyResult {
  const [N, C] = tensorDims(logits, 'cross-entropy', 2);
  const eps = options.labelSmoothing ?? 0;
  const ignore = options.ignoreIndex ?? -100;
  if (!(eps >= 0 && eps <= 1)) throw new SignweaveInputError(`cross-entropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (targets.length !== N) throw new SignweaveInputError(`cross-entropy: ${N} rows of logits but ${targets.length} targets`);
  const grad = gradBuffer(options.grad, N * C, 'cross-entropy');
  grad.fill(0);
  logProbs = scratch(logProbs, C);
  const p = logProbs;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < N; i++) {
    const y = targets[i];
    if (y === ignore) continue;
    if (!Number.isInteger(y) || y < 0 || y >= C) {
      throw new SignweaveInputError(`cross-entropy: target ${i} = ${y} is not a class in [0, ${C}) nor the ignore index ${ignore}`);
    }
    const o = i * C;
    const logZ = softmaxRow(logits.data, o, C, p, (c) => `cross-entropy: row ${i}, class ${c}`);
    // −Σ q_c log p_c with q = (1 − ε) one-hot(y) + ε / C, and log p_c = x_c − log Z.
    let rowLoss = (1 - eps) * (logZ - logits.data[o + y]);
    if (eps > 0) {
      let all = 0;
      for (let c = 0; c < C; c++) all += logZ - logits.data[o + c];
      rowLoss += (eps / C) * all;
    }
    for (let c = 0; c < C; c++) grad[o + c] = p[c] - eps / C;
    grad[o + y] -= 1 - eps;
    sum += rowLoss;
    count++;
  }
  const mean = (options.reduction ?? 'mean') === 'mean';
  const scale = mean && count > 0 ? 1 / count : 1;
  if (scale !== 1) for (let i = 0; i < grad.length; i++) grad[i] *= scale;
  return { loss: sum * scale, grad, count };
}

// -----------------------------------------------------------------------------------------------------------------
// Gumbel-softmax (straight-through) and dropout

/** One Gumbel-softmax sample per row of `logits` [N, C], rows drawn in order from `rng` (src/router/gumbel.ts). */
export function gumbelSoftmaxRows(logits: Float32Tensor, options: { tau: number; rng: () => number; hard?: boolean }): GumbelSample[] {
  const [N, C] = tensorDims(logits, 'Gumbel-softmax', 2);
  const samples: GumbelSample[] = [];
  for (let i = 0; i < N; i++) samples.push(gumbelSoftmax(Array.from(logits.data.subarray(i * C, (i + 1) * C)), { ...options, engine: 'loop' }));
  return samples;
}

/**
 * The backward pass of Gumbel-softmax: given d loss / d value of each sample (`upstream`, [N, C]), d loss / d logits.
 * With `hard`, value = hard − stopgrad(soft) + soft (straight-through), so both cases flow through soft =
 * softmax((logits + g) / τ), whose vector-Jacobian product is soft ⊙ (u − ⟨u, soft⟩) / τ.
 */
export function gumbelSoftmaxBackward(samples: readonly GumbelSample[], upstream: ArrayLike<number>, tau: number, out?: Float32Array): Float32Array {
  checkTau(tau);
  const C = samples[0]?.soft.length ?? 0;
  if (upstream.length !== samples.length * C) {
    throw new SignweaveInputError(`Gumbel-softmax backward: ${samples.length} samples of ${C} classes but ${upstream.length} upstream gradients`);
  }
  const grad = gradBuffer(out, upstream.length, 'Gumbel-softmax backward');
  samples.forEach(({ soft }, i) => {
    const o = i * C;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += upstream[o + c] * soft[c];
    for (let c = 0; c < C; c++) grad[o + c] = (soft[c] * (upstream[o + c] - dot)) / tau;
  });
  return grad;
}

/**
 * An inverted-dropout mask of `size` values for a graph input: each 0 with probability `rate`, else 1 / (1 − rate),
 * so the expected activation is unchanged and inference needs no rescaling. Draws come from `rng` (mulberry32).
 */
export function dropoutMask(size: number, rate: number, rng: () => number, out?: Float32Array): Float32Array {
  if (!(rate >= 0 && rate < 1)) throw new SignweaveInputError(`dropout: rate must be in [0, 1), got ${rate}`);
  const mask = out ?? new Float32Array(size);
  if (mask.length !== size) throw new SignweaveInputError(`dropout: the mask buffer holds ${mask.length} values, ${size} needed`);
  const keep = 1 / (1 - rate);
  for (let i = 0; i < size; i++) mask[i] = rate === 0 || rng() >= rate ? keep : 0;
  return mask;
}
