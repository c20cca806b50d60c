/**
 * Temporal average pooling of backbone features over segments (SignBind-LLM §3.4): the router decides once per
 * segment, not once per frame, so a decision sees enough motion to tell signing from fingerspelling from rest.
 */
import { SignweaveInputError } from '../errors.js';
import type { Sequence } from '../types.js';

/**
 * How features are cut into segments.
 * - `window` frames per segment, a new segment every `hop` frames (`hop ≤ window`, so every frame is covered);
 * - `window: 'sequence'`: one segment spanning the whole sequence (`hop` is ignored).
 */
export interface PoolingOptions {
  window: number | 'sequence';
  hop?: number;
}

/**
 * A segment's frames and time. Frames are inclusive (`startFrame..endFrame`, as in CTC spans); times are seconds:
 * `start = startFrame / fps`, `end = (endFrame + 1) / fps` (the end of the last frame's interval).
 */
export interface Segment {
  startFrame: number;
  endFrame: number;
  start: number;
  end: number;
}

/** One pooled row per segment: row-major `[S, D]`. */
export interface PooledSegments {
  data: Float32Array;
  shape: [number, number];
  segments: Segment[];
}

function checkPositiveInteger(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 1) throw new SignweaveInputError(`router: ${field} must be an integer ≥ 1, got ${value}`);
}

/** Checks that a value is a well-formed, non-empty `Sequence` (the router's input contract). */
export function checkFeatures(features: Sequence, field = 'features'): void {
  const [T, D] = features.shape;
  if (!Number.isInteger(T) || !Number.isInteger(D) || T < 0 || D < 1) {
    throw new SignweaveInputError(`router: ${field}.shape must be [T, D] with D ≥ 1, got [${features.shape.join(', ')}]`);
  }
  if (T === 0) throw new SignweaveInputError(`router: ${field} is empty (T = 0 frames)`);
  if (features.data.length !== T * D) {
    throw new SignweaveInputError(`router: ${field}.data has ${features.data.length} values, shape [${T}, ${D}] needs ${T * D}`);
  }
  if (!(features.fps > 0) || !Number.isFinite(features.fps)) {
    throw new SignweaveInputError(`router: ${field}.fps must be a positive number, got ${features.fps}`);
  }
}

/** Checks window/hop without a sequence (the router validates its configuration at construction). */
export function checkPoolingOptions(options: PoolingOptions): void {
  if (options.window === 'sequence') return;
  checkPositiveInteger(options.window, 'window');
  if (options.hop === undefined) throw new SignweaveInputError('router: hop is required when window is a number of frames');
  checkPositiveInteger(options.hop, 'hop');
  if (options.hop > options.window) {
    // frames between windows would get no routing weight, and fusion needs one for every frame
    throw new SignweaveInputError(`router: hop (${options.hop}) must not exceed window (${options.window})`);
  }
}

/**
 * The segments of a `T`-frame sequence. Full windows start at 0, hop, 2·hop, … while they fit. The last partial
 * window: when frames remain after the last full window (or `T < window`), one more segment starts at the next hop
 * position and ends at the last frame, averaged over the frames it has: no frame is dropped and none is padded
 * (padding would pull the mean towards zero).
 */
export function segmentFrames(T: number, options: PoolingOptions): Array<[number, number]> {
  checkPositiveInteger(T, 'T');
  checkPoolingOptions(options);
  if (options.window === 'sequence') return [[0, T - 1]];
  const { window } = options;
  const hop = options.hop as number;
  const ranges: Array<[number, number]> = [];
  let start = 0;
  for (; start + window <= T; start += hop) ranges.push([start, start + window - 1]);
  const covered = ranges.length === 0 ? 0 : ranges[ranges.length - 1][1] + 1;
  if (covered < T) ranges.push([start, T - 1]);
  return ranges;
}

/** Mean of the feature rows of each segment (accumulated in float64, stored as float32 like the features). */
export function poolSegments(features: Sequence, options: PoolingOptions): PooledSegments {
  checkFeatures(features);
  const [T, D] = features.shape;
  const ranges = segmentFrames(T, options);
  const src = features.data;
  const data = new Float32Array(ranges.length * D);
  const acc = new Float64Array(D);
  const segments = ranges.map(([startFrame, endFrame], s) => {
    acc.fill(0);
    for (let t = startFrame; t <= endFrame; t++) {
      const row = t * D;
      for (let d = 0; d < D; d++) acc[d] += src[row + d];
    }
    const n = endFrame - startFrame + 1;
    for (let d = 0; d < D; d++) data[s * D + d] = acc[d] / n;
    return { startFrame, endFrame, start: startFrame / features.fps, end: (endFrame + 1) / features.fps };
  });
  return { data, shape: [ranges.length, D], segments };
}
