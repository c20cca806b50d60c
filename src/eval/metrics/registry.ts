/**
 * The metrics signweave can score a corpus with, as one declarative table: the CLI (`signweave score`) and the
 * evaluators look metrics up here by id, so adding a metric means adding one entry.
 */
import { SignweaveInputError } from '../../errors.js';
import { letterAccuracy, phonemeErrorRate } from './accuracy.js';
import { BLEU_PRESETS, corpusBleu, formatBleuScore } from './bleu.js';
import { corpusChrf } from './chrf.js';
import { rougeL } from './rouge.js';
import { corpusTer } from './ter.js';
import type { BleuTokenizerName } from './tokenizers.js';
import type { MetricScore } from './types.js';
import { cerScore, werScore } from './wer.js';

/** The settings shared by every metric of one scoring run (each metric takes the ones that apply to it). */
export interface ScoreSettings {
  /** BLEU tokenizer (default `13a`; the `bleu-slt` mode always uses `none`). */
  tokenize?: BleuTokenizerName;
  /** Case-fold before scoring: BLEU, chrF, COCO ROUGE-L, WER, CER (TER and rouge-score fold always). */
  lowercase?: boolean;
}

/** A metric's result: the score with its signature and components, and a one-line human summary of them. */
export interface ScoredMetric {
  /** Registry id, e.g. `chrf++`. */
  id: MetricId;
  result: MetricScore & Record<string, unknown>;
  /** Components in a line, e.g. BLEU's precisions and brevity penalty. */
  details: string;
}

interface MetricDefinition {
  readonly summary: string;
  /** Defined on one reference per hypothesis (WER-style alignments): a second reference stream is an input error. */
  readonly singleReference: boolean;
  compute(hyps: readonly string[], refs: readonly (readonly string[])[], settings: ScoreSettings): Omit<ScoredMetric, 'id'>;
}

const fixed = (x: number, digits = 2): string => x.toFixed(digits);

function bleuEntry(mode: 'sacrebleu' | 'slt-legacy', summary: string): MetricDefinition {
  return {
    summary,
    singleReference: false,
    compute(hyps, refs, settings) {
      const options =
        mode === 'sacrebleu'
          ? { ...BLEU_PRESETS.sacrebleu, tokenize: settings.tokenize ?? '13a', lowercase: settings.lowercase ?? false }
          : { ...BLEU_PRESETS['slt-legacy'], lowercase: settings.lowercase ?? false };
      const result = corpusBleu(hyps, refs, options);
      const verbose = formatBleuScore(result).replace(/^BLEU = \S+ /, '');
      const cumulative = result.cumulative.map((s, n) => `B${n + 1} ${fixed(s)}`).join(' ');
      return { result: { ...result }, details: `${cumulative} | ${verbose}` };
    },
  };
}

function chrfEntry(wordOrder: 0 | 2, summary: string): MetricDefinition {
  return {
    summary,
    singleReference: false,
    compute(hyps, refs, settings) {
      const result = corpusChrf(hyps, refs, { wordOrder, lowercase: settings.lowercase ?? false });
      return { result: { ...result }, details: `char order ${result.charOrder}, word order ${result.wordOrder}, beta ${result.beta}` };
    },
  };
}

function errorRateDetails(c: { hits: number; substitutions: number; deletions: number; insertions: number }, n: number, unit: string): string {
  return `N=${n} ${unit} H=${c.hits} S=${c.substitutions} D=${c.deletions} I=${c.insertions}`;
}

const METRICS = {
  bleu: bleuEntry('sacrebleu', 'corpus BLEU as sacrebleu 2.x (tokenizer from --tokenize), with cumulative BLEU-1..4'),
  'bleu-slt': bleuEntry('slt-legacy', 'legacy SLT BLEU of neccam/slt and Sign2GPT (tok none, floor 0), BLEU-1..4'),
  chrf: chrfEntry(0, 'chrF2 as sacrebleu 2.x'),
  'chrf++': chrfEntry(2, 'chrF2++ (word bigrams) as sacrebleu 2.x'),
  ter: {
    summary: 'TER as sacrebleu 2.x (case-insensitive, tercom tokenizer off)',
    singleReference: false,
    compute(hyps, refs) {
      const result = corpusTer(hyps, refs);
      return { result: { ...result }, details: `edits ${result.numEdits}, reference words ${fixed(result.refLength, 1)}` };
    },
  },
  rouge: {
    summary: 'ROUGE-L F (beta 1.2) per sentence, averaged, x100: the COCO-caption variant SLT papers report',
    singleReference: false,
    compute(hyps, refs, settings) {
      const { perSentence: _perSentence, ...result } = rougeL(hyps, refs, { variant: 'coco', lowercase: settings.lowercase ?? false });
      return { result, details: `mean P ${fixed(100 * result.precision)} R ${fixed(100 * result.recall)}` };
    },
  },
  'rouge-score': {
    summary: "Google rouge-score's rougeL F1, averaged, x100",
    singleReference: false,
    compute(hyps, refs) {
      const { perSentence: _perSentence, ...result } = rougeL(hyps, refs, { variant: 'rouge-score' });
      return { result, details: `mean P ${fixed(100 * result.precision)} R ${fixed(100 * result.recall)}` };
    },
  },
  wer: {
    summary: 'word error rate as jiwer 4 (corpus level), with MER and WIL',
    singleReference: true,
    compute(hyps, refs, settings) {
      const result = werScore(refs[0], hyps, { lowercase: settings.lowercase ?? false });
      return {
        result: { ...result },
        details: `${errorRateDetails(result, result.referenceWords, 'words')} MER ${fixed(100 * result.mer)} WIL ${fixed(100 * result.wil)}`,
      };
    },
  },
  cer: {
    summary: 'character error rate as jiwer 4',
    singleReference: true,
    compute(hyps, refs, settings) {
      const result = cerScore(refs[0], hyps, { lowercase: settings.lowercase ?? false });
      return { result: { ...result }, details: errorRateDetails(result, result.referenceChars, 'chars') };
    },
  },
  letter: {
    summary: 'fingerspelling letter accuracy as ChicagoFSWild: 100(N-S-D-I)/N, may be negative',
    singleReference: true,
    compute(hyps, refs) {
      const result = letterAccuracy(refs[0], hyps);
      return { result: { ...result }, details: errorRateDetails(result, result.referenceChars, 'chars') };
    },
  },
  per: {
    summary: 'phoneme error rate over space-separated ARPAbet tokens (phoneme accuracy = 100 - PER)',
    singleReference: true,
    compute(hyps, refs) {
      const result = phonemeErrorRate(refs[0], hyps);
      return {
        result: { ...result },
        details: `${errorRateDetails(result, result.referencePhonemes, 'phonemes')} accuracy ${fixed(result.accuracy)}`,
      };
    },
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricId = keyof typeof METRICS;

export const METRIC_IDS = Object.keys(METRICS) as MetricId[];

/** The metrics `signweave score` computes when none are named: what SLT papers report for translation. */
export const DEFAULT_METRIC_IDS: readonly MetricId[] = ['bleu', 'chrf', 'rouge'];

export function isMetricId(id: string): id is MetricId {
  return Object.hasOwn(METRICS, id);
}

export function describeMetric(id: MetricId): { summary: string; singleReference: boolean } {
  const { summary, singleReference } = METRICS[id];
  return { summary, singleReference };
}

/**
 * Scores `hyps` against reference streams (`refs[k][i]` = k-th reference of hypothesis i) with each metric named.
 * Input problems (unknown id, line-count mismatch, several references for a single-reference metric) are input errors.
 */
export function scoreCorpus(
  ids: readonly string[],
  hyps: readonly string[],
  refs: readonly (readonly string[])[],
  settings: ScoreSettings = {},
): ScoredMetric[] {
  for (const id of ids) {
    if (!isMetricId(id)) throw new SignweaveInputError(`unknown metric "${id}"; known metrics: ${METRIC_IDS.join(', ')}`);
  }
  if (refs.length === 0) throw new SignweaveInputError('at least one reference stream is needed');
  if (hyps.length === 0) throw new SignweaveInputError('there are no hypotheses to score');
  refs.forEach((stream, k) => {
    if (stream.length !== hyps.length) {
      throw new SignweaveInputError(`reference stream ${k + 1} has ${stream.length} lines but there are ${hyps.length} hypotheses`);
    }
  });
  return (ids as MetricId[]).map((id) => {
    const metric: MetricDefinition = METRICS[id];
    if (metric.singleReference && refs.length > 1) {
      throw new SignweaveInputError(`metric "${id}" takes exactly one reference per hypothesis, got ${refs.length} reference streams`);
    }
    return { id, ...metric.compute(hyps, refs, settings) };
  });
}
