/**
 * The fusion module's configuration (SignBind-LLM §3.4) and its validation. `resolveFusionConfig` fills the defaults
 * and refuses anything the graph could not be built from, naming the field (`fusion.heads`…) and the values.
 */
import { SignweaveInputError } from '../errors.js';

/**
 * How the manual stream M and the aligned lip stream L′ are merged:
 * - `gated` (the paper, §3.4): g = σ(W[M; L′] + b) per frame and dimension, fused = g⊙M + (1−g)⊙L′;
 * - `concat-mlp`: fused = MLP([M; L′]);
 * - `cross-attention`: manual queries over lip keys/values, fused = LayerNorm(M + MHA(M, L′));
 * - `cmfa`: SignFuse's cross-modal fusion attention — attention both ways, then the gate of `gated` over the two
 *   enriched streams (see `graphs.ts` for the reading of SignFuse this follows).
 */
export type FusionType = 'gated' | 'concat-mlp' | 'cross-attention' | 'cmfa';

export const FUSION_TYPES: readonly FusionType[] = ['gated', 'concat-mlp', 'cross-attention', 'cmfa'];

/**
 * `'learned'`: the lip stream enters as upsampled; the gate or attention has to absorb any asynchrony. `{ shift: k }`:
 * the asynchrony ablation — the upsampled lip stream is moved by a fixed k frames, L′shifted[t] = L′[clamp(t − k)]
 * (k > 0 delays the lips, k < 0 advances them), repeating the edge frame where it runs out.
 */
export type LipAlignment = 'learned' | { shift: number };

export interface FusionConfig {
  /** Default 'gated'. */
  type?: FusionType;
  /** Width of each expert stream: the sign (Cs), fingerspelling (Cf) and lip (Cl) experts' logits or features; a dropped stream is absent or null. */
  inputs: { sign: number; fingerspell?: number | null; lips?: number | null };
  /** Size of the pseudo-gloss vocabulary, blank included: the CTC head's output width V. */
  vocabSize: number;
  /** The common dimension d every stream is projected to. */
  d: number;
  /**
   * true: the expert streams are CTC logits and each row is turned into posteriors (softmax over its vocabulary)
   * before projection, so fusion sees probabilities whatever an expert's logit scale. Default false (used as given).
   */
  softmaxInputs?: boolean;
  /** false: the no-lipreading ablation, fused = M (no lip input, no gate). Default true. */
  lip?: boolean;
  /**
   * false: the no-fingerspelling ablation. F is dropped and the router weights are renormalised over sign and rest:
   * M = (r_sign·S′ + r_null·n) / (r_sign + r_null + ε). The router input stays [T, 3]. Default true.
   */
  fingerspell?: boolean;
  /** Default 'learned'. */
  lipAlignment?: LipAlignment;
  /** Lip upsampling from T′ to T (PyTorch's interpolate modes; linear with align_corners=False). Default 'linear'. */
  upsample?: 'linear' | 'nearest';
  /** Frames of the manual stream per lip frame: when set, the stage requires T′ = ⌈T / lipStride⌉. */
  lipStride?: number | null;
  /** Attention heads of the transformer and the attention fusions; must divide d. Default 4. */
  heads?: number;
  /** TransformerEncoder layers over the fused sequence (0 = the CTC head reads the fused stream). Default 2. */
  layers?: number;
  /** Feed-forward width of each encoder layer. Default 4·d. */
  ff?: number;
  /** Encoder layer normalisation placement (PyTorch's norm_first). Default 'post'. */
  norm?: 'pre' | 'post';
  /** Encoder feed-forward activation. Default 'relu' (PyTorch's default). */
  activation?: 'relu' | 'gelu';
  /** Positional embedding before the encoder. Default 'learned'. */
  positional?: 'learned' | 'sinusoidal';
  /** Longest sequence the positional table covers. Default 2048. */
  maxLen?: number;
  /** Hidden width of the `concat-mlp` fusion. Default 2·d. */
  mlpHidden?: number;
}

/** A validated config with every default filled in. */
export interface ResolvedFusionConfig {
  type: FusionType;
  inputs: { sign: number; fingerspell: number | null; lips: number | null };
  vocabSize: number;
  d: number;
  softmaxInputs: boolean;
  lip: boolean;
  fingerspell: boolean;
  lipAlignment: LipAlignment;
  upsample: 'linear' | 'nearest';
  lipStride: number | null;
  heads: number;
  layers: number;
  ff: number;
  norm: 'pre' | 'post';
  activation: 'relu' | 'gelu';
  positional: 'learned' | 'sinusoidal';
  maxLen: number;
  mlpHidden: number;
}

/** ε of the renormalisation when fingerspelling is off: keeps a frame the router gives wholly to fingerspelling finite. */
export const RENORM_EPSILON = 1e-6;

const KEYS = new Set<string>([
  'type',
  'inputs',
  'vocabSize',
  'd',
  'softmaxInputs',
  'lip',
  'fingerspell',
  'lipAlignment',
  'upsample',
  'lipStride',
  'heads',
  'layers',
  'ff',
  'norm',
  'activation',
  'positional',
  'maxLen',
  'mlpHidden',
]);

function fail(message: string): never {
  throw new SignweaveInputError(`fusion config: ${message}`);
}

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
}

function integer(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(`${field} must be an integer ≥ ${min}, got ${show(value)}`);
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) fail(`${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(value)}`);
  return value as T;
}

function flag(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(`${field} must be true or false, got ${show(value)}`);
  return value;
}

/** Fills the defaults and checks every field; errors name the field (`fusion.inputs.lips`) and the value. */
export function resolveFusionConfig(config: FusionConfig): ResolvedFusionConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) fail(`expected an object, got ${show(config)}`);
  const unknown = Object.keys(config).filter((k) => !KEYS.has(k));
  if (unknown.length > 0) fail(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `fusion.${k}`).join(', ')} (known: ${[...KEYS].join(', ')})`);

  const type = oneOf(config.type, 'fusion.type', FUSION_TYPES, 'gated');
  const lip = flag(config.lip, 'fusion.lip', true);
  const fingerspell = flag(config.fingerspell, 'fusion.fingerspell', true);

  const inputs = config.inputs as unknown;
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) fail(`fusion.inputs must be an object { sign, fingerspell?, lips? } of stream widths, got ${show(inputs)}`);
  const widths = inputs as Record<string, unknown>;
  const extra = Object.keys(widths).filter((k) => !['sign', 'fingerspell', 'lips'].includes(k));
  if (extra.length > 0) fail(`unknown stream ${extra.map((k) => `fusion.inputs.${k}`).join(', ')} (streams: sign, fingerspell, lips)`);
  const sign = integer(widths.sign, 'fusion.inputs.sign', 1);
  const stream = (name: 'fingerspell' | 'lips', used: boolean, why: string): number | null => {
    if (!used) {
      if (widths[name] !== undefined && widths[name] !== null) fail(`fusion.inputs.${name} is given but ${why}`);
      return null;
    }
    if (widths[name] === undefined || widths[name] === null) fail(`fusion.inputs.${name} (the ${name === 'lips' ? 'lip' : 'fingerspelling'} expert's output width) is required`);
    return integer(widths[name], `fusion.inputs.${name}`, 1);
  };
  const resolvedInputs = {
    sign,
    fingerspell: stream('fingerspell', fingerspell, 'fusion.fingerspell is false (the stream is dropped)'),
    lips: stream('lips', lip, 'fusion.lip is false (the stream is dropped)'),
  };

  const vocabSize = integer(config.vocabSize, 'fusion.vocabSize', 2);
  const d = integer(config.d, 'fusion.d', 1);
  const heads = config.heads === undefined ? 4 : integer(config.heads, 'fusion.heads', 1);
  const layers = config.layers === undefined ? 2 : integer(config.layers, 'fusion.layers', 0);
  const attends = layers > 0 || (lip && (type === 'cross-attention' || type === 'cmfa'));
  if (attends && d % heads !== 0) {
    const who = layers > 0 ? `the ${layers} encoder layer${layers > 1 ? 's' : ''}` : `the ${type} fusion`;
    fail(`fusion.d = ${d} is not divisible by fusion.heads = ${heads} (${who} split d into heads)`);
  }

  let lipAlignment: LipAlignment = 'learned';
  if (config.lipAlignment !== undefined && config.lipAlignment !== 'learned') {
    const a = config.lipAlignment as unknown;
    const keys = typeof a === 'object' && a !== null && !Array.isArray(a) ? Object.keys(a) : null;
    if (!keys || keys.length !== 1 || keys[0] !== 'shift') fail(`fusion.lipAlignment must be 'learned' or { shift: k }, got ${show(a)}`);
    const shift = (a as { shift: unknown }).shift;
    if (typeof shift !== 'number' || !Number.isInteger(shift)) fail(`fusion.lipAlignment.shift must be an integer number of frames, got ${show(shift)}`);
    if (!lip) fail('fusion.lipAlignment.shift needs the lip stream, but fusion.lip is false');
    lipAlignment = { shift };
  }

  const lipStride = config.lipStride === undefined || config.lipStride === null ? null : integer(config.lipStride, 'fusion.lipStride', 1);
  if (lipStride !== null && !lip) fail('fusion.lipStride is given but fusion.lip is false');

  const maxLen = config.maxLen === undefined ? 2048 : integer(config.maxLen, 'fusion.maxLen', 1);
  return {
    type,
    inputs: resolvedInputs,
    vocabSize,
    d,
    softmaxInputs: flag(config.softmaxInputs, 'fusion.softmaxInputs', false),
    lip,
    fingerspell,
    lipAlignment,
    upsample: oneOf(config.upsample, 'fusion.upsample', ['linear', 'nearest'], 'linear'),
    lipStride,
    heads,
    layers,
    ff: config.ff === undefined ? 4 * d : integer(config.ff, 'fusion.ff', 1),
    norm: oneOf(config.norm, 'fusion.norm', ['pre', 'post'], 'post'),
    activation: oneOf(config.activation, 'fusion.activation', ['relu', 'gelu'], 'relu'),
    positional: oneOf(config.positional, 'fusion.positional', ['learned', 'sinusoidal'], 'learned'),
    maxLen,
    mlpHidden: config.mlpHidden === undefined ? 2 * d : integer(config.mlpHidden, 'fusion.mlpHidden', 1),
  };
}

/** Whether the model has a `gate` output: the gated fusions with a lip stream. */
export function hasGate(config: ResolvedFusionConfig): boolean {
  return config.lip && (config.type === 'gated' || config.type === 'cmfa');
}
