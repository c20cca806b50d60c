/**
 * Decoders trained by `signweave train decoder` (the contract is src/llm/trained-format.ts). Their GGUF says how they
 * were trained, `<s> pseudo-gloss <sep>` → `English </s>`, and the decoder prompts them exactly so: no instruction, no
 * examples, no template. Generation ends at `</s>` (or `maxTokens`, or a `stop` string); the answer is the whole
 * generated text, since the model learnt to stop where its translation ends — a translation of several sentences is
 * kept whole, not cut at the first one as a prompted model's answer is.
 */
import type { Token } from 'node-llama-cpp';
import { SignweaveInputError } from '../errors.js';
import type { RuntimeModel } from '../llm/runtime.js';
import { TRAINED_DECODER_FORMAT, TRAINED_GGUF_KEYS } from '../llm/trained-format.js';
import { collapseWhitespace, type PostprocessResult } from './postprocess.js';

/** How a trained model is prompted: its BOS and `<sep>` token ids. */
export interface TrainedPrompting {
  format: typeof TRAINED_DECODER_FORMAT;
  bos: Token;
  sep: Token;
}

/** A metadata value by its GGUF key (node-llama-cpp nests the keys at their dots). */
function metadataValue(metadata: unknown, key: string): unknown {
  let node = metadata;
  for (const part of key.split('.')) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  return node;
}

/**
 * The trained-format prompting of `loaded`, or null when its GGUF has no `signweave.decoder.format`. A GGUF that
 * claims the format with another version, or without a usable `<sep>` id or BOS token, is an input error naming the
 * file and the key.
 */
export function trainedPrompting(loaded: RuntimeModel): TrainedPrompting | null {
  const { model, path } = loaded;
  const metadata = model.fileInfo.metadata;
  const format = metadataValue(metadata, TRAINED_GGUF_KEYS.format);
  if (format === undefined) return null;
  if (format !== TRAINED_DECODER_FORMAT) {
    throw new SignweaveInputError(`${path}: ${TRAINED_GGUF_KEYS.format} is ${JSON.stringify(format)}, but this signweave prompts only ${JSON.stringify(TRAINED_DECODER_FORMAT)} models`);
  }
  const key = TRAINED_GGUF_KEYS.sepTokenId;
  const sep = metadataValue(metadata, key);
  const vocabulary = metadata.tokenizer?.ggml?.tokens?.length ?? 0;
  if (typeof sep !== 'number' || !Number.isInteger(sep) || sep < 0 || sep >= vocabulary) {
    throw new SignweaveInputError(
      `${path}: a ${TRAINED_DECODER_FORMAT} model needs ${key}, the id of its <sep> token among its ${vocabulary} tokens, ` +
        `got ${sep === undefined ? 'none' : JSON.stringify(typeof sep === 'bigint' ? sep.toString() : sep)}`,
    );
  }
  const { bos, eos } = model.tokens;
  if (bos === null) throw new SignweaveInputError(`${path}: a ${TRAINED_DECODER_FORMAT} model needs a BOS token (tokenizer.ggml.bos_token_id)`);
  if (sep === bos || sep === eos) {
    throw new SignweaveInputError(`${path}: ${key} is ${sep}, the ${sep === bos ? 'BOS' : 'EOS'} token: <sep> must be a token of its own`);
  }
  return { format: TRAINED_DECODER_FORMAT, bos, sep: sep as Token };
}

/**
 * The prompt of a trained model for a (normalised) gloss: `[bos] tokenize(gloss) [sep]`, the gloss tokenized as in
 * training (no BOS, control-token text such as "<s>" kept as text). Without the BOS when `prependsBos`: node-llama-cpp's
 * LlamaCompletion then adds it itself.
 */
export function trainedPromptTokens(loaded: RuntimeModel, prompting: TrainedPrompting, gloss: string, prependsBos: boolean): Token[] {
  return [...(prependsBos ? [] : [prompting.bos]), ...loaded.model.tokenize(gloss, false), prompting.sep];
}

/** A trained model's answer: everything it generated before `</s>`, whitespace collapsed; nothing is a failure. */
export function trainedTranslation(raw: string): PostprocessResult {
  const text = collapseWhitespace(raw);
  return text === '' ? { text: null, failure: 'empty', message: 'the model generated no text' } : { text, failure: null, message: null };
}
