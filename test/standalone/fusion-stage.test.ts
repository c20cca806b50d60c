import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import { FusionStage, buildFusionModel, referenceFusion, type FusionConfig, type FusionInputs } from '../../src/fusion/index.js';
import { OnnxSession } from '../../src/graph/session.js';
import type { Sequence } from '../../src/types.js';
import { mulberry32 } from '../../src/util/random.js';

const FPS = 30;
const CONFIG: FusionConfig = { inputs: { sign: 6, fingerspell: 5, lips: 4 }, vocabSize: 9, d: 8, heads: 2, layers: 1, maxLen: 32, lipStride: 2 };

function seq(rows: number, cols: number, seed: number, fps = FPS): Sequence {
  const r = mulberry32(seed);
  return { data: Float32Array.from({ length: rows * cols }, () => 2 * r() - 1), shape: [rows, cols], fps };
}

function routerRows(T: number, seed: number): Sequence {
  const r = mulberry32(seed);
  const data = new Float32Array(3 * T);
  for (let t = 0; t < T; t++) {
    const w = [r(), r(), r()];
    const z = w[0] + w[1] + w[2];
    w.forEach((v, i) => (data[3 * t + i] = v / z));
  }
  return { data, shape: [T, 3], fps: FPS };
}

function video(T: number, seed = T): FusionInputs {
  return { sign: seq(T, 6, seed), fingerspell: seq(T, 5, seed + 1), router: routerRows(T, seed + 2), lips: seq(Math.ceil(T / 2), 4, seed + 3, FPS / 2) };
}

function inputError(pattern: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof SignweaveInputError && pattern.test(err.message);
}

describe('FusionStage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signweave-fusion-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const model = buildFusionModel(CONFIG, { seed: 11 });

  it('runs a built model: logits and gate as Sequences, per-frame gate means, the router weights it applied', async () => {
    await using stage = await FusionStage.load(model, CONFIG, { intraOpThreads: 1 });
    for (const T of [1, 8, 13]) {
      const v = video(T);
      const out = await stage.run(v);
      const ref = referenceFusion(CONFIG, model.weights(), v);
      assert.deepEqual(out.logits.shape, [T, 9]);
      assert.equal(out.logits.fps, FPS);
      assert.ok(out.logits.data.every((x, i) => Math.abs(x - ref.logits[i]) <= 1e-5));
      assert.deepEqual(out.gate!.shape, [T, 8]);
      assert.equal(out.gateMean!.length, T);
      out.gateMean!.forEach((m, t) => {
        const rowMean = ref.gate!.subarray(t * 8, (t + 1) * 8).reduce((s, x) => s + x, 0) / 8;
        assert.ok(Math.abs(m - rowMean) <= 1e-6 && m > 0 && m < 1);
      });
      assert.deepEqual(out.routerWeights.data, v.router.data);
      assert.deepEqual(out.routerWeights.shape, [T, 3]);
    }
  });

  it('loads the same network from bytes, from a file and from an open session (which it leaves open)', async () => {
    const path = join(dir, 'fusion.onnx');
    model.save(path);
    const v = video(9);
    const results: Float32Array[] = [];
    for (const source of [model.toBytes(), path]) {
      const stage = await FusionStage.load(source, CONFIG, { intraOpThreads: 1 });
      results.push((await stage.run(v)).logits.data);
      await stage.dispose();
      await stage.dispose();
    }
    const session = await OnnxSession.create(path, { intraOpThreads: 1 });
    const borrowed = await FusionStage.load(session, CONFIG);
    results.push((await borrowed.run(v)).logits.data);
    await borrowed.dispose();
    assert.equal(session.isDisposed, false);
    await session.dispose();
    assert.deepEqual(results[1], results[0]);
    assert.deepEqual(results[2], results[0]);
  });

  it('ablations: no lips ignores a lip stream and has no gate; no fingerspelling reports renormalised weights', async () => {
    const noLip: FusionConfig = { ...CONFIG, lip: false, lipStride: undefined, inputs: { sign: 6, fingerspell: 5 } };
    await using a = await FusionStage.load(buildFusionModel(noLip, { seed: 1 }), noLip, { intraOpThreads: 1 });
    const v = video(10);
    const withLips = await a.run(v);
    const withoutLips = await a.run({ ...v, lips: undefined });
    assert.deepEqual(withLips.logits.data, withoutLips.logits.data);
    assert.equal(withLips.gate, null);
    assert.equal(withLips.gateMean, null);

    const noFs: FusionConfig = { ...CONFIG, fingerspell: false, inputs: { sign: 6, lips: 4 } };
    await using b = await FusionStage.load(buildFusionModel(noFs, { seed: 2 }), noFs, { intraOpThreads: 1 });
    const out = await b.run({ ...v, fingerspell: undefined });
    for (let t = 0; t < 10; t++) {
      const [rs, rf, rn] = out.routerWeights.data.subarray(3 * t, 3 * t + 3);
      assert.equal(rf, 0);
      assert.ok(Math.abs(rs + rn - 1) < 1e-5);
      assert.ok(Math.abs(rs / rn - v.router.data[3 * t] / v.router.data[3 * t + 2]) < 1e-4);
    }

    const plain: FusionConfig = { ...CONFIG, type: 'cross-attention' };
    await using c = await FusionStage.load(buildFusionModel(plain, { seed: 3 }), plain, { intraOpThreads: 1 });
    const cross = await c.run(v);
    assert.equal(cross.gate, null);
    assert.deepEqual(cross.logits.shape, [10, 9]);
  });

  it('accepts the router frameWeights (classes sign, fingerspell, rest) and refuses another class order', async () => {
    await using stage = await FusionStage.load(model, CONFIG, { intraOpThreads: 1 });
    const v = video(6);
    const weights = { data: v.router.data, shape: v.router.shape, classes: ['sign', 'fingerspell', 'rest'] };
    assert.deepEqual((await stage.run({ ...v, router: weights })).logits.data, (await stage.run(v)).logits.data);
    await assert.rejects(stage.run({ ...v, router: { ...weights, classes: ['fingerspell', 'sign', 'rest'] } }), inputError(/router classes are \[fingerspell, sign, rest\]; fusion reads \[sign, fingerspell, rest\]/));
  });

  it('refuses inputs that do not fit, naming the stream', async () => {
    await using stage = await FusionStage.load(model, CONFIG, { intraOpThreads: 1 });
    const v = video(8);
    const cases: [FusionInputs, RegExp][] = [
      [{ ...v, sign: seq(8, 7, 1) }, /sign has 7 values per frame \(shape \[8, 7\]\); the fusion config expects 6/],
      [{ ...v, fingerspell: seq(9, 5, 1) }, /fingerspell has 9 frames but sign has 8/],
      [{ ...v, fingerspell: undefined }, /the fingerspelling stream is required/],
      [{ ...v, lips: undefined }, /the lip stream is required \(fusion\.lip is true\)/],
      [{ ...v, lips: seq(5, 4, 1) }, /lips has 5 frames; with 8 manual frames and fusion\.lipStride 2 it must have ⌈8\/2⌉ = 4/],
      [{ ...v, router: routerRows(7, 1) }, /router has 7 frames but sign has 8/],
      [{ ...v, router: { ...v.router, data: v.router.data.map((x) => x * 2) } }, /router weights of frame 0 sum to .*, not 1/],
      [{ ...v, router: { ...v.router, data: Float32Array.from(v.router.data, (x, i) => (i === 4 ? -0.1 : x)) } }, /router weights of frame 1 are .*; weights must be ≥ 0/],
      [{ ...v, sign: { ...v.sign, data: Float32Array.from(v.sign.data, (x, i) => (i === 20 ? NaN : x)) } }, /sign holds a non-finite value at frame 3/],
      [{ ...v, fingerspell: seq(8, 5, 1, 25) }, /fingerspell is at 25 fps but sign at 30/],
      [{ ...v, sign: { ...v.sign, data: v.sign.data.subarray(1) } }, /sign has shape \[8, 6\] but 47 values/],
      [{ ...v, sign: seq(0, 6, 1), fingerspell: seq(0, 5, 1) }, /sign has no frames/],
    ];
    for (const [inputs, pattern] of cases) await assert.rejects(stage.run(inputs), inputError(pattern), String(pattern));
    await assert.rejects(stage.run(video(40)), inputError(/40 frames, more than fusion\.maxLen = 32/));
  });

  it('refuses a model that was built from another config', async () => {
    const cases: [FusionConfig, RegExp][] = [
      [{ ...CONFIG, lip: false, lipStride: undefined, inputs: { sign: 6, fingerspell: 5 } }, /takes inputs .*'lips' \[T_lips, 4\].*but the fusion config \(lip: false, fingerspell: true\) needs 'sign', 'fingerspell', 'router'$/],
      [{ ...CONFIG, inputs: { sign: 7, fingerspell: 5, lips: 4 } }, /input 'sign' \[T, 6\] does not match the fusion config, which gives it \[T, 7\]/],
      [{ ...CONFIG, vocabSize: 10 }, /output 'logits' \[T, 9\] has 9 classes but fusion\.vocabSize is 10/],
      [{ ...CONFIG, type: 'concat-mlp' }, /has 'gate' output, but the fusion config \(type 'concat-mlp', lip: true\) has no gate/],
    ];
    for (const [config, pattern] of cases) await assert.rejects(FusionStage.load(model, config), inputError(pattern), String(pattern));
    await assert.rejects(FusionStage.load(join(dir, 'missing.onnx'), CONFIG), inputError(/cannot read ONNX model .*missing\.onnx: no such file/));
  });
});
