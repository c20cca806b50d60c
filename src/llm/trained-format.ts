/**
 * The contract between `signweave train decoder` (which writes the GGUF) and `src/decoder` (which prompts it): a
 * model trained here reads `<s> pseudo-gloss <sep>` and writes the English, ending with `</s>`. The GGUF says so in
 * its metadata, so the decoder needs no other configuration to prompt it the way it was trained.
 */

/** The value of `signweave.decoder.format` in a GGUF written by `signweave train decoder`. */
export const TRAINED_DECODER_FORMAT = 'signweave-gloss2en/1';

/** The control tokens of the trained tokenizer, in id order (ids 0–3). */
export const TRAINED_CONTROL_TOKENS = ['<unk>', '<s>', '</s>', '<sep>'] as const;

/** Metadata keys the trained GGUF carries besides llama.cpp's own. */
export const TRAINED_GGUF_KEYS = {
  /** `TRAINED_DECODER_FORMAT`: how to prompt the model. */
  format: 'signweave.decoder.format',
  /** uint32: the id of `<sep>`, which ends the pseudo-gloss. */
  sepTokenId: 'signweave.decoder.sep_token_id',
  /** string: JSON of the training provenance (data, glosser, tokenizer, architecture, steps, losses). */
  provenance: 'signweave.decoder.provenance',
} as const;
