/**
 * Fingerspelling letter accuracy (ChicagoFSWild) and phoneme error rate / accuracy over ARPAbet tokens.
 */
import { metricImplVersion } from '../../version.js';
import type { MetricScore } from './types.js';
import { EditTable, processWords } from './wer.js';

export interface EditCounts {
  hits: number;
  substitutions: number;
  deletions: number;
  insertions: number;
}

export interface LetterAccuracyScore extends MetricScore, EditCounts {
  /** 100 · (N − S − D − I) / N; negative when the errors outnumber the reference characters. */
  accuracy: number;
  /** N: reference characters, spaces and punctuation included. */
  referenceChars: number;
}

/** HTK's alignment weights (deletion, insertion, substitution), which ChicagoFSWild's `compute_acc` uses. */
const HTK_COSTS = { deletion: 7, insertion: 7, substitution: 10 };

function checkPair(fn: string, refs: readonly string[], hyps: readonly string[]): void {
  if (!Array.isArray(refs)) throw new Error(`${fn}: refs must be an array of strings`);
  if (!Array.isArray(hyps)) throw new Error(`${fn}: hyps must be an array of strings`);
  if (refs.length !== hyps.length) {
    throw new Error(`${fn}: refs has ${refs.length} sentences but hyps has ${hyps.length}; they must pair up one to one`);
  }
  refs.forEach((r, i) => {
    if (typeof r !== 'string') throw new Error(`${fn}: refs[${i}] is ${typeof r}, expected a string`);
  });
  hyps.forEach((h, i) => {
    if (typeof h !== 'string') throw new Error(`${fn}: hyps[${i}] is ${typeof h}, expected a string`);
  });
}

/**
 * ChicagoFSWild `iterative_levenshtein` for one pair: HTK-weighted table over (hypothesis × reference) and its
 * backtrack order (hypothesis-only step, then reference-only step, then substitution, else hit).
 */
function htkAlign(ref: readonly string[], hyp: readonly string[]): EditCounts {
  const ids = new Map<string, number>();
  const id = (c: string): number => {
    let v = ids.get(c);
    if (v === undefined) {
      v = ids.size;
      ids.set(c, v);
    }
    return v;
  };
  const a = Int32Array.from(hyp, id);
  const b = Int32Array.from(ref, id);
  const t = new EditTable(a, b, HTK_COSTS);
  const counts: EditCounts = { hits: 0, substitutions: 0, deletions: 0, insertions: 0 };
  let row = a.length;
  let col = b.length;
  while (row !== 0 || col !== 0) {
    if (row === 0) {
      counts.deletions += col;
      col = 0;
    } else if (col === 0) {
      counts.insertions += row;
      row = 0;
    } else if (t.at(row, col) === t.at(row - 1, col) + HTK_COSTS.deletion) {
      counts.insertions++;
      row--;
    } else if (t.at(row, col) === t.at(row, col - 1) + HTK_COSTS.insertion) {
      counts.deletions++;
      col--;
    } else if (t.at(row, col) === t.at(row - 1, col - 1) + HTK_COSTS.substitution) {
      counts.substitutions++;
      row--;
      col--;
    } else {
      counts.hits++;
      row--;
      col--;
    }
  }
  return counts;
}

/**
 * Letter accuracy as ChicagoFSWild defines it and its evaluation code (`compute_acc`, reused by MiCT-RANet)
 * computes it: 100 · (N − S − D − I) / N summed over the corpus, on the label's characters as they are (the space,
 * apostrophe, period, & and @ count like letters; no case folding), with S/D/I from an HTK-weighted alignment
 * (deletion 7, insertion 7, substitution 10).
 */
export function letterAccuracy(refs: readonly string[], hyps: readonly string[]): LetterAccuracyScore {
  checkPair('letterAccuracy', refs, hyps);
  const total: EditCounts = { hits: 0, substitutions: 0, deletions: 0, insertions: 0 };
  let n = 0;
  refs.forEach((r, i) => {
    const ref = Array.from(r);
    const c = htkAlign(ref, Array.from(hyps[i]));
    n += ref.length;
    total.hits += c.hits;
    total.substitutions += c.substitutions;
    total.deletions += c.deletions;
    total.insertions += c.insertions;
  });
  if (n === 0) throw new Error('letterAccuracy: the references hold no characters (N = 0), so accuracy is undefined');
  const accuracy = (100 * (n - total.deletions - total.substitutions - total.insertions)) / n;
  return {
    name: 'LetterAcc',
    score: accuracy,
    signature: `metric:letter-acc|unit:char|space:counted|case:mixed|costs:htk-7-7-10|version:${metricImplVersion('chicagofswild-compute_acc')}`,
    accuracy,
    referenceChars: n,
    ...total,
  };
}

export interface PhonemeScore extends MetricScore, EditCounts {
  /** PER = (S + D + I) / N × 100. */
  per: number;
  /** 100 − PER. */
  accuracy: number;
  /** N: reference phonemes. */
  referencePhonemes: number;
}

function phonemeCounts(fn: string, refs: readonly string[], hyps: readonly string[]): Omit<PhonemeScore, keyof MetricScore> {
  checkPair(fn, refs, hyps);
  // Tokens are split like jiwer's default word transform, so ARPAbet symbols (stress digits included) are words.
  const out = processWords(refs, hyps);
  const n = out.hits + out.substitutions + out.deletions;
  if (n === 0) throw new Error(`${fn}: the references hold no phonemes (N = 0), so the rate is undefined`);
  const per = ((out.substitutions + out.deletions + out.insertions) / n) * 100;
  return { per, accuracy: 100 - per, referencePhonemes: n, hits: out.hits, substitutions: out.substitutions, deletions: out.deletions, insertions: out.insertions };
}

const phonemeSignature = (metric: string): string =>
  `metric:${metric}|unit:arpabet-token|tok:space|case:mixed|version:${metricImplVersion('jiwer-4.0.0')}`;

/** Phoneme error rate over space-separated ARPAbet tokens: (S + D + I) / N × 100 (may exceed 100). */
export function phonemeErrorRate(refs: readonly string[], hyps: readonly string[]): PhonemeScore {
  const c = phonemeCounts('phonemeErrorRate', refs, hyps);
  return { name: 'PER', score: c.per, signature: phonemeSignature('per'), ...c };
}

/** Phoneme accuracy, 100 − PER (may be negative). */
export function phonemeAccuracy(refs: readonly string[], hyps: readonly string[]): PhonemeScore {
  const c = phonemeCounts('phonemeAccuracy', refs, hyps);
  return { name: 'PhonemeAcc', score: c.accuracy, signature: phonemeSignature('phoneme-acc'), ...c };
}
