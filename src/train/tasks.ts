/**
 * What is trained, one entry per trainable bundle kind (`TRAIN_TASKS`): the module's graph definition (the same
 * builders the runtime uses, so a trained bundle runs the graph it was trained as), how a batch becomes graph runs,
 * the loss and its gradient w.r.t. the graph outputs, and how trained weights become a bundle.
 *
 * - sign, fingerspell: the feature CTC head over backbone features, one padded run per batch ([B, T, D]; every op is
 *   per frame, so padding changes no real frame), CTC on `logits` with the bundle's blank.
 * - lipread: the lip ViT + conv1d, one run per clip (its frames are the ViT's batch), CTC at T′ = ⌈T / stride⌉;
 *   training drops `maskRatio` (default 50 %) of each frame's patches, a fresh random subset per frame and step.
 * - router: every segment of the batch (pooled as the runtime pools them) as the MLP's rows; training loss is the
 *   cross-entropy of a straight-through Gumbel-softmax sample at the τ of the step, evaluation the plain
 *   cross-entropy of the logits.
 * - fusion: one run per sentence (streams of different rates and attention over the whole sentence), CTC on the
 *   fused pseudo-gloss logits.
 * - decoder: the LLaMA pseudo-gloss → English model (src/train/llama.ts), next-token cross-entropy, exported as GGUF.
 */
import { FINGERSPELL_VOCAB, buildFingerspellHead } from '../experts/fingerspell/index.js';
import { KEEP_INPUT, LIPREAD_VOCAB, LIPS_INPUT, buildLipreadModel, lipCropNormalisation, lipreadKeptPatches, lipreadModelDefinition, type LipreadModelOptions } from '../experts/lipread/model.js';
import { DROPOUT_INPUT, FEATURES_INPUT, LOGITS_OUTPUT, featureCtcHeadDefinition, outputFrames } from '../experts/shared.js';
import { buildSignHead } from '../experts/sign/index.js';
import { SignweaveInputError } from '../errors.js';
import { fusionStreams } from '../bundles/fusion.js';
import { POOLED_INPUT, buildRouterModel, routerModelDefinition } from '../bundles/router.js';
import type { BundleManifest, BundleProvenance } from '../bundles/schema.js';
import { writeBundle } from '../bundles/writer.js';
import { resolveFusionConfig, type FusionConfig } from '../fusion/config.js';
import { FUSION_IO, buildFusionModel, fusionModelDefinition } from '../fusion/graphs.js';
import type { OnnxModel } from '../graph/builder.js';
import { float32, int64, type HostTensor } from '../graph/tensor.js';
import { poolSegments } from '../router/pooling.js';
import { ROUTER_CLASSES } from '../router/router.js';
import { ROUTER_LABELS, type SimulatedSentence } from '../simulate/model.js';
import type { Activation } from '../router/router.js';
import { CTC_BLANK } from '../vocab.js';
import type { GraphDefinition } from './autodiff.js';
import type { TrainConfig } from './config.js';
import type { Batch, TrainingItem } from './data.js';
import { decoderTask, type DecoderModelManifest, type LlamaArchitecture } from './llama.js';
import type { LlamaTokenizer } from '../llm/tokenizer.js';
import { crossEntropy, ctcLoss, dropoutMask, gumbelSoftmaxRows } from './loss.js';
import { gumbelTau } from './optim.js';

import type { TrainKind } from './kinds.js';

export { TRAIN_KINDS, type TrainKind } from './kinds.js';

/** Which graph: `train` (with its random mask inputs, if any), `eval` (none), `export` (the bundle's). */
export type GraphMode = 'train' | 'eval' | 'export';

/** What a loss needs besides the outputs. */
export interface LossContext {
  config: TrainConfig;
  /** The optimiser step being taken (1-based); the step trained last when evaluating. */
  step: number;
  training: boolean;
  /** Uniforms for the step's sampling (Gumbel noise), seeded from (seed, step). */
  rng: () => number;
}

export interface LossPart {
  /** This run's share of the batch loss. */
  loss: number;
  /** ∂(batch loss)/∂output by output name, shaped like the outputs. */
  grads: Record<string, HostTensor>;
  /** Classification tasks: correct predictions and how many were counted. */
  correct?: number;
  counted?: number;
}

/** One run of the graph within a step. */
export interface GraphRun {
  inputs: Record<string, HostTensor>;
  /** The `train` graph's random mask inputs of this run (dropout, lipread's patch mask), drawn from the step's `rng`. */
  randomInputs?(rng: () => number, config: TrainConfig): Record<string, HostTensor>;
  loss(outputs: Record<string, HostTensor>, context: LossContext): LossPart;
}

export interface TrainingTask {
  kind: TrainKind;
  /** The options the graph is built from (checkpoints refuse another; bundles record them). */
  architecture: Record<string, unknown>;
  /**
   * The `train` graph takes random masks that the `eval` graph lacks, drawn each step by runs' `randomInputs`: the
   * dropout mask, or lipread's patch mask (dropout of whole patches).
   */
  takesRandomInputs: boolean;
  define(mode: GraphMode): GraphDefinition;
  runs(batch: Batch): GraphRun[];
  /** Writes the bundle of `weights` into `dir` (the decoder: its GGUF and manifest). */
  writeBundle(dir: string, weights: Record<string, Float32Array>, bundle: { name: string; version?: string; provenance: Partial<BundleProvenance> }): BundleManifest | DecoderModelManifest;
}

/** CTC on `logits` [B, T, V] of a batch, scaled by `share` (a run's fraction of the batch). */
function ctcPart(logits: HostTensor, lengths: number[], targets: number[][], blank: number, context: LossContext, share = 1): LossPart {
  const result = ctcLoss({ data: logits.data as Float32Array, shape: logits.shape }, lengths, targets, blank, { zeroInfinity: context.config.ctc.zeroInfinity });
  if (share !== 1) for (let i = 0; i < result.grad.length; i++) result.grad[i] *= share;
  return { loss: (result.loss as number) * share, grads: { [LOGITS_OUTPUT]: float32(result.grad, logits.shape) } };
}

/** `[T, D]` rows of a padded batch item. */
function itemRows(batch: Batch, b: number): Float32Array {
  const [, T, D] = batch.shape;
  return batch.inputs.subarray(b * T * D, (b * T + batch.lengths[b]) * D);
}

/** A run's inverted-dropout mask input `name` of `shape` at the config's rate. */
function dropoutInput(name: string, shape: readonly number[]): NonNullable<GraphRun['randomInputs']> {
  return (rng, config) => ({ [name]: float32(dropoutMask(shape.reduce((a, b) => a * b, 1), config.dropout, rng), shape) });
}

/** 2-D logits as a batch of one for the batched CTC loss. */
const asBatchOfOne = (t: HostTensor): HostTensor => ({ ...t, shape: [1, ...t.shape] });

// -----------------------------------------------------------------------------------------------------------------
// sign and fingerspelling

export interface FeatureHeadArchitecture {
  dim: number;
  vocabSize: number;
  maxLen: number;
}

function featureHeadTask(kind: 'sign' | 'fingerspell', arch: FeatureHeadArchitecture, vocab: readonly string[], dropout: boolean): TrainingTask {
  if (vocab.length !== arch.vocabSize) throw new SignweaveInputError(`${kind} task: ${vocab.length} vocabulary labels for vocabSize ${arch.vocabSize}`);
  const blank = vocab.indexOf(CTC_BLANK);
  return {
    kind,
    architecture: { ...arch },
    takesRandomInputs: dropout,
    define: (mode) => featureCtcHeadDefinition(arch, { batched: mode !== 'export', dropout: mode === 'train' && dropout }),
    runs: (batch) => {
      if (batch.shape[1] > arch.maxLen) throw new SignweaveInputError(`${kind} task: batch item ${batch.ids[batch.lengths.indexOf(batch.shape[1])]} has ${batch.shape[1]} frames, more than maxLen ${arch.maxLen}`);
      return [
        {
          inputs: { [FEATURES_INPUT]: float32(batch.inputs, batch.shape) },
          ...(dropout ? { randomInputs: dropoutInput(DROPOUT_INPUT, batch.shape) } : {}),
          loss: (outputs, context) => ctcPart(outputs[LOGITS_OUTPUT], batch.lengths, batch.targets, blank, context),
        },
      ];
    },
    writeBundle: (dir, weights, b) => {
      const build = kind === 'sign' ? buildSignHead : buildFingerspellHead;
      return writeBundle(dir, {
        kind,
        ...b,
        weights: 'trained',
        model: build({ ...arch, weights }),
        vocab,
        output: { blank },
        input: { type: 'features', name: FEATURES_INPUT, dim: arch.dim, maxFrames: arch.maxLen },
        architecture: { ...arch },
      });
    },
  };
}

// -----------------------------------------------------------------------------------------------------------------
// lipreading

export type LipreadArchitecture = Omit<LipreadModelOptions, 'seed' | 'weights'>;

/**
 * Lipread's `keep` input for `frames` frames: per frame a uniformly random subset of `kept` of its `patches` patches
 * (partial Fisher–Yates), in ascending order, as flat indices t·P + p.
 */
export function samplePatchKeep(frames: number, patches: number, kept: number, rng: () => number): HostTensor & { dtype: 'int64' } {
  const order = new Int32Array(patches);
  const keep = new BigInt64Array(frames * kept);
  for (let t = 0; t < frames; t++) {
    for (let p = 0; p < patches; p++) order[p] = p;
    for (let i = 0; i < kept; i++) {
      const j = i + Math.floor(rng() * (patches - i));
      [order[i], order[j]] = [order[j], order[i]];
    }
    order.subarray(0, kept).sort().forEach((p, i) => (keep[t * kept + i] = BigInt(t * patches + p)));
  }
  return int64(keep, [frames, kept]);
}

function lipreadTask(arch: LipreadArchitecture, vocab: readonly string[], maskRatio: number): TrainingTask {
  const channels = arch.channels ?? 3;
  const blank = vocab.indexOf(CTC_BLANK);
  const frameSize = arch.size * arch.size * channels;
  // The eval graph is the bundle's (every patch); the train graph drops patches unless maskRatio is 0.
  const definitions = { train: lipreadModelDefinition(arch, { maskRatio }), eval: lipreadModelDefinition(arch) };
  const kept = lipreadKeptPatches(arch, maskRatio);
  const patches = (arch.size / arch.patch) ** 2;
  return {
    kind: 'lipread',
    architecture: { ...arch, maskRatio },
    takesRandomInputs: kept !== undefined,
    define: (mode) => (mode === 'train' ? definitions.train : definitions.eval),
    runs: (batch) => {
      if (batch.shape[2] !== frameSize) throw new SignweaveInputError(`lipread task: items have ${batch.shape[2]} values per frame; crops of ${arch.size}×${arch.size}×${channels} have ${frameSize}`);
      const share = 1 / batch.lengths.length;
      return batch.lengths.map((T, b) => ({
        inputs: { [LIPS_INPUT]: float32(itemRows(batch, b), [T, arch.size, arch.size, channels]) },
        ...(kept === undefined ? {} : { randomInputs: (rng: () => number) => ({ [KEEP_INPUT]: samplePatchKeep(T, patches, kept, rng) }) }),
        loss: (outputs, context) => {
          const logits = outputs[LOGITS_OUTPUT];
          const part = ctcPart(asBatchOfOne(logits), [outputFrames(T, arch.stride)], [batch.targets[b]], blank, context, share);
          return { ...part, grads: { [LOGITS_OUTPUT]: { ...part.grads[LOGITS_OUTPUT], shape: logits.shape } } };
        },
      }));
    },
    writeBundle: (dir, weights, b) => {
      const norm = lipCropNormalisation(channels);
      return writeBundle(dir, {
        kind: 'lipread',
        ...b,
        weights: 'trained',
        model: buildLipreadModel({ ...arch, weights }),
        vocab,
        output: { blank },
        input: { type: 'lip-crops', name: LIPS_INPUT, size: arch.size, channels, ...norm },
        temporalStride: arch.stride,
        // The inference graph's options, and the mask ratio it was trained with (which the graph does not use).
        architecture: { ...arch, maskRatio },
      });
    },
  };
}

// -----------------------------------------------------------------------------------------------------------------
// router

export interface RouterArchitectureOptions {
  dim: number;
  hidden: number[];
  activation: Activation;
  /** Pooling window and hop in frames, as the runtime router pools. */
  window: number;
  hop: number;
}

/** Pooled segments of every item in a batch with the majority frame label of each (ties: the lower class id). */
export function poolBatch(batch: Batch, window: number, hop: number): { pooled: Float32Array; labels: Int32Array } {
  if (!batch.frameLabels) throw new SignweaveInputError(`router task: batch items ${batch.ids.join(', ')} have no frame labels`);
  const [, T, D] = batch.shape;
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  batch.lengths.forEach((n, b) => {
    const { data, segments } = poolSegments({ data: itemRows(batch, b), shape: [n, D], fps: 1 }, { window, hop });
    segments.forEach((s, i) => {
      const counts = new Array<number>(ROUTER_CLASSES.length).fill(0);
      for (let t = s.startFrame; t <= s.endFrame; t++) {
        const label = batch.frameLabels![b * T + t];
        if (!(label >= 0 && label < ROUTER_CLASSES.length)) throw new SignweaveInputError(`router task: item ${batch.ids[b]}, frame ${t}: label ${label} is not a class id 0–${ROUTER_CLASSES.length - 1} (${ROUTER_CLASSES.join(', ')})`);
        counts[label]++;
      }
      labels.push(counts.indexOf(Math.max(...counts)));
      rows.push(data.subarray(i * D, (i + 1) * D));
    });
  });
  const pooled = new Float32Array(rows.length * D);
  rows.forEach((r, i) => pooled.set(r, i * D));
  return { pooled, labels: Int32Array.from(labels) };
}

function routerTask(arch: RouterArchitectureOptions): TrainingTask {
  const classes = ROUTER_CLASSES.length;
  const graph = { dim: arch.dim, hidden: arch.hidden, activation: arch.activation, classes };
  const define = routerModelDefinition(graph);
  return {
    kind: 'router',
    architecture: { ...arch },
    takesRandomInputs: false,
    define: () => define,
    runs: (batch) => {
      const { pooled, labels } = poolBatch(batch, arch.window, arch.hop);
      return [
        {
          inputs: { [POOLED_INPUT]: float32(pooled, [labels.length, arch.dim]) },
          loss: (outputs, context) => {
            const logits = outputs[LOGITS_OUTPUT];
            const data = logits.data as Float32Array;
            let correct = 0;
            for (let i = 0; i < labels.length; i++) {
              const row = data.subarray(i * classes, (i + 1) * classes);
              if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
            }
            const { labelSmoothing, tau, hard } = context.config.router;
            if (!context.training) {
              const ce = crossEntropy({ data, shape: logits.shape }, labels, { labelSmoothing });
              return { loss: ce.loss, grads: { [LOGITS_OUTPUT]: float32(ce.grad, logits.shape) }, correct, counted: labels.length };
            }
            // Straight-through Gumbel-softmax: the loss is the cross-entropy of the sample's soft value y =
            // softmax((logits + g) / τ); its gradient w.r.t. the logits, (y − q) / τ, is gumbelSoftmaxBackward's for
            // upstream −q / y, written without the division.
            const t = gumbelTau(tau, context.step);
            const samples = gumbelSoftmaxRows({ data, shape: logits.shape }, { tau: t, rng: context.rng, hard });
            const grad = new Float32Array(data.length);
            let loss = 0;
            samples.forEach(({ soft }, i) => {
              for (let c = 0; c < classes; c++) {
                const q = labelSmoothing / classes + (c === labels[i] ? 1 - labelSmoothing : 0);
                loss -= q * Math.log(Math.max(soft[c], Number.MIN_VALUE));
                grad[i * classes + c] = (soft[c] - q) / t / labels.length;
              }
            });
            return { loss: loss / labels.length, grads: { [LOGITS_OUTPUT]: float32(grad, logits.shape) }, correct, counted: labels.length };
          },
        },
      ];
    },
    writeBundle: (dir, weights, b) =>
      writeBundle(dir, {
        kind: 'router',
        ...b,
        weights: 'trained',
        model: buildRouterModel({ ...graph, weights }),
        input: { type: 'features', name: POOLED_INPUT, dim: arch.dim, window: arch.window, hop: arch.hop },
        output: { classes: [...ROUTER_CLASSES] },
        architecture: { activation: arch.activation as 'relu' | 'gelu', hidden: arch.hidden },
      }),
  };
}

// -----------------------------------------------------------------------------------------------------------------
// fusion

/** One sentence's expert outputs: `sign` [T, Cs], `fingerspell` [T, Cf], `router` [T, 3] (sign, fingerspell, rest weights), `lips` [T′, Cl]. */
export interface FusionSample {
  id: string;
  sign: { data: Float32Array; shape: [number, number] };
  fingerspell?: { data: Float32Array; shape: [number, number] };
  router: { data: Float32Array; shape: [number, number] };
  lips?: { data: Float32Array; shape: [number, number] };
  /** Pseudo-gloss ids (no blank). */
  target: number[];
}

/** A simulated sentence as fusion reads it (`signweave simulate` output): the router stream is its frame labels one-hot. */
export function fusionSampleOf(s: SimulatedSentence): FusionSample {
  const order = ROUTER_LABELS.map((label) => ROUTER_CLASSES.indexOf(label));
  const router = new Float32Array(s.frames * ROUTER_CLASSES.length);
  s.router.forEach((label, t) => (router[t * ROUTER_CLASSES.length + order[label]] = 1));
  return { id: s.id, sign: s.sign, fingerspell: s.fingerspell, lips: s.lip, router: { data: router, shape: [s.frames, ROUTER_CLASSES.length] }, target: s.target };
}

/** Training items of fusion samples (the sign stream stands for the sentence: its frames and the target). */
export function fusionItems(samples: readonly FusionSample[]): TrainingItem[] {
  return samples.map((s) => ({ id: s.id, input: s.sign, target: s.target }));
}

function fusionTask(config: FusionConfig, vocab: readonly string[], samples: readonly FusionSample[], dropout: boolean): TrainingTask {
  const c = resolveFusionConfig(config);
  if (vocab.length !== c.vocabSize) throw new SignweaveInputError(`fusion task: ${vocab.length} vocabulary labels for vocabSize ${c.vocabSize}`);
  const blank = vocab.indexOf(CTC_BLANK);
  const byId = new Map(samples.map((s) => [s.id, s]));
  const definitions = { train: fusionModelDefinition(config, { dropout }), eval: fusionModelDefinition(config) };
  return {
    kind: 'fusion',
    architecture: { ...config },
    takesRandomInputs: dropout,
    define: (mode) => (mode === 'train' ? definitions.train : definitions.eval),
    runs: (batch) => {
      const share = 1 / batch.ids.length;
      return batch.ids.map((id, b) => {
        const s = byId.get(id);
        if (!s) throw new SignweaveInputError(`fusion task: no expert streams for batch item ${id}`);
        const T = s.sign.shape[0];
        const stream = (name: string, t: { data: Float32Array; shape: [number, number] } | undefined, used: boolean): Record<string, HostTensor> => {
          if (!used) return {};
          if (!t) throw new SignweaveInputError(`fusion task: item ${id} has no ${name} stream, which the fusion config uses`);
          return { [name]: float32(t.data, t.shape) };
        };
        return {
          inputs: {
            ...stream(FUSION_IO.sign, s.sign, true),
            ...stream(FUSION_IO.fingerspell, s.fingerspell, c.fingerspell),
            ...stream(FUSION_IO.router, s.router, true),
            ...stream(FUSION_IO.lips, s.lips, c.lip),
          },
          ...(dropout ? { randomInputs: dropoutInput(FUSION_IO.dropout, [T, c.d]) } : {}),
          loss: (outputs, context) => {
            const logits = outputs[FUSION_IO.logits];
            const part = ctcPart(asBatchOfOne(logits), [T], [batch.targets[b]], blank, context, share);
            return { ...part, grads: { [FUSION_IO.logits]: { ...part.grads[LOGITS_OUTPUT], shape: logits.shape } } };
          },
        };
      });
    },
    writeBundle: (dir, weights, b) =>
      writeBundle(dir, {
        kind: 'fusion',
        ...b,
        weights: 'trained',
        model: buildFusionModel(config, { weights }) as OnnxModel,
        vocab,
        output: { blank },
        input: { type: 'streams', streams: fusionStreams(config) },
        architecture: { ...config },
      }),
  };
}

// -----------------------------------------------------------------------------------------------------------------
// The table

/** How each kind's task is made: its architecture and what else it needs (vocabulary, fusion streams). */
export const TRAIN_TASKS = {
  sign: (o: { architecture: FeatureHeadArchitecture; vocab: readonly string[]; dropout?: boolean }) => featureHeadTask('sign', o.architecture, o.vocab, o.dropout ?? false),
  fingerspell: (o: { architecture: FeatureHeadArchitecture; vocab?: readonly string[]; dropout?: boolean }) => featureHeadTask('fingerspell', o.architecture, o.vocab ?? FINGERSPELL_VOCAB, o.dropout ?? false),
  lipread: (o: { architecture: LipreadArchitecture; vocab?: readonly string[]; maskRatio?: number }) => lipreadTask(o.architecture, o.vocab ?? LIPREAD_VOCAB, o.maskRatio ?? 0.5),
  router: (o: { architecture: RouterArchitectureOptions }) => routerTask(o.architecture),
  fusion: (o: { architecture: FusionConfig; vocab: readonly string[]; samples: readonly FusionSample[]; dropout?: boolean }) => fusionTask(o.architecture, o.vocab, o.samples, o.dropout ?? false),
  decoder: (o: { architecture: LlamaArchitecture; tokenizer: LlamaTokenizer; tensorType?: 'f32' | 'f16'; provenance?: Record<string, unknown> }) =>
    decoderTask(o.architecture, o.tokenizer, { tensorType: o.tensorType, provenance: o.provenance }),
} as const satisfies Record<TrainKind, (options: never) => TrainingTask>;
