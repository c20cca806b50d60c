/**
 * Corpus BLEU, chrF and ROUGE-L over the 31,086 How2Sign training sentences (hypothesis i = reference i+1, the last
 * = the first), as issue #2 specifies. Prints seconds, sentences/second, the scores (checked against sacrebleu's), and
 * the speed-up over Python sacrebleu: timed in the same command when `--python` names an interpreter that has
 * sacrebleu installed, else against the figures measured on this 2-core machine type (3.8 s BLEU, 8.9 s chrF).
 *
 *   node --import tsx bench/metrics.ts [--runs 5] [--json] [--python /path/to/python]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { corpusBleu } from '../src/eval/metrics/bleu.js';
import { corpusChrf } from '../src/eval/metrics/chrf.js';
import { rougeL } from '../src/eval/metrics/rouge.js';
import { sharedPath } from '../test/helpers/shared.js';
import { benchArgs, loadHow2SignTexts, printReport, timeRuns } from './harness.js';

/** sacrebleu 2.6.0 on this input (issue #2): scores to 4 decimals and seconds on the project's 2-core machine. */
const QUOTED_PYTHON = { version: '2.6.0 (quoted)', bleu: [4.1268, 3.8], chrf: [19.5939, 8.9] } as const;

const args = benchArgs();
const refs = loadHow2SignTexts();
const hyps = refs.map((_, i) => refs[(i + 1) % refs.length]);

const python: { version: string; bleu: readonly [number, number]; chrf: readonly [number, number] } = args.python
  ? JSON.parse(
      execFileSync(args.python, [
        fileURLToPath(new URL('./sacrebleu_reference.py', import.meta.url)),
        sharedPath('data', 'how2sign', 'unisign_labels_jsonl', 'labels.train.jsonl'),
        String(args.runs),
      ]).toString(),
    )
  : QUOTED_PYTHON;

const cases = [
  { metric: 'BLEU', run: () => corpusBleu(hyps, [refs]).score, reference: python.bleu },
  { metric: 'chrF2', run: () => corpusChrf(hyps, [refs]).score, reference: python.chrf },
  { metric: 'ROUGE-L (coco)', run: () => rougeL(hyps, [refs]).score, reference: undefined },
];

const rows = cases.map(({ metric, run, reference }) => {
  const timing = timeRuns(run, args.runs);
  if (reference && timing.value.toFixed(4) !== reference[0].toFixed(4)) {
    throw new Error(`${metric} = ${timing.value.toFixed(4)}, but sacrebleu ${python.version} gives ${reference[0].toFixed(4)} on this input`);
  }
  return {
    metric,
    score: Number(timing.value.toFixed(4)),
    seconds: Number(timing.medianSeconds.toFixed(3)),
    sentencesPerSecond: Math.round(refs.length / timing.medianSeconds),
    pythonSeconds: reference ? Number(reference[1].toFixed(3)) : null,
    speedup: reference ? Number((reference[1] / timing.medianSeconds).toFixed(1)) : null,
  };
});

printReport('metrics', { sentences: refs.length, runs: args.runs, sacrebleu: python.version }, rows, args.json);
