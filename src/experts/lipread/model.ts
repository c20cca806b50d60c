/**
 * The lipreading network (SignBind-LLM §3.3): a small ViT encodes each mouth crop, a strided 1-D convolution over
 * time downsamples the frame embeddings (T → T′ = ⌈T / stride⌉), and a linear head gives phoneme CTC logits.
 *
 * Training masks 50 % of each frame's patches (a random subset per frame, dropped before the encoder) as a
 * regulariser. That is a training-graph step only: this inference graph sees every patch of every frame.
 */
import { SignweaveInputError } from '../../errors.js';
import { GraphBuilder, type OnnxModel } from '../../graph/builder.js';
import { conv1d, layerNorm, linear, positionalEmbedding, transformerEncoderLayer } from '../../graph/modules.js';
import { ARPABET_PHONEMES, CTC_BLANK } from '../../vocab.js';

/** The lipreading expert's CTC labels: the blank, then the 39 ARPAbet phonemes. */
export const LIPREAD_VOCAB: readonly string[] = [CTC_BLANK, ...ARPABET_PHONEMES];

export const LIPS_INPUT = 'lips';

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

/** The lipreading network's graph definition (options checked when it is made); one clip per run. */
export function lipreadModelDefinition(options: Omit<LipreadModelOptions, 'seed' | 'weights'>): (g: GraphBuilder) => void {
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
  const n = size / patch;
  const patches = n * n;
  const tokens = patches + (pooling === 'cls' ? 1 : 0);

  return (g) => {
    const x = g.input(LIPS_INPUT, 'float32', ['T', size, size, channels]);
    const grid = g.transpose(g.reshape(x, [0, n, patch, n, patch, channels]), [0, 1, 3, 2, 4, 5]);
    let h = linear('patch', patch * patch * channels, dim).apply(g, g.reshape(grid, [0, patches, patch * patch * channels]));
    if (pooling === 'cls') {
      const cls = g.parameter({ name: 'cls', shape: [1, 1, dim], init: { kind: 'normal', std: 0.02 } });
      h = g.concat([g.expand(cls, g.concat([g.shapeOf(x, 0, 1), g.ints([1, dim])], 0)), h], 1);
    }
    h = positionalEmbedding('patch_pos', tokens, dim).apply(g, h);
    for (let l = 0; l < layers; l++) h = transformerEncoderLayer(`vit.${l}`, dim, heads, options.ff ?? 4 * dim, { norm: 'pre', activation: 'gelu' }).apply(g, h);
    h = layerNorm('vit.norm', dim).apply(g, h);
    const frames = pooling === 'cls' ? g.gather(h, 0, 1) : g.reduceMean(h, [1], false);
    const left = Math.floor((kernel - 1) / 2);
    const temporal = conv1d('temporal', dim, dim, kernel, { stride, padding: [left, kernel - 1 - left] }).apply(g, frames);
    g.output(linear('head', dim, vocabSize).apply(g, g.gelu(temporal)), 'logits');
  };
}
