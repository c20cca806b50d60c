import { SignweaveInputError } from '../errors.js';
import type { Sequence } from '../types.js';

/**
 * A `[T, V]` row-major matrix of per-frame scores over a CTC vocabulary. The decoders read natural-log
 * probabilities; Float64Array input keeps every sum in float64 (reference scores are compared to 1e-9).
 */
export interface CtcMatrix {
  data: Float32Array | Float64Array;
  T: number;
  V: number;
}

/** Checks `data.length === T·V` and that T and V are usable sizes. */
export function checkShape(m: CtcMatrix): void {
  const { T, V } = m;
  if (!Number.isInteger(T) || T < 0) throw new SignweaveInputError(`CTC input: T must be a non-negative integer, got ${T}`);
  if (!Number.isInteger(V) || V < 1) throw new SignweaveInputError(`CTC input: V must be a positive integer, got ${V}`);
  if (m.data.length !== T * V) {
    throw new SignweaveInputError(`CTC input: expected T·V = ${T}·${V} = ${T * V} values, got ${m.data.length}`);
  }
}

/**
 * Validates a log-probability matrix against its vocabulary: shape, vocabulary size = V, blank in range, no NaN
 * and no +∞ / positive values beyond rounding (a log-probability is ≤ 0). Errors name the frame and column.
 */
export function validateLogProbs(m: CtcMatrix, labels: readonly string[], blank: number): void {
  checkShape(m);
  if (labels.length !== m.V) {
    throw new SignweaveInputError(`CTC input: vocabulary has ${labels.length} labels but the matrix has V = ${m.V} columns`);
  }
  checkBlank(blank, m.V);
  const data = m.data;
  // one comparison per value on the hot path (false for NaN too); 1e-4 absorbs float32 rounding of log-softmax at 0
  for (let i = 0; i < data.length; i++) if (!(data[i] <= 1e-4)) badValue(m, labels, i);
}

/**
 * Checks that every frame's probabilities sum to 1 within `tolerance` (in log space): the decoders' scores are only
 * probabilities when they do. Not on the decoding hot path; callers that take matrices from users run it.
 */
export function checkNormalized(m: CtcMatrix, tolerance = 1e-3): void {
  checkShape(m);
  const { data, T, V } = m;
  for (let t = 0; t < T; t++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, data[t * V + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(data[t * V + v] - max);
    const logSum = max + Math.log(sum);
    if (!(Math.abs(logSum) <= tolerance)) {
      throw new SignweaveInputError(
        `CTC input: frame ${t} is not a log-probability distribution (log-sum-exp ${logSum.toFixed(6)}, expected 0); pass raw network outputs as logits so they are log-softmaxed`,
      );
    }
  }
}

function badValue(m: CtcMatrix, labels: readonly string[], i: number): never {
  const x = m.data[i];
  const t = Math.floor(i / m.V);
  const v = i - t * m.V;
  if (Number.isNaN(x)) throw new SignweaveInputError(`CTC input: NaN at frame ${t}, column ${v} (${JSON.stringify(labels[v])})`);
  throw new SignweaveInputError(
    `CTC input: value ${x} at frame ${t}, column ${v} is not a log-probability (> 0); convert with logSoftmax() or probsToLogProbs()`,
  );
}

export function checkBlank(blank: number, V: number): void {
  if (!Number.isInteger(blank) || blank < 0 || blank >= V) {
    throw new SignweaveInputError(`CTC input: blank index ${blank} is out of range for a vocabulary of ${V} labels`);
  }
}

function checkFinite(m: CtcMatrix, what: string): void {
  const { data, T, V } = m;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const t = Math.floor(i / V);
      throw new SignweaveInputError(`CTC input: ${what} ${data[i]} at frame ${t}, column ${i - t * V} (T = ${T})`);
    }
  }
}

export interface ConvertOptions {
  /** Floor for the result (natural log), e.g. ln 1e-15 as pyctcdecode clips. Default: no floor. */
  floorLogProb?: number;
  /** Output precision; default float32. */
  float64?: boolean;
}

/** Row-wise log-softmax of raw network outputs (any real numbers) into natural-log probabilities. */
export function logSoftmax(m: CtcMatrix, options: ConvertOptions = {}): CtcMatrix {
  checkShape(m);
  checkFinite(m, 'non-finite logit');
  const { data, T, V } = m;
  const out = options.float64 ? new Float64Array(T * V) : new Float32Array(T * V);
  const floor = options.floorLogProb ?? -Infinity;
  for (let t = 0; t < T; t++) {
    const off = t * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (data[off + v] > max) max = data[off + v];
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(data[off + v] - max);
    const logZ = max + Math.log(sum);
    for (let v = 0; v < V; v++) out[off + v] = Math.max(floor, data[off + v] - logZ);
  }
  return { data: out, T, V };
}

/**
 * Natural log of probabilities. Rows must each sum to 1 (±1e-3) and values lie in [0, 1]; `minProb` clips before
 * the log (pyctcdecode and parlance use 1e-15) so a zero probability stays finite. Default minProb: 0 (→ -∞).
 */
export function probsToLogProbs(m: CtcMatrix, options: { minProb?: number; float64?: boolean } = {}): CtcMatrix {
  checkShape(m);
  const { data, T, V } = m;
  const minProb = options.minProb ?? 0;
  const out = options.float64 ? new Float64Array(T * V) : new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    const off = t * V;
    let sum = 0;
    for (let v = 0; v < V; v++) {
      const p = data[off + v];
      if (!(p >= 0 && p <= 1 + 1e-6)) {
        throw new SignweaveInputError(`CTC input: probability ${p} at frame ${t}, column ${v} is outside [0, 1]`);
      }
      sum += p;
      out[off + v] = Math.log(Math.min(1, Math.max(minProb, p)));
    }
    if (Math.abs(sum - 1) > 1e-3) {
      throw new SignweaveInputError(`CTC input: probabilities at frame ${t} sum to ${sum}, not 1`);
    }
  }
  return { data: out, T, V };
}

/** A matrix from nested rows (tests, JSON fixtures); every row must have the same length. */
export function fromRows(rows: readonly (readonly number[])[], options: { float64?: boolean } = {}): CtcMatrix {
  const T = rows.length;
  const V = T > 0 ? rows[0].length : 0;
  const data = options.float64 ? new Float64Array(T * V) : new Float32Array(T * V);
  rows.forEach((row, t) => {
    if (row.length !== V) throw new SignweaveInputError(`CTC input: row ${t} has ${row.length} values, row 0 has ${V}`);
    data.set(row, t * V);
  });
  return { data, T, V };
}

/** Views a stage `Sequence` (`shape [T, V]`) as a CTC matrix without copying. */
export function fromSequence(seq: Sequence): CtcMatrix {
  return { data: seq.data, T: seq.shape[0], V: seq.shape[1] };
}
