/**
 * The demo pipeline: seeded, untrained bundles (src/bundles' demo table: the experts, the router and one fusion
 * bundle per fusion variant, so every preset runs), a backbone, and a `pipeline.json` that uses them. Its outputs are
 * meaningless; it exercises the whole pipeline without trained weights.
 *
 * The backbone is, by default, a tiny ViT written as a Hugging Face DINOv2 folder by the graph builder (seeded
 * weights, 56×56 input, one layer) with DINOv2 ViT-S/14's feature size, 384, so the same bundles also fit a real
 * ViT-S/14; `backbone` points the demo at a real one instead (a Hugging Face folder, or a bare ONNX export).
 * With `decoder`, the config also turns the fused pseudo-gloss into English with that GGUF model.
 */
import { mkdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { loadBackbone } from '../backbone/load.js';
import { buildVit, dinov2PreprocessorConfig, writeHfVitFolder, type VitOptions } from '../backbone/vit.js';
import { demoFusionFolder, initDemoBundles } from '../bundles/demo.js';
import { FUSION_VARIANT_NAMES } from '../bundles/fusion.js';
import type { BundleManifest } from '../bundles/schema.js';
import { SignweaveInputError } from '../errors.js';
import { readOnnxInfo } from '../graph/proto.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { parseImageProcessorConfig } from '../video/preprocess.js';
import { decoderStagePaths, formatConfigProblems, PIPELINE_FORMAT, PIPELINE_SCHEMA_ID, validatePipelineConfig, type DecoderStageConfig, type PipelineConfig } from './config.js';

/** The demo backbone: DINOv2 ViT-S/14's width and patch size on a 56×56 input (4 patches), one layer. */
export const DEMO_VIT: Omit<VitOptions, 'seed'> = { imageSize: 56, patchSize: 14, dim: 384, depth: 1, heads: 6, mlpDim: 768 };

/** Longer side of the frames the landmarks see: How2Sign's 1280×720 at half size still shows the face to MediaPipe, in half the time. */
const DEMO_MAX_SIDE = 640;

export interface DemoPipelineOptions {
  /** Seed of the demo backbone and base seed of the bundles (default 0). */
  seed?: number;
  /** MediaPipe face_landmarker.task. */
  faceModel: string;
  /** MediaPipe pose_landmarker_*.task: also run pose (its head landmarks help the face search find small faces). */
  poseModel?: string;
  /** The Chromium executable (default: the extractor's). */
  chromium?: string;
  /** A real backbone instead of the tiny demo ViT: a Hugging Face model folder or a bare ONNX file. */
  backbone?: string;
  /** A bare ONNX backbone's preprocessor_config.json (default: DINOv2's at the graph's square input size). */
  preprocessor?: string;
  /** The English decoder's section (its paths are written like the others); none: the demo stops at the pseudo-gloss. */
  decoder?: DecoderStageConfig;
}

export interface DemoPipeline {
  /** The pipeline.json written. */
  config: string;
  bundles: { dir: string; manifest: BundleManifest }[];
  backbone: { type: 'hf-folder' | 'onnx'; path: string; dim: number; written: boolean };
}

/** DINOv2's preprocessing at a bare ONNX graph's square input size `[N, 3, S, S]`. */
function dinov2PreprocessingFor(onnxPath: string): Record<string, unknown> {
  const inputs = readOnnxInfo(onnxPath).inputs;
  const [, , h, w] = inputs.length === 1 ? inputs[0].shape : [];
  if (typeof h !== 'number' || h !== w) {
    throw new SignweaveInputError(`${onnxPath}: the backbone has no single square image input to derive DINOv2 preprocessing from: give its preprocessor_config.json`);
  }
  return dinov2PreprocessorConfig(h);
}

/** The given backbone's type, preprocessing and feature size (loading it once, which also checks it). */
async function describeBackbone(path: string, preprocessor: string | undefined): Promise<{ type: 'hf-folder' | 'onnx'; preprocessing?: string | Record<string, unknown>; dim: number }> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new SignweaveInputError(`cannot read backbone ${path}: no such file or folder`);
  }
  if (isDir && preprocessor !== undefined) throw new SignweaveInputError(`${path} is a Hugging Face folder, which has its own preprocessor_config.json: drop the preprocessor`);
  const preprocessing = isDir ? undefined : (preprocessor ?? dinov2PreprocessingFor(path));
  const parsed = typeof preprocessing === 'object' ? parseImageProcessorConfig(preprocessing, `DINOv2 preprocessing of ${path}`) : preprocessing;
  const backbone = await loadBackbone(path, { threads: 1, preprocessing: parsed });
  const { dim } = backbone.info;
  await backbone.dispose();
  return { type: isDir ? 'hf-folder' : 'onnx', preprocessing, dim };
}

/**
 * Writes `<dir>/bundles/…`, `<dir>/backbone/` (unless `backbone` is given) and `<dir>/pipeline.json`. Paths inside
 * `dir` are written relative to it, so the folder can be moved; others are absolute.
 */
export async function initDemoPipeline(dir: string, options: DemoPipelineOptions): Promise<DemoPipeline> {
  const root = resolve(dir);
  const seed = options.seed ?? 0;
  mkdirSync(root, { recursive: true });
  const at = (path: string): string => {
    const abs = resolve(path);
    const rel = relative(root, abs);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? abs : rel;
  };

  let backbone: DemoPipeline['backbone'];
  let backboneConfig: PipelineConfig['backbone'];
  if (options.backbone !== undefined) {
    const found = await describeBackbone(options.backbone, options.preprocessor);
    backbone = { type: found.type, path: resolve(options.backbone), dim: found.dim, written: false };
    const preprocessing = typeof found.preprocessing === 'string' ? at(found.preprocessing) : found.preprocessing;
    backboneConfig = { type: found.type, path: at(options.backbone), ...(preprocessing !== undefined && { preprocessing }) };
  } else {
    const vit = { ...DEMO_VIT, seed };
    const path = join(root, 'backbone');
    writeHfVitFolder(path, buildVit(vit), vit);
    backbone = { type: 'hf-folder', path, dim: vit.dim, written: true };
    backboneConfig = { type: 'hf-folder', path: 'backbone' };
  }

  const bundleRoot = join(root, 'bundles');
  const bundles = initDemoBundles(bundleRoot, { seed, featureDim: backbone.dim });
  const bundle = (folder: string) => at(join(bundleRoot, folder));
  const config: PipelineConfig = {
    $schema: PIPELINE_SCHEMA_ID,
    format: PIPELINE_FORMAT,
    video: { maxSide: DEMO_MAX_SIDE },
    landmarks: {
      ...(options.chromium !== undefined && { chromium: at(options.chromium) }),
      face: { model: at(options.faceModel) },
      ...(options.poseModel !== undefined && { pose: { model: at(options.poseModel) } }),
    },
    backbone: { ...backboneConfig, batch: 4, stride: 1 },
    cache: { enabled: true, dir: 'cache' },
    experts: {
      sign: { bundle: bundle('sign'), decoder: { type: 'beam', beamWidth: 16 } },
      fingerspell: { bundle: bundle('fingerspell'), decoder: { type: 'beam', beamWidth: 16 } },
      lipread: { bundle: bundle('lipread'), decoder: { type: 'beam', beamWidth: 16 } },
    },
    router: { bundle: bundle('router') },
    fusion: {
      bundle: bundle(demoFusionFolder('gated')),
      decoder: { type: 'beam', beamWidth: 16 },
      variant: 'gated',
      variants: Object.fromEntries(FUSION_VARIANT_NAMES.map((v) => [v, bundle(demoFusionFolder(v))])),
    },
    ...(options.decoder && { decoder: decoderStagePaths(options.decoder, at) }),
  };
  const problems = validatePipelineConfig(config);
  if (problems.length > 0) throw new Error(formatConfigProblems('the demo pipeline config', problems));
  const configPath = join(root, 'pipeline.json');
  writeFileAtomic(configPath, `${JSON.stringify(config, null, 2)}\n`);
  return { config: configPath, bundles, backbone };
}
