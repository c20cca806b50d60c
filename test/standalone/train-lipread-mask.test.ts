/**
 * The lipreading expert's patch masking in training (SignBind-LLM §3.3): the masked training graph against finite
 * differences and against the inference graph, the trainer's per-step masks, and a tiny lip ViT trained with 50 % of
 * its patches masked whose exported (unmasked) bundle reproduces the eval graph.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadBundle } from '../../src/bundles/loader.js';
import { KEEP_INPUT, buildLipreadModel, lipreadModelDefinition } from '../../src/experts/lipread/model.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { OnnxSession } from '../../src/graph/session.js';
import { float32, int64, type HostTensor } from '../../src/graph/tensor.js';
import { buildTrainingGraph } from '../../src/train/autodiff.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { TrainingSet, type TrainingItem } from '../../src/train/data.js';
import { TRAIN_TASKS, samplePatchKeep, type LipreadArchitecture, type TrainingTask } from '../../src/train/tasks.js';
import { train, type TrainProgress, type TrainResult } from '../../src/train/trainer.js';
import { mulberry32 } from '../../src/util/random.js';
import { CTC_BLANK } from '../../src/vocab.js';
import { inputError, maxDiff } from '../helpers/assert.js';

const VOCAB = [CTC_BLANK, 'A', 'B', 'C'];
/** 8×8 luma crops in 2×2 patches: P = 16 patches per frame, K = 8 kept at ratio 0.5. */
const ARCH: LipreadArchitecture = { size: 8, patch: 2, channels: 1, dim: 16, layers: 1, heads: 2, stride: 2, vocabSize: VOCAB.length };
const P = 16;
const FRAME = 64;
const session = { intraOpThreads: 1 };

function randomLips(T: number, seed: number): HostTensor & { dtype: 'float32' } {
  const rng = mulberry32(seed);
  return float32(
    Array.from({ length: T * FRAME }, () => 2 * rng() - 1),
    [T, 8, 8, 1],
  );
}

/** `keep` of explicit per-frame patch lists. */
const keepOf = (rows: number[][]) => int64(rows.flatMap((r, t) => r.map((p) => t * P + p)), [rows.length, rows[0].length]);

/** The pixel offsets (row-major in an 8×8×1 crop) of patch p. */
const patchPixels = (p: number) => [0, 1, 8, 9].map((o) => Math.floor(p / 4) * 16 + (p % 4) * 2 + o);

describe('lipread masked training graph', () => {
  // Patch 5 is dropped in every frame, so its position row must get no gradient.
  const rows = [
    [0, 2, 3, 6, 9, 10, 12, 15],
    [1, 2, 4, 7, 8, 11, 13, 14],
    [0, 3, 4, 6, 8, 10, 14, 15],
  ];

  it('has the inference graph’s parameters, and gradients that match finite differences (fixed keep)', async () => {
    for (const pooling of ['cls', 'mean'] as const) {
      const arch = { ...ARCH, pooling };
      const training = buildTrainingGraph(lipreadModelDefinition(arch, { maskRatio: 0.5 }), { seed: 5, differentiate: ['logits'] });
      const inference = buildLipreadModel({ ...arch, seed: 5 });
      assert.deepEqual(
        training.parameters.map((p) => `${p.name} ${p.shape.join('×')}`).sort(),
        inference.parameters.map((p) => `${p.name} ${p.shape.join('×')}`).sort(),
      );
      assert.deepEqual(training.forward.inputs.find((i) => i.name === KEEP_INPUT)?.shape, ['T', 8]);
      const inputs = { lips: randomLips(3, 1), keep: keepOf(rows) };
      const weights = training.initialWeights();
      const upstream = float32(Array.from({ length: 2 * VOCAB.length }, (_, i) => Math.sin(3 * i + 1)), [2, VOCAB.length]);
      await using s = await OnnxSession.create(training.toBytes(), session);
      const { outputs, gradients } = await training.run(s, inputs, weights, { logits: upstream });
      const objective = (): number => {
        const y = training.forward.evaluateReference(inputs, weights).logits.data as Float32Array;
        return y.reduce((sum, v, i) => sum + v * upstream.data[i], 0);
      };
      assert.ok(maxDiff(outputs.logits.data as Float32Array, training.forward.evaluateReference(inputs, weights).logits.data as Float32Array) < 1e-5);
      const first = pooling === 'cls' ? 1 : 0;
      const posRow = (p: number) => Array.from({ length: 3 }, (_, d) => (first + p) * ARCH.dim + d);
      let worst = 0;
      for (const p of training.parameters) {
        const data = weights[p.name];
        const picks = mulberry32(data.length);
        const indices = Array.from({ length: 6 }, () => Math.floor(picks() * data.length));
        if (p.name === 'patch_pos.weight') indices.push(...posRow(5), ...posRow(0), ...(pooling === 'cls' ? [0, 1] : []));
        const fd = indices.map((i) => {
          const saved = data[i];
          data[i] = saved + 1e-3;
          const up = objective();
          data[i] = saved - 1e-3;
          const down = objective();
          data[i] = saved;
          return (up - down) / 2e-3;
        });
        const scale = Math.max(0.1, ...fd.map(Math.abs));
        indices.forEach((i, k) => (worst = Math.max(worst, Math.abs(gradients[p.name][i] - fd[k]) / scale)));
      }
      assert.ok(worst < 1e-2, `${pooling}: gradient off by ${worst.toExponential(2)} (relative) from finite differences`);
      const pos = gradients['patch_pos.weight'];
      assert.ok(
        posRow(5).every((i) => pos[i] === 0),
        'a patch dropped in every frame gets no position gradient',
      );
      assert.ok(
        posRow(0).some((i) => pos[i] !== 0),
        'a kept patch gets a position gradient',
      );
    }
  });

  it('with every patch kept in order equals the inference graph; dropped patches do not reach the logits', async () => {
    for (const pooling of ['cls', 'mean'] as const) {
      const arch = { ...ARCH, pooling };
      // 1 % of 16 patches rounds to none dropped: K = P, fed the identity.
      const all = new GraphBuilder({ seed: 9 });
      lipreadModelDefinition(arch, { maskRatio: 0.01 })(all);
      const half = new GraphBuilder({ seed: 9 });
      lipreadModelDefinition(arch, { maskRatio: 0.5 })(half);
      await using masked = await OnnxSession.create(all.build().toBytes(), session);
      await using halved = await OnnxSession.create(half.build().toBytes(), session);
      await using plain = await OnnxSession.create(buildLipreadModel({ ...arch, seed: 9 }).toBytes(), session);
      const lips = randomLips(5, 2);
      const expected = (await plain.run({ lips })).logits.data as Float32Array;
      const identity = keepOf(Array.from({ length: 5 }, () => Array.from({ length: P }, (_, p) => p)));
      assert.ok(maxDiff((await masked.run({ lips, keep: identity })).logits.data as Float32Array, expected) < 1e-5, pooling);

      const keep = keepOf(rows);
      const three = randomLips(3, 3);
      const base = (await halved.run({ lips: three, keep })).logits.data as Float32Array;
      const edited = (p: number) => {
        const data = three.data.slice();
        for (let t = 0; t < 3; t++) for (const o of patchPixels(p)) data[t * FRAME + o] += 1;
        return float32(data, three.shape);
      };
      assert.equal(maxDiff((await halved.run({ lips: edited(5), keep })).logits.data as Float32Array, base), 0, 'patch 5 is dropped in every frame');
      assert.ok(maxDiff((await halved.run({ lips: edited(3), keep })).logits.data as Float32Array, base) > 1e-4, 'patch 3 is kept');
      assert.ok(maxDiff((await plain.run({ lips: edited(5) })).logits.data as Float32Array, (await plain.run({ lips: three })).logits.data as Float32Array) > 1e-4, 'inference sees every patch');
    }
  });

  it('draws K distinct patches per frame, uniformly, from the generator alone', () => {
    const keep = samplePatchKeep(4000, P, 8, mulberry32(1));
    assert.deepEqual(keep.shape, [4000, 8]);
    const counts = new Array<number>(P).fill(0);
    for (let t = 0; t < 4000; t++) {
      const row = Array.from(keep.data.subarray(t * 8, (t + 1) * 8), (v) => Number(v) - t * P);
      assert.ok(
        row.every((p, i) => p >= 0 && p < P && (i === 0 || p > row[i - 1])),
        `frame ${t}: ${row}`,
      );
      for (const p of row) counts[p]++;
    }
    for (const c of counts) assert.ok(Math.abs(c / 4000 - 0.5) < 0.03, `patch kept in ${c} of 4000 frames`);
    assert.deepEqual(samplePatchKeep(20, P, 8, mulberry32(2)), samplePatchKeep(20, P, 8, mulberry32(2)));
    assert.notDeepEqual(samplePatchKeep(20, P, 8, mulberry32(2)), samplePatchKeep(20, P, 8, mulberry32(3)));
  });

  it('refuses mask ratios outside [0, 1) and ratios that keep no patch', () => {
    for (const maskRatio of [1, -0.1, NaN, 1.5]) assert.throws(() => TRAIN_TASKS.lipread({ architecture: ARCH, maskRatio }), inputError(/lipread model: maskRatio must be in \[0, 1\), got/));
    assert.throws(() => TRAIN_TASKS.lipread({ architecture: { ...ARCH, size: 4 }, maskRatio: 0.9 }), inputError(/maskRatio 0\.9 keeps none of the 4 patches of a frame/));
    const unmasked = TRAIN_TASKS.lipread({ architecture: ARCH, maskRatio: 0 });
    assert.equal(unmasked.takesRandomInputs, false);
    const g = new GraphBuilder();
    unmasked.define('train')(g);
    assert.deepEqual(
      g.build().inputs.map((i) => i.name),
      ['lips'],
    );
    assert.equal(TRAIN_TASKS.lipread({ architecture: ARCH }).architecture.maskRatio, 0.5);
  });
});

describe('trainer: lipread with 50 % of the patches masked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signweave-lipmask-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** Each label is a fixed random image; a clip holds three labels of 4 frames each between blank-image frames (T = 16). */
  const patterns = (() => {
    const rng = mulberry32(11);
    return VOCAB.map(() => Float32Array.from({ length: FRAME }, () => 2 * rng() - 1));
  })();
  function clips(count: number, seed: number, prefix: string): TrainingItem[] {
    const rng = mulberry32(seed);
    return Array.from({ length: count }, (_, i) => {
      const target = Array.from({ length: 3 }, () => 1 + Math.floor(rng() * 3));
      const frames = [0, ...target.flatMap((label) => [label, label, label, label, 0])];
      const data = new Float32Array(frames.length * FRAME);
      frames.forEach((label, t) => patterns[label].forEach((v, k) => (data[t * FRAME + k] = v + 0.3 * (rng() - 0.5))));
      return { id: `${prefix}${i}`, input: { data, shape: [frames.length, FRAME] }, target };
    });
  }
  const set = TrainingSet.fromArrays(clips(24, 1, 't'), { vocab: VOCAB });
  const held = TrainingSet.fromArrays(clips(8, 2, 'h'), { vocab: VOCAB });
  const config = resolveTrainConfig({ format: 'signweave-train/1', seed: 4, epochs: 30, batchSize: 8, optimizer: { lr: 0.01 }, schedule: { warmupSteps: 3, minLr: 1e-4 }, dropout: 0 });
  const task = TRAIN_TASKS.lipread({ architecture: ARCH, vocab: VOCAB, maskRatio: 0.5 });

  /** The task with every `keep` the trainer draws recorded, in order. */
  function recorded(masks: BigInt64Array[]): TrainingTask {
    return {
      ...task,
      runs: (batch) =>
        task.runs(batch).map((run) => ({
          ...run,
          randomInputs: (rng, c) => {
            const inputs = run.randomInputs!(rng, c);
            masks.push(inputs[KEEP_INPUT].data as BigInt64Array);
            return inputs;
          },
        })),
    };
  }

  const masks: BigInt64Array[] = [];
  const events: TrainProgress[] = [];
  let result: TrainResult;
  before(async () => {
    result = await train({ task: recorded(masks), set, evalSet: held, config, out: join(dir, 'straight'), threads: 1, checkpointEvery: 10, onProgress: (e) => events.push(e) });
  });

  it('lowers the CTC loss', () => {
    const losses = events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
    assert.equal(losses.length, 90);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const start = mean(losses.slice(0, 5));
    assert.ok(mean(losses.slice(-10)) < 0.3 * start, `losses ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    // Held-out clips through the unmasked eval graph.
    assert.ok(result.evalLoss! < 0.3 * start, `eval loss ${result.evalLoss} vs ${start} at the start`);
  });

  it('draws a fresh mask per clip and step for training runs only, and the same ones again on resume', async () => {
    // 90 steps of 8 clips; the 30 evaluations draw none.
    assert.equal(masks.length, 90 * 8);
    const key = (m: BigInt64Array) => m.join();
    assert.equal(new Set(masks.map(key)).size, masks.length);
    assert.ok(masks.every((m) => m.length === 16 * 8));

    const again: BigInt64Array[] = [];
    const stop = new AbortController();
    const out = join(dir, 'resumed');
    const first = await train({ task: recorded(again), set, evalSet: held, config, out, threads: 1, checkpointEvery: 10, signal: stop.signal, onProgress: (e) => e.type === 'step' && e.step === 7 && stop.abort() });
    assert.deepEqual([first.interrupted, first.steps], [true, 7]);
    const second = await train({ task: recorded(again), set, evalSet: held, config, out, threads: 1, checkpointEvery: 10, resume: true });
    assert.equal(second.steps, 90);
    assert.deepEqual(again.map(key), masks.map(key));
    for (const [name, w] of Object.entries(result.weights)) assert.ok(Buffer.from(w.buffer).equals(Buffer.from(second.weights[name].buffer)), name);
  });

  it('exports a bundle that runs every patch and reproduces the eval graph; the mask ratio is recorded', async () => {
    const out = join(dir, 'straight');
    await using bundle = await loadBundle(out, { expectKind: 'lipread' });
    assert.equal(bundle.manifest.weights, 'trained');
    assert.equal(bundle.manifest.architecture?.maskRatio, 0.5);
    assert.equal(JSON.parse(readFileSync(join(out, 'training', 'provenance.json'), 'utf8')).config.architecture.maskRatio, 0.5);
    const exported = await bundle.session();
    assert.deepEqual(exported.inputNames, ['lips']);
    const evalGraph = buildTrainingGraph(task.define('eval'), { differentiate: ['logits'] });
    await using forward = await OnnxSession.create(evalGraph.forwardBytes(), session);
    for (const item of held.items.slice(0, 3)) {
      const lips = float32(item.input.data, [item.input.shape[0], 8, 8, 1]);
      const a = (await exported.run({ lips })).logits.data as Float32Array;
      const b = (await forward.run(evalGraph.feeds({ lips }, result.weights))).logits.data as Float32Array;
      assert.ok(maxDiff(a, b) < 1e-5);
    }
  });
});
