/**
 * The fusion network of SignBind-LLM §3.4 as an ONNX graph:
 *
 * 1. S′, F′, L = the sign, fingerspelling and lip streams projected to d, each a linear map and a LayerNorm
 *    (`proj.<stream>`, `proj.<stream>.norm`): the streams meet the gate and the encoder's residual stream at one
 *    scale — without the norm, projected posteriors are ~0.03 in size, the encoder's sublayers drown them, and the
 *    gated and concatenation fusions stayed on the all-blank CTC plateau in the simulated ablations;
 * 2. L′ = L resampled from T′ to T frames (linear or nearest), optionally shifted by k frames (asynchrony ablation);
 * 3. M = r_sign·S′ + r_fs·F′ + r_null·n — the router-gated manual stream, n a learned null vector for rest;
 * 4. fused = the lip fusion of M and L′ (`gated`: g = σ(W[M; L′] + b), fused = g⊙M + (1−g)⊙L′; or an alternative);
 * 5. positional embedding + TransformerEncoder (when layers > 0);
 * 6. CTC head → pseudo-gloss logits [T, V].
 *
 * Inputs `sign` [T, Cs], `fingerspell` [T, Cf], `router` [T, 3], `lips` [T_lips, Cl] (only the streams the config
 * uses); T and T_lips are symbolic, so one model runs any length. Outputs `logits` [T, V] and, for the gated
 * fusions, `gate` [T, d].
 *
 * CMFA (SignFuse, "Cross-Modal Fusion Attention"): SignFuse describes CMFA as bidirectional cross-attention between
 * its two streams (visual and skeletal there; manual and lips here) that yields enriched representations of each,
 * merged by a learned gate. Read as: M̃ = LN(M + Attn(q = M, kv = L′)), L̃ = LN(L′ + Attn(q = L′, kv = M)),
 * g = σ(W[M̃; L̃] + b), fused = g⊙M̃ + (1−g)⊙L̃ — each direction a post-norm residual block as in a Transformer, and
 * the gate the same per-frame, per-dimension sigmoid gate as the paper's, so `gate` means the manual share in both.
 */
import { GraphBuilder, type OnnxModel, type Value } from '../graph/builder.js';
import { layerNorm, linear, mlp, multiHeadAttention, positionalEmbedding, temporalUpsample, transformerEncoderLayer } from '../graph/modules.js';
import { RENORM_EPSILON, resolveFusionConfig, type FusionConfig, type ResolvedFusionConfig } from './config.js';

/** Graph input and output names, and the symbolic time dims. */
export const FUSION_IO = {
  sign: 'sign',
  fingerspell: 'fingerspell',
  router: 'router',
  lips: 'lips',
  logits: 'logits',
  gate: 'gate',
  /** Intermediates (with `intermediates: true`): M, L′ after upsampling and shift, the fused stream before the encoder. */
  manual: 'manual',
  lipsAligned: 'lips_aligned',
  fused: 'fused',
  /** Training only: the dropout mask over the fused stream. */
  dropout: 'dropout',
  time: 'T',
  lipTime: 'T_lips',
} as const;

export interface BuildFusionOptions {
  /** Seed of the parameters not in `weights` (default 0). */
  seed?: number;
  /** Trained parameters by name (`proj.sign.weight`, `null_vector`, `gate.weight`, `encoder.0.attn.q.weight`, `head.bias`…). */
  weights?: Record<string, Float32Array>;
  /** As GraphBuilder's: 'all' (default) requires every parameter in `weights`. */
  weightsMode?: 'all' | 'partial';
  /** Also output `manual` (M), `lips_aligned` (L′) and `fused` [T, d], for inspection and tests. */
  intermediates?: boolean;
}

/**
 * Moves the time axis of `x` [T, d] by `k` frames, y[t] = x[clamp(t − k, 0, T − 1)]: k > 0 repeats the first frame
 * k times in front, k < 0 repeats the last frame behind; the result is cut back to T frames (T ≤ |k| gives all edge).
 */
function shiftFrames(g: GraphBuilder, x: Value, k: number): Value {
  if (k === 0) return x;
  const d = x.shape[1] as number;
  const shifted =
    k > 0
      ? g.concat([g.expand(g.slice(x, { starts: [0], ends: [1], axes: [0] }), [k, d]), g.slice(x, { starts: [0], ends: [-k], axes: [0] })], 0)
      : g.concat([g.slice(x, { starts: [-k], ends: [Number.MAX_SAFE_INTEGER], axes: [0] }), g.expand(g.slice(x, { starts: [-1], ends: [Number.MAX_SAFE_INTEGER], axes: [0] }), [-k, d])], 0);
  return g.slice(shifted, { starts: [0], ends: g.shapeOf(x, 0, 1), axes: [0] });
}

/** g⊙a + (1−g)⊙b. */
function gateMix(g: GraphBuilder, gate: Value, a: Value, b: Value): Value {
  return g.add(g.mul(gate, a), g.mul(g.sub(g.scalar(1), gate), b));
}

/** The lip fusion (step 4): the fused stream and, for the gated kinds, the gate. */
function fuseLips(g: GraphBuilder, c: ResolvedFusionConfig, m: Value, l: Value): { fused: Value; gate: Value | null } {
  const { d, heads } = c;
  switch (c.type) {
    case 'gated': {
      // §3.4: adaptive gate over the concatenated streams, per frame and per dimension.
      const gate = g.sigmoid(linear('gate', 2 * d, d).apply(g, g.concat([m, l], 1)));
      return { fused: gateMix(g, gate, m, l), gate };
    }
    case 'concat-mlp':
      return { fused: mlp('mix', [2 * d, c.mlpHidden, d]).apply(g, g.concat([m, l], 1)), gate: null };
    case 'cross-attention': {
      const attended = multiHeadAttention('cross.attn', d, heads).apply(g, m, { keyValue: l });
      return { fused: layerNorm('cross.norm', d).apply(g, g.add(m, attended)), gate: null };
    }
    case 'cmfa': {
      const manual = layerNorm('cmfa.manual_norm', d).apply(g, g.add(m, multiHeadAttention('cmfa.manual_to_lips', d, heads).apply(g, m, { keyValue: l })));
      const lips = layerNorm('cmfa.lips_norm', d).apply(g, g.add(l, multiHeadAttention('cmfa.lips_to_manual', d, heads).apply(g, l, { keyValue: m })));
      const gate = g.sigmoid(linear('cmfa.gate', 2 * d, d).apply(g, g.concat([manual, lips], 1)));
      return { fused: gateMix(g, gate, manual, lips), gate };
    }
  }
}

/** Builds the fusion network for `config` (validated; errors name the field). */
export function buildFusionModel(config: FusionConfig, options: BuildFusionOptions = {}): OnnxModel {
  const g = new GraphBuilder({ seed: options.seed, weights: options.weights, weightsMode: options.weightsMode, name: 'signweave-fusion' });
  fusionModelDefinition(config, options)(g);
  return g.build();
}

/**
 * The fusion network's graph definition (one sentence per run). With `dropout` (training) the fused stream is
 * multiplied by an inverted-dropout mask input `dropout` [T, d] before the encoder.
 */
export function fusionModelDefinition(config: FusionConfig, options: Pick<BuildFusionOptions, 'intermediates'> & { dropout?: boolean } = {}): (g: GraphBuilder) => void {
  const c = resolveFusionConfig(config);
  return (g) => defineFusion(g, c, options);
}

function defineFusion(g: GraphBuilder, c: ResolvedFusionConfig, options: Pick<BuildFusionOptions, 'intermediates'> & { dropout?: boolean }): void {
  const { d } = c;
  const T = FUSION_IO.time;
  const stream = (name: string, x: Value, width: number): Value =>
    layerNorm(`proj.${name}.norm`, d).apply(g, linear(`proj.${name}`, width, d).apply(g, c.softmaxInputs ? g.softmax(x, -1) : x));

  // Step 1: every stream to the common dimension d.
  const sign = stream('sign', g.input(FUSION_IO.sign, 'float32', [T, c.inputs.sign]), c.inputs.sign);
  const fingerspell = c.fingerspell ? stream('fingerspell', g.input(FUSION_IO.fingerspell, 'float32', [T, c.inputs.fingerspell!]), c.inputs.fingerspell!) : null;
  const router = g.input(FUSION_IO.router, 'float32', [T, 3]);
  const lipsIn = c.lip ? g.input(FUSION_IO.lips, 'float32', [FUSION_IO.lipTime, c.inputs.lips!]) : null;

  // Step 3: router-gated manual aggregation with the null vector for rest frames.
  const [routerSign, rFs, routerNull] = g.split(router, 3, 1);
  // Without the fingerspelling expert (ablation) its share goes to sign and rest in proportion.
  const total = fingerspell ? null : g.add(g.add(routerSign, routerNull), RENORM_EPSILON);
  const rSign = total ? g.div(routerSign, total) : routerSign;
  const rNull = total ? g.div(routerNull, total) : routerNull;
  const nullVector = g.parameter({ name: 'null_vector', shape: [d], init: { kind: 'normal', std: 0.02 } });
  let manual = g.add(g.mul(rSign, sign), g.mul(rNull, nullVector));
  if (fingerspell) manual = g.add(manual, g.mul(rFs, fingerspell));

  // Step 2: the lip stream, projected at its own rate (projection and interpolation commute), brought to T frames.
  let lips: Value | null = null;
  if (lipsIn) {
    const projected = stream('lips', lipsIn, c.inputs.lips!);
    lips = temporalUpsample('lips.upsample', 'like', { mode: c.upsample }).apply(g, projected, sign);
    if (c.lipAlignment !== 'learned') lips = shiftFrames(g, lips, c.lipAlignment.shift);
  }

  // Step 4.
  const { fused, gate } = lips ? fuseLips(g, c, manual, lips) : { fused: manual, gate: null };

  // Step 5: positions only matter to attention, so they are added only when there is an encoder.
  let h = options.dropout ? g.mul(fused, g.input(FUSION_IO.dropout, 'float32', [T, d])) : fused;
  if (c.layers > 0) {
    h = positionalEmbedding('pos', c.maxLen, d, { type: c.positional }).apply(g, h);
    for (let i = 0; i < c.layers; i++) h = transformerEncoderLayer(`encoder.${i}`, d, c.heads, c.ff, { norm: c.norm, activation: c.activation }).apply(g, h);
  }

  // Step 6: CTC head.
  g.output(linear('head', d, c.vocabSize).apply(g, h), FUSION_IO.logits);
  if (gate) g.output(gate, FUSION_IO.gate);
  if (options.intermediates) {
    g.output(manual, FUSION_IO.manual);
    if (lips) g.output(lips, FUSION_IO.lipsAligned);
    g.output(fused, FUSION_IO.fused);
  }
}
