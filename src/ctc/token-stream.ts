import { SignweaveInputError } from '../errors.js';
import type { TokenStream } from '../types.js';
import type { CtcHypothesis, CtcVocabularyOptions } from './types.js';
import { CtcVocabulary, groupWords } from './vocab.js';

function checkFps(fps: number): void {
  if (!(fps > 0) || !Number.isFinite(fps)) throw new SignweaveInputError(`token stream: fps must be a positive number, got ${fps}`);
}

/**
 * A hypothesis as the pipeline's `TokenStream`: one timed token per output token, start = startFrame / fps and
 * end = (endFrame + 1) / fps seconds, score = the token's confidence. `labels`, when given, names the tokens
 * (e.g. a display vocabulary) instead of the decoder's labels.
 */
export function toTokenStream(hypothesis: CtcHypothesis, fps: number, labels?: readonly string[]): TokenStream {
  checkFps(fps);
  return {
    tokens: hypothesis.spans.map((s) => {
      const token = labels ? labels[s.token] : s.label;
      if (token === undefined) throw new SignweaveInputError(`token stream: no label for token ${s.token}`);
      return { token, start: s.startFrame / fps, end: (s.endFrame + 1) / fps, score: s.confidence };
    }),
  };
}

/** Like `toTokenStream`, one timed token per word (see `groupWords`), e.g. fingerspelled words from letters. */
export function toWordStream(hypothesis: CtcHypothesis, fps: number, vocabulary: CtcVocabulary | CtcVocabularyOptions): TokenStream {
  checkFps(fps);
  return {
    tokens: groupWords(hypothesis, vocabulary).map((w) => ({
      token: w.word,
      start: w.startFrame / fps,
      end: (w.endFrame + 1) / fps,
      score: w.confidence,
    })),
  };
}
