/**
 * The jiwer 4.0 error-rate family (WER, MER, WIL, WIP, CER) with jiwer's transforms, measures, alignment chunks and
 * text visualisations, plus the one edit-distance table that every signweave error rate is built on.
 *
 * jiwer aligns with rapidfuzz's `Levenshtein.opcodes`, whose choice among equally cheap alignments decides the
 * S/D/I split; `levenshteinOpcodes` reproduces rapidfuzz-cpp's procedure step by step: strip the common prefix and
 * suffix, split with Hirschberg when the band matrix would exceed 1 MiB, backtrack the bit-parallel matrix
 * (deletion first, then insertion, then diagonal) and group edit operations into opcodes.
 */
import { metricImplVersion } from '../../version.js';
import type { MetricScore } from './types.js';

// ---------------------------------------------------------------------------------------------------------------
// Edit-distance table

/** Per-operation costs; `deletion` is a step along `a` alone, `insertion` a step along `b` alone. */
export interface EditCosts {
  readonly deletion: number;
  readonly insertion: number;
  readonly substitution: number;
}

export const UNIT_COSTS: EditCosts = { deletion: 1, insertion: 1, substitution: 1 };

/** Larger than any reachable cost; marks cells outside the diagonal band. */
const OUTSIDE = 0x3fffffff;

/**
 * Weighted edit-distance table D(i, j) between a[0..i) and b[0..j), restricted to the diagonals |i − j| ≤ band
 * (cells outside read as a huge cost). With the default band the table is exact everywhere.
 */
export class EditTable {
  readonly rows: number;
  readonly cols: number;
  private readonly band: number;
  private readonly offsets: Int32Array;
  private readonly data: Int32Array;

  constructor(a: ArrayLike<number>, b: ArrayLike<number>, costs: EditCosts = UNIT_COSTS, band = Infinity) {
    const n = a.length;
    const m = b.length;
    this.rows = n + 1;
    this.cols = m + 1;
    this.band = Math.min(band, Math.max(n, m));
    this.offsets = new Int32Array(n + 2);
    for (let i = 0; i <= n; i++) this.offsets[i + 1] = this.offsets[i] + (this.hi(i) - this.lo(i) + 1);
    this.data = new Int32Array(this.offsets[n + 1]);
    const { deletion, insertion, substitution } = costs;
    for (let i = 0; i <= n; i++) {
      const lo = this.lo(i);
      const hi = this.hi(i);
      const base = this.offsets[i] - lo;
      for (let j = lo; j <= hi; j++) {
        let d: number;
        if (i === 0) d = j * insertion;
        else if (j === 0) d = i * deletion;
        else {
          d = Math.min(
            this.at(i - 1, j) + deletion,
            (j > lo ? this.data[base + j - 1] : OUTSIDE) + insertion,
            this.at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : substitution),
          );
        }
        this.data[base + j] = d;
      }
    }
  }

  private lo(i: number): number {
    return Math.max(0, i - this.band);
  }

  private hi(i: number): number {
    return Math.min(this.cols - 1, i + this.band);
  }

  /** D(i, j); cells outside the band (or the table) read as a huge cost. */
  at(i: number, j: number): number {
    if (i < 0 || i >= this.rows) return OUTSIDE;
    const lo = this.lo(i);
    if (j < lo || j > this.hi(i)) return OUTSIDE;
    return this.data[this.offsets[i] + j - lo];
  }

  /** The distance between the whole sequences. */
  get distance(): number {
    return this.at(this.rows - 1, this.cols - 1);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// rapidfuzz Levenshtein.opcodes

export type AlignmentChunkType = 'equal' | 'substitute' | 'insert' | 'delete';

/** jiwer's AlignmentChunk: reference span [refStartIdx, refEndIdx) aligned with hypothesis span [hypStartIdx, hypEndIdx). */
export interface AlignmentChunk {
  type: AlignmentChunkType;
  refStartIdx: number;
  refEndIdx: number;
  hypStartIdx: number;
  hypEndIdx: number;
}

const REPLACE = 0;
const INSERT = 1;
const DELETE = 2;
type EditType = typeof REPLACE | typeof INSERT | typeof DELETE;

interface EditOp {
  type: EditType;
  src: number;
  dest: number;
}

/** rapidfuzz-cpp `recover_alignment` over an exact table of s1[lo1, hi1) × s2[lo2, hi2). */
function alignDirect(s1: Int32Array, s2: Int32Array, lo1: number, hi1: number, lo2: number, hi2: number, max: number, ops: EditOp[]): void {
  const a = s1.subarray(lo1, hi1);
  const b = s2.subarray(lo2, hi2);
  const reversed: EditOp[] = [];
  let col = a.length;
  let row = b.length;
  if (col > 0 && row > 0) {
    // Cells with a value ≤ max (every cell an optimal path or a backtracking test can reach) lie within the band.
    const t = new EditTable(a, b, UNIT_COSTS, max);
    while (row > 0 && col > 0) {
      if (t.at(col, row) - t.at(col - 1, row) === 1) {
        col--;
        reversed.push({ type: DELETE, src: col + lo1, dest: row + lo2 });
      } else {
        row--;
        if (row > 0 && t.at(col, row) - t.at(col - 1, row) === -1) {
          reversed.push({ type: INSERT, src: col + lo1, dest: row + lo2 });
        } else {
          col--;
          if (a[col] !== b[row]) reversed.push({ type: REPLACE, src: col + lo1, dest: row + lo2 });
        }
      }
    }
  }
  while (col > 0) {
    col--;
    reversed.push({ type: DELETE, src: col + lo1, dest: row + lo2 });
  }
  while (row > 0) {
    row--;
    reversed.push({ type: INSERT, src: col + lo1, dest: row + lo2 });
  }
  for (let k = reversed.length - 1; k >= 0; k--) ops.push(reversed[k]);
}

/** v[i] = distance(a[0..i), b) for every i, in O(|a|) memory. */
function lastColumn(a: Int32Array, b: Int32Array): Int32Array {
  const v = new Int32Array(a.length + 1);
  for (let i = 0; i <= a.length; i++) v[i] = i;
  for (let j = 1; j <= b.length; j++) {
    let diag = v[0];
    v[0] = j;
    const bj = b[j - 1];
    for (let i = 1; i <= a.length; i++) {
      const up = v[i];
      v[i] = Math.min(up + 1, v[i - 1] + 1, diag + (a[i - 1] === bj ? 0 : 1));
      diag = up;
    }
  }
  return v;
}

/** rapidfuzz-cpp `levenshtein_align_hirschberg`: the same affix stripping, size threshold and split rule. */
function alignHirschberg(s1: Int32Array, s2: Int32Array, lo1: number, hi1: number, lo2: number, hi2: number, maxIn: number, ops: EditOp[]): void {
  while (lo1 < hi1 && lo2 < hi2 && s1[lo1] === s2[lo2]) {
    lo1++;
    lo2++;
  }
  while (lo1 < hi1 && lo2 < hi2 && s1[hi1 - 1] === s2[hi2 - 1]) {
    hi1--;
    hi2--;
  }
  const len1 = hi1 - lo1;
  const len2 = hi2 - lo2;
  const max = Math.min(maxIn, Math.max(len1, len2));
  const fullBand = Math.min(len1, 2 * max + 1);
  const matrixSize = Math.floor((2 * fullBand * len2) / 8);
  if (matrixSize < 1024 * 1024 || len1 < 65 || len2 < 10) {
    alignDirect(s1, s2, lo1, hi1, lo2, hi2, max, ops);
    return;
  }
  // Split s2 in half and put the s1 split at the first position minimising left + right distance.
  const leftSize = Math.floor(len2 / 2);
  const left = lastColumn(s1.subarray(lo1, hi1), s2.subarray(lo2, lo2 + leftSize));
  const right = lastColumn(s1.slice(lo1, hi1).reverse(), s2.slice(lo2 + leftSize, hi2).reverse());
  let mid = 0;
  let best = left[0] + right[len1];
  for (let i = 0; i < len1; i++) {
    const score = left[i + 1] + right[len1 - i - 1];
    if (score < best) {
      best = score;
      mid = i + 1;
    }
  }
  alignHirschberg(s1, s2, lo1, lo1 + mid, lo2, lo2 + leftSize, left[mid], ops);
  alignHirschberg(s1, s2, lo1 + mid, hi1, lo2 + leftSize, hi2, right[len1 - mid], ops);
}

const CHUNK_TYPE: Record<EditType, AlignmentChunkType> = { [REPLACE]: 'substitute', [INSERT]: 'insert', [DELETE]: 'delete' };

/**
 * rapidfuzz `Levenshtein.opcodes(ref, hyp)` as jiwer uses it (`replace` renamed `substitute`): the alignment of two
 * token-id sequences as chunks covering both completely.
 */
export function levenshteinOpcodes(ref: ArrayLike<number>, hyp: ArrayLike<number>): AlignmentChunk[] {
  const s1 = Int32Array.from(ref);
  const s2 = Int32Array.from(hyp);
  const ops: EditOp[] = [];
  alignHirschberg(s1, s2, 0, s1.length, 0, s2.length, Math.max(s1.length, s2.length), ops);

  const chunks: AlignmentChunk[] = [];
  let src = 0;
  let dest = 0;
  for (let i = 0; i < ops.length; ) {
    if (src < ops[i].src || dest < ops[i].dest) {
      chunks.push({ type: 'equal', refStartIdx: src, refEndIdx: ops[i].src, hypStartIdx: dest, hypEndIdx: ops[i].dest });
      src = ops[i].src;
      dest = ops[i].dest;
    }
    const srcBegin = src;
    const destBegin = dest;
    const type = ops[i].type;
    do {
      if (type !== INSERT) src++;
      if (type !== DELETE) dest++;
      i++;
    } while (i < ops.length && ops[i].type === type && src === ops[i].src && dest === ops[i].dest);
    chunks.push({ type: CHUNK_TYPE[type], refStartIdx: srcBegin, refEndIdx: src, hypStartIdx: destBegin, hypEndIdx: dest });
  }
  if (src < s1.length || dest < s2.length) {
    chunks.push({ type: 'equal', refStartIdx: src, refEndIdx: s1.length, hypStartIdx: dest, hypEndIdx: s2.length });
  }
  return chunks;
}

// ---------------------------------------------------------------------------------------------------------------
// jiwer transforms

/** A jiwer transformation pipeline: sentences in, one list of words (or characters) per output sentence out. */
export interface JiwerTransform {
  /** Names the pipeline in metric signatures. */
  readonly name: string;
  apply(sentences: readonly string[]): string[][];
}

/** Python's `\s` / `str.isspace()` set, which RemoveMultipleSpaces and Strip use (wider than ASCII whitespace). */
const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const MULTIPLE_SPACES = new RegExp(`[${PY_WS}]{2,}`, 'g');
const STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'g');

const removeMultipleSpaces = (s: string): string => s.replace(MULTIPLE_SPACES, ' ');
const strip = (s: string): string => s.replace(STRIP, '');
/** ReduceToSingleSentence: drop empty strings, join the rest with a space. */
const reduceToSingleSentence = (sentences: string[]): string[] => {
  const kept = sentences.filter((s) => s.length >= 1);
  return kept.length === 0 ? [] : [kept.join(' ')];
};
/** ReduceToListOfListOfWords / Chars: an empty collection becomes one empty sentence, as in jiwer. */
const listOfLists = (sentences: string[], split: (s: string) => string[]): string[][] =>
  sentences.length === 0 ? [[]] : sentences.map(split);
const words = (s: string): string[] => s.split(' ').filter((w) => w.length >= 1);
/** Python iterates code points, not UTF-16 units. */
const chars = (s: string): string[] => Array.from(s);

/** jiwer `wer_default`: RemoveMultipleSpaces, Strip, ReduceToListOfListOfWords (no case folding, punctuation kept). */
export const werDefault: JiwerTransform = {
  name: 'jiwer-default',
  apply: (sentences) => listOfLists(sentences.map((s) => strip(removeMultipleSpaces(s))), words),
};

/** jiwer `wer_contiguous`: as `werDefault`, but all sentences joined into one first. */
export const werContiguous: JiwerTransform = {
  name: 'jiwer-contiguous',
  apply: (sentences) => listOfLists(reduceToSingleSentence(sentences.map((s) => strip(removeMultipleSpaces(s)))), words),
};

/** jiwer `cer_default`: Strip, ReduceToListOfListOfChars (spaces inside a sentence count as characters). */
export const cerDefault: JiwerTransform = {
  name: 'jiwer-cer-default',
  apply: (sentences) => listOfLists(sentences.map(strip), chars),
};

/** jiwer `cer_contiguous`: as `cerDefault`, but all sentences joined into one first. */
export const cerContiguous: JiwerTransform = {
  name: 'jiwer-cer-contiguous',
  apply: (sentences) => listOfLists(reduceToSingleSentence(sentences.map(strip)), chars),
};

// ---------------------------------------------------------------------------------------------------------------
// process_words / process_characters

export interface ProcessOptions {
  referenceTransform?: JiwerTransform;
  hypothesisTransform?: JiwerTransform;
}

interface AlignmentCounts {
  references: string[][];
  hypotheses: string[][];
  alignments: AlignmentChunk[][];
  hits: number;
  substitutions: number;
  insertions: number;
  deletions: number;
}

/** jiwer `WordOutput`. */
export interface WordOutput extends AlignmentCounts {
  wer: number;
  mer: number;
  wil: number;
  wip: number;
}

/** jiwer `CharacterOutput`. */
export interface CharacterOutput extends AlignmentCounts {
  cer: number;
}

function asSentenceList(value: string | readonly string[], fn: string, argument: string): readonly string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) throw new Error(`${fn}: ${argument} must be a string or an array of strings`);
  value.forEach((s, i) => {
    if (typeof s !== 'string') throw new Error(`${fn}: ${argument}[${i}] is ${typeof s}, expected a string`);
  });
  return value;
}

function applyTransform(transform: JiwerTransform, sentences: readonly string[], fn: string, argument: string): string[][] {
  const out = transform.apply(sentences);
  const ok = Array.isArray(out) && out.every((s) => Array.isArray(s) && s.every((w) => typeof w === 'string'));
  if (!ok) {
    throw new Error(
      `${fn}: after applying the transform '${transform.name}', each ${argument} should be a list of strings, ` +
        'with each string being a single word or character',
    );
  }
  return out;
}

function align(
  reference: string | readonly string[],
  hypothesis: string | readonly string[],
  referenceTransform: JiwerTransform,
  hypothesisTransform: JiwerTransform,
  fn: string,
): AlignmentCounts {
  const references = applyTransform(referenceTransform, asSentenceList(reference, fn, 'reference'), fn, 'reference');
  const hypotheses = applyTransform(hypothesisTransform, asSentenceList(hypothesis, fn, 'hypothesis'), fn, 'hypothesis');
  if (references.length !== hypotheses.length) {
    throw new Error(
      `${fn}: after applying the transforms, the reference and hypothesis sentence counts must match; ` +
        `got ${references.length} reference and ${hypotheses.length} hypothesis sentences`,
    );
  }
  // Map every word to an integer id shared by the whole corpus, as jiwer's _word2int does.
  const ids = new Map<string, number>();
  const toIds = (sentence: string[]): Int32Array => {
    const out = new Int32Array(sentence.length);
    sentence.forEach((w, k) => {
      let id = ids.get(w);
      if (id === undefined) {
        id = ids.size;
        ids.set(w, id);
      }
      out[k] = id;
    });
    return out;
  };
  const refIds = references.map(toIds);
  const hypIds = hypotheses.map(toIds);
  const result: AlignmentCounts = { references, hypotheses, alignments: [], hits: 0, substitutions: 0, insertions: 0, deletions: 0 };
  for (let i = 0; i < refIds.length; i++) {
    const chunks = levenshteinOpcodes(refIds[i], hypIds[i]);
    for (const c of chunks) {
      if (c.type === 'equal') result.hits += c.refEndIdx - c.refStartIdx;
      else if (c.type === 'substitute') result.substitutions += c.refEndIdx - c.refStartIdx;
      else if (c.type === 'delete') result.deletions += c.refEndIdx - c.refStartIdx;
      else result.insertions += c.hypEndIdx - c.hypStartIdx;
    }
    result.alignments.push(chunks);
  }
  return result;
}

/**
 * jiwer 4 `process_words`: word-level alignment of one or more sentence pairs and the corpus measures. An empty
 * reference is allowed (jiwer 4): with no reference words at all, WER is the number of insertions.
 */
export function processWords(reference: string | readonly string[], hypothesis: string | readonly string[], options: ProcessOptions = {}): WordOutput {
  const counts = align(reference, hypothesis, options.referenceTransform ?? werDefault, options.hypothesisTransform ?? werDefault, 'processWords');
  const { hits, substitutions: s, deletions: d, insertions: ins } = counts;
  const refWords = counts.references.reduce((n, r) => n + r.length, 0);
  const hypWords = counts.hypotheses.reduce((n, h) => n + h.length, 0);
  let wer: number;
  let mer: number;
  let wip: number;
  if (refWords === 0) {
    wer = ins;
    mer = hypWords === 0 ? 0 : 1;
    wip = hypWords === 0 ? 1 : 0;
  } else {
    wer = (s + d + ins) / (hits + s + d);
    mer = (s + d + ins) / (hits + s + d + ins);
    wip = hypWords >= 1 ? (hits / refWords) * (hits / hypWords) : 0;
  }
  return { ...counts, wer, mer, wil: 1 - wip, wip };
}

/** jiwer 4 `process_characters`: `process_words` over characters (spaces included) with the CER transforms. */
export function processCharacters(reference: string | readonly string[], hypothesis: string | readonly string[], options: ProcessOptions = {}): CharacterOutput {
  const out = processWords(reference, hypothesis, {
    referenceTransform: options.referenceTransform ?? cerDefault,
    hypothesisTransform: options.hypothesisTransform ?? cerDefault,
  });
  const { references, hypotheses, alignments, hits, substitutions, insertions, deletions } = out;
  return { references, hypotheses, alignments, cer: out.wer, hits, substitutions, insertions, deletions };
}

/** jiwer `wer` (a fraction, not a percentage). */
export function wer(reference: string | readonly string[], hypothesis: string | readonly string[], options?: ProcessOptions): number {
  return processWords(reference, hypothesis, options).wer;
}

/** jiwer `mer`. */
export function mer(reference: string | readonly string[], hypothesis: string | readonly string[], options?: ProcessOptions): number {
  return processWords(reference, hypothesis, options).mer;
}

/** jiwer `wil`. */
export function wil(reference: string | readonly string[], hypothesis: string | readonly string[], options?: ProcessOptions): number {
  return processWords(reference, hypothesis, options).wil;
}

/** jiwer `wip`. */
export function wip(reference: string | readonly string[], hypothesis: string | readonly string[], options?: ProcessOptions): number {
  return processWords(reference, hypothesis, options).wip;
}

/** jiwer `cer` (a fraction). */
export function cer(reference: string | readonly string[], hypothesis: string | readonly string[], options?: ProcessOptions): number {
  return processCharacters(reference, hypothesis, options).cer;
}

// ---------------------------------------------------------------------------------------------------------------
// MetricScore wrappers

export interface WerScore extends MetricScore {
  wer: number;
  mer: number;
  wil: number;
  wip: number;
  hits: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  /** N: reference words after the transform. */
  referenceWords: number;
}

export interface CerScore extends MetricScore {
  cer: number;
  hits: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  /** N: reference characters after the transform. */
  referenceChars: number;
}

/** Options of the MetricScore wrappers: jiwer's transforms, plus case folding that the signature records. */
export interface ScoreProcessOptions extends ProcessOptions {
  /** Lowercase references and hypotheses before the transforms (default false). */
  lowercase?: boolean;
}

function lowercased(text: string | readonly string[], lowercase: boolean | undefined): string | readonly string[] {
  if (!lowercase) return text;
  return typeof text === 'string' ? text.toLowerCase() : text.map((t) => t.toLowerCase());
}

function transformField(options: ProcessOptions, fallback: JiwerTransform): string {
  const ref = options.referenceTransform ?? fallback;
  const hyp = options.hypothesisTransform ?? fallback;
  return ref.name === hyp.name ? ref.name : `ref:${ref.name},hyp:${hyp.name}`;
}

/** Corpus WER as a MetricScore: score = WER × 100; the jiwer fractions and counts are the components. */
export function werScore(references: string | readonly string[], hypotheses: string | readonly string[], options: ScoreProcessOptions = {}): WerScore {
  const out = processWords(lowercased(references, options.lowercase), lowercased(hypotheses, options.lowercase), options);
  return {
    name: 'WER',
    score: out.wer * 100,
    signature: `metric:wer|transform:${transformField(options, werDefault)}|case:${options.lowercase ? 'lc' : 'mixed'}|version:${metricImplVersion('jiwer-4.0.0')}`,
    wer: out.wer,
    mer: out.mer,
    wil: out.wil,
    wip: out.wip,
    hits: out.hits,
    substitutions: out.substitutions,
    deletions: out.deletions,
    insertions: out.insertions,
    referenceWords: out.hits + out.substitutions + out.deletions,
  };
}

/** Corpus CER as a MetricScore: score = CER × 100. */
export function cerScore(references: string | readonly string[], hypotheses: string | readonly string[], options: ScoreProcessOptions = {}): CerScore {
  const out = processCharacters(lowercased(references, options.lowercase), lowercased(hypotheses, options.lowercase), options);
  return {
    name: 'CER',
    score: out.cer * 100,
    signature: `metric:cer|transform:${transformField(options, cerDefault)}|case:${options.lowercase ? 'lc' : 'mixed'}|version:${metricImplVersion('jiwer-4.0.0')}`,
    cer: out.cer,
    hits: out.hits,
    substitutions: out.substitutions,
    deletions: out.deletions,
    insertions: out.insertions,
    referenceChars: out.hits + out.substitutions + out.deletions,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Visualisation (jiwer alignment.py)

/** Python `len`: code points. */
const pyLen = (s: string): number => Array.from(s).length;
const padLeft = (s: string, width: number): string => ' '.repeat(Math.max(0, width - pyLen(s))) + s;
const padRight = (s: string, width: number): string => s + ' '.repeat(Math.max(0, width - pyLen(s)));

function comparisonString(reference: string[], hypothesis: string[], chunks: AlignmentChunk[], spaceSeparated: boolean, lineWidth: number | undefined): string {
  let refStr = 'REF: ';
  let hypStr = 'HYP: ';
  let opStr = '     ';
  let aggregated = '';
  const sep = spaceSeparated ? ' ' : '';
  const trim = (s: string): string => (spaceSeparated ? s.slice(0, -1) : s);
  for (const chunk of chunks) {
    let refs: string[];
    let hyps: string[];
    let opChar: string;
    if (chunk.type === 'equal' || chunk.type === 'substitute') {
      refs = reference.slice(chunk.refStartIdx, chunk.refEndIdx);
      hyps = hypothesis.slice(chunk.hypStartIdx, chunk.hypEndIdx);
      opChar = chunk.type === 'equal' ? ' ' : 'S';
    } else if (chunk.type === 'delete') {
      refs = reference.slice(chunk.refStartIdx, chunk.refEndIdx);
      hyps = refs.map(() => '*');
      opChar = 'D';
    } else {
      hyps = hypothesis.slice(chunk.hypStartIdx, chunk.hypEndIdx);
      refs = hyps.map(() => '*');
      opChar = 'I';
    }
    for (let k = 0; k < refs.length; k++) {
      let rf = refs[k];
      let hp = hyps[k];
      const width = Math.max(pyLen(rf), pyLen(hp), 1);
      if (lineWidth !== undefined && pyLen(refStr) + width > lineWidth) {
        aggregated += `${trim(refStr)}\n${trim(hypStr)}\n${trim(opStr)}\n\n`;
        refStr = 'REF: ';
        hypStr = 'HYP: ';
        opStr = '     ';
      }
      if (rf === '*') rf = '*'.repeat(width);
      else if (hp === '*') hp = '*'.repeat(width);
      refStr += padLeft(rf, width) + sep;
      hypStr += padLeft(hp, width) + sep;
      opStr += padLeft(opChar, width) + sep;
    }
  }
  return `${aggregated}${trim(refStr)}\n${trim(hypStr)}\n${trim(opStr)}\n`;
}

export interface VisualizeAlignmentOptions {
  /** Append the summary with counts and measures (default true). */
  showMeasures?: boolean;
  /** Leave out sentences aligned without errors (default true). */
  skipCorrect?: boolean;
  /** Wrap long sentences at about this many characters. */
  lineWidth?: number;
}

const isCharacterOutput = (output: WordOutput | CharacterOutput): output is CharacterOutput => 'cer' in output;

/** jiwer `visualize_alignment`: REF/HYP/operation lines per sentence and an optional summary. */
export function visualizeAlignment(output: WordOutput | CharacterOutput, options: VisualizeAlignmentOptions = {}): string {
  const { showMeasures = true, skipCorrect = true, lineWidth } = options;
  const isCer = isCharacterOutput(output);
  let text = '';
  output.alignments.forEach((chunks, idx) => {
    if (skipCorrect && (chunks.length === 0 || (chunks.length === 1 && chunks[0].type === 'equal'))) return;
    text += `=== SENTENCE ${idx + 1} ===\n\n`;
    text += comparisonString(output.references[idx], output.hypotheses[idx], chunks, !isCer, lineWidth);
    text += '\n';
  });
  if (!showMeasures) return text.slice(0, -1);
  text += '=== SUMMARY ===\n';
  text += `number of sentences: ${output.alignments.length}\n`;
  text += `substitutions=${output.substitutions} deletions=${output.deletions} insertions=${output.insertions} hits=${output.hits}\n`;
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  if (isCer) text += `\ncer=${pct(output.cer)}\n`;
  else text += `\nmer=${pct(output.mer)}\nwil=${pct(output.wil)}\nwip=${pct(output.wip)}\nwer=${pct(output.wer)}\n`;
  return text;
}

export interface ErrorCounts {
  /** (reference span, hypothesis span) → count, in first-seen order. */
  substitutions: Map<string, { from: string; to: string; count: number }>;
  insertions: Map<string, number>;
  deletions: Map<string, number>;
}

/** jiwer `collect_error_counts`: how often each span was substituted, inserted or deleted. */
export function collectErrorCounts(output: WordOutput | CharacterOutput): ErrorCounts {
  const counts: ErrorCounts = { substitutions: new Map(), insertions: new Map(), deletions: new Map() };
  const sep = isCharacterOutput(output) ? '' : ' ';
  output.alignments.forEach((chunks, idx) => {
    const ref = output.references[idx];
    const hyp = output.hypotheses[idx];
    for (const c of chunks) {
      if (c.type === 'insert') {
        const key = hyp.slice(c.hypStartIdx, c.hypEndIdx).join(sep);
        counts.insertions.set(key, (counts.insertions.get(key) ?? 0) + 1);
      } else if (c.type === 'delete') {
        const key = ref.slice(c.refStartIdx, c.refEndIdx).join(sep);
        counts.deletions.set(key, (counts.deletions.get(key) ?? 0) + 1);
      } else if (c.type === 'substitute') {
        const from = ref.slice(c.refStartIdx, c.refEndIdx).join(sep);
        const to = hyp.slice(c.hypStartIdx, c.hypEndIdx).join(sep);
        const key = `${from}\u0000${to}`;
        const entry = counts.substitutions.get(key);
        if (entry) entry.count++;
        else counts.substitutions.set(key, { from, to, count: 1 });
      }
    }
  });
  return counts;
}

export interface VisualizeErrorCountsOptions {
  showSubstitutions?: boolean;
  showInsertions?: boolean;
  showDeletions?: boolean;
  /** Only the k most frequent errors of each kind. */
  topK?: number;
}

/** jiwer `visualize_error_counts`. */
export function visualizeErrorCounts(output: WordOutput | CharacterOutput, options: VisualizeErrorCountsOptions = {}): string {
  const { showSubstitutions = true, showInsertions = true, showDeletions = true, topK } = options;
  const counts = collectErrorCounts(output);
  // Entries are [label parts, count]; a substitution has two parts. Sorting is stable like Python's sorted.
  const build = (entries: [string[], number][]): string => {
    if (entries.length === 0) return 'none';
    let sorted = [...entries].sort((x, y) => y[1] - x[1]);
    if (topK !== undefined) sorted = sorted.slice(0, topK);
    const width = Math.max(...sorted.map(([parts]) => Math.max(...parts.map(pyLen))));
    return sorted
      .map(([parts, n]) =>
        parts.length === 2 ? `${padRight(parts[0], width)} --> ${padRight(parts[1], width)} = ${n}x\n` : `${padRight(parts[0], width)} = ${n}x\n`,
      )
      .join('');
  };
  const sections: string[] = [];
  if (showSubstitutions) sections.push('=== SUBSTITUTIONS ===\n' + build([...counts.substitutions.values()].map((e) => [[e.from, e.to], e.count])));
  if (showInsertions) sections.push('=== INSERTIONS ===\n' + build([...counts.insertions].map(([k, n]) => [[k], n])));
  if (showDeletions) sections.push('=== DELETIONS ===\n' + build([...counts.deletions].map(([k, n]) => [[k], n])));
  const text = sections.join('\n');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
