import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ctcLoss, ctcMinFrames, type Float32Tensor } from '../../src/train/loss.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError, maxDiff } from '../helpers/assert.js';

function randomLogits(shape: number[], seed: number, spread = 3): Float32Tensor {
  const rng = mulberry32(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (rng() - 0.5) * 2 * spread;
  return { data, shape };
}

/** Softmax probabilities of one sample's frames, in float64. */
function probs(logits: Float32Tensor, b: number): number[][] {
  const [, T, V] = logits.shape;
  return Array.from({ length: T }, (_, t) => {
    const row = Array.from(logits.data.subarray((b * T + t) * V, (b * T + t + 1) * V));
    const m = Math.max(...row);
    const e = row.map((x) => Math.exp(x - m));
    const z = e.reduce((a, x) => a + x, 0);
    return e.map((x) => x / z);
  });
}

/** CTC's many-to-one map: merge repeats, then drop blanks. */
function collapse(path: number[], blank: number): number[] {
  return path.filter((v, i) => v !== blank && (i === 0 || path[i - 1] !== v));
}

/** Σ over every length-n path collapsing to `target` of its probability, by enumerating all Vⁿ paths. */
function bruteForce(p: number[][], n: number, target: number[], blank: number): number {
  const V = p[0].length;
  let total = 0;
  const path = new Array<number>(n).fill(0);
  for (let k = 0; k < V ** n; k++) {
    let prob = 1;
    for (let t = 0, r = k; t < n; t++, r = Math.floor(r / V)) {
      path[t] = r % V;
      prob *= p[t][path[t]];
    }
    if (collapse(path, blank).join() === target.join()) total += prob;
  }
  return total;
}

describe('CTC loss', () => {
  it('equals −ln of the summed probability of every alignment (exhaustive, tiny T and V)', () => {
    const cases: { T: number; V: number; blank: number; target: number[] }[] = [
      { T: 5, V: 3, blank: 0, target: [1, 2] },
      { T: 5, V: 3, blank: 0, target: [1, 1] },
      { T: 4, V: 4, blank: 3, target: [0, 1, 0] },
      { T: 6, V: 3, blank: 2, target: [0, 0, 1] },
      { T: 3, V: 3, blank: 0, target: [] },
      { T: 6, V: 2, blank: 0, target: [1, 1, 1] },
    ];
    cases.forEach(({ T, V, blank, target }, i) => {
      const logits = randomLogits([1, T, V], 100 + i);
      const { loss } = ctcLoss(logits, [T], [target], blank, { reduction: 'sum' });
      const expected = -Math.log(bruteForce(probs(logits, 0), T, target, blank));
      assert.ok(Math.abs((loss as number) - expected) < 1e-9, `case ${i}: ${loss} vs ${expected}`);
    });
  });

  it('gradient matches central finite differences of the loss', () => {
    const logits = randomLogits([2, 6, 4], 7, 2);
    const inputLengths = [6, 4];
    const targets = [[1, 1, 2], [3]];
    const f = (): number => ctcLoss(logits, inputLengths, targets, 0).loss as number;
    const { grad } = ctcLoss(logits, inputLengths, targets, 0);
    const h = 1e-2;
    const fd = new Float64Array(logits.data.length);
    for (let i = 0; i < logits.data.length; i++) {
      const x = logits.data[i];
      logits.data[i] = x + h;
      const up = f();
      logits.data[i] = x - h;
      const down = f();
      logits.data[i] = x;
      fd[i] = (up - down) / (2 * h);
    }
    assert.ok(maxDiff(grad, fd) < 2e-5, `max |grad − fd| = ${maxDiff(grad, fd)}`);
    // sample 1 stops at frame 4: frames 4 and 5 get no gradient
    assert.ok(grad.subarray((6 + 4) * 4, 12 * 4).every((g) => g === 0));
  });

  it('agrees with PyTorch-style numbers derived by hand for 2 frames', () => {
    // V = 2 (blank 0, label 1), target [1]. Frame 0: p = (1/4, 3/4); frame 1: p = (1/2, 1/2).
    // Alignments of [1]: (1,1) 3/8, (0,1) 1/8, (1,0) 3/8 → p = 7/8, loss = −ln(7/8).
    // Occupancy of label 1: frame 0 (3/8+3/8)/(7/8) = 6/7, frame 1 (3/8+1/8)/(7/8) = 4/7; grad = softmax − occupancy.
    const logits = { data: new Float32Array([0, Math.log(3), 0, 0]), shape: [1, 2, 2] };
    const { loss, grad } = ctcLoss(logits, [2], [[1]], 0);
    assert.ok(Math.abs((loss as number) + Math.log(7 / 8)) < 1e-7, `${loss}`);
    assert.ok(maxDiff(grad, [1 / 4 - 1 / 7, 3 / 4 - 6 / 7, 1 / 2 - 3 / 7, 1 / 2 - 4 / 7]) < 1e-7, `${grad}`);
    // torch.nn.functional.ctc_loss(zeros(2,2,2).log_softmax(2), [[1,1],[1,0]], [2,2], [2,1]), reduction 'mean':
    // sample 0: target [1,1] needs 3 frames → infeasible, +∞ (0 with zero_infinity); sample 1: −ln(3/4) / 1.
    const zeros = { data: new Float32Array(8), shape: [2, 2, 2] };
    const mean = ctcLoss(zeros, [2, 2], [[1, 1], [1]], 0, { zeroInfinity: true });
    assert.deepEqual(mean.infeasible, [0]);
    assert.ok(Math.abs((mean.loss as number) + Math.log(3 / 4) / 2) < 1e-7, `${mean.loss}`);
    assert.equal(ctcLoss(zeros, [2, 2], [[1, 1], [1]], 0).loss, Infinity);
    // 'mean' divides by the target length: [1] and [1,1]-like lengths scale the gradient by 1 / (L · B)
    assert.ok(maxDiff(mean.grad.subarray(4), [1 / 12, -1 / 12, 1 / 12, -1 / 12]) < 1e-7, `${mean.grad}`);
    assert.ok(mean.grad.subarray(0, 4).every((g) => g === 0));
  });

  it('repeated labels need a blank between them; empty targets are all blanks', () => {
    assert.equal(ctcMinFrames([1, 1, 2, 2, 2]), 8);
    const logits = randomLogits([1, 3, 3], 3);
    // [1, 1] fits in 3 frames only as 1 ∅ 1
    const p = probs(logits, 0);
    const { loss } = ctcLoss(logits, [3], [[1, 1]], 0, { reduction: 'none' });
    assert.ok(Math.abs((loss as Float64Array)[0] + Math.log(p[0][1] * p[1][0] * p[2][1])) < 1e-9);
    const empty = ctcLoss(logits, [3], [[]], 0, { reduction: 'mean' });
    assert.ok(Math.abs((empty.loss as number) + Math.log(p[0][0] * p[1][0] * p[2][0])) < 1e-9);
    assert.ok(maxDiff(empty.grad, p.flatMap((row) => row.map((q, v) => q - (v === 0 ? 1 : 0)))) < 1e-7);
    assert.equal(ctcLoss(logits, [2], [[1, 1]], 0).infeasible[0], 0);
  });

  it('infeasible samples: +∞ or 0 with zeroInfinity, and no gradient either way', () => {
    const logits = randomLogits([2, 4, 3], 11);
    for (const zeroInfinity of [false, true]) {
      const r = ctcLoss(logits, [4, 2], [[1, 2], [1, 2, 1]], 0, { reduction: 'none', zeroInfinity });
      assert.deepEqual(r.infeasible, [1]);
      assert.equal((r.loss as Float64Array)[1], zeroInfinity ? 0 : Infinity);
      assert.ok(Number.isFinite((r.loss as Float64Array)[0]));
      assert.ok(r.grad.subarray(12).every((g) => g === 0));
    }
  });

  it('a batch with different lengths equals its samples run one by one', () => {
    const B = 4, T = 9, V = 5;
    const logits = randomLogits([B, T, V], 21);
    const inputLengths = [9, 5, 7, 1];
    const targets = [[1, 2, 3, 4], [2, 2], [], [4]];
    const batch = ctcLoss(logits, inputLengths, targets, 0, { reduction: 'none' });
    const mean = ctcLoss(logits, inputLengths, targets, 0);
    let expectedMean = 0;
    for (let b = 0; b < B; b++) {
      const one = { data: logits.data.slice(b * T * V, (b + 1) * T * V), shape: [1, T, V] };
      const r = ctcLoss(one, [inputLengths[b]], [targets[b]], 0, { reduction: 'sum' });
      assert.equal((batch.loss as Float64Array)[b], r.loss);
      assert.deepEqual(batch.grad.subarray(b * T * V, (b + 1) * T * V), r.grad);
      expectedMean += (r.loss as number) / Math.max(targets[b].length, 1) / B;
    }
    assert.ok(Math.abs((mean.loss as number) - expectedMean) < 1e-12);
  });

  it('reuses a given gradient buffer and clears what it held', () => {
    const logits = randomLogits([1, 4, 3], 5);
    const buffer = new Float32Array(12).fill(7);
    const r = ctcLoss(logits, [2], [[1]], 0, { grad: buffer });
    assert.equal(r.grad, buffer);
    assert.deepEqual(r.grad, ctcLoss(logits, [2], [[1]], 0).grad);
  });

  it('bad input is an input error naming the sample', () => {
    const logits = randomLogits([2, 3, 4], 1);
    assert.throws(() => ctcLoss(logits, [3, 3], [[1], [0]], 0), inputError(/sample 1: target\[0\] = 0 .*blank 0/));
    assert.throws(() => ctcLoss(logits, [3, 4], [[1], [1]], 0), inputError(/sample 1: input length 4/));
    assert.throws(() => ctcLoss(logits, [3], [[1], [1]], 0), inputError(/2 logits but 1 input lengths/));
    assert.throws(() => ctcLoss(logits, [3, 3], [[1], [1]], 4), inputError(/blank 4 is out of range for V = 4/));
    assert.throws(() => ctcLoss({ data: logits.data, shape: [2, 12] }, [3, 3], [[1], [1]], 0), inputError(/shape \[B, T, V\]/));
    logits.data[1 * 12 + 2 * 4 + 3] = NaN;
    assert.throws(() => ctcLoss(logits, [3, 3], [[1], [1]], 0), inputError(/sample 1, frame 2, label 3: logit NaN/));
  });
});
