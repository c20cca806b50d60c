/**
 * Lipreading targets: the shipped G2P model on its held-out CMUdict words (PER, word accuracy, and the spelled-out
 * and letter-only baselines), CMUdict coverage of the How2Sign training sentences, and `phonemize` speed over the
 * How2Sign vocabulary (every distinct word once per call: dictionary look-ups, numbers, compounds and G2P).
 *
 *   node --import tsx bench/g2p.ts [--runs 5] [--json]
 */
import { defaultG2p } from '../pseudogloss/g2p.js';
import { normalizeEnglish } from '../pseudogloss/normalize.js';
import { cmudictCoverage, englishWords, Phonemizer } from '../pseudogloss/phonemes.js';
import { g2pCorpus, scoreG2p, spellOut, type G2pScore } from '../pseudogloss/train-g2p.js';
import { benchArgs, loadHow2SignTexts, printReport, timeRuns } from './harness.js';

const args = benchArgs();
const g2p = defaultG2p();
const { heldOut } = g2pCorpus(g2p.model.split);
const row = (name: string, s: G2pScore): Record<string, unknown> => ({
  case: name,
  words: s.words,
  'PER %': Number(s.per.toFixed(2)),
  'word acc %': Number(s.wordAccuracy.toFixed(2)),
});

const words = loadHow2SignTexts().flatMap((t) => englishWords(normalizeEnglish(t)));
const coverage = cmudictCoverage(words);
const vocabulary = [...new Set(words.map((w) => w.toLowerCase()))];
const phonemizer = new Phonemizer({ g2p });
const timed = timeRuns(() => phonemizer.phonemize(vocabulary), args.runs);
const pct = (x: number): number => Number((100 * x).toFixed(2));

printReport(
  'g2p',
  { model: `${g2p.model.units.length} units, ${g2p.model.tree.length / 3} nodes`, heldOutSplit: g2p.model.split, runs: args.runs },
  [
    row('G2P model, held-out CMUdict words', scoreG2p(heldOut, (w) => g2p.predict(w))),
    row('baseline: letters spelled out', scoreG2p(heldOut, spellOut)),
    {
      case: 'How2Sign train sentences: not in CMUdict',
      words: `${coverage.tokens} tokens / ${coverage.types} types`,
      'tokens %': pct(coverage.oovTokenRate),
      'types %': pct(coverage.oovTypeRate),
    },
    { case: 'How2Sign train sentences: needing G2P', 'tokens %': pct(coverage.g2pTokenRate), 'types %': pct(coverage.g2pTypeRate) },
    {
      case: 'phonemize, How2Sign vocabulary',
      words: vocabulary.length,
      'ms per call': Number((timed.medianSeconds * 1000).toFixed(1)),
      'words/s': Math.round(vocabulary.length / timed.medianSeconds),
    },
  ],
  args.json,
);
