/**
 * The decoder's tokenizer: BPE training time for 4,000 pieces on How2Sign train (English + rule-based pseudo-gloss,
 * as `signweave train decoder` trains it), then encode and decode speed over train + test.
 *
 *   node --import tsx bench/tokenizer.ts [--runs 5] [--json]
 */
import { readCorpus } from '../pseudogloss/corpora.js';
import { RuleGlosser } from '../pseudogloss/rules.js';
import { trainTokenizer } from '../src/llm/tokenizer.js';
import { sharedPath } from '../test/helpers/shared.js';
import { benchArgs, printReport, timeRuns } from './harness.js';

const VOCAB_SIZE = 4000;
const args = benchArgs();
const glosser = new RuleGlosser();
const texts = (split: string): string[] => {
  const english = readCorpus(sharedPath('data', 'how2sign', 'unisign_labels_jsonl', `labels.${split}.jsonl`), 'how2sign-jsonl').sentences.map((s) => s.text);
  return [...english, ...english.map((t) => glosser.glossSync(t).tokens.join(' '))];
};
const train = texts('train');
const all = [...train, ...texts('test')];

const trained = timeRuns(() => trainTokenizer(train, { vocabSize: VOCAB_SIZE }), args.runs);
const tokenizer = trained.value;
const encoded = timeRuns(() => all.map((t) => tokenizer.encode(t)), args.runs);
const ids = encoded.value;
const tokens = ids.reduce((n, x) => n + x.length, 0);
const decoded = timeRuns(() => ids.map((x) => tokenizer.decode(x)), args.runs);
const characters = all.reduce((n, t) => n + t.length, 0);

printReport(
  'tokenizer',
  { vocabSize: VOCAB_SIZE, trainTexts: train.length, texts: all.length, tokens, charactersPerToken: Number((characters / tokens).toFixed(2)), runs: args.runs },
  [
    { case: `train ${tokenizer.size} pieces`, 'ms per call': Math.round(trained.medianSeconds * 1000), 'texts/s': Math.round(train.length / trained.medianSeconds) },
    { case: 'encode', 'ms per call': Math.round(encoded.medianSeconds * 1000), 'texts/s': Math.round(all.length / encoded.medianSeconds), 'tokens/s': Math.round(tokens / encoded.medianSeconds) },
    { case: 'decode', 'ms per call': Math.round(decoded.medianSeconds * 1000), 'texts/s': Math.round(all.length / decoded.medianSeconds), 'tokens/s': Math.round(tokens / decoded.medianSeconds) },
  ],
  args.json,
);
