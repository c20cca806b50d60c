/**
 * ROUGE-L in the two forms sign-language translation papers report:
 * - `coco`: pycocoevalcap's `rouge/rouge.py` as neccam/slt vendors it (`mscoco_rouge.py`, averaged by
 *   `signjoey/metrics.py`), the number behind most PHOENIX-2014-T / How2Sign ROUGE tables;
 * - `rouge-score`: Google's rouge-score 0.1.2 (`rouge_scorer.RougeScorer`) rougeL / rougeLsum, with its
 *   tokenizer, nltk's Porter stemmer and `score_multi`.
 */
import { metricImplVersion } from '../../version.js';
import type { MetricScore } from './types.js';

export interface RougeTriple {
  precision: number;
  recall: number;
  fmeasure: number;
}

// ---------------------------------------------------------------------------------------------------------------
// LCS

let rowA = new Int32Array(64);
let rowB = new Int32Array(64);

/** LCS length of two id sequences, with one reused pair of rows (no allocation once the rows are long enough). */
export function lcsLength(a: ArrayLike<number>, aLen: number, b: ArrayLike<number>, bLen: number): number {
  if (rowA.length <= bLen) {
    rowA = new Int32Array(2 * (bLen + 1));
    rowB = new Int32Array(2 * (bLen + 1));
  }
  let prev = rowA;
  let cur = rowB;
  prev.fill(0, 0, bLen + 1);
  cur[0] = 0;
  for (let i = 0; i < aLen; i++) {
    const ai = a[i];
    for (let j = 1; j <= bLen; j++) {
      if (ai === b[j - 1]) cur[j] = prev[j - 1] + 1;
      else {
        const up = prev[j];
        const left = cur[j - 1];
        cur[j] = up > left ? up : left;
      }
    }
    const t = prev;
    prev = cur;
    cur = t;
  }
  return prev[bLen];
}

/** rouge-score `_lcs_table`: table[i][j] = LCS length of ref[0..i) and can[0..j). */
export function lcsTable<T>(ref: readonly T[], can: readonly T[]): Int32Array[] {
  const table = Array.from({ length: ref.length + 1 }, () => new Int32Array(can.length + 1));
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= can.length; j++) {
      table[i][j] = ref[i - 1] === can[j - 1] ? table[i - 1][j - 1] + 1 : Math.max(table[i - 1][j], table[i][j - 1]);
    }
  }
  return table;
}

/** rouge-score `lcs_ind` (`_backtrack_norec`): indices into `ref` of one LCS, with rouge-score's tie-breaking. */
export function lcsIndices<T>(ref: readonly T[], can: readonly T[]): number[] {
  const t = lcsTable(ref, can);
  const out: number[] = [];
  let i = ref.length;
  let j = can.length;
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      out.push(i - 1);
      i--;
      j--;
    } else if (t[i][j - 1] > t[i - 1][j]) j--;
    else i--;
  }
  return out.reverse();
}

/** rouge-score `_union_lcs`: the reference tokens at the union of the LCS indices against every candidate sentence. */
export function unionLcs<T>(ref: readonly T[], candidates: readonly (readonly T[])[]): T[] {
  const indices = new Set<number>();
  for (const c of candidates) for (const k of lcsIndices(ref, c)) indices.add(k);
  return [...indices].sort((x, y) => x - y).map((k) => ref[k]);
}

/** F1 as rouge-score's `scoring.fmeasure`. */
function f1(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

const ZERO: RougeTriple = Object.freeze({ precision: 0, recall: 0, fmeasure: 0 });

/** rouge-score `_summary_level_lcs`: summary-level union LCS with ROUGE-1.5.5's double-count prevention. */
export function summaryLevelLcs<T>(refSents: readonly (readonly T[])[], canSents: readonly (readonly T[])[]): RougeTriple {
  if (refSents.length === 0 || canSents.length === 0) return { ...ZERO };
  const m = refSents.reduce((s, x) => s + x.length, 0);
  const n = canSents.reduce((s, x) => s + x.length, 0);
  if (m === 0 || n === 0) return { ...ZERO };
  const countsR = new Map<T, number>();
  const countsC = new Map<T, number>();
  for (const s of refSents) for (const t of s) countsR.set(t, (countsR.get(t) ?? 0) + 1);
  for (const s of canSents) for (const t of s) countsC.set(t, (countsC.get(t) ?? 0) + 1);
  let hits = 0;
  for (const r of refSents) {
    for (const t of unionLcs(r, canSents)) {
      const c = countsC.get(t) ?? 0;
      const rr = countsR.get(t) ?? 0;
      if (c > 0 && rr > 0) {
        hits++;
        countsC.set(t, c - 1);
        countsR.set(t, rr - 1);
      }
    }
  }
  const recall = hits / m;
  const precision = hits / n;
  return { precision, recall, fmeasure: f1(precision, recall) };
}

// ---------------------------------------------------------------------------------------------------------------
// COCO variant

/** pycocoevalcap's tokenization: Python `str.split(" ")`, so "" is one empty token and double spaces make one too. */
export function cocoTokenize(sentence: string): string[] {
  return sentence.split(' ');
}

/** pycocoevalcap's F with recall weighted by β: (1 + β²)·P·R / (R + β²·P), 0 when P or R is 0. */
function cocoF(precision: number, recall: number, beta: number): number {
  if (precision === 0 || recall === 0) return 0;
  return ((1 + beta ** 2) * precision * recall) / (recall + beta ** 2 * precision);
}

/** Token → id for one corpus computation; ids go into reusable buffers for `lcsLength`. */
class Interner {
  private readonly ids = new Map<string, number>();
  private bufs: Int32Array[] = [new Int32Array(64), new Int32Array(64)];

  /** Writes the ids of `tokens` into scratch buffer `slot` and returns it (valid until the slot is reused). */
  encode(tokens: readonly string[], slot: 0 | 1): Int32Array {
    if (this.bufs[slot].length < tokens.length) this.bufs[slot] = new Int32Array(2 * tokens.length);
    const buf = this.bufs[slot];
    for (let k = 0; k < tokens.length; k++) {
      let id = this.ids.get(tokens[k]);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(tokens[k], id);
      }
      buf[k] = id;
    }
    return buf;
  }
}

function cocoSentence(hyp: string, refs: readonly string[], beta: number, interner: Interner): RougeTriple {
  const hypTokens = cocoTokenize(hyp);
  const hypIds = interner.encode(hypTokens, 1);
  let pMax = -Infinity;
  let rMax = -Infinity;
  for (const ref of refs) {
    const refTokens = cocoTokenize(ref);
    const lcs = lcsLength(interner.encode(refTokens, 0), refTokens.length, hypIds, hypTokens.length);
    pMax = Math.max(pMax, lcs / hypTokens.length);
    rMax = Math.max(rMax, lcs / refTokens.length);
  }
  return { precision: pMax, recall: rMax, fmeasure: cocoF(pMax, rMax, beta) };
}

/**
 * pycocoevalcap `Rouge.calc_score` for one hypothesis: precision and recall are maximised over the references
 * separately, then combined with β (recall-weighted; 1.2 by default).
 */
export function cocoRougeLSentence(hyp: string, refs: readonly string[], beta = 1.2): RougeTriple {
  if (refs.length === 0) throw new Error('cocoRougeLSentence: refs must hold at least one reference');
  return cocoSentence(hyp, refs, beta, new Interner());
}

// ---------------------------------------------------------------------------------------------------------------
// rouge-score variant: tokenizer and nltk's Porter stemmer (NLTK_EXTENSIONS mode, nltk's default)

const IRREGULAR_FORMS = new Map<string, string>([
  ['sky', 'sky'],
  ['skies', 'sky'],
  ['dying', 'die'],
  ['lying', 'lie'],
  ['tying', 'tie'],
  ['news', 'news'],
  ['innings', 'inning'],
  ['inning', 'inning'],
  ['outings', 'outing'],
  ['outing', 'outing'],
  ['cannings', 'canning'],
  ['canning', 'canning'],
  ['howe', 'howe'],
  ['proceed', 'proceed'],
  ['exceed', 'exceed'],
  ['succeed', 'succeed'],
]);

function isConsonant(word: string, i: number): boolean {
  const ch = word[i];
  if (ch === 'a' || ch === 'e' || ch === 'i' || ch === 'o' || ch === 'u') return false;
  if (ch === 'y') return i === 0 ? true : !isConsonant(word, i - 1);
  return true;
}

/** Porter's m: the number of VC pairs in [C](VC)^m[V]. */
function measure(stem: string): number {
  let m = 0;
  let prevVowel = false;
  for (let i = 0; i < stem.length; i++) {
    const cons = isConsonant(stem, i);
    if (cons && prevVowel) m++;
    prevVowel = !cons;
  }
  return m;
}

const hasPositiveMeasure = (stem: string): boolean => measure(stem) > 0;

function containsVowel(stem: string): boolean {
  for (let i = 0; i < stem.length; i++) if (!isConsonant(stem, i)) return true;
  return false;
}

function endsDoubleConsonant(word: string): boolean {
  const n = word.length;
  return n >= 2 && word[n - 1] === word[n - 2] && isConsonant(word, n - 1);
}

/** *o: ends consonant–vowel–consonant, the last not w, x or y; NLTK also accepts a two-letter vowel–consonant word. */
function endsCvc(word: string): boolean {
  const n = word.length;
  return (
    (n >= 3 && isConsonant(word, n - 3) && !isConsonant(word, n - 2) && isConsonant(word, n - 1) && !'wxy'.includes(word[n - 1])) ||
    (n === 2 && !isConsonant(word, 0) && isConsonant(word, 1))
  );
}

/** [suffix, replacement, condition on the stem]; the suffix `*d` means "ends in a double consonant". */
type Rule = readonly [string, string, ((stem: string) => boolean) | null];

/** nltk `_apply_rule_list`: the first rule whose suffix matches decides, whether or not its condition holds. */
function applyRules(word: string, rules: readonly Rule[]): string {
  for (const [suffix, replacement, condition] of rules) {
    if (suffix === '*d' && endsDoubleConsonant(word)) {
      const stem = word.slice(0, -2);
      return condition === null || condition(stem) ? stem + replacement : word;
    }
    if (word.endsWith(suffix)) {
      const stem = word.slice(0, word.length - suffix.length);
      return condition === null || condition(stem) ? stem + replacement : word;
    }
  }
  return word;
}

function step1a(word: string): string {
  if (word.endsWith('ies') && word.length === 4) return word.slice(0, -3) + 'ie';
  return applyRules(word, [
    ['sses', 'ss', null],
    ['ies', 'i', null],
    ['ss', 'ss', null],
    ['s', '', null],
  ]);
}

function step1b(word: string): string {
  if (word.endsWith('ied')) return word.slice(0, -3) + (word.length === 4 ? 'ie' : 'i');
  if (word.endsWith('eed')) {
    const stem = word.slice(0, -3);
    return measure(stem) > 0 ? stem + 'ee' : word;
  }
  let intermediate: string | undefined;
  for (const suffix of ['ed', 'ing']) {
    if (word.endsWith(suffix)) {
      const stem = word.slice(0, word.length - suffix.length);
      if (containsVowel(stem)) {
        intermediate = stem;
        break;
      }
    }
  }
  if (intermediate === undefined) return word;
  const last = intermediate[intermediate.length - 1];
  return applyRules(intermediate, [
    ['at', 'ate', null],
    ['bl', 'ble', null],
    ['iz', 'ize', null],
    ['*d', last, () => !'lsz'.includes(last)],
    ['', 'e', (stem) => measure(stem) === 1 && endsCvc(stem)],
  ]);
}

function step1c(word: string): string {
  return applyRules(word, [['y', 'i', (stem) => stem.length > 1 && isConsonant(stem, stem.length - 1)]]);
}

function step2(word: string): string {
  if (word.endsWith('alli') && hasPositiveMeasure(word.slice(0, -4))) return step2(word.slice(0, -4) + 'al');
  return applyRules(word, [
    ['ational', 'ate', hasPositiveMeasure],
    ['tional', 'tion', hasPositiveMeasure],
    ['enci', 'ence', hasPositiveMeasure],
    ['anci', 'ance', hasPositiveMeasure],
    ['izer', 'ize', hasPositiveMeasure],
    ['bli', 'ble', hasPositiveMeasure],
    ['alli', 'al', hasPositiveMeasure],
    ['entli', 'ent', hasPositiveMeasure],
    ['eli', 'e', hasPositiveMeasure],
    ['ousli', 'ous', hasPositiveMeasure],
    ['ization', 'ize', hasPositiveMeasure],
    ['ation', 'ate', hasPositiveMeasure],
    ['ator', 'ate', hasPositiveMeasure],
    ['alism', 'al', hasPositiveMeasure],
    ['iveness', 'ive', hasPositiveMeasure],
    ['fulness', 'ful', hasPositiveMeasure],
    ['ousness', 'ous', hasPositiveMeasure],
    ['aliti', 'al', hasPositiveMeasure],
    ['iviti', 'ive', hasPositiveMeasure],
    ['biliti', 'ble', hasPositiveMeasure],
    ['fulli', 'ful', hasPositiveMeasure],
    // The 'l' of 'logi' stays with the stem for the measure, so geo-/theo-logi stem like archaeo-logi.
    ['logi', 'log', () => hasPositiveMeasure(word.slice(0, -3))],
  ]);
}

function step3(word: string): string {
  return applyRules(word, [
    ['icate', 'ic', hasPositiveMeasure],
    ['ative', '', hasPositiveMeasure],
    ['alize', 'al', hasPositiveMeasure],
    ['iciti', 'ic', hasPositiveMeasure],
    ['ical', 'ic', hasPositiveMeasure],
    ['ful', '', hasPositiveMeasure],
    ['ness', '', hasPositiveMeasure],
  ]);
}

const measureGt1 = (stem: string): boolean => measure(stem) > 1;

function step4(word: string): string {
  return applyRules(word, [
    ['al', '', measureGt1],
    ['ance', '', measureGt1],
    ['ence', '', measureGt1],
    ['er', '', measureGt1],
    ['ic', '', measureGt1],
    ['able', '', measureGt1],
    ['ible', '', measureGt1],
    ['ant', '', measureGt1],
    ['ement', '', measureGt1],
    ['ment', '', measureGt1],
    ['ent', '', measureGt1],
    ['ion', '', (stem) => measure(stem) > 1 && (stem.endsWith('s') || stem.endsWith('t'))],
    ['ou', '', measureGt1],
    ['ism', '', measureGt1],
    ['ate', '', measureGt1],
    ['iti', '', measureGt1],
    ['ous', '', measureGt1],
    ['ive', '', measureGt1],
    ['ize', '', measureGt1],
  ]);
}

function step5a(word: string): string {
  // Both (m>1) E and (m=1 and not *o) E are tried, so this cannot be a first-match rule list.
  if (!word.endsWith('e')) return word;
  const stem = word.slice(0, -1);
  const m = measure(stem);
  return m > 1 || (m === 1 && !endsCvc(stem)) ? stem : word;
}

function step5b(word: string): string {
  return applyRules(word, [['ll', 'l', () => measure(word.slice(0, -1)) > 1]]);
}

/** nltk's `PorterStemmer().stem(word)` in its default NLTK_EXTENSIONS mode (what rouge-score uses). */
export function porterStem(word: string): string {
  const irregular = IRREGULAR_FORMS.get(word);
  if (irregular !== undefined) return irregular;
  const lowered = word.toLowerCase();
  if (Array.from(word).length <= 2) return lowered;
  return step5b(step5a(step4(step3(step2(step1c(step1b(step1a(lowered))))))));
}

const NON_ALPHANUMERIC = /[^a-z0-9]+/g;
const VALID_TOKEN = /^[a-z0-9]+$/;

/**
 * rouge-score's DefaultTokenizer: lowercase, every run of characters outside [a-z0-9] becomes a space, split on
 * whitespace, Porter-stem tokens longer than 3 characters when asked, and drop empty tokens.
 */
export function rougeScoreTokenize(text: string, useStemmer = false, stemCache?: Map<string, string>): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().replace(NON_ALPHANUMERIC, ' ').split(/\s+/)) {
    let token = raw;
    if (useStemmer && raw.length > 3) {
      const cached = stemCache?.get(raw);
      token = cached ?? porterStem(raw);
      if (cached === undefined) stemCache?.set(raw, token);
    }
    if (VALID_TOKEN.test(token)) out.push(token);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// rouge-score RougeScorer.score / score_multi

/** `rougeL`, `rougeLsum`, or ROUGE-N as `rouge1` … `rouge9`. */
export type RougeScoreType = string;

function parseRougeType(type: string): 'rougeL' | 'rougeLsum' | number {
  if (type === 'rougeL' || type === 'rougeLsum') return type;
  // Python's `re.match(r"rouge[0-9]$")` also accepts one trailing newline, and int() ignores it.
  const m = /^rouge([0-9])\n?$/.exec(type);
  if (m === null) throw new Error(`Invalid rouge type: ${type}`);
  const n = Number(m[1]);
  if (n <= 0) throw new Error(`rougen requires positive n: ${type}`);
  return n;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function scoreNgrams(target: Map<string, number>, prediction: Map<string, number>): RougeTriple {
  let overlap = 0;
  let targetCount = 0;
  let predictionCount = 0;
  for (const [gram, c] of target) {
    overlap += Math.min(c, prediction.get(gram) ?? 0);
    targetCount += c;
  }
  for (const c of prediction.values()) predictionCount += c;
  const precision = overlap / Math.max(predictionCount, 1);
  const recall = overlap / Math.max(targetCount, 1);
  return { precision, recall, fmeasure: f1(precision, recall) };
}

function scoreLcs(target: readonly string[], prediction: readonly string[], interner: Interner): RougeTriple {
  if (target.length === 0 || prediction.length === 0) return { ...ZERO };
  const lcs = lcsLength(interner.encode(target, 0), target.length, interner.encode(prediction, 1), prediction.length);
  const precision = lcs / prediction.length;
  const recall = lcs / target.length;
  return { precision, recall, fmeasure: f1(precision, recall) };
}

/** rougeLsum's sentence split: on "\n", dropping empty strings (not stripped ones). */
const summarySentences = (text: string): string[] => text.split('\n').filter((s) => s.length > 0);

export interface RougeScoreOptions {
  /** Porter-stem tokens longer than 3 characters (rouge-score `use_stemmer`). */
  useStemmer?: boolean;
}

interface ScoringContext {
  useStemmer: boolean;
  stemCache: Map<string, string>;
  interner: Interner;
}

function scorePair(target: string, prediction: string, types: readonly string[], ctx: ScoringContext): Record<string, RougeTriple> {
  const tokenize = (text: string): string[] => rougeScoreTokenize(text, ctx.useStemmer, ctx.stemCache);
  const needTokens = types.some((t) => t !== 'rougeLsum');
  const targetTokens = needTokens ? tokenize(target) : [];
  const predictionTokens = needTokens ? tokenize(prediction) : [];
  const result: Record<string, RougeTriple> = {};
  for (const type of types) {
    const parsed = parseRougeType(type);
    if (parsed === 'rougeL') result[type] = scoreLcs(targetTokens, predictionTokens, ctx.interner);
    else if (parsed === 'rougeLsum') {
      result[type] = summaryLevelLcs(summarySentences(target).map(tokenize), summarySentences(prediction).map(tokenize));
    } else result[type] = scoreNgrams(ngramCounts(targetTokens, parsed), ngramCounts(predictionTokens, parsed));
  }
  return result;
}

const newContext = (options: RougeScoreOptions): ScoringContext => ({
  useStemmer: options.useStemmer ?? false,
  stemCache: new Map(),
  interner: new Interner(),
});

/** rouge-score `RougeScorer(types, use_stemmer).score(target, prediction)` — note the argument order. */
export function rougeScoreSentence(target: string, prediction: string, types: readonly RougeScoreType[], options: RougeScoreOptions = {}): Record<string, RougeTriple> {
  return scorePair(target, prediction, types, newContext(options));
}

function scoreMulti(targets: readonly string[], prediction: string, types: readonly string[], ctx: ScoringContext): Record<string, RougeTriple> {
  if (targets.length === 0) throw new Error('rougeScoreMulti: targets must hold at least one reference');
  const all = targets.map((t) => scorePair(t, prediction, types, ctx));
  const best: Record<string, RougeTriple> = {};
  for (const type of types) {
    // np.argmax: the first target with the highest F-measure.
    let k = 0;
    for (let i = 1; i < all.length; i++) if (all[i][type].fmeasure > all[k][type].fmeasure) k = i;
    best[type] = all[k][type];
  }
  return best;
}

/** rouge-score `RougeScorer.score_multi(targets, prediction)`: per type, the target with the highest F-measure. */
export function rougeScoreMulti(targets: readonly string[], prediction: string, types: readonly RougeScoreType[], options: RougeScoreOptions = {}): Record<string, RougeTriple> {
  return scoreMulti(targets, prediction, types, newContext(options));
}

// ---------------------------------------------------------------------------------------------------------------
// Corpus API

/** numpy's `pairwise_sum` (8-way unrolled blocks of ≤ 128), so means equal `np.mean` bit for bit. */
function pairwiseSum(a: readonly number[], start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = a.slice(start, start + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** `np.mean` of a float64 vector: numpy reduces in buffer-sized chunks of 8192, each summed pairwise. */
function numpyMean(a: readonly number[]): number {
  let sum = 0;
  for (let start = 0; start < a.length; start += 8192) sum += pairwiseSum(a, start, Math.min(8192, a.length - start));
  return sum / a.length;
}

export interface RougeOptions {
  /** `coco` (default) or `rouge-score`. */
  variant?: 'coco' | 'rouge-score';
  /** COCO only: recall weight β (default 1.2). */
  beta?: number;
  /** COCO only: lowercase hypotheses and references first (default false; rouge-score always lowercases). */
  lowercase?: boolean;
  /** rouge-score only: Porter stemming (default false). */
  useStemmer?: boolean;
  /** rouge-score only: `rougeL` (default) or `rougeLsum` (sentences split on "\n"). */
  type?: 'rougeL' | 'rougeLsum';
}

export interface RougeScore extends MetricScore {
  /** Mean sentence precision, 0–1. */
  precision: number;
  /** Mean sentence recall, 0–1. */
  recall: number;
  /** Mean sentence F-measure, 0–1 (score / 100). */
  fmeasure: number;
  /** F-measure of every hypothesis, 0–1, in input order. */
  perSentence: number[];
}

function checkCorpus(hyps: readonly string[], refs: readonly (readonly string[])[]): void {
  if (!Array.isArray(hyps)) throw new Error('rougeL: hyps must be an array of strings');
  if (!Array.isArray(refs) || refs.length === 0) {
    throw new Error('rougeL: refs must be a non-empty array of reference streams (refs[k][i] = k-th reference of hypothesis i)');
  }
  if (hyps.length === 0) throw new Error('rougeL: hyps is empty; ROUGE-L of an empty corpus is undefined');
  hyps.forEach((h, i) => {
    if (typeof h !== 'string') throw new Error(`rougeL: hyps[${i}] is ${typeof h}, expected a string`);
  });
  refs.forEach((stream, k) => {
    if (!Array.isArray(stream)) throw new Error(`rougeL: refs[${k}] must be an array of strings`);
    if (stream.length !== hyps.length) {
      throw new Error(`rougeL: refs[${k}] has ${stream.length} references but hyps has ${hyps.length} hypotheses`);
    }
    stream.forEach((r, i) => {
      if (typeof r !== 'string') throw new Error(`rougeL: refs[${k}][${i}] is ${typeof r}, expected a string`);
    });
  });
}

/**
 * Corpus ROUGE-L of `hyps` against reference streams `refs` (refs[k][i] is the k-th reference of hypothesis i, as in
 * our BLEU API). Score = 100 × the mean per-sentence F-measure in both variants.
 */
export function rougeL(hyps: readonly string[], refs: readonly (readonly string[])[], options: RougeOptions = {}): RougeScore {
  checkCorpus(hyps, refs);
  const variant = options.variant ?? 'coco';
  const n = hyps.length;
  const perSentence: number[] = new Array<number>(n);

  if (variant === 'coco') {
    if (options.useStemmer !== undefined || options.type !== undefined) {
      throw new Error("rougeL: useStemmer and type apply to variant 'rouge-score' only");
    }
    const fold = options.lowercase ? (s: string) => s.toLowerCase() : (s: string) => s;
    const beta = options.beta ?? 1.2;
    if (!(beta > 0) || !Number.isFinite(beta)) throw new Error(`rougeL: beta must be a positive finite number, got ${beta}`);
    const interner = new Interner();
    const sentenceRefs = new Array<string>(refs.length);
    let precisionSum = 0;
    let recallSum = 0;
    let score = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < refs.length; k++) sentenceRefs[k] = fold(refs[k][i]);
      const s = cocoSentence(fold(hyps[i]), sentenceRefs, beta, interner);
      perSentence[i] = s.fmeasure;
      precisionSum += s.precision;
      recallSum += s.recall;
      // neccam/slt `metrics.rouge`: sum of each sentence score divided by the sentence count, then × 100.
      score += s.fmeasure / n;
    }
    return {
      name: 'ROUGE-L',
      score: score * 100,
      signature: `nrefs:${refs.length}|variant:coco|beta:${beta}|tok:space|case:${options.lowercase ? 'lc' : 'mixed'}|version:${metricImplVersion('pycocoevalcap')}`,
      precision: precisionSum / n,
      recall: recallSum / n,
      fmeasure: score,
      perSentence,
    };
  }
  if (variant !== 'rouge-score') throw new Error(`rougeL: unknown variant '${String(variant)}', expected 'coco' or 'rouge-score'`);
  if (options.beta !== undefined) throw new Error("rougeL: beta applies to variant 'coco' only (rouge-score reports F1)");
  if (options.lowercase === false) throw new Error("rougeL: variant 'rouge-score' always lowercases; lowercase: false cannot apply");
  const type = options.type ?? 'rougeL';
  if (type !== 'rougeL' && type !== 'rougeLsum') throw new Error(`rougeL: type must be 'rougeL' or 'rougeLsum', got '${String(type)}'`);
  const ctx = newContext(options);
  const targets = new Array<string>(refs.length);
  const precisions = new Array<number>(n);
  const recalls = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < refs.length; k++) targets[k] = refs[k][i];
    const s = scoreMulti(targets, hyps[i], [type], ctx)[type];
    perSentence[i] = s.fmeasure;
    precisions[i] = s.precision;
    recalls[i] = s.recall;
  }
  // rouge-score leaves aggregation to the caller; the usual one is np.mean over the per-sentence scores.
  const fmeasure = numpyMean(perSentence);
  return {
    name: type === 'rougeL' ? 'ROUGE-L' : 'ROUGE-Lsum',
    score: fmeasure * 100,
    signature:
      `nrefs:${refs.length}|variant:rouge-score|type:${type}|stem:${ctx.useStemmer ? 'porter' : 'no'}|tok:rouge-score|case:lc` +
      `|multi:max-f|avg:mean-f|version:${metricImplVersion('rouge-score-0.1.2')}`,
    precision: numpyMean(precisions),
    recall: numpyMean(recalls),
    fmeasure,
    perSentence,
  };
}
