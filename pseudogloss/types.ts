/** Stage-1 targets (SignBind-LLM §3.2): what each English sentence becomes for training and evaluation. */

/** Which glosser produced a pseudo-gloss, exactly enough to reproduce it. */
export interface GlossProvenance {
  /** e.g. `rules`, `rules-pos`, `llm`. */
  glosser: string;
  /** The glosser's own version (bumped whenever its output can change). */
  version: string;
  /** LLM glossers: the GGUF file and its sha256, and the prompt version. */
  model?: { path: string; sha256: string };
  promptVersion?: string;
  /** LLM glossers: true when the model's output was invalid and the rule-based glosser answered instead. */
  fallback?: boolean;
}

export interface PseudoGloss {
  /** Upper-case pseudo-gloss tokens in ASL-leaning order, e.g. `['TOMORROW', 'I', 'GO', 'STORE']`. */
  tokens: string[];
  provenance: GlossProvenance;
}

/** English sentence → pseudo-gloss. Implementations are deterministic for a given version (and model). */
export interface PseudoGlosser {
  readonly name: string;
  readonly version: string;
  gloss(sentence: string): Promise<PseudoGloss>;
  /** Releases models or caches the glosser holds (no-op for rule-based ones). */
  dispose(): Promise<void>;
}

/** One word and its ARPAbet phonemes (lower-case, no stress), with where they came from. */
export interface WordPhonemes {
  word: string;
  phonemes: string[];
  source: 'cmudict' | 'g2p';
}

/** A stretch of the sentence a signer would fingerspell, and its letters in the fingerspelling alphabet. */
export interface FingerspellSpan {
  /** The span as written in the (normalised) sentence. */
  text: string;
  /** UTF-16 offsets into the normalised sentence, end exclusive. */
  start: number;
  end: number;
  /** Why it is fingerspelled. */
  reason: 'proper-noun' | 'acronym' | 'capitalised' | 'rare-word' | 'alphanumeric';
  /** Characters from FINGERSPELLING_ALPHABET, e.g. `['a', 'n', 'n', 'a']`. */
  chars: string[];
}
