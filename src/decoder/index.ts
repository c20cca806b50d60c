/** Stage 4: pseudo-gloss → English with a LLaMA GGUF run by node-llama-cpp (prompt, generation, post-processing, LoRA). */
export type * from './types.js';
export {
  createDecoder,
  Decoder,
  DEFAULT_DECODER_CONTEXT_SIZE,
  DEFAULT_DECODER_MAX_TOKENS,
  DEFAULT_DECODER_SAMPLING,
} from './decoder.js';
export {
  chatHistory,
  completionPrompt,
  DEFAULT_DECODER_FEW_SHOT,
  DEFAULT_DECODER_INSTRUCTION,
  normaliseGloss,
  PROMPT_TEMPLATE_VERSION,
  readFewShotFile,
  resolvePrompt,
  type ResolvedPrompt,
} from './prompt.js';
export { answerIsComplete, firstSentenceEnd, postprocessTranslation, type PostprocessContext, type PostprocessResult } from './postprocess.js';
export { noShippedDecoderMessage, SHIPPED_DECODER_FILE, shippedDecoderPath, signweavePackageRoot } from './shipped.js';
export { trainedPrompting, type TrainedPrompting } from './trained.js';
