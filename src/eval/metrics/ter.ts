/**
 * TER exactly as sacrebleu 2.6.0 computes it (metrics/ter.py, metrics/lib_ter.py, tokenizers/tokenizer_ter.py):
 * the Tercom tokenizer, greedy block shifts chosen by Tercom's ranking under Tercom's limits, and a beam edit
 * distance around the length-scaled diagonal. Per sentence the fewest edits over the references are divided by the
 * average reference length; the corpus score sums both.
 */
import { SignweaveInputError } from '../../errors.js';
import type { MetricScore } from './types.js';
import {
  TokenVocabulary,
  formatScoreLine,
  formatSignature,
  resolveReferences,
  rstripPython,
  sentenceStreams,
  splitPythonWhitespace,
  yesNo,
  type ReferenceStreams,
  type ScoreFormatOptions,
} from './sacrebleu-common.js';

export interface TerOptions {
  /** Tercom normalization: XML entities, punctuation tokenization (and CJK splitting with `asianSupport`). */
  readonly normalized?: boolean;
  /** Remove punctuation (and CJK/full-width punctuation with `asianSupport`). */
  readonly noPunct?: boolean;
  /** CJK handling for `normalized` / `noPunct`. */
  readonly asianSupport?: boolean;
  /** Keep case (default false: TER lowercases). */
  readonly caseSensitive?: boolean;
}

export interface TerScore extends MetricScore {
  readonly name: 'TER';
  /** Summed per-sentence minimum edits (shifts count one each). */
  readonly numEdits: number;
  /** Summed per-sentence average reference lengths. */
  readonly refLength: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Tercom tokenizer

const RE_TER_SYMBOLS = /([{-~[-`\x20-&(-+:-@/])/g;
const RE_TER_NONDIGIT_PERIOD = /([^0-9])([.,])/g;
const RE_TER_PERIOD_NONDIGIT = /([.,])([^0-9])/g;
const RE_TER_DIGIT_DASH = /([0-9])(-)/g;
const RE_TER_PUNCT = /[.,?:;!"()]/g;
const ASIAN_PUNCT = '\\u3001\\u3002\\u3008-\\u3011\\u3014-\\u301f\\uff61-\\uff65\\u30fb';
const FULL_WIDTH_PUNCT = '\\uff0e\\uff0c\\uff1f\\uff1a\\uff1b\\uff01\\uff02\\uff08\\uff09';
const RE_ASIAN_PUNCT = new RegExp(`([${ASIAN_PUNCT}])`, 'g');
const RE_FULL_WIDTH_PUNCT = new RegExp(`([${FULL_WIDTH_PUNCT}])`, 'g');
/** CJK ideographs, strokes, radicals, compatibility forms and enclosed letters become one token per character. */
const RE_CJK_CHARACTERS = [
  /([\u4e00-\u9fff\u3400-\u4dbf])/g,
  /([\u31c0-\u31ef\u2e80-\u2eff])/g,
  /([\u3300-\u33ff\uf900-\ufaff\ufe30-\ufe4f])/g,
  /([\u3200-\u3f22])/g,
];
/**
 * Tercom's kana rules, kept verbatim: with their `^…` alternatives they only fire when the whole sentence is one
 * kana run (which the space padding of the western step rules out), so kana stay joined in practice.
 */
const RE_KANA_RUNS = [
  /(^|^[\u3040-\u309f])([\u3040-\u309f]+)(?=$|^[\u3040-\u309f])/g,
  /(^|^[\u30a0-\u30ff])([\u30a0-\u30ff]+)(?=$|^[\u30a0-\u30ff])/g,
  /(^|^[\u31f0-\u31ff])([\u31f0-\u31ff]+)(?=$|^[\u31f0-\u31ff])/g,
];

function normalizeGeneralAndWestern(sent: string): string {
  const text = sent
    .replaceAll('\n-', '')
    .replaceAll('\n', ' ')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>');
  // Tercom's second possessive rule (`'s$`) never fires: the line is padded with spaces first.
  return ` ${text} `
    .replace(RE_TER_SYMBOLS, ' $1 ')
    .replaceAll("'s ", " 's ")
    .replace(RE_TER_NONDIGIT_PERIOD, '$1 $2 ')
    .replace(RE_TER_PERIOD_NONDIGIT, ' $1 $2')
    .replace(RE_TER_DIGIT_DASH, '$1 $2 ');
}

function normalizeAsian(sent: string): string {
  let text = sent;
  for (const re of RE_CJK_CHARACTERS) text = text.replace(re, ' $1 ');
  for (const re of RE_KANA_RUNS) text = text.replace(re, '$1 $2 ');
  return text.replace(RE_ASIAN_PUNCT, ' $1 ').replace(RE_FULL_WIDTH_PUNCT, ' $1 ');
}

function tercomTokens(sentence: string, o: TerOptions): string[] {
  if (!sentence) return [];
  let sent = o.caseSensitive ? sentence : sentence.toLowerCase();
  if (o.normalized) {
    sent = normalizeGeneralAndWestern(sent);
    if (o.asianSupport) sent = normalizeAsian(sent);
  }
  if (o.noPunct) {
    sent = sent.replace(RE_TER_PUNCT, '');
    if (o.asianSupport) sent = sent.replace(RE_ASIAN_PUNCT, '').replace(RE_FULL_WIDTH_PUNCT, '');
  }
  return splitPythonWhitespace(sent);
}

/** sacrebleu's `TercomTokenizer(**options)(sentence)`. */
export function tercomTokenize(sentence: string, options: TerOptions = {}): string {
  return tercomTokens(sentence, options).join(' ');
}

// ---------------------------------------------------------------------------------------------------------------
// Edit distance with shifts (lib_ter.py)

const MAX_SHIFT_SIZE = 10;
const MAX_SHIFT_DIST = 50;
const BEAM_WIDTH = 25;
const MAX_CACHE_SIZE = 10000;
const MAX_SHIFT_CANDIDATES = 1000;
/** lib_ter's `_INT_INFINITY`; cells outside the beam keep it. */
const INFINITE_COST = 1e16;

const OP_NOP = 0;
const OP_SUB = 1;
/** Step along the reference only (in the hypothesis → reference direction). */
const OP_INS = 2;
/** Step along the hypothesis only. */
const OP_DEL = 3;
const OP_UNDEF = 4;

/** One row of the edit-distance matrix (one hypothesis prefix); never modified once computed. */
interface Row {
  readonly cost: Float64Array;
  readonly op: Uint8Array;
}

interface CacheNode {
  readonly children: Map<number, CacheNode>;
  readonly row: Row;
}

/**
 * lib_ter's `BeamEditDistance` for one reference. All hypotheses it sees are shifts of one sentence (equal length),
 * so a row depends only on the hypothesis prefix: rows are cached in a trie of prefixes, up to 10,000 of them.
 */
class BeamEditDistance {
  private readonly ref: Int32Array;
  private readonly initialRow: Row;
  private readonly root = new Map<number, CacheNode>();
  private cacheSize = 0;

  constructor(ref: Int32Array) {
    this.ref = ref;
    const n = ref.length + 1;
    const cost = new Float64Array(n);
    for (let j = 0; j < n; j++) cost[j] = j;
    this.initialRow = { cost, op: new Uint8Array(n).fill(OP_INS) };
  }

  /** Edit distance of `hyp` to the reference, and the operations (hypothesis → reference) when asked. */
  compute(hyp: Int32Array, withTrace: boolean): { distance: number; trace: Uint8Array | null } {
    const dist: Row[] = [this.initialRow];
    let node = this.root;
    for (let i = 0; i < hyp.length; i++) {
      const hit = node.get(hyp[i]);
      if (!hit) break;
      dist.push(hit.row);
      node = hit.children;
    }
    this.fillRows(hyp, dist);
    this.addToCache(hyp, dist);
    const nH = hyp.length;
    const nR = this.ref.length;
    return { distance: dist[nH].cost[nR], trace: withTrace ? traceBack(dist, nH, nR) : null };
  }

  private fillRows(hyp: Int32Array, dist: Row[]): void {
    const ref = this.ref;
    const nH = hyp.length;
    const nR = ref.length;
    const start = dist.length - 1;
    const lengthRatio = nH ? nR / nH : 1;
    // For very unequal lengths the beam widens so that consecutive rows still overlap.
    const beamWidth = BEAM_WIDTH < lengthRatio / 2 ? Math.ceil(lengthRatio / 2 + BEAM_WIDTH) : BEAM_WIDTH;
    for (let i = start + 1; i <= nH; i++) {
      const cost = new Float64Array(nR + 1).fill(INFINITE_COST);
      const op = new Uint8Array(nR + 1).fill(OP_UNDEF);
      const prev = dist[i - 1];
      const pseudoDiagonal = Math.floor(i * lengthRatio);
      const minJ = Math.max(0, pseudoDiagonal - beamWidth);
      const maxJ = i === nH ? nR + 1 : Math.min(nR + 1, pseudoDiagonal + beamWidth);
      const word = hyp[i - 1];
      for (let j = minJ; j < maxJ; j++) {
        if (j === 0) {
          cost[0] = prev.cost[0] + 1;
          op[0] = OP_DEL;
          continue;
        }
        // Tercom prefers match/substitution, then the step along the reference, then along the hypothesis; the
        // trace is later read in the other direction, hence DEL before INS here.
        const diagonal = prev.cost[j - 1] + (word === ref[j - 1] ? 0 : 1);
        if (cost[j] > diagonal) {
          cost[j] = diagonal;
          op[j] = word === ref[j - 1] ? OP_NOP : OP_SUB;
        }
        const up = prev.cost[j] + 1;
        if (cost[j] > up) {
          cost[j] = up;
          op[j] = OP_DEL;
        }
        const left = cost[j - 1] + 1;
        if (cost[j] > left) {
          cost[j] = left;
          op[j] = OP_INS;
        }
      }
      dist.push({ cost, op });
    }
  }

  private addToCache(hyp: Int32Array, dist: Row[]): void {
    if (this.cacheSize >= MAX_CACHE_SIZE) return;
    let node = this.root;
    for (let i = 0; i < hyp.length; i++) {
      let child = node.get(hyp[i]);
      if (!child) {
        child = { children: new Map(), row: dist[i + 1] };
        node.set(hyp[i], child);
        this.cacheSize++;
      }
      node = child.children;
    }
  }
}

function traceBack(dist: Row[], nH: number, nR: number): Uint8Array {
  const ops: number[] = [];
  let i = nH;
  let j = nR;
  while (i > 0 || j > 0) {
    const op = dist[i].op[j];
    ops.push(op);
    if (op === OP_NOP || op === OP_SUB) {
      i--;
      j--;
    } else if (op === OP_INS) j--;
    else if (op === OP_DEL) i--;
    else throw new Error(`TER: no edit operation recorded at (${i}, ${j})`);
  }
  return Uint8Array.from(ops.reverse());
}

/** `_perform_shift`: move `words[start, start+length)` to before position `target`, as lib_ter does. */
function performShift(words: Int32Array, start: number, length: number, target: number): Int32Array {
  const parts =
    target < start
      ? [[0, target], [start, start + length], [target, start], [start + length, words.length]]
      : target > start + length
        ? [[0, start], [start + length, target], [start, start + length], [target, words.length]]
        : [[0, start], [start + length, length + target], [start, start + length], [length + target, words.length]];
  const out = new Int32Array(words.length);
  let at = 0;
  for (const [from, to] of parts) {
    const piece = words.subarray(from, Math.max(from, Math.min(to, words.length)));
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

interface ShiftResult {
  readonly delta: number;
  readonly words: Int32Array;
  readonly checked: number;
}

/** `_shift`: the best single block shift by (edit reduction, length, earliest start, earliest target). */
function bestShift(hyp: Int32Array, ref: Int32Array, ed: BeamEditDistance, checkedBefore: number): ShiftResult {
  const { distance: preScore, trace } = ed.compute(hyp, true);
  const nH = hyp.length;
  const nR = ref.length;
  // Alignment of reference positions to hypothesis positions, and which positions take part in an error.
  const align = new Int32Array(nR);
  const hypErr = new Uint8Array(nH);
  const refErr = new Uint8Array(nR);
  let posH = -1;
  let posR = -1;
  for (const op of trace as Uint8Array) {
    if (op === OP_NOP || op === OP_SUB) {
      posH++;
      posR++;
      align[posR] = posH;
      if (op === OP_SUB) {
        hypErr[posH] = 1;
        refErr[posR] = 1;
      }
    } else if (op === OP_DEL) {
      posH++;
      hypErr[posH] = 1;
    } else {
      posR++;
      align[posR] = posH;
      refErr[posR] = 1;
    }
  }

  let checked = checkedBefore;
  let best: { delta: number; length: number; start: number; target: number; words: Int32Array } | null = null;
  // Matching blocks in lib_ter's order: by hypothesis start, then reference start, then growing length.
  search: for (let startH = 0; startH < nH; startH++) {
    for (let startR = 0; startR < nR; startR++) {
      if (Math.abs(startR - startH) > MAX_SHIFT_DIST) continue;
      for (let length = 1; length <= MAX_SHIFT_SIZE && hyp[startH + length - 1] === ref[startR + length - 1]; length++) {
        // Only shift a block that is misaligned on both sides and does not already cover its target.
        if (
          hypErr.subarray(startH, startH + length).includes(1) &&
          refErr.subarray(startR, startR + length).includes(1) &&
          !(startH <= align[startR] && align[startR] < startH + length)
        ) {
          let prevTarget = -1;
          for (let offset = -1; offset < length; offset++) {
            // Shifting to before the beginning, or to after the hypothesis word aligned with a block position.
            const target = startR + offset === -1 ? 0 : align[startR + offset] + 1;
            if (target === prevTarget) continue;
            prevTarget = target;
            const words = performShift(hyp, startH, length, target);
            const delta = preScore - ed.compute(words, false).distance;
            checked++;
            if (
              best === null ||
              delta > best.delta ||
              (delta === best.delta &&
                (length > best.length ||
                  (length === best.length && (startH < best.start || (startH === best.start && target < best.target)))))
            ) {
              best = { delta, length, start: startH, target, words };
            }
          }
          if (checked >= MAX_SHIFT_CANDIDATES) break search;
        }
        if (startH + length === nH || startR + length === nR) break;
      }
    }
  }
  return best ? { delta: best.delta, words: best.words, checked } : { delta: 0, words: hyp, checked };
}

function editsWithShifts(hyp: Int32Array, ref: Int32Array): number {
  if (ref.length === 0) return hyp.length;
  const ed = new BeamEditDistance(ref);
  let shifts = 0;
  let words = hyp;
  let checked = 0;
  for (;;) {
    const result = bestShift(words, ref, ed, checked);
    checked = result.checked;
    // As in lib_ter, a spent budget stops the search without applying the shift just found.
    if (checked >= MAX_SHIFT_CANDIDATES || result.delta <= 0) break;
    shifts++;
    words = result.words;
  }
  return shifts + ed.compute(words, false).distance;
}

/** lib_ter's `translation_edit_rate`: edits (shifts included) to turn `hypWords` into `refWords`, and ref length. */
export function translationEditRate(hypWords: readonly string[], refWords: readonly string[]): { numEdits: number; refLength: number } {
  const vocabulary = new TokenVocabulary();
  const hyp = Int32Array.from(hypWords, (w) => vocabulary.id(w));
  const ref = Int32Array.from(refWords, (w) => vocabulary.id(w));
  return { numEdits: editsWithShifts(hyp, ref), refLength: ref.length };
}

// ---------------------------------------------------------------------------------------------------------------
// Metric

function resolveTerOptions(caller: string, options: TerOptions): Required<TerOptions> {
  const o = { normalized: false, noPunct: false, asianSupport: false, caseSensitive: false };
  for (const key of Object.keys(o) as (keyof TerOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new SignweaveInputError(`${caller}: ${key} must be true or false, got ${String(value)}`);
    o[key] = value;
  }
  return o;
}

/** sacrebleu's TER signature, e.g. `nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:…`. */
export function terSignature(options: TerOptions, nrefs: number | 'var'): string {
  const o = resolveTerOptions('terSignature', options);
  return formatSignature(nrefs, [
    ['case', o.caseSensitive ? 'mixed' : 'lc'],
    ['tok', 'tercom'],
    ['norm', yesNo(o.normalized)],
    ['punct', yesNo(!o.noPunct)],
    ['asian', yesNo(o.asianSupport)],
  ]);
}

function scoreTer(caller: string, hyps: readonly string[], refs: ReferenceStreams, o: Required<TerOptions>): TerScore {
  const { segments, nrefs } = resolveReferences(caller, hyps, refs);
  const vocabulary = new TokenVocabulary();
  const encode = (line: string): Int32Array => Int32Array.from(tercomTokens(rstripPython(line), o), (w) => vocabulary.id(w));
  let totalEdits = 0;
  let totalRefLength = 0;
  for (let i = 0; i < hyps.length; i++) {
    const hyp = encode(hyps[i]);
    let best = Infinity;
    let refLengths = 0;
    for (const line of segments[i]) {
      const ref = encode(line);
      const edits = editsWithShifts(hyp, ref);
      refLengths += ref.length;
      if (edits < best) best = edits;
    }
    totalEdits += best;
    totalRefLength += refLengths / segments[i].length;
  }
  let rate = 0;
  if (totalRefLength > 0) rate = totalEdits / totalRefLength;
  else if (totalEdits > 0) rate = 1; // empty references, non-empty hypotheses
  return { name: 'TER', score: 100 * rate, signature: terSignature(o, nrefs), numEdits: totalEdits, refLength: totalRefLength };
}

/** Corpus TER (sacrebleu `TER(**options).corpus_score(hyps, refs)`); `refs[k][i]` = k-th reference of line i. */
export function corpusTer(hyps: readonly string[], refs: ReferenceStreams, options: TerOptions = {}): TerScore {
  return scoreTer('corpusTer', hyps, refs, resolveTerOptions('corpusTer', options));
}

/** Sentence TER (sacrebleu `sentence_ter`). */
export function sentenceTer(hyp: string, refs: readonly string[], options: TerOptions = {}): TerScore {
  const [hyps, streams] = sentenceStreams('sentenceTer', hyp, refs);
  return scoreTer('sentenceTer', hyps, streams, resolveTerOptions('sentenceTer', options));
}

/** sacrebleu's printed line, e.g. `TER = 56.00`. */
export function formatTerScore(score: TerScore, options: ScoreFormatOptions = {}): string {
  return formatScoreLine(score, options);
}
