import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameWeights, initLinearLayers, Router, type RouterDecision } from '../../src/router/index.js';
import type { Sequence } from '../../src/types.js';
import { mulberry32 } from '../../src/util/random.js';

const D = 32;

function features(T: number, seed = 1, fps = 24): Sequence {
  const rand = mulberry32(seed);
  return { data: Float32Array.from({ length: T * D }, () => rand() * 4 - 2), shape: [T, D], fps };
}

// seeded demo layers scaled up so the three classes are not all near 1/3
function demoRouter(window: number | 'sequence' = 8, hop?: number, engine: 'mathjs' | 'loop' = 'mathjs'): Router {
  const layers = initLinearLayers([D, 16, 3], 3).map((l) => ({ ...l, weights: l.weights.map((w) => w * 4) }));
  return new Router({ layers, window, hop, engine });
}

function sum(values: ArrayLike<number>, from = 0, to = values.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += values[i];
  return s;
}

describe('Router', () => {
  it('inference: one decision per segment, deterministic, no noise', () => {
    const router = demoRouter(8, 4);
    const f = features(30);
    const a = router.route(f, { mode: 'inference' });
    assert.equal(a.length, 7); // starts 0, 4, …, 20 are full; [24, 29] is the partial last window
    assert.deepEqual(a[6].segment, { startFrame: 24, endFrame: 29, start: 1, end: 1.25 });
    // a seed or τ changes nothing in inference
    assert.deepEqual(router.route(f, { mode: 'inference', seed: 99, tau: 0.1 }), a);
    for (const d of a) {
      assert.equal(d.weights, d.probs);
      assert.equal(d.sample, undefined);
      const best = d.logits.indexOf(Math.max(...d.logits));
      assert.equal(d.label, router.classes[best]);
      assert.equal(d.confidence, Math.max(...d.probs));
      assert.ok(Math.abs(sum(d.probs) - 1) < 1e-12);
    }
    assert.ok(new Set(a.map((d) => d.label)).size > 1, 'the demo router should not say one class everywhere');
  });

  it('mathjs and loop engines give the same decisions (1e-6)', () => {
    const f = features(61, 4);
    const m = demoRouter(8, 4, 'mathjs').route(f, { mode: 'train', seed: 5, tau: 0.5 });
    const l = demoRouter(8, 4, 'loop').route(f, { mode: 'train', seed: 5, tau: 0.5 });
    m.forEach((d, s) => {
      assert.equal(d.label, l[s].label);
      for (const key of ['logits', 'probs', 'weights'] as const) d[key].forEach((v, i) => assert.ok(Math.abs(v - l[s][key][i]) < 1e-6, `${key}`));
    });
  });

  it('train: Gumbel samples, repeatable per seed, label = sampled class', () => {
    const router = demoRouter(8, 4);
    const f = features(40);
    const a = router.route(f, { mode: 'train', seed: 7, tau: 0.5 });
    assert.deepEqual(router.route(f, { mode: 'train', seed: 7, tau: 0.5 }), a);
    assert.notDeepEqual(
      router.route(f, { mode: 'train', seed: 8, tau: 0.5 }).map((d) => d.weights),
      a.map((d) => d.weights),
    );
    for (const d of a) {
      assert.ok(d.sample);
      assert.equal(d.weights, d.sample.soft);
      const index = d.sample.hard.indexOf(1);
      assert.equal(d.label, router.classes[index]);
      assert.equal(d.confidence, d.probs[index]);
    }
    const hard = router.route(f, { mode: 'train', seed: 7, tau: 0.5, hard: true });
    hard.forEach((d, s) => {
      assert.deepEqual(d.weights, a[s].sample?.hard);
      assert.equal(d.label, a[s].label);
    });
  });

  it("window 'sequence' routes the whole video as one segment", () => {
    const decisions = demoRouter('sequence').route(features(50), { mode: 'inference' });
    assert.equal(decisions.length, 1);
    assert.deepEqual(decisions[0].segment, { startFrame: 0, endFrame: 49, start: 0, end: 50 / 24 });
  });

  it('custom class lists name the labels', () => {
    const router = new Router({ layers: initLinearLayers([D, 2], 1), classes: ['manual', 'other'], window: 4, hop: 4 });
    const decisions = router.route(features(8), { mode: 'inference' });
    for (const d of decisions) assert.ok(d.label === 'manual' || d.label === 'other');
    assert.deepEqual(router.frameWeights(decisions, 8).shape, [8, 2]);
  });

  it('frameWeights: overlapping windows are averaged and every row sums to 1', () => {
    const router = demoRouter(16, 8);
    const T = 37;
    const decisions = router.route(features(T, 9), { mode: 'inference' });
    const fw = router.frameWeights(decisions, T);
    assert.deepEqual(fw.shape, [T, 3]);
    assert.deepEqual(fw.classes, router.classes);
    for (let t = 0; t < T; t++) assert.ok(Math.abs(sum(fw.data, t * 3, t * 3 + 3) - 1) < 1e-6, `frame ${t}`);
    // segments [0,15], [8,23], [16,31] and the partial [24,36]: frame 10 lies in the first two, frame 2 in the first only
    const [s0, s1] = decisions;
    for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(fw.data[10 * 3 + c] - (s0.weights[c] + s1.weights[c]) / 2) < 1e-7);
      assert.ok(Math.abs(fw.data[2 * 3 + c] - s0.weights[c]) < 1e-7);
    }
    // also with hard one-hot weights from training
    const hard = router.frameWeights(router.route(features(T, 9), { mode: 'train', seed: 1, hard: true }), T);
    for (let t = 0; t < T; t++) assert.ok(Math.abs(sum(hard.data, t * 3, t * 3 + 3) - 1) < 1e-6);
  });

  it('frameWeights on hand-made decisions', () => {
    const decision = (startFrame: number, endFrame: number, weights: number[]): RouterDecision => ({
      segment: { startFrame, endFrame, start: 0, end: 0 },
      logits: [0, 0, 0],
      probs: weights,
      weights,
      label: 'sign',
      confidence: weights[0],
    });
    const classes = ['sign', 'fingerspell', 'rest'] as const;
    const fw = frameWeights([decision(0, 2, [1, 0, 0]), decision(1, 3, [0, 0.5, 0.5])], 4, classes);
    assert.deepEqual(Array.from(fw.data), [1, 0, 0, 0.5, 0.25, 0.25, 0.5, 0.25, 0.25, 0, 0.5, 0.5]);
    assert.throws(() => frameWeights([decision(0, 1, [1, 0, 0])], 4, classes), { name: 'SignweaveInputError', message: /frame 2 is covered by no decision/ });
    assert.throws(() => frameWeights([decision(0, 4, [1, 0, 0])], 4, classes), { name: 'SignweaveInputError', message: /decisions\[0\]\.segment frames 0\.\.4/ });
    assert.throws(() => frameWeights([decision(0, 3, [1, 0])], 4, classes), { name: 'SignweaveInputError', message: /decisions\[0\]\.weights has 2 values/ });
    assert.throws(() => frameWeights([], 0, classes), { name: 'SignweaveInputError', message: /T must be an integer ≥ 1/ });
  });

  it('validation errors name the field', () => {
    const layers = initLinearLayers([D, 16, 3], 3);
    const router = new Router({ layers });
    const err = (message: RegExp) => ({ name: 'SignweaveInputError', message });
    assert.throws(() => router.route({ data: new Float32Array(10 * 8), shape: [10, 8], fps: 24 }, { mode: 'inference' }), err(/features\.shape\[1\] \(feature dim\) is 8 but the MLP takes 32/));
    assert.throws(() => router.route({ data: new Float32Array(0), shape: [0, D], fps: 24 }, { mode: 'inference' }), err(/features is empty/));
    assert.throws(() => router.route(features(20), { mode: 'train', seed: 1, tau: 0 }), err(/tau must be a finite number > 0, got 0/));
    assert.throws(() => router.route(features(20), { mode: 'train', seed: 1, tau: -0.5 }), err(/tau/));
    assert.throws(() => router.route(features(20), { mode: 'train' }), err(/seed is required in train mode/));
    assert.throws(() => router.route(features(20), { mode: 'test' as 'train' }), err(/mode must be/));
    const bad = features(20);
    bad.data[5 * D] = NaN;
    assert.throws(() => router.route(bad, { mode: 'inference' }), err(/non-finite logits for frames 0\.\.15/));
    assert.throws(() => new Router({ layers, window: 0 }), err(/window must be an integer ≥ 1, got 0/));
    assert.throws(() => new Router({ layers, window: 8, hop: 0 }), err(/hop must be an integer ≥ 1, got 0/));
    assert.throws(() => new Router({ layers, window: 8, hop: 9 }), err(/hop \(9\) must not exceed window \(8\)/));
    assert.throws(() => new Router({ layers, classes: ['a', 'b'] }), err(/the last layer emits 3 logits but classes has 2 names/));
    assert.throws(() => new Router({ layers, classes: ['a', 'a', 'b'] }), err(/classes must be at least two distinct names/));
    assert.throws(() => new Router({ layers, engine: 'gpu' as 'loop' }), err(/engine must be/));
    assert.throws(() => new Router({ layers, activation: 'tanh' as 'relu' }), err(/activation must be/));
  });
});
