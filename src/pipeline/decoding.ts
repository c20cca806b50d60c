/** A config's CTC decoder settings as src/ctc options, and the decoding of the fused pseudo-gloss logits. */
import { NgramLm } from '../ctc/arpa.js';
import { beamSearch } from '../ctc/beam.js';
import { greedyDecode } from '../ctc/greedy.js';
import { Lexicon } from '../ctc/lexicon.js';
import { logSoftmax } from '../ctc/logits.js';
import type { CtcHypothesis } from '../ctc/types.js';
import type { CtcVocabulary } from '../ctc/vocab.js';
import { SignweaveInputError } from '../errors.js';
import type { DecodeOptions } from '../experts/shared.js';
import type { Sequence } from '../types.js';
import { readLines } from '../util/text-files.js';
import type { CtcDecoderConfig } from './config.js';

/** The decoder options of one stream, with its lexicon and LM files read; `where` (`<config>: /experts/sign/decoder`) names it in errors. */
export function ctcDecodeOptions(config: CtcDecoderConfig | undefined, where: string): DecodeOptions {
  if (!config) return {};
  const { type, lexicon, lm, hotwords, ...search } = config;
  try {
    return {
      ...search,
      ...(type && { decoder: type }),
      ...(lexicon !== undefined && { lexicon: Lexicon.fromWords(readLines(lexicon).lines) }),
      ...(hotwords && { hotwords }),
      ...(lm && { lm: { model: NgramLm.load(lm.path), alpha: lm.alpha, beta: lm.beta, level: lm.level } }),
    };
  } catch (err) {
    if (err instanceof SignweaveInputError) throw new SignweaveInputError(`${where}: ${err.message}`);
    throw err;
  }
}

/** The best hypothesis of raw CTC logits `[T, V]` (log-softmaxed here), as the experts decode theirs. */
export function decodeCtc(logits: Sequence, vocabulary: CtcVocabulary, options: DecodeOptions): CtcHypothesis {
  const [T, V] = logits.shape;
  const m = logSoftmax({ data: logits.data, T, V });
  const { decoder = 'beam', ...search } = options;
  if (decoder === 'greedy') return greedyDecode(m, vocabulary);
  const { labels, blank, joiner } = vocabulary;
  const [best] = beamSearch(m, { labels, blank, joiner, ...search, nBest: 1 });
  // A lexicon nothing matches leaves no hypothesis: an empty pseudo-gloss.
  return best ?? { tokens: [], labels: [], text: '', logProb: -Infinity, lmScore: 0, hotwordScore: 0, score: -Infinity, spans: [] };
}
