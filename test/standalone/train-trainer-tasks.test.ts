/**
 * The router and fusion tasks through the trainer on tiny synthetic data: the router must separate its classes from
 * pooled features (accuracy > 90 % on held-out segments) and load as a runtime Router; fusion's CTC loss must fall.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadBundle } from '../../src/bundles/loader.js';
import { loadRouterBundle } from '../../src/bundles/router.js';
import { ROUTER_CLASSES } from '../../src/router/router.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { TrainingSet, type TrainingItem } from '../../src/train/data.js';
import { TRAIN_TASKS, fusionItems, type FusionSample } from '../../src/train/tasks.js';
import { train, type TrainProgress } from '../../src/train/trainer.js';
import { mulberry32 } from '../../src/util/random.js';
import { CTC_BLANK } from '../../src/vocab.js';
import { inputError } from '../helpers/assert.js';

const dir = mkdtempSync(join(tmpdir(), 'signweave-train-tasks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (changes: object) =>
  resolveTrainConfig({ format: 'signweave-train/1', seed: 7, batchSize: 8, optimizer: { lr: 0.02 }, schedule: { warmupSteps: 3, minLr: 1e-4 }, dropout: 0, ...changes });

describe('trainer: router task', () => {
  const D = 6;
  const window = 4;
  /** Items of two 4-frame segments; a segment of class c has features around a class-specific mean. */
  function routerItems(count: number, seed: number, prefix: string): TrainingItem[] {
    const rng = mulberry32(seed);
    const means = [0, 1, 2].map((c) => Array.from({ length: D }, (_, d) => (d % 3 === c ? 1 : -0.5)));
    return Array.from({ length: count }, (_, i) => {
      const labels = new Int32Array(2 * window);
      const data = new Float32Array(2 * window * D);
      for (let s = 0; s < 2; s++) {
        const c = Math.floor(rng() * 3);
        for (let t = s * window; t < (s + 1) * window; t++) {
          labels[t] = c;
          for (let d = 0; d < D; d++) data[t * D + d] = means[c][d] + 0.8 * (rng() - 0.5);
        }
      }
      return { id: `${prefix}${i}`, input: { data, shape: [2 * window, D] }, target: [], frameLabels: labels };
    });
  }

  it('learns segment classes from pooled features and exports a Router', async () => {
    const task = TRAIN_TASKS.router({ architecture: { dim: D, hidden: [16], activation: 'gelu', window, hop: window } });
    const set = TrainingSet.fromArrays(routerItems(64, 1, 'r'));
    const held = TrainingSet.fromArrays(routerItems(32, 2, 'h'));
    const events: TrainProgress[] = [];
    const result = await train({ task, set, evalSet: held, config: config({ epochs: 8 }), out: join(dir, 'router'), threads: 1, onProgress: (e) => events.push(e) });
    const first = events.find((e) => e.type === 'step')!;
    assert.ok(first.type === 'step' && result.finalLoss < first.loss);
    assert.ok(result.evalAccuracy! > 0.9, `accuracy ${result.evalAccuracy}`);
    // The runtime router (src/router, in TypeScript) agrees with the training graph on held-out segments.
    const router = await loadRouterBundle(join(dir, 'router'));
    let correct = 0;
    for (const item of held.items) {
      const decisions = router.route({ data: item.input.data, shape: item.input.shape, fps: 25 }, { mode: 'inference' });
      assert.equal(decisions.length, 2);
      decisions.forEach((d, s) => (correct += d.label === ROUTER_CLASSES[item.frameLabels![s * window]] ? 1 : 0));
    }
    assert.equal(correct / (2 * held.size), result.evalAccuracy);
  });

  it('refuses items without frame labels', async () => {
    const task = TRAIN_TASKS.router({ architecture: { dim: D, hidden: [4], activation: 'relu', window, hop: window } });
    const set = TrainingSet.fromArrays(routerItems(4, 3, 'x').map(({ frameLabels: _, ...rest }) => rest));
    await assert.rejects(train({ task, set, config: config({ epochs: 1 }), out: join(dir, 'router-bad'), threads: 1 }), inputError(/router task: batch items .* have no frame labels/));
  });
});

describe('trainer: fusion task', () => {
  const glosses = [CTC_BLANK, 'G1', 'G2', 'G3', 'G4'];
  /** Expert log-posteriors that agree with the target, noisy, with the lip stream at half rate. */
  function fusionSamples(count: number, seed: number): FusionSample[] {
    const rng = mulberry32(seed);
    const logRows = (T: number, C: number, pick: (t: number) => number) => {
      const data = new Float32Array(T * C);
      for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) data[t * C + c] = c === pick(t) ? -0.2 : -2 - rng();
      return { data, shape: [T, C] as [number, number] };
    };
    return Array.from({ length: count }, (_, i) => {
      const target = Array.from({ length: 2 + Math.floor(rng() * 2) }, () => 1 + Math.floor(rng() * 4));
      const frames = target.flatMap((g) => [0, g, g]).concat([0]);
      const T = frames.length;
      const router = new Float32Array(T * 3);
      frames.forEach((g, t) => router.set(g === 0 ? [0, 0, 1] : [1, 0, 0], 3 * t));
      return {
        id: `s${i}`,
        sign: logRows(T, glosses.length, (t) => frames[t]),
        fingerspell: logRows(T, 3, () => 0),
        router: { data: router, shape: [T, 3] },
        lips: logRows(Math.ceil(T / 2), 4, (t) => frames[2 * t] % 4),
        target,
      };
    });
  }

  it('lowers the CTC loss on the fused logits and writes a fusion bundle', async () => {
    const samples = fusionSamples(16, 4);
    const architecture = { type: 'gated' as const, inputs: { sign: glosses.length, fingerspell: 3, lips: 4 }, vocabSize: glosses.length, d: 8, heads: 2, layers: 1, ff: 16, maxLen: 32, softmaxInputs: true, lipStride: 2 };
    const task = TRAIN_TASKS.fusion({ architecture, vocab: glosses, samples, dropout: true });
    const events: TrainProgress[] = [];
    const result = await train({ task, set: TrainingSet.fromArrays(fusionItems(samples)), config: config({ epochs: 8, dropout: 0.1 }), out: join(dir, 'fusion'), threads: 1, onProgress: (e) => events.push(e) });
    const losses = events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
    assert.equal(losses.length, 16);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(losses.slice(-4)) < 0.8 * mean(losses.slice(0, 4)), `losses ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    await using bundle = await loadBundle(join(dir, 'fusion'), { expectKind: 'fusion' });
    assert.equal(bundle.manifest.weights, 'trained');
    assert.equal(result.steps, 16);
  });
});
