/**
 * What every metric returns: the headline score, the components it was computed from, and a signature that says
 * exactly how (tokenizer, case, smoothing, reference implementation reproduced, signweave version).
 */
export interface MetricScore {
  /** Printed name, e.g. `BLEU`, `chrF2++`, `ROUGE-L`, `WER`, `LetterAcc`. */
  name: string;
  /**
   * The headline number on the scale it is customarily printed: BLEU, chrF, TER, ROUGE-L and all accuracies 0–100;
   * error rates (WER, CER, MER, WIL, PER) as percentages too (jiwer's fractions stay in the components).
   */
  score: number;
  /** sacrebleu-style `key:value|key:value` string naming every choice that changes the number. */
  signature: string;
}
