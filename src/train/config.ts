/**
 * The training config (`signweave-train/1`): the hyperparameters of training a light module (training.md) — AdamW,
 * the learning-rate schedule, batch size, epochs, length bucketing, evaluation and early stopping, clipping, dropout,
 * the CTC loss, the router's Gumbel-softmax and MLP, the lipreading network and its patch masking, the fusion module
 * and the paper ablation it trains, and the decoder's architecture and tokenizer (`signweave train decoder`).
 * JSON, validated with ajv against the JSON Schema here (published as `train.schema.json` beside it; a test keeps
 * the two identical). Every field but `format` may be left out and takes the default below.
 *
 * Defaults: SignBind-LLM trains with AdamW, weight decay 0.01 and gradient clipping at 1.0 and anneals the router's
 * Gumbel temperature from 1.0 to a floor. Its table's other values are not available here; the ones marked
 * "standard" are common choices for small transformer / CTC models, not the paper's. The decoder's are issue 8's small
 * LLaMA (d = 128, 2 layers, SwiGLU FF ≈ 8/3·d rounded to a multiple of 8, a 4,000-piece tokenizer), not LLaMA-2's. The
 * router's MLP and pooling are the demo router's (src/bundles/demo.ts); the lipreading network is a small ViT over
 * 32 × 32 luma crops sized for CPU training, with the paper's 50 % patch masking. The fusion module's are the ones
 * `signweave train fusion` always used (docs/ablations.md): gated, d 64, 4 heads, 2 pre-norm layers, posteriors in.
 */
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { FUSION_VARIANT_NAMES, fusionVariantConfig, type FusionVariant } from '../fusion/variants.js';
import { SignweaveInputError } from '../errors.js';
import { FUSION_TYPES, resolveFusionConfig, type FusionConfig } from '../fusion/config.js';
import { formatSchemaProblems, lazyValidator, schemaProblems, showValue, type SchemaProblem } from '../util/json-schema.js';
import { readJsonFile } from '../util/text-files.js';
import type { LipreadModelOptions } from '../experts/lipread/model.js';
import type { Activation } from '../router/router.js';
import type { LlamaArchitecture } from './llama.js';
import { decaysByDefault, type ParamInfo } from './optim.js';

export const TRAIN_FORMAT = 'signweave-train/1';

/** What a config's `$schema` says; the schema file's `$id`. */
export const TRAIN_SCHEMA_ID = 'urn:signweave:schema:train:1';

/** The decoder LLaMA's shape, less its vocabulary size (the trained tokenizer's). */
export type DecoderArchitectureConfig = Omit<LlamaArchitecture, 'vocabSize'>;

export interface DecoderConfig {
  architecture: DecoderArchitectureConfig;
  tokenizer: { vocabSize: number };
  /** The GGUF's tensor type. */
  tensorType: 'f32' | 'f16';
}

/** The router MLP and the pooling it reads (as the runtime pools: windows of `window` frames every `hop`). */
export interface RouterArchitectureConfig {
  hidden: number[];
  activation: Activation;
  window: number;
  hop: number;
}

/** The lipreading network less its vocabulary (the 39 ARPAbet phonemes and the blank). */
export type LipreadArchitectureConfig = Omit<LipreadModelOptions, 'vocabSize' | 'seed' | 'weights'> & { channels: 1 | 3 };

/** The fusion module less what the data decides: the streams' widths, the vocabulary, the lip stride, the longest sequence. */
export type FusionArchitectureConfig = Omit<FusionConfig, 'inputs' | 'vocabSize' | 'lipStride' | 'maxLen'>;

export interface TrainConfig {
  format: typeof TRAIN_FORMAT;
  /** Seeds initialisation, shuffling, dropout and Gumbel noise. */
  seed: number;
  epochs: number;
  batchSize: number;
  /** Length bucketing: batches are cut from pools of this many batches sorted by length (0: none). */
  bucket: number;
  /** Evaluate every this many steps instead of once per epoch. */
  evalEvery?: number;
  /** With an eval set: stop after `patience` evaluations without a lower eval loss, and keep the best evaluation's weights. */
  earlyStopping?: { patience: number; metric: 'loss' };
  optimizer: {
    type: 'adamw';
    /** Peak learning rate (reached after warm-up). */
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weightDecay: number;
    /** Regular expressions: parameters whose name matches one get no weight decay, besides `decaysByDefault`'s. */
    noDecay: string[];
  };
  schedule: { type: 'cosine'; warmupSteps: number; minLr: number };
  /** Global-norm gradient clipping threshold. */
  clipNorm: number;
  dropout: number;
  ctc: { zeroInfinity: boolean };
  router: {
    /** Label smoothing of the segment-class cross-entropy. */
    labelSmoothing: number;
    /** Straight-through (one-hot forward) Gumbel-softmax. */
    hard: boolean;
    /** τ = max(min, start · exp(−rate · step)). */
    tau: { start: number; min: number; rate: number };
    architecture: RouterArchitectureConfig;
  };
  lipread: {
    architecture: LipreadArchitectureConfig;
    /** Share of each frame's ViT patches dropped while training (0: none). */
    maskRatio: number;
  };
  fusion: {
    architecture: FusionArchitectureConfig;
    /** A paper ablation (FUSION_VARIANTS) applied over the architecture, which must not give the fields it sets other values. */
    variant?: FusionVariant;
  };
  decoder: DecoderConfig;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends unknown[] ? T[K] : NonNullable<T[K]> extends object ? DeepPartial<NonNullable<T[K]>> : T[K] };

/** A config file: `format` and any of the fields, nested objects partly. */
export type TrainConfigFile = { $schema?: string; format: typeof TRAIN_FORMAT } & DeepPartial<Omit<TrainConfig, 'format'>>;

export const TRAIN_DEFAULTS: TrainConfig = {
  format: TRAIN_FORMAT,
  seed: 0,
  epochs: 40, // standard
  batchSize: 8, // standard; the batch notes.md times a training step at
  bucket: 0,
  optimizer: {
    type: 'adamw',
    lr: 1e-3, // standard
    beta1: 0.9,
    beta2: 0.98, // standard (transformer)
    eps: 1e-8, // standard
    weightDecay: 0.01, // the paper's
    noDecay: [],
  },
  schedule: { type: 'cosine', warmupSteps: 500, minLr: 1e-6 }, // standard
  clipNorm: 1.0, // the paper's
  dropout: 0.1, // standard
  ctc: { zeroInfinity: true },
  router: {
    labelSmoothing: 0.1, // standard
    hard: true,
    // start 1.0 is the paper's; floor 0.5 and rate 3e-5 per step are Jang et al. (2017)'s
    tau: { start: 1.0, min: 0.5, rate: 3e-5 },
    architecture: { hidden: [128], activation: 'gelu', window: 16, hop: 8 },
  },
  lipread: {
    architecture: { size: 32, patch: 8, channels: 1, dim: 64, layers: 2, heads: 4, stride: 2 },
    maskRatio: 0.5, // the paper's
  },
  fusion: {
    // Post-norm stayed on the all-blank plateau in the simulated ablation runs (docs/ablations.md). The fields variants
    // set (type, default gated; lip; fingerspell; lipAlignment) are left out, so that only a file's own can contradict one.
    architecture: { d: 64, heads: 4, layers: 2, norm: 'pre', softmaxInputs: true },
  },
  decoder: {
    architecture: { dim: 128, layers: 2, heads: 4, kvHeads: 4, ffnDim: 344, maxLen: 128, ropeBase: 10000, normEps: 1e-5 },
    tokenizer: { vocabSize: 4000 },
    tensorType: 'f32',
  },
};

// -----------------------------------------------------------------------------------------------------------------
// The JSON Schema (draft-07, ajv's default dialect)

/** An object schema that allows no other fields. */
const CLOSED = { type: 'object', additionalProperties: false } as const;
const positiveInt = { type: 'integer', minimum: 1 } as const;
const positive = { type: 'number', exclusiveMinimum: 0 } as const;
const unit = { type: 'number', minimum: 0, exclusiveMaximum: 1 } as const;

export const TRAIN_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: TRAIN_SCHEMA_ID,
  title: 'signweave training config',
  type: 'object',
  required: ['format'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    format: { const: TRAIN_FORMAT },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
    epochs: positiveInt,
    batchSize: positiveInt,
    bucket: { type: 'integer', minimum: 0, description: 'batches per length-sorted pool; 0 for no bucketing' },
    evalEvery: positiveInt,
    earlyStopping: {
      ...CLOSED,
      required: ['patience'],
      properties: { patience: positiveInt, metric: { const: 'loss' } },
    },
    optimizer: {
      ...CLOSED,
      properties: {
        type: { const: 'adamw' },
        lr: positive,
        beta1: unit,
        beta2: unit,
        eps: positive,
        weightDecay: { type: 'number', minimum: 0 },
        noDecay: { type: 'array', items: { type: 'string', minLength: 1, description: 'a regular expression over parameter names' } },
      },
    },
    schedule: {
      ...CLOSED,
      properties: { type: { const: 'cosine' }, warmupSteps: { type: 'integer', minimum: 0 }, minLr: { type: 'number', minimum: 0 } },
    },
    clipNorm: positive,
    dropout: unit,
    ctc: { ...CLOSED, properties: { zeroInfinity: { type: 'boolean' } } },
    router: {
      ...CLOSED,
      properties: {
        labelSmoothing: { type: 'number', minimum: 0, maximum: 1 },
        hard: { type: 'boolean' },
        tau: { ...CLOSED, properties: { start: positive, min: positive, rate: { type: 'number', minimum: 0 } } },
        architecture: {
          ...CLOSED,
          properties: {
            hidden: { type: 'array', items: positiveInt, description: 'hidden layer sizes of the MLP' },
            activation: { enum: ['relu', 'gelu'] },
            window: { ...positiveInt, description: 'frames per pooled segment' },
            hop: { ...positiveInt, description: 'frames between segment starts; at most window' },
          },
        },
      },
    },
    lipread: {
      ...CLOSED,
      properties: {
        architecture: {
          ...CLOSED,
          properties: {
            size: { ...positiveInt, description: 'crop side in pixels; even (lip videos are H.264 yuv420p)' },
            patch: { ...positiveInt, description: 'ViT patch side; divides size' },
            channels: { enum: [1, 3], description: '1: luma, 3: RGB' },
            dim: positiveInt,
            layers: positiveInt,
            heads: { ...positiveInt, description: 'divides dim' },
            ff: { ...positiveInt, description: 'feed-forward width (default 4 · dim)' },
            pooling: { enum: ['cls', 'mean'] },
            stride: { ...positiveInt, description: 'temporal downsampling: T frames give ceil(T / stride) outputs' },
            kernel: { ...positiveInt, description: 'temporal kernel in frames (default 2 · stride + 1); at least stride' },
          },
        },
        maskRatio: { ...unit, description: 'share of patches dropped per frame while training' },
      },
    },
    fusion: {
      ...CLOSED,
      properties: {
        architecture: {
          ...CLOSED,
          properties: {
            type: { enum: FUSION_TYPES, description: 'the fusion strategy; default gated, the paper\'s' },
            d: { ...positiveInt, description: 'the common width every stream is projected to' },
            heads: { ...positiveInt, description: 'attention heads; divides d' },
            layers: { type: 'integer', minimum: 0, description: 'TransformerEncoder layers over the fused stream (0: the CTC head reads it)' },
            ff: { ...positiveInt, description: 'encoder feed-forward width (default 4 · d)' },
            norm: { enum: ['pre', 'post'] },
            activation: { enum: ['relu', 'gelu'] },
            positional: { enum: ['learned', 'sinusoidal'] },
            upsample: { enum: ['linear', 'nearest'], description: 'how the lip stream is brought to the manual frame rate' },
            mlpHidden: { ...positiveInt, description: 'hidden width of the concat-mlp fusion (default 2 · d)' },
            lipAlignment: {
              anyOf: [{ const: 'learned' }, { ...CLOSED, required: ['shift'], properties: { shift: { type: 'integer' } } }],
              description: '"learned" or {"shift": k} with k a whole number of frames (k > 0 delays the lips)',
            },
            lip: { type: 'boolean', description: 'false: the no-lipreading ablation' },
            fingerspell: { type: 'boolean', description: 'false: the no-fingerspelling ablation' },
            softmaxInputs: { type: 'boolean', description: 'turn each expert stream\'s logits into posteriors before projecting' },
          },
        },
        variant: { enum: FUSION_VARIANT_NAMES, description: 'a paper ablation applied over the architecture' },
      },
    },
    decoder: {
      ...CLOSED,
      properties: {
        architecture: {
          ...CLOSED,
          properties: {
            dim: positiveInt,
            layers: positiveInt,
            heads: positiveInt,
            kvHeads: positiveInt,
            ffnDim: positiveInt,
            maxLen: { type: 'integer', minimum: 4, description: 'room for <s>, a gloss token, <sep> and </s> at least' },
            ropeBase: positive,
            normEps: positive,
          },
        },
        tokenizer: {
          ...CLOSED,
          properties: { vocabSize: { type: 'integer', minimum: 260, description: 'the 4 control and 256 byte tokens, then learned pieces' } },
        },
        tensorType: { enum: ['f32', 'f16'] },
      },
    },
  },
} as const;

// -----------------------------------------------------------------------------------------------------------------
// Validation

const validator = lazyValidator(TRAIN_SCHEMA);

/** What a fusion config takes from the data: the expert streams' widths, the gloss vocabulary size, the lip stride. */
export interface FusionDataShape {
  widths: { sign: number; fingerspell: number; lips: number };
  vocabSize: number;
  lipStride: number;
  /** Longest sequence the positional table covers (default resolveFusionConfig's). */
  maxLen?: number;
}

/** Any valid widths: the architecture's relations hold or fail whatever the data is. */
const ANY_DATA: FusionDataShape = { widths: { sign: 1, fingerspell: 1, lips: 1 }, vocabSize: 2, lipStride: 1 };

/** An architecture over the data, without the streams it drops. */
function fusionConfigOver(architecture: FusionArchitectureConfig, data: FusionDataShape): FusionConfig {
  const lip = architecture.lip !== false;
  return {
    ...architecture,
    inputs: { sign: data.widths.sign, fingerspell: architecture.fingerspell === false ? null : data.widths.fingerspell, lips: lip ? data.widths.lips : null },
    vocabSize: data.vocabSize,
    lipStride: lip ? data.lipStride : null,
    ...(data.maxLen !== undefined ? { maxLen: data.maxLen } : {}),
  };
}

/**
 * resolveFusionConfig's objection to a fusion config, if any, at the pointer of the first field it names, its fields
 * written as pointers: `fusion.d = 30 is not divisible by fusion.heads = 4` → `/fusion/architecture/d: 30 is not
 * divisible by /fusion/architecture/heads = 4`.
 */
function fusionConfigProblems(config: FusionConfig, note = ''): SchemaProblem[] {
  try {
    resolveFusionConfig(config);
    return [];
  } catch (err) {
    if (!(err instanceof SignweaveInputError)) throw err;
    const message = err.message.replace(/^fusion config: /, '').replace(/\bfusion\.([A-Za-z]+(?:\.[A-Za-z]+)*)/g, (_, field: string) => `/fusion/architecture/${field.replaceAll('.', '/')}`);
    const pointer = /\/fusion\/architecture[\w/]*/.exec(message)?.[0] ?? '/fusion/architecture';
    const rest = message.startsWith(`${pointer} `) ? message.slice(pointer.length + 1).replace(/^= /, '') : message;
    return [{ pointer, message: `${rest}${note}` }];
  }
}

/** What the schema cannot say: relations between fields (the fusion architecture's as resolveFusionConfig judges them), and the noDecay patterns' syntax. */
function crossFieldProblems(c: TrainConfig): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  if (c.schedule.minLr > c.optimizer.lr) {
    problems.push({ pointer: '/schedule/minLr', message: `must not exceed the peak learning rate /optimizer/lr = ${c.optimizer.lr} (value: ${c.schedule.minLr})` });
  }
  if (c.router.tau.min > c.router.tau.start) {
    problems.push({ pointer: '/router/tau/min', message: `must not exceed /router/tau/start = ${c.router.tau.start} (value: ${c.router.tau.min})` });
  }
  const a = c.decoder.architecture;
  if (a.dim % a.heads !== 0) problems.push({ pointer: '/decoder/architecture/heads', message: `must divide /decoder/architecture/dim = ${a.dim} (value: ${a.heads})` });
  else if ((a.dim / a.heads) % 2 !== 0) {
    problems.push({ pointer: '/decoder/architecture/heads', message: `must leave an even head size (dim / heads; RoPE rotates pairs), but ${a.dim} / ${a.heads} = ${a.dim / a.heads} (value: ${a.heads})` });
  }
  if (a.heads % a.kvHeads !== 0) problems.push({ pointer: '/decoder/architecture/kvHeads', message: `must divide /decoder/architecture/heads = ${a.heads} (value: ${a.kvHeads})` });
  const r = c.router.architecture;
  if (r.hop > r.window) problems.push({ pointer: '/router/architecture/hop', message: `must not exceed /router/architecture/window = ${r.window}, or frames between windows get no routing (value: ${r.hop})` });
  const l = c.lipread.architecture;
  if (l.size % 2 !== 0) problems.push({ pointer: '/lipread/architecture/size', message: `must be even, as lip crops are (value: ${l.size})` });
  if (l.size % l.patch !== 0) problems.push({ pointer: '/lipread/architecture/patch', message: `must divide /lipread/architecture/size = ${l.size} (value: ${l.patch})` });
  if (l.dim % l.heads !== 0) problems.push({ pointer: '/lipread/architecture/heads', message: `must divide /lipread/architecture/dim = ${l.dim} (value: ${l.heads})` });
  if (l.kernel !== undefined && l.kernel < l.stride) {
    problems.push({ pointer: '/lipread/architecture/kernel', message: `must be at least /lipread/architecture/stride = ${l.stride}, or frames are skipped (value: ${l.kernel})` });
  }
  problems.push(...fusionConfigProblems(fusionConfigOver(c.fusion.architecture, ANY_DATA)));
  c.optimizer.noDecay.forEach((pattern, i) => {
    try {
      new RegExp(pattern);
    } catch (err) {
      problems.push({ pointer: `/optimizer/noDecay/${i}`, message: `is not a regular expression: ${(err as Error).message} (value: ${showValue(pattern)})` });
    }
  });
  return problems;
}

/** The file's fields over the defaults, nested objects merged one level (router's, lipread's, fusion's and decoder's). */
function withDefaults(file: TrainConfigFile): TrainConfig {
  const d = structuredClone(TRAIN_DEFAULTS);
  const { $schema: _, earlyStopping, ...f } = file;
  return {
    ...d,
    ...f,
    optimizer: { ...d.optimizer, ...f.optimizer },
    schedule: { ...d.schedule, ...f.schedule },
    ctc: { ...d.ctc, ...f.ctc },
    router: { ...d.router, ...f.router, tau: { ...d.router.tau, ...f.router?.tau }, architecture: { ...d.router.architecture, ...f.router?.architecture } },
    lipread: { ...d.lipread, ...f.lipread, architecture: { ...d.lipread.architecture, ...f.lipread?.architecture } },
    fusion: { ...d.fusion, ...f.fusion, architecture: { ...d.fusion.architecture, ...(f.fusion?.architecture as FusionArchitectureConfig | undefined) } },
    // The schema requires patience; 'loss' is the one metric.
    ...(earlyStopping ? { earlyStopping: { patience: earlyStopping.patience as number, metric: 'loss' as const } } : {}),
    decoder: {
      ...d.decoder,
      ...f.decoder,
      architecture: { ...d.decoder.architecture, ...f.decoder?.architecture },
      tokenizer: { ...d.decoder.tokenizer, ...f.decoder?.tokenizer },
    },
  };
}

/** Every problem of a parsed config (schema violations, then relations between fields), each with its JSON pointer. */
export function validateTrainConfig(data: unknown): SchemaProblem[] {
  const problems = schemaProblems(validator(), data);
  if (problems.length > 0) return problems;
  return crossFieldProblems(withDefaults(data as TrainConfigFile));
}

export interface ResolvedTrainConfig {
  /** Every field, defaults filled in. */
  config: TrainConfig;
  /** How errors name it: `training config <file>` or `the training config object`. */
  source: string;
  /** The config file, or null for an object. */
  path: string | null;
  /** sha256 of the config file's bytes (null for an object). */
  sha256: string | null;
}

/**
 * A training config file (or an already parsed object), validated and completed with the defaults. Every problem is
 * a `SignweaveInputError` naming the file and the JSON pointer.
 */
export function resolveTrainConfig(input: TrainConfigFile | string): ResolvedTrainConfig {
  let data: unknown = input;
  let source = 'the training config object';
  let path: string | null = null;
  let sha256: string | null = null;
  if (typeof input === 'string') {
    path = resolve(input);
    source = `training config ${input}`;
    ({ data, sha256 } = readJsonFile(input, 'training config'));
  }
  const problems = validateTrainConfig(data);
  if (problems.length > 0) throw new SignweaveInputError(formatSchemaProblems(source, problems));
  return { config: withDefaults(data as TrainConfigFile), source, path, sha256 };
}

/**
 * The fusion config a training config gives over the data: `fusion.architecture`, then `fusion.variant` applied as
 * fusionVariantConfig does. A variant that would change a field the architecture gives is refused, as is a result
 * resolveFusionConfig refuses; the errors name the config and the JSON pointer.
 */
export function trainingFusionConfig(resolved: ResolvedTrainConfig, data: FusionDataShape): FusionConfig {
  const { architecture, variant } = resolved.config.fusion;
  const base = fusionConfigOver(architecture, data);
  // validateTrainConfig has checked the architecture alone.
  if (variant === undefined) return base;
  const config = fusionVariantConfig(base, variant);
  const changed = (Object.keys(architecture) as (keyof FusionArchitectureConfig)[]).filter((k) => !isDeepStrictEqual(config[k], architecture[k]));
  const problems: SchemaProblem[] = changed.map((k) => ({
    pointer: `/fusion/architecture/${k}`,
    message: `contradicts /fusion/variant "${variant}", which sets it to ${showValue(config[k])} (value: ${showValue(architecture[k])})`,
  }));
  if (problems.length === 0) problems.push(...fusionConfigProblems(config, ` (with /fusion/variant "${variant}")`));
  if (problems.length > 0) throw new SignweaveInputError(formatSchemaProblems(resolved.source, problems));
  return config;
}

/** The weight-decay rule of a config: `decaysByDefault`, and never for names matching an `optimizer.noDecay` pattern. */
export function decayRule(config: TrainConfig): (param: ParamInfo) => boolean {
  const excluded = config.optimizer.noDecay.map((p) => new RegExp(p));
  return (param) => decaysByDefault(param) && !excluded.some((re) => re.test(param.name));
}
