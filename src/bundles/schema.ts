/**
 * The expert bundle format (`signweave-bundle/1`): a folder with `bundle.json`, `model.onnx` and, for every kind
 * whose output is decoded with CTC, `vocab.txt`. This module holds the JSON Schema of `bundle.json` (published as
 * `bundle.schema.json` beside it; a test keeps the two identical) and the TypeScript types it describes.
 */
import { FUSION_TYPES, type FusionConfig } from '../fusion/config.js';

export const BUNDLE_FORMAT = 'signweave-bundle/1';

/** What `bundle.json`'s `$schema` says; the schema file's `$id`. */
export const BUNDLE_SCHEMA_ID = 'urn:signweave:schema:bundle:1';

export const BUNDLE_KINDS = ['sign', 'fingerspell', 'lipread', 'router', 'fusion'] as const;
export type BundleKind = (typeof BUNDLE_KINDS)[number];

/** Kinds whose output is CTC logits over `vocab.txt` (blank included). The router's output is class logits. */
export const CTC_KINDS = ['sign', 'fingerspell', 'lipread', 'fusion'] as const;
export type CtcKind = (typeof CTC_KINDS)[number];

export function isCtcKind(kind: BundleKind): kind is CtcKind {
  return (CTC_KINDS as readonly string[]).includes(kind);
}

/** Whether the weights learned anything: `random` = seeded initialisation, `synthetic` = trained on made-up data. */
export const WEIGHTS_KINDS = ['trained', 'random', 'synthetic'] as const;
export type WeightsKind = (typeof WEIGHTS_KINDS)[number];

/** Sources a fusion bundle's input streams come from. */
export const STREAM_SOURCES = ['features', 'sign', 'fingerspell', 'lipread', 'router'] as const;
export type StreamSource = (typeof STREAM_SOURCES)[number];

/** Backbone features `[T, dim]` (sign and fingerspelling heads). */
export interface FeaturesInput {
  type: 'features';
  /** ONNX input name. */
  name: string;
  dim: number;
  /** The longest sequence the model takes (rows of its positional table); longer inputs are refused up front. */
  maxFrames?: number;
}

/** Mouth crops `[T, size, size, channels]`, float32 after `(pixel / 255 − mean[c]) / std[c]`. */
export interface LipCropsInput {
  type: 'lip-crops';
  name: string;
  size: number;
  channels: 1 | 3;
  mean: number[];
  std: number[];
  maxFrames?: number;
}

/** Segment-pooled features `[S, dim]` (the router): segments of `window` frames every `hop` frames. */
export interface PooledFeaturesInput {
  type: 'features';
  name: string;
  dim: number;
  window: number | 'sequence';
  hop?: number;
}

/** The streams a fusion model takes, one ONNX input `[T_stream, dim]` each. */
export interface StreamsInput {
  type: 'streams';
  streams: { name: string; source: StreamSource; dim: number }[];
}

/** CTC logits `[T′, |vocab|]`; `vocab` is a file in the bundle, `blank` the index of the CTC blank in it. */
export interface CtcOutput {
  name: string;
  vocab: string;
  blank: number;
}

/** Class logits `[S, |classes|]`, classes in logit order. */
export interface ClassesOutput {
  name: string;
  classes: string[];
}

export interface BundleProvenance {
  /** Tool and version that wrote the bundle, e.g. `signweave 0.1.0`. */
  createdBy: string;
  /** ISO 8601 date-time. */
  createdAt: string;
  seed?: number;
  /** Where the weights come from (a training run, a checkpoint URL…). */
  source?: string;
  notes?: string;
}

/** The router MLP's layout; layer sizes come from the ONNX weights. */
export interface RouterArchitecture {
  activation: 'relu' | 'gelu';
  hidden?: number[];
  [option: string]: unknown;
}

interface ManifestBase<K extends BundleKind, I, O> {
  $schema?: string;
  format: typeof BUNDLE_FORMAT;
  kind: K;
  name: string;
  version: string;
  input: I;
  output: O;
  /** Input frames per output frame: T′ = ⌈T / temporalStride⌉. */
  temporalStride: number;
  onnx: { file: string; sha256: string };
  weights: WeightsKind;
  provenance: BundleProvenance;
  /** The graph definition's options (so a trainer can rebuild the graph around the weights). */
  architecture?: Record<string, unknown>;
}

export interface ManifestByKind {
  sign: ManifestBase<'sign', FeaturesInput, CtcOutput>;
  fingerspell: ManifestBase<'fingerspell', FeaturesInput, CtcOutput>;
  lipread: ManifestBase<'lipread', LipCropsInput, CtcOutput>;
  router: ManifestBase<'router', PooledFeaturesInput, ClassesOutput> & { architecture: RouterArchitecture };
  /** `architecture` is the FusionConfig the graph was built from; FusionStage checks the graph against it. */
  fusion: ManifestBase<'fusion', StreamsInput, CtcOutput> & { architecture: FusionConfig };
}

export type BundleManifest<K extends BundleKind = BundleKind> = ManifestByKind[K];

// -----------------------------------------------------------------------------------------------------------------
// The JSON Schema (draft-07, ajv's default dialect)

const positiveInt = { type: 'integer', minimum: 1 } as const;
const tensorName = { type: 'string', minLength: 1 } as const;
/** A file directly inside the bundle folder: no separators, not `.` or `..`. */
const bundleFile = { type: 'string', pattern: '^(?!\\.\\.?$)[^/\\\\]+$', description: 'a file name inside the bundle folder' } as const;
const channelValues = { type: 'array', minItems: 1, maxItems: 3 } as const;

const featuresInput = {
  type: 'object',
  required: ['type', 'name', 'dim'],
  additionalProperties: false,
  properties: { type: { const: 'features' }, name: tensorName, dim: positiveInt, maxFrames: positiveInt },
} as const;

const lipCropsInput = {
  type: 'object',
  required: ['type', 'name', 'size', 'channels', 'mean', 'std'],
  additionalProperties: false,
  properties: {
    type: { const: 'lip-crops' },
    name: tensorName,
    size: positiveInt,
    channels: { enum: [1, 3] },
    mean: { ...channelValues, items: { type: 'number' } },
    std: { ...channelValues, items: { type: 'number', exclusiveMinimum: 0 } },
    maxFrames: positiveInt,
  },
} as const;

const pooledFeaturesInput = {
  type: 'object',
  required: ['type', 'name', 'dim', 'window'],
  additionalProperties: false,
  properties: {
    type: { const: 'features' },
    name: tensorName,
    dim: positiveInt,
    window: { anyOf: [positiveInt, { const: 'sequence' }], description: 'a number of frames (integer ≥ 1) or "sequence"' },
    hop: positiveInt,
  },
} as const;

const streamsInput = {
  type: 'object',
  required: ['type', 'streams'],
  additionalProperties: false,
  properties: {
    type: { const: 'streams' },
    streams: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'source', 'dim'],
        additionalProperties: false,
        properties: { name: tensorName, source: { enum: STREAM_SOURCES }, dim: positiveInt },
      },
    },
  },
} as const;

const ctcOutput = {
  type: 'object',
  required: ['name', 'vocab', 'blank'],
  additionalProperties: false,
  properties: { name: tensorName, vocab: bundleFile, blank: { type: 'integer', minimum: 0 } },
} as const;

const classesOutput = {
  type: 'object',
  required: ['name', 'classes'],
  additionalProperties: false,
  properties: { name: tensorName, classes: { type: 'array', minItems: 2, uniqueItems: true, items: { type: 'string', minLength: 1 } } },
} as const;

const streamWidth = { type: ['integer', 'null'], minimum: 1 } as const;

/**
 * The fusion graph's FusionConfig (src/fusion/config.ts): the schema pins what the bundle's streams and vocabulary
 * must agree with; `resolveFusionConfig` checks every field when the bundle loads.
 */
const fusionArchitecture = {
  type: 'object',
  required: ['inputs', 'vocabSize', 'd'],
  properties: {
    type: { enum: FUSION_TYPES },
    inputs: {
      type: 'object',
      required: ['sign'],
      additionalProperties: false,
      properties: { sign: positiveInt, fingerspell: streamWidth, lips: streamWidth },
    },
    vocabSize: { type: 'integer', minimum: 2 },
    d: positiveInt,
  },
} as const;

/** Per kind: which input and output shapes apply (and the router's required architecture). */
function whenKind(kinds: readonly BundleKind[], then: object) {
  return {
    if: { type: 'object', required: ['kind'], properties: { kind: { enum: kinds } } },
    then: { type: 'object', ...then },
  };
}

export const BUNDLE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: BUNDLE_SCHEMA_ID,
  title: 'signweave expert bundle (bundle.json)',
  type: 'object',
  required: ['format', 'kind', 'name', 'version', 'input', 'output', 'temporalStride', 'onnx', 'weights', 'provenance'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    format: { const: BUNDLE_FORMAT },
    kind: { enum: BUNDLE_KINDS },
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'letters, digits, ".", "_" and "-", starting with a letter or digit' },
    version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+([-+][0-9A-Za-z.+-]+)?$', description: 'a semantic version such as 1.0.0' },
    input: { type: 'object' },
    output: { type: 'object' },
    temporalStride: positiveInt,
    onnx: {
      type: 'object',
      required: ['file', 'sha256'],
      additionalProperties: false,
      properties: { file: bundleFile, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: '64 lower-case hex digits' } },
    },
    weights: { enum: WEIGHTS_KINDS },
    provenance: {
      type: 'object',
      required: ['createdBy', 'createdAt'],
      additionalProperties: false,
      properties: {
        createdBy: { type: 'string', minLength: 1 },
        createdAt: {
          type: 'string',
          pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
          description: 'an ISO 8601 date-time such as 2025-01-31T12:00:00Z',
        },
        seed: { type: 'integer' },
        source: { type: 'string' },
        notes: { type: 'string' },
      },
    },
    architecture: { type: 'object' },
  },
  allOf: [
    whenKind(['sign', 'fingerspell'], { properties: { input: featuresInput, output: ctcOutput } }),
    whenKind(['lipread'], { properties: { input: lipCropsInput, output: ctcOutput } }),
    whenKind(['fusion'], { required: ['architecture'], properties: { input: streamsInput, output: ctcOutput, architecture: fusionArchitecture } }),
    whenKind(['router'], {
      required: ['architecture'],
      properties: {
        input: pooledFeaturesInput,
        output: classesOutput,
        architecture: { type: 'object', required: ['activation'], properties: { activation: { enum: ['relu', 'gelu'] }, hidden: { type: 'array', items: positiveInt } } },
      },
    }),
  ],
} as const;
