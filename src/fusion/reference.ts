/**
 * The fusion forward pass (SignBind-LLM §3.4) in plain TypeScript loops, written from the equations rather than from
 * the op table: the independent ground truth the ONNX graph of `graphs.ts` is tested against, and a readable
 * statement of what each fusion computes. Math is float64 on the float32 weights; only the lip resampling
 * coordinates are rounded to float32, as ONNX Runtime computes them, so nearest-neighbour picks the same frame.
 */
import { SignweaveInputError } from '../errors.js';
import { erf } from '../graph/ops.js';
import { sinusoidalTable } from '../graph/modules.js';
import { RENORM_EPSILON, resolveFusionConfig, type FusionConfig, type ResolvedFusionConfig } from './config.js';
import { checkFusionInputs, type FusionInputs } from './inputs.js';

export interface ReferenceFusionResult {
  T: number;
  /** M [T, d]: the router-gated manual stream (step 3). */
  manual: Float64Array;
  /** L′ [T, d]: the projected lip stream upsampled to T and shifted; null without lips. */
  lipsAligned: Float64Array | null;
  /** g [T, d] of the gated fusions; null otherwise. */
  gate: Float64Array | null;
  /** The fused stream [T, d] before the positional embedding and encoder. */
  fused: Float64Array;
  /** Pseudo-gloss logits [T, V]. */
  logits: Float64Array;
}

type Weights = Record<string, Float32Array>;

function param(w: Weights, name: string, size: number): Float32Array {
  const p = w[name];
  if (!p) throw new SignweaveInputError(`fusion reference: weight '${name}' is missing`);
  if (p.length !== size) throw new SignweaveInputError(`fusion reference: weight '${name}' has ${p.length} values, ${size} expected`);
  return p;
}

/** y = x·W + b, W stored [in, out] as the graph's Linear. */
function linear(w: Weights, name: string, x: ArrayLike<number>, rows: number, inF: number, outF: number): Float64Array {
  const W = param(w, `${name}.weight`, inF * outF);
  const b = param(w, `${name}.bias`, outF);
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b[o];
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * W[i * outF + o];
      y[r * outF + o] = s;
    }
  }
  return y;
}

function softmaxRows(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, x[r * cols + c]);
    let z = 0;
    for (let c = 0; c < cols; c++) z += y[r * cols + c] = Math.exp(x[r * cols + c] - max);
    for (let c = 0; c < cols; c++) y[r * cols + c] /= z;
  }
  return y;
}

function layerNorm(w: Weights, name: string, x: ArrayLike<number>, rows: number, d: number): Float64Array {
  const scale = param(w, `${name}.weight`, d);
  const bias = param(w, `${name}.bias`, d);
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i] / d;
    let variance = 0;
    for (let i = 0; i < d; i++) variance += (x[r * d + i] - mean) ** 2 / d;
    const inv = 1 / Math.sqrt(variance + 1e-5);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i] - mean) * inv * scale[i] + bias[i];
  }
  return y;
}

/** nn.MultiheadAttention (no mask): queries `q` [T, d] over keys/values `kv` [S, d]. */
function attention(w: Weights, name: string, q: ArrayLike<number>, T: number, kv: ArrayLike<number>, S: number, d: number, heads: number): Float64Array {
  const Q = linear(w, `${name}.q`, q, T, d, d);
  const K = linear(w, `${name}.k`, kv, S, d, d);
  const V = linear(w, `${name}.v`, kv, S, d, d);
  const dh = d / heads;
  const context = new Float64Array(T * d);
  const scores = new Float64Array(S);
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < T; t++) {
      let max = -Infinity;
      for (let s = 0; s < S; s++) {
        let dot = 0;
        for (let j = 0; j < dh; j++) dot += Q[t * d + h * dh + j] * K[s * d + h * dh + j];
        scores[s] = dot / Math.sqrt(dh);
        max = Math.max(max, scores[s]);
      }
      let z = 0;
      for (let s = 0; s < S; s++) z += scores[s] = Math.exp(scores[s] - max);
      for (let j = 0; j < dh; j++) {
        let acc = 0;
        for (let s = 0; s < S; s++) acc += scores[s] * V[s * d + h * dh + j];
        context[t * d + h * dh + j] = acc / z;
      }
    }
  }
  return linear(w, `${name}.out`, context, T, d, d);
}

function add(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: a.length }, (_, i) => a[i] + b[i]);
}

/** nn.TransformerEncoderLayer at inference (post- or pre-norm, ReLU or exact GELU). */
function encoderLayer(w: Weights, name: string, x: Float64Array, c: ResolvedFusionConfig, T: number): Float64Array {
  const { d, ff } = c;
  const act = c.activation === 'relu' ? (v: number): number => Math.max(v, 0) : (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
  const selfAttention = (h: Float64Array): Float64Array => attention(w, `${name}.attn`, h, T, h, T, d, c.heads);
  const feedForward = (h: Float64Array): Float64Array => linear(w, `${name}.ff2`, linear(w, `${name}.ff1`, h, T, d, ff).map(act), T, ff, d);
  if (c.norm === 'pre') {
    const h = add(x, selfAttention(layerNorm(w, `${name}.norm1`, x, T, d)));
    return add(h, feedForward(layerNorm(w, `${name}.norm2`, h, T, d)));
  }
  const h = layerNorm(w, `${name}.norm1`, add(x, selfAttention(x)), T, d);
  return layerNorm(w, `${name}.norm2`, add(h, feedForward(h)), T, d);
}

/** Resamples [Tin, C] to [Tout, C]: PyTorch's linear (align_corners=False, half-pixel) or nearest (floor). */
function upsample(x: Float64Array, Tin: number, C: number, Tout: number, mode: 'linear' | 'nearest'): Float64Array {
  const f = Math.fround;
  const scale = f(Tout / Tin);
  const y = new Float64Array(Tout * C);
  for (let t = 0; t < Tout; t++) {
    let i0: number;
    let i1: number;
    let frac: number;
    if (mode === 'nearest') {
      i0 = i1 = Math.min(Math.floor(f(t / scale)), Tin - 1);
      frac = 0;
    } else {
      const src = Math.min(Math.max(f(f(f(t + 0.5) / scale) - 0.5), 0), Tin - 1);
      i0 = Math.floor(src);
      i1 = Math.min(i0 + 1, Tin - 1);
      frac = src - i0;
    }
    for (let k = 0; k < C; k++) y[t * C + k] = x[i0 * C + k] * (1 - frac) + x[i1 * C + k] * frac;
  }
  return y;
}

/** y[t] = x[clamp(t − k, 0, T − 1)]: the fixed lip shift with edge padding. */
function shift(x: Float64Array, T: number, C: number, k: number): Float64Array {
  const y = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    const src = Math.min(Math.max(t - k, 0), T - 1);
    y.set(x.subarray(src * C, (src + 1) * C), t * C);
  }
  return y;
}

/** g = σ(W[a; b] + bias), fused = g⊙a + (1−g)⊙b. */
function gateMix(w: Weights, name: string, a: Float64Array, b: Float64Array, T: number, d: number): { fused: Float64Array; gate: Float64Array } {
  const joined = new Float64Array(T * 2 * d);
  for (let t = 0; t < T; t++) {
    joined.set(a.subarray(t * d, (t + 1) * d), t * 2 * d);
    joined.set(b.subarray(t * d, (t + 1) * d), t * 2 * d + d);
  }
  const gate = linear(w, name, joined, T, 2 * d, d).map((v) => 1 / (1 + Math.exp(-v)));
  return { fused: Float64Array.from(gate, (g, i) => g * a[i] + (1 - g) * b[i]), gate };
}

/**
 * The fusion forward pass for `config` with the model's `weights` (e.g. `buildFusionModel(…).weights()`), every
 * fusion type, ablation and encoder depth.
 */
export function referenceFusion(config: FusionConfig, weights: Weights, inputs: FusionInputs): ReferenceFusionResult {
  const c = resolveFusionConfig(config);
  const x = checkFusionInputs(c, inputs);
  const { T } = x;
  const { d } = c;
  const project = (name: string, data: Float32Array, rows: number, width: number): Float64Array =>
    layerNorm(weights, `proj.${name}.norm`, linear(weights, `proj.${name}`, c.softmaxInputs ? softmaxRows(data, rows, width) : data, rows, width, d), rows, d);

  // Steps 1 and 3: M = r_sign·S′ + r_fs·F′ + r_null·n (r renormalised over sign and rest without fingerspelling).
  const sign = project('sign', x.sign, T, c.inputs.sign);
  const fingerspell = x.fingerspell && project('fingerspell', x.fingerspell, T, c.inputs.fingerspell!);
  const nullVector = param(weights, 'null_vector', d);
  const manual = new Float64Array(T * d);
  for (let t = 0; t < T; t++) {
    let [rSign, rFs, rNull] = [x.router[3 * t], x.router[3 * t + 1], x.router[3 * t + 2]];
    if (!fingerspell) {
      const total = rSign + rNull + RENORM_EPSILON;
      [rSign, rFs, rNull] = [rSign / total, 0, rNull / total];
    }
    for (let i = 0; i < d; i++) manual[t * d + i] = rSign * sign[t * d + i] + rNull * nullVector[i] + (fingerspell ? rFs * fingerspell[t * d + i] : 0);
  }

  // Step 2: L′ at the manual frame rate, optionally shifted.
  let lipsAligned: Float64Array | null = null;
  if (x.lips) {
    lipsAligned = upsample(project('lips', x.lips, x.lipT, c.inputs.lips!), x.lipT, d, T, c.upsample);
    if (c.lipAlignment !== 'learned') lipsAligned = shift(lipsAligned, T, d, c.lipAlignment.shift);
  }

  // Step 4.
  let fused: Float64Array = manual;
  let gate: Float64Array | null = null;
  if (lipsAligned) {
    const l = lipsAligned;
    switch (c.type) {
      case 'gated':
        ({ fused, gate } = gateMix(weights, 'gate', manual, l, T, d));
        break;
      case 'concat-mlp': {
        const joined = new Float64Array(T * 2 * d);
        for (let t = 0; t < T; t++) {
          joined.set(manual.subarray(t * d, (t + 1) * d), t * 2 * d);
          joined.set(l.subarray(t * d, (t + 1) * d), t * 2 * d + d);
        }
        const hidden = linear(weights, 'mix.0', joined, T, 2 * d, c.mlpHidden).map((v) => Math.max(v, 0));
        fused = linear(weights, 'mix.1', hidden, T, c.mlpHidden, d);
        break;
      }
      case 'cross-attention':
        fused = layerNorm(weights, 'cross.norm', add(manual, attention(weights, 'cross.attn', manual, T, l, T, d, c.heads)), T, d);
        break;
      case 'cmfa': {
        const m = layerNorm(weights, 'cmfa.manual_norm', add(manual, attention(weights, 'cmfa.manual_to_lips', manual, T, l, T, d, c.heads)), T, d);
        const lp = layerNorm(weights, 'cmfa.lips_norm', add(l, attention(weights, 'cmfa.lips_to_manual', l, T, manual, T, d, c.heads)), T, d);
        ({ fused, gate } = gateMix(weights, 'cmfa.gate', m, lp, T, d));
        break;
      }
    }
  }

  // Steps 5 and 6.
  let h: Float64Array = fused;
  if (c.layers > 0) {
    if (T > c.maxLen) throw new SignweaveInputError(`fusion reference: ${T} frames, more than fusion.maxLen ${c.maxLen}`);
    const table = c.positional === 'learned' ? param(weights, 'pos.weight', c.maxLen * d) : sinusoidalTable(c.maxLen, d);
    h = Float64Array.from(h, (v, i) => v + table[i]);
    for (let i = 0; i < c.layers; i++) h = encoderLayer(weights, `encoder.${i}`, h, c, T);
  }
  return { T, manual, lipsAligned, gate, fused, logits: linear(weights, 'head', h, T, d, c.vocabSize) };
}
