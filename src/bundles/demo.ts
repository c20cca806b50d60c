/**
 * Demo bundles: seeded, untrained sign / fingerspelling / lipreading / router / fusion bundles that exercise the
 * whole runtime (loading, ONNX Runtime, decoding, routing, fusion) without any trained weights. Their outputs are
 * meaningless. Each bundle is one entry of `DEMO_BUNDLES`; they fit together (the fusion bundles read the experts'
 * logits and emit the sign expert's gloss vocabulary), and there is one fusion bundle per fusion variant, so every
 * ablation can run on the demo.
 */
import { join } from 'node:path';
import { FINGERSPELL_VOCAB, buildFingerspellHead } from '../experts/fingerspell/index.js';
import { LIPREAD_VOCAB, LIPS_INPUT, buildLipreadModel, lipCropNormalisation } from '../experts/lipread/model.js';
import { FEATURES_INPUT } from '../experts/shared.js';
import { buildSignHead, signVocabulary } from '../experts/sign/index.js';
import type { FusionConfig } from '../fusion/config.js';
import { buildFusionModel } from '../fusion/graphs.js';
import { ROUTER_CLASSES } from '../router/router.js';
import { FUSION_VARIANT_NAMES, fusionStreams, fusionVariantConfig, type FusionVariant } from './fusion.js';
import { POOLED_INPUT, buildRouterModel } from './router.js';
import type { BundleManifest } from './schema.js';
import { writeBundle } from './writer.js';

export interface DemoBundleOptions {
  /** Base seed; each bundle's seed is this plus its position in the table (default 0). */
  seed?: number;
  /** Backbone feature dimension (default 384, DINOv2 ViT-S/14). */
  featureDim?: number;
  /** Glosses of the sign vocabulary (the blank is added first). */
  signVocab?: readonly string[];
  /** Longest sequence the sign and fingerspelling heads take (default 1024 frames). */
  maxFrames?: number;
  /** Lip crop side (default 96), ViT patch side (default 16; must divide lipSize) and temporal stride (default 2). */
  lipSize?: number;
  lipPatch?: number;
  lipStride?: number;
  /** Router pooling window and hop in frames (default 16 and 8). */
  routerWindow?: number;
  routerHop?: number;
}

type ResolvedDemoOptions = Required<DemoBundleOptions>;

/** A few everyday glosses, enough for demo output to look like gloss. */
const DEMO_GLOSSES = ['HELLO', 'YOU', 'ME', 'NAME', 'WHAT', 'WHERE', 'GOOD', 'THANK-YOU', 'YES', 'NO', 'WANT', 'GO', 'TOMORROW', 'NOT'];

const UNTRAINED = 'untrained: seeded random initialisation, so the outputs are meaningless; for wiring, tests and demos only';


interface DemoEntry {
  folder: string;
  write(dir: string, o: ResolvedDemoOptions, seed: number): BundleManifest;
}

function common(name: string, seed: number) {
  return { name, version: '0.0.0', weights: 'random' as const, provenance: { seed, notes: UNTRAINED } };
}

/** Folder of the demo fusion bundle of each variant: `fusion` for the full model's, `fusion-<variant>` for the others. */
export function demoFusionFolder(variant: FusionVariant): string {
  return variant === 'gated' ? 'fusion' : `fusion-${variant}`;
}

/**
 * The full model's fusion over the demo experts: their CTC logits as posteriors (so the streams' widths are the
 * experts' vocabulary sizes), the sign vocabulary as the pseudo-gloss vocabulary, the lip stream at the lipreading
 * expert's temporal stride.
 */
function demoFusionConfig(o: ResolvedDemoOptions): FusionConfig {
  const glosses = signVocabulary(o.signVocab).length;
  return {
    type: 'gated',
    inputs: { sign: glosses, fingerspell: FINGERSPELL_VOCAB.length, lips: LIPREAD_VOCAB.length },
    vocabSize: glosses,
    d: 64,
    softmaxInputs: true,
    lipStride: o.lipStride,
    heads: 4,
    layers: 2,
    maxLen: o.maxFrames,
  };
}

function fusionEntry(variant: FusionVariant): DemoEntry {
  return {
    folder: demoFusionFolder(variant),
    write: (dir, o, seed) => {
      const architecture = fusionVariantConfig(demoFusionConfig(o), variant);
      return writeBundle(dir, {
        kind: 'fusion',
        ...common(`demo-${demoFusionFolder(variant)}`, seed),
        model: buildFusionModel(architecture, { seed }),
        vocab: signVocabulary(o.signVocab),
        input: { type: 'streams', streams: fusionStreams(architecture) },
        architecture: { ...architecture },
      });
    },
  };
}

export const DEMO_BUNDLES: readonly DemoEntry[] = [
  {
    folder: 'sign',
    write: (dir, o, seed) => {
      const vocab = signVocabulary(o.signVocab);
      const architecture = { dim: o.featureDim, vocabSize: vocab.length, maxLen: o.maxFrames };
      return writeBundle(dir, {
        kind: 'sign',
        ...common('demo-sign', seed),
        model: buildSignHead({ ...architecture, seed }),
        vocab,
        input: { type: 'features', name: FEATURES_INPUT, dim: o.featureDim, maxFrames: o.maxFrames },
        architecture,
      });
    },
  },
  {
    folder: 'fingerspell',
    write: (dir, o, seed) => {
      const architecture = { dim: o.featureDim, vocabSize: FINGERSPELL_VOCAB.length, maxLen: o.maxFrames };
      return writeBundle(dir, {
        kind: 'fingerspell',
        ...common('demo-fingerspell', seed),
        model: buildFingerspellHead({ ...architecture, seed }),
        vocab: FINGERSPELL_VOCAB,
        input: { type: 'features', name: FEATURES_INPUT, dim: o.featureDim, maxFrames: o.maxFrames },
        architecture,
      });
    },
  },
  {
    folder: 'lipread',
    write: (dir, o, seed) => {
      const architecture = { size: o.lipSize, patch: o.lipPatch, channels: 3 as const, dim: 64, layers: 2, heads: 4, pooling: 'cls' as const, stride: o.lipStride, vocabSize: LIPREAD_VOCAB.length };
      return writeBundle(dir, {
        kind: 'lipread',
        ...common('demo-lipread', seed),
        model: buildLipreadModel({ ...architecture, seed }),
        vocab: LIPREAD_VOCAB,
        input: { type: 'lip-crops', name: LIPS_INPUT, size: o.lipSize, channels: 3, ...lipCropNormalisation(3) },
        temporalStride: o.lipStride,
        architecture,
      });
    },
  },
  {
    folder: 'router',
    write: (dir, o, seed) => {
      const architecture = { activation: 'gelu' as const, hidden: [128] };
      return writeBundle(dir, {
        kind: 'router',
        ...common('demo-router', seed),
        model: buildRouterModel({ dim: o.featureDim, ...architecture, classes: ROUTER_CLASSES.length, seed }),
        input: { type: 'features', name: POOLED_INPUT, dim: o.featureDim, window: o.routerWindow, hop: o.routerHop },
        output: { classes: [...ROUTER_CLASSES] },
        architecture,
      });
    },
  },
  ...FUSION_VARIANT_NAMES.map(fusionEntry),
];

/** Writes every demo bundle into `dir/<folder>`; returns each folder with its manifest. */
export function initDemoBundles(dir: string, options: DemoBundleOptions = {}): { dir: string; manifest: BundleManifest }[] {
  const o: ResolvedDemoOptions = {
    seed: options.seed ?? 0,
    featureDim: options.featureDim ?? 384,
    signVocab: options.signVocab ?? DEMO_GLOSSES,
    maxFrames: options.maxFrames ?? 1024,
    lipSize: options.lipSize ?? 96,
    lipPatch: options.lipPatch ?? 16,
    lipStride: options.lipStride ?? 2,
    routerWindow: options.routerWindow ?? 16,
    routerHop: options.routerHop ?? 8,
  };
  return DEMO_BUNDLES.map((entry, i) => {
    const folder = join(dir, entry.folder);
    return { dir: folder, manifest: entry.write(folder, o, o.seed + i) };
  });
}
