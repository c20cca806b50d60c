/**
 * The pipeline config (`signweave-pipeline/1`): which video settings, landmark models, backbone, feature cache,
 * expert / router / fusion bundles, CTC decoders and English decoder a pipeline runs. JSON, validated with ajv against the JSON
 * Schema here (published as `pipeline.schema.json` beside it; a test keeps the two identical). Paths are relative to
 * the config file's folder. Only src/pipeline knows this shape: the stages take plain options.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { FUSION_VARIANT_NAMES, type FusionVariant } from '../bundles/fusion.js';
import type { DecoderGpu, DecoderSampling } from '../decoder/types.js';
import { SignweaveInputError } from '../errors.js';
import { readJsonFile } from '../util/text-files.js';
import { PRESET_NAMES, PRESETS, type PresetName } from './presets.js';
import { formatSchemaProblems, lazyValidator, schemaProblems, type SchemaProblem } from '../util/json-schema.js';

export const PIPELINE_FORMAT = 'signweave-pipeline/1';

/** What a config's `$schema` says; the schema file's `$id`. */
export const PIPELINE_SCHEMA_ID = 'urn:signweave:schema:pipeline:1';

/** CTC decoding of one stream (src/ctc); beam search with width 16 when absent. */
export interface CtcDecoderConfig {
  /** 'beam' (prefix beam search, default) or 'greedy' (no lexicon, LM or hotwords). */
  type?: 'beam' | 'greedy';
  beamWidth?: number;
  topK?: number;
  tokenMinLogProb?: number;
  cutoffProb?: number;
  beamPruneLogProb?: number;
  /** A file of allowed words (glosses, or words spelled with letters), one per line. */
  lexicon?: string;
  hotwords?: { phrases: string[]; weight?: number };
  /** An ARPA n-gram model fused into the beam search (α · ln P + β · words). */
  lm?: { path: string; alpha?: number; beta?: number; level?: 'word' | 'token' };
}

export interface ExpertStageConfig {
  /** A bundle folder of the expert's kind. */
  bundle: string;
  decoder?: CtcDecoderConfig;
}

export interface FusionStageConfig {
  /** The fusion bundle that runs. */
  bundle: string;
  /** Decoding of the fused pseudo-gloss. */
  decoder?: CtcDecoderConfig;
  /** The variant `bundle` must be (checked against its architecture when it loads). */
  variant?: FusionVariant;
  /** A fusion bundle per variant, for presets to choose from. */
  variants?: Partial<Record<FusionVariant, string>>;
}

/**
 * The pseudo-gloss → English decoder (src/decoder: a LLaMA GGUF run by node-llama-cpp). Every field but `model` has
 * the decoder's default; `prompt.fewShot` is a file (JSONL `{"gloss", "english"}` or TSV `gloss<TAB>english`).
 */
export interface DecoderStageConfig {
  model: string;
  gpu?: DecoderGpu;
  threads?: number;
  contextSize?: number;
  maxTokens?: number;
  parallel?: number;
  prompt?: { instruction?: string; fewShot?: string; format?: 'auto' | 'completion' | 'chat' };
  sampling?: DecoderSampling;
  stop?: string[];
  lora?: { path: string; scale?: number }[];
}

export interface PipelineConfig {
  $schema?: string;
  format: typeof PIPELINE_FORMAT;
  /** A preset applied when the pipeline is created (an option given then wins). */
  preset?: PresetName;
  /** Frames for the landmarks: shrunk so the longer side is at most `maxSide` (the backbone decodes its own). */
  video?: { maxSide?: number };
  /** MediaPipe in headless Chromium; required when the lipreading expert runs. */
  landmarks?: {
    chromium?: string;
    face: { model: string };
    /** Also run pose: its head landmarks help the face search find small faces. */
    pose?: { model: string };
    /** Frames at the page at once. */
    inFlight?: number;
    /** Mouth crops: the box's padding around the lips and the one-euro smoothing (false: none). Size and channels come from the lipreading bundle. */
    lips?: { padding?: number; smoothing?: false | { minCutoff?: number; beta?: number; dCutoff?: number } };
  };
  backbone: {
    /** A Hugging Face model folder run by transformers.js, or a bare ONNX file run by ONNX Runtime. */
    type: 'hf-folder' | 'onnx';
    path: string;
    /** Bare ONNX: the image input and the feature output (default: the graph's only one). */
    input?: string;
    output?: string;
    /** Bare ONNX, required: a preprocessor_config.json path, or its contents. */
    preprocessing?: string | Record<string, unknown>;
    /** Frames per backbone run (default 4). */
    batch?: number;
    /** Every `stride`-th frame is analysed (default 1); the streams run at the video's fps / stride. */
    stride?: number;
  };
  /** The backbone feature cache (off when absent). */
  cache?: { enabled: boolean; dir?: string; videoIdentity?: 'content' | 'file-stat' };
  experts: { sign: ExpertStageConfig; fingerspell: ExpertStageConfig | null; lipread: ExpertStageConfig | null };
  router: { bundle: string } | null;
  fusion: FusionStageConfig | null;
  /** The English decoder, reading the fused pseudo-gloss; absent or null: the run stops at the pseudo-gloss. */
  decoder?: DecoderStageConfig | null;
}

// -----------------------------------------------------------------------------------------------------------------
// The JSON Schema (draft-07, ajv's default dialect)

const path = { type: 'string', minLength: 1, description: "a path, relative to the config file's folder" } as const;
const positiveInt = { type: 'integer', minimum: 1 } as const;
const model = { type: 'object', required: ['model'], additionalProperties: false, properties: { model: path } } as const;
/** A field that must be absent in some case; `why` says which. */
const absent = (why: string) => ({ not: {}, description: why });

const greedyTakesNoSearchOptions = 'greedy decoding takes no lexicon, LM or hotwords: use "type": "beam"';

const decoder = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: { enum: ['beam', 'greedy'] },
    beamWidth: positiveInt,
    topK: positiveInt,
    tokenMinLogProb: { type: 'number' },
    cutoffProb: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    beamPruneLogProb: { type: 'number' },
    lexicon: path,
    hotwords: {
      type: 'object',
      required: ['phrases'],
      additionalProperties: false,
      properties: { phrases: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }, weight: { type: 'number' } },
    },
    lm: {
      type: 'object',
      required: ['path'],
      additionalProperties: false,
      properties: { path, alpha: { type: 'number', minimum: 0 }, beta: { type: 'number' }, level: { enum: ['word', 'token'] } },
    },
  },
  if: { required: ['type'], properties: { type: { const: 'greedy' } } },
  then: {
    properties: { lexicon: absent(greedyTakesNoSearchOptions), lm: absent(greedyTakesNoSearchOptions), hotwords: absent(greedyTakesNoSearchOptions) },
  },
} as const;

/** An expert stage; with `nullable`, null turns it off (the object keywords do not apply to null). */
const expert = (nullable: boolean) =>
  ({
    type: nullable ? ['object', 'null'] : 'object',
    required: ['bundle'],
    additionalProperties: false,
    properties: { bundle: path, decoder },
  }) as const;

const hfNamesItsOwn = 'a Hugging Face folder names its own tensors and preprocessing';

const backbone = {
  type: 'object',
  required: ['type', 'path'],
  additionalProperties: false,
  properties: {
    type: { enum: ['hf-folder', 'onnx'] },
    path,
    input: { type: 'string', minLength: 1 },
    output: { type: 'string', minLength: 1 },
    preprocessing: { anyOf: [path, { type: 'object' }], description: 'a preprocessor_config.json path, or its contents' },
    batch: positiveInt,
    stride: positiveInt,
  },
  allOf: [
    {
      if: { required: ['type'], properties: { type: { const: 'hf-folder' } } },
      then: { properties: { input: absent(hfNamesItsOwn), output: absent(hfNamesItsOwn), preprocessing: absent(hfNamesItsOwn) } },
    },
    {
      if: { required: ['type'], properties: { type: { const: 'onnx' } } },
      then: { required: ['preprocessing'], description: 'a bare ONNX file carries no preprocessing: give its preprocessor_config.json' },
    },
  ],
} as const;

const landmarks = {
  type: 'object',
  required: ['face'],
  additionalProperties: false,
  properties: {
    chromium: path,
    face: model,
    pose: model,
    inFlight: positiveInt,
    lips: {
      type: 'object',
      additionalProperties: false,
      properties: {
        padding: { type: 'number', exclusiveMinimum: 0 },
        smoothing: {
          anyOf: [
            { const: false },
            {
              type: 'object',
              additionalProperties: false,
              properties: { minCutoff: { type: 'number', exclusiveMinimum: 0 }, beta: { type: 'number', minimum: 0 }, dCutoff: { type: 'number', exclusiveMinimum: 0 } },
            },
          ],
          description: 'false, or one-euro settings { minCutoff > 0, beta ≥ 0, dCutoff > 0 }',
        },
      },
    },
  },
} as const;

const englishDecoder = {
  type: ['object', 'null'],
  required: ['model'],
  additionalProperties: false,
  properties: {
    model: { ...path, description: "a GGUF model file, relative to the config file's folder" },
    gpu: { enum: ['auto', 'cuda', 'vulkan', 'cpu'] },
    threads: positiveInt,
    contextSize: positiveInt,
    maxTokens: positiveInt,
    parallel: positiveInt,
    prompt: {
      type: 'object',
      additionalProperties: false,
      properties: { instruction: { type: 'string', minLength: 1 }, fewShot: path, format: { enum: ['auto', 'completion', 'chat'] } },
    },
    sampling: {
      type: 'object',
      additionalProperties: false,
      properties: {
        temperature: { type: 'number', minimum: 0 },
        topP: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        topK: positiveInt,
        seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
      },
    },
    stop: { type: 'array', items: { type: 'string', minLength: 1 } },
    lora: {
      type: 'array',
      items: { type: 'object', required: ['path'], additionalProperties: false, properties: { path, scale: { type: 'number' } } },
    },
  },
} as const;

export const PIPELINE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: PIPELINE_SCHEMA_ID,
  title: 'signweave pipeline config',
  type: 'object',
  required: ['format', 'backbone', 'experts', 'router', 'fusion'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    format: { const: PIPELINE_FORMAT },
    preset: { enum: PRESET_NAMES },
    video: { type: 'object', additionalProperties: false, properties: { maxSide: { type: 'integer', minimum: 2 } } },
    landmarks,
    backbone,
    cache: {
      type: 'object',
      required: ['enabled'],
      additionalProperties: false,
      properties: { enabled: { type: 'boolean' }, dir: path, videoIdentity: { enum: ['content', 'file-stat'] } },
    },
    experts: {
      type: 'object',
      required: ['sign', 'fingerspell', 'lipread'],
      additionalProperties: false,
      properties: { sign: expert(false), fingerspell: expert(true), lipread: expert(true) },
    },
    router: { type: ['object', 'null'], required: ['bundle'], additionalProperties: false, properties: { bundle: path } },
    fusion: {
      type: ['object', 'null'],
      required: ['bundle'],
      additionalProperties: false,
      properties: {
        bundle: path,
        decoder,
        variant: { enum: FUSION_VARIANT_NAMES },
        variants: { type: 'object', additionalProperties: false, properties: Object.fromEntries(FUSION_VARIANT_NAMES.map((v) => [v, path])) },
      },
    },
    decoder: englishDecoder,
  },
  allOf: [
    {
      if: { required: ['fusion'], properties: { fusion: { type: 'object' } } },
      then: { properties: { router: { type: 'object', description: "fusion weighs the manual streams by the router's weights, so a config with fusion needs a router" } } },
    },
    {
      if: { required: ['experts'], properties: { experts: { type: 'object', required: ['lipread'], properties: { lipread: { type: 'object' } } } } },
      then: { required: ['landmarks'], description: 'the lipreading expert reads mouth crops, which come from the face landmarks' },
    },
  ],
} as const;

// -----------------------------------------------------------------------------------------------------------------
// Validation

/** One schema violation: the JSON pointer into the config and what is wrong there (with the offending value). */
export type ConfigProblem = SchemaProblem;

/** `SOURCE: pointer: message` for one problem; a list for several. */
export { formatSchemaProblems as formatConfigProblems };

const configValidator = lazyValidator(PIPELINE_SCHEMA);

/** Every schema problem of a parsed config, each with its JSON pointer and the offending value. */
export function validatePipelineConfig(data: unknown): ConfigProblem[] {
  return schemaProblems(configValidator(), data);
}

function checkConfig(data: unknown, source: string): PipelineConfig {
  const problems = validatePipelineConfig(data);
  if (problems.length > 0) throw new SignweaveInputError(formatSchemaProblems(source, problems));
  return data as PipelineConfig;
}

// -----------------------------------------------------------------------------------------------------------------
// Paths and presets

/** The decoder section with each of its files (model, few-shot examples, LoRA adapters) passed through `at`. */
export function decoderStagePaths(decoder: DecoderStageConfig, at: (path: string) => string): DecoderStageConfig {
  const { model, prompt, lora } = decoder;
  return {
    ...decoder,
    model: at(model),
    ...(prompt?.fewShot !== undefined && { prompt: { ...prompt, fewShot: at(prompt.fewShot) } }),
    ...(lora && { lora: lora.map((l) => ({ ...l, path: at(l.path) })) }),
  };
}

/** The config with every path made absolute against `dir` (absolute paths stay as they are). */
export function resolveConfigPaths(config: PipelineConfig, dir: string): PipelineConfig {
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));
  const decoderPaths = (d: CtcDecoderConfig | undefined): CtcDecoderConfig | undefined =>
    d && { ...d, ...(d.lexicon !== undefined && { lexicon: at(d.lexicon) }), ...(d.lm && { lm: { ...d.lm, path: at(d.lm.path) } }) };
  const stage = <S extends ExpertStageConfig | null>(s: S): S => (s && { ...s, bundle: at(s.bundle), ...(s.decoder && { decoder: decoderPaths(s.decoder) }) }) as S;
  const { landmarks: lm, backbone: bb, cache, fusion, decoder } = config;
  return {
    ...config,
    ...(lm && {
      landmarks: {
        ...lm,
        ...(lm.chromium !== undefined && { chromium: at(lm.chromium) }),
        face: { model: at(lm.face.model) },
        ...(lm.pose && { pose: { model: at(lm.pose.model) } }),
      },
    }),
    backbone: { ...bb, path: at(bb.path), ...(typeof bb.preprocessing === 'string' && { preprocessing: at(bb.preprocessing) }) },
    ...(cache && { cache: { ...cache, ...(cache.dir !== undefined && { dir: at(cache.dir) }) } }),
    experts: { sign: stage(config.experts.sign), fingerspell: stage(config.experts.fingerspell), lipread: stage(config.experts.lipread) },
    router: config.router && { bundle: at(config.router.bundle) },
    fusion: fusion && {
      ...stage(fusion),
      ...(fusion.variants && { variants: Object.fromEntries(Object.entries(fusion.variants).map(([k, p]) => [k, at(p)])) }),
    },
    ...(decoder && { decoder: decoderStagePaths(decoder, at) }),
  };
}

/** A preset applied to a valid config; the result is validated again (a preset must give a valid config). */
export function applyPreset(config: PipelineConfig, preset: PresetName, source: string): PipelineConfig {
  const apply = PRESETS[preset];
  if (!apply) throw new SignweaveInputError(`${source}: unknown preset '${preset}' (presets: ${PRESET_NAMES.join(', ')})`);
  let result: PipelineConfig;
  try {
    result = apply(config);
  } catch (err) {
    if (err instanceof SignweaveInputError) throw new SignweaveInputError(`${source}: ${err.message}`);
    throw err;
  }
  return checkConfig(result, `${source} with preset '${preset}'`);
}

/** A config ready to run: paths absolute, preset applied, and where it came from. */
export interface ResolvedPipelineConfig {
  config: PipelineConfig;
  /** How errors name it: `pipeline config <file>` or `the pipeline config object`. */
  source: string;
  /** The config file, or null for a config given as an object. */
  path: string | null;
  /** sha256 of the config file's bytes (null for an object). */
  sha256: string | null;
  preset: PresetName | null;
}

export interface ResolveConfigOptions {
  /** Applied instead of the config's own `preset`. */
  preset?: PresetName;
  /** What relative paths of a config object are relative to (default: the working folder). */
  baseDir?: string;
}

/**
 * A config file (or an already parsed object), validated, with paths made absolute and the preset (the option's,
 * else the config's own) applied. Every problem is a `SignweaveInputError` naming the file and the JSON pointer.
 */
export function resolvePipelineConfig(input: PipelineConfig | string, options: ResolveConfigOptions = {}): ResolvedPipelineConfig {
  let data: unknown = input;
  let source = 'the pipeline config object';
  let file: string | null = null;
  let sha256: string | null = null;
  let dir = resolve(options.baseDir ?? '.');
  if (typeof input === 'string') {
    file = resolve(input);
    source = `pipeline config ${input}`;
    ({ data, sha256 } = readJsonFile(input, 'pipeline config'));
    dir = dirname(file);
  }
  let config = resolveConfigPaths(checkConfig(data, source), dir);
  const preset = options.preset ?? config.preset ?? null;
  if (preset !== null) config = applyPreset(config, preset, source);
  return { config, source, path: file, sha256, preset };
}
