/** src/fusion: the manual and lip streams merged into pseudo-gloss logits (SignBind-LLM §3.4). */
export { FUSION_TYPES, RENORM_EPSILON, hasGate, resolveFusionConfig, type FusionConfig, type FusionType, type LipAlignment, type ResolvedFusionConfig } from './config.js';
export { FusionStage, type FusionModelSource, type FusionResult } from './fusion.js';
export { FUSION_IO, buildFusionModel, type BuildFusionOptions } from './graphs.js';
export { checkFusionInputs, effectiveRouterWeights, type CheckedInputs, type FusionInputs } from './inputs.js';
export { referenceFusion, type ReferenceFusionResult } from './reference.js';
