/**
 * signweave's public API. Stages appear here as they are built, in the order data flows through them
 * (see ARCHITECTURE.md): shared contracts, evaluation metrics, CTC decoding, Stage-1 targets.
 */
export * from './types.js';
export { SignweaveInputError } from './errors.js';
export { SIGNWEAVE_VERSION } from './version.js';
export * from './eval/metrics/index.js';
export * from './ctc/index.js';
export { ARPABET_PHONEMES, CTC_BLANK, FINGERSPELLING_ALPHABET, formatVocabFile, parseVocabFile } from './vocab.js';
export { getLlamaRuntime, LlamaRuntime, type LlamaRuntimeOptions, type LlamaRuntimeInfo } from './llm/runtime.js';
export * from '../pseudogloss/index.js';
