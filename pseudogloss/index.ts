/** Stage 1 (SignBind-LLM §3.2): English text → pseudo-gloss, phoneme and fingerspelling targets. */
export type * from './types.js';
export { normalizeEnglish } from './normalize.js';
export { expandContractions } from './contractions.js';
export { RuleGlosser, ASL_RULES, RULES_VERSION, type RuleMode, type RuleGlosserOptions, type AslRule } from './rules.js';
export { LlmGlosser, PROMPT_VERSION, type LlmGlosserOptions, type LlmGlosserStats } from './llm.js';
export { createGlosser, GLOSSER_KINDS, type GlosserKind, type CreateGlosserOptions } from './glossers.js';
export { Phonemizer, phonemize, cmudictCoverage, type CmudictCoverage } from './phonemes.js';
export { G2p } from './g2p.js';
export { detectFingerspelling, fingerspellText, FINGERSPELL_VERSION } from './fingerspell.js';
export { readCorpus, resolveDataset, describeDataset, DATASET_NAMES, type Corpus, type CorpusSentence, type CorpusProblem, type DatasetName, type Language } from './corpora.js';
export { TargetBuilder, TargetStats, type TargetRecord, type TargetVocabularies, type TargetStatsSummary } from './targets.js';
