import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crossEntropy, dropoutMask, gumbelSoftmaxBackward, gumbelSoftmaxRows } from '../../src/train/loss.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError, maxDiff } from '../helpers/assert.js';

/** Central finite differences of f over every element of `x` (float32 in place, restored). */
function finiteDifferences(x: Float32Array, f: () => number, h = 1e-2): Float64Array {
  const fd = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = v + h;
    const up = f();
    x[i] = v - h;
    const down = f();
    x[i] = v;
    fd[i] = (up - down) / (2 * h);
  }
  return fd;
}

describe('cross-entropy', () => {
  it('matches PyTorch numbers derived by hand (label smoothing, ignore index, masked mean)', () => {
    // logits (0, ln 3): p = (1/4, 3/4). Target 1, ε = 0.2 → q = (0.1, 0.9): loss = −0.1 ln(1/4) − 0.9 ln(3/4).
    // The second row is ignored, so the mean is over one row.
    const logits = { data: new Float32Array([0, Math.log(3), 5, -5]), shape: [2, 2] };
    const r = crossEntropy(logits, [1, -100], { labelSmoothing: 0.2 });
    assert.equal(r.count, 1);
    assert.ok(Math.abs(r.loss - (-0.1 * Math.log(1 / 4) - 0.9 * Math.log(3 / 4))) < 1e-7, `${r.loss}`);
    assert.ok(maxDiff(r.grad, [0.25 - 0.1, 0.75 - 0.9, 0, 0]) < 1e-7, `${r.grad}`);
    // without smoothing it is −ln p[target]; every row ignored gives 0
    assert.ok(Math.abs(crossEntropy(logits, [1, 0]).loss - (-Math.log(3 / 4) + Math.log1p(Math.exp(-10))) / 2) < 1e-7);
    assert.deepEqual(crossEntropy(logits, [-100, -100]), { loss: 0, grad: new Float32Array(4), count: 0 });
  });

  it('gradient matches finite differences, mean and sum', () => {
    const rng = mulberry32(3);
    const data = Float32Array.from({ length: 4 * 5 }, () => rng() * 4 - 2);
    const logits = { data, shape: [4, 5] };
    const targets = [2, 7, 0, 4];
    for (const reduction of ['mean', 'sum'] as const) {
      const options = { labelSmoothing: 0.1, ignoreIndex: 7, reduction };
      const { grad } = crossEntropy(logits, targets, options);
      const fd = finiteDifferences(data, () => crossEntropy(logits, targets, options).loss);
      assert.ok(maxDiff(grad, fd) < 1e-4, `${reduction}: ${maxDiff(grad, fd)}`);
    }
  });

  it('bad targets are input errors naming the row', () => {
    const logits = { data: new Float32Array(6), shape: [2, 3] };
    assert.throws(() => crossEntropy(logits, [0, 3]), inputError(/target 1 = 3 is not a class in \[0, 3\)/));
    assert.throws(() => crossEntropy(logits, [0]), inputError(/2 rows of logits but 1 targets/));
    assert.throws(() => crossEntropy(logits, [0, 1], { labelSmoothing: 1.5 }), inputError(/labelSmoothing/));
  });
});

describe('Gumbel-softmax straight-through backward', () => {
  const logits = { data: new Float32Array([0.5, -1, 1.2, 0.1, 2, -0.3]), shape: [2, 3] };
  const upstream = [0.3, -1.1, 0.7, 2, 0.4, -0.5];

  it("is the soft sample's Jacobian applied to the upstream gradient (finite differences, same noise)", () => {
    for (const tau of [1, 0.4]) {
      // value · upstream with the noise of seed 9, as a function of the logits
      const f = (): number =>
        gumbelSoftmaxRows(logits, { tau, rng: mulberry32(9) }).reduce((s, x, i) => s + x.value.reduce((a, v, c) => a + v * upstream[i * 3 + c], 0), 0);
      const samples = gumbelSoftmaxRows(logits, { tau, rng: mulberry32(9) });
      const grad = gumbelSoftmaxBackward(samples, upstream, tau);
      const fd = finiteDifferences(logits.data, f, 1e-3);
      assert.ok(maxDiff(grad, fd) < 1e-4, `τ ${tau}: ${maxDiff(grad, fd)}`);
    }
  });

  it('hard samples are one-hot forward and pass the soft gradient backward', () => {
    const hard = gumbelSoftmaxRows(logits, { tau: 0.5, rng: mulberry32(4), hard: true });
    const soft = gumbelSoftmaxRows(logits, { tau: 0.5, rng: mulberry32(4) });
    hard.forEach((s, i) => {
      assert.deepEqual(s.value, s.hard);
      assert.deepEqual(s.soft, soft[i].soft);
    });
    assert.deepEqual(gumbelSoftmaxBackward(hard, upstream, 0.5), gumbelSoftmaxBackward(soft, upstream, 0.5));
    // rows draw in order from one stream: row 1 of a batch is not a fresh draw of row 0's noise
    assert.notDeepEqual(soft[0].soft, gumbelSoftmaxRows({ data: logits.data.subarray(3), shape: [1, 3] }, { tau: 0.5, rng: mulberry32(4) })[0].soft);
  });

  it('checks tau and the upstream size', () => {
    const samples = gumbelSoftmaxRows(logits, { tau: 1, rng: mulberry32(1) });
    assert.throws(() => gumbelSoftmaxBackward(samples, upstream.slice(1), 1), inputError(/2 samples of 3 classes but 5 upstream/));
    assert.throws(() => gumbelSoftmaxBackward(samples, upstream, 0), inputError(/tau/));
  });
});

describe('dropout masks', () => {
  it('inverted dropout: zeros at the rate, survivors scaled by 1 / (1 − rate), seeded', () => {
    const mask = dropoutMask(100_000, 0.1, mulberry32(5));
    let zeros = 0;
    let sum = 0;
    for (const m of mask) {
      if (m === 0) zeros++;
      else assert.equal(m, Math.fround(1 / 0.9));
      sum += m;
    }
    assert.ok(Math.abs(zeros / mask.length - 0.1) < 0.005, `${zeros}`);
    assert.ok(Math.abs(sum / mask.length - 1) < 0.01, `${sum}`);
    assert.deepEqual(dropoutMask(1000, 0.1, mulberry32(5)), mask.subarray(0, 1000));
    assert.notDeepEqual(dropoutMask(1000, 0.1, mulberry32(6)), mask.subarray(0, 1000));
    assert.ok(dropoutMask(10, 0, mulberry32(5)).every((m) => m === 1));
    const buffer = new Float32Array(8);
    assert.equal(dropoutMask(8, 0.5, mulberry32(1), buffer), buffer);
  });

  it('rejects a rate outside [0, 1)', () => {
    for (const rate of [1, -0.1, NaN]) assert.throws(() => dropoutMask(4, rate, mulberry32(1)), inputError(/rate must be in \[0, 1\)/));
  });
});
