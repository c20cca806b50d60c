/** One output token of a CTC hypothesis with the frames its (most probable) alignment gives it. */
export interface CtcSpan {
  token: number;
  label: string;
  /** First frame the token is emitted on (0-based). */
  startFrame: number;
  /** Last frame it is emitted on, inclusive (repeats of the token extend it; blanks after it do not). */
  endFrame: number;
  /** Mean posterior probability of the token over the frames that emit it in that alignment. */
  confidence: number;
}

export interface CtcHypothesis {
  tokens: number[];
  labels: string[];
  /** Labels joined with the decoder's `joiner` (word-piece markers become spaces in `marker` word mode). */
  text: string;
  /**
   * Acoustic natural-log probability: for beam search the log of the summed probability of every alignment the
   * beam kept that collapses to `tokens`; for greedy decoding the log-probability of the single argmax path.
   */
  logProb: number;
  /** Shallow-fusion LM term: α·ln P_LM(words) + β·(#words); 0 without an LM. */
  lmScore: number;
  /** Hotword bonus (pyctcdecode-style); 0 without hotwords. */
  hotwordScore: number;
  /** logProb + lmScore + hotwordScore: what hypotheses are ranked by. */
  score: number;
  spans: CtcSpan[];
}

/**
 * How tokens form words, for lexicons, hotwords, word-level LMs and word spans.
 * - `separator`: character vocabularies; words are the runs of tokens between separator tokens (e.g. ' ' or '|').
 * - `marker`: word-piece vocabularies; a token whose label starts with `marker` (SentencePiece '▁') begins a word.
 * - `token`: every token is a word (sign-language gloss vocabularies).
 */
export type WordMode = { kind: 'separator'; separator: string } | { kind: 'marker'; marker: string } | { kind: 'token' };

export interface CtcVocabularyOptions {
  labels: readonly string[];
  /** Index of the CTC blank; default 0 (pyctcdecode puts it last, parlance takes any index). */
  blank?: number;
  /** Joins token labels into `text`: '' for character vocabularies, ' ' for word/gloss vocabularies. Default ''. */
  joiner?: string;
  /**
   * Word segmentation; default: `token` when joiner is ' ', else `separator` ' ' when a label is ' ', else
   * `marker` '▁' when a label starts with '▁', else `token`.
   */
  words?: WordMode;
  /**
   * In `separator` mode, treat separators as pure boundaries (pyctcdecode's whitespace normalisation): a separator
   * at the start or right after another separator adds nothing to the hypothesis, and a trailing one is dropped at
   * the end, so " ab  c " and "ab c" are one hypothesis. Default true in `separator` mode.
   */
  collapseSeparators?: boolean;
}
