/**
 * src/pipeline: the stages wired from a JSON pipeline config (up to English with a decoder), the presets of the paper's
 * ablations, and the demo pipeline.
 */
export {
  applyPreset,
  formatConfigProblems,
  PIPELINE_FORMAT,
  PIPELINE_SCHEMA,
  PIPELINE_SCHEMA_ID,
  resolveConfigPaths,
  resolvePipelineConfig,
  validatePipelineConfig,
  type ConfigProblem,
  type CtcDecoderConfig,
  type DecoderStageConfig,
  type ExpertStageConfig,
  type FusionStageConfig,
  type PipelineConfig,
  type ResolveConfigOptions,
  type ResolvedPipelineConfig,
} from './config.js';
export { ctcDecodeOptions, decodeCtc } from './decoding.js';
export { DEMO_VIT, initDemoPipeline, type DemoPipeline, type DemoPipelineOptions } from './demo.js';
export { EnglishStage, type EnglishRunOptions } from './english.js';
export { createPipeline, Pipeline, type CreatePipelineOptions, type GlossRunOptions, type RunOptions as PipelineRunOptions } from './pipeline.js';
export { PRESET_NAMES, PRESET_SUMMARIES, PRESETS, type Preset, type PresetName } from './presets.js';
export {
  pipelineResultJson,
  type EnglishTranslation,
  type GlossTranslationResult,
  type PipelineProgress,
  type PipelineProvenance,
  type PipelineResult,
  type PipelineStage,
  type PipelineTimings,
  type RouterSegment,
} from './result.js';
