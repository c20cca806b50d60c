/**
 * Pieces shared by the sacrebleu 2.6.0 reproductions (BLEU, chrF, TER): Python's notion of whitespace, Python's
 * float formatting, reference-stream checking, signatures, and the n-gram indexer that makes counting fast.
 */
import { SignweaveInputError } from '../../errors.js';
import { metricImplVersion } from '../../version.js';

/** The `version:` value of every sacrebleu-reproducing signature. */
export const SACREBLEU_VERSION_FIELD: string = metricImplVersion('sacrebleu-2.6.0');

// ---------------------------------------------------------------------------------------------------------------
// Python whitespace: `str.split()`, `str.rstrip()` and `str.isspace()` use this set, which differs from JavaScript's
// `\s` (Python adds U+001C–U+001F and U+0085; JavaScript adds U+FEFF).

/** Code points for which Python's `str.isspace()` is true. */
export function isPythonWhitespace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Python's `s.split()`: runs of whitespace separate tokens, no empty tokens. */
export function splitPythonWhitespace(s: string): string[] {
  const out: string[] = [];
  const n = s.length;
  let start = -1;
  for (let i = 0; i < n; i++) {
    // Every Python whitespace character is in the BMP, so code units are enough here.
    if (isPythonWhitespace(s.charCodeAt(i))) {
      if (start >= 0) {
        out.push(s.slice(start, i));
        start = -1;
      }
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(start === 0 ? s : s.slice(start));
  return out;
}

/** Python's `s.rstrip()`. */
export function rstripPython(s: string): string {
  let end = s.length;
  while (end > 0 && isPythonWhitespace(s.charCodeAt(end - 1))) end--;
  return end === s.length ? s : s.slice(0, end);
}

// ---------------------------------------------------------------------------------------------------------------
// Python float formatting

/**
 * Python's `f'{x:.{digits}f}'`. `Number#toFixed` already rounds to nearest on the exact binary value, but it breaks
 * exact ties (12.25 → "12.3") away from zero where Python rounds them to even ("12.2").
 */
export function formatFixedPython(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const magnitude = Math.abs(x);
  // 30 extra digits expose any deviation from a tie: a double's spacing is far below 1e-30 of its scale here.
  const exact = magnitude.toFixed(Math.min(100, digits + 30));
  const dot = exact.indexOf('.');
  if (!/^50*$/.test(exact.slice(dot + 1 + digits))) return x.toFixed(digits);
  const truncated = digits === 0 ? exact.slice(0, dot) : exact.slice(0, dot + 1 + digits);
  const lastDigit = truncated.charCodeAt(truncated.length - 1) - 48;
  const rounded = lastDigit % 2 === 0 ? truncated : magnitude.toFixed(digits);
  return (x < 0 ? '-' : '') + rounded;
}

// ---------------------------------------------------------------------------------------------------------------
// References

/**
 * sacrebleu's reference layout: `refs[k][i]` is the k-th reference of hypothesis i. A `null`/`undefined` entry is
 * a missing reference (sacrebleu's `None`), which gives hypotheses different numbers of references. An empty
 * string is NOT missing: sacrebleu 2.6.0 scores it as a reference with no tokens.
 */
export type ReferenceStreams = readonly (readonly (string | null | undefined)[])[];

export interface ResolvedReferences {
  /** `segments[i]` = the references of hypothesis i, missing ones dropped, stream order kept. */
  readonly segments: string[][];
  /** The signature's `nrefs`: the common number of references, or `var` when it differs between hypotheses. */
  readonly nrefs: number | 'var';
}

/** Checks hypotheses and reference streams and regroups the references per hypothesis. */
export function resolveReferences(caller: string, hyps: readonly string[], refs: ReferenceStreams): ResolvedReferences {
  if (!Array.isArray(hyps)) throw new SignweaveInputError(`${caller}: hyps must be an array of strings`);
  if (!Array.isArray(refs)) throw new SignweaveInputError(`${caller}: refs must be an array of reference streams`);
  if (hyps.length === 0) throw new SignweaveInputError(`${caller}: hyps is empty`);
  if (refs.length === 0) throw new SignweaveInputError(`${caller}: refs has no reference stream`);
  for (let i = 0; i < hyps.length; i++) {
    if (typeof hyps[i] !== 'string') throw new SignweaveInputError(`${caller}: hyps[${i}] is not a string`);
  }
  for (let k = 0; k < refs.length; k++) {
    const stream = refs[k];
    if (!Array.isArray(stream)) throw new SignweaveInputError(`${caller}: refs[${k}] is not an array of strings`);
    if (stream.length !== hyps.length) {
      throw new SignweaveInputError(
        `${caller}: hyps has ${hyps.length} lines but refs[${k}] has ${stream.length}; every reference stream needs one line per hypothesis`,
      );
    }
  }
  const segments: string[][] = new Array(hyps.length);
  let common = -1;
  let variable = false;
  for (let i = 0; i < hyps.length; i++) {
    const lines: string[] = [];
    for (let k = 0; k < refs.length; k++) {
      const line = refs[k][i];
      if (line === null || line === undefined) continue;
      if (typeof line !== 'string') throw new SignweaveInputError(`${caller}: refs[${k}][${i}] is not a string`);
      lines.push(line);
    }
    if (lines.length === 0) throw new SignweaveInputError(`${caller}: hypothesis ${i} has no reference (all streams are null there)`);
    if (common === -1) common = lines.length;
    else if (common !== lines.length) variable = true;
    segments[i] = lines;
  }
  return { segments, nrefs: variable ? 'var' : common };
}

/** Checks the arguments of a sentence-level score and wraps them as one-line streams. */
export function sentenceStreams(caller: string, hyp: string, refs: readonly string[]): [string[], string[][]] {
  if (typeof hyp !== 'string') throw new SignweaveInputError(`${caller}: hyp must be a string`);
  if (!Array.isArray(refs)) throw new SignweaveInputError(`${caller}: refs must be an array of reference strings`);
  return [[hyp], refs.map((ref) => [ref])];
}

/** sacrebleu's `key:value|…` signature with `nrefs` first and `version` last. */
export function formatSignature(nrefs: number | 'var', fields: readonly (readonly [string, string | number])[]): string {
  const parts = [`nrefs:${nrefs}`];
  for (const [key, value] of fields) parts.push(`${key}:${value}`);
  parts.push(`version:${SACREBLEU_VERSION_FIELD}`);
  return parts.join('|');
}

export function yesNo(flag: boolean): 'yes' | 'no' {
  return flag ? 'yes' : 'no';
}

export interface ScoreFormatOptions {
  /** Decimals of the score (sacrebleu's `width`, default 2). */
  readonly width?: number;
  /** Print `NAME|signature = …` as sacrebleu's CLI does (default: `NAME = …`). */
  readonly withSignature?: boolean;
}

/** sacrebleu's `Score.format()`: `NAME = 12.34` plus the metric's verbose part. */
export function formatScoreLine(
  score: { readonly name: string; readonly score: number; readonly signature: string },
  options: ScoreFormatOptions,
  verbose = '',
): string {
  const head = options.withSignature ? `${score.name}|${score.signature}` : score.name;
  const line = `${head} = ${formatFixedPython(score.score, options.width ?? 2)}`;
  return verbose ? `${line} ${verbose}` : line;
}

// ---------------------------------------------------------------------------------------------------------------
// N-gram indexer

/**
 * Gives every n-gram of a group of symbol sequences (one hypothesis and its references) a dense integer id, one
 * order at a time, so counting needs no strings and no per-n-gram objects: equal n-grams across all sequences of the
 * group get equal ids, and ids run from 0 to `distinct - 1`.
 *
 * Order 1 interns the symbols; order n+1 interns the pair (id of the n-gram at i, symbol at i+n), a key below
 * `distinct * symbolBound` that stays an exact double. Interning uses an open-addressing table whose slots are
 * invalidated by bumping a generation stamp, so nothing is cleared between orders or groups.
 */
export class NgramIndexer {
  /** Symbols of all sequences, back to back. */
  symbols = new Int32Array(256);
  /** After `start`/`advance`: `ids[seqStart(k) + i]` = id of the current-order n-gram at position i of sequence k. */
  ids = new Int32Array(256);
  /** Number of distinct n-grams of the current order. */
  distinct = 0;
  /** Current n-gram order. */
  order = 0;
  private starts: number[] = [];
  private lengths: number[] = [];
  private total = 0;
  private symbolBound = 1;
  private tableKeys = new Float64Array(0);
  private tableIds = new Int32Array(0);
  private tableStamps = new Int32Array(0);
  private tableShift = 32;
  private generation = 0;

  /** Starts a new group of sequences. */
  reset(): void {
    this.starts.length = 0;
    this.lengths.length = 0;
    this.total = 0;
    this.order = 0;
  }

  /** Opens a new sequence; its symbols follow with `push`. */
  beginSequence(): void {
    this.starts.push(this.total);
    this.lengths.push(0);
  }

  push(symbol: number): void {
    if (this.total === this.symbols.length) this.grow();
    this.symbols[this.total++] = symbol;
    this.lengths[this.lengths.length - 1]++;
  }

  get sequenceCount(): number {
    return this.starts.length;
  }

  seqStart(k: number): number {
    return this.starts[k];
  }

  seqLength(k: number): number {
    return this.lengths[k];
  }

  /** Number of current-order n-grams in sequence k. */
  ngramCount(k: number): number {
    return Math.max(0, this.lengths[k] - this.order + 1);
  }

  /** Ids for order 1; every symbol pushed must lie in [0, symbolBound). */
  start(symbolBound: number): void {
    this.symbolBound = symbolBound;
    this.prepareTable();
    this.generation++;
    this.distinct = 0;
    const { symbols, ids, total } = this;
    for (let p = 0; p < total; p++) ids[p] = this.intern(symbols[p]);
    this.order = 1;
  }

  /** Ids for the next order; positions past a sequence's last n-gram keep stale ids and must not be read. */
  advance(): void {
    const n = this.order;
    const bound = this.symbolBound;
    const { symbols, ids } = this;
    this.generation++;
    this.distinct = 0;
    for (let k = 0; k < this.starts.length; k++) {
      const s = this.starts[k];
      const last = s + this.lengths[k] - n;
      for (let p = s; p < last; p++) ids[p] = this.intern(ids[p] * bound + symbols[p + n]);
    }
    this.order = n + 1;
  }

  private grow(): void {
    const symbols = new Int32Array(this.symbols.length * 2);
    symbols.set(this.symbols);
    this.symbols = symbols;
    this.ids = new Int32Array(symbols.length);
  }

  private prepareTable(): void {
    let capacity = 16;
    while (capacity < this.total * 2) capacity *= 2;
    if (capacity <= this.tableKeys.length) return;
    this.tableKeys = new Float64Array(capacity);
    this.tableIds = new Int32Array(capacity);
    this.tableStamps = new Int32Array(capacity);
    this.tableShift = 32 - Math.log2(capacity);
    this.generation = 0;
  }

  private intern(key: number): number {
    const keys = this.tableKeys;
    const stamps = this.tableStamps;
    const mask = keys.length - 1;
    const gen = this.generation;
    const hi = (key / 4294967296) | 0;
    let slot = Math.imul((key >>> 0) ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.tableShift;
    for (;;) {
      if (stamps[slot] !== gen) {
        stamps[slot] = gen;
        keys[slot] = key;
        const id = this.distinct++;
        this.tableIds[slot] = id;
        return id;
      }
      if (keys[slot] === key) return this.tableIds[slot];
      slot = (slot + 1) & mask;
    }
  }
}

/** A growable Int32 scratch array, zeroed on demand. */
export class CountBuffer {
  data = new Int32Array(256);

  /** Makes `data[0..size)` zero and returns `data`. */
  zeroed(size: number): Int32Array {
    if (size > this.data.length) {
      let capacity = this.data.length;
      while (capacity < size) capacity *= 2;
      this.data = new Int32Array(capacity);
    } else this.data.fill(0, 0, size);
    return this.data;
  }
}

/** Interns token strings to small integer ids for one scoring call. */
export class TokenVocabulary {
  private readonly ids = new Map<string, number>();

  get size(): number {
    return this.ids.size;
  }

  id(token: string): number {
    let id = this.ids.get(token);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(token, id);
    }
    return id;
  }
}
