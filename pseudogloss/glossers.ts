/**
 * The pseudo-glossers by name, for the CLI, training and evaluation: one place that turns `--glosser <kind>` into a
 * ready PseudoGlosser.
 */
import { SignweaveInputError } from '../src/errors.js';
import { LlmGlosser } from './llm.js';
import { RuleGlosser } from './rules.js';
import type { PseudoGlosser } from './types.js';

export const GLOSSER_KINDS = ['rules', 'rules-pos', 'llm'] as const;
export type GlosserKind = (typeof GLOSSER_KINDS)[number];

export interface CreateGlosserOptions {
  /** `llm`: the GGUF model (any LLaMA-family model node-llama-cpp loads). */
  modelPath?: string;
  /** `llm`: where generated glosses are cached (default: the user cache directory; null: memory only). */
  cacheDir?: string | null;
}

/**
 * `rules`: ASL-ordered rule-based pseudo-gloss. `rules-pos`: Sign2GPT's POS filter (lemmas of content words, English
 * order). `llm`: a GGUF model prompted for an ASL gloss under a JSON-schema grammar, falling back to `rules` whenever
 * its answer is invalid.
 */
export async function createGlosser(kind: GlosserKind, options: CreateGlosserOptions = {}): Promise<PseudoGlosser> {
  switch (kind) {
    case 'rules':
      return new RuleGlosser({ mode: 'asl' });
    case 'rules-pos':
      return new RuleGlosser({ mode: 'pos-filter' });
    case 'llm':
      if (!options.modelPath) throw new SignweaveInputError('the llm glosser needs a GGUF model (--model <file.gguf>)');
      return LlmGlosser.create({ modelPath: options.modelPath, fallback: new RuleGlosser(), cacheDir: options.cacheDir });
  }
}
