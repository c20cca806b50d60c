/**
 * The training loop (training.md): per optimiser step, for each graph run of the batch — the forward model on ONNX
 * Runtime, the loss and ∂loss/∂outputs in TypeScript, the training graph for the parameter gradients — then global-
 * norm clipping and AdamW under the cosine warm-up schedule. Batches are length-bucketed when the config says so. A
 * JSONL log line per step, an evaluation per epoch (or every `evalEvery` steps), atomic checkpoints, and at the end
 * the bundle and an SVG plot of the log.
 *
 * Early stopping (config `earlyStopping`, with an eval set): the weights of the lowest eval loss are kept, and the run
 * stops after `patience` evaluations that do not beat it; the bundle holds those weights. Every evaluation is then
 * checkpointed with the best step, loss and count, and `training/best.ckpt` holds the best weights once rotation has
 * removed their step's checkpoint, so a resumed run stops where the straight one would and bundles the same weights.
 *
 * Layout of `out`: the bundle (bundle.json, model.onnx, vocab.txt; the decoder's decoder.gguf and decoder.json) and
 * `training/` with `checkpoints/step-N.ckpt`, `best.ckpt` (early stopping), `log.jsonl`, `loss.svg` and
 * `provenance.json`.
 *
 * Exact resume: a checkpoint holds the weights, AdamW's moments and step and the data position; everything random in
 * a step (dropout and patch masks, Gumbel noise) is drawn from generators seeded by (seed, step), so there is no
 * generator state to save and a resumed run takes bit-identical steps.
 *
 * Masks: a task whose `train` graph takes random masks (`takesRandomInputs`) has its runs draw them (`randomInputs`) from
 * the step's mask generator, in run order; evaluations run the `eval` graph, which has none.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import { OnnxSession } from '../graph/session.js';
import type { HostTensor } from '../graph/tensor.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { mulberry32 } from '../util/random.js';
import { SIGNWEAVE_VERSION } from '../version.js';
import { buildTrainingGraph } from './autodiff.js';
import { configHash, latestCheckpoint, readCheckpoint, saveCheckpoint, writeCheckpoint, type Checkpoint, type CheckpointState } from './checkpoint.js';
import { decayRule, type ResolvedTrainConfig, type TrainConfig } from './config.js';
import type { Batch, BatchOptions, TrainingSet } from './data.js';
import { TrainingLog, readTrainingLog } from './log.js';
import { AdamW, clipGradNorm, cosineSchedule } from './optim.js';
import { plotTrainingLog } from './plot.js';
import type { GraphRun, LossContext, TrainingTask } from './tasks.js';

/** The output every task's loss is taken on. */
const LOSS_OUTPUT = 'logits';

export type TrainProgress =
  | { type: 'start'; totalSteps: number; startStep: number; stepsPerEpoch: number; parameters: number; resumedFrom: string | null }
  | {
      type: 'step';
      step: number;
      totalSteps: number;
      epoch: number;
      loss: number;
      lr: number;
      gradNorm: number;
      ms: number;
      examplesPerSecond: number;
      /** Sequence positions (frames, tokens) in the batch, padding excluded. */
      positions: number;
    }
  | { type: 'eval'; step: number; epoch: number; loss: number; accuracy?: number }
  | { type: 'early-stop'; step: number; bestStep: number; bestLoss: number }
  | { type: 'checkpoint'; step: number; path: string }
  | { type: 'interrupted'; step: number; checkpoint: string | null }
  | { type: 'done'; step: number; bundle: string };

export interface TrainOptions {
  task: TrainingTask;
  set: TrainingSet;
  config: TrainConfig | ResolvedTrainConfig;
  /** The bundle folder; training files go to `<out>/training`. */
  out: string;
  /** Overrides the config's seed. */
  seed?: number;
  /** Overrides the config's epochs. */
  epochs?: number;
  /** Continue from the newest checkpoint in `<out>/training/checkpoints` (it must exist). */
  resume?: boolean;
  /** Scored once per epoch, or every `evalEvery` steps (loss, and accuracy for the router); early stopping watches it. */
  evalSet?: TrainingSet;
  onProgress?: (event: TrainProgress) => void;
  /** Aborting stops between steps and leaves a checkpoint of the last step taken. */
  signal?: AbortSignal;
  /** Steps between checkpoints (default: one per epoch). */
  checkpointEvery?: number;
  /** Checkpoints kept (default 3). */
  keepCheckpoints?: number;
  /** Bundle name (default `<kind>-trained`) and version (default 1.0.0). */
  name?: string;
  version?: string;
  /** ONNX Runtime threads per op (default: ONNX Runtime's). */
  threads?: number;
}

/** What a task's writeBundle returns: a bundle's manifest, or the decoder's GGUF manifest. */
export type TrainedManifest = ReturnType<TrainingTask['writeBundle']>;

export interface TrainResult {
  /** Optimiser steps taken in all (resumed runs included). */
  steps: number;
  totalSteps: number;
  /** The last step's training loss. */
  finalLoss: number;
  /** The last evaluation's loss (and accuracy), when there was an eval set. */
  evalLoss?: number;
  evalAccuracy?: number;
  /** The evaluation with the lowest loss, when there was an eval set. */
  bestStep?: number;
  bestLoss?: number;
  /** Early stopping ended the run before its last step. */
  stoppedEarly: boolean;
  interrupted: boolean;
  /** Mean wall time of the steps this call took. */
  msPerStep: number;
  /** Sequence positions (frames, tokens) trained on per second in the steps this call took. */
  positionsPerSecond: number;
  /** The weights the bundle holds: the best evaluation's with early stopping, else the last step's. */
  weights: Record<string, Float32Array>;
  /** Absent when interrupted. */
  bundle?: TrainedManifest;
  checkpoint: string | null;
  log: string;
  plot?: string;
}

/** A generator for one use in one step, from (seed, step) alone. */
function stepRng(seed: number, step: number, use: number): () => number {
  return mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step, 0x85ebca77) ^ Math.imul(use + 1, 0xc2b2ae3d)) >>> 0);
}
const GUMBEL = 0;
const MASKS = 1;

/** The lowest eval loss so far and how many evaluations have not beaten it, as checkpoints keep them. */
interface BestState {
  step: number;
  loss: number;
  /** Evaluations since the best one. */
  since: number;
}

function bestStateOf(checkpoint: Checkpoint): BestState | undefined {
  const best = checkpoint.extra?.best as Partial<BestState> | undefined;
  return best && typeof best.step === 'number' && typeof best.loss === 'number' && typeof best.since === 'number' ? { step: best.step, loss: best.loss, since: best.since } : undefined;
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { task, set, out } = options;
  const base = 'config' in options.config && 'source' in options.config ? (options.config as ResolvedTrainConfig).config : (options.config as TrainConfig);
  const config: TrainConfig = { ...base, seed: options.seed ?? base.seed, epochs: options.epochs ?? base.epochs };
  const runConfig = { train: config, task: task.kind, architecture: task.architecture };
  const hash = configHash(runConfig);
  const batchOptions: BatchOptions = { batchSize: config.batchSize, seed: config.seed, bucket: config.bucket };
  const stopping = options.evalSet ? config.earlyStopping : undefined;
  const stepsPerEpoch = set.stepsPerEpoch(batchOptions);
  const totalSteps = stepsPerEpoch * config.epochs;
  const fingerprint = set.fingerprint();
  const dirs = { training: join(out, 'training'), checkpoints: join(out, 'training', 'checkpoints') };
  /** The best evaluation's parameters, for early stopping (the rotating step checkpoints may no longer hold them). */
  const bestPath = join(dirs.training, 'best.ckpt');
  const logPath = join(dirs.training, 'log.jsonl');

  const graph = buildTrainingGraph(task.define('train'), { seed: config.seed, name: `signweave-${task.kind}-training`, differentiate: [LOSS_OUTPUT] });
  const weights = graph.initialWeights();
  const optimizer = new AdamW(graph.parameters, { beta1: config.optimizer.beta1, beta2: config.optimizer.beta2, eps: config.optimizer.eps, weightDecay: config.optimizer.weightDecay, decays: decayRule(config) });
  const schedule = cosineSchedule({ lr: config.optimizer.lr, warmupSteps: Math.min(config.schedule.warmupSteps, totalSteps), totalSteps, minLr: config.schedule.minLr });

  // Resume, or refuse to mix a new run into an earlier one's checkpoints.
  let position = { epoch: 0, step: 0 };
  let resumedFrom: string | null = null;
  let resumedLoss = NaN;
  let best: BestState | undefined;
  let bestWeights: Record<string, Float32Array> | undefined;
  const existing = latestCheckpoint(dirs.checkpoints);
  if (options.resume) {
    if (!existing) throw new SignweaveInputError(`nothing to resume: no checkpoint in ${dirs.checkpoints}`);
    const shapes = Object.fromEntries(graph.parameters.map((p) => [p.name, p.shape]));
    const checkpoint = readCheckpoint(existing, { config: runConfig, parameters: shapes });
    const saved = checkpoint.extra?.dataFingerprint;
    if (saved !== fingerprint) throw new SignweaveInputError(`checkpoint ${existing} was trained on other data (fingerprint ${String(saved).slice(0, 12)}…, now ${fingerprint.slice(0, 12)}…)`);
    for (const p of graph.parameters) weights[p.name] = checkpoint.parameters[p.name].data;
    const moments = checkpoint.optimizer.moments;
    optimizer.importState({
      step: checkpoint.optimizer.step,
      m: Object.fromEntries(graph.parameters.map((p) => [p.name, moments[`m/${p.name}`]])),
      v: Object.fromEntries(graph.parameters.map((p) => [p.name, moments[`v/${p.name}`]])),
    });
    position = checkpoint.position;
    resumedFrom = existing;
    resumedLoss = typeof checkpoint.extra?.loss === 'number' ? checkpoint.extra.loss : NaN;
    best = bestStateOf(checkpoint);
    if (stopping && best) {
      // A checkpoint is written after every evaluation, then best.ckpt: the best weights are either this
      // checkpoint's own or best.ckpt's.
      const source = best.step === checkpoint.optimizer.step ? checkpoint : readCheckpoint(bestPath, { config: runConfig, parameters: shapes });
      if (source.optimizer.step !== best.step) throw new SignweaveInputError(`${bestPath} holds step ${source.optimizer.step}, but ${existing} says the best evaluation was at step ${best.step}`);
      bestWeights = Object.fromEntries(graph.parameters.map((p) => [p.name, source.parameters[p.name].data.slice()]));
    }
  } else if (existing) {
    throw new SignweaveInputError(`${dirs.checkpoints} holds checkpoints of an earlier run (${existing}): resume it, or train into another folder`);
  }
  mkdirSync(dirs.checkpoints, { recursive: true });

  const sessionOptions = { intraOpThreads: options.threads };
  const trainingSession = await OnnxSession.create(graph.toBytes(), { ...sessionOptions, label: `${task.kind} training graph` });
  const forwardSession = await OnnxSession.create(graph.forwardBytes(), { ...sessionOptions, label: `${task.kind} forward graph` });
  // The eval graph differs from the training one only by the random mask inputs.
  const evalGraph = task.takesRandomInputs ? buildTrainingGraph(task.define('eval'), { seed: config.seed, differentiate: [LOSS_OUTPUT] }) : graph;
  const evalSession = task.takesRandomInputs ? await OnnxSession.create(evalGraph.forwardBytes(), { ...sessionOptions, label: `${task.kind} eval graph` }) : forwardSession;

  const log = TrainingLog.open(logPath, { configHash: hash, resumeStep: resumedFrom ? optimizer.step : undefined });
  const grads = Object.fromEntries(graph.parameters.map((p) => [p.name, new Float32Array(weights[p.name].length)]));
  const emit = options.onProgress ?? (() => {});
  const keep = options.keepCheckpoints ?? 3;
  const every = options.checkpointEvery ?? stepsPerEpoch;
  let lastCheckpoint: string | null = resumedFrom;
  let checkpointStep = optimizer.step;
  let finalLoss = resumedLoss;
  let evaluation: { loss: number; accuracy?: number } | undefined;
  let timedSteps = 0;
  let timedMs = 0;
  let timedPositions = 0;

  const checkpoint = (next: { epoch: number; step: number }): string => {
    const state = optimizer.exportState();
    const moments: Record<string, Float32Array> = {};
    for (const p of graph.parameters) {
      moments[`m/${p.name}`] = state.m[p.name];
      moments[`v/${p.name}`] = state.v[p.name];
    }
    const cp: CheckpointState = {
      parameters: Object.fromEntries(graph.parameters.map((p) => [p.name, { data: weights[p.name], shape: p.shape }])),
      optimizer: { step: state.step, moments },
      rng: {},
      position: next,
      config: runConfig,
      extra: { dataFingerprint: fingerprint, loss: Number.isFinite(finalLoss) ? finalLoss : null, ...(best ? { best } : {}) },
    };
    const path = saveCheckpoint(dirs.checkpoints, cp, { keep });
    if (stopping && best?.step === state.step && best.since === 0) writeCheckpoint(bestPath, { ...cp, optimizer: { step: state.step, moments: {} } });
    lastCheckpoint = path;
    checkpointStep = state.step;
    emit({ type: 'checkpoint', step: state.step, path });
    return path;
  };

  /** Feeds of one run: its inputs, and for the training graph fresh random masks. */
  const runFeeds = (run: GraphRun, rng: (() => number) | null): Record<string, HostTensor> =>
    rng && run.randomInputs ? { ...run.inputs, ...run.randomInputs(rng, config) } : run.inputs;

  /** Scores the eval set; with early stopping, says whether to stop. */
  const evaluate = async (epoch: number): Promise<boolean> => {
    if (!options.evalSet) return false;
    let loss = 0;
    let items = 0;
    let correct = 0;
    let counted = 0;
    for (const batch of options.evalSet.batches({ ...batchOptions, shuffle: false, epochs: 1 })) {
      const context: LossContext = { config, step: optimizer.step, training: false, rng: stepRng(config.seed, optimizer.step, GUMBEL) };
      for (const run of task.runs(batch)) {
        const outputs = await evalSession.run(evalGraph.feeds(run.inputs, weights), [LOSS_OUTPUT]);
        const part = run.loss(outputs, context);
        loss += part.loss * batch.ids.length;
        correct += part.correct ?? 0;
        counted += part.counted ?? 0;
      }
      items += batch.ids.length;
    }
    evaluation = { loss: loss / items, ...(counted > 0 ? { accuracy: correct / counted } : {}) };
    log.eval({ step: optimizer.step, epoch, loss: evaluation.loss, ...(evaluation.accuracy !== undefined ? { metrics: { accuracy: evaluation.accuracy } } : {}) });
    emit({ type: 'eval', step: optimizer.step, epoch, ...evaluation });
    if (!best || evaluation.loss < best.loss) {
      best = { step: optimizer.step, loss: evaluation.loss, since: 0 };
      if (stopping) bestWeights = Object.fromEntries(graph.parameters.map((p) => [p.name, weights[p.name].slice()]));
    } else best = { ...best, since: best.since + 1 };
    return stopping !== undefined && best.since >= stopping.patience;
  };

  emit({ type: 'start', totalSteps, startStep: optimizer.step, stepsPerEpoch, parameters: graph.forward.parameterCount, resumedFrom });
  let interrupted = false;
  // A resumed run may have stopped already: it only writes the bundle.
  let stoppedEarly = stopping !== undefined && best !== undefined && best.since >= stopping.patience;
  try {
    let last: Batch | undefined;
    const batches = stoppedEarly ? [] : set.batches({ ...batchOptions, from: position, epochs: config.epochs });
    for (const batch of batches) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const started = performance.now();
      const step = optimizer.step + 1;
      const context: LossContext = { config, step, training: true, rng: stepRng(config.seed, step, GUMBEL) };
      const maskRng = task.takesRandomInputs ? stepRng(config.seed, step, MASKS) : null;
      for (const g of Object.values(grads)) g.fill(0);
      let loss = 0;
      for (const run of task.runs(batch)) {
        const feeds = runFeeds(run, maskRng);
        const outputs = await forwardSession.run(graph.feeds(feeds, weights), [LOSS_OUTPUT]);
        const part = run.loss(outputs, context);
        loss += part.loss;
        const { gradients } = await graph.run(trainingSession, feeds, weights, part.grads);
        for (const [name, g] of Object.entries(gradients)) {
          const sum = grads[name];
          for (let i = 0; i < g.length; i++) sum[i] += g[i];
        }
      }
      const gradNorm = clipGradNorm(grads, config.clipNorm);
      const lr = schedule(step);
      if (!Number.isFinite(gradNorm) || !Number.isFinite(loss)) {
        throw new Error(`training diverged at step ${step} (loss ${loss}, gradient norm ${gradNorm}); the last checkpoint is ${lastCheckpoint ?? 'none'}: lower optimizer.lr`);
      }
      optimizer.update(weights, grads, lr);
      finalLoss = loss;
      const ms = performance.now() - started;
      const positions = batch.lengths.reduce((a, b) => a + b, 0);
      timedSteps++;
      timedMs += ms;
      timedPositions += positions;
      const examplesPerSecond = (batch.ids.length * 1000) / ms;
      log.step({ step, epoch: batch.epoch, loss, lr, gradNorm, examplesPerSecond, ms });
      emit({ type: 'step', step, totalSteps, epoch: batch.epoch, loss, lr, gradNorm, ms, examplesPerSecond, positions });
      last = batch;
      const evalNow = config.evalEvery !== undefined ? step % config.evalEvery === 0 || step === totalSteps : batch.next.epoch > batch.epoch;
      const patienceSpent = evalNow && (await evaluate(batch.epoch));
      // Patience running out at the last step stops nothing: the run is complete, not stopped early.
      stoppedEarly = patienceSpent && step < totalSteps;
      // With early stopping every evaluation is checkpointed, so a resume knows the best step and its weights.
      if (step % every === 0 || step === totalSteps || (stopping && evalNow)) checkpoint(batch.next);
      if (stoppedEarly) {
        emit({ type: 'early-stop', step, bestStep: best!.step, bestLoss: best!.loss });
        break;
      }
    }
    if (interrupted && last && optimizer.step > checkpointStep) checkpoint(last.next);
  } finally {
    log.close();
    await trainingSession.dispose();
    await forwardSession.dispose();
    if (evalSession !== forwardSession) await evalSession.dispose();
  }
  const result: TrainResult = {
    steps: optimizer.step,
    totalSteps,
    finalLoss,
    ...(evaluation ? { evalLoss: evaluation.loss, ...(evaluation.accuracy !== undefined ? { evalAccuracy: evaluation.accuracy } : {}) } : {}),
    ...(best ? { bestStep: best.step, bestLoss: best.loss } : {}),
    stoppedEarly,
    interrupted,
    msPerStep: timedSteps > 0 ? timedMs / timedSteps : NaN,
    positionsPerSecond: timedMs > 0 ? (timedPositions * 1000) / timedMs : NaN,
    weights: !interrupted && bestWeights ? { ...weights, ...bestWeights } : weights,
    checkpoint: lastCheckpoint,
    log: logPath,
  };
  if (interrupted) {
    emit({ type: 'interrupted', step: optimizer.step, checkpoint: lastCheckpoint });
    return result;
  }

  const provenance = {
    format: 'signweave-training/1',
    task: task.kind,
    signweaveVersion: SIGNWEAVE_VERSION,
    seed: config.seed,
    configSha256: hash,
    dataFingerprint: fingerprint,
    items: set.size,
    steps: optimizer.step,
    epochs: config.epochs,
    finalLoss,
    ...(evaluation ? { evalLoss: evaluation.loss } : {}),
    ...(best ? { bestStep: best.step, bestEvalLoss: best.loss } : {}),
    ...(stopping ? { weightsFrom: `the best evaluation (step ${best?.step ?? optimizer.step})`, stoppedEarly } : {}),
    config: runConfig,
  };
  const bestNote = stopping && best ? `, weights of the best eval loss ${best.loss} at step ${best.step}${stoppedEarly ? ' (stopped early)' : ''}` : '';
  const bundle = task.writeBundle(out, result.weights, {
    name: options.name ?? `${task.kind}-trained`,
    version: options.version,
    provenance: {
      seed: config.seed,
      source: `signweave ${SIGNWEAVE_VERSION} train ${task.kind}: config sha256 ${hash}, data sha256 ${fingerprint}, ${optimizer.step} steps, final loss ${finalLoss}${bestNote}`,
      notes: 'training record in training/provenance.json',
    },
  });
  writeFileAtomic(join(dirs.training, 'provenance.json'), `${JSON.stringify(provenance, null, 2)}\n`);
  const plot = join(dirs.training, 'loss.svg');
  writeFileAtomic(plot, plotTrainingLog(readTrainingLog(logPath).lines, { title: `signweave train ${task.kind}`, logLoss: true }));
  emit({ type: 'done', step: optimizer.step, bundle: out });
  return { ...result, bundle, plot };
}
