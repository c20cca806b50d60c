/**
 * The lipreading network (SignBind-LLM §3.3): a small ViT encodes each mouth crop, a strided 1-D convolution over
 * time downsamples the frame embeddings (T → T′ = ⌈T / stride⌉), and a linear head gives phoneme CTC logits.
 *
 * Training masks 50 % of each frame's patches (a random subset per frame, dropped before the encoder, as MAE-style
 * ViTs do) as a regulariser: the training graph (`lipreadModelDefinition(options, { maskRatio })`) takes the kept
 * patches as an input, `keep`, drawn afresh each step by the trainer. The inference graph sees every patch of every
 * frame; both graphs have the same parameters, so weights trained masked export into the inference graph.
 */
import { SignweaveInputError } from '../../errors.js';
import { GraphBuilder, type OnnxModel, type Value } from '../../graph/builder.js';
import { conv1d, layerNorm, linear, positionalEmbedding, transformerEncoderLayer } from '../../graph/modules.js';
import { ARPABET_PHONEMES, CTC_BLANK } from '../../vocab.js';

/** The lipreading expert's CTC labels: the blank, then the 39 ARPAbet phonemes. */
export const LIPREAD_VOCAB: readonly string[] = [CTC_BLANK, ...ARPABET_PHONEMES];

export const LIPS_INPUT = 'lips';

/** The normalisation lip bundles declare: ImageNet's per-channel mean and std for RGB crops, mid-grey ± 0.25 for luma. */
export function lipCropNormalisation(channels: 1 | 3): { mean: number[]; std: number[] } {
  return channels === 3 ? { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } : { mean: [0.5], std: [0.25] };
}
/** The masked training graph's int64 [T, K] input: the kept patches of each frame as flat indices t·P + p. */
export const KEEP_INPUT = 'keep';

export interface LipreadModelOptions {
  /** Crop side in pixels (the bundle's input.size). */
  size: number;
  /** Patch side in pixels; must divide `size`. */
  patch: number;
  /** 3 for RGB crops, 1 for luma (default 3). */
  channels?: 1 | 3;
  /** ViT width. */
  dim: number;
  /** ViT encoder layers. */
  layers: number;
  heads: number;
  /** Feed-forward width of each layer (default 4·dim, as ViT). */
  ff?: number;
  /** Frame embedding: the CLS token's output (default) or the mean over patches. */
  pooling?: 'cls' | 'mean';
  /** Temporal downsampling of the convolution (the bundle's temporalStride). */
  stride: number;
  /** Temporal kernel in frames (default 2·stride + 1). */
  kernel?: number;
  /** CTC vocabulary size, blank included (default 40: 39 ARPAbet phonemes + blank). */
  vocabSize?: number;
  seed?: number;
  /** Trained parameters by name (see the graph's parameter list). */
  weights?: Record<string, Float32Array>;
}

/**
 * `lips` [T, size, size, channels] (normalised float32) → `logits` [⌈T / stride⌉, vocabSize].
 *
 * Per frame: the crop is cut into (size/patch)² patches by reshape and transpose (no convolution), each patch is
 * projected by `patch` (linear), a learned CLS token `cls` is prepended (CLS pooling), learned positions `patch_pos` are
 * added, and `vit.0…` pre-norm GELU encoder layers and `vit.norm` run with the frames as the batch. The frame
 * embeddings [T, dim] then go through `temporal` (conv1d, stride `stride`, padded by kernel − 1 so that
 * T′ = ⌈T / stride⌉), GELU and `head` (linear).
 */
export function buildLipreadModel(options: LipreadModelOptions): OnnxModel {
  const g = new GraphBuilder({ seed: options.seed, weights: options.weights, name: 'signweave-lipread' });
  lipreadModelDefinition(options)(g);
  return g.build();
}

export interface LipreadMasking {
  /**
   * Fraction of each frame's patches dropped before the encoder, 0 ≤ ratio < 1 (default 0: the inference graph).
   * K = round((1 − ratio) · P) of the P patches are kept, chosen by the `keep` input.
   */
  maskRatio?: number;
}

/** Patches kept per frame at `maskRatio` (K = round((1 − ratio) · P)), or undefined when nothing is masked. */
export function lipreadKeptPatches(options: Pick<LipreadModelOptions, 'size' | 'patch'>, maskRatio: number): number | undefined {
  if (!(maskRatio >= 0 && maskRatio < 1)) throw new SignweaveInputError(`lipread model: maskRatio must be in [0, 1), got ${maskRatio}`);
  if (maskRatio === 0) return undefined;
  const patches = (options.size / options.patch) ** 2;
  const kept = Math.round((1 - maskRatio) * patches);
  if (kept < 1) throw new SignweaveInputError(`lipread model: maskRatio ${maskRatio} keeps none of the ${patches} patches of a frame`);
  return kept;
}

/**
 * The lipreading network's graph definition (options checked when it is made); one clip per run. With a mask
 * ratio, the training graph: patches are projected and given their own positions (rows 1… of `patch_pos` with CLS
 * pooling), the K kept ones of each frame are gathered by `keep` (int64 [T, K], flat indices t·P + p), and the CLS
 * token with its position (row 0) is prepended, so the encoder runs on K + 1 tokens. Position addition commutes with
 * the concatenation, so with every patch kept in order this equals the inference graph.
 */
export function lipreadModelDefinition(options: Omit<LipreadModelOptions, 'seed' | 'weights'>, masking: LipreadMasking = {}): (g: GraphBuilder) => void {
  const { size, patch, dim, layers, heads, stride } = options;
  const channels = options.channels ?? 3;
  const pooling = options.pooling ?? 'cls';
  const kernel = options.kernel ?? 2 * stride + 1;
  const vocabSize = options.vocabSize ?? LIPREAD_VOCAB.length;
  for (const [k, v] of Object.entries({ size, patch, dim, layers, heads, stride, kernel, vocabSize })) {
    if (!Number.isInteger(v) || v < 1) throw new SignweaveInputError(`lipread model: ${k} must be a positive integer, got ${v}`);
  }
  if (size % patch !== 0) throw new SignweaveInputError(`lipread model: patch ${patch} does not divide the crop size ${size}`);
  if (kernel < stride) throw new SignweaveInputError(`lipread model: kernel ${kernel} is shorter than the stride ${stride}, so some frames would be skipped`);
  const kept = lipreadKeptPatches(options, masking.maskRatio ?? 0);
  const n = size / patch;
  const patches = n * n;
  const first = pooling === 'cls' ? 1 : 0;
  const tokens = patches + first;

  return (g) => {
    const x = g.input(LIPS_INPUT, 'float32', ['T', size, size, channels]);
    const grid = g.transpose(g.reshape(x, [0, n, patch, n, patch, channels]), [0, 1, 3, 2, 4, 5]);
    let h = linear('patch', patch * patch * channels, dim).apply(g, g.reshape(grid, [0, patches, patch * patch * channels]));
    const positions = positionalEmbedding('patch_pos', tokens, dim);
    const clsToken = (): Value => {
      const cls = g.parameter({ name: 'cls', shape: [1, 1, dim], init: { kind: 'normal', std: 0.02 } });
      return g.expand(cls, g.concat([g.shapeOf(x, 0, 1), g.ints([1, dim])], 0));
    };
    if (kept === undefined) {
      if (pooling === 'cls') h = g.concat([clsToken(), h], 1);
      h = positions.apply(g, h);
    } else {
      const table = g.parameter(positions.table!, positions);
      const rows = (start: number, end: number): Value => g.slice(table, { starts: [start], ends: [end], axes: [0] });
      const keep = g.input(KEEP_INPUT, 'int64', ['T', kept]);
      h = g.gather(g.reshape(g.add(h, rows(first, tokens)), [-1, dim]), keep, 0);
      if (pooling === 'cls') h = g.concat([g.add(clsToken(), rows(0, 1)), h], 1);
    }
    for (let l = 0; l < layers; l++) h = transformerEncoderLayer(`vit.${l}`, dim, heads, options.ff ?? 4 * dim, { norm: 'pre', activation: 'gelu' }).apply(g, h);
    h = layerNorm('vit.norm', dim).apply(g, h);
    const frames = pooling === 'cls' ? g.gather(h, 0, 1) : g.reduceMean(h, [1], false);
    const left = Math.floor((kernel - 1) / 2);
    const temporal = conv1d('temporal', dim, dim, kernel, { stride, padding: [left, kernel - 1 - left] }).apply(g, frames);
    g.output(linear('head', dim, vocabSize).apply(g, g.gelu(temporal)), 'logits');
  };
}
