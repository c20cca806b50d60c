/**
 * chrF and chrF++ exactly as sacrebleu 2.6.0 computes them (metrics/chrf.py): character n-grams of the line with
 * whitespace removed (code points, as Python indexes strings), optional word n-grams after chrF's punctuation
 * splitting, per-sentence statistics against the reference with the best sentence F-score, summed over the corpus,
 * then the F-beta of the order-averaged precision and recall (or the eps-smoothed per-order average).
 */
import { SignweaveInputError } from '../../errors.js';
import type { MetricScore } from './types.js';
import {
  CountBuffer,
  NgramIndexer,
  TokenVocabulary,
  formatScoreLine,
  formatSignature,
  isPythonWhitespace,
  resolveReferences,
  sentenceStreams,
  splitPythonWhitespace,
  yesNo,
  type ReferenceStreams,
  type ScoreFormatOptions,
} from './sacrebleu-common.js';

export interface ChrfOptions {
  /** Character n-gram order (default 6). */
  readonly charOrder?: number;
  /** Word n-gram order (default 0 = chrF; 2 = chrF++). */
  readonly wordOrder?: number;
  /** Recall weight (default 2). */
  readonly beta?: number;
  /** Lowercase first (default false). */
  readonly lowercase?: boolean;
  /** Keep whitespace inside character n-grams (default false). */
  readonly whitespace?: boolean;
  /** chrF++.py/Moses/NLTK-style eps smoothing instead of sacrebleu's effective-order average (default false). */
  readonly epsSmoothing?: boolean;
}

export interface ChrfScore extends MetricScore {
  readonly charOrder: number;
  readonly wordOrder: number;
  readonly beta: number;
  /**
   * Corpus statistics, three per order (character orders 1..charOrder, then word orders 1..wordOrder):
   * hypothesis n-grams (0 where the chosen reference has none of that order), reference n-grams, matches.
   */
  readonly statistics: number[];
}

/** The default chrF (`chrF2`); chrF++ is `{ wordOrder: 2 }`. */
export const CHRF_DEFAULTS = {
  charOrder: 6,
  wordOrder: 0,
  beta: 2,
  lowercase: false,
  whitespace: false,
  epsSmoothing: false,
} as const satisfies Required<ChrfOptions>;

type ResolvedChrfOptions = { -readonly [K in keyof ChrfOptions]-?: NonNullable<ChrfOptions[K]> };

/** string.punctuation, which chrF++ splits off the start or end of words. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
const EPS = 1e-16;

function resolveChrfOptions(caller: string, options: ChrfOptions): ResolvedChrfOptions {
  const o: ResolvedChrfOptions = { ...CHRF_DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (o as Record<string, unknown>)[key] = value;
  }
  for (const key of ['charOrder', 'wordOrder'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 0) {
      throw new SignweaveInputError(`${caller}: ${key} must be a non-negative integer, got ${o[key]}`);
    }
  }
  if (o.charOrder + o.wordOrder === 0) throw new SignweaveInputError(`${caller}: charOrder and wordOrder are both 0`);
  if (typeof o.beta !== 'number' || !Number.isFinite(o.beta) || o.beta < 0) {
    throw new SignweaveInputError(`${caller}: beta must be a non-negative number, got ${o.beta}`);
  }
  return o;
}

/** sacrebleu's CHRF signature, e.g. `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:…`. */
export function chrfSignature(options: ChrfOptions, nrefs: number | 'var'): string {
  const o = resolveChrfOptions('chrfSignature', options);
  return formatSignature(nrefs, [
    ['case', o.lowercase ? 'lc' : 'mixed'],
    ['eff', yesNo(!o.epsSmoothing)],
    ['nc', o.charOrder],
    ['nw', o.wordOrder],
    ['space', yesNo(o.whitespace)],
  ]);
}

/** `CHRF._remove_punctuation`: one punctuation mark is split off the end of a word, else off its start. */
export function chrfWords(line: string): string[] {
  const words: string[] = [];
  for (const w of splitPythonWhitespace(line)) {
    if (w.length === 1) words.push(w);
    else if (PUNCTUATION.has(w[w.length - 1])) words.push(w.slice(0, -1), w[w.length - 1]);
    else if (PUNCTUATION.has(w[0])) words.push(w[0], w.slice(1));
    else words.push(w);
  }
  return words;
}

/** `CHRF._compute_f_score` on flattened [hyp, ref, match] triples; 0–100. */
function chrfFScore(stats: ArrayLike<number>, order: number, beta: number, epsSmoothing: boolean): number {
  const factor = beta ** 2;
  let score = 0;
  let effectiveOrder = 0;
  let avgPrec = 0;
  let avgRec = 0;
  for (let i = 0; i < order; i++) {
    const nHyp = stats[3 * i];
    const nRef = stats[3 * i + 1];
    const nMatch = stats[3 * i + 2];
    const prec = nHyp > 0 ? nMatch / nHyp : EPS;
    const rec = nRef > 0 ? nMatch / nRef : EPS;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : EPS;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effectiveOrder++;
    }
  }
  if (epsSmoothing) return (100 * score) / order;
  if (effectiveOrder === 0) {
    avgPrec = 0;
    avgRec = 0;
  } else {
    avgPrec /= effectiveOrder;
    avgRec /= effectiveOrder;
  }
  if (avgPrec + avgRec === 0) return 0;
  return 100 * (((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec));
}

/** Pushes the code points of `line` (without Python whitespace unless `keepWhitespace`) as one sequence. */
function pushCharacters(indexer: NgramIndexer, line: string, keepWhitespace: boolean): void {
  indexer.beginSequence();
  const n = line.length;
  for (let i = 0; i < n; i++) {
    let c = line.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const low = line.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = ((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
        i++;
      }
    }
    if (keepWhitespace || !isPythonWhitespace(c)) indexer.push(c);
  }
}

const CODE_POINT_BOUND = 0x110000;

/**
 * Adds to `refStats[k]` the triples of orders `firstSlot..firstSlot+orders-1` for every reference k, from the
 * indexer's current group (sequence 0 = hypothesis, k + 1 = reference k).
 */
function addOrderStatistics(
  indexer: NgramIndexer,
  symbolBound: number,
  orders: number,
  firstSlot: number,
  refStats: Float64Array[],
  hypCounts: CountBuffer,
  refCounts: CountBuffer,
): void {
  if (orders === 0) return;
  indexer.start(symbolBound);
  const ids = indexer.ids;
  const nRefs = refStats.length;
  for (let n = 1; n <= orders; n++) {
    if (n > 1) indexer.advance();
    const slot = 3 * (firstSlot + n - 1);
    const hypNgrams = indexer.ngramCount(0);
    if (hypNgrams === 0) {
      // No hypothesis n-grams at this order or above: only the reference counts remain.
      for (let m = n; m <= orders; m++) {
        for (let k = 0; k < nRefs; k++) refStats[k][3 * (firstSlot + m - 1) + 1] = Math.max(0, indexer.seqLength(k + 1) - m + 1);
      }
      return;
    }
    const distinct = indexer.distinct;
    const hc = hypCounts.zeroed(distinct);
    for (let p = 0; p < hypNgrams; p++) hc[ids[p]]++;
    for (let k = 0; k < nRefs; k++) {
      const refNgrams = indexer.ngramCount(k + 1);
      const stats = refStats[k];
      stats[slot + 1] = refNgrams;
      if (refNgrams === 0) continue;
      const rc = refCounts.zeroed(distinct);
      const s = indexer.seqStart(k + 1);
      for (let p = s; p < s + refNgrams; p++) rc[ids[p]]++;
      let matches = 0;
      for (let r = 0; r < distinct; r++) matches += hc[r] < rc[r] ? hc[r] : rc[r];
      // sacrebleu counts no hypothesis n-grams of an order the reference lacks.
      stats[slot] = hypNgrams;
      stats[slot + 2] = matches;
    }
  }
}

function scoreChrf(caller: string, hyps: readonly string[], refs: ReferenceStreams, o: ResolvedChrfOptions): ChrfScore {
  const { segments, nrefs } = resolveReferences(caller, hyps, refs);
  const order = o.charOrder + o.wordOrder;
  const totals = new Array<number>(3 * order).fill(0);
  const indexer = new NgramIndexer();
  const vocabulary = new TokenVocabulary();
  const hypCounts = new CountBuffer();
  const refCounts = new CountBuffer();
  const pushWords = (line: string): void => {
    indexer.beginSequence();
    for (const word of chrfWords(line)) indexer.push(vocabulary.id(word));
  };
  let refStats: Float64Array[] = [];

  for (let i = 0; i < hyps.length; i++) {
    const hyp = o.lowercase ? hyps[i].toLowerCase() : hyps[i];
    const refLines = o.lowercase ? segments[i].map((r) => r.toLowerCase()) : segments[i];
    if (refStats.length !== refLines.length) refStats = refLines.map(() => new Float64Array(3 * order));
    else for (const stats of refStats) stats.fill(0);

    if (o.charOrder > 0) {
      indexer.reset();
      pushCharacters(indexer, hyp, o.whitespace);
      for (const ref of refLines) pushCharacters(indexer, ref, o.whitespace);
      addOrderStatistics(indexer, CODE_POINT_BOUND, o.charOrder, 0, refStats, hypCounts, refCounts);
    }
    if (o.wordOrder > 0) {
      indexer.reset();
      pushWords(hyp);
      for (const ref of refLines) pushWords(ref);
      addOrderStatistics(indexer, vocabulary.size, o.wordOrder, o.charOrder, refStats, hypCounts, refCounts);
    }

    // The reference with the best sentence-level F-score (the first on ties) contributes its statistics.
    let best = refStats[0];
    if (refStats.length > 1) {
      let bestF = -1;
      for (const stats of refStats) {
        const f = chrfFScore(stats, order, o.beta, o.epsSmoothing);
        if (f > bestF) {
          bestF = f;
          best = stats;
        }
      }
    }
    for (let j = 0; j < totals.length; j++) totals[j] += best[j];
  }

  return {
    name: `chrF${o.beta}${'+'.repeat(o.wordOrder)}`,
    score: chrfFScore(totals, order, o.beta, o.epsSmoothing),
    signature: chrfSignature(o, nrefs),
    charOrder: o.charOrder,
    wordOrder: o.wordOrder,
    beta: o.beta,
    statistics: totals,
  };
}

/** Corpus chrF (sacrebleu `CHRF(**options).corpus_score(hyps, refs)`); `refs[k][i]` = k-th reference of line i. */
export function corpusChrf(hyps: readonly string[], refs: ReferenceStreams, options: ChrfOptions = {}): ChrfScore {
  return scoreChrf('corpusChrf', hyps, refs, resolveChrfOptions('corpusChrf', options));
}

/** Sentence chrF (sacrebleu `sentence_chrf`). */
export function sentenceChrf(hyp: string, refs: readonly string[], options: ChrfOptions = {}): ChrfScore {
  const [hyps, streams] = sentenceStreams('sentenceChrf', hyp, refs);
  return scoreChrf('sentenceChrf', hyps, streams, resolveChrfOptions('sentenceChrf', options));
}

/** sacrebleu's printed line, e.g. `chrF2 = 59.73`. */
export function formatChrfScore(score: ChrfScore, options: ScoreFormatOptions = {}): string {
  return formatScoreLine(score, options);
}
