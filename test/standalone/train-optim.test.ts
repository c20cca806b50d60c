import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdamW, clipGradNorm, cosineSchedule, decaysByDefault, gumbelTau, type ParamTensors } from '../../src/train/optim.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError, maxDiff } from '../helpers/assert.js';

const SPECS = [
  { name: 'head.weight', shape: [1, 2] },
  { name: 'head.bias', shape: [2] },
];

describe('AdamW', () => {
  it('two steps equal the hand-computed PyTorch AdamW numbers (β 0.9/0.98, ε 1e-8, decay 0.01)', () => {
    const opt = new AdamW(SPECS);
    const params: ParamTensors = { 'head.weight': new Float32Array([0.5, -0.75]), 'head.bias': new Float32Array([0.25, 0]) };
    // Step 1 (lr 0.01): m̂ = g and v̂ = g², so p ← p·(1 − lr·wd) − lr·g / (|g| + ε): 0.5·0.9999 − 0.01·0.1/(0.1 + 1e-8).
    opt.update(params, { 'head.weight': new Float32Array([0.1, -0.2]), 'head.bias': new Float32Array([0.3, 0]) }, 0.01);
    assert.ok(maxDiff(params['head.weight'], [0.4899500009999999, -0.7399250004999999]) < 1e-7, `${params['head.weight']}`);
    assert.ok(maxDiff(params['head.bias'], [0.24000000033333332, 0]) < 1e-7, `${params['head.bias']}`);
    // Step 2 (lr 0.02), e.g. the second bias: m = 0.1·0.2 = 0.02, v = 0.02·0.04 = 0.0008, m̂ = 0.02/0.19,
    // v̂ = 0.0008/(1 − 0.98²) → update 0.02·0.105263/0.142134 = 0.0148118 (no decay on a bias).
    opt.update(params, { 'head.weight': new Float32Array([-0.05, 0.4]), 'head.bias': new Float32Array([0.1, 0.2]) }, 0.02);
    assert.ok(maxDiff(params['head.weight'], [0.48450985740652025, -0.7470780935291669]) < 1e-7, `${params['head.weight']}`);
    assert.ok(maxDiff(params['head.bias'], [0.22251140412464454, -0.014811838199442493]) < 1e-7, `${params['head.bias']}`);
    const state = opt.exportState();
    assert.equal(state.step, 2);
    assert.ok(maxDiff(state.m['head.bias'], [0.037, 0.02]) < 1e-9);
    assert.ok(maxDiff(state.v['head.weight'], [0.000246, 0.003984]) < 1e-10);
  });

  it('no decay on biases and norms by default; the rule can be replaced', () => {
    const names = (specs: { name: string; shape: number[] }[]): string[] => specs.filter(decaysByDefault).map((p) => p.name);
    const specs = [
      { name: 'enc.0.attn.q.weight', shape: [8, 8] },
      { name: 'enc.0.attn.q.bias', shape: [8] },
      { name: 'enc.0.norm1.weight', shape: [8] },
      { name: 'enc.0.norm1.bias', shape: [8] },
      { name: 'pos.weight', shape: [16, 8] },
      { name: 'final_norm.weight', shape: [1, 8] },
      { name: 'gate.bias', shape: [1, 8] },
      { name: 'scale', shape: [] },
    ];
    assert.deepEqual(names(specs), ['enc.0.attn.q.weight', 'pos.weight']);
    // with a zero gradient only the decay moves a parameter
    const opt = new AdamW(specs);
    const params = Object.fromEntries(specs.map((p) => [p.name, new Float32Array(p.shape.reduce((a, b) => a * b, 1)).fill(2)]));
    const zeros = Object.fromEntries(specs.map((p) => [p.name, new Float32Array(params[p.name].length)]));
    opt.update(params, zeros, 0.5);
    for (const { name } of specs) assert.equal(params[name][0], opt.decayed.has(name) ? Math.fround(2 * (1 - 0.5 * 0.01)) : 2, name);
    const all = new AdamW(specs, { decays: () => true, weightDecay: 0.1 });
    assert.equal(all.decayed.size, specs.length);
  });

  it('export and import resume exactly', () => {
    const specs = [{ name: 'w', shape: [3, 4] }];
    const rng = mulberry32(8);
    const grads = Array.from({ length: 6 }, () => ({ w: Float32Array.from({ length: 12 }, () => rng() - 0.5) }));
    const straight = { w: Float32Array.from({ length: 12 }, (_, i) => i / 10) };
    const a = new AdamW(specs);
    grads.forEach((g, i) => a.update(straight, g, 0.01 * (i + 1)));
    const resumed = { w: Float32Array.from({ length: 12 }, (_, i) => i / 10) };
    const b = new AdamW(specs);
    grads.slice(0, 3).forEach((g, i) => b.update(resumed, g, 0.01 * (i + 1)));
    const saved = { ...b.exportState(), w: resumed.w.slice() };
    b.update(resumed, grads[3], 99); // a step that the resume discards
    const c = new AdamW(specs);
    c.importState(saved);
    const p = { w: saved.w };
    grads.slice(3).forEach((g, i) => c.update(p, g, 0.01 * (i + 4)));
    assert.equal(c.step, 6);
    assert.deepEqual(p.w, straight.w);
    assert.deepEqual(c.exportState(), a.exportState());
  });

  it('bad parameters, gradients and states are input errors naming the parameter', () => {
    const opt = new AdamW(SPECS);
    const params = { 'head.weight': new Float32Array(2), 'head.bias': new Float32Array(2) };
    assert.throws(() => opt.update(params, { 'head.weight': new Float32Array(2) }, 0.1), inputError(/no gradient for parameter 'head.bias'/));
    assert.throws(() => opt.update(params, { ...params, 'head.bias': new Float32Array(3) }, 0.1), inputError(/gradient of 'head.bias' holds 3 values, the parameter 2/));
    const state = opt.exportState();
    assert.throws(() => opt.importState({ ...state, m: { ...state.m, extra: new Float32Array(1) } }), inputError(/'extra' is not a parameter/));
    assert.throws(() => opt.importState({ ...state, v: {} }), inputError(/no second moment \(state v\) for parameter 'head.weight'/));
    assert.throws(() => new AdamW([...SPECS, SPECS[0]]), inputError(/'head.weight' is listed twice/));
    assert.throws(() => new AdamW(SPECS, { beta2: 1 }), inputError(/beta2 must be in \[0, 1\)/));
  });
});

describe('learning-rate and temperature schedules', () => {
  it('cosine with linear warm-up: peak at the end of warm-up, halfway in the middle, the floor at the end', () => {
    const lr = cosineSchedule({ lr: 1e-3, warmupSteps: 100, totalSteps: 1100, minLr: 1e-5 });
    assert.equal(lr(0), 0);
    assert.ok(Math.abs(lr(50) - 5e-4) < 1e-15);
    assert.equal(lr(100), 1e-3);
    assert.ok(Math.abs(lr(600) - (1e-3 + 1e-5) / 2) < 1e-15);
    // a quarter of the way: floor + (peak − floor)·(1 + cos(π/4))/2
    assert.ok(Math.abs(lr(350) - (1e-5 + (1e-3 - 1e-5) * (1 + Math.SQRT1_2) / 2)) < 1e-15);
    assert.equal(lr(1100), 1e-5);
    assert.equal(lr(5000), 1e-5);
    for (let s = 101; s <= 1100; s++) assert.ok(lr(s) <= lr(s - 1));
    assert.equal(cosineSchedule({ lr: 0.1, warmupSteps: 0, totalSteps: 10 })(0), 0.1);
    assert.throws(() => cosineSchedule({ lr: 1e-3, warmupSteps: 10, totalSteps: 5 }), inputError(/warmupSteps ≤ totalSteps/));
    assert.throws(() => cosineSchedule({ lr: 1e-3, warmupSteps: 0, totalSteps: 5, minLr: 1 }), inputError(/minLr ≤ lr/));
  });

  it('Gumbel temperature anneals exponentially from its start to its floor', () => {
    const tau = { start: 1, min: 0.5, rate: 1e-3 };
    assert.equal(gumbelTau(tau, 0), 1);
    assert.ok(Math.abs(gumbelTau(tau, 100) - Math.exp(-0.1)) < 1e-15);
    assert.equal(gumbelTau(tau, 1e6), 0.5);
  });
});

describe('global-norm gradient clipping', () => {
  it('scales every gradient by maxNorm / (norm + 1e-6) above maxNorm and returns the norm before', () => {
    const grads = { a: new Float32Array([3, 0]), b: new Float32Array([0, 4]) };
    assert.equal(clipGradNorm(grads, 1), 5);
    const coef = 1 / (5 + 1e-6);
    assert.ok(maxDiff(grads.a, [3 * coef, 0]) < 1e-7 && maxDiff(grads.b, [0, 4 * coef]) < 1e-7);
    assert.ok(Math.abs(clipGradNorm(grads) - 1) < 1e-6);
    const small = [new Float32Array([0.3, 0.4])];
    assert.ok(Math.abs(clipGradNorm(small, 1) - 0.5) < 1e-7);
    assert.deepEqual(small[0], new Float32Array([0.3, 0.4]));
    const broken = [new Float32Array([NaN, 1])];
    assert.ok(Number.isNaN(clipGradNorm(broken)));
    assert.equal(broken[0][1], 1);
  });
});
