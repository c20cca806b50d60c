import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { argmax, gumbelSoftmax, softmax } from '../../src/router/index.js';
import { mulberry32 } from '../../src/util/random.js';

const logits = [0.5, -1, 1.2];

describe('router Gumbel-softmax', () => {
  it('softmax and argmax, both engines', () => {
    for (const engine of ['mathjs', 'loop'] as const) {
      const p = softmax([1000, 1000, 1000 - Math.log(2)], engine);
      [0.4, 0.4, 0.2].forEach((e, i) => assert.ok(Math.abs(p[i] - e) < 1e-12, `${engine} ${p}`));
      assert.equal(argmax([0, 3, 3, 1], engine), 1);
    }
  });

  it('the same seed gives the same sample, another seed another one', () => {
    const a = gumbelSoftmax(logits, { tau: 0.7, rng: mulberry32(42) });
    const b = gumbelSoftmax(logits, { tau: 0.7, rng: mulberry32(42) });
    const c = gumbelSoftmax(logits, { tau: 0.7, rng: mulberry32(43) });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.soft, c.soft);
  });

  it('both engines draw the same sample from the same seed', () => {
    for (let seed = 0; seed < 20; seed++) {
      const m = gumbelSoftmax(logits, { tau: 0.5, rng: mulberry32(seed), engine: 'mathjs' });
      const l = gumbelSoftmax(logits, { tau: 0.5, rng: mulberry32(seed), engine: 'loop' });
      assert.equal(m.index, l.index);
      m.soft.forEach((v, i) => assert.ok(Math.abs(v - l.soft[i]) < 1e-12));
    }
  });

  it('hard is exactly the one-hot of argmax(soft); value follows the hard option', () => {
    for (let seed = 0; seed < 50; seed++) {
      const s = gumbelSoftmax(logits, { tau: 1, rng: mulberry32(seed), hard: true });
      assert.equal(s.index, argmax(s.soft, 'loop'));
      assert.deepEqual(
        s.hard,
        logits.map((_, i) => (i === s.index ? 1 : 0)),
      );
      assert.equal(s.value, s.hard);
      assert.ok(Math.abs(s.soft.reduce((a, b) => a + b) - 1) < 1e-12);
      assert.equal(gumbelSoftmax(logits, { tau: 1, rng: mulberry32(seed) }).value.length, 3);
      assert.deepEqual(gumbelSoftmax(logits, { tau: 1, rng: mulberry32(seed) }).value, s.soft);
    }
  });

  it('as τ → 0 the soft sample approaches its one-hot (same noise, same class)', () => {
    for (let seed = 0; seed < 20; seed++) {
      const taus = [10, 1, 0.1, 0.01, 1e-4];
      const samples = taus.map((tau) => gumbelSoftmax(logits, { tau, rng: mulberry32(seed) }));
      const peaks = samples.map((s) => Math.max(...s.soft));
      for (let i = 1; i < peaks.length; i++) assert.ok(peaks[i] >= peaks[i - 1], `seed ${seed}: ${peaks}`);
      assert.ok(peaks[peaks.length - 1] > 1 - 1e-6, `seed ${seed}: ${peaks}`);
      assert.ok(samples.every((s) => s.index === samples[0].index));
    }
    // and towards uniform as τ grows
    const flat = gumbelSoftmax(logits, { tau: 1e6, rng: mulberry32(1) }).soft;
    flat.forEach((v) => assert.ok(Math.abs(v - 1 / 3) < 1e-5));
  });

  for (const [engine, N, tau] of [
    ['loop', 40_000, 1],
    ['loop', 40_000, 0.2],
    ['mathjs', 6_000, 3],
  ] as const) {
    it(`Gumbel-max: class frequencies match softmax(logits) (${engine}, N = ${N}, τ = ${tau}, χ² test)`, () => {
      const expected = softmax(logits, 'loop').map((p) => p * N);
      const counts = [0, 0, 0];
      const rng = mulberry32(2024);
      for (let n = 0; n < N; n++) counts[gumbelSoftmax(logits, { tau, rng, engine }).index]++;
      const chi2 = counts.reduce((acc, o, i) => acc + (o - expected[i]) ** 2 / expected[i], 0);
      // χ²(2 d.o.f.) exceeds 13.82 with probability 0.001
      assert.ok(chi2 < 13.82, `counts ${counts}, expected ${expected.map(Math.round)}, χ² = ${chi2}`);
    });
  }

  it('clamps uniforms of exactly 0 and (nearly) 1 to finite noise', () => {
    for (const u of [0, 1 - 2 ** -32]) {
      const s = gumbelSoftmax(logits, { tau: 1, rng: () => u });
      assert.ok(s.soft.every(Number.isFinite));
    }
  });

  it('rejects τ ≤ 0 and bad logits, naming the field', () => {
    const rng = mulberry32(0);
    for (const tau of [0, -1, NaN, Infinity]) {
      assert.throws(() => gumbelSoftmax(logits, { tau, rng }), { name: 'SignweaveInputError', message: /tau must be a finite number > 0/ });
    }
    assert.throws(() => gumbelSoftmax([], { tau: 1, rng }), { name: 'SignweaveInputError', message: /logits must not be empty/ });
    assert.throws(() => gumbelSoftmax([0, NaN], { tau: 1, rng }), { name: 'SignweaveInputError', message: /logits must be finite/ });
  });
});
