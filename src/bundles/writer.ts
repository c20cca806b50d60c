import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import type { OnnxModel } from '../graph/builder.js';
import { readOnnxInfo } from '../graph/proto.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { SIGNWEAVE_VERSION } from '../version.js';
import { formatVocabFile, parseVocabFile } from '../vocab.js';
import { MANIFEST_FILE } from './loader.js';
import { BUNDLE_FORMAT, BUNDLE_SCHEMA_ID, type BundleKind, type BundleManifest, type BundleProvenance, type RouterArchitecture, type WeightsKind } from './schema.js';
import { checkManifest, formatProblems, validateManifest } from './validate.js';

export const MODEL_FILE = 'model.onnx';
export const VOCAB_FILE = 'vocab.txt';

interface CommonWriteOptions<K extends BundleKind> {
  kind: K;
  name: string;
  /** Default 1.0.0. */
  version?: string;
  /** A model from the graph builder, or the bytes of any ONNX file. */
  model: OnnxModel | Uint8Array;
  input: BundleManifest<K>['input'];
  /** Default 1. */
  temporalStride?: number;
  weights: WeightsKind;
  /** `createdBy` defaults to this signweave, `createdAt` to now. */
  provenance?: Partial<BundleProvenance>;
  architecture?: Record<string, unknown>;
}

/** The router names its classes and its activation; every other kind has a CTC vocabulary (blank included). */
type KindWriteOptions<K extends BundleKind> = K extends 'router'
  ? { output: { name?: string; classes: string[] }; architecture: RouterArchitecture }
  : { output?: { name?: string; vocab?: string; blank?: number }; vocab: readonly string[] };

export type WriteBundleOptions<K extends BundleKind = BundleKind> = CommonWriteOptions<K> & KindWriteOptions<K>;

type LooseWriteOptions = CommonWriteOptions<BundleKind> & {
  output?: { name?: string; vocab?: string; blank?: number; classes?: string[] };
  vocab?: readonly string[];
};

/**
 * Writes a bundle folder (created if needed): the ONNX model, the vocabulary and bundle.json with the model's sha256.
 * The manifest is checked against the schema and the model's inputs and outputs before anything is written. Each
 * file is replaced atomically and bundle.json goes last, so a reader never finds a manifest whose model is half
 * written; a reader that catches a rewrite between files finds a sha256 mismatch, not a wrong model.
 */
export function writeBundle<K extends BundleKind>(dir: string, options: WriteBundleOptions<K>): BundleManifest<K> {
  const o = options as LooseWriteOptions;
  const bytes = o.model instanceof Uint8Array ? o.model : o.model.toBytes();
  const info = readOnnxInfo(bytes, `${join(dir, MODEL_FILE)} (being written)`);
  const outputName = o.output?.name ?? info.outputs[0]?.name ?? 'logits';
  const output = o.kind === 'router' ? { name: outputName, classes: o.output?.classes } : { name: outputName, vocab: o.output?.vocab ?? VOCAB_FILE, blank: o.output?.blank ?? 0 };
  // Through JSON, so what is checked is exactly what is written (undefined fields dropped).
  const manifest = JSON.parse(
    JSON.stringify({
      $schema: BUNDLE_SCHEMA_ID,
      format: BUNDLE_FORMAT,
      kind: o.kind,
      name: o.name,
      version: o.version ?? '1.0.0',
      input: o.input,
      output,
      temporalStride: o.temporalStride ?? 1,
      onnx: { file: MODEL_FILE, sha256: createHash('sha256').update(bytes).digest('hex') },
      weights: o.weights,
      provenance: { createdBy: `signweave ${SIGNWEAVE_VERSION}`, createdAt: new Date().toISOString(), ...o.provenance },
      architecture: o.architecture,
    }),
  ) as BundleManifest;

  const schemaProblems = validateManifest(manifest);
  if (schemaProblems.length > 0) throw new SignweaveInputError(formatProblems(dir, schemaProblems));
  let vocabText: string | undefined;
  if (manifest.kind !== 'router') {
    if (!o.vocab) throw new SignweaveInputError(`bundle ${dir}: vocab: a ${manifest.kind} bundle needs its CTC vocabulary`);
    vocabText = formatVocabFile(o.vocab);
    const back = parseVocabFile(vocabText, join(dir, manifest.output.vocab));
    const lost = o.vocab.findIndex((label, i) => back[i] !== label);
    if (lost !== -1) {
      throw new SignweaveInputError(`bundle ${dir}: vocab: label ${JSON.stringify(o.vocab[lost])} (index ${lost}) cannot be written to a vocab file and read back unchanged`);
    }
  }
  const problems = checkManifest(manifest, o.vocab, info, MODEL_FILE);
  if (problems.length > 0) throw new SignweaveInputError(formatProblems(dir, problems));

  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, MODEL_FILE), bytes);
  if (vocabText !== undefined && manifest.kind !== 'router') writeFileAtomic(join(dir, manifest.output.vocab), vocabText);
  writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest as BundleManifest<K>;
}
