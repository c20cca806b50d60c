/**
 * BLEU exactly as sacrebleu 2.6.0 computes it (metrics/bleu.py): per-sentence clipped n-gram counts against the
 * element-wise maximum over that sentence's references, the closest reference length (the shorter on ties), and
 * `compute_bleu`'s smoothing, effective order and brevity penalty. Plus the "BLEU-1..N" convention of sign-language
 * translation papers (`cumulative`) and the legacy signjoey/Sign2GPT setup as a named mode.
 */
import { SignweaveInputError } from '../../errors.js';
import type { MetricScore } from './types.js';
import {
  CountBuffer,
  NgramIndexer,
  TokenVocabulary,
  formatFixedPython,
  formatScoreLine,
  formatSignature,
  resolveReferences,
  rstripPython,
  sentenceStreams,
  yesNo,
  type ReferenceStreams,
  type ScoreFormatOptions,
} from './sacrebleu-common.js';
import { getBleuTokenizer, type BleuTokenizerName } from './tokenizers.js';

export type BleuSmoothMethod = 'exp' | 'floor' | 'add-k' | 'none';

/** sacrebleu's `BLEU.SMOOTH_DEFAULTS` (Chen & Cherry 2014); `null` = the method takes no value. */
export const BLEU_SMOOTH_DEFAULTS: Readonly<Record<BleuSmoothMethod, number | null>> = {
  none: null,
  floor: 0.1,
  'add-k': 1,
  exp: null,
};

/**
 * `sacrebleu`: BLEU as sacrebleu 2.6.0 computes it with the options given.
 * `slt-legacy`: the BLEU of neccam/slt (signjoey) and Sign2GPT, see `BLEU_PRESETS`.
 */
export type BleuMode = 'sacrebleu' | 'slt-legacy';

export interface BleuOptions {
  /** Tokenizer (default `13a`). */
  readonly tokenize?: BleuTokenizerName;
  /** Lowercase hypotheses and references first (default false). */
  readonly lowercase?: boolean;
  /** Smoothing (default `exp`). */
  readonly smoothMethod?: BleuSmoothMethod;
  /** Value for `floor` / `add-k`; omitted or null = sacrebleu's default (0.1 / 1). */
  readonly smoothValue?: number | null;
  /** Highest n-gram order, 1–6 (default 4). */
  readonly maxNgramOrder?: number;
  /** Average only over orders that have hypothesis n-grams (default: false for corpus, true for sentence BLEU). */
  readonly effectiveOrder?: boolean;
  /** Default `sacrebleu`; `slt-legacy` fixes everything but `lowercase` and says so in the signature. */
  readonly mode?: BleuMode;
}

/**
 * Named option sets.
 *
 * `slt-legacy` — what signjoey (neccam/slt `signjoey/metrics.py` → `external_metrics/sacrebleu.py`, a patched
 * sacrebleu 1.4.2) and Sign2GPT (`metrics/utils/sacrebleu.py`, the same copy) report as BLEU-1..4: `raw_corpus_bleu`
 * = no tokenization, `floor` smoothing with `SMOOTH_VALUE_DEFAULT = 0.0`, `use_effective_order=True`; their patched
 * `compute_bleu` returns `.scores` = [BLEU-1, …, BLEU-4], each `bp * exp(mean log p_1..p_n)` over ALL n orders.
 * The loop building `.scores` rebinds `effective_order`, so the effective-order flag has no effect on those numbers:
 * an order without hypothesis n-grams keeps precision 0 and zeroes the score. That is exactly sacrebleu 2.6.0 with
 * `tokenize: 'none', smoothMethod: 'floor', smoothValue: 0, effectiveOrder: false`, whose `cumulative` gives
 * BLEU-1..4 (BLEU-4 being the headline); the 1.4.2 copy's missing "no match at all" early exit changes nothing,
 * since with a zero floor every precision is then 0 anyway.
 */
export const BLEU_PRESETS: Readonly<Record<BleuMode, Readonly<BleuOptions>>> = {
  sacrebleu: {
    mode: 'sacrebleu',
    tokenize: '13a',
    lowercase: false,
    smoothMethod: 'exp',
    maxNgramOrder: 4,
    effectiveOrder: false,
  },
  'slt-legacy': {
    mode: 'slt-legacy',
    tokenize: 'none',
    lowercase: false,
    smoothMethod: 'floor',
    smoothValue: 0,
    maxNgramOrder: 4,
    effectiveOrder: false,
  },
};

function presetFor(caller: string, mode: BleuMode): Readonly<BleuOptions> {
  if (!Object.hasOwn(BLEU_PRESETS, mode)) {
    throw new SignweaveInputError(`${caller}: unknown BLEU mode ${JSON.stringify(mode)}; expected sacrebleu or slt-legacy`);
  }
  return BLEU_PRESETS[mode];
}

export function bleuPreset(mode: BleuMode): BleuOptions {
  return { ...presetFor('bleuPreset', mode) };
}

/** What `compute_bleu` returns, from sufficient statistics alone. */
export interface BleuComponents {
  /** BLEU, 0–100. */
  score: number;
  /** Clipped matches per order, as sacrebleu reports them (with `add-k`, orders ≥ 2 include the added k). */
  readonly counts: number[];
  /** Hypothesis n-grams per order (with `add-k`, orders ≥ 2 include the added k, as in sacrebleu). */
  readonly totals: number[];
  /** Smoothed precisions per order, 0–100. */
  readonly precisions: number[];
  /** Brevity penalty. */
  readonly bp: number;
  readonly sysLen: number;
  readonly refLen: number;
  /** sysLen / refLen (0 when refLen is 0). */
  readonly ratio: number;
  readonly maxNgramOrder: number;
  /** BLEU-1..BLEU-N: `cumulative[n-1]` is BLEU with max order n on the same statistics; the last equals `score`. */
  readonly cumulative: number[];
}

export interface BleuScore extends MetricScore, BleuComponents {
  readonly name: 'BLEU';
}

/** The smoothing and order choices of `computeBleu`. */
export type BleuComputeOptions = Pick<BleuOptions, 'smoothMethod' | 'smoothValue' | 'effectiveOrder'>;

interface ResolvedBleuOptions {
  readonly tokenize: BleuTokenizerName;
  readonly lowercase: boolean;
  readonly smoothMethod: BleuSmoothMethod;
  readonly smoothValue: number | null;
  readonly maxNgramOrder: number;
  readonly effectiveOrder: boolean;
  readonly mode: BleuMode;
}

const SMOOTH_METHODS = Object.keys(BLEU_SMOOTH_DEFAULTS) as BleuSmoothMethod[];
const MAX_SUPPORTED_ORDER = 6;
/** utils.my_log's floor for log(0). */
const LOG_ZERO = -9999999999;

function checkSmoothing(caller: string, method: unknown, value: unknown): void {
  if (typeof method !== 'string' || !SMOOTH_METHODS.includes(method as BleuSmoothMethod)) {
    throw new SignweaveInputError(`${caller}: unknown smoothMethod ${JSON.stringify(method)}; expected one of ${SMOOTH_METHODS.join(', ')}`);
  }
  if (value !== undefined && value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
    throw new SignweaveInputError(`${caller}: smoothValue must be a finite number, got ${String(value)}`);
  }
}

function resolveBleuOptions(caller: string, options: BleuOptions, sentenceLevel: boolean): ResolvedBleuOptions {
  const mode = options.mode ?? 'sacrebleu';
  const preset = presetFor(caller, mode);
  if (mode === 'slt-legacy') {
    for (const key of ['tokenize', 'smoothMethod', 'smoothValue', 'maxNgramOrder', 'effectiveOrder'] as const) {
      const value = options[key];
      if (value !== undefined && value !== null && value !== preset[key]) {
        throw new SignweaveInputError(
          `${caller}: mode slt-legacy fixes ${key} to ${JSON.stringify(preset[key])}, got ${JSON.stringify(value)}`,
        );
      }
    }
  }
  const resolved: ResolvedBleuOptions = {
    mode,
    tokenize: options.tokenize ?? (preset.tokenize as BleuTokenizerName),
    lowercase: options.lowercase ?? false,
    smoothMethod: options.smoothMethod ?? (preset.smoothMethod as BleuSmoothMethod),
    smoothValue: options.smoothValue ?? preset.smoothValue ?? null,
    maxNgramOrder: options.maxNgramOrder ?? (preset.maxNgramOrder as number),
    effectiveOrder: options.effectiveOrder ?? (mode === 'sacrebleu' ? sentenceLevel : false),
  };
  getBleuTokenizer(resolved.tokenize);
  checkSmoothing(caller, resolved.smoothMethod, resolved.smoothValue);
  const order = resolved.maxNgramOrder;
  if (!Number.isInteger(order) || order < 1 || order > MAX_SUPPORTED_ORDER) {
    throw new SignweaveInputError(`${caller}: maxNgramOrder must be an integer from 1 to ${MAX_SUPPORTED_ORDER}, got ${order}`);
  }
  return resolved;
}

function smoothField(method: BleuSmoothMethod, value: number | null): string {
  const fallback = BLEU_SMOOTH_DEFAULTS[method];
  return fallback === null ? method : `${method}[${formatFixedPython(value ?? fallback, 2)}]`;
}

/**
 * sacrebleu's BLEU signature (`BLEUSignature`), e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:…`;
 * `smooth` carries the value for floor/add-k (`smooth:floor[0.10]`), and slt-legacy adds `mode:slt-legacy`.
 */
export function bleuSignature(options: BleuOptions, nrefs: number | 'var', sentenceLevel = false): string {
  const o = resolveBleuOptions('bleuSignature', options, sentenceLevel);
  const fields: [string, string][] = [
    ['case', o.lowercase ? 'lc' : 'mixed'],
    ['eff', yesNo(o.effectiveOrder)],
    ['tok', getBleuTokenizer(o.tokenize).signature],
    ['smooth', smoothField(o.smoothMethod, o.smoothValue)],
  ];
  if (o.mode !== 'sacrebleu') fields.push(['mode', o.mode]);
  return formatSignature(nrefs, fields);
}

function logFloored(p: number): number {
  return p === 0 ? LOG_ZERO : Math.log(p);
}

/** `BLEU.compute_bleu` for one max order (= `correct.length`), without the cumulative scores. */
function computeBleuCore(
  correct: readonly number[],
  total: readonly number[],
  sysLen: number,
  refLen: number,
  method: BleuSmoothMethod,
  value: number | null,
  effectiveOrder: boolean,
): Omit<BleuComponents, 'cumulative' | 'ratio' | 'maxNgramOrder'> {
  const maxOrder = correct.length;
  const k = value ?? BLEU_SMOOTH_DEFAULTS[method] ?? 0;
  let bp = 1;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0;
  const counts = correct.slice();
  const totals = total.slice();
  const precisions = new Array<number>(maxOrder).fill(0);
  // sacrebleu #141: no match at any order gives 0 before any smoothing.
  if (!counts.some((c) => c !== 0)) return { score: 0, counts, totals, precisions, bp, sysLen, refLen };
  let smoothMteval = 1;
  let usedOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (method === 'add-k' && n > 1) {
      counts[n - 1] += k;
      totals[n - 1] += k;
    }
    if (totals[n - 1] === 0) break;
    if (effectiveOrder) usedOrder = n;
    if (counts[n - 1] === 0) {
      if (method === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * totals[n - 1]);
      } else if (method === 'floor') {
        precisions[n - 1] = (100 * k) / totals[n - 1];
      }
    } else {
      precisions[n - 1] = (100 * counts[n - 1]) / totals[n - 1];
    }
  }
  let logSum = 0;
  for (let n = 0; n < usedOrder; n++) logSum += logFloored(precisions[n]);
  return { score: bp * Math.exp(logSum / usedOrder), counts, totals, precisions, bp, sysLen, refLen };
}

/**
 * sacrebleu's `BLEU.compute_bleu` from sufficient statistics: `correct[n-1]` clipped matches and `total[n-1]`
 * hypothesis n-grams for n = 1..N (N = their length), summed hypothesis and closest-reference lengths.
 * Smoothing defaults to `exp` as in `BLEU()` (the static Python function's own default is `none`).
 */
export function computeBleu(
  correct: readonly number[],
  total: readonly number[],
  sysLen: number,
  refLen: number,
  options: BleuComputeOptions = {},
): BleuComponents {
  const method = options.smoothMethod ?? 'exp';
  const value = options.smoothValue ?? null;
  checkSmoothing('computeBleu', method, value);
  if (correct.length === 0 || correct.length !== total.length) {
    throw new SignweaveInputError(
      `computeBleu: correct and total need one entry per n-gram order (got ${correct.length} and ${total.length})`,
    );
  }
  const effective = options.effectiveOrder ?? false;
  const full = computeBleuCore(correct, total, sysLen, refLen, method, value, effective);
  const cumulative: number[] = [];
  for (let n = 1; n < correct.length; n++) {
    cumulative.push(computeBleuCore(correct.slice(0, n), total.slice(0, n), sysLen, refLen, method, value, effective).score);
  }
  cumulative.push(full.score);
  return { ...full, ratio: refLen ? sysLen / refLen : 0, maxNgramOrder: correct.length, cumulative };
}

interface BleuStatistics {
  readonly correct: number[];
  readonly total: number[];
  readonly sysLen: number;
  readonly refLen: number;
}

/** sacrebleu's `_extract_corpus_statistics` + `sum_of_lists`, with n-grams counted through dense ids. */
function bleuStatistics(hyps: readonly string[], segments: readonly string[][], o: ResolvedBleuOptions): BleuStatistics {
  const tokenizer = getBleuTokenizer(o.tokenize);
  const maxOrder = o.maxNgramOrder;
  const correct = new Array<number>(maxOrder).fill(0);
  const total = new Array<number>(maxOrder).fill(0);
  let sysLen = 0;
  let refLen = 0;
  const vocabulary = new TokenVocabulary();
  const indexer = new NgramIndexer();
  const hypCounts = new CountBuffer();
  const refCounts = new CountBuffer();
  const maxRefCounts = new CountBuffer();

  const addSequence = (line: string): number => {
    const tokens = tokenizer.tokens(rstripPython(o.lowercase ? line.toLowerCase() : line));
    indexer.beginSequence();
    for (const token of tokens) indexer.push(vocabulary.id(token));
    return tokens.length;
  };

  for (let i = 0; i < hyps.length; i++) {
    const refs = segments[i];
    indexer.reset();
    const hypLen = addSequence(hyps[i]);
    let closestDiff = -1;
    let closestLen = -1;
    for (const ref of refs) {
      const len = addSequence(ref);
      const diff = Math.abs(hypLen - len);
      if (closestDiff === -1 || diff < closestDiff) {
        closestDiff = diff;
        closestLen = len;
      } else if (diff === closestDiff && len < closestLen) {
        closestLen = len;
      }
    }
    sysLen += hypLen;
    refLen += closestLen;

    indexer.start(vocabulary.size);
    const ids = indexer.ids;
    for (let n = 1; n <= maxOrder; n++) {
      if (n > 1) indexer.advance();
      const hypNgrams = indexer.ngramCount(0);
      if (hypNgrams === 0) break;
      const distinct = indexer.distinct;
      const hc = hypCounts.zeroed(distinct);
      for (let p = 0; p < hypNgrams; p++) hc[ids[p]]++;
      // A hypothesis n-gram is clipped at its largest count in any single reference.
      let refMax: Int32Array;
      if (refs.length === 1) {
        refMax = refCounts.zeroed(distinct);
        const s = indexer.seqStart(1);
        const end = s + indexer.ngramCount(1);
        for (let p = s; p < end; p++) refMax[ids[p]]++;
      } else {
        refMax = maxRefCounts.zeroed(distinct);
        for (let k = 1; k <= refs.length; k++) {
          const rc = refCounts.zeroed(distinct);
          const s = indexer.seqStart(k);
          const end = s + indexer.ngramCount(k);
          for (let p = s; p < end; p++) rc[ids[p]]++;
          for (let r = 0; r < distinct; r++) if (rc[r] > refMax[r]) refMax[r] = rc[r];
        }
      }
      let matches = 0;
      for (let r = 0; r < distinct; r++) matches += hc[r] < refMax[r] ? hc[r] : refMax[r];
      correct[n - 1] += matches;
      total[n - 1] += hypNgrams;
    }
  }
  return { correct, total, sysLen, refLen };
}

function scoreBleu(caller: string, hyps: readonly string[], refs: ReferenceStreams, o: ResolvedBleuOptions, sentenceLevel: boolean): BleuScore {
  const { segments, nrefs } = resolveReferences(caller, hyps, refs);
  const stats = bleuStatistics(hyps, segments, o);
  const components = computeBleu(stats.correct, stats.total, stats.sysLen, stats.refLen, o);
  return { name: 'BLEU', ...components, signature: bleuSignature(o, nrefs, sentenceLevel) };
}

/**
 * Corpus BLEU (sacrebleu `BLEU(**options).corpus_score(hyps, refs)`); `refs[k][i]` is the k-th reference of
 * hypothesis i.
 */
export function corpusBleu(hyps: readonly string[], refs: ReferenceStreams, options: BleuOptions = {}): BleuScore {
  return scoreBleu('corpusBleu', hyps, refs, resolveBleuOptions('corpusBleu', options, false), false);
}

/** Sentence BLEU (sacrebleu `sentence_bleu`): effective order on unless the options say otherwise. */
export function sentenceBleu(hyp: string, refs: readonly string[], options: BleuOptions = {}): BleuScore {
  const [hyps, streams] = sentenceStreams('sentenceBleu', hyp, refs);
  return scoreBleu('sentenceBleu', hyps, streams, resolveBleuOptions('sentenceBleu', options, true), true);
}

/** sacrebleu's printed line, e.g. `BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)`. */
export function formatBleuScore(score: BleuScore, options: ScoreFormatOptions = {}): string {
  const precisions = score.precisions.map((p) => formatFixedPython(p, 1)).join('/');
  const verbose =
    `${precisions} (BP = ${formatFixedPython(score.bp, 3)} ratio = ${formatFixedPython(score.ratio, 3)} ` +
    `hyp_len = ${score.sysLen} ref_len = ${score.refLen})`;
  return formatScoreLine(score, options, verbose);
}
