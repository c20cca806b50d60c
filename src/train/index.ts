/**
 * Training the light modules (ARCHITECTURE.md `src/train`; ../shared/design/training.md): reverse-mode differentiation
 * on the graph builder, losses and optimisation in TypeScript, the training config, data, checkpoints, logs and plots.
 */
export {
  GRAD,
  TrainingGraph,
  TrainingSession,
  buildTrainingGraph,
  differentiateModel,
  writeInferenceModel,
  type GraphDefinition,
  type TrainingGraphOptions,
  type TrainingMode,
  type TrainingRun,
  type TrainingSessionOptions,
} from './autodiff.js';
export {
  ctcLoss,
  ctcMinFrames,
  crossEntropy,
  gumbelSoftmaxRows,
  gumbelSoftmaxBackward,
  dropoutMask,
  type Float32Tensor,
  type CtcLossOptions,
  type CtcLossResult,
  type CrossEntropyOptions,
  type CrossEntropyResult,
  type LossReduction,
} from './loss.js';
export {
  AdamW,
  decaysByDefault,
  cosineSchedule,
  gumbelTau,
  clipGradNorm,
  type AdamWOptions,
  type AdamWState,
  type ParamInfo,
  type ParamTensors,
  type CosineScheduleOptions,
  type TauScheduleOptions,
} from './optim.js';
export {
  resolveTrainConfig,
  validateTrainConfig,
  decayRule,
  TRAIN_DEFAULTS,
  TRAIN_SCHEMA,
  TRAIN_FORMAT,
  TRAIN_SCHEMA_ID,
  trainingFusionConfig,
  type TrainConfig,
  type TrainConfigFile,
  type ResolvedTrainConfig,
  type FusionArchitectureConfig,
  type FusionDataShape,
} from './config.js';
export { TrainingSet, type Batch, type BatchOptions, type DataPosition, type SkippedItem, type TargetStream, type TrainingInput, type TrainingItem } from './data.js';
export { routerTrainingSet, readSegmentRecords } from './router-data.js';
export { lipreadTrainingSet, lipreadPhoneme } from './lipread-data.js';
export {
  CHECKPOINT_FORMAT,
  configHash,
  decodeCheckpoint,
  encodeCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  saveCheckpoint,
  writeCheckpoint,
  type Checkpoint,
  type CheckpointExpectations,
  type CheckpointState,
} from './checkpoint.js';
export { TRAIN_LOG_FORMAT, TrainingLog, readTrainingLog, type TrainLogLine, type TrainLogContents } from './log.js';
export { plotTrainingLog, type PlotOptions } from './plot.js';
export {
  TRAIN_KINDS,
  TRAIN_TASKS,
  fusionItems,
  poolBatch,
  type TrainKind,
  type TrainingTask,
  type GraphMode,
  type GraphRun,
  type LossContext,
  type LossPart,
  type FusionSample,
  type FeatureHeadArchitecture,
  type LipreadArchitecture,
  type RouterArchitectureOptions,
} from './tasks.js';
export { train, type TrainOptions, type TrainProgress, type TrainResult, type TrainedManifest } from './trainer.js';
export { readPairs, splitPairs, type PairFile, type GlosserUse } from './pairs.js';
export {
  DECODER_GGUF_FILE,
  DECODER_MANIFEST_FILE,
  TOKENS_INPUT,
  checkLlamaArchitecture,
  decoderTask,
  llamaDefinition,
  llamaParameters,
  pairItems,
  ropeTables,
  type DecoderModelManifest,
  type LlamaArchitecture,
  type TextPair,
} from './llama.js';
export { exportLlamaGguf, type LlamaGgufOptions } from './llama-gguf.js';
