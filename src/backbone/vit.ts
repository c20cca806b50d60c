/**
 * A ViT image encoder built with signweave's graph builder, and the Hugging Face folder layout transformers.js loads
 * it from. Small ones stand in for DINOv2 where a real checkpoint is not needed (tests, examples); with trained
 * weights by parameter name the same graph is a real encoder.
 *
 * Graph: `pixel_values` [N, 3, S, S] → patches → linear patch embedding → [CLS; patches] + learned positions → pre-norm
 * transformer layers (GELU) → LayerNorm → `last_hidden_state` [N, 1 + (S/p)², D]. The patch embedding is DINOv2's
 * Conv2d(kernel = stride = p) written as reshape + transpose + MatMul: each patch is flattened channel-major
 * (c, y, x), so PyTorch's conv weight [D, 3, p, p] is this `[3·p·p, D]` weight transposed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import { GraphBuilder, type OnnxModel } from '../graph/builder.js';
import { layerNorm, linear, transformerEncoderLayer } from '../graph/modules.js';
import { HF_INPUT_NAME, HF_MODEL_FILE, HF_OUTPUT_NAME } from './hf.js';

export interface VitOptions {
  /** Input side S (square images). */
  imageSize: number;
  /** Patch side p; must divide S. */
  patchSize: number;
  /** Feature size D. */
  dim: number;
  depth: number;
  heads: number;
  /** Feed-forward width (default 4·D). */
  mlpDim?: number;
  /** LayerNorm ε (default 1e-6, DINOv2's). */
  epsilon?: number;
  /** Initialisation seed for parameters not in `weights` (default 0). */
  seed?: number;
  weights?: Record<string, Float32Array>;
}

export function buildVit(options: VitOptions): OnnxModel {
  const { imageSize: s, patchSize: p, dim: d, depth, heads } = options;
  if (!Number.isInteger(s) || !Number.isInteger(p) || p < 1 || s % p !== 0) {
    throw new SignweaveInputError(`ViT: patch size ${p} must divide the image size ${s}`);
  }
  const grid = s / p;
  const tokens = 1 + grid * grid;
  const eps = options.epsilon ?? 1e-6;
  const g = new GraphBuilder({ seed: options.seed, weights: options.weights, name: 'vit' });
  const x = g.input(HF_INPUT_NAME, 'float32', ['batch_size', 3, s, s]);
  // [N, 3, gy, p, gx, p] → [N, gy, gx, 3, p, p] → [N, gy·gx, 3·p·p]: one row per patch, channel-major.
  const patches = g.reshape(g.transpose(g.reshape(x, [0, 3, grid, p, grid, p]), [0, 2, 4, 1, 3, 5]), [0, grid * grid, 3 * p * p]);
  const embedded = linear('embeddings.patch', 3 * p * p, d).apply(g, patches);
  const cls = g.parameter({ name: 'embeddings.cls_token', shape: [1, 1, d], init: { kind: 'normal', std: 1e-6 } });
  const clsRows = g.expand(cls, g.concat([g.shapeOf(x, 0, 1), g.ints([1, d])], 0));
  const positions = g.parameter({ name: 'embeddings.position', shape: [1, tokens, d], init: { kind: 'normal', std: 0.02 } });
  let h = g.add(g.concat([clsRows, embedded], 1), positions);
  for (let i = 0; i < depth; i++) {
    h = transformerEncoderLayer(`encoder.${i}`, d, heads, options.mlpDim ?? 4 * d, { norm: 'pre', activation: 'gelu', epsilon: eps }).apply(g, h);
  }
  g.output(layerNorm('layernorm', d, { epsilon: eps }).apply(g, h), HF_OUTPUT_NAME);
  return g.build();
}

/**
 * The `preprocessor_config.json` of facebook/dinov2-*: shortest edge to 256/224 of the crop, bicubic, center crop,
 * ImageNet mean and std. `cropSize` scales it to other input sizes.
 */
export function dinov2PreprocessorConfig(cropSize = 224): Record<string, unknown> {
  return {
    image_processor_type: 'BitImageProcessor',
    do_resize: true,
    size: { shortest_edge: Math.round((cropSize * 256) / 224) },
    resample: 3,
    do_center_crop: true,
    crop_size: { height: cropSize, width: cropSize },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_std: [0.229, 0.224, 0.225],
    do_convert_rgb: true,
  };
}

export interface HfFolderOptions {
  /** `config.json`'s model_type, which picks the transformers.js class (default 'dinov2': Dinov2Model). */
  modelType?: 'dinov2' | 'vit';
  /** `preprocessor_config.json` (default `dinov2PreprocessorConfig(imageSize)`). */
  preprocessor?: Record<string, unknown>;
}

/** Writes a model as a Hugging Face folder: `config.json`, `preprocessor_config.json`, `onnx/model.onnx`. */
export function writeHfVitFolder(dir: string, model: OnnxModel, vit: VitOptions, options: HfFolderOptions = {}): void {
  const modelType = options.modelType ?? 'dinov2';
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  model.save(join(dir, HF_MODEL_FILE));
  const config = {
    model_type: modelType,
    architectures: [modelType === 'dinov2' ? 'Dinov2Model' : 'ViTModel'],
    hidden_size: vit.dim,
    num_hidden_layers: vit.depth,
    num_attention_heads: vit.heads,
    intermediate_size: vit.mlpDim ?? 4 * vit.dim,
    hidden_act: 'gelu',
    layer_norm_eps: vit.epsilon ?? 1e-6,
    image_size: vit.imageSize,
    patch_size: vit.patchSize,
    num_channels: 3,
  };
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(join(dir, 'preprocessor_config.json'), `${JSON.stringify(options.preprocessor ?? dinov2PreprocessorConfig(vit.imageSize), null, 2)}\n`);
}
