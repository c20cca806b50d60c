import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initLinearLayers, Mlp, softmaxRows, type LinearLayer } from '../../src/router/index.js';
import { mulberry32 } from '../../src/util/random.js';

const layer = (weights: number[][], bias: number[]): LinearLayer => ({
  weights: Float32Array.from(weights.flat()),
  bias: Float32Array.from(bias),
  in: weights[0].length,
  out: weights.length,
});

// 2 → 2 → 3. x = [1, 2]: pre-activation h = [1·1 − 1·2 + 0, 0.5·1 + 0.5·2 − 1] = [−1, 0.5]
const hidden = layer(
  [
    [1, -1],
    [0.5, 0.5],
  ],
  [0, -1],
);
const head = layer(
  [
    [1, 0],
    [0, 2],
    [1, 1],
  ],
  [0.5, 0, -0.5],
);
const x = Float32Array.from([1, 2]);

function assertClose(actual: number[][], expected: number[][], tolerance: number): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, r) => {
    assert.equal(row.length, expected[r].length);
    row.forEach((v, c) => assert.ok(Math.abs(v - expected[r][c]) <= tolerance, `[${r}][${c}]: ${v} vs ${expected[r][c]}`));
  });
}

describe('router MLP', () => {
  for (const engine of ['mathjs', 'loop'] as const) {
    it(`${engine}: a hand-computed 2-layer ReLU example`, () => {
      // ReLU(h) = [0, 0.5] → [0 + 0.5, 2·0.5, 0.5 − 0.5]
      assert.deepEqual(new Mlp([hidden, head], 'relu').forward(x, 1, engine), [[0.5, 1, 0]]);
    });

    it(`${engine}: a hand-computed 2-layer GELU example`, () => {
      // GELU(−1) = −0.15865525393145707, GELU(0.5) = 0.34573123063700656 (Python math.erf)
      const [g0, g1] = [-0.15865525393145707, 0.34573123063700656];
      assertClose(new Mlp([hidden, head], 'gelu').forward(x, 1, engine), [[g0 + 0.5, 2 * g1, g0 + g1 - 0.5]], engine === 'mathjs' ? 1e-12 : 1e-7);
    });
  }

  it('one layer is a plain affine map, several rows at once', () => {
    const out = new Mlp([head]).forward(Float32Array.from([1, 0, 0, 1, 2, 3]), 3, 'mathjs');
    assert.deepEqual(out, [
      [1.5, 0, 0.5],
      [0.5, 2, 0.5],
      [2.5, 6, 4.5],
    ]);
  });

  for (const activation of ['relu', 'gelu'] as const) {
    it(`mathjs and plain loops agree to 1e-6 (${activation}, 384 → 128 → 3, 29 rows)`, () => {
      const mlp = new Mlp(initLinearLayers([384, 128, 3], 11), activation);
      const rand = mulberry32(5);
      const input = Float32Array.from({ length: 29 * 384 }, () => rand() * 4 - 2);
      const viaMathjs = mlp.forward(input, 29, 'mathjs');
      const viaLoop = mlp.forward(input, 29, 'loop');
      assertClose(viaLoop, viaMathjs, 1e-6);
      assertClose(softmaxRows(viaLoop, 'loop'), softmaxRows(viaMathjs, 'mathjs'), 1e-6);
    });
  }

  it('initLinearLayers: PyTorch-Linear bounds, deterministic per seed', () => {
    const layers = initLinearLayers([64, 16, 3], 1);
    assert.deepEqual(
      layers.map((l) => [l.in, l.out, l.weights.length, l.bias.length]),
      [
        [64, 16, 1024, 16],
        [16, 3, 48, 3],
      ],
    );
    for (const l of layers) {
      const bound = 1 / Math.sqrt(l.in);
      for (const v of [...l.weights, ...l.bias]) assert.ok(Math.abs(v) < bound);
      // uniform over (−bound, bound): the extremes are used, not a narrower range
      assert.ok(Math.max(...l.weights.map(Math.abs)) > 0.9 * bound);
    }
    assert.deepEqual(initLinearLayers([64, 16, 3], 1), layers);
    assert.notDeepEqual(initLinearLayers([64, 16, 3], 2)[0].weights, layers[0].weights);
  });

  it('rejects malformed layers, naming them', () => {
    assert.throws(() => new Mlp([]), { name: 'SignweaveInputError', message: /at least one layer/ });
    assert.throws(() => new Mlp([{ ...head, weights: new Float32Array(5) }]), { name: 'SignweaveInputError', message: /layers\[0\]\.weights has 5 values/ });
    assert.throws(() => new Mlp([{ ...head, bias: new Float32Array(2) }]), { name: 'SignweaveInputError', message: /layers\[0\]\.bias has 2 values/ });
    assert.throws(() => new Mlp([head, hidden]), { name: 'SignweaveInputError', message: /layers\[1\]\.in is 2 but layers\[0\]\.out is 3/ });
    assert.throws(() => new Mlp([{ ...head, bias: Float32Array.from([0, NaN, 0]) }]), { name: 'SignweaveInputError', message: /non-finite/ });
    assert.throws(() => new Mlp([head]).forward(new Float32Array(3), 1), { name: 'SignweaveInputError', message: /MLP input has 3 values/ });
    assert.throws(() => initLinearLayers([4], 0), { name: 'SignweaveInputError', message: /sizes/ });
  });
});
