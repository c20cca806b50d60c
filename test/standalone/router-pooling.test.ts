import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// straight from pooling.js: pooling does not need mathjs, and loading it is most of this file's time
import { poolSegments, segmentFrames, type Segment } from '../../src/router/pooling.js';
import type { Sequence } from '../../src/types.js';

/** Row t of a [T, 2] sequence is [t, 10·t]: every window mean is easy to compute by hand and exact in float32. */
function ramp(T: number, fps = 10): Sequence {
  const data = new Float32Array(T * 2);
  for (let t = 0; t < T; t++) data.set([t, 10 * t], t * 2);
  return { data, shape: [T, 2], fps };
}

const seg = (startFrame: number, endFrame: number, fps: number): Segment => ({ startFrame, endFrame, start: startFrame / fps, end: (endFrame + 1) / fps });

describe('router pooling', () => {
  it('averages non-overlapping windows and keeps the partial last window', () => {
    const pooled = poolSegments(ramp(5), { window: 2, hop: 2 });
    assert.deepEqual(pooled.shape, [3, 2]);
    assert.deepEqual(Array.from(pooled.data), [0.5, 5, 2.5, 25, 4, 40]);
    assert.deepEqual(pooled.segments, [seg(0, 1, 10), seg(2, 3, 10), seg(4, 4, 10)]);
  });

  it('overlapping windows: full windows while they fit, then one partial window from the next hop to the end', () => {
    assert.deepEqual(segmentFrames(7, { window: 4, hop: 2 }), [
      [0, 3],
      [2, 5],
      [4, 6],
    ]);
    const pooled = poolSegments(ramp(7), { window: 4, hop: 2 });
    assert.deepEqual(Array.from(pooled.data), [1.5, 15, 3.5, 35, 5, 50]);
  });

  it('adds no partial window when the full windows reach the last frame', () => {
    assert.deepEqual(segmentFrames(8, { window: 4, hop: 2 }), [
      [0, 3],
      [2, 5],
      [4, 7],
    ]);
    assert.deepEqual(segmentFrames(4, { window: 4, hop: 1 }), [[0, 3]]);
  });

  it('a sequence shorter than the window is one partial window', () => {
    const pooled = poolSegments(ramp(3, 25), { window: 16, hop: 8 });
    assert.deepEqual(pooled.segments, [seg(0, 2, 25)]);
    assert.deepEqual(Array.from(pooled.data), [1, 10]);
  });

  it("window 'sequence' pools the whole sequence into one segment", () => {
    const pooled = poolSegments(ramp(6, 24), { window: 'sequence' });
    assert.deepEqual(pooled.shape, [1, 2]);
    assert.deepEqual(Array.from(pooled.data), [2.5, 25]);
    assert.deepEqual(pooled.segments, [{ startFrame: 0, endFrame: 5, start: 0, end: 0.25 }]);
  });

  it('times come from fps: start = startFrame / fps, end = (endFrame + 1) / fps', () => {
    const { segments } = poolSegments(ramp(240, 24), { window: 16, hop: 8 });
    assert.equal(segments.length, 29);
    assert.deepEqual(segments[1], { startFrame: 8, endFrame: 23, start: 8 / 24, end: 1 });
    assert.deepEqual(segments[28], { startFrame: 224, endFrame: 239, start: 224 / 24, end: 10 });
  });

  it('window 1, hop 1 returns the frames themselves', () => {
    const seq = ramp(4);
    const pooled = poolSegments(seq, { window: 1, hop: 1 });
    assert.deepEqual(pooled.data, seq.data);
    assert.equal(pooled.segments.length, 4);
  });

  it('does not modify its input', () => {
    const seq = ramp(9);
    const copy = seq.data.slice();
    poolSegments(seq, { window: 4, hop: 3 });
    assert.deepEqual(seq.data, copy);
  });

  it('rejects bad windows, hops and sequences, naming the field', () => {
    assert.throws(() => poolSegments(ramp(5), { window: 0, hop: 1 }), { name: 'SignweaveInputError', message: /window must be an integer ≥ 1, got 0/ });
    assert.throws(() => poolSegments(ramp(5), { window: 2.5, hop: 1 }), { name: 'SignweaveInputError', message: /window/ });
    assert.throws(() => poolSegments(ramp(5), { window: 4, hop: 0 }), { name: 'SignweaveInputError', message: /hop must be an integer ≥ 1, got 0/ });
    assert.throws(() => poolSegments(ramp(5), { window: 4 }), { name: 'SignweaveInputError', message: /hop is required/ });
    assert.throws(() => poolSegments(ramp(5), { window: 2, hop: 3 }), { name: 'SignweaveInputError', message: /hop \(3\) must not exceed window \(2\)/ });
    assert.throws(() => poolSegments(ramp(0), { window: 2, hop: 1 }), { name: 'SignweaveInputError', message: /features is empty/ });
    assert.throws(() => poolSegments({ ...ramp(3), fps: 0 }, { window: 2, hop: 1 }), { name: 'SignweaveInputError', message: /features\.fps/ });
    assert.throws(() => poolSegments({ ...ramp(3), shape: [4, 2] }, { window: 2, hop: 1 }), { name: 'SignweaveInputError', message: /features\.data has 6 values/ });
  });
});
