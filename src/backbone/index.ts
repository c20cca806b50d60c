/** Per-frame image features (DINOv2 or any ViT-style encoder) from Hugging Face folders or bare ONNX, with a disk cache. */
export type { Backbone, BackboneInfo } from './types.js';
export { loadBackbone, type LoadBackboneOptions } from './load.js';
export { HfBackbone, HF_INPUT_NAME, HF_MODEL_FILE, HF_OUTPUT_NAME, sharedOnnxRuntimePath, type HfBackboneOptions } from './hf.js';
export { OnnxBackbone, type OnnxBackboneOptions } from './onnx.js';
export { embedFrames, extractFeatures, lookupFeatures, type CachedLookup, type EmbedOptions, type ExtractOptions, type FeatureProgress, type FeatureRequest, type FeatureSequence } from './extract.js';
export {
  clearCache,
  defaultFeatureCacheDir,
  FEATURE_CACHE_FORMAT,
  FeatureCache,
  featureCacheKey,
  listCache,
  type CacheEntry,
  type CacheLookup,
  type CachedFeatures,
  type FeatureCacheOptions,
  type FeatureKeyParts,
  type VideoIdentity,
} from './cache.js';
export { decodeNpyFloat32, encodeNpy } from './npy.js';
export { inspectOnnx, type OnnxInspection } from './hash.js';
export { buildVit, dinov2PreprocessorConfig, writeHfVitFolder, type HfFolderOptions, type VitOptions } from './vit.js';
