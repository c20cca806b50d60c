/**
 * signweave's public API. Stages appear here as they are built, in the order data flows through them
 * (see ARCHITECTURE.md): shared contracts, evaluation metrics, CTC decoding, Stage-1 targets, video, landmarks,
 * the model runtime and the pipeline that composes them.
 */
export * from './types.js';
export { SignweaveInputError } from './errors.js';
export { SIGNWEAVE_VERSION } from './version.js';
export * from './eval/metrics/index.js';
export * from './ctc/index.js';
export { ARPABET_PHONEMES, CTC_BLANK, FINGERSPELLING_ALPHABET, formatVocabFile, parseVocabFile } from './vocab.js';
export { getLlamaRuntime, LlamaRuntime, type LlamaRuntimeOptions, type LlamaRuntimeInfo } from './llm/runtime.js';
export * from '../pseudogloss/index.js';
export * from './video/index.js';
export * from './landmarks/index.js';
export { sha256File } from './util/hash.js';
export { GraphBuilder, OnnxModel, OnnxSession, ONNX_RUNTIME_VERSION, readOnnxInfo, readOnnxWeights } from './graph/index.js';
export * from './backbone/index.js';
export * from './bundles/index.js';
export * from './router/index.js';
export * from './fusion/index.js';
export * from './pipeline/index.js';
export * from './decoder/index.js';
export * from './eval/index.js';
export * from './train/index.js';
export { encodeGguf, writeGguf, GGUF_VERSION, GGUF_DEFAULT_ALIGNMENT, type GgufContents, type GgufMetadataEntry, type GgufTensor, type GgufScalarType } from './llm/gguf.js';
export { LlamaTokenizer, trainTokenizer, TOKENIZER_FILE_FORMAT, TOKEN_TYPE, type TokenizerVocab, type TrainTokenizerOptions } from './llm/tokenizer.js';
export { TRAINED_DECODER_FORMAT, TRAINED_CONTROL_TOKENS, TRAINED_GGUF_KEYS } from './llm/trained-format.js';
