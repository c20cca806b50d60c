import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { NgramLm } from '../../ctc/arpa.js';
import { beamSearch, type BeamSearchOptions } from '../../ctc/beam.js';
import { readLabelsFile, readMatrixFile } from '../../ctc/files.js';
import { greedyDecode } from '../../ctc/greedy.js';
import { Lexicon } from '../../ctc/lexicon.js';
import { checkNormalized, logSoftmax, probsToLogProbs, validateLogProbs, type CtcMatrix } from '../../ctc/logits.js';
import { toTokenStream } from '../../ctc/token-stream.js';
import type { CtcHypothesis } from '../../ctc/types.js';
import { SignweaveInputError } from '../../errors.js';
import { readLines } from '../../util/text-files.js';
import { SIGNWEAVE_VERSION } from '../../version.js';

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer.`);
    return n;
  };
}

function finiteNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('must be a number.');
  return n;
}

const INPUT_KINDS = ['log-probs', 'probs', 'logits'] as const;

export const ctcDecodeCommand = new Command('ctc-decode')
  .description('Decode a [T, V] CTC output matrix (JSON rows or .npy) with greedy or prefix beam search.')
  .requiredOption('--logits <file>', 'the matrix: .npy (float32/64, 2-D) or JSON (array of frames, or {"logits": …})')
  .requiredOption('--labels <file>', 'vocabulary: a .json array of labels, or one label per line (verbatim)')
  .addOption(new Option('--input <kind>', 'what the matrix holds: normalised log-probabilities, probabilities, or raw logits (log-softmaxed)').choices(INPUT_KINDS).default('log-probs' as const))
  .option('--blank <index>', 'index of the CTC blank, or "last"', '0')
  .addOption(new Option('--decoder <name>', 'decoding algorithm').choices(['beam', 'greedy'] as const).default('beam' as const))
  .option('--beam-width <n>', 'prefixes kept per frame', positiveInt('--beam-width'), 16)
  .option('--nbest <n>', 'hypotheses to print', positiveInt('--nbest'), 1)
  .option('--top-k <n>', 'tokens considered per frame', positiveInt('--top-k'), 40)
  .option('--token-min-logp <x>', 'skip tokens below this log-probability in a frame (argmax excepted)', finiteNumber)
  .option('--beam-prune-logp <x>', 'drop prefixes this far below the best (e.g. -10)', finiteNumber)
  .option('--joiner <s>', 'joins labels into text: "" for characters, " " for glosses', '')
  .option('--lexicon <file>', 'allowed words, one per line (spelled with the labels; glosses for gloss vocabularies)')
  .option('--hotwords <list>', 'comma-separated words or phrases to boost (e.g. fingerspelled names)')
  .option('--hotword-weight <x>', 'bonus of a complete hotword match (natural log)', finiteNumber, 10)
  .option('--lm <arpa>', 'n-gram language model in ARPA format (shallow fusion)')
  .option('--alpha <x>', 'LM weight', finiteNumber, 0.5)
  .option('--beta <x>', 'insertion bonus per word', finiteNumber, 1.5)
  .addOption(new Option('--lm-level <level>', 'LM units: words, or the tokens themselves').choices(['word', 'token'] as const).default('word' as const))
  .option('--fps <n>', 'frame rate: report token times in seconds', finiteNumber)
  .option('--json', 'print the hypotheses with spans as JSON', false)
  .action((options) => {
    const labels = readLabelsFile(options.labels);
    const raw = readMatrixFile(options.logits);
    const blank = options.blank === 'last' ? labels.length - 1 : Number(options.blank);
    if (!Number.isInteger(blank)) throw new SignweaveInputError(`--blank must be an integer index or "last", got ${options.blank}`);
    if (options.fps !== undefined && !(options.fps > 0)) throw new SignweaveInputError(`--fps must be positive, got ${options.fps}`);
    const matrix: CtcMatrix =
      options.input === 'probs' ? probsToLogProbs(raw, { float64: true }) : options.input === 'logits' ? logSoftmax(raw, { float64: true }) : raw;
    validateLogProbs(matrix, labels, blank);
    checkNormalized(matrix);

    const vocabulary = { labels, blank, joiner: options.joiner };
    let hypotheses: CtcHypothesis[];
    if (options.decoder === 'greedy') {
      hypotheses = [greedyDecode(matrix, vocabulary)];
    } else {
      const beamOptions: BeamSearchOptions = {
        ...vocabulary,
        beamWidth: options.beamWidth,
        nBest: options.nbest,
        topK: options.topK,
        tokenMinLogProb: options.tokenMinLogp,
        beamPruneLogProb: options.beamPruneLogp,
        lexicon: options.lexicon ? Lexicon.fromWords(readLines(options.lexicon).lines.filter((w) => w.trim() !== '')) : undefined,
        hotwords: options.hotwords
          ? { phrases: options.hotwords.split(',').map((h) => h.trim()).filter(Boolean), weight: options.hotwordWeight }
          : undefined,
        lm: options.lm ? { model: NgramLm.load(options.lm), alpha: options.alpha, beta: options.beta, level: options.lmLevel } : undefined,
      };
      hypotheses = beamSearch(matrix, beamOptions).slice(0, options.nbest);
    }

    if (options.json) {
      const report = {
        tool: { name: 'signweave', version: SIGNWEAVE_VERSION, command: 'ctc-decode' },
        input: { logits: options.logits, labels: options.labels, frames: matrix.T, vocabulary: matrix.V, blank, kind: options.input },
        decoder: options.decoder,
        hypotheses: hypotheses.map((h) => ({
          ...h,
          ...(options.fps !== undefined ? { tokenStream: toTokenStream(h, options.fps, labels) } : {}),
        })),
      };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    hypotheses.forEach((h, rank) => {
      const lm = h.lmScore !== 0 || h.hotwordScore !== 0 ? ` (acoustic ${h.logProb.toFixed(4)})` : '';
      process.stdout.write(`${rank + 1}\t${h.score.toFixed(4)}${lm}\t${h.text}\n`);
    });
  });
