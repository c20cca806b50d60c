/**
 * src/eval beyond the metrics: datasets as manifests of samples, the per-stage references and evaluators, the
 * resumable runner and its report (`signweave eval`). The metrics are exported from src/eval/metrics.
 */
export * from './types.js';
export { EVAL_MANIFEST_SCHEMA, EVAL_MANIFEST_SCHEMA_ID, loadEvalDataset, type LoadEvalDatasetOptions } from './datasets.js';
export * from './references.js';
export {
  configLabel,
  englishOutcome,
  EVALUATORS,
  IDENTITY_BASELINE,
  ROUTING_SIGNATURES,
  stageConfig,
  type EvalBaselineSpec,
  type EvalMetric,
  type Evaluator,
  type HypothesisSource,
  type Outcome,
  type RouterHypothesis,
  type RouterReference,
} from './evaluators.js';
export { runEval, type EvalBaseline, type EvalIdentity, type EvalProgress, type EvalRun, type EvalSampleRow, type EvalSampleStatus, type RunEvalOptions } from './run.js';
export { SAMPLES_FORMAT, SamplesFile, type PipelineRunProvenance, type StoredProvenance } from './samples-file.js';
export { buildEvalReport, formatEvalSummary, rankRows, writeEvalReport, type EvalReport, type EvalReportRow, type ReportMetric } from './report.js';
