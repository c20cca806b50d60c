/**
 * The trainer on a learnable toy task: a sign CTC head over synthetic features in which each frame's pattern encodes
 * its label. The loss must fall below 10 % of its start, the exported bundle must decode held-out sequences, and its
 * ONNX inference must equal the training forward pass.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadBundle } from '../../src/bundles/loader.js';
import { SignExpert } from '../../src/experts/sign/index.js';
import { OnnxSession } from '../../src/graph/session.js';
import { float32 } from '../../src/graph/tensor.js';
import { buildTrainingGraph } from '../../src/train/autodiff.js';
import { latestCheckpoint, readCheckpoint } from '../../src/train/checkpoint.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { TrainingSet, type TrainingItem } from '../../src/train/data.js';
import { readTrainingLog } from '../../src/train/log.js';
import { TRAIN_TASKS } from '../../src/train/tasks.js';
import { train, type TrainProgress, type TrainResult } from '../../src/train/trainer.js';
import { mulberry32 } from '../../src/util/random.js';
import { CTC_BLANK } from '../../src/vocab.js';
import { inputError, maxDiff } from '../helpers/assert.js';

const D = 8;
const VOCAB = [CTC_BLANK, 'A', 'B', 'C'];
const architecture = { dim: D, vocabSize: VOCAB.length, maxLen: 32 };

/** Sequences of 2–4 labels, each held 2–3 frames with a blank frame between; frame pattern = 2·e_label + noise. */
function toyItems(count: number, seed: number, prefix: string): TrainingItem[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    const target = Array.from({ length: 2 + Math.floor(rng() * 3) }, () => 1 + Math.floor(rng() * 3));
    const frames: number[] = [];
    for (const label of target) {
      frames.push(0);
      for (let k = 2 + Math.floor(rng() * 2); k > 0; k--) frames.push(label);
    }
    frames.push(0);
    const data = new Float32Array(frames.length * D);
    frames.forEach((label, t) => {
      for (let d = 0; d < D; d++) data[t * D + d] = 0.3 * (rng() - 0.5) + (d === label ? 2 : 0);
    });
    return { id: `${prefix}${i}`, input: { data, shape: [frames.length, D], fps: 25 }, target };
  });
}

const config = (changes: object = {}) =>
  resolveTrainConfig({
    format: 'signweave-train/1',
    seed: 3,
    epochs: 12,
    batchSize: 8,
    optimizer: { lr: 0.05, weightDecay: 0.01 },
    schedule: { warmupSteps: 4, minLr: 1e-4 },
    dropout: 0,
    ...changes,
  });

describe('trainer: sign CTC head on a toy task', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signweave-train-'));
  const set = TrainingSet.fromArrays(toyItems(48, 1, 'train-'));
  const held = TrainingSet.fromArrays(toyItems(16, 2, 'held-'));
  const task = TRAIN_TASKS.sign({ architecture, vocab: VOCAB });
  const events: TrainProgress[] = [];
  let result: TrainResult;
  before(async () => {
    result = await train({ task, set, evalSet: held, config: config(), out: join(dir, 'sign'), threads: 1, onProgress: (e) => events.push(e) });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('drives the CTC loss below 10 % of its start and logs every step', () => {
    const steps = events.flatMap((e) => (e.type === 'step' ? [e] : []));
    assert.equal(steps.length, 72);
    assert.equal(result.steps, 72);
    assert.ok(result.finalLoss < 0.1 * steps[0].loss, `final ${result.finalLoss} vs first ${steps[0].loss}`);
    assert.ok(result.evalLoss! < 0.1 * steps[0].loss, `eval ${result.evalLoss}`);
    const log = readTrainingLog(result.log).lines;
    assert.deepEqual(
      log.filter((l) => l.type === 'step').map((l) => l.step),
      steps.map((s) => s.step),
    );
    assert.equal(log.filter((l) => l.type === 'eval').length, 12);
    assert.match(readFileSync(result.plot!, 'utf8'), /^<svg[^]*class="series eval-loss"/);
    assert.ok(steps.every((s) => s.lr > 0 && s.gradNorm > 0 && s.ms > 0));
  });

  it('writes a trained bundle that decodes held-out sequences correctly', async () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'sign', 'bundle.json'), 'utf8'));
    assert.equal(manifest.weights, 'trained');
    assert.equal(manifest.provenance.seed, 3);
    assert.match(manifest.provenance.source, /config sha256 [0-9a-f]{64}, data sha256 [0-9a-f]{64}, 72 steps, final loss/);
    const record = JSON.parse(readFileSync(join(dir, 'sign', 'training', 'provenance.json'), 'utf8'));
    assert.equal(record.dataFingerprint, set.fingerprint());
    assert.equal(record.steps, 72);
    await using expert = await SignExpert.load(join(dir, 'sign'));
    for (const item of held.items) {
      const out = await expert.run({ data: item.input.data, shape: item.input.shape, fps: 25 }, { decoder: 'greedy' });
      assert.equal(out.text, item.target.map((t) => VOCAB[t]).join(' '), item.id);
    }
  });

  it("runs the bundle's ONNX model exactly as the training forward pass", async () => {
    await using bundle = await loadBundle(join(dir, 'sign'), { expectKind: 'sign' });
    const session = await bundle.session();
    const forward = buildTrainingGraph(task.define('eval'), { differentiate: ['logits'] });
    await using trainingForward = await OnnxSession.create(forward.forwardBytes());
    for (const item of held.items.slice(0, 4)) {
      const [T] = item.input.shape;
      const exported = (await session.run({ features: float32(item.input.data, [T, D]) }))['logits'];
      const trained = (await trainingForward.run(forward.feeds({ features: float32(item.input.data, [1, T, D]) }, result.weights)))['logits'];
      assert.ok(maxDiff(exported.data as Float32Array, trained.data as Float32Array) < 1e-5);
    }
  });

  it('refuses to start over an earlier run, and to resume without a checkpoint', async () => {
    await assert.rejects(train({ task, set, config: config(), out: join(dir, 'sign'), threads: 1 }), inputError(/holds checkpoints of an earlier run/));
    await assert.rejects(train({ task, set, config: config(), out: join(dir, 'empty'), resume: true, threads: 1 }), inputError(/nothing to resume: no checkpoint/));
  });
});

describe('trainer: exact resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signweave-resume-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const set = TrainingSet.fromArrays(toyItems(20, 5, 'r-'));
  const evalSet = TrainingSet.fromArrays(toyItems(6, 6, 'e-'));
  // dropout on, so the per-step generators are part of what must resume exactly
  const task = TRAIN_TASKS.sign({ architecture, vocab: VOCAB, dropout: true });
  const options = { task, set, evalSet, config: config({ epochs: 4, dropout: 0.2 }), threads: 1, checkpointEvery: 2 };

  it('k steps, an interruption and a resume give bit-identical weights to 2k steps straight', async () => {
    const straight = await train({ ...options, out: join(dir, 'straight') });
    assert.equal(straight.steps, 12);
    const stop = new AbortController();
    const first = await train({
      ...options,
      out: join(dir, 'resumed'),
      signal: stop.signal,
      onProgress: (e) => {
        if (e.type === 'step' && e.step === 5) stop.abort();
      },
    });
    assert.equal(first.interrupted, true);
    assert.equal(first.steps, 5);
    assert.match(first.checkpoint!, /step-000000005\.ckpt$/);
    await assert.rejects(train({ ...options, config: config({ epochs: 4, dropout: 0.3 }), out: join(dir, 'resumed'), resume: true }), inputError(/written for another config/));
    const second = await train({ ...options, out: join(dir, 'resumed'), resume: true });
    assert.equal(second.steps, 12);
    for (const [name, w] of Object.entries(straight.weights)) assert.ok(Buffer.from(w.buffer).equals(Buffer.from(second.weights[name].buffer)), name);
    assert.equal(second.finalLoss, straight.finalLoss);
    const steps = readTrainingLog(second.log).lines.flatMap((l) => (l.type === 'step' ? [l.step] : []));
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
});

describe('trainer: early stopping', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signweave-early-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const set = TrainingSet.fromArrays(toyItems(24, 7, 't-'));
  // Dev labels rotated (A→B, B→C, C→A): the better the head fits the training data, the worse its dev loss.
  const dev = TrainingSet.fromArrays(toyItems(8, 8, 'd-').map((item) => ({ ...item, target: item.target.map((t) => (t % 3) + 1) })));
  const task = TRAIN_TASKS.sign({ architecture, vocab: VOCAB });
  const patience = 2;
  const options = { task, set, evalSet: dev, config: config({ epochs: 10, evalEvery: 2, earlyStopping: { patience } }), threads: 1, checkpointEvery: 5 };
  const paramsOf = (path: string) => Object.fromEntries(Object.entries(readCheckpoint(path).parameters).map(([n, t]) => [n, t.data]));
  const sameWeights = (a: Record<string, Float32Array>, b: Record<string, Float32Array>) => Object.keys(a).every((n) => Buffer.from(a[n].buffer).equals(Buffer.from(b[n].buffer)));

  it('stops after `patience` evaluations without a better dev loss and bundles the best weights', async () => {
    const events: TrainProgress[] = [];
    const out = join(dir, 'straight');
    const result = await train({ ...options, out, onProgress: (e) => events.push(e) });
    const evals = events.flatMap((e) => (e.type === 'eval' ? [e] : []));
    const lowest = Math.min(...evals.map((e) => e.loss));
    assert.equal(result.stoppedEarly, true);
    assert.ok(result.steps < result.totalSteps, `${result.steps} of ${result.totalSteps}`);
    assert.deepEqual(
      evals.map((e) => e.step),
      Array.from({ length: result.steps / 2 }, (_, i) => 2 * (i + 1)),
    );
    assert.equal(result.bestLoss, lowest);
    assert.equal(result.bestStep, evals.find((e) => e.loss === lowest)!.step);
    assert.equal(result.steps, result.bestStep! + 2 * patience);
    assert.deepEqual(events.at(-2), { type: 'early-stop', step: result.steps, bestStep: result.bestStep, bestLoss: lowest });
    // The bundle holds best.ckpt's weights, not the last step's.
    assert.equal(readCheckpoint(join(out, 'training', 'best.ckpt')).optimizer.step, result.bestStep);
    assert.ok(sameWeights(paramsOf(join(out, 'training', 'best.ckpt')), result.weights));
    const last = latestCheckpoint(join(out, 'training', 'checkpoints'))!;
    assert.match(last, new RegExp(`step-0*${result.steps}\\.ckpt$`));
    assert.ok(!sameWeights(paramsOf(last), result.weights));
    const record = JSON.parse(readFileSync(join(out, 'training', 'provenance.json'), 'utf8'));
    assert.deepEqual([record.bestStep, record.bestEvalLoss, record.stoppedEarly], [result.bestStep, lowest, true]);

    // Interrupted between the best evaluation and the stop, a resumed run stops at the same step with the same weights.
    const stop = new AbortController();
    const resumedOut = join(dir, 'resumed');
    const first = await train({ ...options, out: resumedOut, signal: stop.signal, onProgress: (e) => e.type === 'step' && e.step === result.bestStep! + 1 && stop.abort() });
    assert.equal(first.interrupted, true);
    const second = await train({ ...options, out: resumedOut, resume: true });
    assert.deepEqual([second.steps, second.bestStep, second.bestLoss, second.stoppedEarly], [result.steps, result.bestStep, result.bestLoss, true]);
    assert.ok(sameWeights(result.weights, second.weights));
    // Resuming a run that stopped only writes its bundle again.
    const steps: number[] = [];
    const again = await train({ ...options, out: resumedOut, resume: true, onProgress: (e) => e.type === 'step' && steps.push(e.step) });
    assert.deepEqual([steps, again.steps, again.stoppedEarly], [[], result.steps, true]);
    assert.ok(sameWeights(result.weights, again.weights));
  });
});
