export { DEMO_BUNDLES, demoFusionFolder, initDemoBundles, type DemoBundleOptions } from './demo.js';
export { FUSION_VARIANT_NAMES, FUSION_VARIANTS, FusionBundle, fusionStreams, fusionVariantConfig, fusionVariantOf, loadFusionBundle, type FusionVariant } from './fusion.js';
export { Bundle, inspectBundle, loadBundle, MANIFEST_FILE, type BundleInspection, type BundleRef, type LoadBundleOptions } from './loader.js';
export { buildRouterModel, loadRouterBundle, POOLED_INPUT, ROUTER_MLP, routerLayers, type RouterModelOptions } from './router.js';
export * from './schema.js';
export { checkManifest, formatProblems, validateManifest, type BundleProblem } from './validate.js';
export { verifyBundle, verifyBundles, type BundleReport } from './verify.js';
export { MODEL_FILE, VOCAB_FILE, writeBundle, type WriteBundleOptions } from './writer.js';
